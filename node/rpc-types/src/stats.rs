//! The statistics methods' types: `wijk_stats`, `wijk_goals`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use wijk_primitives::json::{euro, EuroAmount};
use wijk_primitives::{Cents, Height};
use wijk_stats::{Breakdown, Goal, GoalStatus, PeriodFigures, PeriodId, PeriodProgress};

/// One period's figures, with what follows from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    /// The figures as the chain holds them.
    #[serde(flatten)]
    pub figures: PeriodFigures,
    /// The wijk's GDP: merchant sales, activity payouts and settled market deals.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub gdp: Cents,
    /// The coins in existence on average over the period's blocks.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub average_circulating: Cents,
    /// Payments over the average coins in existence, in thousandths.
    pub velocity_milli: u64,
    /// Whether every block of the period is counted (the current period is not).
    pub complete: bool,
    /// By activity, by activity category, market deals by category.
    pub breakdown: Breakdown,
}

/// `wijk_stats`: the figures of a range of periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// The periods asked for that have had a block, oldest first.
    pub periods: Vec<Period>,
    /// How many blocks a period has.
    pub period_blocks: u64,
    /// The period the last final block is in.
    pub current_period: PeriodId,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}

/// A goal and how it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GoalView {
    /// Its number.
    pub id: u64,
    /// The goal.
    #[serde(flatten)]
    pub goal: Goal,
    /// The metric's unit ("cents", "units", "members", "thousandths"; per active member:
    /// thousandths of it).
    pub unit: String,
    /// Each complete period from the first to the deadline.
    pub progress: Vec<PeriodProgress>,
    /// Where it stands.
    pub status: GoalStatus,
}

/// `wijk_goals`: the cooperative's goals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Goals {
    /// The goals, by number (retired ones only when asked for).
    pub goals: Vec<GoalView>,
    /// The last period whose every block is counted.
    pub last_complete_period: Option<PeriodId>,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}
