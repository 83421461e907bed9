//! The activities pallet: what the wijk's residents decided activities are worth, the
//! budgets funders put in, and claims for work done, attested and paid.
//!
//! Rules:
//! - **The catalogue.** Each activity ("an hour of neighbourhood help", "a facade garden
//!   planted") has a unit, a category and a value in coins per unit. Only the members, by an
//!   enacted vote, add an activity, retire it, or set its value ([`Call::AddActivity`],
//!   [`Call::RetireActivity`], [`Call::SetValue`]; the runtime files them under the
//!   `activityCatalogue` and `activityValue` tracks). Every value an activity ever had is
//!   kept, with the block time it came into force ([`ValueChange`]).
//! - **Budgets.** A funder (a member holding the organisation role) opens a budget for some
//!   activities, some categories, or all of them, and funds it: the coins are *reserved* on
//!   the funder's account (still theirs, no longer spendable) until paid out or taken back.
//!   A budget may name [`EarmarkTerms`]: what it pays out is then earmarked coins of the
//!   funder, spendable only at the merchants the terms allow (inside the wijk, some
//!   categories).
//! - **Claims.** A participant (or their guardian, for them) claims units of an activity done
//!   at a time, with the hash of off-chain evidence. The claim's amount is fixed when it is
//!   filed: units times the value **in force when the work was done**, so a vote that
//!   changes the value later changes no claim for earlier work, and an auditor recomputes it
//!   from the history. Work must be done no later than now and no longer ago than the claim
//!   window; an activity retired since may still be claimed for work done before.
//! - **Caps** per person (the registration tag, so a new key does not reset them) per period
//!   of the work's time: units per activity (the catalogue's `maxUnitsPerPeriod`) and coins
//!   over all activities (`maxEarnedPerPeriod`). Pending, waiting and paid claims count; a
//!   rejected or withdrawn one gives its share back. A person has at most `maxOpenClaims`
//!   claims awaiting a verifier.
//! - **Attestation.** A verifier (holding the verifier role, registered by the board for the
//!   activity or its category) attests or rejects a pending claim, a rejection with a
//!   reason. Nobody attests or rejects a claim of their own, filed for them, or filed by
//!   them as a guardian. A claim is paid only once attested, and at most once.
//! - **Payout** on attestation, from one budget that matches the activity and holds the
//!   whole amount: a budget naming the activity first, then one for its category, then one
//!   for every activity; oldest first within each (and the next if one cannot pay, say the
//!   participant holds as many earmarks as an account may). When none can, the attestation
//!   stands and the claim **waits for funds** (an event says why); anyone may then ask for
//!   the payout again ([`Call::Pay`], naming a budget if the rule's bounded look does not
//!   reach it) once a funder has funded, and it fails with a clear error while no budget
//!   can pay it. A claim is never split over budgets, so every payout
//!   names the one funder who paid it.
//! - **Money** moves only through [`wijk_support::Currency`]: reserve on funding, unreserve
//!   on taking back, repatriate on payout. No coin is created or destroyed here, and a
//!   budget's unspent coins are always exactly reserved on its funder (a property test holds
//!   both over random histories).
//!
//! Owns: every key under `activities/`.
//! Must never: mint or burn, read another pallet's storage, pay a claim that no verifier
//! attested, or pay one twice.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![allow(clippy::result_large_err)]

mod budgets;
mod claims;

pub use budgets::{budgets, budgets_for_claim};

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::json::{euro, euro_or_none};
use wijk_primitives::{blake3_hash, format_cents, AccountId, Cents, Hash, Height, TimestampMs};
use wijk_support::{
    check, valid_category, BadOrigin, CallContext, Collective, Cost, CurrencyError, DispatchResult,
    EarmarkTerms, Involves, MembershipError, Origin, Page, Role, StateError, StateOverlay,
    StateRead, StorageLog, StorageMap, StorageValue, MAX_CATEGORY_BYTES,
};

/// An activity's number in the catalogue (the order it was added, from 0).
pub type ActivityId = u32;
/// A budget's number (the order it was opened, from 0).
pub type BudgetId = u32;
/// A claim's number (the order it was filed, from 0).
pub type ClaimId = u64;

/// The rules in force.
pub const RULES: StorageValue<Rules> = StorageValue::new(b"activities/rules");
/// The catalogue, by activity.
pub const ACTIVITIES: StorageMap<ActivityId, Activity> = StorageMap::new(b"activities/activity/");
/// How many activities were ever added (the next one's number).
pub const ACTIVITY_COUNT: StorageValue<u32> = StorageValue::new(b"activities/activity_count");
/// Every value each activity had: `(activity, n)` is its `n`-th, oldest first.
pub const VALUES: StorageMap<(ActivityId, u32), ValueChange> =
    StorageMap::new(b"activities/value/");
/// Verifiers by what they may attest: `(scope key, verifier)`, the scope as the value.
pub const VERIFIERS: StorageMap<(Hash, AccountId), VerifierScope> =
    StorageMap::new(b"activities/verifier/");
/// Budgets, by number.
pub const BUDGETS: StorageMap<BudgetId, Budget> = StorageMap::new(b"activities/budget/");
/// How many budgets were ever opened.
pub const BUDGET_COUNT: StorageValue<u32> = StorageValue::new(b"activities/budget_count");
/// Budgets holding coins, by what they pay for: `(match key, budget)` ([`budgets`]).
pub const FUNDED: StorageMap<(Hash, BudgetId), ()> = StorageMap::new(b"activities/funded/");
/// Every claim, in the order filed.
pub const CLAIMS: StorageLog<Claim> =
    StorageLog::new(b"activities/claim/", b"activities/claim_count");
/// Claims not yet settled (pending a verifier, or attested and waiting for funds).
pub const OPEN_CLAIMS: StorageMap<ClaimId, ()> = StorageMap::new(b"activities/open/");
/// Each participant's claims: `(participant, claim)`.
pub const CLAIMS_OF: StorageMap<(AccountId, ClaimId), ()> =
    StorageMap::new(b"activities/claims_of/");
/// Claims of a person pending a verifier.
pub const PENDING_OF: StorageMap<Hash, u32> = StorageMap::new(b"activities/pending_of/");
/// Coins a person's counted claims are worth, per period of the work.
pub const EARNED: StorageMap<(Hash, u64), Cents> = StorageMap::new(b"activities/earned/");
/// Units a person's counted claims hold, per activity and period of the work.
pub const UNITS: StorageMap<(Hash, ActivityId, u64), u32> = StorageMap::new(b"activities/units/");

/// Most activities the catalogue ever holds (retired ones included).
pub const MAX_ACTIVITIES: u32 = 1_000;
/// Most budgets ever opened.
pub const MAX_BUDGETS: u32 = 10_000;
/// Most activities or categories one budget names (each).
pub const MAX_BUDGET_SCOPE: usize = 16;
/// Most funded budgets considered per match key when paying a claim (a claim no budget
/// among them can pay waits).
pub const MAX_BUDGETS_SCANNED: usize = 16;
/// Most units in one claim.
pub const MAX_UNITS_PER_CLAIM: u32 = 1_000;
/// Longest activity or budget name, in bytes.
pub const MAX_NAME_BYTES: usize = 96;
/// Longest unit, in bytes.
pub const MAX_UNIT_BYTES: usize = 32;
/// Longest reason for a rejection, in bytes.
pub const MAX_REASON_BYTES: usize = 256;
/// A day in milliseconds.
pub const DAY_MS: u64 = 86_400_000;

/// What calls cost, measured by `scripts/bench-import --calibrate`.
pub mod costs {
    use super::*;
    /// Filing a claim: the activity, its value history (a binary search), the caps, the
    /// claim and its indexes.
    pub const CLAIM: Cost = Cost::micros(40);
    /// Attesting (or asking again for a payout): the claim, the verifier's registration, then
    /// the budgets considered for the payout and the payout itself.
    pub const ATTEST: Cost =
        Cost::micros(40).plus(Cost::micros(3).times(3 * MAX_BUDGETS_SCANNED as u64));
    /// Rejecting or withdrawing a claim, opening or funding a budget, a catalogue or
    /// verifier change.
    pub const MANAGE: Cost = Cost::micros(30);
}

/// The rules for claims, from the chain spec (changed by vote).
#[derive(
    Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Rules {
    /// Length of a cap period, in days of the work's time (default 30).
    pub period_days: u32,
    /// How many days after the work it may still be claimed (default 60).
    pub claim_window_days: u32,
    /// Most coins one person may earn from activities done in one period (euros; none for
    /// no cap).
    #[serde(with = "euro_or_none")]
    #[schemars(with = "Option<wijk_primitives::json::EuroAmount>")]
    pub max_earned_per_period: Option<Cents>,
    /// Most claims one person may have awaiting a verifier (default 16).
    pub max_open_claims: u32,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            period_days: 30,
            claim_window_days: 60,
            max_earned_per_period: None,
            max_open_claims: 16,
        }
    }
}

impl Rules {
    fn check(&self) -> Result<(), Error> {
        if self.period_days == 0 || self.claim_window_days == 0 || self.max_open_claims == 0 {
            return Err(Error::BadRules {
                why: "the period, the claim window and the open claims must each be at least 1"
                    .into(),
            });
        }
        Ok(())
    }

    /// The period the work done at `at_ms` counts in.
    pub fn period_of(&self, at_ms: TimestampMs) -> u64 {
        at_ms / (u64::from(self.period_days.max(1)) * DAY_MS)
    }
}

/// An activity of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Activity {
    /// What it is ("an hour of neighbourhood help").
    pub name: String,
    /// What one unit is ("hour", "garden", "half hour").
    pub unit: String,
    /// Its category ("neighbourhood-help", "green", "language"), for budgets and verifiers.
    pub category: String,
    /// Its value per unit now (the newest of its [`VALUES`]).
    pub value: Cents,
    /// Most units one person may claim per period, if capped.
    pub max_units_per_period: Option<u32>,
    /// Block time it was added (0 for the genesis catalogue).
    pub added_at_ms: TimestampMs,
    /// Block time it was retired, if it was: work done later cannot be claimed.
    pub retired_at_ms: Option<TimestampMs>,
    /// How many values it has had (entries in [`VALUES`]).
    pub value_changes: u32,
}

/// A value an activity had, from a block time on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct ValueChange {
    /// The block time from which it was in force.
    pub since_ms: TimestampMs,
    /// The height of that block.
    pub height: Height,
    /// Coins per unit.
    pub value: Cents,
}

/// What a verifier may attest.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Encode,
    Decode,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum VerifierScope {
    /// Claims for this activity.
    #[codec(index = 0)]
    Activity(ActivityId),
    /// Claims for every activity of this category.
    #[codec(index = 1)]
    Category(String),
}

impl VerifierScope {
    /// Its key in [`VERIFIERS`].
    pub fn key(&self) -> Hash {
        blake3_hash(&(b"verifier scope", self).encode())
    }
}

impl core::fmt::Display for VerifierScope {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            VerifierScope::Activity(id) => write!(f, "activity {id}"),
            VerifierScope::Category(category) => write!(f, "category '{category}'"),
        }
    }
}

/// A funder's budget.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Budget {
    /// The funder (an organisation), on whose account the coins are reserved.
    pub funder: AccountId,
    /// Its name ("exercise with seniors, Zorgkas 2027").
    pub name: String,
    /// The activities it pays for.
    pub activities: Vec<ActivityId>,
    /// The categories it pays for; with no activities either, it pays for every activity.
    pub categories: Vec<String>,
    /// The earmark of the coins it pays out, if they are earmarked.
    pub payout_earmark: Option<EarmarkTerms>,
    /// Coins in it now.
    pub remaining: Cents,
    /// Coins ever put in.
    pub funded: Cents,
    /// Coins ever paid out to participants.
    pub paid_out: Cents,
    /// Coins the funder took back.
    pub withdrawn: Cents,
    /// When it was opened.
    pub opened_at: Height,
}

impl Budget {
    /// Whether it pays for `activity` of `category`.
    pub fn pays_for(&self, activity: ActivityId, category: &str) -> bool {
        (self.activities.is_empty() && self.categories.is_empty())
            || self.activities.contains(&activity)
            || self.categories.iter().any(|c| c == category)
    }
}

/// A claim for work done.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Claim {
    /// Who did the work (and is paid).
    pub participant: AccountId,
    /// Their registration tag (caps count per person).
    pub person: Hash,
    /// The guardian who filed it for them, if not they.
    pub filed_by: Option<AccountId>,
    /// That guardian's registration tag (a guardian who moves to a new key still filed it).
    pub filed_by_person: Option<Hash>,
    /// The activity.
    pub activity: ActivityId,
    /// Units done.
    pub units: u32,
    /// When the work was done (as the participant states it; the verifier checks it).
    pub done_at_ms: TimestampMs,
    /// The cap period it counts in.
    pub period: u64,
    /// Hash of the off-chain evidence (a signed attendance sheet, a photo).
    pub evidence: Hash,
    /// The activity's value in force when the work was done.
    pub value_per_unit: Cents,
    /// What it pays: units times that value.
    pub amount: Cents,
    /// When it was filed.
    pub filed_at: Height,
    /// Where it stands.
    pub status: ClaimStatus,
}

/// Where a claim stands.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum ClaimStatus {
    /// Awaiting a verifier.
    #[codec(index = 0)]
    Pending,
    /// A verifier refused it.
    #[codec(index = 1)]
    Rejected {
        /// The verifier.
        by: AccountId,
        /// Why.
        reason: String,
        /// When.
        at: Height,
    },
    /// The participant (or their guardian) took it back before a verifier decided.
    #[codec(index = 2)]
    Withdrawn {
        /// When.
        at: Height,
    },
    /// Attested, but no budget could pay it yet.
    #[codec(index = 3)]
    AwaitingFunds {
        /// The verifier.
        attested_by: AccountId,
        /// When.
        at: Height,
    },
    /// Attested and paid.
    #[codec(index = 4)]
    Paid {
        /// The verifier.
        attested_by: AccountId,
        /// The budget that paid it.
        budget: BudgetId,
        /// When it was paid.
        at: Height,
    },
}

impl ClaimStatus {
    /// Its name as JSON and the CLI write it.
    pub fn name(&self) -> &'static str {
        match self {
            ClaimStatus::Pending => "pending",
            ClaimStatus::Rejected { .. } => "rejected",
            ClaimStatus::Withdrawn { .. } => "withdrawn",
            ClaimStatus::AwaitingFunds { .. } => "awaitingFunds",
            ClaimStatus::Paid { .. } => "paid",
        }
    }

    /// Whether the claim still counts against its person's caps.
    pub fn counts(&self) -> bool {
        !matches!(
            self,
            ClaimStatus::Rejected { .. } | ClaimStatus::Withdrawn { .. }
        )
    }
}

/// The calls of this pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// A participant (or their guardian, for them) claims units of an activity done.
    #[codec(index = 0)]
    Claim {
        /// The activity.
        activity: ActivityId,
        /// Units done (whole units of the activity's unit).
        units: u32,
        /// When the work was done, in milliseconds since 1970 (not after this block).
        done_at_ms: TimestampMs,
        /// Hash of the off-chain evidence.
        evidence: Hash,
    },
    /// A verifier attests a pending claim; it is paid if a budget can pay it.
    #[codec(index = 1)]
    Attest {
        /// The claim.
        claim: ClaimId,
    },
    /// A verifier rejects a pending claim, with a reason.
    #[codec(index = 2)]
    Reject {
        /// The claim.
        claim: ClaimId,
        /// Why, as the participant reads it.
        reason: String,
    },
    /// The participant (or their guardian) takes a pending claim back.
    #[codec(index = 3)]
    WithdrawClaim {
        /// The claim.
        claim: ClaimId,
    },
    /// Anyone asks again for the payout of an attested claim waiting for funds: from the
    /// budget named (it must pay for the activity and hold the whole amount), or by the
    /// rule.
    #[codec(index = 4)]
    Pay {
        /// The claim.
        claim: ClaimId,
        /// The budget to pay from; by the rule when left out.
        budget: Option<BudgetId>,
    },
    /// A funder (an organisation) opens a budget; it holds nothing until funded.
    #[codec(index = 5)]
    OpenBudget {
        /// Its name.
        name: String,
        /// The activities it pays for.
        activities: Vec<ActivityId>,
        /// The categories it pays for (none of either: every activity).
        categories: Vec<String>,
        /// The earmark of what it pays out, if earmarked.
        payout_earmark: Option<EarmarkTerms>,
    },
    /// The funder puts `amount` of their free coins into their budget (reserved on their
    /// account).
    #[codec(index = 6)]
    Fund {
        /// The budget.
        budget: BudgetId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// The funder takes `amount` of what is left in their budget back.
    #[codec(index = 7)]
    Defund {
        /// The budget.
        budget: BudgetId,
        /// Amount (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// By vote only: adds an activity to the catalogue.
    #[codec(index = 8)]
    AddActivity {
        /// What it is.
        name: String,
        /// What one unit is.
        unit: String,
        /// Its category.
        category: String,
        /// Its value per unit (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        value: Cents,
        /// Most units one person may claim per period, if capped.
        max_units_per_period: Option<u32>,
    },
    /// By vote only: sets an activity's value per unit, for work done after this block.
    #[codec(index = 9)]
    SetValue {
        /// The activity.
        activity: ActivityId,
        /// Its new value per unit (cents in SCALE, euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        value: Cents,
    },
    /// By vote only: retires an activity; work done from now on cannot be claimed.
    #[codec(index = 10)]
    RetireActivity {
        /// The activity.
        activity: ActivityId,
    },
    /// By vote only: sets an activity's cap per person per period.
    #[codec(index = 11)]
    SetUnitCap {
        /// The activity.
        activity: ActivityId,
        /// Most units per person per period; none for no cap.
        max_units_per_period: Option<u32>,
    },
    /// The board (or a vote) registers a verifier (a member holding the verifier role) for
    /// an activity or a category.
    #[codec(index = 12)]
    AddVerifier {
        /// The verifier.
        verifier: AccountId,
        /// What they may attest.
        scope: VerifierScope,
    },
    /// The board (or a vote) ends a verifier's registration.
    #[codec(index = 13)]
    RemoveVerifier {
        /// The verifier.
        verifier: AccountId,
        /// The registration.
        scope: VerifierScope,
    },
    /// By vote only: sets the claim rules (caps apply to claims filed from now on).
    #[codec(index = 14)]
    SetRules {
        /// The rules.
        rules: Rules,
    },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum Event {
    /// An activity entered the catalogue.
    #[codec(index = 0)]
    ActivityAdded {
        /// Its number.
        activity: ActivityId,
        /// What it is.
        name: String,
        /// Its unit.
        unit: String,
        /// Its category.
        category: String,
        /// Its value per unit.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        value: Cents,
    },
    /// An activity's value changed, for work done from now on.
    #[codec(index = 1)]
    ValueSet {
        /// The activity.
        activity: ActivityId,
        /// The value before.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        previous: Cents,
        /// The value now.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        value: Cents,
    },
    /// An activity was retired.
    #[codec(index = 2)]
    ActivityRetired {
        /// The activity.
        activity: ActivityId,
    },
    /// An activity's cap changed.
    #[codec(index = 3)]
    UnitCapSet {
        /// The activity.
        activity: ActivityId,
        /// Most units per person per period, if capped.
        max_units_per_period: Option<u32>,
    },
    /// A verifier was registered.
    #[codec(index = 4)]
    VerifierAdded {
        /// The verifier.
        verifier: AccountId,
        /// What they may attest.
        scope: VerifierScope,
    },
    /// A verifier's registration ended.
    #[codec(index = 5)]
    VerifierRemoved {
        /// The verifier.
        verifier: AccountId,
        /// The registration.
        scope: VerifierScope,
    },
    /// The claim rules changed.
    #[codec(index = 6)]
    RulesSet {
        /// The rules now.
        rules: Rules,
    },
    /// A funder opened a budget.
    #[codec(index = 7)]
    BudgetOpened {
        /// Its number.
        budget: BudgetId,
        /// The funder.
        funder: AccountId,
        /// Its name.
        name: String,
    },
    /// A funder put coins into a budget.
    #[codec(index = 8)]
    BudgetFunded {
        /// The budget.
        budget: BudgetId,
        /// The funder.
        funder: AccountId,
        /// Put in.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// In it now.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        remaining: Cents,
    },
    /// A funder took coins back from a budget.
    #[codec(index = 9)]
    BudgetDefunded {
        /// The budget.
        budget: BudgetId,
        /// The funder.
        funder: AccountId,
        /// Taken back.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// In it now.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        remaining: Cents,
    },
    /// A claim was filed.
    #[codec(index = 10)]
    Claimed {
        /// Its number.
        claim: ClaimId,
        /// Who did the work.
        participant: AccountId,
        /// The guardian who filed it for them, if not they.
        filed_by: Option<AccountId>,
        /// The activity.
        activity: ActivityId,
        /// Units done.
        units: u32,
        /// What it pays once attested.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// A verifier attested a claim.
    #[codec(index = 11)]
    Attested {
        /// The claim.
        claim: ClaimId,
        /// The verifier.
        verifier: AccountId,
    },
    /// A verifier rejected a claim.
    #[codec(index = 12)]
    Rejected {
        /// The claim.
        claim: ClaimId,
        /// The verifier.
        verifier: AccountId,
        /// Why.
        reason: String,
    },
    /// A claim was taken back.
    #[codec(index = 13)]
    ClaimWithdrawn {
        /// The claim.
        claim: ClaimId,
        /// Whose it was.
        participant: AccountId,
    },
    /// A claim was paid.
    #[codec(index = 14)]
    PaidOut {
        /// The claim.
        claim: ClaimId,
        /// Who was paid (the participant's key now).
        to: AccountId,
        /// The budget.
        budget: BudgetId,
        /// Its funder.
        funder: AccountId,
        /// Paid.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// Whether the coins are earmarked (the budget's payout earmark).
        earmarked: bool,
        /// The activity paid for (so the wijk's statistics need nothing but the event).
        activity: ActivityId,
        /// How many of its units.
        units: u32,
        /// The activity's category.
        category: String,
    },
    /// An attested claim waits: no budget could pay it yet.
    #[codec(index = 15)]
    AwaitingFunds {
        /// The claim.
        claim: ClaimId,
        /// What it needs.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// Why it could not be paid, in words.
        why: String,
    },
}

impl Involves for Event {
    fn involved_accounts(&self, accounts: &mut Vec<AccountId>) {
        match self {
            Event::VerifierAdded { verifier, .. } | Event::VerifierRemoved { verifier, .. } => {
                accounts.push(*verifier)
            }
            Event::BudgetOpened { funder, .. }
            | Event::BudgetFunded { funder, .. }
            | Event::BudgetDefunded { funder, .. } => accounts.push(*funder),
            Event::Claimed {
                participant,
                filed_by,
                ..
            } => {
                accounts.push(*participant);
                accounts.extend(*filed_by);
            }
            Event::Attested { verifier, .. } | Event::Rejected { verifier, .. } => {
                accounts.push(*verifier)
            }
            Event::ClaimWithdrawn { participant, .. } => accounts.push(*participant),
            Event::PaidOut { to, funder, .. } => accounts.extend([*to, *funder]),
            Event::ActivityAdded { .. }
            | Event::ValueSet { .. }
            | Event::ActivityRetired { .. }
            | Event::UnitCapSet { .. }
            | Event::RulesSet { .. }
            | Event::AwaitingFunds { .. } => {}
        }
    }
}

/// Why an activities call failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// The call came from an origin that may not make it.
    #[error(transparent)]
    #[codec(index = 0)]
    BadOrigin(#[from] BadOrigin),
    /// The caller is no active member, or lacks a role the call needs.
    #[error(transparent)]
    #[codec(index = 1)]
    Membership(#[from] MembershipError),
    /// Moving coins failed.
    #[error(transparent)]
    #[codec(index = 2)]
    Currency(#[from] CurrencyError),
    /// No such activity.
    #[error("the catalogue has no activity {activity}")]
    #[codec(index = 3)]
    NoSuchActivity {
        /// The number given.
        activity: ActivityId,
    },
    /// The activity was retired before the work was done.
    #[error(
        "activity {activity} was retired at {retired_at_ms} ms; work done after that is not paid"
    )]
    #[codec(index = 4)]
    Retired {
        /// The activity.
        activity: ActivityId,
        /// When it was retired.
        retired_at_ms: TimestampMs,
    },
    /// An activity's name, unit or category is malformed, or the catalogue is full.
    #[error("activity refused: {why}")]
    #[codec(index = 5)]
    BadActivity {
        /// What is wrong.
        why: String,
    },
    /// A value or a claim of nothing.
    #[error("{what} must be more than zero")]
    #[codec(index = 6)]
    Zero {
        /// What was zero.
        what: String,
    },
    /// The work is dated after this block.
    #[error("the work is dated {done_at_ms} ms, after this block's time {now_ms} ms")]
    #[codec(index = 7)]
    DoneInFuture {
        /// The date given.
        done_at_ms: TimestampMs,
        /// The block's time.
        now_ms: TimestampMs,
    },
    /// The work was done longer ago than claims may reach back.
    #[error(
        "the work is dated more than {window_days} days ago; claims reach back {window_days} days"
    )]
    #[codec(index = 8)]
    TooLate {
        /// The window.
        window_days: u32,
    },
    /// The work is dated before the activity entered the catalogue.
    #[error(
        "activity {activity} entered the catalogue at {added_at_ms} ms, after the work's date"
    )]
    #[codec(index = 9)]
    BeforeActivity {
        /// The activity.
        activity: ActivityId,
        /// When it was added.
        added_at_ms: TimestampMs,
    },
    /// The claim would pass the activity's cap for this person and period.
    #[error("at most {cap} units of activity {activity} per person per period: {already} are claimed, so {asked} more are refused")]
    #[codec(index = 10)]
    OverUnitCap {
        /// The activity.
        activity: ActivityId,
        /// The cap.
        cap: u32,
        /// Claimed in the period.
        already: u32,
        /// Asked now.
        asked: u32,
    },
    /// The claim would pass the coins one person may earn per period.
    #[error("at most {} a person per period from activities: {} is claimed, so {} more is refused", format_cents(*cap), format_cents(*already), format_cents(*asked))]
    #[codec(index = 11)]
    OverEarnedCap {
        /// The cap.
        cap: Cents,
        /// Claimed in the period.
        already: Cents,
        /// Asked now.
        asked: Cents,
    },
    /// The person has as many claims awaiting a verifier as they may.
    #[error("{max} claims already await a verifier; wait for them, or withdraw one")]
    #[codec(index = 12)]
    TooManyOpenClaims {
        /// The limit.
        max: u32,
    },
    /// No such claim.
    #[error("there is no claim {claim}")]
    #[codec(index = 13)]
    NoSuchClaim {
        /// The number given.
        claim: ClaimId,
    },
    /// The claim is not in the state the call needs.
    #[error("claim {claim} is {status}; this needs a claim that is {needed}")]
    #[codec(index = 14)]
    WrongStatus {
        /// The claim.
        claim: ClaimId,
        /// Where it stands.
        status: String,
        /// Where it must stand.
        needed: String,
    },
    /// The signer is not registered to verify this activity.
    #[error(
        "{verifier:?} is not registered to verify activity {activity} or category '{category}'"
    )]
    #[codec(index = 15)]
    NotVerifierFor {
        /// Who signed.
        verifier: AccountId,
        /// The activity.
        activity: ActivityId,
        /// Its category.
        category: String,
    },
    /// A verifier may not decide a claim of their own (or one they filed).
    #[error("claim {claim} is {verifier:?}'s own (theirs, or filed by them): another verifier must decide it")]
    #[codec(index = 16)]
    OwnClaim {
        /// The verifier.
        verifier: AccountId,
        /// The claim.
        claim: ClaimId,
    },
    /// A rejection needs a reason.
    #[error("a rejection needs a reason of 1 to {max} bytes")]
    #[codec(index = 17)]
    BadReason {
        /// The limit.
        max: u32,
    },
    /// No budget can pay the claim now.
    #[error("no budget for activity {activity} holds {}: {why}; the claim stays attested and is paid once a funder funds a budget for it (then ask again: `wijk activity pay {claim}`)", format_cents(*needed))]
    #[codec(index = 18)]
    NoFundedBudget {
        /// The claim.
        claim: ClaimId,
        /// Its activity.
        activity: ActivityId,
        /// What it needs.
        needed: Cents,
        /// What was found, in words.
        why: String,
    },
    /// No such budget.
    #[error("there is no budget {budget}")]
    #[codec(index = 19)]
    NoSuchBudget {
        /// The number given.
        budget: BudgetId,
    },
    /// Only the budget's funder funds it or takes from it.
    #[error("budget {budget} is {funder:?}'s; {signer:?} signed")]
    #[codec(index = 20)]
    NotFunder {
        /// The budget.
        budget: BudgetId,
        /// Its funder.
        funder: AccountId,
        /// Who signed.
        signer: AccountId,
    },
    /// A budget's name or scope is malformed.
    #[error("budget refused: {why}")]
    #[codec(index = 21)]
    BadBudget {
        /// What is wrong.
        why: String,
    },
    /// More is asked back than the budget holds.
    #[error("budget {budget} holds {}; {} cannot be taken back", format_cents(*remaining), format_cents(*asked))]
    #[codec(index = 22)]
    OverBudget {
        /// The budget.
        budget: BudgetId,
        /// In it.
        remaining: Cents,
        /// Asked.
        asked: Cents,
    },
    /// The verifier is registered so already, or was not.
    #[error("{verifier:?} {}", if *registered { "is registered for this already" } else { "is not registered for this" })]
    #[codec(index = 23)]
    VerifierRegistration {
        /// The verifier.
        verifier: AccountId,
        /// Whether they were registered.
        registered: bool,
    },
    /// The claim rules are inconsistent.
    #[error("claim rules refused: {why}")]
    #[codec(index = 24)]
    BadRules {
        /// What is wrong.
        why: String,
    },
    /// An amount would overflow.
    #[error("the amount overflows")]
    #[codec(index = 25)]
    Overflow,
    /// More units in one claim than a claim may hold.
    #[error("one claim holds at most {max} units; {asked} asked")]
    #[codec(index = 27)]
    TooManyUnits {
        /// The limit.
        max: u32,
        /// Asked.
        asked: u32,
    },
    /// The budget named cannot pay this claim.
    #[error("budget {budget} cannot pay claim {claim}: {why}")]
    #[codec(index = 28)]
    BudgetCannotPay {
        /// The budget.
        budget: BudgetId,
        /// The claim.
        claim: ClaimId,
        /// Why.
        why: String,
    },
    /// Only the participant (or their guardian) takes a claim back.
    #[error("claim {claim} is not {signer:?}'s to take back")]
    #[codec(index = 26)]
    NotYours {
        /// The claim.
        claim: ClaimId,
        /// Who signed (or whom their guardian acts for).
        signer: AccountId,
    },
}

/// An activity of the genesis catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisActivity {
    /// What it is.
    pub name: String,
    /// What one unit is.
    pub unit: String,
    /// Its category.
    pub category: String,
    /// Its value per unit (euros).
    #[serde(with = "euro")]
    pub value: Cents,
    /// Most units one person may claim per period.
    #[serde(default)]
    pub max_units_per_period: Option<u32>,
}

/// A verifier of the genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisVerifier {
    /// The verifier (a member holding the verifier role).
    pub account: AccountId,
    /// What they may attest.
    pub scope: VerifierScope,
}

/// A budget of the genesis (opened empty: its funder funds it with a transaction, as the
/// coins must be the funder's to reserve).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisBudget {
    /// The funder (a member holding the organisation role).
    pub funder: AccountId,
    /// Its name.
    pub name: String,
    /// The activities it pays for (their numbers: their place in the catalogue, from 0).
    #[serde(default)]
    pub activities: Vec<ActivityId>,
    /// The categories it pays for.
    #[serde(default)]
    pub categories: Vec<String>,
    /// The earmark of what it pays out.
    #[serde(default)]
    pub payout_earmark: Option<EarmarkTerms>,
}

/// The activities pallet's section of a chain spec's genesis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Genesis {
    /// The claim rules.
    pub rules: Rules,
    /// The starting catalogue; an activity's number is its place here, from 0.
    pub catalogue: Vec<GenesisActivity>,
    /// The verifiers.
    pub verifiers: Vec<GenesisVerifier>,
    /// The funders' budgets, opened empty.
    pub budgets: Vec<GenesisBudget>,
}

/// The rules in force.
pub fn rules(state: &dyn StateRead) -> Result<Rules, StateError> {
    Ok(RULES.get(state)?.unwrap_or_default())
}

/// The activity `id`, if the catalogue has it.
pub fn activity(state: &dyn StateRead, id: ActivityId) -> Result<Option<Activity>, StateError> {
    ACTIVITIES.get(state, &id)
}

/// How many activities were ever added.
pub fn activity_count(state: &dyn StateRead) -> Result<u32, StateError> {
    Ok(ACTIVITY_COUNT.get(state)?.unwrap_or(0))
}

/// Every value activity `id` had, oldest first.
pub fn value_history(
    state: &dyn StateRead,
    id: ActivityId,
) -> Result<Vec<ValueChange>, StateError> {
    Ok(VALUES
        .page_under(state, &id, usize::MAX)?
        .into_iter()
        .map(|(_, change)| change)
        .collect())
}

/// The value of `activity` in force at `at_ms`: the newest of its values from a time not
/// after `at_ms` (a binary search over its history, so the work is logarithmic in it).
pub fn value_at(
    state: &dyn StateRead,
    id: ActivityId,
    activity: &Activity,
    at_ms: TimestampMs,
) -> Result<Option<Cents>, StateError> {
    let (mut low, mut high) = (0u32, activity.value_changes);
    let mut found = None;
    while low < high {
        let middle = low + (high - low) / 2;
        let Some(change) = VALUES.get(state, &(id, middle))? else {
            return Err(StateError::Corrupt {
                key_hex: format!("activities/value/{id}/{middle}"),
                reason: "a value the activity counts is missing".into(),
            });
        };
        if change.since_ms <= at_ms {
            found = Some(change.value);
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    Ok(found)
}

/// The verifiers registered for `scope`.
pub fn verifiers_of(
    state: &dyn StateRead,
    scope: &VerifierScope,
) -> Result<Vec<AccountId>, StateError> {
    Ok(VERIFIERS
        .page_under(state, &scope.key(), 256)?
        .into_iter()
        .map(|((_, verifier), _)| verifier)
        .collect())
}

/// Whether `verifier` is registered for `scope`.
pub fn is_verifier(
    state: &dyn StateRead,
    verifier: &AccountId,
    scope: &VerifierScope,
) -> Result<bool, StateError> {
    VERIFIERS.contains(state, &(scope.key(), *verifier))
}

/// Claim `id`, if filed.
pub fn claim(state: &dyn StateRead, id: ClaimId) -> Result<Option<Claim>, StateError> {
    CLAIMS.get(state, id)
}

/// How many claims were ever filed.
pub fn claim_count(state: &dyn StateRead) -> Result<u64, StateError> {
    CLAIMS.len(state)
}

/// Open claims (pending or awaiting funds) after `after`, up to `limit`.
pub fn open_claims(
    state: &dyn StateRead,
    after: Option<ClaimId>,
    limit: usize,
) -> Result<Page<ClaimId, ()>, StateError> {
    OPEN_CLAIMS.page(state, after.as_ref(), limit)
}

/// The claims of `participant`, oldest first, up to `limit`.
pub fn claims_of(
    state: &dyn StateRead,
    participant: &AccountId,
    limit: usize,
) -> Result<Vec<ClaimId>, StateError> {
    Ok(CLAIMS_OF
        .page_under(state, participant, limit)?
        .into_iter()
        .map(|((_, claim), _)| claim)
        .collect())
}

/// Budget `id`, if opened.
pub fn budget(state: &dyn StateRead, id: BudgetId) -> Result<Option<Budget>, StateError> {
    BUDGETS.get(state, &id)
}

fn check_text(text: &str, max: usize, what: &str) -> Result<(), String> {
    if text.trim().is_empty() || text.len() > max {
        Err(format!("{what} must be 1 to {max} bytes"))
    } else {
        Ok(())
    }
}

fn check_category(category: &str) -> Result<(), String> {
    if valid_category(category) {
        Ok(())
    } else {
        Err(format!(
            "category '{category}' must be 1 to {MAX_CATEGORY_BYTES} lowercase letters, digits or dashes"
        ))
    }
}

/// Adds an activity to the catalogue, its first value in force from `now_ms`.
fn add_activity(
    state: &mut StateOverlay<'_>,
    entry: &GenesisActivity,
    now_ms: TimestampMs,
    height: Height,
) -> Result<Result<ActivityId, Error>, StateError> {
    let refuse = |why: String| Ok(Err(Error::BadActivity { why }));
    if let Err(why) = check_text(&entry.name, MAX_NAME_BYTES, "a name")
        .and_then(|()| check_text(&entry.unit, MAX_UNIT_BYTES, "a unit"))
        .and_then(|()| check_category(&entry.category))
    {
        return refuse(why);
    }
    if entry.value == 0 {
        return Ok(Err(Error::Zero {
            what: "an activity's value".into(),
        }));
    }
    if entry.max_units_per_period == Some(0) {
        return Ok(Err(Error::Zero {
            what: "a cap of units".into(),
        }));
    }
    let id = activity_count(&*state)?;
    if id >= MAX_ACTIVITIES {
        return refuse(format!(
            "the catalogue holds {MAX_ACTIVITIES} activities, the most it may"
        ));
    }
    ACTIVITIES.insert(
        state,
        &id,
        &Activity {
            name: entry.name.clone(),
            unit: entry.unit.clone(),
            category: entry.category.clone(),
            value: entry.value,
            max_units_per_period: entry.max_units_per_period,
            added_at_ms: now_ms,
            retired_at_ms: None,
            value_changes: 1,
        },
    );
    VALUES.insert(
        state,
        &(id, 0),
        &ValueChange {
            since_ms: now_ms,
            height,
            value: entry.value,
        },
    );
    ACTIVITY_COUNT.put(state, &(id + 1));
    Ok(Ok(id))
}

fn existing_activity(
    state: &dyn StateRead,
    id: ActivityId,
) -> Result<Result<Activity, Error>, StateError> {
    Ok(activity(state, id)?.ok_or(Error::NoSuchActivity { activity: id }))
}

fn add_verifier(
    ctx: &CallContext<'_, '_>,
    verifier: &AccountId,
    scope: &VerifierScope,
) -> Result<Result<(), Error>, StateError> {
    if !ctx
        .membership()
        .has_role(&*ctx.state, verifier, Role::Verifier)?
    {
        return Ok(Err(MembershipError::MissingRole {
            account: *verifier,
            role: Role::Verifier,
        }
        .into()));
    }
    match scope {
        VerifierScope::Activity(id) => {
            check!(existing_activity(&*ctx.state, *id)?);
        }
        VerifierScope::Category(category) => {
            if let Err(why) = check_category(category) {
                return Ok(Err(Error::BadActivity { why }));
            }
        }
    }
    if is_verifier(&*ctx.state, verifier, scope)? {
        return Ok(Err(Error::VerifierRegistration {
            verifier: *verifier,
            registered: true,
        }));
    }
    Ok(Ok(()))
}

/// The activities pallet.
pub struct Pallet;

impl wijk_support::Pallet for Pallet {
    const NAME: &'static str = "activities";
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = Genesis;

    fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
        check!(config.rules.check());
        RULES.put(state, &config.rules);
        for entry in &config.catalogue {
            check!(add_activity(state, entry, 0, 0)?);
        }
        // Roles are the membership pallet's: genesis records the registrations, and an
        // attestation checks the role when it is made.
        for verifier in &config.verifiers {
            match &verifier.scope {
                VerifierScope::Activity(id) => {
                    check!(existing_activity(&*state, *id)?);
                }
                VerifierScope::Category(category) => {
                    if let Err(why) = check_category(category) {
                        return Ok(Err(Error::BadActivity { why }));
                    }
                }
            }
            VERIFIERS.insert(
                state,
                &(verifier.scope.key(), verifier.account),
                &verifier.scope,
            );
        }
        for entry in &config.budgets {
            for id in &entry.activities {
                check!(existing_activity(&*state, *id)?);
            }
            check!(budgets::open(
                state,
                &entry.funder,
                &entry.name,
                &entry.activities,
                &entry.categories,
                entry.payout_earmark.as_ref(),
                0,
            )?);
        }
        Ok(Ok(()))
    }

    fn dispatch(
        ctx: &mut CallContext<'_, '_>,
        origin: &Origin,
        call: &Call,
    ) -> DispatchResult<Error> {
        match call {
            Call::Claim {
                activity,
                units,
                done_at_ms,
                evidence,
            } => claims::file(ctx, origin, *activity, *units, *done_at_ms, *evidence),
            Call::Attest { claim } => claims::attest(ctx, origin, *claim),
            Call::Reject { claim, reason } => claims::reject(ctx, origin, *claim, reason),
            Call::WithdrawClaim { claim } => claims::withdraw(ctx, origin, *claim),
            Call::Pay { claim, budget } => claims::pay_again(ctx, origin, *claim, *budget),
            Call::OpenBudget {
                name,
                activities,
                categories,
                payout_earmark,
            } => {
                let funder = check!(origin.ensure_signed());
                if !ctx
                    .membership()
                    .has_role(&*ctx.state, &funder, Role::Organisation)?
                {
                    return Ok(Err(MembershipError::MissingRole {
                        account: funder,
                        role: Role::Organisation,
                    }
                    .into()));
                }
                for id in activities {
                    check!(existing_activity(&*ctx.state, *id)?);
                }
                let height = ctx.block().height;
                let budget = check!(budgets::open(
                    ctx.state,
                    &funder,
                    name,
                    activities,
                    categories,
                    payout_earmark.as_ref(),
                    height,
                )?);
                ctx.deposit_event(Event::BudgetOpened {
                    budget,
                    funder,
                    name: name.clone(),
                });
                Ok(Ok(()))
            }
            Call::Fund { budget, amount } => budgets::fund(ctx, origin, *budget, *amount),
            Call::Defund { budget, amount } => budgets::defund(ctx, origin, *budget, *amount),
            Call::AddActivity {
                name,
                unit,
                category,
                value,
                max_units_per_period,
            } => {
                check!(ctx.ensure_decided_by(origin, Collective::Members)?);
                let entry = GenesisActivity {
                    name: name.clone(),
                    unit: unit.clone(),
                    category: category.clone(),
                    value: *value,
                    max_units_per_period: *max_units_per_period,
                };
                let (now, height) = (ctx.block().timestamp_ms, ctx.block().height);
                let activity = check!(add_activity(ctx.state, &entry, now, height)?);
                ctx.deposit_event(Event::ActivityAdded {
                    activity,
                    name: name.clone(),
                    unit: unit.clone(),
                    category: category.clone(),
                    value: *value,
                });
                Ok(Ok(()))
            }
            Call::SetValue { activity, value } => {
                check!(ctx.ensure_decided_by(origin, Collective::Members)?);
                let mut record = check!(existing_activity(&*ctx.state, *activity)?);
                if *value == 0 {
                    return Ok(Err(Error::Zero {
                        what: "an activity's value (retire it instead)".into(),
                    }));
                }
                if let Some(retired_at_ms) = record.retired_at_ms {
                    return Ok(Err(Error::Retired {
                        activity: *activity,
                        retired_at_ms,
                    }));
                }
                let previous = record.value;
                // In force for work done after this block's time: a claim filed in this block
                // (before the enactment at its end) for work done now keeps the old value,
                // and so does an auditor's recomputation of it.
                VALUES.insert(
                    ctx.state,
                    &(*activity, record.value_changes),
                    &ValueChange {
                        since_ms: ctx.block().timestamp_ms.saturating_add(1),
                        height: ctx.block().height,
                        value: *value,
                    },
                );
                record.value = *value;
                record.value_changes += 1;
                ACTIVITIES.insert(ctx.state, activity, &record);
                ctx.deposit_event(Event::ValueSet {
                    activity: *activity,
                    previous,
                    value: *value,
                });
                Ok(Ok(()))
            }
            Call::RetireActivity { activity } => {
                check!(ctx.ensure_decided_by(origin, Collective::Members)?);
                let mut record = check!(existing_activity(&*ctx.state, *activity)?);
                if let Some(retired_at_ms) = record.retired_at_ms {
                    return Ok(Err(Error::Retired {
                        activity: *activity,
                        retired_at_ms,
                    }));
                }
                // Like a value: work done up to this block's time (a claim earlier in this
                // block included) is still claimable.
                record.retired_at_ms = Some(ctx.block().timestamp_ms.saturating_add(1));
                ACTIVITIES.insert(ctx.state, activity, &record);
                ctx.deposit_event(Event::ActivityRetired {
                    activity: *activity,
                });
                Ok(Ok(()))
            }
            Call::SetUnitCap {
                activity,
                max_units_per_period,
            } => {
                check!(ctx.ensure_decided_by(origin, Collective::Members)?);
                let mut record = check!(existing_activity(&*ctx.state, *activity)?);
                if *max_units_per_period == Some(0) {
                    return Ok(Err(Error::Zero {
                        what: "a cap of units".into(),
                    }));
                }
                record.max_units_per_period = *max_units_per_period;
                ACTIVITIES.insert(ctx.state, activity, &record);
                ctx.deposit_event(Event::UnitCapSet {
                    activity: *activity,
                    max_units_per_period: *max_units_per_period,
                });
                Ok(Ok(()))
            }
            Call::AddVerifier { verifier, scope } => {
                check!(ctx.ensure_decided_by(origin, Collective::Board)?);
                check!(add_verifier(ctx, verifier, scope)?);
                VERIFIERS.insert(ctx.state, &(scope.key(), *verifier), scope);
                ctx.deposit_event(Event::VerifierAdded {
                    verifier: *verifier,
                    scope: scope.clone(),
                });
                Ok(Ok(()))
            }
            Call::RemoveVerifier { verifier, scope } => {
                check!(ctx.ensure_decided_by(origin, Collective::Board)?);
                if !is_verifier(&*ctx.state, verifier, scope)? {
                    return Ok(Err(Error::VerifierRegistration {
                        verifier: *verifier,
                        registered: false,
                    }));
                }
                VERIFIERS.remove(ctx.state, &(scope.key(), *verifier));
                ctx.deposit_event(Event::VerifierRemoved {
                    verifier: *verifier,
                    scope: scope.clone(),
                });
                Ok(Ok(()))
            }
            Call::SetRules { rules } => {
                check!(ctx.ensure_decided_by(origin, Collective::Members)?);
                check!(rules.check());
                RULES.put(ctx.state, rules);
                ctx.deposit_event(Event::RulesSet {
                    rules: rules.clone(),
                });
                Ok(Ok(()))
            }
        }
    }

    fn cost(call: &Call) -> Cost {
        match call {
            Call::Claim { .. } => costs::CLAIM,
            Call::Attest { .. } | Call::Pay { .. } => costs::ATTEST,
            _ => costs::MANAGE,
        }
    }
}

#[cfg(test)]
mod tests;
