//! The tally of a proposal counted from scratch, as an auditor counts it: every member in
//! the delegation forests and every vote, resolved one by one under the rule in
//! [`crate::graph`]. The runtime never runs this in a block (it walks every member); the
//! RPC serves it beside the running tally, and the property tests hold the two equal.

use crate::graph::NODES;
use crate::tally::{Choice, Tally};
use crate::{MAX_DELEGATION_DEPTH, PROPOSALS, STANDINGS};
use std::collections::BTreeMap;
use wijk_primitives::Hash;
use wijk_support::{StateError, StateRead};

/// Proposal `id`'s tally recounted from the votes and delegations in `state`; `None` if
/// there is no such proposal.
pub fn recount(state: &dyn StateRead, id: u64) -> Result<Option<Tally>, StateError> {
    let Some(proposal) = PROPOSALS.get(state, &id)? else {
        return Ok(None);
    };
    let k = proposal.kind.index();
    let mut votes: BTreeMap<Hash, Choice> = BTreeMap::new();
    for ((_, person), standing) in STANDINGS.page_under(state, &id, usize::MAX)? {
        if let Some(vote) = standing.vote {
            votes.insert(person, vote.choice);
        }
    }
    let mut parents: BTreeMap<Hash, (u64, Option<Hash>)> = BTreeMap::new();
    NODES.for_each(state, |person, node| {
        parents.insert(person, (node.since, node.parent[k]));
    })?;
    let mut members: Vec<Hash> = parents.keys().copied().collect();
    members.extend(votes.keys().filter(|person| !parents.contains_key(*person)));
    let mut tally = Tally::new(proposal.tally.approvals.len());
    for member in members {
        let joined_later = parents
            .get(&member)
            .is_some_and(|(since, _)| *since > proposal.opened_at);
        if joined_later {
            continue;
        }
        let mut cursor = member;
        for _ in 0..=MAX_DELEGATION_DEPTH {
            if let Some(choice) = votes.get(&cursor) {
                tally.apply(choice, 1, true);
                break;
            }
            match parents.get(&cursor).and_then(|(_, parent)| *parent) {
                Some(next) => cursor = next,
                None => break,
            }
        }
    }
    Ok(Some(tally))
}
