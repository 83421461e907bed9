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
/// Most transactions checked in one batch verification: waiting submissions are gathered
/// up to this many (the batch is checked before any of them is answered).
const MAX_GATHERED: usize = 512;
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
        // A message taken from the mailbox while gathering submissions, handled next.
        let mut held: Option<PoolMessage> = None;
        loop {
            let message = match held.take() {
                Some(message) => message,
                None => match receiver.recv().await {
                    Some(message) => message,
                    None => break,
                },
            };
            match message {
                PoolMessage::Submit {
                    transactions,
                    from_peer,
                    reply,
                } => {
                    // Submissions waiting in the mailbox (RPC calls arrive one at a time)
                    // are checked together: one batch verification for all of them.
                    let mut submissions = vec![(transactions, from_peer, reply)];
                    let mut gathered = submissions[0].0.len();
                    while gathered < MAX_GATHERED {
                        match receiver.try_recv() {
                            Ok(PoolMessage::Submit {
                                transactions,
                                from_peer,
                                reply,
                            }) => {
                                gathered += transactions.len();
                                submissions.push((transactions, from_peer, reply));
                            }
                            Ok(other) => {
                                held = Some(other);
                                break;
                            }
                            Err(_) => break,
                        }
                    }
                    let all: Vec<&[u8]> = submissions
                        .iter()
                        .flat_map(|(transactions, _, _)| transactions.iter().map(Vec::as_slice))
                        .collect();
                    let mut verdicts = pool
                        .submit_many(&all, state.as_ref(), &signing, next_height)
                        .into_iter();
                    for (transactions, from_peer, reply) in submissions {
                        let mut answer = Vec::with_capacity(transactions.len());
                        for (bytes, verdict) in transactions.into_iter().zip(verdicts.by_ref()) {
                            match &verdict {
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
                            answer.push(verdict);
                        }
                        let _ = reply.send(answer);
                    }
                }
                PoolMessage::Candidates { limit, reply } => {
                    let candidates = pool.candidates(limit, state.as_ref()).unwrap_or_else(|error| {
                        tracing::error!(target: "txpool", %error, "cannot read state for candidates");
                        Vec::new()
                    });
                    let _ = reply.send(candidates);
                }
                PoolMessage::BlockCommitted {
                    height,
                    included,
                    signers,
                } => {
                    next_height = height + 1;
                    match pool.prune(&included, &signers, state.as_ref(), next_height) {
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
