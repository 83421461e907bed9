//! The consensus actor: drives the BFT [`Replica`] and carries out its effects, split by
//! concern in the manner of Commonware's voter, resolver and marshal actors, so that no
//! slow piece of work ever stops the replica from receiving and sending votes:
//!
//! - the **voter** ([`voter`]) owns the replica and the blocks not yet final; it handles
//!   gossip, timers and the answers of the other parts, and does nothing slow itself but
//!   the synced write of each vote it signs (the double-sign protection). It never waits
//!   for a block, a peer or the disk otherwise;
//! - the **builder** ([`builder`]) paces and builds this leader's block from the pool;
//! - the **resolver** ([`resolver`]) fetches a missing block by hash, from every peer at
//!   once (the first good answer wins);
//! - the **executor** ([`executor`]) executes a received block on its parent (final or
//!   not yet final), checking every signature and root;
//! - the **marshal** ([`marshal`]) is the one writer of the database: it commits final
//!   runs of blocks in order, downloads and imports finalized blocks when this node is
//!   behind, and announces what it committed (to RPC subscribers, then to the pool).
//!
//! **A node that is behind** never holds up the others. Missing blocks up to 64 above the
//! head are fetched by hash; a block further ahead (known from its height) goes straight
//! to the marshal's download by height. Asked to lead a view whose parent it has not
//! executed, the validator gives the view up at once (the replica's abdication) instead
//! of letting it run out; views that do run out are counted in
//! `wijk_consensus_view_timeouts_total`. `tests/sync_under_load.rs` shows it with real
//! processes: a validator downloading 80 blocks under load costs the other three no view.
//!
//! Each part answers the voter through one bounded channel. The voter starts at most one
//! build, one fetch per missing block, one execution per block and a bounded number of
//! commits at a time, so the channel never fills with answers.
//!
//! **Gossip that arrives faster than the voter reads it** is dropped at the inbox (counted
//! in `wijk_consensus_messages_dropped_total`), never buffered without bound. That is safe:
//! consensus tolerates message loss by design. A validator repeats its votes and the
//! certificate of its current view every time a view times out, certificates let a lagging
//! validator jump ahead, and a node that missed blocks fetches them or syncs. Loss costs
//! time, never safety. With the voter never blocked on slow work the inbox rarely fills.
//!
//! **Epochs.** The validator set is read from state, not from the spec. When a scheduled
//! change is about to take effect, the old set's chain ends at the block before the
//! activation height: a proposal past it can only be a *closing block* (no body, a derived
//! hash), which lets the old set keep voting until that last block is final. Once it is
//! committed, the voter starts a fresh replica for the new set at the new epoch's base view
//! (see [`wijk_primitives::vote`]); closing blocks are never committed. Votes and
//! certificates of any other epoch are dropped on arrival. After a sync the voter restarts
//! its replica at the new head, the same way.
//!
//! Full nodes run it too, without a key: they never sign, and follow by certificates and
//! sync.

mod builder;
mod evidence;
mod executor;
mod gossip;
mod marshal;
mod resolver;
mod voter;

pub use voter::run;

use crate::protocol::ConsensusGossip;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc, watch};
use wijk_consensus::BlockRef;
use wijk_network::NetworkHandle;
use wijk_primitives::{Hash, Header, Keypair, SigningContext, TimestampMs};
use wijk_rpc::NodeStatus;
use wijk_runtime::{Block, BlockError, ExecutedBlock, StagedBlock, StagedState};
use wijk_storage::{CommittedBlock, Storage, StorageError};
use wijk_txpool::PoolMailbox;

/// What the consensus actor needs.
pub struct ConsensusContext {
    /// The database.
    pub storage: Arc<Storage>,
    /// The pool.
    pub pool: PoolMailbox,
    /// Where to announce committed blocks.
    pub committed: broadcast::Sender<CommittedBlock>,
    /// The validator key; `None` for a full node. A key outside the current validator set
    /// (read from state) signs nothing until a set change brings it in.
    pub key: Option<Keypair>,
    /// The chain's signing context.
    pub signing: SigningContext,
    /// Target time between blocks.
    pub block_time_ms: u64,
    /// Set to true to stop.
    pub shutdown: watch::Receiver<bool>,
    /// The network, if this node has peers.
    pub network: Option<NetworkHandle>,
    /// Consensus gossip from peers.
    pub inbox: mpsc::Receiver<ConsensusGossip>,
    /// Non-final blocks, shared with the network so peers can fetch them.
    pub recent: RecentBlocks,
    /// Progress for RPC and metrics.
    pub status: Arc<NodeStatus>,
}

/// Why the consensus actor stopped: each is a reason to stop the node and tell its operator.
#[derive(Debug, thiserror::Error)]
pub enum ConsensusError {
    /// The database failed (reading state, writing the vote log, committing).
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// Reading state failed.
    #[error("reading state: {0}")]
    State(#[from] wijk_support::StateError),
    /// The database holds no genesis.
    #[error("no genesis in storage")]
    NoGenesis,
    /// The vote log does not decode.
    #[error("the vote log is corrupt: {0}")]
    CorruptVoteLog(wijk_primitives::DecodeLimitError),
    /// A quorum finalized a block this node finds invalid: more than a third of the
    /// validators are faulty, or this node's software differs from theirs.
    #[error("a quorum finalized block {hash} at height {height}, which this node finds invalid: {rejection}")]
    FinalBlockInvalid {
        /// The block.
        hash: Hash,
        /// Its height.
        height: u64,
        /// Why it is invalid here.
        rejection: Box<Rejection>,
    },
    /// A final block differs from the one this node has at that height.
    #[error("block {hash} at height {height} is final, but this node has {ours:?} there")]
    FinalConflict {
        /// The final block.
        hash: Hash,
        /// Its height.
        height: u64,
        /// What this node has.
        ours: Option<Hash>,
    },
    /// The replica halted: a quorum finalized a block conflicting with the final chain.
    #[error("consensus halted: {reason}")]
    Halted {
        /// The replica's words.
        reason: String,
    },
    /// A blocking task panicked.
    #[error("a consensus task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// The node's finalized blocks were committed but a final block was never executed.
    #[error("final block {hash} was not executed before its commit")]
    NotExecuted {
        /// The block.
        hash: Hash,
    },
}

/// Why a proposed block is not one to vote for.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Rejection {
    /// It does not execute: a bad signature, root or rule.
    #[error(transparent)]
    Execution(Box<BlockError>),
    /// It does not extend the final chain.
    #[error(
        "block at height {height} does not extend the final block {final_hash} at {final_height}"
    )]
    DoesNotExtend {
        /// Its height.
        height: u64,
        /// The final block.
        final_hash: Hash,
        /// Its height.
        final_height: u64,
    },
    /// It belongs to another epoch than the one this replica runs.
    #[error("block #{height} belongs to epoch {block_epoch}, not to the running epoch {epoch}")]
    OtherEpoch {
        /// Its height.
        height: u64,
        /// Its epoch.
        block_epoch: u64,
        /// The running one.
        epoch: u64,
    },
    /// It follows the last block of an epoch but is not that block's closing block.
    #[error("block #{height} follows the last block of its validator set's epoch and is not its closing block")]
    NotClosing {
        /// Its height.
        height: u64,
    },
    /// An ancestor is invalid.
    #[error("its ancestor {ancestor} is invalid")]
    InvalidAncestor {
        /// The ancestor.
        ancestor: Hash,
    },
}

impl From<BlockError> for Rejection {
    fn from(error: BlockError) -> Self {
        Rejection::Execution(Box::new(error))
    }
}

/// Blocks executed here but not final yet, readable by the network side to answer peers.
#[derive(Clone, Default)]
pub struct RecentBlocks(Arc<Mutex<HashMap<Hash, Arc<Block>>>>);

impl RecentBlocks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Hash, Arc<Block>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The block with this hash, if it is recent.
    pub fn get(&self, hash: &Hash) -> Option<Arc<Block>> {
        self.lock().get(hash).cloned()
    }
}

/// How long a view may take before a validator votes to skip it: several block times, and
/// never less than two seconds. Building and executing a full block takes time, and under
/// load it grows towards a second on a small machine. A view skipped then throws away the
/// work of every validator on its block, and the next blocks come bigger and slower still.
/// Measured with four validators on two cores: at 5,500 tx/s offered, a one-second timeout
/// collapsed finality to 4,000-4,400 tx/s at 1 block/s; with two seconds it held
/// 5,214 tx/s. (Both figures predate the fix that gives each view its full timeout from
/// when it is entered, so part of that gain was the fix's.) A crashed leader costs this
/// long per view it leads; a syncing one abdicates at once.
pub fn view_timeout_ms(block_time_ms: u64) -> u64 {
    block_time_ms.saturating_mul(3).max(2_000)
}

/// Most transactions a leader puts in one block: ten per millisecond since its parent (far
/// above the pool's steady rate), counting at least one block time and at most two.
///
/// Why it follows the time since the parent: under load blocks come slower than the
/// block time, and a fixed budget then caps throughput at budget x blocks per second
/// while the pool backs up. Why it stops at two block times: every validator must check
/// and execute a block well within a view timeout (a full 20,000-transaction block takes
/// longer than a view on a small machine, and the view is then skipped).
fn block_transaction_budget(block_time_ms: u64, since_parent_ms: u64) -> usize {
    let window_ms = since_parent_ms.clamp(block_time_ms, block_time_ms.saturating_mul(2));
    (window_ms.saturating_mul(10) as usize).clamp(500, wijk_runtime::MAX_BLOCK_TRANSACTIONS)
}

fn now_ms() -> TimestampMs {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as TimestampMs)
        .unwrap_or(0)
}

/// A block built or verified here, not final yet.
pub(crate) struct Pending {
    pub(crate) block: Arc<Block>,
    pub(crate) executed: ExecutedBlock,
}

fn block_ref(header: &Header) -> BlockRef {
    BlockRef {
        hash: header.hash(),
        height: header.height,
        parent: header.parent_hash,
    }
}

/// The state after the last of `layers` (pending blocks above the final head, oldest
/// first), and the header whose post-state it is: where a block is built or executed.
fn staged_on<'a>(
    storage: &'a Storage,
    layers: &'a [Arc<Pending>],
) -> Result<(StagedState<'a, Storage>, Header), ConsensusError> {
    let tip = match layers.last() {
        Some(layer) => layer.block.header.clone(),
        None => storage.best_header()?.ok_or(ConsensusError::NoGenesis)?,
    };
    let mut state = StagedState::new(storage);
    for layer in layers {
        state.push(StagedBlock::executed(
            layer.block.header.height,
            &layer.executed,
        ));
    }
    Ok((state, tip))
}

#[cfg(test)]
mod tests {
    use super::block_transaction_budget;
    use wijk_runtime::MAX_BLOCK_TRANSACTIONS;

    #[test]
    fn a_block_carries_what_arrived_since_its_parent_within_two_block_times() {
        // At least one block time's worth, even right after the parent.
        assert_eq!(block_transaction_budget(250, 0), 2_500);
        assert_eq!(block_transaction_budget(250, 100), 2_500);
        // Blocks that come slower than the block time carry what arrived meanwhile ...
        assert_eq!(block_transaction_budget(250, 400), 4_000);
        // ... up to two block times, so every validator still executes it within a view.
        assert_eq!(block_transaction_budget(250, 60_000), 5_000);
        // Never fewer than 500, never more than a block may hold.
        assert_eq!(block_transaction_budget(10, 10), 500);
        assert_eq!(
            block_transaction_budget(5_000, 5_000),
            MAX_BLOCK_TRANSACTIONS
        );
    }
}
