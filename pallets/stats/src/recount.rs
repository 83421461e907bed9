//! The auditor's recount: every period's figures from the facts alone, in memory, with
//! nothing read from the chain's state (what `wijk-node audit stats` and the property tests
//! compare with what the runtime holds).

use std::collections::{BTreeMap, BTreeSet};

use wijk_primitives::{AccountId, Height};

use crate::figures::{Fact, LevelUnderflow, Levels, PeriodFigures, PeriodId};
use crate::{category_key, period_of, ActivityFigures, ActivityId, CategoryKey, DealFigures};

/// Every period's figures, recounted.
#[derive(Debug, Clone, Default)]
pub struct Recount {
    period_blocks: u64,
    levels: Levels,
    /// Each period's figures.
    pub periods: BTreeMap<PeriodId, PeriodFigures>,
    /// Each period's active accounts.
    pub active: BTreeMap<PeriodId, BTreeSet<AccountId>>,
    /// Each period's figures by activity.
    pub by_activity: BTreeMap<(PeriodId, ActivityId), ActivityFigures>,
    /// Each period's figures by activity category.
    pub by_category: BTreeMap<(PeriodId, CategoryKey), ActivityFigures>,
    /// Each period's deals by category.
    pub deals: BTreeMap<(PeriodId, CategoryKey), DealFigures>,
    block: Option<(Height, PeriodFigures)>,
}

impl Recount {
    /// A recount from genesis with its `levels`, periods of `period_blocks` blocks.
    pub fn new(period_blocks: u64, genesis_levels: Levels) -> Recount {
        Recount {
            period_blocks: period_blocks.max(1),
            levels: genesis_levels,
            ..Recount::default()
        }
    }

    /// Starts block `height`.
    pub fn begin_block(&mut self, height: Height) {
        let period = period_of(height, self.period_blocks);
        let figures = self
            .periods
            .remove(&period)
            .unwrap_or_else(|| PeriodFigures::starting(period, height, self.levels));
        self.block = Some((height, figures));
    }

    /// Counts one fact of the current block (none started: ignored).
    pub fn fact(&mut self, fact: Fact<'_>) -> Result<(), LevelUnderflow> {
        let Some((_, figures)) = &mut self.block else {
            return Ok(());
        };
        let period = figures.period;
        self.levels.apply(&fact)?;
        figures.add_flow(&fact);
        match fact {
            Fact::Active(account) if self.active.entry(period).or_default().insert(account) => {
                figures.active_members += 1;
            }
            Fact::ActivityPayout {
                activity,
                category,
                units,
                amount,
            } => {
                self.by_activity
                    .entry((period, activity))
                    .or_default()
                    .add(units, amount);
                self.by_category
                    .entry((period, category_key(category)))
                    .or_default()
                    .add(units, amount);
            }
            Fact::DealSettled { category, amount } => self
                .deals
                .entry((period, category_key(category)))
                .or_default()
                .add(amount),
            _ => {}
        }
        Ok(())
    }

    /// Ends the current block.
    pub fn end_block(&mut self) {
        if let Some((height, mut figures)) = self.block.take() {
            figures.close_block(height, self.levels);
            self.periods.insert(figures.period, figures);
        }
    }

    /// The levels after the last block.
    pub fn levels(&self) -> Levels {
        self.levels
    }
}
