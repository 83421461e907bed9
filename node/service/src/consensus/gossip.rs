//! What gossip gives the replica: its inputs in order (and a proposal's block), with the
//! votes and certificates of other epochs dropped; and the closing blocks left out of a
//! final run.

use super::block_ref;
use crate::protocol::ConsensusGossip;
use std::collections::HashMap;
use std::sync::Arc;
use wijk_consensus::{BlockRef, Input, Message, VoteKind};
use wijk_primitives::{closing_block_hash, epoch_of_view, Hash};
use wijk_runtime::Block;

/// What a gossip message gives the replica running `epoch`: its inputs, in order, and the
/// proposed block it carries with its hash (kept until the replica asks to verify it).
///
/// Votes and certificates of another epoch are signed by another validator set: a quorum
/// of the old set (removed validators included) must never finalize a block of the new
/// epoch here, nor the other way round. So a message whose vote is of another epoch gives
/// nothing, and a proposal's justification loses its certificates of another epoch. A
/// node behind by an epoch catches up by sync, which checks each block against the set in
/// its state.
pub(super) fn gossip_inputs(
    gossip: ConsensusGossip,
    epoch: u64,
) -> (Vec<Input>, Option<(Hash, Arc<Block>)>) {
    let other_epoch = |view: u64| epoch_of_view(view) != epoch;
    let vote_view = match &gossip {
        ConsensusGossip::Message(Message::Vote(vote)) => vote.vote.view,
        ConsensusGossip::Message(Message::Certificate(certificate)) => certificate.vote.view,
        ConsensusGossip::Proposal { vote, .. } | ConsensusGossip::ClosingProposal { vote, .. } => {
            vote.vote.view
        }
    };
    if other_epoch(vote_view) {
        tracing::trace!(target: "consensus", epoch, "message of another epoch dropped");
        return (Vec::new(), None);
    }
    // A proposal: the certificates of this epoch that justify it, then the leader's vote.
    let proposal = |vote, justification: Vec<wijk_consensus::Certificate>| {
        justification
            .into_iter()
            .filter(|certificate| !other_epoch(certificate.vote.view))
            .map(|certificate| Input::Message(Message::Certificate(certificate)))
            .chain([Input::Message(Message::Vote(vote))])
            .collect::<Vec<_>>()
    };
    match gossip {
        ConsensusGossip::Message(message) => (vec![Input::Message(message)], None),
        ConsensusGossip::Proposal {
            vote,
            block,
            justification,
        } => {
            let VoteKind::Notarize { block: named, .. } = vote.vote.kind else {
                return (Vec::new(), None);
            };
            if named != block_ref(&block.header) {
                tracing::debug!(target: "consensus", "proposal whose block is not the one its vote names; dropped");
                return (Vec::new(), None);
            }
            (
                proposal(vote, justification),
                Some((named.hash, Arc::new(*block))),
            )
        }
        ConsensusGossip::ClosingProposal {
            vote,
            justification,
        } => (proposal(vote, justification), None),
    }
}

/// `blocks` (consecutive, ascending) without the closing blocks among them: those known
/// here (with their epoch's last block, in `closing`), and any block whose hash is the
/// closing hash of the last real block before it.
pub(super) fn without_closing_blocks(
    blocks: Vec<BlockRef>,
    closing: &HashMap<Hash, Hash>,
) -> Vec<BlockRef> {
    let mut last_real = blocks.first().map(|b| b.parent).unwrap_or_default();
    if let Some(last) = closing.get(&last_real) {
        last_real = *last;
    }
    blocks
        .into_iter()
        .filter(|block| {
            if closing.contains_key(&block.hash)
                || block.hash == closing_block_hash(last_real, block.height)
            {
                return false;
            }
            last_real = block.hash;
            true
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::gossip_inputs;
    use crate::protocol::ConsensusGossip;
    use wijk_consensus::{BlockRef, Certificate, Input, Message, Vote, VoteKind};
    use wijk_primitives::{epoch_base_view, Hash, Keypair};

    #[test]
    fn votes_and_certificates_of_another_epoch_give_the_replica_nothing() {
        let key = Keypair::dev("Alice");
        let genesis = Hash([7; 32]);
        let block = BlockRef {
            hash: Hash([1; 32]),
            height: 10,
            parent: Hash([2; 32]),
        };
        let notarize = |view| {
            Vote {
                view,
                kind: VoteKind::Notarize {
                    block,
                    parent_view: view - 1,
                },
            }
            .sign(&key, genesis)
        };
        let nullification = |view| Certificate {
            vote: Vote {
                view,
                kind: VoteKind::Nullify,
            },
            signatures: Vec::new(),
        };
        let (old, new) = (epoch_base_view(1) + 5, epoch_base_view(2) + 5);
        // Epoch 2 runs: a vote or certificate of epoch 1 is dropped, one of epoch 2 passes.
        for (view, passes) in [(old, false), (new, true)] {
            let vote = ConsensusGossip::Message(Message::Vote(notarize(view)));
            assert_eq!(gossip_inputs(vote, 2).0.len(), usize::from(passes));
            let certificate = ConsensusGossip::Message(Message::Certificate(nullification(view)));
            assert_eq!(gossip_inputs(certificate, 2).0.len(), usize::from(passes));
        }
        // A proposal of this epoch keeps only the certificates of this epoch that justify
        // it; its vote comes last.
        let proposal = ConsensusGossip::ClosingProposal {
            vote: notarize(new),
            justification: vec![nullification(old), nullification(new - 1)],
        };
        let (inputs, block) = gossip_inputs(proposal, 2);
        assert!(block.is_none());
        assert_eq!(
            inputs,
            vec![
                Input::Message(Message::Certificate(nullification(new - 1))),
                Input::Message(Message::Vote(notarize(new))),
            ]
        );
        // A proposal of another epoch gives nothing, whatever justifies it.
        let proposal = ConsensusGossip::ClosingProposal {
            vote: notarize(old),
            justification: vec![nullification(old - 1)],
        };
        assert!(gossip_inputs(proposal, 2).0.is_empty());
    }
}
