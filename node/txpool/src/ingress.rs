//! The pool's mailbox: the messages other components send it, and its events.

use crate::state::{Source, SubmitError};
use std::collections::HashMap;
use tokio::sync::{broadcast, mpsc, oneshot};
use wijk_primitives::{AccountId, Hash, Height};
use wijk_runtime::VerifiedTransaction;
use wijk_support::StateError;

/// Transactions to check and admit.
pub(crate) struct Submission {
    pub transactions: Vec<Vec<u8>>,
    /// Submitted to this node, or received from a peer (already gossiped).
    pub source: Source,
    /// One verdict per transaction, in order; `None` when nobody waits for them (a peer's
    /// gossip: the pool logs refusals itself).
    pub reply: Option<oneshot::Sender<Vec<Result<Hash, SubmitError>>>>,
}

/// Messages to the pool actor other than submissions; served before any waiting
/// submission, so block production never queues behind a flood of gossip.
pub(crate) enum PoolMessage {
    Candidates {
        limit: usize,
        pending_next: HashMap<AccountId, u64>,
        reply: oneshot::Sender<Vec<VerifiedTransaction>>,
    },
    BlockCommitted {
        height: Height,
        included: Vec<Hash>,
        signers: Vec<AccountId>,
    },
    Status {
        reply: oneshot::Sender<PoolStatus>,
    },
    NextNonce {
        account: AccountId,
        reply: oneshot::Sender<Result<u64, StateError>>,
    },
}

/// What the pool announces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PoolEvent {
    /// A transaction submitted to this node (not received from a peer) was admitted:
    /// the network gossips it to the other pools.
    AdmittedLocally {
        /// Its hash.
        hash: Hash,
        /// Its encoding.
        bytes: std::sync::Arc<[u8]>,
    },
    /// A pooled transaction was dropped without being included.
    Dropped {
        /// Which.
        hash: Hash,
        /// Why: it can never be included any more.
        reason: wijk_runtime::InvalidTransaction,
    },
}

/// Size of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PoolStatus {
    /// Transactions held.
    pub count: usize,
    /// Bytes held.
    pub bytes: usize,
}

/// Why the pool could not be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the transaction pool is shutting down")]
pub struct PoolUnavailable;

/// A handle to the pool actor; cheap to clone.
#[derive(Clone)]
pub struct PoolMailbox {
    pub(crate) sender: mpsc::Sender<PoolMessage>,
    pub(crate) submissions: mpsc::Sender<Submission>,
    pub(crate) events: broadcast::Sender<PoolEvent>,
    pub(crate) checked: std::sync::Arc<wijk_runtime::CheckedSignatures>,
}

impl PoolMailbox {
    /// The signatures this pool has checked, for skipping them when a block carries them.
    pub fn checked_signatures(&self) -> std::sync::Arc<wijk_runtime::CheckedSignatures> {
        self.checked.clone()
    }

    /// Submits an encoded transaction; resolves once it is admitted or refused.
    pub async fn submit(
        &self,
        bytes: Vec<u8>,
    ) -> Result<Result<Hash, SubmitError>, PoolUnavailable> {
        let mut verdicts = self.submit_batch(vec![bytes]).await?;
        verdicts.pop().ok_or(PoolUnavailable)
    }

    /// Submits several encoded transactions (their signatures are checked together);
    /// resolves with one verdict per transaction, in order.
    pub async fn submit_batch(
        &self,
        transactions: Vec<Vec<u8>>,
    ) -> Result<Vec<Result<Hash, SubmitError>>, PoolUnavailable> {
        let (reply, answer) = oneshot::channel();
        self.submissions
            .send(Submission {
                transactions,
                source: Source::Local,
                reply: Some(reply),
            })
            .await
            .map_err(|_| PoolUnavailable)?;
        answer.await.map_err(|_| PoolUnavailable)
    }

    /// Queues a batch of transactions a peer gossiped (not announced again), waiting only
    /// for room in the mailbox: the next batch can be queued while this one is checked, so
    /// the pool finds several waiting and checks their signatures together.
    pub async fn submit_from_peer(
        &self,
        transactions: Vec<Vec<u8>>,
    ) -> Result<(), PoolUnavailable> {
        self.submissions
            .send(Submission {
                transactions,
                source: Source::Peer,
                reply: None,
            })
            .await
            .map_err(|_| PoolUnavailable)
    }

    /// Candidates for the next block; `pending_next` holds the next nonce of each account
    /// that signed in the not-yet-final blocks it builds on (see [`crate::Pool::candidates`]).
    pub async fn candidates(
        &self,
        limit: usize,
        pending_next: HashMap<AccountId, u64>,
    ) -> Result<Vec<VerifiedTransaction>, PoolUnavailable> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(PoolMessage::Candidates {
                limit,
                pending_next,
                reply,
            })
            .await
            .map_err(|_| PoolUnavailable)?;
        answer.await.map_err(|_| PoolUnavailable)
    }

    /// Tells the pool blocks were committed, up to `height`: the hashes of their
    /// transactions, and the signers of those transactions (whose nonces moved).
    pub async fn block_committed(
        &self,
        height: Height,
        included: Vec<Hash>,
        signers: Vec<AccountId>,
    ) -> Result<(), PoolUnavailable> {
        self.sender
            .send(PoolMessage::BlockCommitted {
                height,
                included,
                signers,
            })
            .await
            .map_err(|_| PoolUnavailable)
    }

    /// The nonce `account`'s next transaction should carry, counting its transactions
    /// waiting in this pool (see [`crate::Pool::next_nonce`]).
    pub async fn next_nonce(
        &self,
        account: AccountId,
    ) -> Result<Result<u64, StateError>, PoolUnavailable> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(PoolMessage::NextNonce { account, reply })
            .await
            .map_err(|_| PoolUnavailable)?;
        answer.await.map_err(|_| PoolUnavailable)
    }

    /// Current size.
    pub async fn status(&self) -> Result<PoolStatus, PoolUnavailable> {
        let (reply, answer) = oneshot::channel();
        self.sender
            .send(PoolMessage::Status { reply })
            .await
            .map_err(|_| PoolUnavailable)?;
        answer.await.map_err(|_| PoolUnavailable)
    }

    /// Subscribes to pool events.
    pub fn events(&self) -> broadcast::Receiver<PoolEvent> {
        self.events.subscribe()
    }
}
