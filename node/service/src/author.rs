//! The validator actor: drives the BFT [`Replica`] and carries out its effects - logs each
//! vote (synced) before it is sent, builds blocks from the pool when this validator leads
//! a view, executes proposals on their (possibly not yet final) parents, commits what
//! becomes final, and announces it.
//!
//! Blocks built or verified but not final yet are kept in memory; a proposal on top of one
//! executes through [`StagedState`] layers, so the database only ever holds final blocks.

use crate::node::ServiceError;
use parity_scale_codec::Encode;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, watch};
use wijk_consensus::{BlockRef, Config, Effect, Input, Message, Replica, Restart, Vote};
use wijk_primitives::{
    decode_bounded, AccountId, FinalityCertificate, Hash, Header, Keypair, SigningContext,
    TimestampMs,
};
use wijk_runtime::{build_block, Block, BuiltBlock, ExecutedBlock, StagedBlock, StagedState};
use wijk_storage::{CommittedBlock, Storage};
use wijk_txpool::PoolMailbox;

/// What the validator actor needs.
pub struct AuthorContext {
    /// The database.
    pub storage: Arc<Storage>,
    /// The pool.
    pub pool: PoolMailbox,
    /// Where to announce committed blocks.
    pub committed: broadcast::Sender<CommittedBlock>,
    /// The validator key.
    pub key: Keypair,
    /// The validator set, in leader order.
    pub validators: Vec<AccountId>,
    /// The chain's signing context.
    pub signing: SigningContext,
    /// Target time between blocks.
    pub block_time_ms: u64,
    /// Set to true to stop.
    pub shutdown: watch::Receiver<bool>,
}

/// How long a view may take before a validator votes to skip it: several block times, and
/// never less than a second (building and executing a full block takes time).
pub fn view_timeout_ms(block_time_ms: u64) -> u64 {
    block_time_ms.saturating_mul(3).max(1_000)
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

/// A block built or verified here, not final yet.
struct Pending {
    block: Block,
    executed: ExecutedBlock,
}

/// Where the replica restarts: the last final block, the view that finalized it, and
/// every vote logged since.
fn restart_point(storage: &Storage) -> Result<Restart, ServiceError> {
    let head = storage
        .best_header()?
        .ok_or_else(|| fatal("no genesis in storage"))?;
    let finalized_view = storage.certificate(head.height)?.map_or(0, |c| c.view);
    let signed_votes = storage
        .logged_votes()?
        .iter()
        .map(|bytes| decode_bounded::<Vote>("logged vote", bytes, 4096))
        .collect::<Result<_, _>>()
        .map_err(|error| fatal(format!("the vote log is corrupt: {error}")))?;
    Ok(Restart {
        finalized: block_ref(&head),
        finalized_view,
        signed_votes,
    })
}

fn block_ref(header: &Header) -> BlockRef {
    BlockRef {
        hash: header.hash(),
        height: header.height,
        parent: header.parent_hash,
    }
}

/// Runs until shutdown or an unrecoverable error.
pub async fn run(mut ctx: AuthorContext) -> Result<(), ServiceError> {
    let restart = restart_point(&ctx.storage)?;
    tracing::info!(
        target: "consensus",
        "validator {:?} resumes after block #{} (view {}), {} validators, {} logged votes",
        ctx.key.account_id(),
        restart.finalized.height,
        restart.finalized_view,
        ctx.validators.len(),
        restart.signed_votes.len()
    );
    let mut replica = Replica::new(
        Config {
            genesis_hash: ctx.signing.genesis_hash,
            validators: ctx.validators.clone(),
            key: Some(ctx.key.clone()),
            view_timeout_ms: view_timeout_ms(ctx.block_time_ms),
        },
        restart,
    );
    let mut pending: BTreeMap<Hash, Arc<Pending>> = BTreeMap::new();
    let mut inputs = VecDeque::from([Input::Tick { now_ms: now_ms() }]);
    let mut next_tick_ms: Option<TimestampMs> = None;
    let mut next_slot_ms: TimestampMs = 0;
    loop {
        while let Some(input) = inputs.pop_front() {
            for effect in replica.on_input(input) {
                if *ctx.shutdown.borrow() {
                    return Ok(());
                }
                match effect {
                    Effect::ScheduleTick { at_ms } => next_tick_ms = Some(at_ms),
                    Effect::PersistVote(vote) => {
                        let storage = ctx.storage.clone();
                        tokio::task::spawn_blocking(move || {
                            storage.log_vote(vote.view, &vote.encode())
                        })
                        .await
                        .map_err(fatal)??;
                    }
                    Effect::Broadcast(message) => broadcast_to_peers(&message),
                    Effect::BuildBlock {
                        view,
                        parent,
                        parent_view: _,
                    } => {
                        // Pace blocks: one per block time at most.
                        let wait = next_slot_ms.saturating_sub(now_ms());
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                            _ = ctx.shutdown.changed() => return Ok(()),
                        }
                        let timestamp_ms = now_ms();
                        next_slot_ms = timestamp_ms + ctx.block_time_ms;
                        match build(&ctx, &pending, parent, timestamp_ms).await {
                            Ok(built) => {
                                for (hash, reason) in &built.rejected {
                                    tracing::debug!(target: "consensus", %hash, %reason, "left out of the block");
                                }
                                let block = block_ref(&built.block.header);
                                pending.insert(
                                    block.hash,
                                    Arc::new(Pending {
                                        block: built.block,
                                        executed: built.executed,
                                    }),
                                );
                                inputs.push_back(Input::Built { view, block });
                            }
                            // No answer: the view times out and the next leader tries.
                            Err(reason) => {
                                tracing::error!(target: "consensus", view, %reason, "building failed")
                            }
                        }
                    }
                    Effect::VerifyBlock { view, block } => {
                        // Proposals from other validators arrive with the network; a
                        // block built here is valid by construction.
                        if pending.contains_key(&block.hash) {
                            inputs.push_back(Input::Verified {
                                view,
                                block,
                                valid: true,
                            });
                        } else {
                            tracing::warn!(target: "consensus", view, hash = %block.hash, "proposal without its block; the view will time out");
                        }
                    }
                    Effect::Finalized {
                        blocks,
                        certificate,
                    } => {
                        let [block] = blocks.as_slice() else {
                            return Err(fatal(format!(
                                "{} blocks finalized through one certificate; committing ancestors without their own certificate is not supported yet",
                                blocks.len()
                            )));
                        };
                        let Some(finished) = pending.remove(&block.hash) else {
                            return Err(fatal(format!(
                                "block {} is final but was never executed here",
                                block.hash
                            )));
                        };
                        commit(&ctx, finished, certificate).await?;
                        pending.retain(|_, p| p.block.header.height > block.height);
                    }
                    Effect::NeedAncestors { tip, .. } => {
                        tracing::warn!(target: "consensus", hash = %tip.hash, height = tip.height, "final block with unknown ancestors; block sync comes with the network");
                    }
                    Effect::Evidence { first, second } => {
                        tracing::warn!(target: "consensus", signer = ?first.signer, view = first.vote.view, ?first, ?second, "validator signed conflicting votes");
                    }
                    Effect::Halt { reason } => return Err(fatal(reason)),
                }
            }
        }
        let wait = next_tick_ms.map_or(Duration::from_secs(1), |at| {
            Duration::from_millis(at.saturating_sub(now_ms()))
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => inputs.push_back(Input::Tick { now_ms: now_ms() }),
            _ = ctx.shutdown.changed() => return Ok(()),
        }
    }
}

/// Sends a consensus message to the other validators. A single-validator chain has none;
/// the validator network plugs in here.
fn broadcast_to_peers(message: &Message) {
    tracing::trace!(target: "consensus", ?message, "no peers to send to");
}

/// The not-yet-final blocks from the finalized head up to `parent`, oldest first.
fn ancestry(pending: &BTreeMap<Hash, Arc<Pending>>, parent: BlockRef) -> Vec<Arc<Pending>> {
    let mut chain = Vec::new();
    let mut cursor = parent.hash;
    while let Some(block) = pending.get(&cursor) {
        chain.push(block.clone());
        cursor = block.block.header.parent_hash;
    }
    chain.reverse();
    chain
}

async fn build(
    ctx: &AuthorContext,
    pending: &BTreeMap<Hash, Arc<Pending>>,
    parent: BlockRef,
    timestamp_ms: TimestampMs,
) -> Result<BuiltBlock, String> {
    let candidates = ctx
        .pool
        .candidates(wijk_runtime::MAX_BLOCK_TRANSACTIONS)
        .await
        .map_err(|e| e.to_string())?;
    let storage = ctx.storage.clone();
    let proposer = ctx.key.account_id();
    let layers = ancestry(pending, parent);
    tokio::task::spawn_blocking(move || {
        let parent_header = match layers.last() {
            Some(layer) => layer.block.header.clone(),
            None => storage
                .best_header()
                .map_err(|e| e.to_string())?
                .ok_or("no genesis in storage")?,
        };
        if parent_header.hash() != parent.hash {
            return Err(format!(
                "asked to build on {}, which is neither final nor pending here",
                parent.hash
            ));
        }
        let mut state = StagedState::new(storage.as_ref());
        for layer in &layers {
            state.push(StagedBlock {
                height: layer.block.header.height,
                executed: &layer.executed,
            });
        }
        build_block(
            &state,
            &state,
            &parent_header,
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
    finished: Arc<Pending>,
    certificate: FinalityCertificate,
) -> Result<(), ServiceError> {
    let storage = ctx.storage.clone();
    let header = finished.block.header.clone();
    let tx_hashes: Vec<_> = finished
        .block
        .transactions
        .iter()
        .map(|tx| tx.hash())
        .collect();
    tokio::task::spawn_blocking(move || {
        storage.commit_block(&finished.block, &finished.executed, &certificate)
    })
    .await
    .map_err(fatal)?
    .map_err(fatal)?;
    tracing::info!(
        target: "consensus",
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
