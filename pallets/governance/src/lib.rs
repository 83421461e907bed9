//! The governance pallet: the wijk's democracy. One member, one vote, never weighted by
//! coins; proposals on tracks frozen when voting opens; liquid delegation; enactment by the
//! runtime itself; board elections.
//!
//! Rules:
//! - **Who votes**: active members holding one of the chain spec's voter roles (default:
//!   residents). Any active member may propose (organisations and merchants too), within a
//!   budget of proposals per person per window of blocks: members pay no deposits, so the
//!   budget is what bounds spam. A person is their registration tag, which a rekey keeps: a
//!   new key carries the same one vote, never a second.
//! - **Proposals** carry a title, the hash of an off-chain text, and what they would do:
//!   a runtime call (its kind, and so its track, follows from the call itself, as the
//!   runtime classifies it: [`wijk_support::Enactment`]) or a board election with seats and
//!   candidates. The track (quorum, threshold, period, enactment delay), the voter roles and
//!   the electorate (how many members may vote, counted then) are copied into the proposal
//!   when it opens: a rule change enacted meanwhile applies to later proposals only.
//! - **Counting** is [`tally`]'s rule; **delegation** is [`graph`]'s. Votes (yes, no,
//!   abstain, or an election ballot) change until the period ends; the proposal is decided
//!   at the end of its period ([`tally`] says why never earlier).
//! - **Enactment** runs in the end-block hook: at most [`MAX_CLOSES_PER_BLOCK`] proposals
//!   close and [`MAX_ENACTMENTS_PER_BLOCK`] are carried out per block (the rest wait a
//!   block), each close reading only its running tally. An approved call runs with the
//!   origin of the members' decision through the same origin checks as every call; if it
//!   fails, its changes are undone and the failure is recorded. An election seats its
//!   winners as the board.
//! - **Auditability over secrecy**: every vote is public (an event and a record name who
//!   voted what, and whether a guardian cast it), every delegation too, so anyone can
//!   recount a proposal from the chain ([`recount`]). Ballots are therefore not secret: in a
//!   cooperative where a handful of validators are neighbours, a tally no member can check
//!   is worth less than a secret one. Secret ballots (commit-reveal, or blind signatures
//!   over the electorate) are a possible extension.
//! - **The board's powers**, in one place: suspend, reinstate and remove members and grant
//!   the roles that carry power (membership); stop a proposal in an emergency, before it
//!   is enacted, with a reason ([`Call::Cancel`]); change the validator set within the
//!   limit the chain spec sets (validators); set the region (geo) and act on redemptions
//!   (coin); register the verifiers of activities (activities). Everything else the board
//!   does only as the members decide: an activity's value, the catalogue, the fund.
//!
//! Owns: `governance/config`, `governance/next_id`, `governance/proposal/<id>`,
//! `governance/open/<kind, id>`, `governance/closing/<height, id>`,
//! `governance/enacting/<height, id>`, `governance/standing/<id, person>`,
//! `governance/node/<person>`, `governance/delegation/<person, scope>`,
//! `governance/delegators/<delegate, scope, delegator>`, `governance/proposed/<person>`.
//! Must never: read balances (a vote weighs the same whatever the voter holds), walk all
//! members inside a block, or carry out a call except through the runtime's enactment.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![allow(clippy::result_large_err)]

pub mod graph;
pub mod recount;
pub mod tally;

pub use recount::recount;
pub use tally::{Choice, Outcome, Tally, Track, TrackError};

pub use graph::CastVote;
use graph::Refusal;
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::{AccountId, Hash, Height};
use wijk_support::{
    check, tri, BadOrigin, CallContext, Collective, Cost, DispatchResult, Involves,
    MembershipError, NotProposable, Origin, ProposalKind, Role, RoleSet, StateError, StateOverlay,
    StateRead, StorageMap, StorageValue, Voter,
};

/// Longest chain of delegations any chain spec may allow (the node keeps per-distance
/// counts up to this).
pub const MAX_DELEGATION_DEPTH: usize = 8;
/// Most proposals open for voting at once (a delegation updates each open proposal of its
/// kinds, so this bounds its work).
pub const MAX_OPEN_PROPOSALS: usize = 32;
/// Most candidates in an election.
pub const MAX_CANDIDATES: usize = 32;
/// Longest title, in bytes.
pub const MAX_TITLE_BYTES: usize = 160;
/// Longest reason for a cancellation, in bytes.
pub const MAX_REASON_BYTES: usize = 256;
/// Largest proposed call, encoded.
pub const MAX_PROPOSED_CALL_BYTES: usize = 4096;
/// Most proposals closed in one block.
pub const MAX_CLOSES_PER_BLOCK: usize = 4;
/// Most approved proposals carried out in one block.
pub const MAX_ENACTMENTS_PER_BLOCK: usize = 2;
/// The most an enacted call may cost (enactment runs in the block hook, whose work is
/// reserved from every block).
pub const MAX_ENACTED_COST: Cost = Cost::micros(500);
/// A week of one-second blocks.
pub const WEEK_OF_BLOCKS: Height = 7 * 86_400;

/// What calls cost, measured by `scripts/bench-import --calibrate`.
pub mod costs {
    use super::*;
    /// A proposal: the call decoded and classified, the electorate counted.
    pub const PROPOSE: Cost = Cost::micros(30);
    /// A vote: up one chain of at most the depth.
    pub const VOTE: Cost =
        Cost::micros(12).plus(Cost::micros(2).times(MAX_DELEGATION_DEPTH as u64));
    /// A delegation or its end: up one chain per kind, in each open proposal.
    pub const DELEGATE: Cost = Cost::micros(40)
        .plus(Cost::micros(2).times((graph::KINDS * MAX_DELEGATION_DEPTH) as u64))
        .plus(Cost::micros(2).times((MAX_OPEN_PROPOSALS * MAX_DELEGATION_DEPTH) as u64));
    /// A cancellation or a rule change.
    pub const MANAGE: Cost = Cost::micros(20);
    /// Closing one proposal.
    pub const CLOSE: Cost = Cost::micros(30);
}

/// The rules in force.
pub const CONFIG: StorageValue<Config> = StorageValue::new(b"governance/config");
/// The id the next proposal gets.
pub const NEXT_ID: StorageValue<u64> = StorageValue::new(b"governance/next_id");
/// Every proposal, open or decided.
pub const PROPOSALS: StorageMap<u64, Proposal> = StorageMap::new(b"governance/proposal/");
/// The proposals open for voting, by kind.
pub const OPEN: StorageMap<(u8, u64), ()> = StorageMap::new(b"governance/open/");
/// Open proposals by the height their voting closes.
pub const CLOSING: StorageMap<(Height, u64), ()> = StorageMap::new(b"governance/closing/");
/// Approved proposals by the height they take effect.
pub const ENACTING: StorageMap<(Height, u64), ()> = StorageMap::new(b"governance/enacting/");
/// Each member on each proposal they (or someone below them) touched ([`graph::Standing`]).
pub const STANDINGS: StorageMap<(u64, Hash), graph::Standing> =
    StorageMap::new(b"governance/standing/");
/// Each member's delegations as they made them, by scope (0: every kind; `1 + kind`).
pub const DELEGATIONS: StorageMap<(Hash, u8), Delegation> =
    StorageMap::new(b"governance/delegation/");
/// Who delegates to whom, for listing a delegate's delegators.
pub const DELEGATORS: StorageMap<(Hash, u8, Hash), ()> = StorageMap::new(b"governance/delegators/");
/// Each person's proposals in the current window.
pub const PROPOSED: StorageMap<Hash, ProposalBudget> = StorageMap::new(b"governance/proposed/");

/// The rules of the wijk's democracy, from the chain spec (changed by vote).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    /// The roles whose holders vote.
    pub voter_roles: RoleSet,
    /// Each kind's track, in [`ProposalKind::ALL`] order.
    pub tracks: Vec<Track>,
    /// Proposals one person may make per window.
    pub proposals_per_window: u32,
    /// Blocks per window.
    pub proposal_window_blocks: Height,
    /// Longest chain of delegations (at most [`MAX_DELEGATION_DEPTH`]).
    pub delegation_depth: u8,
}

impl Config {
    /// The track of `kind`.
    pub fn track(&self, kind: ProposalKind) -> Track {
        self.tracks
            .get(kind.index())
            .copied()
            .unwrap_or_else(|| default_track(kind))
    }
}

/// The default track of each kind: a week of voting; a tenth of the members to decide the
/// everyday kinds by simple majority, more for the rules, the board and the validators.
pub fn default_track(kind: ProposalKind) -> Track {
    let (quorum_per_mille, approval_per_mille) = match kind {
        ProposalKind::ActivityValue | ProposalKind::ActivityCatalogue | ProposalKind::Goal => {
            (100, 500)
        }
        ProposalKind::Spend => (150, 500),
        ProposalKind::Parameter => (150, 600),
        ProposalKind::Board => (150, 500),
        ProposalKind::ValidatorSet => (200, 667),
    };
    Track {
        quorum_per_mille,
        approval_per_mille,
        voting_blocks: WEEK_OF_BLOCKS,
        enactment_blocks: 86_400,
    }
}

/// Each kind's track, as a chain spec writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Tracks {
    /// Setting or changing an activity's value.
    pub activity_value: Track,
    /// Adding or retiring an activity.
    pub activity_catalogue: Track,
    /// Changing a rule of the runtime.
    pub parameter: Track,
    /// Electing the board or removing a board member.
    pub board: Track,
    /// Changing the validator set.
    pub validator_set: Track,
    /// Spending from the cooperative's fund.
    pub spend: Track,
    /// Setting a goal.
    pub goal: Track,
}

impl Default for Tracks {
    fn default() -> Self {
        Tracks {
            activity_value: default_track(ProposalKind::ActivityValue),
            activity_catalogue: default_track(ProposalKind::ActivityCatalogue),
            parameter: default_track(ProposalKind::Parameter),
            board: default_track(ProposalKind::Board),
            validator_set: default_track(ProposalKind::ValidatorSet),
            spend: default_track(ProposalKind::Spend),
            goal: default_track(ProposalKind::Goal),
        }
    }
}

impl Tracks {
    /// In [`ProposalKind::ALL`] order.
    pub fn in_order(&self) -> Vec<Track> {
        vec![
            self.activity_value,
            self.activity_catalogue,
            self.parameter,
            self.board,
            self.validator_set,
            self.spend,
            self.goal,
        ]
    }
}

/// The governance pallet's section of a chain spec's genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Genesis {
    /// The roles whose holders vote (default: residents).
    pub voter_roles: RoleSet,
    /// Each kind's track (default: [`default_track`]).
    pub tracks: Tracks,
    /// Proposals one person may make per window (default 3).
    pub proposals_per_window: u32,
    /// Blocks per window (default a week).
    pub proposal_window_blocks: Height,
    /// Longest chain of delegations (default 3, at most [`MAX_DELEGATION_DEPTH`]).
    pub delegation_depth: u8,
}

impl Default for Genesis {
    fn default() -> Self {
        Genesis {
            voter_roles: RoleSet::of(&[Role::Resident]),
            tracks: Tracks::default(),
            proposals_per_window: 3,
            proposal_window_blocks: WEEK_OF_BLOCKS,
            delegation_depth: 3,
        }
    }
}

/// What a proposal would do.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Action {
    /// Carry out this runtime call (SCALE-encoded) as the members' decision.
    #[codec(index = 0)]
    Call(Vec<u8>),
    /// Elect the board: `seats` of `candidates`.
    #[codec(index = 1)]
    Election {
        /// Seats on the board.
        seats: u8,
        /// The candidates, in nomination order.
        candidates: Vec<AccountId>,
    },
}

/// Where a proposal stands.
#[derive(
    Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(
    tag = "status",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Status {
    /// Open for voting until `closes_at`.
    #[codec(index = 0)]
    Voting,
    /// Approved; takes effect at `enacts_at`.
    #[codec(index = 1)]
    Approved {
        /// When it is carried out.
        enacts_at: Height,
        /// An election's winners, most approved first.
        elected: Vec<AccountId>,
    },
    /// Not approved.
    #[codec(index = 2)]
    Rejected {
        /// Why.
        outcome: Outcome,
    },
    /// Carried out (or tried: `failed` says why the call failed).
    #[codec(index = 3)]
    Enacted {
        /// When.
        at: Height,
        /// Why the call failed, if it did.
        failed: Option<String>,
    },
    /// Stopped by the board before enactment.
    #[codec(index = 4)]
    Cancelled {
        /// Why, as the board recorded it.
        reason: String,
        /// When.
        at: Height,
    },
}

/// A proposal, with the rules it is decided by frozen in it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Proposal {
    /// Its number.
    pub id: u64,
    /// Who proposed it.
    pub proposer: AccountId,
    /// Its kind (which picked the track).
    pub kind: ProposalKind,
    /// Its title.
    pub title: String,
    /// The hash of its full text, kept off chain.
    pub text_hash: Hash,
    /// What it would do.
    pub action: Action,
    /// The track in force when it opened.
    pub track: Track,
    /// The voter roles in force when it opened.
    pub voter_roles: RoleSet,
    /// How many members could vote when it opened.
    pub electorate: u32,
    /// When voting opened.
    pub opened_at: Height,
    /// The last height voting is open (it closes in this block's end hook).
    pub closes_at: Height,
    /// The running tally.
    pub tally: Tally,
    /// Where it stands.
    pub status: Status,
}

/// A member's delegation, as they made it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Delegation {
    /// The delegate (their registration tag).
    pub to: Hash,
    /// The delegate's key when the delegation was made.
    pub to_account: AccountId,
    /// The delegator's key when they made it.
    pub by: AccountId,
    /// When.
    pub at: Height,
}

/// A person's proposals in one window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode)]
pub struct ProposalBudget {
    /// The window (`height / window_blocks`).
    pub window: u64,
    /// Proposals made in it.
    pub count: u32,
}

/// For which proposals a delegation holds.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Scope {
    /// Every kind (a delegation for one kind overrides it for that kind).
    #[codec(index = 0)]
    All,
    /// One kind.
    #[codec(index = 1)]
    Kind(ProposalKind),
}

impl Scope {
    /// Its byte in storage keys: 0 for all, `1 + kind` for one.
    pub fn code(self) -> u8 {
        match self {
            Scope::All => 0,
            Scope::Kind(kind) => 1 + kind as u8,
        }
    }

    /// The scope of a storage code.
    pub fn from_code(code: u8) -> Option<Scope> {
        match code {
            0 => Some(Scope::All),
            n => ProposalKind::ALL
                .get(usize::from(n) - 1)
                .map(|kind| Scope::Kind(*kind)),
        }
    }
}

impl core::fmt::Display for Scope {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Scope::All => f.write_str("every kind of proposal"),
            Scope::Kind(kind) => write!(f, "{kind} proposals"),
        }
    }
}

/// The calls of this pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// Any member proposes that the members decide `call` (a SCALE-encoded runtime call).
    #[codec(index = 0)]
    Propose {
        /// A short title.
        title: String,
        /// The hash of the full text (kept off chain).
        text_hash: Hash,
        /// The runtime call to carry out if approved, SCALE-encoded.
        #[serde(with = "wijk_primitives::json::hex_bytes")]
        #[schemars(with = "wijk_primitives::json::HexBytes")]
        encoded_call: Vec<u8>,
    },
    /// Any member proposes a board election.
    #[codec(index = 1)]
    ProposeElection {
        /// A short title.
        title: String,
        /// The hash of the full text (kept off chain).
        text_hash: Hash,
        /// Seats on the board.
        seats: u8,
        /// The candidates, in nomination order (members, each once).
        candidates: Vec<AccountId>,
    },
    /// A voter (or their guardian) votes on an open proposal; a later vote replaces theirs.
    #[codec(index = 2)]
    Vote {
        /// The proposal.
        id: u64,
        /// The vote.
        choice: Choice,
    },
    /// A voter delegates their vote to another voter, for every kind or one.
    #[codec(index = 3)]
    Delegate {
        /// The delegate.
        to: AccountId,
        /// For which proposals.
        scope: Scope,
    },
    /// A voter takes a delegation back.
    #[codec(index = 4)]
    Undelegate {
        /// Which delegation.
        scope: Scope,
    },
    /// The board stops a proposal before it is carried out, with a reason.
    #[codec(index = 5)]
    Cancel {
        /// The proposal.
        id: u64,
        /// Why (recorded for the members and the auditors).
        reason: String,
    },
    /// By vote only: sets the track of `kind` for proposals made from now on.
    #[codec(index = 6)]
    SetTrack {
        /// The kind.
        kind: ProposalKind,
        /// Its track.
        track: Track,
    },
    /// By vote only: sets who votes, the proposal budget and the delegation depth, for
    /// proposals (and delegations) made from now on.
    #[codec(index = 7)]
    SetRules {
        /// The roles whose holders vote.
        voter_roles: RoleSet,
        /// Proposals per person per window.
        proposals_per_window: u32,
        /// Blocks per window.
        proposal_window_blocks: Height,
        /// Longest chain of delegations.
        delegation_depth: u8,
    },
    /// By vote only: takes `member` off the board.
    #[codec(index = 8)]
    RemoveBoardMember {
        /// The board member.
        member: AccountId,
    },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum Event {
    /// A proposal opened for voting.
    #[codec(index = 0)]
    Proposed {
        /// Its number.
        id: u64,
        /// Who proposed it.
        proposer: AccountId,
        /// Its kind.
        kind: ProposalKind,
        /// Its title.
        title: String,
        /// How many members may vote.
        electorate: u32,
        /// The last height voting is open.
        closes_at: Height,
    },
    /// A member voted (or changed their vote).
    #[codec(index = 1)]
    Voted {
        /// The proposal.
        id: u64,
        /// The member.
        voter: AccountId,
        /// The guardian who cast it for them, if not they.
        guardian: Option<AccountId>,
        /// The vote.
        choice: Choice,
        /// The vote it replaced.
        replaced: Option<Choice>,
    },
    /// A member delegated their vote.
    #[codec(index = 2)]
    Delegated {
        /// The member.
        from: AccountId,
        /// The delegate.
        to: AccountId,
        /// For which proposals.
        scope: Scope,
        /// Kinds where the member's general delegation does not apply, because it would
        /// make a loop or a chain too long there (they vote themselves on those).
        not_applied: Vec<ProposalKind>,
    },
    /// A member took a delegation back.
    #[codec(index = 3)]
    Undelegated {
        /// The member.
        from: AccountId,
        /// Which delegation.
        scope: Scope,
    },
    /// Voting on a proposal closed.
    #[codec(index = 4)]
    Closed {
        /// The proposal.
        id: u64,
        /// How it was decided.
        outcome: Outcome,
        /// The final tally.
        tally: Tally,
    },
    /// An approved proposal was carried out (or its call failed: `failed` says why).
    #[codec(index = 5)]
    Enacted {
        /// The proposal.
        id: u64,
        /// Why the call failed, if it did.
        failed: Option<String>,
    },
    /// An election seated a new board.
    #[codec(index = 6)]
    BoardElected {
        /// The proposal.
        id: u64,
        /// The board.
        board: Vec<AccountId>,
    },
    /// The board stopped a proposal.
    #[codec(index = 7)]
    Cancelled {
        /// The proposal.
        id: u64,
        /// Why.
        reason: String,
        /// The board member who did.
        by: Option<AccountId>,
    },
    /// A track changed (for later proposals).
    #[codec(index = 8)]
    TrackSet {
        /// The kind.
        kind: ProposalKind,
        /// Its track.
        track: Track,
    },
    /// The rules changed (for later proposals).
    #[codec(index = 9)]
    RulesSet {
        /// The roles whose holders vote.
        voter_roles: RoleSet,
        /// Proposals per person per window.
        proposals_per_window: u32,
        /// Blocks per window.
        proposal_window_blocks: Height,
        /// Longest chain of delegations.
        delegation_depth: u8,
    },
    /// A board member was removed by vote.
    #[codec(index = 10)]
    BoardMemberRemoved {
        /// Who.
        member: AccountId,
    },
}

impl Involves for Event {
    fn involved_accounts(&self, accounts: &mut Vec<AccountId>) {
        match self {
            Event::Proposed { proposer, .. } => accounts.push(*proposer),
            Event::Voted {
                voter, guardian, ..
            } => {
                accounts.push(*voter);
                accounts.extend(guardian);
            }
            Event::Delegated { from, to, .. } => accounts.extend([*from, *to]),
            Event::Undelegated { from, .. } => accounts.push(*from),
            Event::BoardElected { board, .. } => accounts.extend(board),
            Event::Cancelled { by, .. } => accounts.extend(by),
            Event::BoardMemberRemoved { member } => accounts.push(*member),
            Event::Closed { .. }
            | Event::Enacted { .. }
            | Event::TrackSet { .. }
            | Event::RulesSet { .. } => {}
        }
    }
}

/// Why a call of this pallet failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// The call came from an origin that may not make it.
    #[error(transparent)]
    #[codec(index = 0)]
    BadOrigin(#[from] BadOrigin),
    /// The caller is not an active member, or lacks a role.
    #[error(transparent)]
    #[codec(index = 1)]
    Membership(#[from] MembershipError),
    /// Only holders of the voter roles vote and delegate.
    #[error("{account:?} may not vote: votes belong to members holding {voter_roles}")]
    #[codec(index = 2)]
    NotAVoter {
        /// The account.
        account: AccountId,
        /// The voter roles.
        voter_roles: RoleSet,
    },
    /// No proposal has this number.
    #[error("there is no proposal {id}")]
    #[codec(index = 3)]
    NoSuchProposal {
        /// The number asked for.
        id: u64,
    },
    /// Voting on it is over (or it was stopped).
    #[error("proposal {id} is no longer open for voting")]
    #[codec(index = 4)]
    VotingClosed {
        /// The proposal.
        id: u64,
    },
    /// The member joined after the proposal opened: the electorate was fixed then.
    #[error("{account:?} registered at height {since}, after proposal {id} opened at {opened_at}; its electorate was fixed when voting opened")]
    #[codec(index = 5)]
    NotInElectorate {
        /// The account.
        account: AccountId,
        /// The proposal.
        id: u64,
        /// When they registered.
        since: Height,
        /// When it opened.
        opened_at: Height,
    },
    /// A yes/no vote on an election, or a ballot on a yes/no proposal, or a ballot naming
    /// candidates out of order or not on the list.
    #[error("proposal {id} takes {expected}")]
    #[codec(index = 6)]
    WrongChoice {
        /// The proposal.
        id: u64,
        /// What it takes, in words.
        expected: String,
    },
    /// The title is empty or too long.
    #[error("a title must be 1 to {max} bytes, got {len}")]
    #[codec(index = 7)]
    BadTitle {
        /// Its length.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// The call is not something the members decide.
    #[error(transparent)]
    #[codec(index = 8)]
    NotProposable(#[from] NotProposable),
    /// The call would cost more to carry out than a block hook may spend.
    #[error("carrying out this call costs {cost:?}; an enacted call may cost at most {limit:?}")]
    #[codec(index = 9)]
    TooCostly {
        /// Its cost.
        cost: Cost,
        /// The limit.
        limit: Cost,
    },
    /// The proposed call is too large.
    #[error("the proposed call is {len} bytes; at most {max}")]
    #[codec(index = 10)]
    CallTooLarge {
        /// Its size.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// The person has used their proposals for this window.
    #[error("each member may make {per_window} proposals per window; the next window starts at height {renews_at}")]
    #[codec(index = 11)]
    ProposalBudgetSpent {
        /// Proposals per window.
        per_window: u32,
        /// The first height of the next window.
        renews_at: Height,
    },
    /// Too many proposals are open.
    #[error("{max} proposals are open for voting, the most at once; wait for one to close")]
    #[codec(index = 12)]
    TooManyOpen {
        /// The limit.
        max: u32,
    },
    /// An election needs 1 to [`MAX_CANDIDATES`] distinct member candidates and seats
    /// for at most as many.
    #[error("bad election: {reason}")]
    #[codec(index = 13)]
    BadElection {
        /// What is wrong.
        reason: String,
    },
    /// Delegating to oneself.
    #[error("a member cannot delegate to themselves")]
    #[codec(index = 14)]
    SelfDelegation,
    /// The delegation would close a loop.
    #[error("delegating to {to:?} would close a loop for {kind} proposals: their votes already reach you")]
    #[codec(index = 15)]
    DelegationLoop {
        /// The delegate.
        to: AccountId,
        /// Where.
        kind: ProposalKind,
    },
    /// The delegation would make a chain longer than the chain spec allows.
    #[error("delegating to {to:?} would make a chain of {length} delegations for {kind} proposals; at most {max}")]
    #[codec(index = 16)]
    DelegationTooDeep {
        /// The delegate.
        to: AccountId,
        /// Where.
        kind: ProposalKind,
        /// The chain's length.
        length: u32,
        /// The limit.
        max: u32,
    },
    /// There is no delegation to take back.
    #[error("there is no delegation for {scope} to take back")]
    #[codec(index = 17)]
    NotDelegating {
        /// Which.
        scope: Scope,
    },
    /// The proposal is decided or enacted already.
    #[error("proposal {id} can no longer be stopped")]
    #[codec(index = 18)]
    NotCancellable {
        /// The proposal.
        id: u64,
    },
    /// The reason is empty or too long.
    #[error("a reason must be 1 to {max} bytes, got {len}")]
    #[codec(index = 19)]
    BadReason {
        /// Its length.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// A track's figures are meaningless.
    #[error(transparent)]
    #[codec(index = 20)]
    BadTrack(#[from] TrackError),
    /// A rule's figure is out of range.
    #[error("{what}")]
    #[codec(index = 21)]
    BadRule {
        /// What is wrong.
        what: String,
    },
    /// The account is not on the board.
    #[error("{member:?} is not on the board")]
    #[codec(index = 22)]
    NotOnBoard {
        /// The account.
        member: AccountId,
    },
}

/// The board's powers, in one place (what `wijk_board` and `wijk board` show): everything
/// else the board does only as the members decide.
pub const BOARD_POWERS: &[&str] = &[
    "register members with any role, and grant or take back the roles that carry power (exchange office, intermediary, verifier, auditor, board)",
    "suspend, reinstate and remove members, with a reason recorded for them and the auditors",
    "move a member to a new key (a lost phone), cancel a rekey, appoint or revoke a guardian",
    "stop a proposal in an emergency, before it is carried out, with a reason (governance.cancel)",
    "change the validator set within the chain spec's limit of validators added and removed per change (more is the members' decision)",
    "set the wijk's region and open gift pools (the members may decide these by vote too)",
    "register and remove the verifiers who attest activities (activities.addVerifier / removeVerifier)",
];

/// A direct vote on a proposal, with how many members it counts for now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteRecord {
    /// The voter (their registration tag).
    pub person: Hash,
    /// The vote as cast.
    pub vote: CastVote,
    /// The voter and the members whose vote reaches them through delegations and is not
    /// decided below them (while voting is open).
    pub counts_for: u32,
}

/// Direct votes on proposal `id`, in tag order, from the `from`-th; and whether more follow.
/// Reads the proposal's member records (one per member touched), so it is for RPC, never a
/// block.
pub fn votes(
    state: &dyn StateRead,
    id: u64,
    from: usize,
    limit: usize,
) -> Result<(Vec<VoteRecord>, bool), StateError> {
    let Some(proposal) = PROPOSALS.get(state, &id)? else {
        return Ok((Vec::new(), false));
    };
    let mut found = Vec::new();
    let mut more = false;
    let mut index = 0usize;
    for ((_, person), standing) in STANDINGS.page_under(state, &id, usize::MAX)? {
        let Some(vote) = standing.vote else { continue };
        if index >= from {
            if found.len() == limit {
                more = true;
                break;
            }
            let weight = graph::node(state, &person)?.map_or(1, |node| node.weight(proposal.kind));
            found.push(VoteRecord {
                person,
                vote,
                counts_for: weight.saturating_sub(standing.below),
            });
        }
        index += 1;
    }
    Ok((found, more))
}

/// How a member's vote counts on a proposal now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveVote {
    /// Whether they are in the proposal's electorate (registered when it opened).
    pub in_electorate: bool,
    /// The vote counted for them, if any.
    pub counted: Option<Choice>,
    /// Whether they voted themselves.
    pub direct: bool,
    /// The delegates their vote passed through (tags), ending with the one who voted.
    pub through: Vec<Hash>,
}

/// How `person`'s vote counts on proposal `id` (`None` without such a proposal): the rule of
/// [`graph`], for one member.
pub fn effective_vote(
    state: &dyn StateRead,
    id: u64,
    person: &Hash,
    since: Height,
) -> Result<Option<EffectiveVote>, StateError> {
    let Some(proposal) = PROPOSALS.get(state, &id)? else {
        return Ok(None);
    };
    let since = graph::node(state, person)?.map_or(since, |node| node.since);
    let mut effective = EffectiveVote {
        in_electorate: since <= proposal.opened_at,
        counted: None,
        direct: false,
        through: Vec::new(),
    };
    if !effective.in_electorate {
        return Ok(Some(effective));
    }
    let mut cursor = *person;
    for _ in 0..=MAX_DELEGATION_DEPTH {
        if let Some(vote) = STANDINGS.get(state, &(id, cursor))?.and_then(|s| s.vote) {
            effective.direct = cursor == *person;
            effective.counted = Some(vote.choice);
            return Ok(Some(effective));
        }
        match graph::node(state, &cursor)?.and_then(|node| node.parent[proposal.kind.index()]) {
            Some(next) => {
                effective.through.push(next);
                cursor = next;
            }
            None => break,
        }
    }
    effective.through.clear();
    Ok(Some(effective))
}

/// Who delegates to `person`: (delegator, scope), up to `limit`.
pub fn delegators(
    state: &dyn StateRead,
    person: &Hash,
    limit: usize,
) -> Result<Vec<(Hash, Scope)>, StateError> {
    Ok(DELEGATORS
        .page_under(state, person, limit)?
        .into_iter()
        .filter_map(|((_, code, from), ())| Some((from, Scope::from_code(code)?)))
        .collect())
}

/// The rules in force (the defaults on a chain without a governance section).
pub fn config(state: &dyn StateRead) -> Result<Config, StateError> {
    Ok(CONFIG
        .get(state)?
        .unwrap_or_else(|| config_of(&Genesis::default())))
}

fn config_of(genesis: &Genesis) -> Config {
    Config {
        voter_roles: genesis.voter_roles,
        tracks: genesis.tracks.in_order(),
        proposals_per_window: genesis.proposals_per_window,
        proposal_window_blocks: genesis.proposal_window_blocks.max(1),
        delegation_depth: genesis.delegation_depth,
    }
}

/// Proposal `id`.
pub fn proposal(state: &dyn StateRead, id: u64) -> Result<Option<Proposal>, StateError> {
    PROPOSALS.get(state, &id)
}

/// The open proposals of `kind`, by number.
pub fn open_of_kind(state: &dyn StateRead, kind: ProposalKind) -> Result<Vec<u64>, StateError> {
    Ok(OPEN
        .page_under(state, &(kind as u8), MAX_OPEN_PROPOSALS)?
        .into_iter()
        .map(|((_, id), ())| id)
        .collect())
}

/// How many proposals are open.
pub fn open_count(state: &dyn StateRead) -> Result<usize, StateError> {
    Ok(OPEN
        .page(state, None, MAX_OPEN_PROPOSALS + 1)?
        .entries
        .len())
}

/// `who`'s delegation for `scope`, if any.
pub fn delegation(
    state: &dyn StateRead,
    person: &Hash,
    scope: Scope,
) -> Result<Option<Delegation>, StateError> {
    DELEGATIONS.get(state, &(*person, scope.code()))
}

fn check_text(len: usize, max: usize, error: impl Fn(u32, u32) -> Error) -> Result<(), Error> {
    if len == 0 || len > max {
        return Err(error(
            u32::try_from(len).unwrap_or(u32::MAX),
            u32::try_from(max).unwrap_or(u32::MAX),
        ));
    }
    Ok(())
}

/// A voter acting, themselves or through their guardian.
struct ActingVoter {
    member: AccountId,
    guardian: Option<AccountId>,
    voter: Voter,
}

/// The voter behind `origin` (signed, or a guardian acting for them), who must hold a
/// voter role.
fn acting_voter(
    ctx: &CallContext<'_, '_>,
    origin: &Origin,
    voter_roles: RoleSet,
) -> Result<Result<ActingVoter, Error>, StateError> {
    let acting = check!(origin.ensure_signed_or_guardian());
    let Some(voter) = ctx.membership().voter(&*ctx.state, &acting.member)? else {
        return Ok(Err(MembershipError::NotMember {
            account: acting.member,
        }
        .into()));
    };
    if voter.roles.0 & voter_roles.0 == 0 {
        return Ok(Err(Error::NotAVoter {
            account: acting.member,
            voter_roles,
        }));
    }
    Ok(Ok(ActingVoter {
        member: acting.member,
        guardian: acting.guardian,
        voter,
    }))
}

/// The registration height governance counts for `voter`: the one it first saw them with
/// (so a person removed and registered again keeps their place), else the membership's.
fn since_of(state: &dyn StateRead, voter: &Voter) -> Result<Height, StateError> {
    Ok(graph::node(state, &voter.person)?.map_or(voter.since, |node| node.since))
}

/// The pallet.
pub struct Pallet;

impl wijk_support::Pallet for Pallet {
    const NAME: &'static str = "governance";
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = Genesis;

    const HOOKS_COST: Cost = costs::CLOSE
        .times(MAX_CLOSES_PER_BLOCK as u64)
        .plus(MAX_ENACTED_COST.times(MAX_ENACTMENTS_PER_BLOCK as u64));

    fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
        for track in config.tracks.in_order() {
            check!(track.check());
        }
        check!(check_rules(config.delegation_depth, config.voter_roles));
        CONFIG.put(state, &config_of(config));
        Ok(Ok(()))
    }

    fn dispatch(
        ctx: &mut CallContext<'_, '_>,
        origin: &Origin,
        call: &Call,
    ) -> DispatchResult<Error> {
        match call {
            Call::Propose {
                title,
                text_hash,
                encoded_call: call,
            } => {
                if call.len() > MAX_PROPOSED_CALL_BYTES {
                    return Ok(Err(Error::CallTooLarge {
                        len: u32::try_from(call.len()).unwrap_or(u32::MAX),
                        max: MAX_PROPOSED_CALL_BYTES as u32,
                    }));
                }
                let proposable = check!(ctx.enactment().proposable(call));
                if proposable.cost > MAX_ENACTED_COST {
                    return Ok(Err(Error::TooCostly {
                        cost: proposable.cost,
                        limit: MAX_ENACTED_COST,
                    }));
                }
                open_proposal(
                    ctx,
                    origin,
                    title,
                    *text_hash,
                    proposable.kind,
                    Action::Call(call.clone()),
                )
            }
            Call::ProposeElection {
                title,
                text_hash,
                seats,
                candidates,
            } => {
                check!(check_election(ctx, *seats, candidates)?);
                open_proposal(
                    ctx,
                    origin,
                    title,
                    *text_hash,
                    ProposalKind::Board,
                    Action::Election {
                        seats: *seats,
                        candidates: candidates.clone(),
                    },
                )
            }
            Call::Vote { id, choice } => vote(ctx, origin, *id, choice),
            Call::Delegate { to, scope } => delegate(ctx, origin, to, *scope),
            Call::Undelegate { scope } => undelegate(ctx, origin, *scope),
            Call::Cancel { id, reason } => {
                check!(ctx.ensure_decided_by(origin, Collective::Board)?);
                check!(check_text(reason.len(), MAX_REASON_BYTES, |len, max| {
                    Error::BadReason { len, max }
                }));
                cancel(ctx, origin, *id, reason)
            }
            Call::SetTrack { kind, track } => {
                check!(ctx.ensure_decided_by(origin, Collective::Members)?);
                check!(track.check());
                let mut config = config(&*ctx.state)?;
                let mut tracks: Vec<Track> = ProposalKind::ALL
                    .iter()
                    .map(|kind| config.track(*kind))
                    .collect();
                tracks[kind.index()] = *track;
                config.tracks = tracks;
                CONFIG.put(ctx.state, &config);
                ctx.deposit_event(Event::TrackSet {
                    kind: *kind,
                    track: *track,
                });
                Ok(Ok(()))
            }
            Call::SetRules {
                voter_roles,
                proposals_per_window,
                proposal_window_blocks,
                delegation_depth,
            } => {
                check!(ctx.ensure_decided_by(origin, Collective::Members)?);
                check!(check_rules(*delegation_depth, *voter_roles));
                let mut config = config(&*ctx.state)?;
                config.voter_roles = *voter_roles;
                config.proposals_per_window = *proposals_per_window;
                config.proposal_window_blocks = (*proposal_window_blocks).max(1);
                config.delegation_depth = *delegation_depth;
                CONFIG.put(ctx.state, &config);
                ctx.deposit_event(Event::RulesSet {
                    voter_roles: *voter_roles,
                    proposals_per_window: *proposals_per_window,
                    proposal_window_blocks: config.proposal_window_blocks,
                    delegation_depth: *delegation_depth,
                });
                Ok(Ok(()))
            }
            Call::RemoveBoardMember { member } => {
                check!(ctx.ensure_decided_by(origin, Collective::Members)?);
                let mut board = wijk_system::board(&*ctx.state)?;
                let Some(place) = board.iter().position(|seated| seated == member) else {
                    return Ok(Err(Error::NotOnBoard { member: *member }));
                };
                board.remove(place);
                wijk_system::set_board(ctx.state, &board);
                ctx.deposit_event(Event::BoardMemberRemoved { member: *member });
                Ok(Ok(()))
            }
        }
    }

    fn cost(call: &Call) -> Cost {
        match call {
            Call::Propose { .. } | Call::ProposeElection { .. } => costs::PROPOSE,
            Call::Vote { .. } => costs::VOTE,
            Call::Delegate { .. } | Call::Undelegate { .. } => costs::DELEGATE,
            Call::Cancel { .. }
            | Call::SetTrack { .. }
            | Call::SetRules { .. }
            | Call::RemoveBoardMember { .. } => costs::MANAGE,
        }
    }

    /// Closes the proposals whose voting ended and carries out those due, a bounded number
    /// of each per block (the rest wait a block).
    fn end_block(ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
        let height = ctx.block().height;
        for ((closes_at, id), ()) in CLOSING
            .page(&*ctx.state, None, MAX_CLOSES_PER_BLOCK)?
            .entries
        {
            if closes_at > height {
                break;
            }
            CLOSING.remove(ctx.state, &(closes_at, id));
            close(ctx, id)?;
        }
        for ((enacts_at, id), ()) in ENACTING
            .page(&*ctx.state, None, MAX_ENACTMENTS_PER_BLOCK)?
            .entries
        {
            if enacts_at > height {
                break;
            }
            ENACTING.remove(ctx.state, &(enacts_at, id));
            enact(ctx, id)?;
        }
        Ok(())
    }
}

fn check_rules(delegation_depth: u8, voter_roles: RoleSet) -> Result<(), Error> {
    if usize::from(delegation_depth) > MAX_DELEGATION_DEPTH {
        return Err(Error::BadRule {
            what: format!(
                "a delegation depth of {delegation_depth}; at most {MAX_DELEGATION_DEPTH}"
            ),
        });
    }
    if voter_roles.is_empty() {
        return Err(Error::BadRule {
            what: "no role votes: name at least one voter role".into(),
        });
    }
    Ok(())
}

fn check_election(
    ctx: &CallContext<'_, '_>,
    seats: u8,
    candidates: &[AccountId],
) -> Result<Result<(), Error>, StateError> {
    let bad = |reason: String| Ok(Err(Error::BadElection { reason }));
    if candidates.is_empty() || candidates.len() > MAX_CANDIDATES {
        return bad(format!(
            "name 1 to {MAX_CANDIDATES} candidates, not {}",
            candidates.len()
        ));
    }
    if seats == 0 || usize::from(seats) > candidates.len() {
        return bad(format!(
            "{seats} seats for {} candidates: at least one seat, at most one per candidate",
            candidates.len()
        ));
    }
    let mut seen = std::collections::BTreeSet::new();
    for candidate in candidates {
        if !seen.insert(*candidate) {
            return bad(format!("{candidate:?} is named twice"));
        }
        if !ctx.membership().is_member(&*ctx.state, candidate)? {
            return bad(format!("{candidate:?} is not an active member"));
        }
    }
    Ok(Ok(()))
}

fn open_proposal(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    title: &str,
    text_hash: Hash,
    kind: ProposalKind,
    action: Action,
) -> DispatchResult<Error> {
    let proposer = check!(origin.ensure_signed());
    check!(check_text(title.len(), MAX_TITLE_BYTES, |len, max| {
        Error::BadTitle { len, max }
    }));
    let Some(voter) = ctx.membership().voter(&*ctx.state, &proposer)? else {
        return Ok(Err(MembershipError::NotMember { account: proposer }.into()));
    };
    let config = config(&*ctx.state)?;
    let height = ctx.block().height;
    let window = height / config.proposal_window_blocks;
    let mut budget = PROPOSED
        .get(&*ctx.state, &voter.person)?
        .unwrap_or_default();
    if budget.window != window {
        budget = ProposalBudget { window, count: 0 };
    }
    if budget.count >= config.proposals_per_window {
        return Ok(Err(Error::ProposalBudgetSpent {
            per_window: config.proposals_per_window,
            renews_at: (window + 1).saturating_mul(config.proposal_window_blocks),
        }));
    }
    if open_count(&*ctx.state)? >= MAX_OPEN_PROPOSALS {
        return Ok(Err(Error::TooManyOpen {
            max: MAX_OPEN_PROPOSALS as u32,
        }));
    }
    budget.count += 1;
    PROPOSED.insert(ctx.state, &voter.person, &budget);
    let id = NEXT_ID.get(&*ctx.state)?.unwrap_or(0);
    NEXT_ID.put(ctx.state, &(id + 1));
    let track = config.track(kind);
    let electorate = ctx
        .membership()
        .count_holding_any(&*ctx.state, config.voter_roles)?;
    let closes_at = height.saturating_add(track.voting_blocks);
    let candidates = match &action {
        Action::Election { candidates, .. } => candidates.len(),
        Action::Call(_) => 0,
    };
    let proposal = Proposal {
        id,
        proposer,
        kind,
        title: title.to_string(),
        text_hash,
        action,
        track,
        voter_roles: config.voter_roles,
        electorate,
        opened_at: height,
        closes_at,
        tally: Tally::new(candidates),
        status: Status::Voting,
    };
    PROPOSALS.insert(ctx.state, &id, &proposal);
    OPEN.insert(ctx.state, &(kind as u8, id), &());
    CLOSING.insert(ctx.state, &(closes_at, id), &());
    ctx.deposit_event(Event::Proposed {
        id,
        proposer,
        kind,
        title: title.to_string(),
        electorate,
        closes_at,
    });
    Ok(Ok(()))
}

fn vote(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: u64,
    choice: &Choice,
) -> DispatchResult<Error> {
    let Some(mut proposal) = PROPOSALS.get(&*ctx.state, &id)? else {
        return Ok(Err(Error::NoSuchProposal { id }));
    };
    if proposal.status != Status::Voting {
        return Ok(Err(Error::VotingClosed { id }));
    }
    let ActingVoter {
        member,
        guardian,
        voter,
    } = tri!(acting_voter(ctx, origin, proposal.voter_roles));
    let since = since_of(&*ctx.state, &voter)?;
    if since > proposal.opened_at {
        return Ok(Err(Error::NotInElectorate {
            account: member,
            id,
            since,
            opened_at: proposal.opened_at,
        }));
    }
    match (&proposal.action, choice) {
        (Action::Call(_), Choice::Approve(_)) => {
            return Ok(Err(Error::WrongChoice {
                id,
                expected: "yes, no or abstain".into(),
            }))
        }
        (Action::Election { candidates, .. }, Choice::Approve(approved)) => {
            let in_order = approved.windows(2).all(|pair| pair[0] < pair[1]);
            let on_list = approved
                .iter()
                .all(|place| usize::from(*place) < candidates.len());
            if !in_order || !on_list {
                return Ok(Err(Error::WrongChoice {
                    id,
                    expected: format!(
                        "a ballot of candidates by place, 0 to {}, each once, in increasing order",
                        candidates.len().saturating_sub(1)
                    ),
                }));
            }
        }
        (Action::Election { .. }, _) => {
            return Ok(Err(Error::WrongChoice {
                id,
                expected: "a ballot approving candidates".into(),
            }))
        }
        (Action::Call(_), _) => {}
    }
    let cast = CastVote {
        choice: choice.clone(),
        signer: guardian.unwrap_or(member),
        member,
        at: ctx.block().height,
    };
    let replaced = graph::cast(ctx.state, &mut proposal, &voter.person, cast)?;
    PROPOSALS.insert(ctx.state, &id, &proposal);
    ctx.deposit_event(Event::Voted {
        id,
        voter: member,
        guardian,
        choice: choice.clone(),
        replaced,
    });
    Ok(Ok(()))
}

/// The kinds a delegation of `scope` by `person` decides (a general one only where the
/// person has none for that kind).
fn kinds_governed(
    state: &dyn StateRead,
    person: &Hash,
    scope: Scope,
) -> Result<Vec<ProposalKind>, StateError> {
    Ok(match scope {
        Scope::Kind(kind) => vec![kind],
        Scope::All => {
            let mut kinds = Vec::new();
            for kind in ProposalKind::ALL {
                if !DELEGATIONS.contains(state, &(*person, Scope::Kind(kind).code()))? {
                    kinds.push(kind);
                }
            }
            kinds
        }
    })
}

fn delegate(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    to: &AccountId,
    scope: Scope,
) -> DispatchResult<Error> {
    let config = config(&*ctx.state)?;
    let ActingVoter { member, voter, .. } = tri!(acting_voter(ctx, origin, config.voter_roles));
    let Some(delegate) = ctx.membership().voter(&*ctx.state, to)? else {
        return Ok(Err(MembershipError::NotMember { account: *to }.into()));
    };
    if delegate.roles.0 & config.voter_roles.0 == 0 {
        return Ok(Err(Error::NotAVoter {
            account: *to,
            voter_roles: config.voter_roles,
        }));
    }
    if delegate.person == voter.person {
        return Ok(Err(Error::SelfDelegation));
    }
    let depth = usize::from(config.delegation_depth);
    let kinds = kinds_governed(&*ctx.state, &voter.person, scope)?;
    for kind in &kinds {
        match graph::check_placement(&*ctx.state, &voter.person, &delegate.person, *kind, depth)? {
            Ok(()) => {}
            Err(Refusal::Loop { .. }) => {
                return Ok(Err(Error::DelegationLoop {
                    to: *to,
                    kind: *kind,
                }))
            }
            Err(Refusal::TooDeep { length }) => {
                return Ok(Err(Error::DelegationTooDeep {
                    to: *to,
                    kind: *kind,
                    length: u32::try_from(length).unwrap_or(u32::MAX),
                    max: u32::from(config.delegation_depth),
                }))
            }
        }
    }
    let since = since_of(&*ctx.state, &voter)?;
    let to_since = since_of(&*ctx.state, &delegate)?;
    let code = scope.code();
    if let Some(earlier) = DELEGATIONS.get(&*ctx.state, &(voter.person, code))? {
        DELEGATORS.remove(ctx.state, &(earlier.to, code, voter.person));
    }
    for kind in &kinds {
        graph::set_parent(
            ctx.state,
            &voter.person,
            since,
            *kind,
            Some((delegate.person, to_since)),
        )?;
    }
    DELEGATIONS.insert(
        ctx.state,
        &(voter.person, code),
        &Delegation {
            to: delegate.person,
            to_account: *to,
            by: member,
            at: ctx.block().height,
        },
    );
    DELEGATORS.insert(ctx.state, &(delegate.person, code, voter.person), &());
    ctx.deposit_event(Event::Delegated {
        from: member,
        to: *to,
        scope,
        not_applied: Vec::new(),
    });
    Ok(Ok(()))
}

fn undelegate(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    scope: Scope,
) -> DispatchResult<Error> {
    let acting = check!(origin.ensure_signed_or_guardian());
    // A member who lost their voter role may still take a delegation back.
    let Some(voter) = ctx.membership().voter(&*ctx.state, &acting.member)? else {
        return Ok(Err(MembershipError::NotMember {
            account: acting.member,
        }
        .into()));
    };
    let code = scope.code();
    let Some(earlier) = DELEGATIONS.get(&*ctx.state, &(voter.person, code))? else {
        return Ok(Err(Error::NotDelegating { scope }));
    };
    let kinds = kinds_governed(&*ctx.state, &voter.person, scope)?;
    DELEGATIONS.remove(ctx.state, &(voter.person, code));
    DELEGATORS.remove(ctx.state, &(earlier.to, code, voter.person));
    let since = since_of(&*ctx.state, &voter)?;
    let mut not_applied = Vec::new();
    let general = match scope {
        Scope::Kind(_) => DELEGATIONS.get(&*ctx.state, &(voter.person, Scope::All.code()))?,
        Scope::All => None,
    };
    let depth = usize::from(config(&*ctx.state)?.delegation_depth);
    for kind in kinds {
        graph::set_parent(ctx.state, &voter.person, since, kind, None)?;
        // Taking back a delegation for one kind lets the general one apply there again,
        // where it can without a loop or too long a chain.
        if let Some(general) = &general {
            let placed =
                graph::check_placement(&*ctx.state, &voter.person, &general.to, kind, depth)?;
            if placed.is_ok() {
                let to_since = graph::node(&*ctx.state, &general.to)?.map_or(0, |node| node.since);
                graph::set_parent(
                    ctx.state,
                    &voter.person,
                    since,
                    kind,
                    Some((general.to, to_since)),
                )?;
            } else {
                not_applied.push(kind);
            }
        }
    }
    ctx.deposit_event(Event::Undelegated {
        from: acting.member,
        scope,
    });
    if let (Some(general), false) = (general, not_applied.is_empty()) {
        ctx.deposit_event(Event::Delegated {
            from: acting.member,
            to: general.to_account,
            scope: Scope::All,
            not_applied,
        });
    }
    Ok(Ok(()))
}

fn cancel(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: u64,
    reason: &str,
) -> DispatchResult<Error> {
    let Some(mut proposal) = PROPOSALS.get(&*ctx.state, &id)? else {
        return Ok(Err(Error::NoSuchProposal { id }));
    };
    match &proposal.status {
        Status::Voting => {
            OPEN.remove(ctx.state, &(proposal.kind as u8, id));
            CLOSING.remove(ctx.state, &(proposal.closes_at, id));
        }
        Status::Approved { enacts_at, .. } => ENACTING.remove(ctx.state, &(*enacts_at, id)),
        _ => return Ok(Err(Error::NotCancellable { id })),
    }
    let height = ctx.block().height;
    proposal.status = Status::Cancelled {
        reason: reason.to_string(),
        at: height,
    };
    PROPOSALS.insert(ctx.state, &id, &proposal);
    ctx.deposit_event(Event::Cancelled {
        id,
        reason: reason.to_string(),
        by: match origin {
            Origin::Signed(account) => Some(*account),
            _ => None,
        },
    });
    Ok(Ok(()))
}

/// Closes voting on `id`: its running tally decides.
fn close(ctx: &mut CallContext<'_, '_>, id: u64) -> Result<(), StateError> {
    let Some(mut proposal) = PROPOSALS.get(&*ctx.state, &id)? else {
        return Ok(());
    };
    if proposal.status != Status::Voting {
        return Ok(());
    }
    OPEN.remove(ctx.state, &(proposal.kind as u8, id));
    let outcome = match &proposal.action {
        Action::Call(_) => tally::outcome(&proposal.track, proposal.electorate, &proposal.tally),
        Action::Election { seats, .. } => tally::election_outcome(
            &proposal.track,
            proposal.electorate,
            &proposal.tally,
            *seats,
        ),
    };
    let height = ctx.block().height;
    proposal.status = match &outcome {
        Outcome::Approved { elected } => {
            let enacts_at = height.saturating_add(proposal.track.enactment_blocks);
            ENACTING.insert(ctx.state, &(enacts_at, id), &());
            let elected = match &proposal.action {
                Action::Election { candidates, .. } => elected
                    .iter()
                    .filter_map(|place| candidates.get(usize::from(*place)).copied())
                    .collect(),
                Action::Call(_) => Vec::new(),
            };
            Status::Approved { enacts_at, elected }
        }
        rejected => Status::Rejected {
            outcome: rejected.clone(),
        },
    };
    ctx.deposit_event(Event::Closed {
        id,
        outcome,
        tally: proposal.tally.clone(),
    });
    PROPOSALS.insert(ctx.state, &id, &proposal);
    Ok(())
}

/// Carries out approved proposal `id`.
fn enact(ctx: &mut CallContext<'_, '_>, id: u64) -> Result<(), StateError> {
    let Some(mut proposal) = PROPOSALS.get(&*ctx.state, &id)? else {
        return Ok(());
    };
    let Status::Approved { elected, .. } = &proposal.status else {
        return Ok(());
    };
    let failed = match &proposal.action {
        Action::Call(call) => {
            let call = call.clone();
            ctx.in_hook_atomically(|ctx| ctx.enactment().enact(ctx, &call))?
                .err()
        }
        Action::Election { .. } => {
            // Seat the winners who are still members.
            let mut board = Vec::new();
            for winner in elected {
                if ctx.membership().is_member(&*ctx.state, winner)? {
                    board.push(*winner);
                }
            }
            if board.is_empty() {
                Some("no elected candidate is still an active member".to_string())
            } else {
                wijk_system::set_board(ctx.state, &board);
                ctx.deposit_event(Event::BoardElected { id, board });
                None
            }
        }
    };
    proposal.status = Status::Enacted {
        at: ctx.block().height,
        failed: failed.clone(),
    };
    PROPOSALS.insert(ctx.state, &id, &proposal);
    ctx.deposit_event(Event::Enacted { id, failed });
    Ok(())
}

#[cfg(test)]
mod tests;
