//! The activities methods' types: `wijk_activities`, `wijk_claims`, `wijk_budgets`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use wijk_activities::Rules;
use wijk_primitives::json::{euro, EuroAmount};
use wijk_primitives::{AccountId, Cents, Hash, Height, TimestampMs};
use wijk_support::EarmarkTerms;

/// `wijk_activities`: the catalogue and the claim rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Catalogue {
    /// Every activity, retired ones included, in number order.
    pub activities: Vec<Activity>,
    /// The claim rules in force.
    pub rules: Rules,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}

/// An activity of the catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Activity {
    /// Its number (what a claim names).
    pub id: u32,
    /// What it is.
    pub name: String,
    /// What one unit is.
    pub unit: String,
    /// Its category.
    pub category: String,
    /// Its value per unit now.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub value: Cents,
    /// Most units one person may claim per period, if capped.
    pub max_units_per_period: Option<u32>,
    /// Block time it was added (0: in the genesis catalogue).
    pub added_at_ms: TimestampMs,
    /// Block time it was retired, if it was.
    pub retired_at_ms: Option<TimestampMs>,
    /// Every value it had, oldest first, each with when it came into force.
    pub values: Vec<ValueChange>,
    /// Who may attest claims for it (registered for it, or for its category).
    pub verifiers: Vec<AccountId>,
}

/// A value an activity had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValueChange {
    /// In force for work done from this block time on.
    pub since_ms: TimestampMs,
    /// The block that set it.
    pub height: Height,
    /// Coins per unit.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub value: Cents,
}

/// `wijk_claims`: a page of claims, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    /// The claims.
    pub claims: Vec<Claim>,
    /// Pass as `before` for the next page; null when this page reached the end.
    pub next: Option<u64>,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}

/// A claim for work done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// Its number.
    pub id: u64,
    /// Who did the work (and is paid).
    pub participant: AccountId,
    /// The guardian who filed it for them, if not they.
    pub filed_by: Option<AccountId>,
    /// The activity's number.
    pub activity: u32,
    /// Its name.
    pub activity_name: String,
    /// Units done.
    pub units: u32,
    /// The activity's unit.
    pub unit: String,
    /// When the work was done.
    pub done_at_ms: TimestampMs,
    /// Hash of the off-chain evidence.
    pub evidence: Hash,
    /// The value per unit in force when the work was done.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub value_per_unit: Cents,
    /// What it pays: units times that value.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub amount: Cents,
    /// When it was filed.
    pub filed_at: Height,
    /// `pending`, `rejected`, `withdrawn`, `awaitingFunds` or `paid`.
    pub status: String,
    /// The verifier who attested or rejected it.
    pub decided_by: Option<AccountId>,
    /// When it was decided, withdrawn or paid.
    pub decided_at: Option<Height>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// The budget that paid it.
    pub budget: Option<u32>,
}

/// `wijk_budgets`: funders' budgets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Budgets {
    /// The budgets, in number order.
    pub budgets: Vec<Budget>,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}

/// A funder's budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Budget {
    /// Its number.
    pub id: u32,
    /// The funder, on whose account its coins are reserved.
    pub funder: AccountId,
    /// Its name.
    pub name: String,
    /// The activities it pays for (numbers).
    pub activities: Vec<u32>,
    /// The categories it pays for (with no activities either: every activity).
    pub categories: Vec<String>,
    /// The earmark of what it pays out, if earmarked.
    pub payout_earmark: Option<EarmarkTerms>,
    /// In it now.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub remaining: Cents,
    /// Ever put in.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub funded: Cents,
    /// Ever paid out to participants.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub paid_out: Cents,
    /// Taken back by the funder.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub withdrawn: Cents,
    /// When it was opened.
    pub opened_at: Height,
    /// Attested claims waiting for funds that this budget pays for.
    pub waiting_claims: u32,
    /// What they need together.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub waiting_amount: Cents,
}
