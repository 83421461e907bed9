//! Executing a received block on its parent (final, or pending here), off the voter: every
//! signature checked (skipping those the pool already checked), every root compared.

use super::{staged_on, ConsensusError, Pending, Rejection};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;
use wijk_primitives::{KeyCache, SigningContext};
use wijk_rpc::NodeStatus;
use wijk_runtime::{
    check_signatures_skipping, execute_checked_block, Block, CheckedSignatures, ExecutedBlock,
};
use wijk_storage::Storage;

/// What executing a block needs.
pub(super) struct Execution {
    pub(super) storage: Arc<Storage>,
    /// The pending blocks from the final head up to the block's parent, oldest first.
    pub(super) layers: Vec<Arc<Pending>>,
    pub(super) block: Arc<Block>,
    pub(super) signing: SigningContext,
    pub(super) keys: Arc<KeyCache>,
    pub(super) checked: Arc<CheckedSignatures>,
    /// The epoch the replica runs: a block of another epoch is not for it.
    pub(super) epoch: u64,
    pub(super) status: Arc<NodeStatus>,
}

/// Executes the block: `Ok(Err(_))` when it is not one to vote for.
pub(super) async fn execute(
    job: Execution,
) -> Result<Result<ExecutedBlock, Rejection>, ConsensusError> {
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let (state, parent) = staged_on(&job.storage, &job.layers)?;
        let height = parent.height + 1;
        let (block_epoch, _) = wijk_validators::set_for_height(&state, height)?;
        if block_epoch != job.epoch {
            return Ok(Err(Rejection::OtherEpoch {
                height,
                block_epoch,
                epoch: job.epoch,
            }));
        }
        let checked = match check_signatures_skipping(
            &job.block,
            &job.signing,
            Some(&job.keys),
            Some(&job.checked),
        ) {
            Ok(checked) => checked,
            Err(error) => return Ok(Err(error.into())),
        };
        let executed =
            execute_checked_block(&state, &state, &parent, &job.block, &job.signing, checked);
        job.status
            .import_micros
            .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
        Ok(executed.map_err(Rejection::from))
    })
    .await?
}
