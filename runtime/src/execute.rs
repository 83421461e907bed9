//! Block execution: the validity rules a block must satisfy and the state it produces.
//!
//! A transaction is either **invalid** (bad signature, wrong nonce, expired): a block that
//! contains one is rejected whole; or **valid**: it is applied, its nonce is consumed, and
//! its call either succeeds (changes kept, events recorded) or fails (changes rolled back,
//! the error recorded in its receipt). After every block every pallet's invariants must hold.
//!
//! **Limits.** A block holds at most [`MAX_BLOCK_TRANSACTIONS`] transactions, at most
//! [`MAX_BLOCK_BYTES`] encoded, and transactions whose costs ([`transaction_cost`]) sum to at
//! most [`MAX_BLOCK_COST`] less the pallets' hook costs ([`crate::HOOKS_COST`]); a builder
//! stops adding candidates at the first that would not fit, and execution refuses a block
//! over any limit.
//!
//! **Order.** `begin_block` records the block in `system/block` and the spec version in
//! force, then runs every pallet's begin-block hook; then each transaction; then every
//! pallet's end-block hook, then the invariants. Events of the hooks go into the block's
//! [`HookEvents`], committed in the receipts root beside the transactions' receipts.

use crate::state_tree::{apply_changes, StateTreeError};
use crate::{
    Block, DispatchError, RuntimeEvent, Transaction, HOOKS_COST, INTERFACES, MAX_BLOCK_BYTES,
    MAX_BLOCK_COST, MAX_BLOCK_TRANSACTIONS, SPEC_VERSION, TRANSACTION_BASE_COST,
};
use jmt::storage::{TreeReader, TreeUpdateBatch};
use parity_scale_codec::{Decode, Encode};
use std::sync::Arc;
use wijk_primitives::{
    blake3_hash, merkle_root, verify_batch_strict, verify_batch_strict_serial, AccountId, Hash,
    Header, KeyCache, SignatureError, SignedMessage, SigningContext, TimestampMs,
    ValidatorSetChange,
};
use wijk_support::{
    BlockContext, CallContext, Cost, EventBuffer, InvariantViolation, Origin, StateChanges,
    StateError, StateOverlay, StateRead,
};
use wijk_system::BlockInfo;

/// A transaction whose signature has been checked strictly for this chain.
#[derive(Debug, Clone)]
pub struct VerifiedTransaction {
    transaction: Transaction,
    hash: Hash,
}

impl VerifiedTransaction {
    /// Checks the signature of `transaction` for the chain in `context`.
    pub fn verify(
        transaction: Transaction,
        context: &SigningContext,
    ) -> Result<VerifiedTransaction, SignatureError> {
        transaction.verify_signature(context)?;
        let hash = transaction.hash();
        Ok(VerifiedTransaction { transaction, hash })
    }

    /// [`Self::verify`] with decoded signer keys kept in `keys` (the same verdict).
    pub fn verify_cached(
        transaction: Transaction,
        context: &SigningContext,
        keys: &KeyCache,
    ) -> Result<VerifiedTransaction, SignatureError> {
        let payload = transaction.payload_for(context);
        wijk_primitives::verify_strict_cached(
            &transaction.signer,
            &payload,
            &transaction.signature,
            keys,
        )?;
        let hash = transaction.hash();
        Ok(VerifiedTransaction { transaction, hash })
    }

    /// Checks the signatures of `transactions` for the chain in `context`, in batches
    /// (about twice as fast per signature as one at a time); each verdict is the one
    /// [`Self::verify`] gives. Signatures `already` holds as checked for this chain are not
    /// checked again, and those checked here are added to it. When a batch fails, its
    /// transactions are checked one at a time, so one bad signature refuses only its own
    /// transaction.
    pub fn verify_all(
        transactions: Vec<Transaction>,
        context: &SigningContext,
        keys: &KeyCache,
        already: Option<&CheckedSignatures>,
    ) -> Vec<Result<VerifiedTransaction, SignatureError>> {
        let already = already.filter(|cache| cache.signing == *context);
        let hashes: Vec<Hash> = transactions.iter().map(|tx| tx.hash()).collect();
        let unchecked = Unchecked::among(&transactions, &hashes, context, already);
        let (to_check, messages) = (&unchecked.indices, unchecked.messages(&transactions));
        let mut verdicts: Vec<Result<(), SignatureError>> = vec![Ok(()); transactions.len()];
        if verify_batch_strict(&messages, Some(keys)).is_err() {
            for (index, message) in to_check.iter().zip(&messages) {
                verdicts[*index] = wijk_primitives::verify_strict_cached(
                    &message.signer,
                    message.message,
                    &message.signature,
                    keys,
                );
            }
        }
        if let Some(cache) = already {
            cache.remember_hashes(
                to_check
                    .iter()
                    .filter(|i| verdicts[**i].is_ok())
                    .map(|i| hashes[*i]),
            );
        }
        transactions
            .into_iter()
            .zip(hashes)
            .zip(verdicts)
            .map(|((transaction, hash), verdict)| {
                verdict.map(|()| VerifiedTransaction { transaction, hash })
            })
            .collect()
    }

    /// The transaction.
    pub fn transaction(&self) -> &Transaction {
        &self.transaction
    }

    /// Its hash.
    pub fn hash(&self) -> Hash {
        self.hash
    }

    /// Unwraps the transaction.
    pub fn into_transaction(self) -> Transaction {
        self.transaction
    }
}

/// The outcome of one included transaction.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum TxOutcome {
    /// The call succeeded with these events.
    #[codec(index = 0)]
    Success {
        /// Events, in order.
        events: Vec<RuntimeEvent>,
    },
    /// The call failed; nothing but the nonce changed.
    #[codec(index = 1)]
    Failed {
        /// Why.
        error: DispatchError,
    },
}

/// What happened to one included transaction; receipts are committed in the header.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Receipt {
    /// The transaction.
    pub tx_hash: Hash,
    /// Its signer.
    pub signer: AccountId,
    /// Its outcome.
    pub outcome: TxOutcome,
}

/// Why a transaction may not be included now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTransaction {
    /// Nonce or expiry.
    #[error(transparent)]
    System(#[from] wijk_system::Error),
    /// The signature does not verify strictly.
    #[error(transparent)]
    Signature(#[from] SignatureError),
    /// The signer may not transact (not a member, suspended), or is not the guardian of the
    /// member they sign for.
    #[error(transparent)]
    Membership(Box<wijk_support::MembershipError>),
    /// A guardian's envelope holds another envelope.
    #[error("a guardian's call for a member cannot hold another guardian's call")]
    NestedEnvelope,
    /// The call costs more than a whole block may: no block can ever hold it.
    #[error("the call costs {cost:?}, more than a block may hold ({limit:?})")]
    TooCostly {
        /// What it costs.
        cost: Cost,
        /// What a block may hold.
        limit: Cost,
    },
}

impl From<wijk_support::MembershipError> for InvalidTransaction {
    fn from(refused: wijk_support::MembershipError) -> Self {
        // Boxed: a refusal names accounts and amounts, and the common path stays small.
        InvalidTransaction::Membership(Box::new(refused))
    }
}

/// Why a block was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// Reading state failed: not the block's fault; the node must stop importing.
    #[error(transparent)]
    State(#[from] StateError),
    /// The state tree failed.
    #[error(transparent)]
    StateTree(#[from] StateTreeError),
    /// The block does not extend the given parent.
    #[error("block {height} names parent {claimed:?}, expected {expected:?} at height {expected_height}")]
    WrongParent {
        /// The block's height.
        height: u64,
        /// Its parent hash.
        claimed: Hash,
        /// The parent we have.
        expected: Hash,
        /// Height of a valid child.
        expected_height: u64,
    },
    /// The timestamp goes backwards.
    #[error("timestamp {timestamp_ms} is before the parent's {parent_timestamp_ms}")]
    TimestampBeforeParent {
        /// The block's timestamp.
        timestamp_ms: TimestampMs,
        /// The parent's.
        parent_timestamp_ms: TimestampMs,
    },
    /// Too many transactions.
    #[error("block has {count} transactions, the limit is {limit}")]
    TooManyTransactions {
        /// How many.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A transaction is invalid.
    #[error("transaction {index} ({tx_hash}) is invalid: {reason}")]
    InvalidTransaction {
        /// Its position in the block.
        index: usize,
        /// Its hash.
        tx_hash: Hash,
        /// Why.
        reason: InvalidTransaction,
    },
    /// A header root does not match re-execution.
    #[error("{which} mismatch: header says {claimed}, execution gives {computed}")]
    RootMismatch {
        /// Which root.
        which: &'static str,
        /// From the header.
        claimed: Hash,
        /// Recomputed.
        computed: Hash,
    },
    /// Executed with a signature check made for another block.
    #[error("signatures were checked for block {checked:?}, not {block:?}")]
    SignaturesNotChecked {
        /// The block the check was for.
        checked: Hash,
        /// The block being executed.
        block: Hash,
    },
    /// The header's validator-set announcement is not what the block scheduled.
    #[error("header announces validator-set change {claimed:?}, execution schedules {computed:?}")]
    WrongAnnouncement {
        /// From the header.
        claimed: Option<ValidatorSetChange>,
        /// From execution.
        computed: Option<ValidatorSetChange>,
    },
    /// The transactions cost more than a block may.
    #[error("the block's transactions cost {cost:?}, more than the {limit:?} a block may")]
    TooCostly {
        /// What they cost.
        cost: Cost,
        /// The limit.
        limit: Cost,
    },
    /// The block is larger than a block may be.
    #[error("the block is {bytes} bytes, more than the {limit} a block may be")]
    TooLarge {
        /// Its encoded size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A pallet deposited an event no composed pallet declares: a runtime bug.
    #[error(
        "a call of the {pallet} pallet deposited an event of a type the runtime does not compose"
    )]
    UnknownEvent {
        /// The pallet whose call (or hook) deposited it.
        pallet: &'static str,
    },
    /// A pallet's invariant broke: a runtime bug; the block is refused.
    #[error(transparent)]
    Invariant(#[from] InvariantViolation),
}

/// The result of executing a block.
#[derive(Debug)]
pub struct ExecutedBlock {
    /// State changes to commit (shared: an importer executing the next block reads them
    /// while this block's root is computed and it is written).
    pub changes: Arc<StateChanges>,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// Events of the block's hooks.
    pub hook_events: HookEvents,
    /// Tree nodes to commit.
    pub tree_batch: TreeUpdateBatch,
    /// The state root after the block.
    pub state_root: Hash,
}

/// The events the pallets' block hooks deposited: those of the begin-block hooks (before
/// any transaction) and those of the end-block hooks (after every transaction).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct HookEvents {
    /// Deposited by begin-block hooks.
    pub begin: Vec<RuntimeEvent>,
    /// Deposited by end-block hooks.
    pub end: Vec<RuntimeEvent>,
}

/// Merkle root ([`merkle_root`]) over the blake3 hashes of each receipt's SCALE encoding,
/// in block order, followed by one more leaf: the blake3 hash of the SCALE encoding of the
/// block's [`HookEvents`].
pub fn receipts_root(receipts: &[Receipt], hook_events: &HookEvents) -> Hash {
    let leaves: Vec<Hash> = receipts
        .iter()
        .map(|r| blake3_hash(&r.encode()))
        .chain([blake3_hash(&hook_events.encode())])
        .collect();
    merkle_root(&leaves)
}

/// What a transaction costs: the base every transaction pays plus its call's cost.
pub fn transaction_cost(transaction: &Transaction) -> Cost {
    TRANSACTION_BASE_COST.plus(transaction.call.cost())
}

/// The most a block's transactions may cost: the block's limit less its hooks' work.
pub fn transactions_cost_limit() -> Cost {
    Cost(MAX_BLOCK_COST.0.saturating_sub(HOOKS_COST.0))
}

/// Encoded size of a block's header and transaction-count prefix, generously: a header with
/// a validator-set announcement of the largest set, and a 5-byte compact length.
const BLOCK_OVERHEAD_BYTES: usize = 8 * 1024;

/// The room a block has for transactions, and what it has used.
struct BlockRoom {
    cost: Cost,
    bytes: usize,
    count: usize,
}

impl BlockRoom {
    fn new() -> Self {
        BlockRoom {
            cost: Cost::ZERO,
            bytes: BLOCK_OVERHEAD_BYTES,
            count: 0,
        }
    }

    /// The room used once `transaction` is added, if it fits.
    fn with(&self, transaction: &Transaction) -> Option<BlockRoom> {
        let cost = self.cost.plus(transaction_cost(transaction));
        let bytes = self.bytes.saturating_add(transaction.encoded_size());
        if cost > transactions_cost_limit()
            || bytes > MAX_BLOCK_BYTES
            || self.count >= MAX_BLOCK_TRANSACTIONS
        {
            return None;
        }
        Some(BlockRoom {
            cost,
            bytes,
            count: self.count + 1,
        })
    }
}

/// Merkle root over transaction hashes.
pub fn transactions_root(hashes: &[Hash]) -> Hash {
    merkle_root(hashes)
}

/// Turns the events a call (or hook) deposited into runtime events.
fn runtime_events(
    deposited: Vec<Box<dyn std::any::Any + Send>>,
    pallet: &'static str,
) -> Result<Vec<RuntimeEvent>, BlockError> {
    deposited
        .into_iter()
        .map(|event| {
            RuntimeEvent::from_deposited(event).map_err(|_| BlockError::UnknownEvent { pallet })
        })
        .collect()
}

/// The membership rules every transaction meets before its call runs: its signer may
/// transact, and a guardian's envelope is signed by the member's guardian and holds a plain
/// call. Failing them makes the transaction invalid: the pool refuses it and no block may
/// hold it.
fn check_origin(
    state: &dyn StateRead,
    tx: &Transaction,
) -> Result<Result<(), InvalidTransaction>, StateError> {
    let membership = INTERFACES.membership;
    if let Err(refused) = membership.check_signer(state, &tx.signer)? {
        return Ok(Err(refused.into()));
    }
    let (inner, member) = tx.call.inner();
    if let Some(member) = member {
        if inner.inner().1.is_some() {
            return Ok(Err(InvalidTransaction::NestedEnvelope));
        }
        if let Err(refused) = membership.check_guardian(state, &tx.signer, &member)? {
            return Ok(Err(refused.into()));
        }
    }
    Ok(Ok(()))
}

/// Applies one signature-checked transaction on `state`.
pub fn apply_transaction(
    state: &mut StateOverlay<'_>,
    context: &BlockContext,
    tx: &Transaction,
    tx_hash: Hash,
) -> Result<Result<Receipt, InvalidTransaction>, BlockError> {
    let rate_limit = wijk_system::rate_limit(&*state)?;
    if let Err(invalid) = wijk_system::check_transaction(
        &*state,
        rate_limit.as_ref(),
        &tx.signer,
        tx.nonce,
        tx.valid_until,
        context.height,
    )? {
        return Ok(Err(invalid.into()));
    }
    if let Err(invalid) = check_origin(&*state, tx)? {
        return Ok(Err(invalid));
    }
    let mut events = EventBuffer::default();
    let dispatched = {
        let mut ctx = CallContext::new(state, *context, INTERFACES, &mut events);
        tx.call.dispatch(&mut ctx, &Origin::Signed(tx.signer))?
    };
    let outcome = match dispatched {
        Ok(()) => {
            state.commit_transaction();
            TxOutcome::Success {
                events: runtime_events(events.take(), tx.call.pallet_name())?,
            }
        }
        Err(error) => {
            state.rollback_transaction();
            TxOutcome::Failed { error }
        }
    };
    wijk_system::increment_nonce(state, &tx.signer)?;
    wijk_system::record_sent(state, rate_limit.as_ref(), &tx.signer, context.height)?;
    state.commit_transaction();
    Ok(Ok(Receipt {
        tx_hash,
        signer: tx.signer,
        outcome,
    }))
}

/// Checks what a transaction would do on committed state without keeping anything, for the
/// pool: `Ok(Err(_))` means it would be invalid in the next block.
pub fn validate_transaction(
    backend: &dyn StateRead,
    genesis_hash: Hash,
    next_height: u64,
    tx: &Transaction,
) -> Result<Result<TxOutcome, InvalidTransaction>, BlockError> {
    let cost = transaction_cost(tx);
    if cost > transactions_cost_limit() {
        return Ok(Err(InvalidTransaction::TooCostly {
            cost,
            limit: transactions_cost_limit(),
        }));
    }
    // The next block's time is not known yet; the head's is the closest a dry-run can use
    // (a call that checks a time, such as a claim for work done, sees no later one).
    let head_time = wijk_system::CURRENT_BLOCK
        .get(backend)?
        .map_or(0, |block| block.timestamp_ms);
    let mut state = StateOverlay::new(backend);
    let context = BlockContext {
        height: next_height,
        timestamp_ms: head_time,
        genesis_hash,
    };
    Ok(apply_transaction(&mut state, &context, tx, Hash::ZERO)?.map(|receipt| receipt.outcome))
}

/// Runs `hooks` in a context over `state`; returns the events they deposited.
fn run_hooks(
    state: &mut StateOverlay<'_>,
    context: &BlockContext,
    hooks: fn(&mut CallContext<'_, '_>) -> Result<(), StateError>,
) -> Result<Vec<RuntimeEvent>, BlockError> {
    let mut events = EventBuffer::default();
    hooks(&mut CallContext::new(
        state,
        *context,
        INTERFACES,
        &mut events,
    ))?;
    state.commit_transaction();
    runtime_events(events.take(), "a hook's")
}

/// Records the block and the spec version, then runs the begin-block hooks.
fn begin_block(
    state: &mut StateOverlay<'_>,
    context: &BlockContext,
    parent_hash: Hash,
) -> Result<Vec<RuntimeEvent>, BlockError> {
    wijk_system::set_block(
        state,
        &BlockInfo {
            height: context.height,
            timestamp_ms: context.timestamp_ms,
            parent_hash,
        },
    );
    wijk_system::set_spec_version(state, SPEC_VERSION)?;
    state.commit_transaction();
    run_hooks(state, context, crate::begin_block_hooks)
}

/// Runs the end-block hooks, checks the invariants, and returns the hooks' events and what
/// the header must announce.
fn end_block(
    state: &mut StateOverlay<'_>,
    context: &BlockContext,
    before: &dyn StateRead,
    begin: &[RuntimeEvent],
    receipts: &[Receipt],
) -> Result<(Vec<RuntimeEvent>, Option<ValidatorSetChange>), BlockError> {
    let events = run_hooks(state, context, crate::end_block_hooks)?;
    record_statistics(state, context, begin, receipts, &events)?;
    crate::check_invariants(&*state)??;
    Ok((
        events,
        wijk_validators::scheduled_in_block(&*state, before)?,
    ))
}

/// Counts the block's facts into the wijk's statistics, and checks that the coins they say
/// exist are the coins the coin pallet holds.
fn record_statistics(
    state: &mut StateOverlay<'_>,
    context: &BlockContext,
    begin: &[RuntimeEvent],
    receipts: &[Receipt],
    end: &[RuntimeEvent],
) -> Result<(), BlockError> {
    let mut tally = wijk_stats::BlockTally::default();
    crate::stats::block_facts(begin, receipts, end, |fact| tally.add(fact));
    let levels = match wijk_stats::record_block(state, context.height, tally)? {
        Ok(levels) => levels,
        Err(underflow) => {
            return Err(wijk_support::InvariantViolation {
                pallet: "stats",
                rule: "no level of coins goes below zero",
                detail: underflow.to_string(),
            }
            .into())
        }
    };
    let supply = INTERFACES.currency.total_supply(&*state)?;
    if levels.circulating != supply {
        return Err(wijk_support::InvariantViolation {
            pallet: "stats",
            rule: "the coins the events say exist are the coins in existence",
            detail: format!(
                "statistics count {}, the coin's total supply is {}",
                wijk_primitives::format_cents(levels.circulating),
                wijk_primitives::format_cents(supply)
            ),
        }
        .into());
    }
    state.commit_transaction();
    Ok(())
}

/// A block built by a proposer.
#[derive(Debug)]
pub struct BuiltBlock {
    /// The block, with header roots filled in.
    pub block: Block,
    /// Its execution.
    pub executed: ExecutedBlock,
    /// Candidates left out because they are invalid now, with the reason.
    pub rejected: Vec<(Hash, InvalidTransaction)>,
}

/// Builds the next block on `parent` from `candidates` (in order), leaving out invalid
/// ones, up to [`MAX_BLOCK_TRANSACTIONS`].
pub fn build_block<R: TreeReader>(
    backend: &dyn StateRead,
    tree: &R,
    parent: &Header,
    genesis_hash: Hash,
    timestamp_ms: TimestampMs,
    proposer: AccountId,
    candidates: impl IntoIterator<Item = VerifiedTransaction>,
) -> Result<BuiltBlock, BlockError> {
    let context = BlockContext {
        height: parent.height + 1,
        timestamp_ms: timestamp_ms.max(parent.timestamp_ms),
        genesis_hash,
    };
    let parent_hash = parent.hash();
    let mut state = StateOverlay::new(backend);
    let begin = begin_block(&mut state, &context, parent_hash)?;
    let mut transactions = Vec::new();
    let mut hashes = Vec::new();
    let mut receipts = Vec::new();
    let mut rejected = Vec::new();
    let mut room = BlockRoom::new();
    for candidate in candidates {
        let cost = transaction_cost(candidate.transaction());
        if cost > transactions_cost_limit() {
            rejected.push((
                candidate.hash(),
                InvalidTransaction::TooCostly {
                    cost,
                    limit: transactions_cost_limit(),
                },
            ));
            continue;
        }
        // The block is full (by cost, size or count): the rest wait for the next block.
        let Some(room_with_it) = room.with(candidate.transaction()) else {
            break;
        };
        match apply_transaction(
            &mut state,
            &context,
            candidate.transaction(),
            candidate.hash(),
        )? {
            Ok(receipt) => {
                room = room_with_it;
                receipts.push(receipt);
                hashes.push(candidate.hash());
                transactions.push(candidate.into_transaction());
            }
            Err(invalid) => {
                state.rollback_transaction();
                rejected.push((candidate.hash(), invalid));
            }
        }
    }
    let (end, validator_set_change) = end_block(&mut state, &context, backend, &begin, &receipts)?;
    let hook_events = HookEvents { begin, end };
    let changes = state.into_changes();
    let (state_root, tree_batch) = apply_changes(tree, context.height, &changes)?;
    let header = Header {
        parent_hash,
        height: context.height,
        timestamp_ms: context.timestamp_ms,
        state_root,
        transactions_root: transactions_root(&hashes),
        receipts_root: receipts_root(&receipts, &hook_events),
        proposer,
        validator_set_change,
    };
    Ok(BuiltBlock {
        block: Block {
            header,
            transactions,
        },
        executed: ExecutedBlock {
            changes: Arc::new(changes),
            receipts,
            hook_events,
            tree_batch,
            state_root,
        },
        rejected,
    })
}

/// Proof that every signature of one block was checked strictly for one chain; made only by
/// [`check_signatures`], so a block cannot be executed without its signatures checked.
#[derive(Debug)]
pub struct SignaturesChecked {
    block_hash: Hash,
    genesis_hash: Hash,
}

/// Checks every signature of `block` (strict, batched in fixed chunks, in parallel). It
/// needs no state, so an importer can check the next block while executing this one.
/// `keys` remembers decoded signer keys across blocks (it changes no verdict).
pub fn check_signatures(
    block: &Block,
    signing: &SigningContext,
    keys: Option<&KeyCache>,
) -> Result<SignaturesChecked, BlockError> {
    check_signatures_skipping(block, signing, keys, None)
}

/// [`check_signatures`] on the calling thread alone ([`wijk_primitives::verify_batch_strict_serial`]):
/// for an importer whose pipeline already keeps every core busy.
pub fn check_signatures_serial(
    block: &Block,
    signing: &SigningContext,
    keys: Option<&KeyCache>,
) -> Result<SignaturesChecked, BlockError> {
    check_signatures_with(block, signing, keys, None, verify_batch_strict_serial)
}

/// Hashes of transactions whose signatures this node has already checked strictly for
/// one chain (the pool checks every transaction it admits), so that checking a block
/// that carries them can skip them.
///
/// Filled only by code that has just checked the signatures (the pool's
/// [`VerifiedTransaction`]s and [`check_signatures_skipping`]), and consulted only for the same signing context: a hash here is a
/// signature already checked, and the transaction hash covers the signature and every
/// signed field. Bounded: emptied when full, so it only ever costs a re-check.
pub struct CheckedSignatures {
    signing: SigningContext,
    capacity: usize,
    hashes: std::sync::Mutex<std::collections::HashSet<Hash>>,
}

impl CheckedSignatures {
    /// An empty cache for transactions of the chain `signing` describes.
    pub fn new(signing: SigningContext, capacity: usize) -> Self {
        CheckedSignatures {
            signing,
            capacity,
            hashes: std::sync::Mutex::new(std::collections::HashSet::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashSet<Hash>> {
        self.hashes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Remembers that `verified`'s signature was checked (under this cache's context).
    pub fn remember(&self, verified: &VerifiedTransaction) {
        self.remember_hashes(std::iter::once(verified.hash()));
    }

    /// Remembers transactions whose signatures were just checked under this cache's
    /// context. Private: only code that has checked them may call it.
    fn remember_hashes(&self, checked: impl Iterator<Item = Hash>) {
        let mut hashes = self.lock();
        for hash in checked {
            if hashes.len() >= self.capacity {
                hashes.clear();
            }
            hashes.insert(hash);
        }
    }

    /// How many hashes it holds.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// The transactions whose signatures are still to be checked (those `already` does not
/// hold as checked for this chain), with the payloads their signatures must cover.
struct Unchecked {
    indices: Vec<usize>,
    payloads: Vec<Vec<u8>>,
}

impl Unchecked {
    /// `already` must be for `signing`'s chain (callers filter it).
    fn among(
        transactions: &[Transaction],
        hashes: &[Hash],
        signing: &SigningContext,
        already: Option<&CheckedSignatures>,
    ) -> Unchecked {
        let indices: Vec<usize> = match already {
            Some(cache) => {
                let checked = cache.lock();
                (0..hashes.len())
                    .filter(|i| !checked.contains(&hashes[*i]))
                    .collect()
            }
            None => (0..hashes.len()).collect(),
        };
        let payloads = indices
            .iter()
            .map(|i| transactions[*i].payload_for(signing))
            .collect();
        Unchecked { indices, payloads }
    }

    /// The batch-verification items, in the order of `indices`.
    fn messages<'a>(&'a self, transactions: &[Transaction]) -> Vec<SignedMessage<'a>> {
        self.indices
            .iter()
            .zip(&self.payloads)
            .map(|(i, payload)| transactions[*i].signed_message(payload))
            .collect()
    }
}

/// [`check_signatures`], skipping the transactions whose signatures `already` holds as
/// checked for this chain; the verdict is the same.
pub fn check_signatures_skipping(
    block: &Block,
    signing: &SigningContext,
    keys: Option<&KeyCache>,
    already: Option<&CheckedSignatures>,
) -> Result<SignaturesChecked, BlockError> {
    check_signatures_with(block, signing, keys, already, verify_batch_strict)
}

/// How a batch of signatures is verified: in parallel or on the calling thread.
type BatchVerifier =
    fn(&[SignedMessage<'_>], Option<&KeyCache>) -> Result<(), (usize, SignatureError)>;

fn check_signatures_with(
    block: &Block,
    signing: &SigningContext,
    keys: Option<&KeyCache>,
    already: Option<&CheckedSignatures>,
    verify: BatchVerifier,
) -> Result<SignaturesChecked, BlockError> {
    let already = already.filter(|cache| cache.signing == *signing);
    let tx_hashes: Vec<Hash> = block.transactions.iter().map(|tx| tx.hash()).collect();
    let unchecked = Unchecked::among(&block.transactions, &tx_hashes, signing, already);
    let (to_check, messages) = (&unchecked.indices, unchecked.messages(&block.transactions));
    if let Err((position, reason)) = verify(&messages, keys) {
        let index = to_check.get(position).copied().unwrap_or(position);
        return Err(BlockError::InvalidTransaction {
            index,
            tx_hash: tx_hashes.get(index).copied().unwrap_or_default(),
            reason: reason.into(),
        });
    }
    // A transaction that reached this block before its gossip reached the pool is then
    // admitted to the pool without a second check.
    if let Some(cache) = already {
        cache.remember_hashes(to_check.iter().map(|index| tx_hashes[*index]));
    }
    Ok(SignaturesChecked {
        block_hash: block.header.hash(),
        genesis_hash: signing.genesis_hash,
    })
}

/// Re-executes `block` on `parent` and checks every rule and every root in its header,
/// signatures included.
pub fn execute_block<R: TreeReader>(
    backend: &dyn StateRead,
    tree: &R,
    parent: &Header,
    block: &Block,
    signing: &SigningContext,
) -> Result<ExecutedBlock, BlockError> {
    let checked = check_signatures(block, signing, None)?;
    execute_checked_block(backend, tree, parent, block, signing, checked)
}

/// [`execute_block`] for a block whose signatures [`check_signatures`] already checked.
/// The transactions root ties the checked header to these very transactions.
pub fn execute_checked_block<R: TreeReader>(
    backend: &dyn StateRead,
    tree: &R,
    parent: &Header,
    block: &Block,
    signing: &SigningContext,
    checked: SignaturesChecked,
) -> Result<ExecutedBlock, BlockError> {
    execute_checked_state(backend, parent, block, signing, checked)?.with_state_root(tree)
}

/// A block executed and checked against every rule and header root but the state root,
/// which [`Self::with_state_root`] computes and checks. Execution needs only the parent's
/// state, the root needs the parent's tree: an importer executes block `N + 1` while
/// another thread computes the root of block `N`.
#[derive(Debug)]
pub struct ExecutedState {
    height: u64,
    claimed_state_root: Hash,
    /// State changes to commit.
    pub changes: Arc<StateChanges>,
    /// One receipt per transaction.
    pub receipts: Vec<Receipt>,
    /// Events of the block's hooks.
    pub hook_events: HookEvents,
}

/// Refuses a block whose header claims `claimed` where re-execution gives `computed`.
fn root_matches(which: &'static str, claimed: Hash, computed: Hash) -> Result<(), BlockError> {
    if claimed == computed {
        Ok(())
    } else {
        Err(BlockError::RootMismatch {
            which,
            claimed,
            computed,
        })
    }
}

impl ExecutedState {
    /// Computes the state root over `tree` (the parent's tree) and checks it against the
    /// header: the block is then fully checked.
    pub fn with_state_root<R: TreeReader>(self, tree: &R) -> Result<ExecutedBlock, BlockError> {
        let (state_root, tree_batch) = apply_changes(tree, self.height, &self.changes)?;
        root_matches("state root", self.claimed_state_root, state_root)?;
        Ok(ExecutedBlock {
            changes: self.changes,
            receipts: self.receipts,
            hook_events: self.hook_events,
            tree_batch,
            state_root,
        })
    }
}

/// Executes a signature-checked `block` on `parent`'s state `backend` and checks every
/// rule and header root except the state root ([`ExecutedState::with_state_root`]).
pub fn execute_checked_state(
    backend: &dyn StateRead,
    parent: &Header,
    block: &Block,
    signing: &SigningContext,
    checked: SignaturesChecked,
) -> Result<ExecutedState, BlockError> {
    let header = &block.header;
    if checked.block_hash != header.hash() || checked.genesis_hash != signing.genesis_hash {
        return Err(BlockError::SignaturesNotChecked {
            checked: checked.block_hash,
            block: header.hash(),
        });
    }
    let parent_hash = parent.hash();
    if header.parent_hash != parent_hash || header.height != parent.height + 1 {
        return Err(BlockError::WrongParent {
            height: header.height,
            claimed: header.parent_hash,
            expected: parent_hash,
            expected_height: parent.height + 1,
        });
    }
    if header.timestamp_ms < parent.timestamp_ms {
        return Err(BlockError::TimestampBeforeParent {
            timestamp_ms: header.timestamp_ms,
            parent_timestamp_ms: parent.timestamp_ms,
        });
    }
    if block.transactions.len() > MAX_BLOCK_TRANSACTIONS {
        return Err(BlockError::TooManyTransactions {
            count: block.transactions.len(),
            limit: MAX_BLOCK_TRANSACTIONS,
        });
    }
    let bytes = block.encoded_size();
    if bytes > MAX_BLOCK_BYTES {
        return Err(BlockError::TooLarge {
            bytes,
            limit: MAX_BLOCK_BYTES,
        });
    }
    let cost = block
        .transactions
        .iter()
        .fold(Cost::ZERO, |total, tx| total.plus(transaction_cost(tx)));
    if cost > transactions_cost_limit() {
        return Err(BlockError::TooCostly {
            cost,
            limit: transactions_cost_limit(),
        });
    }
    let hashes: Vec<Hash> = block.transactions.iter().map(|tx| tx.hash()).collect();
    root_matches(
        "transactions root",
        header.transactions_root,
        transactions_root(&hashes),
    )?;
    let context = BlockContext {
        height: header.height,
        timestamp_ms: header.timestamp_ms,
        genesis_hash: signing.genesis_hash,
    };
    let mut state = StateOverlay::new(backend);
    let begin = begin_block(&mut state, &context, parent_hash)?;
    let mut receipts = Vec::with_capacity(block.transactions.len());
    for (index, (tx, tx_hash)) in block.transactions.iter().zip(&hashes).enumerate() {
        match apply_transaction(&mut state, &context, tx, *tx_hash)? {
            Ok(receipt) => receipts.push(receipt),
            Err(reason) => {
                return Err(BlockError::InvalidTransaction {
                    index,
                    tx_hash: *tx_hash,
                    reason,
                })
            }
        }
    }
    let (end, announced) = end_block(&mut state, &context, backend, &begin, &receipts)?;
    let hook_events = HookEvents { begin, end };
    if announced != header.validator_set_change {
        return Err(BlockError::WrongAnnouncement {
            claimed: header.validator_set_change.clone(),
            computed: announced,
        });
    }
    root_matches(
        "receipts root",
        header.receipts_root,
        receipts_root(&receipts, &hook_events),
    )?;
    Ok(ExecutedState {
        height: header.height,
        claimed_state_root: header.state_root,
        changes: Arc::new(state.into_changes()),
        receipts,
        hook_events,
    })
}

impl Receipt {
    /// Every account this transaction concerns (signer first), for the history index.
    pub fn involved_accounts(&self) -> Vec<AccountId> {
        let mut accounts = vec![self.signer];
        if let TxOutcome::Success { events } = &self.outcome {
            for event in events {
                event.involved_accounts(&mut accounts);
            }
        }
        accounts.sort();
        accounts.dedup();
        accounts
    }
}
