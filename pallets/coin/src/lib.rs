//! The coin pallet: the wijk's euro-pegged coin (1 coin = 1 euro, amounts in cents).
//!
//! Rules:
//! - **Mint** only by the issuer (the cooperative's treasury account), only against a euro
//!   deposit that is recorded once under its reference: the same bank transfer can never
//!   mint twice. Minting raises total supply and the euro reserve by the same amount.
//! - **Redeem** burns the holder's coins and lowers supply and reserve together; the event
//!   is the holder's receipt for the euro payout.
//! - **Transfer** (also used for gifts) moves coins; it never changes supply.
//! - Invariant after every transaction: `total_supply == euro_reserve` and the sum of all
//!   balances equals `total_supply` (checked in tests over random operation sequences).
//!
//! Owns: the balance in each account's record (`system/account/<account>`, which the
//! system pallet keeps so that a payment touches one state key per account; the coin
//! changes it only through `wijk_system::set_balance`), and `coin/total_supply`,
//! `coin/euro_reserve`, `coin/issuer`, `coin/deposit/<blake3(deposit_ref)>`.
//! Must never: touch nonces or any other pallet's storage, or use floating point.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

use parity_scale_codec::{Decode, Encode};
use std::collections::BTreeMap;
use wijk_primitives::{format_cents, AccountId, Cents, Hash, Height};
use wijk_support::{
    BlockContext, Origin, StateError, StateOverlay, StateRead, StorageMap, StorageValue,
};

/// Coins in existence.
pub const TOTAL_SUPPLY: StorageValue<Cents> = StorageValue::new(b"coin/total_supply");
/// Euros held in reserve against the coins (recorded deposits minus redemptions).
pub const EURO_RESERVE: StorageValue<Cents> = StorageValue::new(b"coin/euro_reserve");
/// The only account allowed to mint.
pub const ISSUER: StorageValue<AccountId> = StorageValue::new(b"coin/issuer");
/// Every euro deposit that has been minted against, by hash of its reference.
pub const DEPOSITS: StorageMap<Hash, DepositRecord> = StorageMap::new(b"coin/deposit/");

/// Longest deposit reference (a bank transfer id or receipt number), in bytes.
pub const MAX_DEPOSIT_REF_BYTES: usize = 64;

/// A recorded euro deposit.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct DepositRecord {
    /// Who received the minted coins.
    pub beneficiary: AccountId,
    /// How much was deposited and minted.
    pub amount: Cents,
    /// When it was minted.
    pub height: Height,
}

/// The calls of this pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Call {
    /// Moves `amount` from the signer to `to`. A gift is a transfer.
    #[codec(index = 0)]
    Transfer {
        /// Recipient.
        to: AccountId,
        /// Amount in cents.
        amount: Cents,
    },
    /// Issuer only: mints `amount` to `to` against the euro deposit `deposit_ref`.
    #[codec(index = 1)]
    Mint {
        /// Beneficiary.
        to: AccountId,
        /// Amount in cents, equal to the euros deposited.
        amount: Cents,
        /// The deposit's reference; each may be used once.
        deposit_ref: Vec<u8>,
    },
    /// Burns `amount` of the signer's coins for a euro payout.
    #[codec(index = 2)]
    Redeem {
        /// Amount in cents.
        amount: Cents,
    },
}

/// What happened (past tense).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Event {
    /// Coins moved.
    #[codec(index = 0)]
    Transferred {
        /// Sender.
        from: AccountId,
        /// Recipient.
        to: AccountId,
        /// Amount in cents.
        amount: Cents,
    },
    /// Coins were minted against a deposit.
    #[codec(index = 1)]
    Minted {
        /// Beneficiary.
        to: AccountId,
        /// Amount in cents.
        amount: Cents,
        /// The deposit reference.
        deposit_ref: Vec<u8>,
    },
    /// Coins were burned; the holder is owed `amount` euros.
    #[codec(index = 2)]
    Redeemed {
        /// The holder.
        who: AccountId,
        /// Amount in cents.
        amount: Cents,
    },
}

/// Why a coin call failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// Not enough coins.
    #[error("insufficient funds: account {account:?} has {} but needs {}", format_cents(*available), format_cents(*needed))]
    InsufficientBalance {
        /// The account.
        account: AccountId,
        /// What it has.
        available: Cents,
        /// What the call needs.
        needed: Cents,
    },
    /// Zero amounts are refused: they would only add noise to the history.
    #[error("amount must be more than zero")]
    ZeroAmount,
    /// Only the issuer may mint.
    #[error("{caller:?} is not the issuer and may not mint")]
    NotIssuer {
        /// Who tried.
        caller: AccountId,
    },
    /// This deposit was already minted against.
    #[error("deposit reference was already used (deposit hash {deposit_hash:?})")]
    DepositAlreadyRecorded {
        /// Hash of the reference.
        deposit_hash: Hash,
    },
    /// The deposit reference is empty or too long.
    #[error("deposit reference must be 1 to {max} bytes, got {len}")]
    BadDepositRef {
        /// Its length.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// An amount would overflow.
    #[error("amount overflows the supply")]
    Overflow,
    /// Sending to oneself is refused as a likely mistake.
    #[error("sender and recipient are the same account")]
    SelfTransfer,
}

/// The pallet's result type: a state read failure aborts the block, an [`Error`] fails only
/// the transaction.
pub type DispatchResult = Result<Result<Event, Error>, StateError>;

/// The invariant does not hold: a bug, never a user's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("coin invariant broken: total supply {total_supply} != euro reserve {euro_reserve}")]
pub struct InvariantViolation {
    /// Supply.
    pub total_supply: Cents,
    /// Reserve.
    pub euro_reserve: Cents,
}

/// Genesis of the coin: the issuer and pre-funded balances, which count as deposited.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GenesisConfig {
    /// The issuer.
    pub issuer: AccountId,
    /// Initial balances (recorded as a genesis deposit each).
    pub balances: Vec<(AccountId, Cents)>,
}

/// Writes the genesis state.
pub fn genesis(state: &mut StateOverlay<'_>, config: &GenesisConfig) -> Result<(), Error> {
    ISSUER.put(state, &config.issuer);
    let mut supply: Cents = 0;
    // An account listed twice holds the sum: supply counts every entry, so keeping only
    // one would break supply == sum of balances from the first block.
    let mut funded: BTreeMap<AccountId, Cents> = BTreeMap::new();
    for (account, amount) in &config.balances {
        supply = supply.checked_add(*amount).ok_or(Error::Overflow)?;
        let balance = funded.entry(*account).or_default();
        *balance = balance.checked_add(*amount).ok_or(Error::Overflow)?;
    }
    for (account, balance) in &funded {
        wijk_system::genesis_balance(state, account, *balance);
    }
    TOTAL_SUPPLY.put(state, &supply);
    EURO_RESERVE.put(state, &supply);
    Ok(())
}

/// The balance of `account`.
pub fn balance(state: &StateOverlay<'_>, account: &AccountId) -> Result<Cents, StateError> {
    Ok(wijk_system::account(state, account)?.balance_cents)
}

/// The balance of `account` in committed state.
pub fn committed_balance(
    backend: &dyn StateRead,
    account: &AccountId,
) -> Result<Cents, StateError> {
    Ok(wijk_system::committed_account(backend, account)?.balance_cents)
}

/// Supply and reserve in committed state.
pub fn supply(backend: &dyn StateRead) -> Result<(Cents, Cents), StateError> {
    Ok((
        TOTAL_SUPPLY.get_committed(backend)?.unwrap_or(0),
        EURO_RESERVE.get_committed(backend)?.unwrap_or(0),
    ))
}

/// Hash under which a deposit reference is recorded.
pub fn deposit_hash(deposit_ref: &[u8]) -> Hash {
    Hash(*blake3::hash(deposit_ref).as_bytes())
}

/// Executes `call` from `origin`.
pub fn dispatch(
    state: &mut StateOverlay<'_>,
    context: &BlockContext,
    origin: Origin,
    call: &Call,
) -> DispatchResult {
    let signer = origin.signer();
    match call {
        Call::Transfer { to, amount } => transfer(state, signer, *to, *amount),
        Call::Mint {
            to,
            amount,
            deposit_ref,
        } => mint(state, context, signer, *to, *amount, deposit_ref),
        Call::Redeem { amount } => redeem(state, signer, *amount),
    }
}

fn transfer(
    state: &mut StateOverlay<'_>,
    from: AccountId,
    to: AccountId,
    amount: Cents,
) -> DispatchResult {
    if amount == 0 {
        return Ok(Err(Error::ZeroAmount));
    }
    if from == to {
        return Ok(Err(Error::SelfTransfer));
    }
    let available = balance(state, &from)?;
    let Some(remaining) = available.checked_sub(amount) else {
        return Ok(Err(Error::InsufficientBalance {
            account: from,
            available,
            needed: amount,
        }));
    };
    let Some(received) = balance(state, &to)?.checked_add(amount) else {
        return Ok(Err(Error::Overflow));
    };
    wijk_system::set_balance(state, &from, remaining)?;
    wijk_system::set_balance(state, &to, received)?;
    Ok(Ok(Event::Transferred { from, to, amount }))
}

fn mint(
    state: &mut StateOverlay<'_>,
    context: &BlockContext,
    caller: AccountId,
    to: AccountId,
    amount: Cents,
    deposit_ref: &[u8],
) -> DispatchResult {
    if ISSUER.get(state)? != Some(caller) {
        return Ok(Err(Error::NotIssuer { caller }));
    }
    if amount == 0 {
        return Ok(Err(Error::ZeroAmount));
    }
    if deposit_ref.is_empty() || deposit_ref.len() > MAX_DEPOSIT_REF_BYTES {
        return Ok(Err(Error::BadDepositRef {
            len: u32::try_from(deposit_ref.len()).unwrap_or(u32::MAX),
            max: MAX_DEPOSIT_REF_BYTES as u32,
        }));
    }
    let deposit_hash = deposit_hash(deposit_ref);
    if DEPOSITS.get(state, &deposit_hash)?.is_some() {
        return Ok(Err(Error::DepositAlreadyRecorded { deposit_hash }));
    }
    let supply = TOTAL_SUPPLY.get(state)?.unwrap_or(0);
    let reserve = EURO_RESERVE.get(state)?.unwrap_or(0);
    let (Some(supply), Some(reserve), Some(received)) = (
        supply.checked_add(amount),
        reserve.checked_add(amount),
        balance(state, &to)?.checked_add(amount),
    ) else {
        return Ok(Err(Error::Overflow));
    };
    DEPOSITS.insert(
        state,
        &deposit_hash,
        &DepositRecord {
            beneficiary: to,
            amount,
            height: context.height,
        },
    );
    TOTAL_SUPPLY.put(state, &supply);
    EURO_RESERVE.put(state, &reserve);
    wijk_system::set_balance(state, &to, received)?;
    Ok(Ok(Event::Minted {
        to,
        amount,
        deposit_ref: deposit_ref.to_vec(),
    }))
}

fn redeem(state: &mut StateOverlay<'_>, who: AccountId, amount: Cents) -> DispatchResult {
    if amount == 0 {
        return Ok(Err(Error::ZeroAmount));
    }
    let available = balance(state, &who)?;
    let Some(remaining) = available.checked_sub(amount) else {
        return Ok(Err(Error::InsufficientBalance {
            account: who,
            available,
            needed: amount,
        }));
    };
    // Supply and reserve are at least any single balance while the invariant holds, so
    // these cannot underflow; if they would, the state is corrupt and we refuse.
    let supply = TOTAL_SUPPLY.get(state)?.unwrap_or(0);
    let reserve = EURO_RESERVE.get(state)?.unwrap_or(0);
    let (Some(supply), Some(reserve)) = (supply.checked_sub(amount), reserve.checked_sub(amount))
    else {
        return Ok(Err(Error::Overflow));
    };
    TOTAL_SUPPLY.put(state, &supply);
    EURO_RESERVE.put(state, &reserve);
    wijk_system::set_balance(state, &who, remaining)?;
    Ok(Ok(Event::Redeemed { who, amount }))
}

/// Checks `total_supply == euro_reserve`.
pub fn check_invariant(
    state: &StateOverlay<'_>,
) -> Result<Result<(), InvariantViolation>, StateError> {
    let total_supply = TOTAL_SUPPLY.get(state)?.unwrap_or(0);
    let euro_reserve = EURO_RESERVE.get(state)?.unwrap_or(0);
    Ok(if total_supply == euro_reserve {
        Ok(())
    } else {
        Err(InvariantViolation {
            total_supply,
            euro_reserve,
        })
    })
}

#[cfg(test)]
mod tests;
