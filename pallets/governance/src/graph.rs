//! Delegation (liquid democracy) and the running tallies it feeds.
//!
//! **The rule.** A member may delegate their vote to another member, for every kind of
//! proposal or for one kind; a delegation for one kind overrides the general one for that
//! kind. On a proposal of kind `k`, each member of its electorate counts once: their own vote
//! if they voted, else the vote of the first member up their chain of delegations (for
//! `k`) who voted, else not at all. A direct vote overrides a delegation for that proposal.
//! A member who joined after the proposal opened is not in its electorate: their own vote
//! does not count on it, but the votes delegated *through* them still reach their delegate.
//! A delegation that would close a loop, or make a chain longer than the chain spec's
//! depth, is refused, so every chain is short and no walk is long.
//!
//! **Running tallies, bounded work.** Each kind's delegations form a forest. Each member's
//! [`Node`] keeps, per kind, their delegate and how many members sit at each distance below
//! them, so the weight of a subtree (`1 +` their sum) is known without walking it. Per open
//! proposal and member, a [`Standing`] keeps the member's vote, if any, and `below`: how many
//! members under them have their vote decided beneath them (by a vote, or by being outside
//! the electorate). A voter's counted weight is then `weight - below`. A vote, or a
//! delegation moving a subtree, changes only the members up one chain (at most the depth),
//! in each open proposal of the kinds it touches (at most [`crate::MAX_OPEN_PROPOSALS`]):
//! no closing tally walks the members. [`crate::recount`] counts the same from scratch, as an
//! auditor would, and the property tests hold the two equal.

use crate::{open_of_kind, Proposal, MAX_DELEGATION_DEPTH, PROPOSALS, STANDINGS};
use parity_scale_codec::{Decode, Encode};
use wijk_primitives::{AccountId, Hash, Height};
use wijk_support::{ProposalKind, StateError, StateOverlay, StateRead, StorageMap};

use crate::tally::Choice;

/// Kinds of proposal, and so delegation forests.
pub const KINDS: usize = ProposalKind::ALL.len();

/// One member in the delegation forests (absent: nobody delegates to them and they
/// delegate to nobody).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct Node {
    /// When the member registered (their electorate starts there).
    pub since: Height,
    /// Their delegate in each kind's forest (the effective one: the delegation for that kind,
    /// or the general one).
    pub parent: [Option<Hash>; KINDS],
    /// Per kind, how many members are at distance 1, 2, .. below them.
    pub below: [[u32; MAX_DELEGATION_DEPTH]; KINDS],
}

impl Node {
    /// The member and everyone whose vote flows to them in `kind`'s forest.
    pub fn weight(&self, kind: ProposalKind) -> u32 {
        self.below[kind.index()]
            .iter()
            .fold(1u32, |sum, count| sum.saturating_add(*count))
    }

    /// The longest chain of delegations ending at the member, in `kind`'s forest.
    pub fn height(&self, kind: ProposalKind) -> usize {
        self.below[kind.index()]
            .iter()
            .rposition(|count| *count > 0)
            .map_or(0, |last| last + 1)
    }
}

/// A member on one open proposal: their vote and the members under them whose vote is
/// decided beneath them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct Standing {
    /// Members below (in the proposal's kind) whose vote is decided under this member:
    /// they or someone between voted, or they are outside the electorate.
    pub below: u32,
    /// Whether the member's own vote was taken out of this proposal (they joined after it
    /// opened).
    pub excluded: bool,
    /// Their own vote, if they cast one.
    pub vote: Option<CastVote>,
}

/// A vote as cast.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct CastVote {
    /// The choice.
    pub choice: Choice,
    /// The key that signed it (the member's, or the guardian's acting for them).
    pub signer: AccountId,
    /// The member's key it was cast for.
    pub member: AccountId,
    /// When.
    pub at: Height,
}

/// Each member's node, by registration tag.
pub const NODES: StorageMap<Hash, Node> = StorageMap::new(b"governance/node/");

/// The node of `person`, if they are in the delegation forests.
pub fn node(state: &dyn StateRead, person: &Hash) -> Result<Option<Node>, StateError> {
    NODES.get(state, person)
}

fn node_or(state: &dyn StateRead, person: &Hash, since: Height) -> Result<Node, StateError> {
    Ok(NODES.get(state, person)?.unwrap_or(Node {
        since,
        ..Node::default()
    }))
}

/// Why a delegation cannot be placed in a kind's forest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The delegate's chain comes back to the delegator.
    Loop {
        /// The member closing the loop (the delegator).
        through: Hash,
    },
    /// The chain through the delegator would be longer than allowed.
    TooDeep {
        /// Its length.
        length: usize,
    },
}

/// Whether `from` (with everyone below) may hang under `to` in `kind`'s forest, with
/// chains of at most `depth` delegations.
pub fn check_placement(
    state: &dyn StateRead,
    from: &Hash,
    to: &Hash,
    kind: ProposalKind,
    depth: usize,
) -> Result<Result<(), Refusal>, StateError> {
    let height = node(state, from)?.map_or(0, |node| node.height(kind));
    let mut cursor = *to;
    let mut above = 0usize;
    // Every chain is at most `MAX_DELEGATION_DEPTH` long, so this ends.
    loop {
        if cursor == *from {
            return Ok(Err(Refusal::Loop { through: *from }));
        }
        match node(state, &cursor)?.and_then(|node| node.parent[kind.index()]) {
            Some(next) if above < MAX_DELEGATION_DEPTH => {
                cursor = next;
                above += 1;
            }
            _ => break,
        }
    }
    let length = above + 1 + height;
    if length > depth {
        return Ok(Err(Refusal::TooDeep { length }));
    }
    Ok(Ok(()))
}

/// Hangs `from` (and everyone below) under `to` in `kind`'s forest (`attach`), or takes it
/// from under its delegate (`!attach`), updating the subtree weights up the chain and the
/// running tally of every open proposal of that kind. `since` is the member's registration
/// height, for a node created now. The placement must have been checked.
pub fn regraft(
    state: &mut StateOverlay<'_>,
    from: &Hash,
    since: Height,
    kind: ProposalKind,
    attach: bool,
) -> Result<(), StateError> {
    let k = kind.index();
    let mut moving = node_or(&*state, from, since)?;
    let Some(parent) = moving.parent[k] else {
        return Ok(());
    };
    let weight = moving.weight(kind);
    // The subtree's members by distance from `from` (itself at 0).
    let mut by_distance = [0u32; MAX_DELEGATION_DEPTH + 1];
    by_distance[0] = 1;
    by_distance[1..].copy_from_slice(&moving.below[k]);

    // Per open proposal: what the subtree has decided beneath (or at) `from`, and what of
    // it still flows up undecided.
    struct Flow {
        proposal: Proposal,
        decided: u32,
        undecided: u32,
        passed_a_voter: bool,
    }
    let mut flows = Vec::new();
    for id in open_of_kind(&*state, kind)? {
        let Some(proposal) = PROPOSALS.get(&*state, &id)? else {
            continue;
        };
        let mut standing = STANDINGS.get(&*state, &(id, *from))?.unwrap_or_default();
        if attach && moving.since > proposal.opened_at && !standing.excluded {
            // Joined after the proposal opened: their own vote is decided (out) here.
            standing.excluded = true;
            standing.below = standing.below.saturating_add(1);
            STANDINGS.insert(state, &(id, *from), &standing);
        }
        let decided = if standing.vote.is_some() {
            weight
        } else {
            standing.below.min(weight)
        };
        flows.push(Flow {
            proposal,
            decided,
            undecided: weight - decided,
            passed_a_voter: false,
        });
    }

    let change = |count: &mut u32, by: u32| {
        *count = if attach {
            count.saturating_add(by)
        } else {
            count.saturating_sub(by)
        }
    };
    let mut ancestor = parent;
    for hops in 0..MAX_DELEGATION_DEPTH {
        let Some(mut above) = node(&*state, &ancestor)? else {
            break;
        };
        for (distance, count) in by_distance.iter().enumerate() {
            if let Some(level) = above.below[k].get_mut(hops + distance) {
                change(level, *count);
            }
        }
        NODES.insert(state, &ancestor, &above);
        for flow in &mut flows {
            let key = (flow.proposal.id, ancestor);
            let mut standing = STANDINGS.get(&*state, &key)?.unwrap_or_default();
            if flow.passed_a_voter {
                // Above the first voter the whole subtree counts as decided below.
                change(&mut standing.below, weight);
            } else {
                change(&mut standing.below, flow.decided);
                if let Some(vote) = &standing.vote {
                    flow.proposal
                        .tally
                        .apply(&vote.choice, flow.undecided, attach);
                    flow.passed_a_voter = true;
                }
            }
            STANDINGS.insert(state, &key, &standing);
        }
        match above.parent[k] {
            Some(next) => ancestor = next,
            None => break,
        }
    }
    for flow in flows {
        PROPOSALS.insert(state, &flow.proposal.id, &flow.proposal);
    }
    if !attach {
        moving.parent[k] = None;
    }
    NODES.insert(state, from, &moving);
    Ok(())
}

/// Sets `from`'s delegate in `kind`'s forest to `to` (with the delegate's registration
/// height, for a node created now) or none, moving its subtree. Any placement under `to`
/// must have been checked.
pub fn set_parent(
    state: &mut StateOverlay<'_>,
    from: &Hash,
    since: Height,
    kind: ProposalKind,
    to: Option<(Hash, Height)>,
) -> Result<(), StateError> {
    let current = node_or(&*state, from, since)?;
    if current.parent[kind.index()] == to.map(|(to, _)| to) {
        return Ok(());
    }
    regraft(state, from, since, kind, false)?;
    if let Some((to, to_since)) = to {
        let mut moved = node_or(&*state, from, since)?;
        moved.parent[kind.index()] = Some(to);
        NODES.insert(state, from, &moved);
        if !NODES.contains(&*state, &to)? {
            NODES.insert(state, &to, &node_or(&*state, &to, to_since)?);
        }
        regraft(state, from, since, kind, true)?;
    }
    Ok(())
}

/// Records `person`'s vote `choice` on `proposal` (replacing any earlier one), updating the
/// running tally: their counted weight moves from the voter up their chain who counted it
/// before (if any) to `choice`.
pub fn cast(
    state: &mut StateOverlay<'_>,
    proposal: &mut Proposal,
    person: &Hash,
    vote: CastVote,
) -> Result<Option<Choice>, StateError> {
    let kind = proposal.kind;
    let voter = node(&*state, person)?;
    let weight = voter.as_ref().map_or(1, |node| node.weight(kind));
    let key = (proposal.id, *person);
    let mut standing = STANDINGS.get(&*state, &key)?.unwrap_or_default();
    let counted = weight.saturating_sub(standing.below);
    let previous = standing.vote.take().map(|earlier| earlier.choice);
    match &previous {
        Some(choice) => proposal.tally.apply(choice, counted, false),
        None => {
            // Their weight was counted (if at all) by the first voter up the chain.
            let mut cursor = voter.and_then(|node| node.parent[kind.index()]);
            for _ in 0..MAX_DELEGATION_DEPTH {
                let Some(ancestor) = cursor else { break };
                let key = (proposal.id, ancestor);
                let mut above = STANDINGS.get(&*state, &key)?.unwrap_or_default();
                above.below = above.below.saturating_add(counted);
                let voted = above.vote.as_ref().map(|vote| vote.choice.clone());
                STANDINGS.insert(state, &key, &above);
                if let Some(choice) = voted {
                    proposal.tally.apply(&choice, counted, false);
                    break;
                }
                cursor = node(&*state, &ancestor)?.and_then(|node| node.parent[kind.index()]);
            }
        }
    }
    proposal.tally.apply(&vote.choice, counted, true);
    standing.vote = Some(vote);
    STANDINGS.insert(state, &key, &standing);
    Ok(previous)
}
