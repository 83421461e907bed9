//! Pool logic, with no I/O: the actor calls it with committed state.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Arc;
use wijk_primitives::{
    AccountId, DecodeLimitError, Hash, Height, KeyCache, SignatureError, SigningContext,
};
use wijk_runtime::execute::{transactions_cost_limit, validate_transaction};
use wijk_runtime::{
    decode_transaction, transaction_cost, BlockError, CheckedSignatures, DispatchError,
    InvalidTransaction, Transaction, TxOutcome, VerifiedTransaction,
};
use wijk_support::{StateError, StateRead};

/// Limits of the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// Most transactions held.
    pub max_count: usize,
    /// Most encoded bytes held.
    pub max_bytes: usize,
    /// Most transactions of one account held (the per-account rate limit).
    pub max_per_account: usize,
    /// How far ahead of the account's next nonce a transaction may be.
    pub max_nonce_gap: u64,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            max_count: 100_000,
            max_bytes: 64 * 1024 * 1024,
            max_per_account: 1_024,
            max_nonce_gap: 1_024,
        }
    }
}

/// Why a transaction was not admitted. Every variant says what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The bytes are too large or not a transaction.
    #[error(transparent)]
    Decode(#[from] DecodeLimitError),
    /// The signature is not valid for this chain (wrong key, wrong chain or spec version).
    #[error("bad signature: {0}")]
    Signature(#[from] SignatureError),
    /// Nonce already used (replay) or transaction expired.
    #[error(transparent)]
    Invalid(#[from] InvalidTransaction),
    /// The call would fail on the current state (e.g. insufficient funds).
    #[error("the call would fail: {0}")]
    WouldFail(DispatchError),
    /// Already in the pool.
    #[error("transaction {hash} is already in the pool")]
    AlreadyKnown {
        /// Its hash.
        hash: Hash,
    },
    /// Another transaction of this account with this nonce is already pooled.
    #[error("account {account:?} already has a pooled transaction with nonce {nonce}")]
    NonceTaken {
        /// The account.
        account: AccountId,
        /// The nonce.
        nonce: u64,
    },
    /// Too far ahead of the account's next nonce.
    #[error("nonce {nonce} is more than {max_gap} ahead of the account's next nonce {next}")]
    NonceGapTooLarge {
        /// The transaction's nonce.
        nonce: u64,
        /// The account's next nonce.
        next: u64,
        /// The allowed gap.
        max_gap: u64,
    },
    /// This account has too many pending transactions.
    #[error("account {account:?} has {limit} pending transactions; wait for some to be final")]
    AccountLimit {
        /// The account.
        account: AccountId,
        /// The cap.
        limit: usize,
    },
    /// The pool is full.
    #[error("the pool is full ({count} transactions, {bytes} bytes); try again shortly")]
    PoolFull {
        /// Transactions held.
        count: usize,
        /// Bytes held.
        bytes: usize,
    },
    /// The node could not read its state.
    #[error("node state unavailable: {0}")]
    State(#[from] StateError),
    /// The runtime could not check the transaction (a state failure or a runtime bug).
    #[error("the node could not check the transaction: {0}")]
    Runtime(#[from] BlockError),
}

/// Where a submission comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Submitted to this node (a wallet over RPC): dry-run before it is admitted, so the
    /// resident hears at once that, say, the balance is too low.
    Local,
    /// Gossiped by a peer. Not dry-run: the dry-run is there to answer the resident who
    /// submits, and nobody here waits for an answer. Whatever the call does once included
    /// (succeed, or fail with its nonce consumed, as any call may) is decided by the
    /// block's execution, so a peer cannot make a block of ours invalid this way. Every
    /// other check stays: signature, nonce, expiry, room. Skipping it spares each
    /// validator a dry-run of every transaction submitted elsewhere (measured: 2.3 % of
    /// four validators' CPU at 4,500 tx/s, three quarters of it on peers' transactions).
    /// One answer changes: a wallet that sends the same payment to two nodes may hear
    /// "already in the pool" from the second rather than why it would fail.
    Peer,
}

struct PooledTx {
    verified: VerifiedTransaction,
    encoded_len: usize,
    arrival: u64,
}

/// The pool: per-account queues ordered by nonce.
pub struct Pool {
    config: PoolConfig,
    by_account: HashMap<AccountId, BTreeMap<u64, PooledTx>>,
    by_hash: HashMap<Hash, (AccountId, u64)>,
    total_bytes: usize,
    next_arrival: u64,
    /// Decoded keys of recent signers: residents send again and again, and decompressing
    /// a key costs about a quarter of a verification.
    keys: KeyCache,
    /// Where admitted transactions' checked signatures are remembered, so checking a block
    /// that carries them need not check them again.
    checked: Option<Arc<CheckedSignatures>>,
}

impl Pool {
    /// An empty pool.
    pub fn new(config: PoolConfig) -> Pool {
        Pool {
            config,
            by_account: HashMap::new(),
            by_hash: HashMap::new(),
            total_bytes: 0,
            next_arrival: 0,
            keys: KeyCache::default(),
            checked: None,
        }
    }

    /// The nonce `account`'s next transaction should carry: its committed nonce, moved
    /// past the unbroken run of its transactions waiting here. A wallet that sends again
    /// before its last payment is final would otherwise sign the same nonce twice, and the
    /// second payment would be refused.
    pub fn next_nonce(
        &self,
        state: &dyn StateRead,
        account: &AccountId,
    ) -> Result<u64, StateError> {
        let mut next = wijk_system::nonce(state, account)?;
        if let Some(waiting) = self.by_account.get(account) {
            while waiting.contains_key(&next) {
                next += 1;
            }
        }
        Ok(next)
    }

    /// Remembers each admitted transaction's checked signature in `checked`.
    pub fn remembering(mut self, checked: Arc<CheckedSignatures>) -> Pool {
        self.checked = Some(checked);
        self
    }

    /// Transactions held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.total_bytes
    }

    /// Whether `hash` is pooled.
    pub fn contains(&self, hash: &Hash) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Checks and admits encoded transaction `bytes`, to be included at `next_height` or
    /// later. Returns its hash.
    pub fn submit(
        &mut self,
        bytes: &[u8],
        state: &dyn StateRead,
        signing: &SigningContext,
        next_height: Height,
    ) -> Result<Hash, SubmitError> {
        self.submit_many(&[(bytes, Source::Local)], state, signing, next_height)
            .pop()
            .unwrap_or_else(|| unreachable!("one verdict per submission"))
    }

    /// [`Self::submit`] for each of `batch`, in order, with the signatures checked together
    /// (batch verification costs about half as much per signature). The verdicts are those
    /// of submitting them one after another. Transactions from a peer are not dry-run
    /// (see [`Source::Peer`]).
    pub fn submit_many<B: AsRef<[u8]>>(
        &mut self,
        batch: &[(B, Source)],
        state: &dyn StateRead,
        signing: &SigningContext,
        next_height: Height,
    ) -> Vec<Result<Hash, SubmitError>> {
        // First the cheap checks, so that no signature is checked for a transaction the
        // pool would refuse anyway (a stale nonce, a duplicate, a full pool).
        let mut verdicts: Vec<Result<Hash, SubmitError>> = Vec::with_capacity(batch.len());
        let mut to_verify = Vec::new();
        let mut next_nonces = Vec::new();
        for (bytes, _) in batch {
            let bytes = bytes.as_ref();
            let checked = decode_transaction(bytes)
                .map_err(SubmitError::from)
                .and_then(|transaction| {
                    let hash = transaction.hash();
                    self.check_room(&transaction, hash, bytes.len())?;
                    let next = self.check_nonce(state, &transaction)?;
                    Ok((transaction, hash, next))
                });
            match checked {
                Ok((transaction, hash, next)) => {
                    to_verify.push(transaction);
                    next_nonces.push(next);
                    verdicts.push(Ok(hash));
                }
                Err(error) => verdicts.push(Err(error)),
            }
        }
        let mut verified = VerifiedTransaction::verify_all(
            to_verify,
            signing,
            &self.keys,
            self.checked.as_deref(),
        )
        .into_iter()
        .zip(next_nonces);
        for ((bytes, source), verdict) in batch.iter().zip(verdicts.iter_mut()) {
            if verdict.is_err() {
                continue;
            }
            let Some((checked, next)) = verified.next() else {
                break;
            };
            *verdict = checked.map_err(SubmitError::from).and_then(|verified| {
                self.admit(
                    verified,
                    bytes.as_ref().len(),
                    next,
                    *source,
                    state,
                    signing,
                    next_height,
                )
            });
        }
        verdicts
    }

    /// Refuses a transaction the pool has no room for, or holds already.
    fn check_room(
        &self,
        transaction: &Transaction,
        hash: Hash,
        encoded_len: usize,
    ) -> Result<(), SubmitError> {
        if self.by_hash.contains_key(&hash) {
            return Err(SubmitError::AlreadyKnown { hash });
        }
        if self.by_hash.len() >= self.config.max_count
            || self.total_bytes + encoded_len > self.config.max_bytes
        {
            return Err(SubmitError::PoolFull {
                count: self.by_hash.len(),
                bytes: self.total_bytes,
            });
        }
        if let Some(queue) = self.by_account.get(&transaction.signer) {
            if queue.contains_key(&transaction.nonce) {
                return Err(SubmitError::NonceTaken {
                    account: transaction.signer,
                    nonce: transaction.nonce,
                });
            }
            if queue.len() >= self.config.max_per_account {
                return Err(SubmitError::AccountLimit {
                    account: transaction.signer,
                    limit: self.config.max_per_account,
                });
            }
        }
        Ok(())
    }

    /// Refuses a nonce already used or too far ahead; returns the account's next nonce.
    fn check_nonce(
        &self,
        state: &dyn StateRead,
        transaction: &Transaction,
    ) -> Result<u64, SubmitError> {
        let nonce = transaction.nonce;
        let next = wijk_system::nonce(state, &transaction.signer)?;
        if nonce < next {
            return Err(InvalidTransaction::System(wijk_system::Error::NonceTooLow {
                expected: next,
                got: nonce,
            })
            .into());
        }
        if nonce > next.saturating_add(self.config.max_nonce_gap) {
            return Err(SubmitError::NonceGapTooLarge {
                nonce,
                next,
                max_gap: self.config.max_nonce_gap,
            });
        }
        Ok(next)
    }

    /// Admits a transaction whose signature is checked and whose nonce is not below `next`,
    /// the account's next nonce: dry-runs it if it is next and submitted here, else checks
    /// it has not expired.
    #[allow(clippy::too_many_arguments)]
    fn admit(
        &mut self,
        verified: VerifiedTransaction,
        encoded_len: usize,
        next: u64,
        source: Source,
        state: &dyn StateRead,
        signing: &SigningContext,
        next_height: Height,
    ) -> Result<Hash, SubmitError> {
        let hash = verified.hash();
        // Again: an earlier transaction of the same batch may have taken the room or nonce.
        self.check_room(verified.transaction(), hash, encoded_len)?;
        let (signer, nonce) = (verified.transaction().signer, verified.transaction().nonce);
        let cost = transaction_cost(verified.transaction());
        let limit = transactions_cost_limit();
        if cost > limit {
            return Err(InvalidTransaction::TooCostly { cost, limit }.into());
        }
        if nonce == next && source == Source::Local {
            // The next transaction of this account: dry-run it so the resident hears now,
            // not after a block, that e.g. the balance is too low.
            match validate_transaction(
                state,
                signing.genesis_hash,
                next_height,
                verified.transaction(),
            )? {
                Ok(TxOutcome::Success { .. }) => {}
                Ok(TxOutcome::Failed { error }) => return Err(SubmitError::WouldFail(error)),
                Err(invalid) => return Err(invalid.into()),
            }
        } else if verified.transaction().valid_until < next_height {
            return Err(InvalidTransaction::System(wijk_system::Error::Expired {
                valid_until: verified.transaction().valid_until,
                height: next_height,
            })
            .into());
        }
        let arrival = self.next_arrival;
        self.next_arrival += 1;
        self.total_bytes += encoded_len;
        self.by_hash.insert(hash, (signer, nonce));
        self.by_account.entry(signer).or_default().insert(
            nonce,
            PooledTx {
                verified,
                encoded_len,
                arrival,
            },
        );
        Ok(hash)
    }

    /// Up to `limit` candidates for the next block: for each account the run of
    /// consecutive nonces starting at its next nonce, interleaved across accounts in
    /// arrival order.
    ///
    /// `pending_next` gives the next nonce of the accounts that signed in the blocks the
    /// new one builds on but that are not final yet; other accounts start at their
    /// committed next nonce. Without it, the transactions of those blocks, still pooled
    /// until they are final, would be offered again, be refused by the block builder, and
    /// take the room of new ones: under load, blocks came out half full.
    pub fn candidates(
        &self,
        limit: usize,
        state: &dyn StateRead,
        pending_next: &HashMap<AccountId, u64>,
    ) -> Result<Vec<VerifiedTransaction>, StateError> {
        // Heap of (arrival of the account's next ready tx, account, nonce).
        let mut heads = BinaryHeap::new();
        for (account, queue) in &self.by_account {
            let next = match pending_next.get(account) {
                Some(next) => *next,
                None => wijk_system::nonce(state, account)?,
            };
            if let Some(tx) = queue.get(&next) {
                heads.push(Reverse((tx.arrival, *account, next)));
            }
        }
        let mut picked = Vec::new();
        while let Some(Reverse((_, account, nonce))) = heads.pop() {
            if picked.len() >= limit {
                break;
            }
            let Some(queue) = self.by_account.get(&account) else {
                continue;
            };
            if let Some(tx) = queue.get(&nonce) {
                picked.push(tx.verified.clone());
            }
            if let Some(following) = queue.get(&(nonce + 1)) {
                heads.push(Reverse((following.arrival, account, nonce + 1)));
            }
        }
        Ok(picked)
    }

    fn remove(&mut self, hash: &Hash) -> bool {
        let Some((account, nonce)) = self.by_hash.remove(hash) else {
            return false;
        };
        if let Some(queue) = self.by_account.get_mut(&account) {
            if let Some(tx) = queue.remove(&nonce) {
                self.total_bytes -= tx.encoded_len;
            }
            if queue.is_empty() {
                self.by_account.remove(&account);
            }
        }
        true
    }

    /// After blocks are committed: drops the included transactions, and those that can
    /// never be included (nonce used, or expired before `next_height`). `signers` are the
    /// signers of every transaction in those blocks: only their nonces can have moved, so
    /// only theirs are read. Returns the dropped ones that were *not* included, with the
    /// reason.
    pub fn prune(
        &mut self,
        included: &[Hash],
        signers: &[AccountId],
        state: &dyn StateRead,
        next_height: Height,
    ) -> Result<Vec<(Hash, InvalidTransaction)>, StateError> {
        for hash in included {
            self.remove(hash);
        }
        let mut dropped = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for account in signers {
            let Some(queue) = self.by_account.get(account) else {
                continue;
            };
            if !seen.insert(*account) {
                continue;
            }
            let next = wijk_system::nonce(state, account)?;
            for (nonce, tx) in queue.range(..next) {
                dropped.push((
                    tx.verified.hash(),
                    InvalidTransaction::System(wijk_system::Error::NonceTooLow {
                        expected: next,
                        got: *nonce,
                    }),
                ));
            }
        }
        for queue in self.by_account.values() {
            for tx in queue.values() {
                let valid_until = tx.verified.transaction().valid_until;
                if valid_until < next_height {
                    dropped.push((
                        tx.verified.hash(),
                        InvalidTransaction::System(wijk_system::Error::Expired {
                            valid_until,
                            height: next_height,
                        }),
                    ));
                }
            }
        }
        for (hash, _) in &dropped {
            self.remove(hash);
        }
        Ok(dropped)
    }
}

#[cfg(test)]
mod tests;
