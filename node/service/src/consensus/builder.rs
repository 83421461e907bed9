//! Building this leader's block, off the voter: paced a block time after its parent, from
//! the pool's candidates the not-yet-final ancestors do not already hold.

use super::{block_transaction_budget, now_ms, staged_on, ConsensusError, Pending};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use wijk_primitives::{AccountId, Hash, SigningContext, TimestampMs};
use wijk_runtime::{build_block, BuiltBlock};
use wijk_storage::Storage;
use wijk_txpool::PoolMailbox;

/// What building a block needs.
pub(super) struct Build {
    pub(super) storage: Arc<Storage>,
    pub(super) pool: PoolMailbox,
    /// The pending blocks from the final head up to the parent, oldest first.
    pub(super) layers: Vec<Arc<Pending>>,
    pub(super) parent: Hash,
    pub(super) parent_timestamp_ms: TimestampMs,
    pub(super) block_time_ms: u64,
    pub(super) proposer: AccountId,
    pub(super) signing: SigningContext,
    pub(super) shutdown: watch::Receiver<bool>,
}

/// Why no block was built.
#[derive(Debug, thiserror::Error)]
pub(super) enum BuildFailure {
    /// The node is stopping.
    #[error("the node is stopping")]
    Stopping,
    /// The pool did not answer (it is stopping).
    #[error("the pool is gone")]
    PoolGone,
    /// The parent is not where it was expected.
    #[error("asked to build on {asked}, which is neither final nor pending here")]
    ParentMissing {
        /// The parent asked for.
        asked: Hash,
    },
    /// Building failed: a state or runtime failure.
    #[error(transparent)]
    Block(Box<wijk_runtime::BlockError>),
    /// Reading the database failed.
    #[error(transparent)]
    Node(Box<ConsensusError>),
}

/// Waits `duration`, or less if the node stops (then `Err`).
pub(super) async fn pause(
    duration: Duration,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), BuildFailure> {
    tokio::select! {
        _ = tokio::time::sleep(duration) => Ok(()),
        _ = shutdown.changed() => Err(BuildFailure::Stopping),
    }
}

/// Builds the block: waits until a block time after the parent, asks the pool for what
/// arrived meanwhile, and builds and executes it.
pub(super) async fn build(mut job: Build) -> Result<BuiltBlock, BuildFailure> {
    // Pace the chain, whoever leads: a block time after the parent.
    let wait = (job.parent_timestamp_ms + job.block_time_ms).saturating_sub(now_ms());
    pause(Duration::from_millis(wait), &mut job.shutdown).await?;
    let timestamp_ms = now_ms().max(job.parent_timestamp_ms + 1);
    // The pool keeps transactions until they are final: tell it which nonces the
    // not-yet-final ancestors used, so it offers only what they do not hold.
    let mut pending_next: HashMap<AccountId, u64> = HashMap::new();
    for layer in &job.layers {
        for transaction in &layer.block.transactions {
            let next = pending_next.entry(transaction.signer).or_default();
            *next = (*next).max(transaction.nonce + 1);
        }
    }
    let budget = block_transaction_budget(
        job.block_time_ms,
        timestamp_ms.saturating_sub(job.parent_timestamp_ms),
    );
    let candidates = job
        .pool
        .candidates(budget, pending_next)
        .await
        .map_err(|_| BuildFailure::PoolGone)?;
    tokio::task::spawn_blocking(move || {
        let (state, parent_header) = staged_on(&job.storage, &job.layers)
            .map_err(|error| BuildFailure::Node(Box::new(error)))?;
        if parent_header.hash() != job.parent {
            return Err(BuildFailure::ParentMissing { asked: job.parent });
        }
        build_block(
            &state,
            &state,
            &parent_header,
            job.signing.genesis_hash,
            timestamp_ms,
            job.proposer,
            candidates,
        )
        .map_err(|error| BuildFailure::Block(Box::new(error)))
    })
    .await
    .map_err(|error| BuildFailure::Node(Box::new(error.into())))?
}
