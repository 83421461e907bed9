//! The pool actor: owns the [`Pool`] and serves its mailbox.

use crate::ingress::{PoolEvent, PoolMailbox, PoolMessage, PoolStatus};
use crate::state::{Pool, PoolConfig};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};
use wijk_primitives::{Height, SigningContext};
use wijk_runtime::CheckedSignatures;
use wijk_support::StateRead;

/// Mailbox capacity: submitters wait (backpressure) rather than grow memory.
const MAILBOX_CAPACITY: usize = 1_024;
/// Checked signatures remembered (32 bytes each, about 10 MiB with the set's overhead).
const CHECKED_SIGNATURES: usize = 200_000;

/// Starts the pool actor on the current tokio runtime. `next_height` is the height of the
/// next block at start.
pub fn spawn(
    config: PoolConfig,
    state: Arc<dyn StateRead + Send + Sync>,
    signing: SigningContext,
    next_height: Height,
) -> PoolMailbox {
    let (sender, mut receiver) = mpsc::channel(MAILBOX_CAPACITY);
    let (events, _) = broadcast::channel(4_096);
    let checked = Arc::new(CheckedSignatures::new(signing, CHECKED_SIGNATURES));
    let mailbox = PoolMailbox {
        sender,
        events: events.clone(),
        checked: checked.clone(),
    };
    tokio::spawn(async move {
        let mut pool = Pool::new(config).remembering(checked);
        let mut next_height = next_height;
        while let Some(message) = receiver.recv().await {
            match message {
                PoolMessage::Submit {
                    bytes,
                    from_peer,
                    reply,
                } => {
                    let result = pool.submit(&bytes, state.as_ref(), &signing, next_height);
                    match &result {
                        Err(error) => {
                            tracing::debug!(target: "txpool", %error, "transaction refused")
                        }
                        Ok(hash) if !from_peer => {
                            // Nobody listening (no network) is fine.
                            let _ = events.send(PoolEvent::AdmittedLocally {
                                hash: *hash,
                                bytes: bytes.into(),
                            });
                        }
                        Ok(_) => {}
                    }
                    let _ = reply.send(result);
                }
                PoolMessage::Candidates { limit, reply } => {
                    let candidates = pool.candidates(limit, state.as_ref()).unwrap_or_else(|error| {
                        tracing::error!(target: "txpool", %error, "cannot read state for candidates");
                        Vec::new()
                    });
                    let _ = reply.send(candidates);
                }
                PoolMessage::BlockCommitted { height, included } => {
                    next_height = height + 1;
                    match pool.prune(&included, state.as_ref(), next_height) {
                        Ok(dropped) => {
                            for (hash, reason) in dropped {
                                let _ = events.send(PoolEvent::Dropped {
                                    hash,
                                    reason: reason.to_string(),
                                });
                            }
                        }
                        Err(error) => {
                            tracing::error!(target: "txpool", %error, "cannot read state to prune")
                        }
                    }
                }
                PoolMessage::Status { reply } => {
                    let _ = reply.send(PoolStatus {
                        count: pool.len(),
                        bytes: pool.bytes(),
                    });
                }
            }
        }
        tracing::debug!(target: "txpool", "pool actor stopped");
    });
    mailbox
}
