//! The coin pallet: the wijk's euro-pegged coin (1 coin = 1 euro, amounts in cents).
//!
//! Rules:
//! - **Mint** only by an exchange office (*wisselkantoor*, a member holding that role), only
//!   against a euro deposit recorded once under its reference: the same bank transfer can
//!   never mint twice. Minting raises total supply and the euro reserve by the same amount.
//!   Balances funded at genesis are recorded as deposits too, under the reference
//!   `genesis/` followed by the account's 32 public-key bytes ([`genesis_deposit_ref`]).
//! - **Redemption is a flow.** A holder the spec's policy allows (by default merchants,
//!   redemption partners and organisations) asks for a payout to a bank reference (its
//!   hash): the coins are burned at once and a *redemption owed* is recorded; an optional
//!   fee (per mille) is not burned but paid to the cooperative's fund, so coins stay local.
//!   An exchange office then marks it paid with the bank transfer's reference hash, which
//!   lowers the euro reserve. So `total supply == euro reserve - redemptions owed` always.
//! - **Payments** (transfers and gifts) move coins; they never change supply. The
//!   recipient must be able to receive ([`wijk_support::Membership::check_recipient`]:
//!   members only on a closed chain), except a gift pool. A guardian's payment for a member
//!   counts against the guardian's daily cap. **Gift pools** receive gifts, and an
//!   intermediary pays from them to members within a per-member cap per month.
//! - **Earmarks** ([`earmark`]): a funder's coins that only merchants may take, inside the
//!   region and in some categories if the funder says so, until an expiry after which what
//!   is left returns to the funder. A payment to a merchant uses matching earmarked coins
//!   first. **Local-only** (a spec switch): every payment to a non-member or to a merchant
//!   outside the region fails.
//! - Escrow for other pallets: **reserve**, **unreserve**, **repatriate** (through the
//!   [`Currency`] trait this pallet implements) move free coins to and from a held balance.
//! - Invariants: `total_supply + redemptions_owed == euro_reserve` after every block
//!   ([`Pallet`]'s `check_invariants`), and, checked by [`audit`] in tests after every block
//!   and by auditors on any state: free, reserved and earmarked balances sum to
//!   `total_supply`; `euro_reserve` equals the recorded deposits minus the redemptions paid;
//!   `redemptions_owed` equals the recorded redemptions not yet paid.
//!
//! Owns: the balance in each account's record (`system/account/<account>`, which the
//! system pallet keeps so that a payment touches one state key per account; the coin
//! changes it only through `wijk_system::set_balance`), and every key under `coin/`.
//! Must never: touch nonces or any other pallet's storage, or use floating point.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// A call's error is built only when the call fails, and then goes into its receipt: its size
// (named accounts and amounts, so a resident reads why) costs nothing on the success path.
#![allow(clippy::result_large_err)]

pub mod earmark;
mod redemption;

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use wijk_primitives::json::{euro, text_bytes};
use wijk_primitives::{format_cents, AccountId, Cents, Hash, Height};
use wijk_support::{
    check, tri, BadOrigin, CallContext, Collective, Cost, Currency, CurrencyError, DispatchResult,
    EarmarkTerms, Escrowed, InvariantViolation, Involves, MembershipError, Origin, Role, RoleSet,
    StateError, StateOverlay, StateRead, StorageLog, StorageMap, StorageValue,
};

pub use earmark::{Earmark, EarmarkError, EarmarkId};
pub use redemption::{Payout, RedemptionPolicy, RedemptionRecord};

/// Coins in existence.
pub const TOTAL_SUPPLY: StorageValue<Cents> = StorageValue::new(b"coin/total_supply");
/// Euros held in reserve against the coins and the redemptions owed (recorded deposits
/// minus redemptions paid).
pub const EURO_RESERVE: StorageValue<Cents> = StorageValue::new(b"coin/euro_reserve");
/// Euros owed to holders whose coins were burned for a payout not yet made.
pub const REDEMPTIONS_OWED: StorageValue<Cents> = StorageValue::new(b"coin/redemptions_owed");
/// The coin's rules from the chain spec.
pub const CONFIG: StorageValue<Config> = StorageValue::new(b"coin/config");
/// Every euro deposit that has been minted against, by hash of its reference.
pub const DEPOSITS: StorageMap<Hash, DepositRecord> = StorageMap::new(b"coin/deposit/");
/// Coins held in reserve (escrow) per account; absent means none.
pub const RESERVED: StorageMap<AccountId, Cents> = StorageMap::new(b"coin/reserved/");
/// Every redemption, oldest first; its index is its id.
pub const REDEMPTIONS: StorageLog<RedemptionRecord> =
    StorageLog::new(b"coin/redemption/", b"coin/redemption_count");
/// Every bank transfer recorded as a redemption's payout, by hash of its reference, with
/// the redemption it paid: one transfer pays one redemption.
pub const PAYOUT_REFS: StorageMap<Hash, u64> = StorageMap::new(b"coin/payout_ref/");
/// Gift pools, by their account.
pub const POOLS: StorageMap<AccountId, Pool> = StorageMap::new(b"coin/pool/");
/// What each pool paid each member in the current month.
pub const POOL_PAID: StorageMap<(AccountId, AccountId), MonthPaid> =
    StorageMap::new(b"coin/pool_paid/");

/// Longest deposit reference (a bank transfer id or receipt number), in bytes.
pub const MAX_DEPOSIT_REF_BYTES: usize = 64;
/// Longest gift pool name, in bytes.
pub const MAX_POOL_NAME_BYTES: usize = 64;
/// Longest purpose of a spend from the cooperative's fund, in bytes.
pub const MAX_PURPOSE_BYTES: usize = 160;

/// What executing a call costs. `scripts/bench-import --calibrate` measured, on the
/// reference machine with 10,000 registered members holding earmarked coins (2026-12-02,
/// earmarks in the account record), 4.4 µs for a payment, 4.0 for a payment to a merchant
/// from earmarked coins, 4.1 for a mint and 3.4 for a redemption request, each with its
/// transaction's membership and nonce checks; the declared costs keep 2-3x headroom
/// because reads slow down as the state outgrows the caches. A payment to a merchant reads
/// the rule of every earmark the payer holds (at most
/// [`earmark::MAX_EARMARKS_PER_ACCOUNT`]).
pub mod costs {
    use wijk_support::Cost;
    /// A transfer or gift: two account records and the recipient's membership read and
    /// written; to a merchant, the payer's earmarks too.
    pub const TRANSFER: Cost = Cost::nanos(12_000);
    /// A mint: a deposit record, supply, reserve and one account (and an earmark).
    pub const MINT: Cost = Cost::nanos(10_000);
    /// A redemption request or payment: supply, reserve, owed, one account and a record.
    pub const REDEEM: Cost = Cost::nanos(10_000);
    /// Pool payments, pool creation, earmarked transfers.
    pub const MANAGE: Cost = Cost::nanos(12_000);
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

/// A gift pool: an account nobody holds a key to, which receives gifts and from which
/// intermediaries pay members.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pool {
    /// Its name ("care", "school trips").
    pub name: String,
    /// Most it pays one member in a month (euros in JSON).
    #[serde(with = "euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub monthly_cap: Cents,
}

/// What a pool paid a member in one month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct MonthPaid {
    /// The month (height / month length).
    pub month: u64,
    /// Paid in it.
    pub paid: Cents,
}

/// The account of the gift pool named `name`: a hash, not a public key anybody derived, so
/// nobody can sign for it; only the pool rules move its coins.
pub fn pool_account(name: &str) -> AccountId {
    let mut input = b"wijk gift pool ".to_vec();
    input.extend_from_slice(name.as_bytes());
    AccountId(*blake3::hash(&input).as_bytes())
}

/// The cooperative's fund: an account nobody holds a key to, so only an enacted vote of the
/// members ([`Call::SpendFromFund`]) spends from it. It takes gifts like a pool does, and a
/// chain spec names it as the redemption policy's `fund` to collect the redemption fees
/// there.
pub fn cooperative_fund() -> AccountId {
    AccountId(*blake3::hash(b"wijk cooperative fund").as_bytes())
}

/// The coin's rules, from the chain spec.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Config {
    /// Who may ask for a payout, and the fee.
    pub redemption: RedemptionPolicy,
    /// Whether every payment must stay in the wijk (to members, and to merchants inside
    /// the region).
    pub local_only: bool,
    /// Blocks in a gift pool's month.
    pub pool_month_blocks: Height,
}

/// 30 days of one-second blocks.
pub const MONTH_OF_BLOCKS: Height = 30 * 86_400;

/// The calls of this pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// Pays `amount` from the signer (or the member a guardian acts for) to `to`; to a
    /// merchant, matching earmarked coins go first.
    #[codec(index = 0)]
    Transfer {
        /// Recipient.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// An exchange office mints `amount` to `to` against the euro deposit `deposit_ref`,
    /// as free coins or under an earmark.
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
        /// The funder's earmark on the coins, if any.
        earmark: Option<Earmark>,
    },
    /// Burns `amount` of the signer's free coins for a euro payout to the bank account
    /// whose reference hashes to `payout_to`; the redemption is owed until paid.
    #[codec(index = 2)]
    RequestRedemption {
        /// Amount (cents in SCALE, euros in JSON), the fee included.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// blake3 of the bank account reference the euros go to (no bank details on chain).
        payout_to: Hash,
    },
    /// An exchange office records that redemption `id` was paid out.
    #[codec(index = 3)]
    PayRedemption {
        /// The redemption.
        id: u64,
        /// blake3 of the bank transfer's reference.
        bank_ref: Hash,
    },
    /// Gives `amount` to a member or a gift pool (a payment that is a gift, not a purchase:
    /// statistics do not count it as production).
    #[codec(index = 4)]
    Gift {
        /// Recipient: a member or a pool.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// An intermediary pays `amount` from a gift pool to a member, within the pool's cap
    /// per member per month.
    #[codec(index = 5)]
    PoolPay {
        /// The pool's account.
        pool: AccountId,
        /// The member.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// The board opens a gift pool.
    #[codec(index = 6)]
    CreatePool {
        /// Its name; its account is [`pool_account`] of it.
        name: String,
        /// Most it pays one member in a month (euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        monthly_cap: Cents,
    },
    /// A funder (an organisation) gives `amount` of their free coins to `to` under an
    /// earmark of theirs.
    #[codec(index = 7)]
    EarmarkedTransfer {
        /// Recipient.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// The earmark; its funder must be the signer.
        earmark: Earmark,
    },
    /// By vote only: pays `amount` from the cooperative's fund ([`cooperative_fund`]) to a
    /// member, for the purpose the proposal states.
    #[codec(index = 8)]
    SpendFromFund {
        /// Recipient (a member).
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// What it is for, as the members read it (at most [`MAX_PURPOSE_BYTES`]).
        purpose: String,
    },
}

/// What happened (past tense).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum Event {
    /// Free coins moved.
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
        /// The exchange office that minted.
        by: AccountId,
        /// The earmark the coins carry, if any.
        earmark: Option<EarmarkId>,
    },
    /// Coins were burned for a payout; the holder is owed `amount` euros.
    #[codec(index = 2)]
    RedemptionRequested {
        /// The redemption's id.
        id: u64,
        /// The holder.
        who: AccountId,
        /// Burned and owed (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// Paid to the fund instead of burned (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        fee: Cents,
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
    /// A redemption was paid out in euros.
    #[codec(index = 6)]
    RedemptionPaid {
        /// The redemption's id.
        id: u64,
        /// The holder paid.
        who: AccountId,
        /// Euros paid (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// The exchange office that paid.
        by: AccountId,
    },
    /// A gift was given (the coins moved in the `Transferred` beside it).
    #[codec(index = 7)]
    Gifted {
        /// The giver.
        from: AccountId,
        /// The member or pool.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// A gift pool paid a member.
    #[codec(index = 8)]
    PoolPaid {
        /// The pool.
        pool: AccountId,
        /// The member.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// The intermediary who paid.
        by: AccountId,
        /// Paid to this member this month, this included (euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        paid_this_month: Cents,
    },
    /// A gift pool was opened.
    #[codec(index = 9)]
    PoolCreated {
        /// Its account.
        pool: AccountId,
        /// Its name.
        name: String,
        /// Its cap per member per month (euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        monthly_cap: Cents,
    },
    /// Coins were put under an earmark for `to` (by a mint or a funder's transfer).
    #[codec(index = 10)]
    Earmarked {
        /// Where they came from: the funder, or the beneficiary of a mint.
        from: AccountId,
        /// Who holds them.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// The earmark.
        earmark: EarmarkId,
        /// Its rule in words.
        rule: String,
    },
    /// Earmarked coins paid a merchant (they are free coins of the merchant now).
    #[codec(index = 11)]
    EarmarkSpent {
        /// The payer.
        who: AccountId,
        /// The merchant.
        merchant: AccountId,
        /// The earmark.
        earmark: EarmarkId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// Earmarked coins left at the expiry went back to their funder.
    #[codec(index = 12)]
    EarmarkExpired {
        /// Who held them.
        who: AccountId,
        /// The funder they returned to.
        funder: AccountId,
        /// The earmark.
        earmark: EarmarkId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// Earmarked coins moved with their holder to a new key.
    #[codec(index = 13)]
    EarmarkMoved {
        /// The old key.
        from: AccountId,
        /// The new key.
        to: AccountId,
        /// The earmark.
        earmark: EarmarkId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// The members' vote paid from the cooperative's fund.
    #[codec(index = 14)]
    FundSpent {
        /// Recipient.
        to: AccountId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// What it is for.
        purpose: String,
    },
    /// Earmarked coins of `who` went into escrow for a payment to `payee` (a merchant their
    /// rule allows).
    #[codec(index = 15)]
    EarmarkReserved {
        /// The holder.
        who: AccountId,
        /// Whom the escrow is for.
        payee: AccountId,
        /// The earmark.
        earmark: EarmarkId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// Escrowed earmarked coins of `who` returned under their earmark, to `to` (`who`, or
    /// their key now).
    #[codec(index = 16)]
    EarmarkUnreserved {
        /// Whose escrow.
        who: AccountId,
        /// Who holds them again.
        to: AccountId,
        /// The earmark.
        earmark: EarmarkId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// Escrowed earmarked coins of `who` went to the earmark's funder: the holder they were
    /// to return to holds as many earmarks as an account may.
    #[codec(index = 17)]
    EarmarkReturned {
        /// Whose escrow.
        who: AccountId,
        /// The funder they went to.
        funder: AccountId,
        /// The earmark.
        earmark: EarmarkId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// A merchant was paid for a sale (the coins moved in the `Transferred` and
    /// `EarmarkSpent` beside it); part of the wijk's GDP.
    #[codec(index = 18)]
    MerchantPaid {
        /// The payer.
        from: AccountId,
        /// The merchant.
        merchant: AccountId,
        /// Paid in all, free and earmarked coins (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
}

impl Involves for Event {
    fn involved_accounts(&self, accounts: &mut Vec<AccountId>) {
        match self {
            Event::Transferred { from, to, .. }
            | Event::MerchantPaid {
                from, merchant: to, ..
            }
            | Event::ReservePaid { from, to, .. }
            | Event::Gifted { from, to, .. }
            | Event::Earmarked { from, to, .. }
            | Event::EarmarkMoved { from, to, .. } => accounts.extend([*from, *to]),
            Event::Minted { to, by, .. } => accounts.extend([*to, *by]),
            Event::RedemptionPaid { who, by, .. } => accounts.extend([*who, *by]),
            Event::RedemptionRequested { who, .. }
            | Event::Reserved { who, .. }
            | Event::Unreserved { who, .. } => accounts.push(*who),
            Event::PoolPaid { pool, to, by, .. } => accounts.extend([*pool, *to, *by]),
            Event::PoolCreated { pool, .. } => accounts.push(*pool),
            Event::EarmarkSpent { who, merchant, .. } => accounts.extend([*who, *merchant]),
            Event::EarmarkExpired { who, funder, .. }
            | Event::EarmarkReturned { who, funder, .. } => accounts.extend([*who, *funder]),
            Event::EarmarkReserved { who, payee, .. } => accounts.extend([*who, *payee]),
            Event::EarmarkUnreserved { who, to, .. } => accounts.extend([*who, *to]),
            Event::FundSpent { to, .. } => accounts.extend([cooperative_fund(), *to]),
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
    /// The caller lacks the role the call needs.
    #[error("{caller:?} is not {what}: {role} only")]
    #[codec(index = 1)]
    MissingRole {
        /// Who tried.
        caller: AccountId,
        /// The role needed.
        role: Role,
        /// What the call does, for the message ("allowed to mint").
        what: String,
    },
    /// The call came from an origin that may not make it.
    #[error(transparent)]
    #[codec(index = 2)]
    BadOrigin(#[from] BadOrigin),
    /// The recipient may not receive (not a member, suspended), or a guardian's cap is spent.
    #[error(transparent)]
    #[codec(index = 3)]
    Membership(#[from] MembershipError),
    /// An earmark rule forbids the payment, or an earmark is malformed.
    #[error(transparent)]
    #[codec(index = 4)]
    Earmark(#[from] EarmarkError),
    /// The redemption policy does not let this holder redeem.
    #[error("{who:?} may not redeem: the wijk's policy lets {allowed} redeem")]
    #[codec(index = 5)]
    MayNotRedeem {
        /// The holder.
        who: AccountId,
        /// Who may, in words.
        allowed: String,
    },
    /// No such redemption.
    #[error("no redemption has id {id}")]
    #[codec(index = 6)]
    NoSuchRedemption {
        /// The id given.
        id: u64,
    },
    /// The redemption was paid already.
    #[error("redemption {id} was paid already at height {height}")]
    #[codec(index = 7)]
    AlreadyPaid {
        /// The redemption.
        id: u64,
        /// When it was paid.
        height: Height,
    },
    /// No gift pool at this account.
    #[error("{pool:?} is not a gift pool")]
    #[codec(index = 8)]
    NoSuchPool {
        /// The account given.
        pool: AccountId,
    },
    /// The pool's monthly cap for this member would be exceeded.
    #[error(transparent)]
    #[codec(index = 9)]
    OverPoolCap(Box<PoolCapExceeded>),
    /// A pool with this name exists.
    #[error("a gift pool named '{name}' exists already")]
    #[codec(index = 10)]
    PoolExists {
        /// The name.
        name: String,
    },
    /// The pool name is empty or too long.
    #[error("a pool's name must be 1 to {max} bytes")]
    #[codec(index = 11)]
    BadPoolName {
        /// The limit.
        max: u32,
    },
    /// This bank transfer was recorded as another redemption's payout.
    #[error("bank reference {bank_ref:?} already paid redemption {paid}")]
    #[codec(index = 14)]
    PayoutRefUsed {
        /// The hash of the reference.
        bank_ref: Hash,
        /// The redemption it paid.
        paid: u64,
    },
    /// The chain spec's coin rules are inconsistent.
    #[error("the coin's rules in the chain spec: {why}")]
    #[codec(index = 13)]
    BadPolicy {
        /// What is wrong.
        why: String,
    },
    /// A spend from the fund needs a purpose.
    #[error("a spend from the cooperative's fund needs a purpose of 1 to {max} bytes")]
    #[codec(index = 15)]
    BadPurpose {
        /// The limit.
        max: u32,
    },
    /// The coin is local-only and the payment would leave the wijk.
    #[error("this coin stays in {region}: {why}")]
    #[codec(index = 12)]
    NotLocal {
        /// The region's name.
        region: String,
        /// What is outside.
        why: String,
    },
}

/// A pool payment over the member's monthly cap (boxed in [`Error`], the largest refusal).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
#[error("pool '{pool}' pays a member at most {} a month; {member:?} had {} this month, so {} more is refused", format_cents(*monthly_cap), format_cents(*paid), format_cents(*asked))]
pub struct PoolCapExceeded {
    /// The pool's name.
    pub pool: String,
    /// The member.
    pub member: AccountId,
    /// The cap.
    pub monthly_cap: Cents,
    /// Paid this month.
    pub paid: Cents,
    /// Asked now.
    pub asked: Cents,
}

/// A balance funded at genesis: an address and a euro amount (`["K...", "100.00"]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenesisBalance(pub AccountId, #[serde(with = "euro")] pub Cents);

/// A gift pool at genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisPool {
    /// Its name.
    pub name: String,
    /// Most it pays one member a month (euros).
    #[serde(with = "euro")]
    pub monthly_cap: Cents,
}

/// The coin's section of a chain spec's genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Genesis {
    /// Initial balances; each is recorded as a euro deposit (see [`genesis_deposit_ref`]).
    pub balances: Vec<GenesisBalance>,
    /// Who may redeem, and the fee.
    pub redemption: RedemptionPolicy,
    /// Whether every payment must stay in the wijk.
    pub local_only: bool,
    /// Gift pools.
    pub gift_pools: Vec<GenesisPool>,
    /// Blocks in a gift pool's month (default 30 days of one-second blocks).
    pub pool_month_blocks: Height,
}

impl Default for Genesis {
    fn default() -> Self {
        Genesis {
            balances: Vec::new(),
            redemption: RedemptionPolicy::default(),
            local_only: false,
            gift_pools: Vec::new(),
            pool_month_blocks: MONTH_OF_BLOCKS,
        }
    }
}

/// The deposit reference under which a genesis balance of `account` is recorded.
pub fn genesis_deposit_ref(account: &AccountId) -> Vec<u8> {
    let mut reference = b"genesis/".to_vec();
    reference.extend_from_slice(account.as_bytes());
    reference
}

/// The rules in force.
pub fn config(state: &dyn StateRead) -> Result<Config, StateError> {
    Ok(CONFIG.get(state)?.unwrap_or(Config {
        redemption: RedemptionPolicy::default(),
        local_only: false,
        pool_month_blocks: MONTH_OF_BLOCKS,
    }))
}

/// The coin pallet (and, as [`Currency`], the money every other pallet uses).
pub struct Pallet;

impl wijk_support::Pallet for Pallet {
    const NAME: &'static str = "coin";
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = Genesis;

    const HOOKS_COST: Cost = earmark::costs::EXPIRE.times(earmark::MAX_EXPIRIES_PER_BLOCK as u64);

    fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
        check!(config.redemption.check());
        CONFIG.put(
            state,
            &Config {
                redemption: config.redemption.clone(),
                local_only: config.local_only,
                pool_month_blocks: config.pool_month_blocks.max(1),
            },
        );
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
        for pool in &config.gift_pools {
            check!(open_pool(state, &pool.name, pool.monthly_cap)?);
        }
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
                if tri!(pay(ctx, origin, to, *amount)) == Recipient::Merchant {
                    // Said in the history itself, so the wijk's GDP is counted (and
                    // recounted by an auditor) from the events alone.
                    ctx.deposit_event(Event::MerchantPaid {
                        from,
                        merchant: *to,
                        amount: *amount,
                    });
                }
                Ok(Ok(()))
            }
            Call::Gift { to, amount } => {
                let from = check!(origin.ensure_signed_or_guardian()).member;
                tri!(pay(ctx, origin, to, *amount));
                ctx.deposit_event(Event::Gifted {
                    from,
                    to: *to,
                    amount: *amount,
                });
                Ok(Ok(()))
            }
            Call::Mint {
                to,
                amount,
                deposit_ref,
                earmark,
            } => {
                let office = check!(origin.ensure_signed());
                check!(require_role(
                    ctx,
                    &office,
                    Role::ExchangeOffice,
                    "allowed to mint"
                )?);
                check!(ctx.membership().check_recipient(&*ctx.state, to)?);
                if let Some(earmark) = earmark {
                    check!(earmark.check(ctx.block().height));
                    // Expired coins return to the funder: it must be a funder of the wijk.
                    check!(require_role(
                        ctx,
                        &earmark.funder,
                        Role::Organisation,
                        "a funder"
                    )?);
                }
                tri!(Pallet.mint(ctx, to, *amount, deposit_ref));
                // Minted first, then (for earmarked coins) Earmarked: the history reads in
                // the order the coins moved.
                ctx.deposit_event(Event::Minted {
                    to: *to,
                    amount: *amount,
                    deposit_ref: deposit_ref.clone(),
                    by: office,
                    earmark: earmark.as_ref().map(Earmark::id),
                });
                if let Some(earmark) = earmark {
                    // Minted as free coins, then put under the earmark at once.
                    let free = tri!(take_free(&*ctx.state, to, *amount));
                    wijk_system::set_balance(ctx.state, to, free)?;
                    tri!(earmark::put_under(ctx, to, to, *amount, earmark));
                }
                Ok(Ok(()))
            }
            Call::RequestRedemption { amount, payout_to } => {
                redemption::request(ctx, origin, *amount, *payout_to)
            }
            Call::PayRedemption { id, bank_ref } => redemption::pay(ctx, origin, *id, *bank_ref),
            Call::PoolPay { pool, to, amount } => pool_pay(ctx, origin, pool, to, *amount),
            Call::CreatePool { name, monthly_cap } => {
                check!(ctx.ensure_decided_by(origin, Collective::Board)?);
                let pool = tri!(open_pool(ctx.state, name, *monthly_cap));
                ctx.deposit_event(Event::PoolCreated {
                    pool,
                    name: name.clone(),
                    monthly_cap: *monthly_cap,
                });
                Ok(Ok(()))
            }
            Call::EarmarkedTransfer {
                to,
                amount,
                earmark,
            } => {
                let funder = check!(origin.ensure_signed());
                check!(require_role(ctx, &funder, Role::Organisation, "a funder")?);
                if earmark.funder != funder {
                    return Ok(Err(EarmarkError::NotYourEarmark {
                        funder: earmark.funder,
                        signer: funder,
                    }
                    .into()));
                }
                check!(earmark.check(ctx.block().height));
                check!(ctx.membership().check_recipient(&*ctx.state, to)?);
                check!(positive(*amount));
                if funder == *to {
                    return Ok(Err(CurrencyError::SelfTransfer.into()));
                }
                let remaining = tri!(take_free(&*ctx.state, &funder, *amount));
                wijk_system::set_balance(ctx.state, &funder, remaining)?;
                tri!(earmark::put_under(ctx, &funder, to, *amount, earmark));
                Ok(Ok(()))
            }
            Call::SpendFromFund {
                to,
                amount,
                purpose,
            } => {
                check!(ctx.ensure_decided_by(origin, Collective::Members)?);
                if purpose.trim().is_empty() || purpose.len() > MAX_PURPOSE_BYTES {
                    return Ok(Err(Error::BadPurpose {
                        max: MAX_PURPOSE_BYTES as u32,
                    }));
                }
                check!(ctx.membership().check_recipient(&*ctx.state, to)?);
                tri!(Pallet.transfer(ctx, &cooperative_fund(), to, *amount));
                ctx.deposit_event(Event::FundSpent {
                    to: *to,
                    amount: *amount,
                    purpose: purpose.clone(),
                });
                Ok(Ok(()))
            }
        }
    }

    fn cost(call: &Call) -> Cost {
        match call {
            Call::Transfer { .. } | Call::Gift { .. } => costs::TRANSFER,
            Call::Mint { .. } => costs::MINT,
            Call::RequestRedemption { .. } | Call::PayRedemption { .. } => costs::REDEEM,
            Call::PoolPay { .. }
            | Call::CreatePool { .. }
            | Call::EarmarkedTransfer { .. }
            | Call::SpendFromFund { .. } => costs::MANAGE,
        }
    }

    /// Returns to their funders the earmarked coins whose expiry has come, oldest first, at
    /// most [`earmark::MAX_EXPIRIES_PER_BLOCK`] a block.
    fn end_block(ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
        earmark::expire_due(ctx)
    }

    fn check_invariants(
        state: &dyn StateRead,
    ) -> Result<Result<(), InvariantViolation>, StateError> {
        let figures = supply(state)?;
        Ok(
            if figures.total_supply.checked_add(figures.owed) == Some(figures.euro_reserve) {
                Ok(())
            } else {
                Err(InvariantViolation {
                    pallet: "coin",
                    rule: "total supply == euro reserve - redemptions owed",
                    detail: format!(
                        "total supply {}, euro reserve {}, owed {}",
                        format_cents(figures.total_supply),
                        format_cents(figures.euro_reserve),
                        format_cents(figures.owed)
                    ),
                })
            },
        )
    }
}

fn require_role(
    ctx: &CallContext<'_, '_>,
    caller: &AccountId,
    role: Role,
    what: &str,
) -> Result<Result<(), Error>, StateError> {
    Ok(if ctx.membership().has_role(&*ctx.state, caller, role)? {
        Ok(())
    } else {
        Err(Error::MissingRole {
            caller: *caller,
            role,
            what: what.to_string(),
        })
    })
}

fn open_pool(
    state: &mut StateOverlay<'_>,
    name: &str,
    monthly_cap: Cents,
) -> Result<Result<AccountId, Error>, StateError> {
    if name.is_empty() || name.len() > MAX_POOL_NAME_BYTES {
        return Ok(Err(Error::BadPoolName {
            max: MAX_POOL_NAME_BYTES as u32,
        }));
    }
    if monthly_cap == 0 {
        return Ok(Err(CurrencyError::ZeroAmount.into()));
    }
    let account = pool_account(name);
    if POOLS.contains(&*state, &account)? {
        return Ok(Err(Error::PoolExists {
            name: name.to_string(),
        }));
    }
    POOLS.insert(
        state,
        &account,
        &Pool {
            name: name.to_string(),
            monthly_cap,
        },
    );
    Ok(Ok(account))
}

/// Whom a payment went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recipient {
    /// A merchant with a registered place (a sale: part of the wijk's GDP).
    Merchant,
    /// Anyone else: a resident, an organisation, a pool, the fund.
    Other,
}

/// A payment from the signer (or the member their guardian acts for) to `to`: the rules of
/// who may receive, a guardian's cap, local-only, and earmarks first at a merchant.
fn pay(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    to: &AccountId,
    amount: Cents,
) -> Result<Result<Recipient, Error>, StateError> {
    let acting = check!(origin.ensure_signed_or_guardian());
    let from = acting.member;
    check!(positive(amount));
    if from == *to {
        return Ok(Err(CurrencyError::SelfTransfer.into()));
    }
    // Members first: most payments go to one, and a pool is never a member (nobody holds
    // its key), so the pool record is read only when the recipient is not.
    let (to_pool, place) = match ctx.membership().check_recipient(&*ctx.state, to)? {
        Ok(place) => (false, place),
        Err(refused) => {
            if *to != cooperative_fund() && !POOLS.contains(&*ctx.state, to)? {
                return Ok(Err(refused.into()));
            }
            (true, None)
        }
    };
    if config(&*ctx.state)?.local_only {
        check!(check_local(ctx, to, to_pool, place.as_ref())?);
    }
    if let Some(guardian) = acting.guardian {
        tri!(ctx
            .membership()
            .charge_guardian(ctx, &guardian, &from, amount));
    }
    let from_earmarks = match &place {
        Some(place) => tri!(earmark::spend_at_merchant(ctx, &from, to, place, amount)),
        None => 0,
    };
    let from_free = amount - from_earmarks;
    if from_free > 0 {
        let available = balance(&*ctx.state, &from)?;
        if available < from_free {
            // Say why earmarked coins the payer holds could not help.
            let refusal = earmark::why_not_usable(ctx, &from, to, place.as_ref())?;
            return Ok(Err(match refusal {
                Some(refused) => refused.into(),
                None => CurrencyError::InsufficientBalance {
                    account: from,
                    available,
                    needed: from_free,
                }
                .into(),
            }));
        }
        tri!(Pallet.transfer(ctx, &from, to, from_free));
    }
    Ok(Ok(if place.is_some() {
        Recipient::Merchant
    } else {
        Recipient::Other
    }))
}

fn check_local(
    ctx: &CallContext<'_, '_>,
    to: &AccountId,
    to_pool: bool,
    place: Option<&wijk_support::Place>,
) -> Result<Result<(), Error>, StateError> {
    let region = || ctx.geography().region_name(&*ctx.state);
    if !to_pool && !ctx.membership().is_member(&*ctx.state, to)? {
        return Ok(Err(Error::NotLocal {
            region: region()?,
            why: format!("{to:?} is not a member"),
        }));
    }
    if let Some(place) = place {
        if !ctx.geography().in_region(&*ctx.state, &place.location)? {
            return Ok(Err(Error::NotLocal {
                region: region()?,
                why: format!("merchant {to:?} trades outside it, at {}", place.location),
            }));
        }
    }
    Ok(Ok(()))
}

fn pool_pay(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    pool: &AccountId,
    to: &AccountId,
    amount: Cents,
) -> DispatchResult<Error> {
    let by = check!(origin.ensure_signed());
    check!(require_role(
        ctx,
        &by,
        Role::Intermediary,
        "allowed to pay from a gift pool"
    )?);
    let Some(record) = POOLS.get(&*ctx.state, pool)? else {
        return Ok(Err(Error::NoSuchPool { pool: *pool }));
    };
    check!(positive(amount));
    if !ctx.membership().is_member(&*ctx.state, to)? {
        check!(ctx.membership().check_recipient(&*ctx.state, to)?);
    }
    let month = ctx.block().height / config(&*ctx.state)?.pool_month_blocks.max(1);
    let paid = POOL_PAID
        .get(&*ctx.state, &(*pool, *to))?
        .filter(|entry| entry.month == month)
        .map_or(0, |entry| entry.paid);
    let total = paid.checked_add(amount);
    let Some(total) = total.filter(|total| *total <= record.monthly_cap) else {
        return Ok(Err(Error::OverPoolCap(Box::new(PoolCapExceeded {
            pool: record.name,
            member: *to,
            monthly_cap: record.monthly_cap,
            paid,
            asked: amount,
        }))));
    };
    tri!(Pallet.transfer(ctx, pool, to, amount));
    POOL_PAID.insert(ctx.state, &(*pool, *to), &MonthPaid { month, paid: total });
    ctx.deposit_event(Event::PoolPaid {
        pool: *pool,
        to: *to,
        amount,
        by,
        paid_this_month: total,
    });
    Ok(Ok(()))
}

/// The free balance of `account`.
pub fn balance(state: &dyn StateRead, account: &AccountId) -> Result<Cents, StateError> {
    Ok(wijk_system::account(state, account)?.balance_cents)
}

/// The reserved balance of `account`.
pub fn reserved(state: &dyn StateRead, account: &AccountId) -> Result<Cents, StateError> {
    Ok(RESERVED.get(state, account)?.unwrap_or(0))
}

/// The coin's chain-wide figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Supply {
    /// Coins in existence.
    pub total_supply: Cents,
    /// Euros held.
    pub euro_reserve: Cents,
    /// Euros owed for redemptions not yet paid.
    pub owed: Cents,
}

/// Supply, reserve and redemptions owed.
pub fn supply(state: &dyn StateRead) -> Result<Supply, StateError> {
    Ok(Supply {
        total_supply: TOTAL_SUPPLY.get(state)?.unwrap_or(0),
        euro_reserve: EURO_RESERVE.get(state)?.unwrap_or(0),
        owed: REDEMPTIONS_OWED.get(state)?.unwrap_or(0),
    })
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
        Ok(supply(state)?.total_supply)
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
        let figures = supply(&*ctx.state)?;
        let (Some(total), Some(reserve)) = (
            figures.total_supply.checked_add(amount),
            figures.euro_reserve.checked_add(amount),
        ) else {
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
        TOTAL_SUPPLY.put(ctx.state, &total);
        EURO_RESERVE.put(ctx.state, &reserve);
        wijk_system::set_balance(ctx.state, to, received)?;
        Ok(Ok(()))
    }

    fn burn(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        amount: Cents,
        payout_to: Hash,
    ) -> DispatchResult<CurrencyError> {
        redemption::burn(ctx, from, amount, 0, payout_to).map(|result| result.map(|_| ()))
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

    fn move_holdings(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        to: &AccountId,
    ) -> Result<Result<Cents, CurrencyError>, StateError> {
        if from == to {
            return Ok(Err(CurrencyError::SelfTransfer));
        }
        // Every refusal comes before anything moves (the plan writes nothing, and moving
        // the planned earmarks cannot fail): a refused move leaves both keys as they were.
        let planned = tri!(earmark::plan_move(&*ctx.state, from, to));
        let free = balance(&*ctx.state, from)?;
        let Some(total) = free.checked_add(planned.moved()) else {
            return Ok(Err(CurrencyError::Overflow));
        };
        if free > 0 {
            tri!(self.transfer(ctx, from, to, free));
        }
        earmark::move_all(ctx, from, to, planned)?;
        Ok(Ok(total))
    }

    fn repatriate_reserved(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        to: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError> {
        check!(positive(amount));
        // Both checks before any write: a refusal changes nothing.
        let held = tri!(take_reserved(&*ctx.state, from, amount));
        let free = tri!(add_free(&*ctx.state, to, amount));
        put_reserved(ctx.state, from, held);
        wijk_system::set_balance(ctx.state, to, free)?;
        ctx.deposit_event(Event::ReservePaid {
            from: *from,
            to: *to,
            amount,
        });
        Ok(Ok(()))
    }

    fn repatriate_reserved_earmarked(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        to: &AccountId,
        amount: Cents,
        terms: &EarmarkTerms,
    ) -> DispatchResult<CurrencyError> {
        check!(positive(amount));
        check!(terms.check());
        let earmark = Earmark {
            funder: *from,
            label: terms.label.clone(),
            categories: terms.categories.clone(),
            region_only: terms.region_only,
            expires_at: None,
        };
        // Every refusal before any write or event: a refused payout changes nothing.
        let held = tri!(take_reserved(&*ctx.state, from, amount));
        tri!(earmark::check_room(&*ctx.state, to, amount, &earmark.id()));
        // As the history reads it (and an auditor replays it): the reserve pays `to`, whose
        // coins are then put under the funder's earmark, as a mint under an earmark does.
        put_reserved(ctx.state, from, held);
        ctx.deposit_event(Event::ReservePaid {
            from: *from,
            to: *to,
            amount,
        });
        match earmark::put_under(ctx, to, to, amount, &earmark)? {
            Ok(_) => Ok(Ok(())),
            // Checked above: reaching this is a bug, and the block is refused rather than
            // left half-paid.
            Err(refused) => Err(StateError::Backend {
                reason: format!("an earmarked payout checked to fit did not: {refused}"),
            }),
        }
    }

    fn reserve_for_payment(
        &self,
        ctx: &mut CallContext<'_, '_>,
        payer: &AccountId,
        payee: Option<&AccountId>,
        amount: Cents,
    ) -> Result<Result<Escrowed, CurrencyError>, StateError> {
        check!(positive(amount));
        if payee == Some(payer) {
            return Ok(Err(CurrencyError::SelfTransfer));
        }
        let place = match payee {
            Some(payee) => ctx.membership().place(&*ctx.state, payee)?,
            None => None,
        };
        let earmarked = match (payee, &place) {
            (Some(_), Some(place)) => earmark::usable_at(ctx, payer, place, amount)?,
            _ => Vec::new(),
        };
        let from_earmarks = earmarked.iter().map(|(_, used)| *used).sum::<Cents>();
        let from_free = amount - from_earmarks;
        // Every refusal before any write: a refused reserve changes nothing.
        let free = balance(&*ctx.state, payer)?;
        if free < from_free {
            if let Some(payee) = payee {
                if let Some(why) = earmark::why_not_usable(ctx, payer, payee, place.as_ref())? {
                    return Ok(Err(CurrencyError::EarmarkNotUsable {
                        why: why.to_string(),
                    }));
                }
            }
            return Ok(Err(CurrencyError::InsufficientBalance {
                account: *payer,
                available: free + from_earmarks,
                needed: amount,
            }));
        }
        let Some(held) = reserved(&*ctx.state, payer)?.checked_add(amount) else {
            return Ok(Err(CurrencyError::Overflow));
        };
        if let Some(payee) = payee.filter(|_| !earmarked.is_empty()) {
            earmark::take_for_escrow(ctx, payer, payee, &earmarked)?;
        }
        wijk_system::set_balance(ctx.state, payer, free - from_free)?;
        put_reserved(ctx.state, payer, held);
        if from_free > 0 {
            ctx.deposit_event(Event::Reserved {
                who: *payer,
                amount: from_free,
            });
        }
        Ok(Ok(Escrowed {
            earmarked,
            free: from_free,
        }))
    }

    fn release_escrowed(
        &self,
        ctx: &mut CallContext<'_, '_>,
        owner: &AccountId,
        to: &AccountId,
        escrowed: &Escrowed,
    ) -> DispatchResult<CurrencyError> {
        let total = escrowed.total();
        check!(positive(total));
        let held = tri!(take_reserved(&*ctx.state, owner, total));
        let free = tri!(add_free(&*ctx.state, to, escrowed.free));
        put_reserved(ctx.state, owner, held);
        if escrowed.free > 0 {
            wijk_system::set_balance(ctx.state, to, free)?;
            ctx.deposit_event(if owner == to {
                Event::Unreserved {
                    who: *owner,
                    amount: escrowed.free,
                }
            } else {
                Event::ReservePaid {
                    from: *owner,
                    to: *to,
                    amount: escrowed.free,
                }
            });
        }
        for (id, amount) in &escrowed.earmarked {
            tri!(earmark::return_from_escrow(ctx, owner, to, id, *amount));
        }
        Ok(Ok(()))
    }
}

/// What an audit of the coin's state found: every figure recomputed from the records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CoinAudit {
    /// The recorded figures.
    pub supply: Supply,
    /// Sum of every account's free balance.
    pub free_balances: Cents,
    /// Sum of every account's reserved balance.
    pub reserved_balances: Cents,
    /// Sum of every earmarked holding.
    pub earmarked_balances: Cents,
    /// Sum of every recorded deposit (genesis balances included).
    pub deposits: Cents,
    /// Sum of every redemption paid out.
    pub redemptions_paid: Cents,
    /// Sum of every redemption not yet paid.
    pub redemptions_unpaid: Cents,
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
    #[error("free {} + reserved {} + earmarked {} balances != total supply {}", format_cents(.0.free_balances), format_cents(.0.reserved_balances), format_cents(.0.earmarked_balances), format_cents(.0.supply.total_supply))]
    BalancesDoNotSum(Box<CoinAudit>),
    /// The reserve is not what the deposits and payouts say.
    #[error("deposits {} - redemptions paid {} != euro reserve {}", format_cents(.0.deposits), format_cents(.0.redemptions_paid), format_cents(.0.supply.euro_reserve))]
    ReserveDoesNotMatch(Box<CoinAudit>),
    /// The owed figure is not what the unpaid redemptions say.
    #[error("redemptions not yet paid {} != redemptions owed {}", format_cents(.0.redemptions_unpaid), format_cents(.0.supply.owed))]
    OwedDoesNotMatch(Box<CoinAudit>),
}

/// Recomputes the coin's figures from every record in `state` and checks that the balances
/// sum to the supply, that the reserve equals deposits minus redemptions paid, and that the
/// owed figure equals the redemptions not yet paid. Its work grows with the number of
/// accounts: for tests and auditors, never for block execution.
pub fn audit(state: &dyn StateRead) -> Result<CoinAudit, AuditError> {
    let mut audit = CoinAudit {
        supply: supply(state)?,
        ..CoinAudit::default()
    };
    let mut overflow = false;
    let mut add = |sum: &mut Cents, amount: Cents| match sum.checked_add(amount) {
        Some(total) => *sum = total,
        None => overflow = true,
    };
    let (mut free, mut accounts) = (0, 0);
    let mut earmarked = 0;
    wijk_system::ACCOUNTS.for_each(state, |_, info| {
        accounts += 1;
        add(&mut free, info.balance_cents);
        for (_, amount) in &info.earmarked {
            add(&mut earmarked, *amount);
        }
    })?;
    let mut held = 0;
    RESERVED.for_each(state, |_, amount| add(&mut held, amount))?;
    let mut deposits = 0;
    DEPOSITS.for_each(state, |_, record| add(&mut deposits, record.amount))?;
    let (mut paid, mut unpaid) = (0, 0);
    REDEMPTIONS.for_each(state, |_, record| match record.paid {
        Some(_) => add(&mut paid, record.amount),
        None => add(&mut unpaid, record.amount),
    })?;
    if overflow {
        return Err(AuditError::Overflow);
    }
    audit.free_balances = free;
    audit.reserved_balances = held;
    audit.earmarked_balances = earmarked;
    audit.deposits = deposits;
    audit.redemptions_paid = paid;
    audit.redemptions_unpaid = unpaid;
    audit.accounts = accounts;
    let balances = free
        .checked_add(held)
        .and_then(|sum| sum.checked_add(earmarked));
    if balances != Some(audit.supply.total_supply) {
        return Err(AuditError::BalancesDoNotSum(Box::new(audit)));
    }
    if deposits.checked_sub(paid) != Some(audit.supply.euro_reserve) {
        return Err(AuditError::ReserveDoesNotMatch(Box::new(audit)));
    }
    if unpaid != audit.supply.owed {
        return Err(AuditError::OwedDoesNotMatch(Box::new(audit)));
    }
    Ok(audit)
}

/// Who a role set names, in words, for messages.
pub(crate) fn roles_in_words(roles: RoleSet) -> String {
    if roles.is_empty() {
        "nobody".to_string()
    } else {
        roles.to_string()
    }
}

#[cfg(test)]
mod tests;
