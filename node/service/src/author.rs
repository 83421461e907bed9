//! The author actor: carries out the consensus state machine's effects - builds blocks
//! from the pool, signs the finality vote, commits, and announces the result.

use crate::node::ServiceError;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, watch};
use wijk_consensus::{Effect, Input, SoloAuthority};
use wijk_primitives::{FinalityCertificate, Keypair, SigningContext, TimestampMs};
use wijk_runtime::{build_block, BuiltBlock, MAX_BLOCK_TRANSACTIONS};
use wijk_storage::{CommittedBlock, Storage};
use wijk_txpool::PoolMailbox;

/// What the author needs.
pub struct AuthorContext {
    /// The database.
    pub storage: Arc<Storage>,
    /// The pool.
    pub pool: PoolMailbox,
    /// Where to announce committed blocks.
    pub committed: broadcast::Sender<CommittedBlock>,
    /// The validator key.
    pub key: Keypair,
    /// The chain's signing context.
    pub signing: SigningContext,
    /// Target block time.
    pub block_time_ms: u64,
    /// Set to true to stop.
    pub shutdown: watch::Receiver<bool>,
}

fn now_ms() -> TimestampMs {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as TimestampMs)
        .unwrap_or(0)
}

fn fatal(reason: impl std::fmt::Display) -> ServiceError {
    ServiceError::Author {
        reason: reason.to_string(),
    }
}

/// Runs until shutdown or an unrecoverable storage error.
pub async fn run(mut ctx: AuthorContext) -> Result<(), ServiceError> {
    let finalized = ctx.storage.finalized_height().map_err(fatal)?.unwrap_or(0);
    let mut consensus = SoloAuthority::new(finalized, ctx.block_time_ms);
    let mut inputs = vec![Input::Tick { now_ms: now_ms() }];
    let mut built: Option<BuiltBlock> = None;
    loop {
        let Some(input) = inputs.pop() else {
            // Consensus asked for nothing (a stale input): check again after a slot.
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(ctx.block_time_ms)) => {
                    inputs.push(Input::Tick { now_ms: now_ms() });
                    continue;
                }
                _ = ctx.shutdown.changed() => return Ok(()),
            }
        };
        for effect in consensus.on_input(input) {
            match effect {
                Effect::ScheduleTick { at_ms } => {
                    let wait = Duration::from_millis(at_ms.saturating_sub(now_ms()));
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => inputs.push(Input::Tick { now_ms: now_ms() }),
                        _ = ctx.shutdown.changed() => return Ok(()),
                    }
                }
                Effect::BuildBlock {
                    height,
                    timestamp_ms,
                } => {
                    if *ctx.shutdown.borrow() {
                        return Ok(());
                    }
                    match build(&ctx, timestamp_ms).await {
                        Ok(block) => {
                            inputs.push(Input::BlockBuilt {
                                height,
                                block_hash: block.block.header.hash(),
                            });
                            built = Some(block);
                        }
                        Err(reason) => {
                            tracing::error!(target: "author", height, %reason, "building failed; retrying next slot");
                            inputs.push(Input::BuildFailed { height });
                        }
                    }
                }
                Effect::FinalizeAndCommit {
                    height,
                    view,
                    block_hash,
                } => {
                    let Some(block) = built.take() else {
                        return Err(fatal("asked to commit a block that was not built"));
                    };
                    let certificate = FinalityCertificate::sign_single(
                        &ctx.key,
                        ctx.signing.genesis_hash,
                        height,
                        view,
                        block_hash,
                    );
                    commit(&ctx, block, certificate).await?;
                    inputs.push(Input::Committed { height });
                }
            }
        }
    }
}

async fn build(ctx: &AuthorContext, timestamp_ms: TimestampMs) -> Result<BuiltBlock, String> {
    let candidates = ctx
        .pool
        .candidates(MAX_BLOCK_TRANSACTIONS)
        .await
        .map_err(|e| e.to_string())?;
    let storage = ctx.storage.clone();
    let proposer = ctx.key.account_id();
    tokio::task::spawn_blocking(move || {
        let parent = storage
            .best_header()
            .map_err(|e| e.to_string())?
            .ok_or("no genesis in storage")?;
        build_block(
            storage.as_ref(),
            storage.as_ref(),
            &parent,
            timestamp_ms,
            proposer,
            candidates,
        )
        .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

async fn commit(
    ctx: &AuthorContext,
    built: BuiltBlock,
    certificate: FinalityCertificate,
) -> Result<(), ServiceError> {
    let storage = ctx.storage.clone();
    let BuiltBlock {
        block,
        executed,
        rejected,
    } = built;
    let header = block.header.clone();
    let tx_hashes: Vec<_> = block.transactions.iter().map(|tx| tx.hash()).collect();
    tokio::task::spawn_blocking(move || storage.commit_block(&block, &executed, &certificate))
        .await
        .map_err(fatal)?
        .map_err(fatal)?;
    for (hash, reason) in &rejected {
        tracing::debug!(target: "author", %hash, %reason, "left out of the block");
    }
    tracing::info!(
        target: "author",
        "finalized #{} {} with {} transactions",
        header.height,
        header.hash(),
        tx_hashes.len()
    );
    // A closed pool means we are shutting down; nothing to do.
    let _ = ctx
        .pool
        .block_committed(header.height, tx_hashes.clone())
        .await;
    let _ = ctx.committed.send(CommittedBlock { header, tx_hashes });
    Ok(())
}
