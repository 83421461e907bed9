//! The governance pallet's subcommands: `wijk propose|vote|delegate|undelegate|proposals|
//! proposal|board|delegations`.

use crate::keys::load_key;
use crate::{output, Context};
use anyhow::Context as _;
use clap::Subcommand;
use parity_scale_codec::Encode;
use wijk_client::types::governance as types;
use wijk_governance::{Call as Governance, Choice, Scope, Track};
use wijk_primitives::AccountId;
use wijk_runtime::RuntimeCall;
use wijk_support::{ProposalKind, Role, RoleSet};

#[derive(Debug, Subcommand)]
pub(crate) enum GovernanceCommand {
    /// Propose a decision to the members (any member may; a few per week each).
    Propose {
        /// Your secret (the proposer).
        #[arg(long)]
        from: String,
        /// A short title.
        #[arg(long)]
        title: String,
        /// The full text, a file kept off chain: its blake3 hash goes on chain.
        #[arg(long, conflicts_with = "text_hash")]
        text: Option<std::path::PathBuf>,
        /// Or the hash of the full text, 0x hex.
        #[arg(long)]
        text_hash: Option<String>,
        /// What the members would decide.
        #[command(subcommand)]
        what: Proposed,
    },
    /// Vote yes, no or abstain on a proposal (or, in an election, approve candidates); a
    /// later vote replaces yours until voting closes.
    Vote {
        /// The proposal's number.
        id: u64,
        /// yes, no or abstain (leave out for an election ballot).
        choice: Option<String>,
        /// An election ballot: the candidates you approve, by their number in the list
        /// (`wijk proposal N` shows it), comma-separated; `--approve ""` is a blank ballot.
        #[arg(long, value_delimiter = ',', num_args = 0..)]
        approve: Option<Vec<u8>>,
        /// Your secret.
        #[arg(long)]
        from: String,
    },
    /// Let another member vote for you: on every kind of proposal, or one kind.
    Delegate {
        /// The delegate's address.
        to: String,
        /// Only this kind (activity-value, activity-catalogue, parameter, board,
        /// validator-set, spend, goal); every kind when left out.
        #[arg(long)]
        kind: Option<String>,
        /// Your secret.
        #[arg(long)]
        from: String,
    },
    /// Take a delegation back (you vote yourself again, or your general delegation applies).
    Undelegate {
        /// The kind whose delegation to take back; the general one when left out.
        #[arg(long)]
        kind: Option<String>,
        /// Your secret.
        #[arg(long)]
        from: String,
    },
    /// Proposals, newest first.
    Proposals {
        /// Only those numbered below this.
        #[arg(long)]
        before: Option<u64>,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// One proposal: its rules, tally, a recount from the chain, and every direct vote.
    Proposal {
        /// Its number.
        id: u64,
        /// Show how this member's vote counts (directly, or through whom).
        #[arg(long)]
        member: Option<String>,
        /// Skip this many votes (paging).
        #[arg(long, default_value_t = 0)]
        votes_from: usize,
    },
    /// A member's delegations and who delegates to them.
    Delegations {
        /// The member's address.
        address: String,
    },
    /// The board: who sits on it and what it may do.
    Board,
}

/// What a proposal would have the members decide.
#[derive(Debug, Subcommand)]
pub(crate) enum Proposed {
    /// Change the validator set (from the soonest height once enacted).
    Validators {
        /// The new set's addresses, in leader order, comma-separated.
        #[arg(long, value_delimiter = ',', required = true)]
        set: Vec<String>,
    },
    /// Set the track (quorum, threshold, period, delay) of a kind of proposal.
    Track {
        /// The kind.
        #[arg(long)]
        kind: String,
        /// Votes cast needed, in per mille of the electorate.
        #[arg(long)]
        quorum_per_mille: u16,
        /// Yes needed, in per mille of yes and no.
        #[arg(long)]
        approval_per_mille: u16,
        /// Blocks voting stays open.
        #[arg(long)]
        voting_blocks: u64,
        /// Blocks after the close until it takes effect.
        #[arg(long)]
        enactment_blocks: u64,
    },
    /// Set who votes, the proposal budget and the delegation depth.
    Rules {
        /// The roles whose holders vote, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "resident")]
        voter_roles: Vec<String>,
        /// Proposals per person per window.
        #[arg(long, default_value_t = 3)]
        proposals_per_window: u32,
        /// Blocks per window.
        #[arg(long, default_value_t = wijk_governance::WEEK_OF_BLOCKS)]
        window_blocks: u64,
        /// Longest chain of delegations.
        #[arg(long, default_value_t = 3)]
        delegation_depth: u8,
    },
    /// Take a member off the board.
    RemoveBoardMember {
        /// The board member's address.
        member: String,
    },
    /// Elect the board: approval voting, the most approved win the seats.
    Election {
        /// Seats on the board.
        #[arg(long)]
        seats: u8,
        /// The candidates' addresses, comma-separated, in nomination order.
        #[arg(long, value_delimiter = ',', required = true)]
        candidates: Vec<String>,
    },
    /// Set what an activity is worth per unit (for work done after the vote is enacted).
    ActivityValue {
        /// The activity's number (`wijk activity list`).
        #[arg(long)]
        activity: u32,
        /// Its new value per unit, in euros.
        #[arg(long)]
        value: String,
    },
    /// Add an activity to the catalogue.
    AddActivity {
        /// What it is ("an hour of neighbourhood help").
        #[arg(long)]
        name: String,
        /// What one unit is ("hour").
        #[arg(long)]
        unit: String,
        /// Its category (lowercase, dashes: "neighbourhood-help").
        #[arg(long)]
        category: String,
        /// Its value per unit, in euros.
        #[arg(long)]
        value: String,
        /// Most units one person may claim per period.
        #[arg(long)]
        max_units_per_period: Option<u32>,
    },
    /// Retire an activity: work done after the vote is no longer paid.
    RetireActivity {
        /// The activity's number.
        #[arg(long)]
        activity: u32,
    },
    /// Pay from the cooperative's fund to a member.
    Spend {
        /// The recipient's address.
        #[arg(long)]
        to: String,
        /// Amount in euros.
        #[arg(long)]
        amount: String,
        /// What it is for.
        #[arg(long)]
        purpose: String,
    },
    /// Any call the members may decide, as 0x SCALE hex of a runtime call.
    Call {
        /// The encoded call.
        hex: String,
    },
}

fn parse_kind(text: &str) -> anyhow::Result<ProposalKind> {
    ProposalKind::parse(text).with_context(|| {
        format!(
            "`{text}` is no kind of proposal; the kinds are {}",
            ProposalKind::ALL.map(|kind| kind.name()).join(", ")
        )
    })
}

fn scope(kind: Option<&str>) -> anyhow::Result<Scope> {
    Ok(match kind {
        None => Scope::All,
        Some(kind) => Scope::Kind(parse_kind(kind)?),
    })
}

fn names(prefix: u16, list: &[AccountId]) -> String {
    list.iter()
        .map(|account| account.address(prefix).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn status_text(status: &wijk_governance::Status) -> String {
    use wijk_governance::{Outcome, Status};
    match status {
        Status::Voting => "open for voting".into(),
        Status::Approved { enacts_at, .. } => {
            format!("approved; takes effect at block #{enacts_at}")
        }
        Status::Rejected { outcome } => match outcome {
            Outcome::NoQuorum { cast, needed } => {
                format!("rejected: {cast} votes cast, the quorum needed {needed}")
            }
            _ => "rejected: not enough yes".into(),
        },
        Status::Enacted { at, failed: None } => format!("enacted in block #{at}"),
        Status::Enacted {
            at,
            failed: Some(why),
        } => format!("approved, but carrying it out in block #{at} failed: {why}"),
        Status::Cancelled { reason, at } => {
            format!("stopped by the board in block #{at}: {reason}")
        }
    }
}

fn summary(proposal: &types::Proposal) -> String {
    let tally = &proposal.tally;
    let counts = if proposal.action.get("election").is_some() {
        format!("{} ballots, approvals {:?}", tally.ballots, tally.approvals)
    } else {
        format!(
            "yes {} / no {} / abstain {}",
            tally.yes, tally.no, tally.abstain
        )
    };
    format!(
        "#{} [{}] {}: {}; {} (quorum {} of {}; voting until block #{})",
        proposal.id,
        proposal.kind,
        proposal.title,
        status_text(&proposal.status),
        counts,
        proposal.quorum_votes,
        proposal.electorate,
        proposal.closes_at,
    )
}

pub(crate) async fn run(context: &Context, command: GovernanceCommand) -> anyhow::Result<()> {
    match command {
        GovernanceCommand::Propose {
            from,
            title,
            text,
            text_hash: hash,
            what,
        } => {
            let client = context.client().await?;
            let text_hash = super::hash_of_file_or_hex(
                text.as_deref(),
                hash.as_deref(),
                "text",
                "give the proposal's full text as a file (--text FILE) or its hash (--text-hash 0x...)",
            )?;
            let parse = |address: &str| client.parse_address(address.trim());
            let propose = |encoded_call: Vec<u8>| {
                RuntimeCall::Governance(Governance::Propose {
                    title: title.clone(),
                    text_hash,
                    encoded_call,
                })
            };
            let call = match what {
                Proposed::Election { seats, candidates } => {
                    RuntimeCall::Governance(Governance::ProposeElection {
                        title: title.clone(),
                        text_hash,
                        seats,
                        candidates: candidates
                            .iter()
                            .map(|address| parse(address))
                            .collect::<Result<Vec<_>, _>>()?,
                    })
                }
                Proposed::Validators { set } => propose(
                    RuntimeCall::Validators(wijk_validators::Call::ChangeSet {
                        validators: set
                            .iter()
                            .map(|address| parse(address))
                            .collect::<Result<Vec<_>, _>>()?,
                    })
                    .encode(),
                ),
                Proposed::Track {
                    kind,
                    quorum_per_mille,
                    approval_per_mille,
                    voting_blocks,
                    enactment_blocks,
                } => propose(
                    RuntimeCall::Governance(Governance::SetTrack {
                        kind: parse_kind(&kind)?,
                        track: Track {
                            quorum_per_mille,
                            approval_per_mille,
                            voting_blocks,
                            enactment_blocks,
                        },
                    })
                    .encode(),
                ),
                Proposed::Rules {
                    voter_roles,
                    proposals_per_window,
                    window_blocks,
                    delegation_depth,
                } => {
                    let roles = voter_roles
                        .iter()
                        .map(|name| {
                            Role::parse(name.trim()).with_context(|| format!("`{name}` is no role"))
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    propose(
                        RuntimeCall::Governance(Governance::SetRules {
                            voter_roles: RoleSet::of(&roles),
                            proposals_per_window,
                            proposal_window_blocks: window_blocks,
                            delegation_depth,
                        })
                        .encode(),
                    )
                }
                Proposed::RemoveBoardMember { member } => propose(
                    RuntimeCall::Governance(Governance::RemoveBoardMember {
                        member: parse(&member)?,
                    })
                    .encode(),
                ),
                Proposed::ActivityValue { activity, value } => propose(
                    RuntimeCall::Activities(wijk_activities::Call::SetValue {
                        activity,
                        value: wijk_primitives::parse_cents(&value)?,
                    })
                    .encode(),
                ),
                Proposed::AddActivity {
                    name,
                    unit,
                    category,
                    value,
                    max_units_per_period,
                } => propose(
                    RuntimeCall::Activities(wijk_activities::Call::AddActivity {
                        name,
                        unit,
                        category,
                        value: wijk_primitives::parse_cents(&value)?,
                        max_units_per_period,
                    })
                    .encode(),
                ),
                Proposed::RetireActivity { activity } => propose(
                    RuntimeCall::Activities(wijk_activities::Call::RetireActivity { activity })
                        .encode(),
                ),
                Proposed::Spend {
                    to,
                    amount,
                    purpose,
                } => propose(
                    RuntimeCall::Coin(wijk_coin::Call::SpendFromFund {
                        to: parse(&to)?,
                        amount: wijk_primitives::parse_cents(&amount)?,
                        purpose,
                    })
                    .encode(),
                ),
                Proposed::Call { hex: text } => propose(
                    hex::decode(text.trim_start_matches("0x"))
                        .context("the call must be 0x hex")?,
                ),
            };
            super::submit(context, &load_key(&from)?, call, true).await
        }
        GovernanceCommand::Vote {
            id,
            choice,
            approve,
            from,
        } => {
            let choice = match (choice.as_deref(), approve) {
                (Some(_), Some(_)) => {
                    anyhow::bail!("vote yes/no/abstain or approve candidates, not both")
                }
                (None, Some(approved)) => {
                    let mut approved = approved;
                    approved.sort_unstable();
                    approved.dedup();
                    Choice::Approve(approved)
                }
                (Some(text), None) => match text.to_ascii_lowercase().as_str() {
                    "yes" | "ja" => Choice::Yes,
                    "no" | "nee" => Choice::No,
                    "abstain" | "blanco" => Choice::Abstain,
                    other => anyhow::bail!("`{other}` is no vote: say yes, no or abstain"),
                },
                (None, None) => anyhow::bail!(
                    "say how you vote: yes, no or abstain (or --approve N,M in an election)"
                ),
            };
            let call = RuntimeCall::Governance(Governance::Vote { id, choice });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        GovernanceCommand::Delegate { to, kind, from } => {
            let client = context.client().await?;
            let call = RuntimeCall::Governance(Governance::Delegate {
                to: client.parse_address(&to)?,
                scope: scope(kind.as_deref())?,
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        GovernanceCommand::Undelegate { kind, from } => {
            let call = RuntimeCall::Governance(Governance::Undelegate {
                scope: scope(kind.as_deref())?,
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        GovernanceCommand::Proposals { before, limit } => {
            let client = context.client().await?;
            let page = client.proposals(before, limit).await?;
            output::show(context.json(), &page, |page| {
                if page.is_empty() {
                    return "no proposals yet".into();
                }
                page.iter().map(summary).collect::<Vec<_>>().join("\n")
            })
        }
        GovernanceCommand::Proposal {
            id,
            member,
            votes_from,
        } => {
            let client = context.client().await?;
            let prefix = client.chain().address_prefix;
            let member = member
                .as_deref()
                .map(|address| client.parse_address(address))
                .transpose()?;
            let Some(detail) = client.proposal(id, member.as_ref(), votes_from).await? else {
                anyhow::bail!("there is no proposal {id}");
            };
            output::show(context.json(), &detail, |detail| {
                let proposal = &detail.proposal;
                let mut lines = vec![summary(proposal)];
                lines.push(format!(
                    "proposed by {} in block #{}; text hash {}",
                    proposal.proposer.address(prefix),
                    proposal.opened_at,
                    proposal.text_hash
                ));
                lines.push(format!("would do: {}", proposal.action));
                lines.push(format!(
                    "track: quorum {}‰ of the electorate, approval {}‰ of yes and no, {} blocks of voting, in effect {} blocks after; voters: {}",
                    proposal.track.quorum_per_mille,
                    proposal.track.approval_per_mille,
                    proposal.track.voting_blocks,
                    proposal.track.enactment_blocks,
                    proposal.voter_roles.join(", ")
                ));
                let same = detail.recount == proposal.tally;
                lines.push(format!(
                    "recounted from the chain's votes and delegations: {}",
                    if same {
                        "the same tally".to_string()
                    } else {
                        format!("{:?} (delegations changed since the close)", detail.recount)
                    }
                ));
                if let Some(member) = &detail.member {
                    let how = match (&member.counted, member.direct, member.in_electorate) {
                        (_, _, false) => "not in this proposal's electorate".to_string(),
                        (None, _, true) => "no vote counted yet".to_string(),
                        (Some(choice), true, true) => {
                            format!("votes {} directly", choice)
                        }
                        (Some(choice), false, true) => format!(
                            "counted as {} through {}",
                            choice,
                            names(prefix, &member.through)
                        ),
                    };
                    lines.push(format!("{}: {how}", member.member.address(prefix)));
                }
                lines.push(format!(
                    "{} direct votes shown (ballots are public):",
                    detail.votes.len()
                ));
                for vote in &detail.votes {
                    let by = vote
                        .guardian
                        .map(|guardian| format!(" (cast by guardian {})", guardian.address(prefix)))
                        .unwrap_or_default();
                    lines.push(format!(
                        "  {} {}{by}, counts for {}, block #{}",
                        vote.member.address(prefix),
                        vote.choice,
                        vote.counts_for,
                        vote.at
                    ));
                }
                if detail.more_votes {
                    lines.push(format!(
                        "more: --votes-from {}",
                        votes_from + detail.votes.len()
                    ));
                }
                lines.join("\n")
            })
        }
        GovernanceCommand::Delegations { address } => {
            let client = context.client().await?;
            let prefix = client.chain().address_prefix;
            let account = client.parse_address(&address)?;
            let Some(view) = client.delegations(&account).await? else {
                anyhow::bail!("{address} is not a member");
            };
            output::show(context.json(), &view, |view| {
                let mut lines = Vec::new();
                if view.delegations.is_empty() {
                    lines.push("delegates to nobody: votes themselves".to_string());
                }
                for delegation in &view.delegations {
                    lines.push(format!(
                        "delegates {} to {} (since block #{})",
                        delegation.scope,
                        delegation.to.address(prefix),
                        delegation.at
                    ));
                }
                for kind in &view.by_kind {
                    if kind.delegate.is_some() || kind.weight > 1 {
                        lines.push(format!(
                            "  {}: delegate {}, votes reaching them {}",
                            kind.kind,
                            kind.delegate
                                .map(|delegate| delegate.address(prefix).to_string())
                                .unwrap_or_else(|| "none".into()),
                            kind.weight
                        ));
                    }
                }
                lines.push(format!("{} delegate to them", view.delegators.len()));
                lines.join("\n")
            })
        }
        GovernanceCommand::Board => {
            let client = context.client().await?;
            let prefix = client.chain().address_prefix;
            let board = client.board().await?;
            output::show(context.json(), &board, |board| {
                let mut lines = vec![format!("board: {}", names(prefix, &board.board))];
                lines.push("the board may:".into());
                lines.extend(board.powers.iter().map(|power| format!("  - {power}")));
                lines.push(format!(
                    "the board alone may add and remove at most {} validators per change",
                    board.validator_change_limit
                ));
                lines.join("\n")
            })
        }
    }
}
