//! The pool actor: owns the [`Pool`] and serves its mailbox.

use crate::ingress::{PoolEvent, PoolMailbox, PoolMessage, PoolStatus, Submission};
use crate::state::{Pool, PoolConfig, Source};
use std::sync::Arc;
use tokio::sync::{broadcast, mpsc};
use wijk_primitives::{Height, SigningContext, SIGNATURE_BATCH_SIZE};
use wijk_runtime::CheckedSignatures;
use wijk_support::StateRead;

/// Submissions waiting: submitters wait (backpressure) rather than grow memory.
const MAILBOX_CAPACITY: usize = 1_024;
/// Other messages waiting: block production, commits, and the status and next-nonce
/// questions of RPC (served before submissions).
const CONTROL_CAPACITY: usize = 64;
/// Most transactions checked in one batch verification: waiting submissions are gathered
/// up to this many (the batch is checked before any of them is answered).
const MAX_GATHERED: usize = 512;
/// How long a batch short of [`SIGNATURE_BATCH_SIZE`] waits for more submissions: nothing
/// beside a block time, and under load enough for the next gossip batch to arrive.
const GATHER_PATIENCE: std::time::Duration = std::time::Duration::from_millis(3);
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
    let (sender, mut control) = mpsc::channel(CONTROL_CAPACITY);
    let (submissions, mut waiting) = mpsc::channel(MAILBOX_CAPACITY);
    let (events, _) = broadcast::channel(4_096);
    let checked = Arc::new(CheckedSignatures::new(signing, CHECKED_SIGNATURES));
    let mailbox = PoolMailbox {
        sender,
        submissions,
        events: events.clone(),
        checked: checked.clone(),
    };
    tokio::spawn(async move {
        let mut pool = Pool::new(config).remembering(checked);
        let mut next_height = next_height;
        loop {
            tokio::select! {
                biased;
                message = control.recv() => match message {
                    Some(message) => serve(&mut pool, &mut next_height, message, state.as_ref(), &events),
                    None => break,
                },
                first = waiting.recv() => {
                    let Some(first) = first else { break };
                    // Submissions waiting in the mailbox are checked together: one batch
                    // verification for all of them (of a handful it costs almost as much
                    // per signature as one by one, of dozens about half). Short of a full
                    // batch, the next submissions get a moment to arrive: a batch of 256
                    // checks each signature about 15 % faster than one of 100 (measured),
                    // and signatures are a fifth of a validator's work under load.
                    let mut gathered = first.transactions.len();
                    let mut batch = vec![first];
                    let patience_ends = tokio::time::Instant::now() + GATHER_PATIENCE;
                    while gathered < MAX_GATHERED {
                        let next = match waiting.try_recv() {
                            Ok(next) => Some(next),
                            Err(mpsc::error::TryRecvError::Empty) if gathered < SIGNATURE_BATCH_SIZE => {
                                tokio::time::timeout_at(patience_ends, waiting.recv()).await.ok().flatten()
                            }
                            Err(_) => None,
                        };
                        let Some(next) = next else { break };
                        gathered += next.transactions.len();
                        batch.push(next);
                    }
                    admit(&mut pool, batch, state.as_ref(), &signing, next_height, &events);
                }
            }
        }
        tracing::debug!(target: "txpool", "pool actor stopped");
    });
    mailbox
}

/// Checks and admits a batch of submissions, and answers each.
fn admit(
    pool: &mut Pool,
    batch: Vec<Submission>,
    state: &dyn StateRead,
    signing: &SigningContext,
    next_height: Height,
    events: &broadcast::Sender<PoolEvent>,
) {
    let all: Vec<(&[u8], Source)> = batch
        .iter()
        .flat_map(|submission| {
            let source = submission.source;
            submission
                .transactions
                .iter()
                .map(move |bytes| (bytes.as_slice(), source))
        })
        .collect();
    let mut verdicts = pool
        .submit_many(&all, state, signing, next_height)
        .into_iter();
    for submission in batch {
        let mut answer = Vec::with_capacity(submission.transactions.len());
        for (bytes, verdict) in submission.transactions.into_iter().zip(verdicts.by_ref()) {
            match &verdict {
                Err(error) => tracing::debug!(target: "txpool", %error, "transaction refused"),
                Ok(hash) if submission.source == Source::Local => {
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
        if let Some(reply) = submission.reply {
            let _ = reply.send(answer);
        }
    }
}

/// Serves a message other than a submission.
fn serve(
    pool: &mut Pool,
    next_height: &mut Height,
    message: PoolMessage,
    state: &dyn StateRead,
    events: &broadcast::Sender<PoolEvent>,
) {
    match message {
        PoolMessage::Candidates {
            limit,
            pending_next,
            reply,
        } => {
            let candidates = pool
                .candidates(limit, state, &pending_next)
                .unwrap_or_else(|error| {
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
            *next_height = height + 1;
            match pool.prune(&included, &signers, state, *next_height) {
                Ok(dropped) => {
                    for (hash, reason) in dropped {
                        let _ = events.send(PoolEvent::Dropped { hash, reason });
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
        PoolMessage::NextNonce { account, reply } => {
            let _ = reply.send(pool.next_nonce(state, &account));
        }
    }
}
