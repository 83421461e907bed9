//! What nodes say to each other over the network: consensus gossip (votes, certificates,
//! and proposals that carry their block), transaction batches, and block sync requests.
//!
//! Every message is SCALE-encoded and decoded with a size limit; nothing decoded here is
//! trusted - consensus checks signatures, import re-executes and checks certificates.

use parity_scale_codec::{Decode, Encode};
use wijk_consensus::{Certificate, Message, SignedVote};
use wijk_primitives::{FinalityCertificate, Hash, Height};
use wijk_runtime::Block;

/// Most blocks in one sync answer (and at most [`MAX_SYNC_ANSWER_BYTES`]).
pub const MAX_BLOCKS_PER_ANSWER: u32 = 64;
/// A sync answer stops growing once it passes this size.
pub const MAX_SYNC_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// Most transactions in one gossiped batch.
pub const MAX_TRANSACTIONS_PER_BATCH: usize = 1_024;

/// Gossip on the consensus topic.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum ConsensusGossip {
    /// A vote or certificate.
    #[codec(index = 0)]
    Message(Message),
    /// A leader's proposal: its notarize vote, the block, and the certificates that show
    /// the block's parent is the one it must extend (the parent's notarization or
    /// finalization, and the nullification of every view skipped since), so a validator
    /// that missed those views can still check and vote.
    #[codec(index = 1)]
    Proposal {
        /// The leader's notarize vote.
        vote: SignedVote,
        /// The proposed block.
        block: Box<Block>,
        /// Why its parent is the right one.
        justification: Vec<Certificate>,
    },
    /// A leader's proposal of a closing block (after the last block of a validator set's
    /// epoch, so the old set can still finalize that block): it has no body, its hash is
    /// derived ([`wijk_primitives::closing_block_hash`]).
    #[codec(index = 2)]
    ClosingProposal {
        /// The leader's notarize vote.
        vote: SignedVote,
        /// Why its parent is the right one.
        justification: Vec<Certificate>,
    },
}

/// A block sync request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum SyncRequest {
    /// The peer's finalized head.
    #[codec(index = 0)]
    Status,
    /// Finalized blocks with their certificates, ascending from `from`.
    #[codec(index = 1)]
    Finalized {
        /// The first height wanted.
        from: Height,
        /// At most this many (the peer may send fewer).
        max_blocks: u32,
    },
    /// One block by hash, final or not yet (a proposal's parent, say).
    #[codec(index = 2)]
    Block {
        /// Its hash.
        hash: Hash,
    },
}

/// The answer to a [`SyncRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum SyncResponse {
    /// The peer's finalized head.
    #[codec(index = 0)]
    Status {
        /// Its height.
        height: Height,
        /// Its hash.
        hash: Hash,
    },
    /// Finalized blocks, each with the certificate that made it final.
    #[codec(index = 1)]
    Finalized(Vec<(Block, FinalityCertificate)>),
    /// The block asked for, if the peer has it.
    #[codec(index = 2)]
    Block(Option<Block>),
}
