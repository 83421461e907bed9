//! SMART goals: a metric over the statistics (with a filter), a baseline (the *0-meting*),
//! a target and a deadline, and how each period since measured against the straight line
//! from the baseline to the target.
//!
//! A metric's value is a whole number in its own unit: cents for money, units for activity
//! units, a count for members and deals, thousandths for velocity. A goal "per active
//! member" divides by the period's active members and counts in thousandths of that unit
//! (4 hours per active resident is 4,000).

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::{AccountId, Height};
use wijk_support::{StateError, StateRead};

use crate::figures::{ActivityId, PeriodFigures, PeriodId};

/// Longest goal name, in bytes.
pub const MAX_GOAL_NAME_BYTES: usize = 120;
/// Most goals open at once.
pub const MAX_OPEN_GOALS: u32 = 64;

/// Which activities a metric counts.
#[derive(
    Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum ActivityFilter {
    /// Every activity.
    #[codec(index = 0)]
    All,
    /// One activity of the catalogue.
    #[codec(index = 1)]
    Activity(ActivityId),
    /// The activities of one category.
    #[codec(index = 2)]
    Category(String),
}

/// What a goal measures, per period.
#[derive(
    Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Metric {
    /// The wijk's GDP (cents).
    #[codec(index = 0)]
    Gdp,
    /// Payments to merchants for sales (cents).
    #[codec(index = 1)]
    MerchantSales,
    /// Activity payouts (cents).
    #[codec(index = 2)]
    ActivityPayouts(ActivityFilter),
    /// Activity units paid for.
    #[codec(index = 3)]
    ActivityUnits(ActivityFilter),
    /// Settled market deals' value (cents), of one category or all.
    #[codec(index = 4)]
    MarketDeals(Option<String>),
    /// Members active in the period.
    #[codec(index = 5)]
    ActiveMembers,
    /// Members registered in the period.
    #[codec(index = 6)]
    NewMembers,
    /// Coins in existence at the period's end (cents).
    #[codec(index = 7)]
    Circulating,
    /// Coins redeemed (cents).
    #[codec(index = 8)]
    Redeemed,
    /// Velocity (thousandths).
    #[codec(index = 9)]
    Velocity,
}

impl Metric {
    /// The metric's unit, for people.
    pub fn unit(&self) -> &'static str {
        match self {
            Metric::Gdp
            | Metric::MerchantSales
            | Metric::ActivityPayouts(_)
            | Metric::MarketDeals(_)
            | Metric::Circulating
            | Metric::Redeemed => "cents",
            Metric::ActivityUnits(_) => "units",
            Metric::ActiveMembers | Metric::NewMembers => "members",
            Metric::Velocity => "thousandths",
        }
    }
}

/// A SMART goal.
#[derive(
    Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Goal {
    /// What it is, in words ("4 extra hours of neighbourhood help a month per resident").
    pub name: String,
    /// What it measures.
    pub metric: Metric,
    /// Whether the metric is divided by the period's active members (in thousandths).
    pub per_active_member: bool,
    /// The baseline (the *0-meting*), in the metric's unit.
    pub baseline: u64,
    /// The period the baseline was measured in (none: given by whoever set the goal).
    pub baseline_period: Option<PeriodId>,
    /// The target, in the metric's unit.
    pub target: u64,
    /// The first period measured against the line.
    pub first_period: PeriodId,
    /// The period by whose end the target is to be met.
    pub deadline_period: PeriodId,
    /// When it was set.
    pub set_at: Height,
    /// Who set it (none: an enacted vote or the chain).
    pub set_by: Option<AccountId>,
    /// Retired goals are no longer followed.
    pub retired: bool,
}

/// How one period measured against a goal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeriodProgress {
    /// The period.
    pub period: PeriodId,
    /// The metric's value in it.
    pub value: u64,
    /// Where the straight line from baseline to target stands at its end.
    pub expected: u64,
    /// Whether the value is at or beyond the line (in the target's direction).
    pub on_track: bool,
}

/// Where a goal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum GoalStatus {
    /// No period measured yet.
    NotStarted,
    /// The last period measured is on or beyond the line.
    OnTrack,
    /// The last period measured is behind the line.
    Behind,
    /// The deadline's period met the target.
    Achieved,
    /// The deadline passed without the target met.
    Missed,
}

impl Goal {
    /// Whether `value` is at or beyond `line` in the direction from baseline to target.
    fn reaches(&self, value: u64, line: u64) -> bool {
        if self.target >= self.baseline {
            value >= line
        } else {
            value <= line
        }
    }

    /// The line at the end of `period`: the baseline before the first period, the target at
    /// the deadline, straight between.
    pub fn expected_at(&self, period: PeriodId) -> u64 {
        let span = u128::from(self.deadline_period.saturating_sub(self.first_period)) + 1;
        let done = (u128::from(period.saturating_sub(self.first_period)) + 1).min(span);
        let (baseline, target) = (u128::from(self.baseline), u128::from(self.target));
        let line = if target >= baseline {
            baseline + (target - baseline) * done / span
        } else {
            baseline - (baseline - target) * done / span
        };
        u64::try_from(line).unwrap_or(u64::MAX)
    }

    /// The progress of each measured period (from the first to the deadline, up to
    /// `last_complete`), and the status.
    pub fn progress(
        &self,
        last_complete: Option<PeriodId>,
        mut value_of: impl FnMut(PeriodId) -> Result<Option<u64>, StateError>,
    ) -> Result<(Vec<PeriodProgress>, GoalStatus), StateError> {
        let mut periods = Vec::new();
        if let Some(last) = last_complete {
            for period in self.first_period..=self.deadline_period.min(last) {
                let Some(value) = value_of(period)? else {
                    continue;
                };
                let expected = self.expected_at(period);
                periods.push(PeriodProgress {
                    period,
                    value,
                    expected,
                    on_track: self.reaches(value, expected),
                });
            }
        }
        let status = match periods.last() {
            None => GoalStatus::NotStarted,
            Some(last) if last.period >= self.deadline_period => {
                if self.reaches(last.value, self.target) {
                    GoalStatus::Achieved
                } else {
                    GoalStatus::Missed
                }
            }
            Some(last) if last.on_track => GoalStatus::OnTrack,
            Some(_) => GoalStatus::Behind,
        };
        Ok((periods, status))
    }
}

/// The value of `metric` in a period whose figures are `figures` (`None` when the period has
/// none), reading the period's breakdowns from `state` where the metric is filtered.
pub fn measure(
    state: &dyn StateRead,
    metric: &Metric,
    per_active_member: bool,
    figures: &PeriodFigures,
) -> Result<u64, StateError> {
    let period = figures.period;
    let activity = |filter: &ActivityFilter| -> Result<crate::ActivityFigures, StateError> {
        Ok(match filter {
            ActivityFilter::All => crate::ActivityFigures {
                claims: figures.activity_claims,
                units: figures.activity_units,
                payouts: figures.activity_payouts,
            },
            ActivityFilter::Activity(id) => crate::BY_ACTIVITY
                .get(state, &(period, *id))?
                .unwrap_or_default(),
            ActivityFilter::Category(category) => crate::BY_CATEGORY
                .get(state, &(period, crate::category_key(category)))?
                .unwrap_or_default(),
        })
    };
    let value = match metric {
        Metric::Gdp => figures.gdp(),
        Metric::MerchantSales => figures.merchant_sales,
        Metric::ActivityPayouts(filter) => activity(filter)?.payouts,
        Metric::ActivityUnits(filter) => u128::from(activity(filter)?.units),
        Metric::MarketDeals(None) => figures.market_deals,
        Metric::MarketDeals(Some(category)) => {
            crate::DEALS_BY_CATEGORY
                .get(state, &(period, crate::category_key(category)))?
                .unwrap_or_default()
                .value
        }
        Metric::ActiveMembers => u128::from(figures.active_members),
        Metric::NewMembers => u128::from(figures.new_members),
        Metric::Circulating => figures.levels.circulating,
        Metric::Redeemed => figures.redeemed,
        Metric::Velocity => figures.velocity_milli(),
    };
    let value = if per_active_member {
        value
            .saturating_mul(1000)
            .checked_div(u128::from(figures.active_members))
            .unwrap_or(0)
    } else {
        value
    };
    Ok(u64::try_from(value).unwrap_or(u64::MAX))
}
