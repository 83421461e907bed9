//! The coin pallet: the wijk's euro-pegged coin (1 coin = 1 euro, amounts in cents).
//!
//! Rules:
//! - **Mint** only by the issuer (the cooperative's treasury account), only against a euro
//!   deposit that is recorded once under its reference: the same bank transfer can never
//!   mint twice. Minting raises total supply and the euro reserve by the same amount.
//!   Balances funded at genesis are recorded as deposits too, under the reference
//!   `genesis/` followed by the account's 32 public-key bytes ([`genesis_deposit_ref`]).
//! - **Redeem** burns the holder's coins and lowers supply and reserve together; each
//!   redemption is recorded ([`REDEMPTIONS`]), and the event is the holder's receipt for the
//!   euro payout.
//! - **Transfer** (also used for gifts) moves coins; it never changes supply. So do
//!   **reserve**, **unreserve** and **repatriate** (escrow for other pallets, through the
//!   [`Currency`] trait this pallet implements).
//! - Invariants: `total_supply == euro_reserve` after every block ([`Pallet`]'s
//!   `check_invariants`), and, checked by [`audit`] in tests after every block and by
//!   auditors on any state: the free and reserved balances sum to `total_supply`, and
//!   `euro_reserve` equals the recorded deposits minus the recorded redemptions.
//!
//! Owns: the balance in each account's record (`system/account/<account>`, which the
//! system pallet keeps so that a payment touches one state key per account; the coin
//! changes it only through `wijk_system::set_balance`), and `coin/total_supply`,
//! `coin/euro_reserve`, `coin/issuer`, `coin/deposit/<blake3(deposit_ref)>`,
//! `coin/reserved/<account>`, `coin/redemption/<n>`, `coin/redemption_count`.
//! Must never: touch nonces or any other pallet's storage, or use floating point.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wijk_primitives::json::{euro, text_bytes};
use wijk_primitives::{format_cents, AccountId, Cents, Hash, Height};
use wijk_support::{
    check, tri, BadOrigin, CallContext, Cost, Currency, CurrencyError, DispatchResult,
    InvariantViolation, Involves, Origin, StateError, StateOverlay, StateRead, StorageLog,
    StorageMap, StorageValue,
};

/// Coins in existence.
pub const TOTAL_SUPPLY: StorageValue<Cents> = StorageValue::new(b"coin/total_supply");
/// Euros held in reserve against the coins (recorded deposits minus redemptions).
pub const EURO_RESERVE: StorageValue<Cents> = StorageValue::new(b"coin/euro_reserve");
/// The only account allowed to mint.
pub const ISSUER: StorageValue<AccountId> = StorageValue::new(b"coin/issuer");
/// Every euro deposit that has been minted against, by hash of its reference.
pub const DEPOSITS: StorageMap<Hash, DepositRecord> = StorageMap::new(b"coin/deposit/");
/// Coins held in reserve (escrow) per account; absent means none.
pub const RESERVED: StorageMap<AccountId, Cents> = StorageMap::new(b"coin/reserved/");
/// Every redemption, oldest first.
pub const REDEMPTIONS: StorageLog<RedemptionRecord> =
    StorageLog::new(b"coin/redemption/", b"coin/redemption_count");

/// Longest deposit reference (a bank transfer id or receipt number), in bytes.
pub const MAX_DEPOSIT_REF_BYTES: usize = 64;

/// What executing a call costs. `scripts/bench-import --calibrate` measured 1.5 µs for a
/// transfer, 2.1 for a mint and 1.5 for a redemption on the reference machine within a
/// 10,000-account state (2026-12-01); the declared costs keep 2-4x headroom because reads
/// slow down as the state outgrows the caches.
pub mod costs {
    use wijk_support::Cost;
    /// A transfer: two account records read and written.
    pub const TRANSFER: Cost = Cost::nanos(4_000);
    /// A mint: a deposit record, supply, reserve and one account.
    pub const MINT: Cost = Cost::nanos(6_000);
    /// A redemption: supply, reserve, one account and a redemption record.
    pub const REDEEM: Cost = Cost::nanos(6_000);
}

/// A recorded euro deposit.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct DepositRecord {
    /// Who received the minted coins.
    pub beneficiary: AccountId,
    /// How much was deposited and minted.
    pub amount: Cents,
    /// When it was minted (0 for genesis balances).
    pub height: Height,
}

/// A recorded redemption: coins burned for a euro payout.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct RedemptionRecord {
    /// The holder paid out.
    pub who: AccountId,
    /// How much was burned (and is owed in euros).
    pub amount: Cents,
    /// When.
    pub height: Height,
}

/// The calls of this pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// Moves `amount` from the signer to `to`. A gift is a transfer.
    #[codec(index = 0)]
    Transfer {
        /// Recipient.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// Issuer only: mints `amount` to `to` against the euro deposit `deposit_ref`.
    #[codec(index = 1)]
    Mint {
        /// Beneficiary.
        to: AccountId,
        /// Amount equal to the euros deposited (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// The deposit's reference; each may be used once.
        #[serde(with = "text_bytes")]
        #[schemars(with = "wijk_primitives::json::TextBytes")]
        deposit_ref: Vec<u8>,
    },
    /// Burns `amount` of the signer's coins for a euro payout.
    #[codec(index = 2)]
    Redeem {
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
}

/// What happened (past tense).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum Event {
    /// Coins moved.
    #[codec(index = 0)]
    Transferred {
        /// Sender.
        from: AccountId,
        /// Recipient.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// Coins were minted against a deposit.
    #[codec(index = 1)]
    Minted {
        /// Beneficiary.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// The deposit reference.
        #[serde(with = "text_bytes")]
        #[schemars(with = "wijk_primitives::json::TextBytes")]
        deposit_ref: Vec<u8>,
    },
    /// Coins were burned; the holder is owed `amount` euros.
    #[codec(index = 2)]
    Redeemed {
        /// The holder.
        who: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// Coins of `who` were put in reserve (escrow).
    #[codec(index = 3)]
    Reserved {
        /// The holder.
        who: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// Reserved coins of `who` were released to them.
    #[codec(index = 4)]
    Unreserved {
        /// The holder.
        who: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// Reserved coins of `from` were paid to `to`.
    #[codec(index = 5)]
    ReservePaid {
        /// Whose reserve.
        from: AccountId,
        /// Who was paid.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
}

impl Involves for Event {
    fn involved_accounts(&self, accounts: &mut Vec<AccountId>) {
        match self {
            Event::Transferred { from, to, .. } | Event::ReservePaid { from, to, .. } => {
                accounts.extend([*from, *to])
            }
            Event::Minted { to, .. } => accounts.push(*to),
            Event::Redeemed { who, .. }
            | Event::Reserved { who, .. }
            | Event::Unreserved { who, .. } => accounts.push(*who),
        }
    }
}

/// Why a coin call failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// Moving coins failed (not enough, zero, a used deposit reference ...).
    #[error(transparent)]
    #[codec(index = 0)]
    Currency(#[from] CurrencyError),
    /// Only the issuer may mint.
    #[error("{caller:?} is not the issuer and may not mint")]
    #[codec(index = 1)]
    NotIssuer {
        /// Who tried.
        caller: AccountId,
    },
    /// The call came from an origin that may not make it.
    #[error(transparent)]
    #[codec(index = 2)]
    BadOrigin(#[from] BadOrigin),
}

/// A balance funded at genesis: an address and a euro amount (`["K...", "100.00"]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisBalance(pub AccountId, #[serde(with = "euro")] pub Cents);

/// The coin's section of a chain spec's genesis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Genesis {
    /// The only account that may mint.
    pub issuer: AccountId,
    /// Initial balances; each is recorded as a euro deposit (see [`genesis_deposit_ref`]).
    pub balances: Vec<GenesisBalance>,
}

/// The deposit reference under which a genesis balance of `account` is recorded.
pub fn genesis_deposit_ref(account: &AccountId) -> Vec<u8> {
    let mut reference = b"genesis/".to_vec();
    reference.extend_from_slice(account.as_bytes());
    reference
}

/// The coin pallet (and, as [`Currency`], the money every other pallet uses).
pub struct Pallet;

impl wijk_support::Pallet for Pallet {
    const NAME: &'static str = "coin";
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = Genesis;

    fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
        ISSUER.put(state, &config.issuer);
        let mut supply: Cents = 0;
        // An account listed twice holds the sum: supply counts every entry, so keeping only
        // one would break supply == sum of balances from the first block.
        let mut funded: BTreeMap<AccountId, Cents> = BTreeMap::new();
        for GenesisBalance(account, amount) in &config.balances {
            let (Some(total), Some(balance)) = (
                supply.checked_add(*amount),
                funded
                    .get(account)
                    .copied()
                    .unwrap_or(0)
                    .checked_add(*amount),
            ) else {
                return Ok(Err(CurrencyError::Overflow.into()));
            };
            supply = total;
            funded.insert(*account, balance);
        }
        for (account, balance) in &funded {
            wijk_system::genesis_balance(state, account, *balance);
            DEPOSITS.insert(
                state,
                &deposit_hash(&genesis_deposit_ref(account)),
                &DepositRecord {
                    beneficiary: *account,
                    amount: *balance,
                    height: 0,
                },
            );
        }
        TOTAL_SUPPLY.put(state, &supply);
        EURO_RESERVE.put(state, &supply);
        Ok(Ok(()))
    }

    fn dispatch(
        ctx: &mut CallContext<'_, '_>,
        origin: &Origin,
        call: &Call,
    ) -> DispatchResult<Error> {
        match call {
            Call::Transfer { to, amount } => {
                let from = check!(origin.ensure_signed_or_guardian()).member;
                Ok(Pallet
                    .transfer(ctx, &from, to, *amount)?
                    .map_err(Error::from))
            }
            Call::Mint {
                to,
                amount,
                deposit_ref,
            } => {
                let caller = check!(origin.ensure_signed());
                if ISSUER.get(&*ctx.state)? != Some(caller) {
                    return Ok(Err(Error::NotIssuer { caller }));
                }
                Ok(Pallet
                    .mint(ctx, to, *amount, deposit_ref)?
                    .map_err(Error::from))
            }
            Call::Redeem { amount } => {
                let who = check!(origin.ensure_signed_or_guardian()).member;
                Ok(Pallet.burn(ctx, &who, *amount)?.map_err(Error::from))
            }
        }
    }

    fn cost(call: &Call) -> Cost {
        match call {
            Call::Transfer { .. } => costs::TRANSFER,
            Call::Mint { .. } => costs::MINT,
            Call::Redeem { .. } => costs::REDEEM,
        }
    }

    fn check_invariants(
        state: &dyn StateRead,
    ) -> Result<Result<(), InvariantViolation>, StateError> {
        let (total_supply, euro_reserve) = supply(state)?;
        Ok(if total_supply == euro_reserve {
            Ok(())
        } else {
            Err(InvariantViolation {
                pallet: "coin",
                rule: "total supply == euro reserve",
                detail: format!(
                    "total supply {}, euro reserve {}",
                    format_cents(total_supply),
                    format_cents(euro_reserve)
                ),
            })
        })
    }
}

/// The free balance of `account`.
pub fn balance(state: &dyn StateRead, account: &AccountId) -> Result<Cents, StateError> {
    Ok(wijk_system::account(state, account)?.balance_cents)
}

/// The reserved balance of `account`.
pub fn reserved(state: &dyn StateRead, account: &AccountId) -> Result<Cents, StateError> {
    Ok(RESERVED.get(state, account)?.unwrap_or(0))
}

/// Supply and reserve.
pub fn supply(state: &dyn StateRead) -> Result<(Cents, Cents), StateError> {
    Ok((
        TOTAL_SUPPLY.get(state)?.unwrap_or(0),
        EURO_RESERVE.get(state)?.unwrap_or(0),
    ))
}

/// Hash under which a deposit reference is recorded.
pub fn deposit_hash(deposit_ref: &[u8]) -> Hash {
    Hash(*blake3::hash(deposit_ref).as_bytes())
}

fn positive(amount: Cents) -> Result<(), CurrencyError> {
    if amount == 0 {
        Err(CurrencyError::ZeroAmount)
    } else {
        Ok(())
    }
}

fn take_free(
    state: &dyn StateRead,
    who: &AccountId,
    amount: Cents,
) -> Result<Result<Cents, CurrencyError>, StateError> {
    let available = balance(state, who)?;
    Ok(available
        .checked_sub(amount)
        .ok_or(CurrencyError::InsufficientBalance {
            account: *who,
            available,
            needed: amount,
        }))
}

fn take_reserved(
    state: &dyn StateRead,
    who: &AccountId,
    amount: Cents,
) -> Result<Result<Cents, CurrencyError>, StateError> {
    let held = reserved(state, who)?;
    Ok(held
        .checked_sub(amount)
        .ok_or(CurrencyError::InsufficientReserved {
            account: *who,
            reserved: held,
            needed: amount,
        }))
}

fn add_free(
    state: &dyn StateRead,
    who: &AccountId,
    amount: Cents,
) -> Result<Result<Cents, CurrencyError>, StateError> {
    Ok(balance(state, who)?
        .checked_add(amount)
        .ok_or(CurrencyError::Overflow))
}

fn put_reserved(state: &mut StateOverlay<'_>, who: &AccountId, amount: Cents) {
    if amount == 0 {
        RESERVED.remove(state, who);
    } else {
        RESERVED.insert(state, who, &amount);
    }
}

impl Currency for Pallet {
    fn balance(&self, state: &dyn StateRead, who: &AccountId) -> Result<Cents, StateError> {
        balance(state, who)
    }

    fn reserved(&self, state: &dyn StateRead, who: &AccountId) -> Result<Cents, StateError> {
        reserved(state, who)
    }

    fn total_supply(&self, state: &dyn StateRead) -> Result<Cents, StateError> {
        Ok(supply(state)?.0)
    }

    fn transfer(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        to: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError> {
        check!(positive(amount));
        if from == to {
            return Ok(Err(CurrencyError::SelfTransfer));
        }
        let remaining = tri!(take_free(&*ctx.state, from, amount));
        let received = tri!(add_free(&*ctx.state, to, amount));
        wijk_system::set_balance(ctx.state, from, remaining)?;
        wijk_system::set_balance(ctx.state, to, received)?;
        ctx.deposit_event(Event::Transferred {
            from: *from,
            to: *to,
            amount,
        });
        Ok(Ok(()))
    }

    fn mint(
        &self,
        ctx: &mut CallContext<'_, '_>,
        to: &AccountId,
        amount: Cents,
        deposit_ref: &[u8],
    ) -> DispatchResult<CurrencyError> {
        check!(positive(amount));
        if deposit_ref.is_empty() || deposit_ref.len() > MAX_DEPOSIT_REF_BYTES {
            return Ok(Err(CurrencyError::BadDepositRef {
                len: u32::try_from(deposit_ref.len()).unwrap_or(u32::MAX),
                max: MAX_DEPOSIT_REF_BYTES as u32,
            }));
        }
        let deposit_hash = deposit_hash(deposit_ref);
        if DEPOSITS.contains(&*ctx.state, &deposit_hash)? {
            return Ok(Err(CurrencyError::DepositAlreadyRecorded { deposit_hash }));
        }
        let (supply, reserve) = supply(&*ctx.state)?;
        let (Some(supply), Some(reserve)) =
            (supply.checked_add(amount), reserve.checked_add(amount))
        else {
            return Ok(Err(CurrencyError::Overflow));
        };
        let received = tri!(add_free(&*ctx.state, to, amount));
        let height = ctx.block().height;
        DEPOSITS.insert(
            ctx.state,
            &deposit_hash,
            &DepositRecord {
                beneficiary: *to,
                amount,
                height,
            },
        );
        TOTAL_SUPPLY.put(ctx.state, &supply);
        EURO_RESERVE.put(ctx.state, &reserve);
        wijk_system::set_balance(ctx.state, to, received)?;
        ctx.deposit_event(Event::Minted {
            to: *to,
            amount,
            deposit_ref: deposit_ref.to_vec(),
        });
        Ok(Ok(()))
    }

    fn burn(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError> {
        check!(positive(amount));
        let remaining = tri!(take_free(&*ctx.state, from, amount));
        // Supply and reserve are at least any single balance while the invariant holds, so
        // these cannot underflow; if they would, the state is corrupt and we refuse.
        let (supply, reserve) = supply(&*ctx.state)?;
        let (Some(supply), Some(reserve)) =
            (supply.checked_sub(amount), reserve.checked_sub(amount))
        else {
            return Ok(Err(CurrencyError::Overflow));
        };
        TOTAL_SUPPLY.put(ctx.state, &supply);
        EURO_RESERVE.put(ctx.state, &reserve);
        wijk_system::set_balance(ctx.state, from, remaining)?;
        let height = ctx.block().height;
        REDEMPTIONS.push(
            ctx.state,
            &RedemptionRecord {
                who: *from,
                amount,
                height,
            },
        )?;
        ctx.deposit_event(Event::Redeemed { who: *from, amount });
        Ok(Ok(()))
    }

    fn reserve(
        &self,
        ctx: &mut CallContext<'_, '_>,
        who: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError> {
        check!(positive(amount));
        let remaining = tri!(take_free(&*ctx.state, who, amount));
        let Some(held) = reserved(&*ctx.state, who)?.checked_add(amount) else {
            return Ok(Err(CurrencyError::Overflow));
        };
        wijk_system::set_balance(ctx.state, who, remaining)?;
        put_reserved(ctx.state, who, held);
        ctx.deposit_event(Event::Reserved { who: *who, amount });
        Ok(Ok(()))
    }

    fn unreserve(
        &self,
        ctx: &mut CallContext<'_, '_>,
        who: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError> {
        check!(positive(amount));
        let held = tri!(take_reserved(&*ctx.state, who, amount));
        let free = tri!(add_free(&*ctx.state, who, amount));
        put_reserved(ctx.state, who, held);
        wijk_system::set_balance(ctx.state, who, free)?;
        ctx.deposit_event(Event::Unreserved { who: *who, amount });
        Ok(Ok(()))
    }

    fn repatriate_reserved(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        to: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError> {
        check!(positive(amount));
        let held = tri!(take_reserved(&*ctx.state, from, amount));
        put_reserved(ctx.state, from, held);
        let free = tri!(add_free(&*ctx.state, to, amount));
        wijk_system::set_balance(ctx.state, to, free)?;
        ctx.deposit_event(Event::ReservePaid {
            from: *from,
            to: *to,
            amount,
        });
        Ok(Ok(()))
    }
}

/// What an audit of the coin's state found: every figure recomputed from the records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoinAudit {
    /// The recorded total supply.
    pub total_supply: Cents,
    /// The recorded euro reserve.
    pub euro_reserve: Cents,
    /// Sum of every account's free balance.
    pub free_balances: Cents,
    /// Sum of every account's reserved balance.
    pub reserved_balances: Cents,
    /// Sum of every recorded deposit (genesis balances included).
    pub deposits: Cents,
    /// Sum of every recorded redemption.
    pub redemptions: Cents,
    /// Accounts with a record.
    pub accounts: u64,
}

/// Why an audit failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The state could not be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// A sum does not fit.
    #[error("a sum of the coin's records overflows")]
    Overflow,
    /// The balances do not add up to the supply.
    #[error("free {} + reserved {} balances != total supply {}", format_cents(.0.free_balances), format_cents(.0.reserved_balances), format_cents(.0.total_supply))]
    BalancesDoNotSum(CoinAudit),
    /// The reserve is not what the deposits and redemptions say.
    #[error("deposits {} - redemptions {} != euro reserve {}", format_cents(.0.deposits), format_cents(.0.redemptions), format_cents(.0.euro_reserve))]
    ReserveDoesNotMatch(CoinAudit),
}

/// Recomputes the coin's figures from every record in `state` and checks that the balances
/// sum to the supply and that the reserve equals deposits minus redemptions. Its work grows
/// with the number of accounts: for tests and auditors, never for block execution.
pub fn audit(state: &dyn StateRead) -> Result<CoinAudit, AuditError> {
    let (total_supply, euro_reserve) = supply(state)?;
    let mut audit = CoinAudit {
        total_supply,
        euro_reserve,
        ..CoinAudit::default()
    };
    let mut overflow = false;
    let mut add = |sum: &mut Cents, amount: Cents| match sum.checked_add(amount) {
        Some(total) => *sum = total,
        None => overflow = true,
    };
    let mut free = 0;
    let mut accounts = 0;
    wijk_system::ACCOUNTS.for_each(state, |_, info| {
        accounts += 1;
        add(&mut free, info.balance_cents);
    })?;
    let mut held = 0;
    RESERVED.for_each(state, |_, amount| add(&mut held, amount))?;
    let mut deposits = 0;
    DEPOSITS.for_each(state, |_, record| add(&mut deposits, record.amount))?;
    let mut redemptions = 0;
    REDEMPTIONS.for_each(state, |_, record| add(&mut redemptions, record.amount))?;
    if overflow {
        return Err(AuditError::Overflow);
    }
    audit.free_balances = free;
    audit.reserved_balances = held;
    audit.deposits = deposits;
    audit.redemptions = redemptions;
    audit.accounts = accounts;
    if free.checked_add(held) != Some(total_supply) {
        return Err(AuditError::BalancesDoNotSum(audit));
    }
    if deposits.checked_sub(redemptions) != Some(euro_reserve) {
        return Err(AuditError::ReserveDoesNotMatch(audit));
    }
    Ok(audit)
}

#[cfg(test)]
mod tests;
