//! The wijk's statistics: what the coin does for the wijk, per period, and the goals the
//! cooperative follows with them.
//!
//! Owns: the figures of every period ([`PERIODS`]: GDP and its three parts, coins minted,
//! redeemed and moved, coins in existence, earmarked and set aside, velocity, active and new
//! members, activity units, claims and deals) and their breakdowns by activity, by activity
//! category and by market category; who was active in which period ([`LAST_ACTIVE`]); the
//! SMART goals ([`GOALS`]). What counts as GDP and what does not: [`figures`].
//!
//! How it counts: the runtime reads each block's [`Fact`]s off the events of its
//! transactions and hooks (and each transaction's signer) and hands them to
//! [`record_block`] once, at the block's end. The work is constant per fact (a map update in
//! memory; one read of the signer's or recipient's last active period; one read and write of
//! each breakdown the block touched), never a scan of history. Because the facts come from
//! the events alone, an auditor recounts every figure from the blocks' receipts
//! ([`recount::Recount`], `wijk-node audit stats`) without trusting the node's state.
//!
//! Must never: move coins, refuse a block for a figure it cannot represent (figures
//! saturate), or read anything but its own storage: levels are carried from the events, and
//! the runtime checks them against the coin's own total every block.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod figures;
pub mod goals;
pub mod recount;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::{AccountId, Height};
use wijk_support::{
    check, BadOrigin, CallContext, Collective, Cost, DispatchResult, Involves, Origin, StateError,
    StateOverlay, StateRead, StorageLog, StorageMap, StorageValue,
};

pub use figures::{
    ActivityFigures, ActivityId, DealFigures, Fact, LevelUnderflow, Levels, PeriodFigures, PeriodId,
};
pub use goals::{ActivityFilter, Goal, GoalStatus, Metric, PeriodProgress};

/// The length of a period, in blocks (from the chain spec).
pub const PERIOD_BLOCKS: StorageValue<u64> = StorageValue::new(b"stats/period_blocks");
/// Coins by where they are, after the last block.
pub const LEVELS: StorageValue<Levels> = StorageValue::new(b"stats/levels");
/// Every period's figures.
pub const PERIODS: StorageMap<PeriodId, PeriodFigures> = StorageMap::new(b"stats/period/");
/// Each period's figures by activity.
pub const BY_ACTIVITY: StorageMap<(PeriodId, ActivityId), ActivityFigures> =
    StorageMap::new(b"stats/activity/");
/// Each period's activity figures by the activities' category.
pub const BY_CATEGORY: StorageMap<(PeriodId, CategoryKey), ActivityFigures> =
    StorageMap::new(b"stats/category/");
/// Each period's settled market deals by the listings' category.
pub const DEALS_BY_CATEGORY: StorageMap<(PeriodId, CategoryKey), DealFigures> =
    StorageMap::new(b"stats/deals/");
/// The last period each account was active in (one record per account, overwritten: the
/// active count needs no per-period set).
pub const LAST_ACTIVE: StorageMap<AccountId, PeriodId> = StorageMap::new(b"stats/last_active/");
/// The goals, by number.
pub const GOALS: StorageLog<Goal> = StorageLog::new(b"stats/goal/", b"stats/goal_count");
/// How many goals are not retired.
pub const OPEN_GOALS: StorageValue<u32> = StorageValue::new(b"stats/open_goals");

/// A category as a storage key: its bytes, zero-padded to the longest category (categories
/// hold no zero byte, so the key gives the name back).
pub type CategoryKey = [u8; wijk_support::MAX_CATEGORY_BYTES];

/// The key of `category` (a longer name is cut; categories are checked where they are made).
pub fn category_key(category: &str) -> CategoryKey {
    let mut key = [0u8; wijk_support::MAX_CATEGORY_BYTES];
    let bytes = category.as_bytes();
    let len = bytes.len().min(key.len());
    key[..len].copy_from_slice(&bytes[..len]);
    key
}

/// The category a key names.
pub fn category_name(key: &CategoryKey) -> String {
    let len = key.iter().position(|b| *b == 0).unwrap_or(key.len());
    String::from_utf8_lossy(&key[..len]).into_owned()
}

/// What the stats calls cost.
pub mod costs {
    use super::*;
    /// Setting a goal: the goal, the count, a period record read for a measured baseline.
    pub const SET_GOAL: Cost = Cost::micros(20);
    /// Retiring a goal.
    pub const RETIRE_GOAL: Cost = Cost::micros(10);
    /// Counting one fact at a block's end (a map update in memory, its share of the reads
    /// and writes of the records it touches); the runtime adds it per transaction.
    pub const PER_FACT: Cost = Cost::nanos(400);
}

/// A period of a month of one-second blocks, unless the chain spec says otherwise.
pub const DEFAULT_PERIOD_BLOCKS: u64 = 30 * 86_400;

/// The period block `height` belongs to.
pub fn period_of(height: Height, period_blocks: u64) -> PeriodId {
    PeriodId::try_from(height / period_blocks.max(1)).unwrap_or(PeriodId::MAX)
}

/// The period length in force.
pub fn period_blocks(state: &dyn StateRead) -> Result<u64, StateError> {
    Ok(PERIOD_BLOCKS
        .get(state)?
        .unwrap_or(DEFAULT_PERIOD_BLOCKS)
        .max(1))
}

/// The figures of `period`, if it has had a block.
pub fn period(
    state: &dyn StateRead,
    period: PeriodId,
) -> Result<Option<PeriodFigures>, StateError> {
    PERIODS.get(state, &period)
}

/// Coins by where they are, after the last block.
pub fn levels(state: &dyn StateRead) -> Result<Levels, StateError> {
    Ok(LEVELS.get(state)?.unwrap_or_default())
}

/// Sets the levels at genesis (the runtime passes the coins the coin pallet's genesis
/// created).
pub fn set_genesis_levels(state: &mut StateOverlay<'_>, levels: Levels) {
    LEVELS.put(state, &levels);
}

/// One block's facts, gathered in memory before [`record_block`] writes them.
#[derive(Debug, Default)]
pub struct BlockTally {
    flows: PeriodFigures,
    active: BTreeSet<AccountId>,
    by_activity: BTreeMap<ActivityId, ActivityFigures>,
    by_category: BTreeMap<CategoryKey, ActivityFigures>,
    deals: BTreeMap<CategoryKey, DealFigures>,
    level_facts: Vec<Fact<'static>>,
}

impl BlockTally {
    /// Counts one fact.
    pub fn add(&mut self, fact: Fact<'_>) {
        self.flows.add_flow(&fact);
        match fact {
            Fact::Active(account) => {
                self.active.insert(account);
            }
            Fact::ActivityPayout {
                activity,
                category,
                units,
                amount,
            } => {
                self.by_activity
                    .entry(activity)
                    .or_default()
                    .add(units, amount);
                self.by_category
                    .entry(category_key(category))
                    .or_default()
                    .add(units, amount);
            }
            Fact::DealSettled { category, amount } => {
                self.deals
                    .entry(category_key(category))
                    .or_default()
                    .add(amount);
            }
            Fact::Minted(amount) => self.level_facts.push(Fact::Minted(amount)),
            Fact::Redeemed(amount) => self.level_facts.push(Fact::Redeemed(amount)),
            Fact::EarmarkIn(amount) => self.level_facts.push(Fact::EarmarkIn(amount)),
            Fact::EarmarkOut(amount) => self.level_facts.push(Fact::EarmarkOut(amount)),
            Fact::ReserveIn(amount) => self.level_facts.push(Fact::ReserveIn(amount)),
            Fact::ReserveOut(amount) => self.level_facts.push(Fact::ReserveOut(amount)),
            Fact::NewMember | Fact::Payment(_) | Fact::MerchantSale(_) => {}
        }
    }
}

fn add_figures(into: &mut PeriodFigures, flows: &PeriodFigures) {
    let add = |a: &mut u128, b: u128| *a = a.saturating_add(b);
    add(&mut into.merchant_sales, flows.merchant_sales);
    add(&mut into.activity_payouts, flows.activity_payouts);
    add(&mut into.market_deals, flows.market_deals);
    add(&mut into.minted, flows.minted);
    add(&mut into.redeemed, flows.redeemed);
    add(&mut into.payments, flows.payments);
    into.payment_count = into.payment_count.saturating_add(flows.payment_count);
    into.new_members = into.new_members.saturating_add(flows.new_members);
    into.activity_units = into.activity_units.saturating_add(flows.activity_units);
    into.activity_claims = into.activity_claims.saturating_add(flows.activity_claims);
    into.deals = into.deals.saturating_add(flows.deals);
}

/// Writes block `height`'s tally into its period: flows added, the active members counted
/// once a period, the breakdowns the block touched, the levels after it. `Ok(Err(_))` when
/// the facts would take a level below zero (the events contradict each other: the runtime
/// refuses the block).
pub fn record_block(
    state: &mut StateOverlay<'_>,
    height: Height,
    tally: BlockTally,
) -> Result<Result<Levels, LevelUnderflow>, StateError> {
    let period = period_of(height, period_blocks(&*state)?);
    let mut levels = levels(&*state)?;
    let mut figures = match PERIODS.get(&*state, &period)? {
        Some(figures) => figures,
        None => PeriodFigures::starting(period, height, levels),
    };
    for fact in &tally.level_facts {
        if let Err(underflow) = levels.apply(fact) {
            return Ok(Err(underflow));
        }
    }
    add_figures(&mut figures, &tally.flows);
    for account in &tally.active {
        if LAST_ACTIVE.get(&*state, account)? != Some(period) {
            LAST_ACTIVE.insert(state, account, &period);
            figures.active_members = figures.active_members.saturating_add(1);
        }
    }
    for (activity, add) in &tally.by_activity {
        let key = (period, *activity);
        let mut held = BY_ACTIVITY.get(&*state, &key)?.unwrap_or_default();
        held.merge(add);
        BY_ACTIVITY.insert(state, &key, &held);
    }
    for (category, add) in &tally.by_category {
        let key = (period, *category);
        let mut held = BY_CATEGORY.get(&*state, &key)?.unwrap_or_default();
        held.merge(add);
        BY_CATEGORY.insert(state, &key, &held);
    }
    for (category, add) in &tally.deals {
        let key = (period, *category);
        let mut held = DEALS_BY_CATEGORY.get(&*state, &key)?.unwrap_or_default();
        held.deals = held.deals.saturating_add(add.deals);
        held.value = held.value.saturating_add(add.value);
        DEALS_BY_CATEGORY.insert(state, &key, &held);
    }
    figures.close_block(height, levels);
    PERIODS.insert(state, &period, &figures);
    LEVELS.put(state, &levels);
    Ok(Ok(levels))
}

/// A period's breakdowns: by activity, by activity category, market deals by category.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Breakdown {
    /// By activity number.
    pub by_activity: Vec<(ActivityId, ActivityFigures)>,
    /// By activity category.
    pub by_category: Vec<(String, ActivityFigures)>,
    /// Market deals by category.
    pub deals_by_category: Vec<(String, DealFigures)>,
}

/// The breakdowns of `period` (at most `limit` entries of each).
pub fn breakdown(
    state: &dyn StateRead,
    period: PeriodId,
    limit: usize,
) -> Result<Breakdown, StateError> {
    Ok(Breakdown {
        by_activity: BY_ACTIVITY
            .page_under(state, &period, limit)?
            .into_iter()
            .map(|((_, activity), figures)| (activity, figures))
            .collect(),
        by_category: BY_CATEGORY
            .page_under(state, &period, limit)?
            .into_iter()
            .map(|((_, key), figures)| (category_name(&key), figures))
            .collect(),
        deals_by_category: DEALS_BY_CATEGORY
            .page_under(state, &period, limit)?
            .into_iter()
            .map(|((_, key), figures)| (category_name(&key), figures))
            .collect(),
    })
}

/// A goal as a chain spec or a call gives it.
#[derive(
    Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewGoal {
    /// What it is, in words.
    pub name: String,
    /// What it measures.
    pub metric: Metric,
    /// Whether the metric is divided by the period's active members (in thousandths).
    #[serde(default)]
    pub per_active_member: bool,
    /// The baseline in the metric's unit; none: measured in the last complete period (0
    /// if there is none yet).
    #[serde(default)]
    pub baseline: Option<u64>,
    /// The target in the metric's unit.
    pub target: u64,
    /// The first period measured (none: the current one).
    #[serde(default)]
    pub first_period: Option<PeriodId>,
    /// The period by whose end the target is to be met.
    pub deadline_period: PeriodId,
}

/// A stats call.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// The board (or an enacted vote) sets a SMART goal.
    #[codec(index = 0)]
    SetGoal {
        /// The goal.
        goal: NewGoal,
    },
    /// The board (or an enacted vote) stops following a goal.
    #[codec(index = 1)]
    RetireGoal {
        /// Its number.
        goal: u64,
    },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum Event {
    /// A goal was set.
    #[codec(index = 0)]
    GoalSet {
        /// Its number.
        goal: u64,
        /// Its name.
        name: String,
        /// Its baseline.
        baseline: u64,
        /// Its target.
        target: u64,
        /// Its deadline.
        deadline_period: PeriodId,
    },
    /// A goal was retired.
    #[codec(index = 1)]
    GoalRetired {
        /// Its number.
        goal: u64,
    },
}

impl Involves for Event {
    fn involved_accounts(&self, _accounts: &mut Vec<AccountId>) {}
}

/// Why a stats call failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// The call came from an origin that may not make it.
    #[error(transparent)]
    #[codec(index = 0)]
    BadOrigin(#[from] BadOrigin),
    /// The goal is malformed.
    #[error("goal refused: {why}")]
    #[codec(index = 1)]
    BadGoal {
        /// What is wrong.
        why: String,
    },
    /// As many goals are open as may be.
    #[error("{max} goals are open, the most there may be; retire one first")]
    #[codec(index = 2)]
    TooManyGoals {
        /// The limit.
        max: u32,
    },
    /// No such goal, or it is retired already.
    #[error("there is no open goal {goal}")]
    #[codec(index = 3)]
    NoSuchGoal {
        /// The number given.
        goal: u64,
    },
}

/// The stats pallet's section of a chain spec's genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Genesis {
    /// The length of a period, in blocks.
    pub period_blocks: u64,
    /// The goals the chain starts with.
    pub goals: Vec<NewGoal>,
}

impl Default for Genesis {
    fn default() -> Self {
        Genesis {
            period_blocks: DEFAULT_PERIOD_BLOCKS,
            goals: Vec::new(),
        }
    }
}

/// Goal `id`.
pub fn goal(state: &dyn StateRead, id: u64) -> Result<Option<Goal>, StateError> {
    GOALS.get(state, id)
}

/// How many goals were ever set.
pub fn goal_count(state: &dyn StateRead) -> Result<u64, StateError> {
    GOALS.len(state)
}

/// The last period whose every block is counted before `height`'s block, if any.
pub fn last_complete_period(
    state: &dyn StateRead,
    height: Height,
) -> Result<Option<PeriodId>, StateError> {
    let current = period_of(height, period_blocks(state)?);
    Ok(current.checked_sub(1))
}

/// The value of goal `goal` in `period` (none when the period has no figures).
pub fn goal_value(
    state: &dyn StateRead,
    goal: &Goal,
    period: PeriodId,
) -> Result<Option<u64>, StateError> {
    let Some(figures) = PERIODS.get(state, &period)? else {
        return Ok(None);
    };
    goals::measure(state, &goal.metric, goal.per_active_member, &figures).map(Some)
}

fn set_goal(
    state: &mut StateOverlay<'_>,
    height: Height,
    new: &NewGoal,
    set_by: Option<AccountId>,
) -> Result<Result<(u64, Goal), Error>, StateError> {
    let bad = |why: &str| Ok(Err(Error::BadGoal { why: why.into() }));
    if new.name.trim().is_empty() || new.name.len() > goals::MAX_GOAL_NAME_BYTES {
        return bad(&format!(
            "a goal's name is 1 to {} bytes",
            goals::MAX_GOAL_NAME_BYTES
        ));
    }
    let categories = match &new.metric {
        Metric::ActivityPayouts(ActivityFilter::Category(category))
        | Metric::ActivityUnits(ActivityFilter::Category(category))
        | Metric::MarketDeals(Some(category)) => Some(category),
        _ => None,
    };
    if let Some(category) = categories {
        if !wijk_support::valid_category(category) {
            return bad(&format!("'{category}' is no category"));
        }
    }
    let current = period_of(height, period_blocks(&*state)?);
    let first_period = new.first_period.unwrap_or(current);
    if new.deadline_period < first_period {
        return bad(&format!(
            "the deadline (period {}) is before the first period measured ({first_period})",
            new.deadline_period
        ));
    }
    let open = OPEN_GOALS.get(&*state)?.unwrap_or(0);
    if open >= goals::MAX_OPEN_GOALS {
        return Ok(Err(Error::TooManyGoals {
            max: goals::MAX_OPEN_GOALS,
        }));
    }
    // The 0-meting: measured in the period before the first one, when not given.
    let (baseline, baseline_period) = match (new.baseline, first_period.checked_sub(1)) {
        (Some(baseline), _) => (baseline, None),
        (None, Some(period)) => match PERIODS.get(&*state, &period)? {
            Some(figures) => (
                goals::measure(&*state, &new.metric, new.per_active_member, &figures)?,
                Some(period),
            ),
            None => (0, Some(period)),
        },
        (None, None) => (0, None),
    };
    let goal = Goal {
        name: new.name.clone(),
        metric: new.metric.clone(),
        per_active_member: new.per_active_member,
        baseline,
        baseline_period,
        target: new.target,
        first_period,
        deadline_period: new.deadline_period,
        set_at: height,
        set_by,
        retired: false,
    };
    let id = GOALS.push(state, &goal)?;
    OPEN_GOALS.put(state, &(open + 1));
    Ok(Ok((id, goal)))
}

/// The stats pallet.
pub struct Pallet;

impl wijk_support::Pallet for Pallet {
    const NAME: &'static str = "stats";
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = Genesis;

    fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
        if config.period_blocks == 0 {
            return Ok(Err(Error::BadGoal {
                why: "a period is at least one block".into(),
            }));
        }
        PERIOD_BLOCKS.put(state, &config.period_blocks);
        for new in &config.goals {
            check!(set_goal(state, 0, new, None)?);
        }
        Ok(Ok(()))
    }

    fn dispatch(
        ctx: &mut CallContext<'_, '_>,
        origin: &Origin,
        call: &Call,
    ) -> DispatchResult<Error> {
        check!(ctx.ensure_decided_by(origin, Collective::Board)?);
        let set_by = origin.ensure_signed().ok();
        match call {
            Call::SetGoal { goal: new } => {
                let height = ctx.block().height;
                let (id, goal) = check!(set_goal(ctx.state, height, new, set_by)?);
                ctx.deposit_event(Event::GoalSet {
                    goal: id,
                    name: goal.name,
                    baseline: goal.baseline,
                    target: goal.target,
                    deadline_period: goal.deadline_period,
                });
            }
            Call::RetireGoal { goal: id } => {
                let Some(mut goal) = GOALS.get(&*ctx.state, *id)?.filter(|g| !g.retired) else {
                    return Ok(Err(Error::NoSuchGoal { goal: *id }));
                };
                goal.retired = true;
                GOALS.rewrite(ctx.state, *id, &goal)?;
                let open = OPEN_GOALS.get(&*ctx.state)?.unwrap_or(0);
                OPEN_GOALS.put(ctx.state, &open.saturating_sub(1));
                ctx.deposit_event(Event::GoalRetired { goal: *id });
            }
        }
        Ok(Ok(()))
    }

    fn cost(call: &Call) -> Cost {
        match call {
            Call::SetGoal { .. } => costs::SET_GOAL,
            Call::RetireGoal { .. } => costs::RETIRE_GOAL,
        }
    }
}
