//! The governance methods' types: `wijk_proposals`, `wijk_proposal`, `wijk_delegations`,
//! `wijk_board`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use wijk_governance::{Choice, Status, Tally, Track};
use wijk_primitives::{AccountId, Hash, Height};

/// A proposal as `wijk_proposals` lists it and `wijk_proposal` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// Its number.
    pub id: u64,
    /// Who proposed it.
    pub proposer: AccountId,
    /// Its kind (`activityValue`, `parameter`, `board`, `validatorSet`, ...), which picked
    /// its track.
    pub kind: String,
    /// Its title.
    pub title: String,
    /// The hash of its full text, kept off chain.
    pub text_hash: Hash,
    /// What it would do: `{"call": call}` (the runtime call, as transactions show calls) or
    /// `{"election": {"seats": n, "candidates": [address, ..]}}`.
    pub action: serde_json::Value,
    /// The track it is decided by, frozen when it opened.
    pub track: Track,
    /// The roles whose holders vote on it, frozen when it opened.
    pub voter_roles: Vec<String>,
    /// How many members could vote when it opened.
    pub electorate: u32,
    /// Votes the quorum needs.
    pub quorum_votes: u64,
    /// When voting opened.
    pub opened_at: Height,
    /// The last height voting is open.
    pub closes_at: Height,
    /// The running tally (each member counted once: their own vote or their delegate's).
    pub tally: Tally,
    /// Where it stands.
    pub status: Status,
}

/// `wijk_proposal`: a proposal with its votes, a recount, and how one member's vote counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProposalDetail {
    /// The proposal.
    pub proposal: Proposal,
    /// The tally counted from scratch from the votes and delegations in state now, as an
    /// auditor counts it (equal to the running tally while voting is open; after the close,
    /// delegations may have moved on: the `Closed` event keeps the final tally).
    pub recount: Tally,
    /// Direct votes, a page of them, in the order of the voters' registration tags.
    pub votes: Vec<CastVote>,
    /// Whether more votes follow (ask again with `votesFrom` = the number shown so far).
    pub more_votes: bool,
    /// How `member`'s vote counts, if a member was asked about.
    pub member: Option<MemberVote>,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}

/// A direct vote.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CastVote {
    /// The member whose vote it is (their key when they voted).
    pub member: AccountId,
    /// The guardian who cast it for them, if not they.
    pub guardian: Option<AccountId>,
    /// The vote.
    pub choice: Choice,
    /// When it was cast (or last changed).
    pub at: Height,
    /// How many members it counts for now: the voter and those whose delegations reach them
    /// (while voting is open).
    pub counts_for: u32,
}

/// How one member's vote counts on a proposal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberVote {
    /// The member.
    pub member: AccountId,
    /// Whether they are in the proposal's electorate (registered when it opened).
    pub in_electorate: bool,
    /// The vote counted for them, if any.
    pub counted: Option<Choice>,
    /// Whether they voted themselves.
    pub direct: bool,
    /// The delegates their vote passed through, ending with the one who voted.
    pub through: Vec<AccountId>,
}

/// `wijk_delegations`: whom a member delegates to, and who delegates to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delegations {
    /// The member.
    pub member: AccountId,
    /// Their delegations as they made them.
    pub delegations: Vec<Delegation>,
    /// Per kind of proposal: the delegate in force (the one for that kind, else the general
    /// one) and how many members' votes reach this member.
    pub by_kind: Vec<KindDelegation>,
    /// Who delegates to them (a page).
    pub delegators: Vec<Delegator>,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}

/// A delegation as made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delegation {
    /// For which proposals: `all`, or a kind.
    pub scope: String,
    /// The delegate (their key when the delegation was made).
    pub to: AccountId,
    /// The delegate's key now, if they moved keys since.
    pub to_now: Option<AccountId>,
    /// When.
    pub at: Height,
}

/// The delegation in force for one kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct KindDelegation {
    /// The kind.
    pub kind: String,
    /// The delegate in force (their key now), if any.
    pub delegate: Option<AccountId>,
    /// The member and everyone whose delegations reach them for this kind.
    pub weight: u32,
}

/// A member delegating to the one asked about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delegator {
    /// Who (their key now).
    pub member: Option<AccountId>,
    /// For which proposals.
    pub scope: String,
}

/// `wijk_board`: who sits on the board and what the board may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Board {
    /// The board members (each decides for the board alone; every act is signed and
    /// public).
    pub board: Vec<AccountId>,
    /// The board's powers, in words; everything else it does only as the members decide.
    pub powers: Vec<String>,
    /// The most validators one board change may add and remove together.
    pub validator_change_limit: u32,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}
