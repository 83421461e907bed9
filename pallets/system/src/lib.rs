//! The system pallet: account records with their nonces (replay protection), the current
//! block's height and time, the spec version in force, and the chain spec's board.
//!
//! **One record per account.** An account's nonce and its coin balance live together in
//! [`AccountInfo`] under `system/account/<account>`, as Substrate keeps `AccountInfo` with
//! the balances pallet's data. Why: every state key is a leaf of the state tree, and a
//! payment changes the signer's nonce and two balances. As three keys that was three
//! leaves to hash, store and index per payment, and twice the leaves under the tree's
//! inner nodes, which every block rewrites; as two records it is two (measured with four
//! validators on two cores: see the README's benchmark section).
//!
//! Owns: `system/account/<account>` (the record, and in it the nonce), `system/block`,
//! `system/rate_limit` and `system/sent/<account>` (the spam bound: transactions per
//! window of blocks, checked with the nonce),
//! `system/spec_version` (the rules in force, which every signature binds) and
//! `system/board` (the accounts that decide for the cooperative's board: the chain spec's,
//! until the members elect one).
//! Must never: decide a balance. It stores the coin pallet's figure, changed only through
//! [`set_balance`] (and [`genesis_balance`]), which the coin pallet alone calls; it reads
//! no other pallet's storage.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::{AccountId, Cents, Hash, Height, SpecVersion, TimestampMs};
use wijk_support::{
    Collective, Collectives, Cost, DispatchResult, NoCall, NoEvent, Origin, StateError,
    StateOverlay, StateRead, StorageMap, StorageValue,
};

/// The record of each account that has transacted or holds coins; absent means
/// [`AccountInfo::default`] (nonce 0, no coins).
pub const ACCOUNTS: StorageMap<AccountId, AccountInfo> = StorageMap::new(b"system/account/");

/// What the chain keeps of one account: one record, so a payment reads and writes each
/// account once (one leaf of the state tree).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct AccountInfo {
    /// The nonce its next transaction must carry (this pallet's).
    pub nonce: u64,
    /// Free coins held, in euro cents (the coin pallet's: only its rules change it).
    pub balance_cents: Cents,
    /// Coins held under earmarks, per earmark id, in id order, each above zero (the coin
    /// pallet's, like the balance: see `wijk_coin::earmark`).
    pub earmarked: Vec<(Hash, Cents)>,
}
/// The block being (or last) executed.
pub const CURRENT_BLOCK: StorageValue<BlockInfo> = StorageValue::new(b"system/block");
/// The runtime spec version in force: what the block's transactions were signed under.
pub const SPEC_VERSION: StorageValue<SpecVersion> = StorageValue::new(b"system/spec_version");
/// The accounts that decide for the board: the chain spec's, until the members elect one
/// (the governance pallet seats it with [`set_board`]).
pub const BOARD: StorageValue<Vec<AccountId>> = StorageValue::new(b"system/board");

/// The spam bound: most transactions one account may send per window of blocks.
pub const RATE_LIMIT: StorageValue<RateLimit> = StorageValue::new(b"system/rate_limit");
/// What each account sent in its current window (kept only while a limit is in force).
pub const SENT: StorageMap<AccountId, SentInWindow> = StorageMap::new(b"system/sent/");

/// Most transactions per account per window of blocks; members pay no fees, so this is
/// what keeps one account from filling the blocks. Windows are fixed: window `n` is the
/// blocks `n * window_blocks ..`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RateLimit {
    /// Transactions per window; 0 for no limit.
    pub transactions: u32,
    /// Blocks per window.
    pub window_blocks: Height,
}

impl RateLimit {
    fn window_of(&self, height: Height) -> u64 {
        height / self.window_blocks.max(1)
    }
}

/// What an account sent in a window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct SentInWindow {
    /// The window.
    pub window: u64,
    /// Transactions sent in it.
    pub sent: u32,
}

/// Height, time and parent of the current block, kept in state so proofs can show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct BlockInfo {
    /// Height.
    pub height: Height,
    /// Proposer's timestamp.
    pub timestamp_ms: TimestampMs,
    /// Parent block hash.
    pub parent_hash: Hash,
}

/// The system pallet's section of a chain spec's genesis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Genesis {
    /// Genesis timestamp, ms since the Unix epoch (fixed in the spec, so every node derives
    /// the same genesis hash); also the time `system/block` holds at genesis.
    pub timestamp_ms: TimestampMs,
    /// The accounts that decide for the cooperative's board until the members elect one
    /// (the board may, among its powers, change the validator set within its limit).
    pub board: Vec<AccountId>,
    /// Most transactions per account per window of blocks (none by default).
    pub rate_limit: RateLimit,
}

/// The system pallet: accounts and nonces, the current block, the spec version in force,
/// and the board of the chain spec. It has no calls.
pub struct Pallet;

impl wijk_support::Pallet for Pallet {
    const NAME: &'static str = "system";
    type Call = NoCall;
    type Event = NoEvent;
    type Error = Error;
    type Genesis = Genesis;

    fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
        set_block(
            state,
            &BlockInfo {
                height: 0,
                timestamp_ms: config.timestamp_ms,
                parent_hash: Hash::ZERO,
            },
        );
        BOARD.put(state, &config.board);
        if config.rate_limit.transactions > 0 {
            RATE_LIMIT.put(state, &config.rate_limit);
        }
        Ok(Ok(()))
    }

    fn dispatch(
        _ctx: &mut wijk_support::CallContext<'_, '_>,
        _origin: &Origin,
        call: &NoCall,
    ) -> DispatchResult<Error> {
        match *call {}
    }

    fn cost(call: &NoCall) -> Cost {
        match *call {}
    }
}

/// The collective rules: each board account (the chain spec's, then the members' elected
/// board) decides for the board alone, every act public and signed; a decision of the
/// members (an enacted vote, which the governance pallet carries out with the origin
/// [`Origin::Collective`]) outranks the board's. Only an enacted vote, or the chain itself,
/// decides for the members.
pub struct SpecBoard;

impl Collectives for SpecBoard {
    fn decides(
        &self,
        state: &dyn StateRead,
        origin: &Origin,
        collective: Collective,
    ) -> Result<bool, StateError> {
        Ok(match (origin, collective) {
            (Origin::Root, _) => true,
            (Origin::Collective(decided), wanted) => {
                *decided == wanted || *decided == Collective::Members
            }
            (Origin::Signed(account), Collective::Board) => board(state)?.contains(account),
            _ => false,
        })
    }
}

/// The board accounts.
pub fn board(state: &dyn StateRead) -> Result<Vec<AccountId>, StateError> {
    Ok(BOARD.get(state)?.unwrap_or_default())
}

/// Seats `board` as the board (an election's winners, or the board less a member the
/// members removed): the governance pallet alone calls this.
pub fn set_board(state: &mut StateOverlay<'_>, board: &[AccountId]) {
    BOARD.put(state, &board.to_vec());
}

/// The spec version in force (0 if none was recorded).
pub fn spec_version(state: &dyn StateRead) -> Result<SpecVersion, StateError> {
    Ok(SPEC_VERSION.get(state)?.unwrap_or(0))
}

/// Records the spec version the block executes under, if it changed.
pub fn set_spec_version(
    state: &mut StateOverlay<'_>,
    version: SpecVersion,
) -> Result<(), StateError> {
    if SPEC_VERSION.get(&*state)? != Some(version) {
        SPEC_VERSION.put(state, &version);
    }
    Ok(())
}

/// Why a transaction is not valid now (as opposed to failing during dispatch).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// Already used: a replay, or a transaction that was already included.
    #[error("nonce {got} is already used; the account's next nonce is {expected}")]
    NonceTooLow {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// Leaves a gap: earlier transactions of this account are missing.
    #[error("nonce {got} is ahead; the account's next nonce is {expected}")]
    NonceTooHigh {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The account sent as many transactions as the window allows.
    #[error("this account sent {limit} transactions in the last window of {window_blocks} blocks, the most allowed; it may send again from block {next_at}")]
    RateLimited {
        /// The limit.
        limit: u32,
        /// The window's length.
        window_blocks: Height,
        /// The first block of the next window.
        next_at: Height,
    },
    /// The transaction's validity ended before this block.
    #[error("transaction expired at height {valid_until}; the block is at {height}")]
    Expired {
        /// Last height at which it was valid.
        valid_until: Height,
        /// The block height.
        height: Height,
    },
}

/// The record of `account`, in a block in progress or in committed state.
pub fn account(state: &dyn StateRead, account: &AccountId) -> Result<AccountInfo, StateError> {
    Ok(ACCOUNTS.get(state, account)?.unwrap_or_default())
}

/// Stores the record of `account`; an empty record (nonce 0, no coins) is removed, so the
/// state holds no entry for an account that never did anything.
fn put_account(state: &mut StateOverlay<'_>, account: &AccountId, info: &AccountInfo) {
    if *info == AccountInfo::default() {
        ACCOUNTS.remove(state, account);
    } else {
        ACCOUNTS.insert(state, account, info);
    }
}

/// Sets the balance in `account`'s record, keeping its nonce. For the coin pallet only:
/// its rules (supply == reserve, no overdraft) are what make a balance right.
pub fn set_balance(
    state: &mut StateOverlay<'_>,
    account: &AccountId,
    balance_cents: Cents,
) -> Result<(), StateError> {
    let mut info = self::account(&*state, account)?;
    info.balance_cents = balance_cents;
    put_account(state, account, &info);
    Ok(())
}

/// Sets the earmarked coins in `account`'s record, keeping the rest. For the coin pallet
/// only, as [`set_balance`].
pub fn set_earmarked(
    state: &mut StateOverlay<'_>,
    account: &AccountId,
    earmarked: Vec<(Hash, Cents)>,
) -> Result<(), StateError> {
    let mut info = self::account(&*state, account)?;
    info.earmarked = earmarked;
    put_account(state, account, &info);
    Ok(())
}

/// Writes the record of an account funded at genesis (for the coin pallet's genesis, on
/// a state with no records yet, once per account).
pub fn genesis_balance(state: &mut StateOverlay<'_>, account: &AccountId, balance_cents: Cents) {
    put_account(
        state,
        account,
        &AccountInfo {
            balance_cents,
            ..AccountInfo::default()
        },
    );
}

/// The next nonce of `account`.
pub fn nonce(state: &dyn StateRead, account: &AccountId) -> Result<u64, StateError> {
    Ok(self::account(state, account)?.nonce)
}

/// Checks that a transaction with `nonce` and `valid_until` may run at `height`, within
/// `rate_limit` (from [`rate_limit`]).
pub fn check_transaction(
    state: &dyn StateRead,
    rate_limit: Option<&RateLimit>,
    signer: &AccountId,
    tx_nonce: u64,
    valid_until: Height,
    height: Height,
) -> Result<Result<(), Error>, StateError> {
    if valid_until < height {
        return Ok(Err(Error::Expired {
            valid_until,
            height,
        }));
    }
    if let Some(limit) = rate_limit {
        let window = limit.window_of(height);
        let sent = SENT
            .get(state, signer)?
            .filter(|entry| entry.window == window)
            .map_or(0, |entry| entry.sent);
        if limit.transactions > 0 && sent >= limit.transactions {
            return Ok(Err(Error::RateLimited {
                limit: limit.transactions,
                window_blocks: limit.window_blocks,
                next_at: window
                    .saturating_add(1)
                    .saturating_mul(limit.window_blocks.max(1)),
            }));
        }
    }
    let expected = nonce(state, signer)?;
    Ok(match tx_nonce.cmp(&expected) {
        core::cmp::Ordering::Equal => Ok(()),
        core::cmp::Ordering::Less => Err(Error::NonceTooLow {
            expected,
            got: tx_nonce,
        }),
        core::cmp::Ordering::Greater => Err(Error::NonceTooHigh {
            expected,
            got: tx_nonce,
        }),
    })
}

/// Consumes the signer's nonce. Called once per included transaction, whether its call
/// succeeds or fails, so a failed call cannot be replayed either.
pub fn increment_nonce(state: &mut StateOverlay<'_>, signer: &AccountId) -> Result<(), StateError> {
    let mut info = account(&*state, signer)?;
    info.nonce = info.nonce.saturating_add(1);
    put_account(state, signer, &info);
    Ok(())
}

/// The rate limit in force, if any (read once per transaction, for [`check_transaction`]
/// and [`record_sent`]).
pub fn rate_limit(state: &dyn StateRead) -> Result<Option<RateLimit>, StateError> {
    RATE_LIMIT.get(state)
}

/// Counts a transaction of `signer` included at `height` against `rate_limit`, if one is
/// in force.
pub fn record_sent(
    state: &mut StateOverlay<'_>,
    rate_limit: Option<&RateLimit>,
    signer: &AccountId,
    height: Height,
) -> Result<(), StateError> {
    let Some(limit) = rate_limit else {
        return Ok(());
    };
    let window = limit.window_of(height);
    let sent = SENT
        .get(&*state, signer)?
        .filter(|entry| entry.window == window)
        .map_or(0, |entry| entry.sent);
    SENT.insert(
        state,
        signer,
        &SentInWindow {
            window,
            sent: sent.saturating_add(1),
        },
    );
    Ok(())
}

/// Records the block being executed.
pub fn set_block(state: &mut StateOverlay<'_>, info: &BlockInfo) {
    CURRENT_BLOCK.put(state, info);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn nonces_reject_replays_gaps_and_expiry() {
        let backend = BTreeMap::new();
        let mut state = StateOverlay::new(&backend);
        let who = AccountId([1; 32]);
        assert_eq!(check_transaction(&state, None, &who, 0, 5, 1), Ok(Ok(())));
        increment_nonce(&mut state, &who).unwrap();
        assert_eq!(
            check_transaction(&state, None, &who, 0, 5, 1),
            Ok(Err(Error::NonceTooLow {
                expected: 1,
                got: 0
            }))
        );
        assert_eq!(
            check_transaction(&state, None, &who, 3, 5, 1),
            Ok(Err(Error::NonceTooHigh {
                expected: 1,
                got: 3
            }))
        );
        assert_eq!(
            account(&state, &who).unwrap(),
            AccountInfo {
                nonce: 1,
                balance_cents: 0,
                earmarked: vec![],
            }
        );
        assert_eq!(
            check_transaction(&state, None, &who, 1, 5, 6),
            Ok(Err(Error::Expired {
                valid_until: 5,
                height: 6
            }))
        );
    }

    #[test]
    fn an_empty_record_is_not_stored() {
        let backend = BTreeMap::new();
        let mut state = StateOverlay::new(&backend);
        let who = AccountId([2; 32]);
        increment_nonce(&mut state, &who).unwrap();
        set_balance(&mut state, &who, 5).unwrap();
        assert_eq!(
            account(&state, &who).unwrap(),
            AccountInfo {
                nonce: 1,
                balance_cents: 5,
                earmarked: vec![],
            },
            "the balance is set beside the nonce, not over it"
        );
        genesis_balance(&mut state, &who, 0);
        state.commit_transaction();
        assert_eq!(
            state.into_changes().get(&ACCOUNTS.key(&who)),
            Some(&None),
            "the record is deleted, not stored empty"
        );
    }
}
