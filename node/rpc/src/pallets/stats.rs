//! The stats pallet's methods: `wijk_stats`, `wijk_goals`.

use crate::context::RpcContext;
use crate::error::{internal, invalid_params};
use crate::render;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::Value;
use wijk_rpc_types::stats as types;
use wijk_stats::PeriodId;

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Most periods one request returns.
const MAX_PERIODS: u32 = 120;
/// Most entries of each breakdown per period.
const MAX_BREAKDOWN: usize = 200;

/// The period the last final block is in, and the period length.
fn current_period(ctx: &RpcContext) -> Result<(PeriodId, u64), ErrorObjectOwned> {
    let state = ctx.storage.as_ref();
    let period_blocks = wijk_stats::period_blocks(state).map_err(internal)?;
    let height = render::at_block(ctx)?.unwrap_or(0);
    Ok((wijk_stats::period_of(height, period_blocks), period_blocks))
}

pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_blocking_method("wijk_stats", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let from: Option<PeriodId> = sequence.optional_next()?;
        let to: Option<PeriodId> = sequence.optional_next()?;
        let (current, period_blocks) = current_period(&ctx)?;
        let to = to.unwrap_or(current);
        let from = from.unwrap_or(to.saturating_sub(11));
        if from > to || to - from >= MAX_PERIODS {
            return Err(invalid_params(format!(
                "periods {from} to {to}: give a range of 1 to {MAX_PERIODS} periods, first before last"
            )));
        }
        let state = ctx.storage.as_ref();
        let mut periods = Vec::new();
        for period in from..=to {
            let Some(figures) = wijk_stats::period(state, period).map_err(internal)? else {
                continue;
            };
            periods.push(types::Period {
                gdp: figures.gdp(),
                average_circulating: figures.average_circulating(),
                velocity_milli: u64::try_from(figures.velocity_milli()).unwrap_or(u64::MAX),
                complete: period < current,
                breakdown: wijk_stats::breakdown(state, period, MAX_BREAKDOWN)
                    .map_err(internal)?,
                figures,
            });
        }
        render::json(
            ctx.chain.address_prefix,
            &types::Stats {
                periods,
                period_blocks,
                current_period: current,
                at_block: render::at_block(&ctx)?,
            },
        )
    })?;
    module.register_blocking_method("wijk_goals", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let retired: Option<bool> = sequence.optional_next()?;
        let (current, _) = current_period(&ctx)?;
        let last_complete = current.checked_sub(1);
        let state = ctx.storage.as_ref();
        let mut goals = Vec::new();
        // The goal log is short: at most 64 open, each set by the board or a vote.
        for id in 0..wijk_stats::goal_count(state).map_err(internal)? {
            let Some(goal) = wijk_stats::goal(state, id).map_err(internal)? else {
                continue;
            };
            if goal.retired && !retired.unwrap_or(false) {
                continue;
            }
            let (progress, status) = goal
                .progress(last_complete, |period| {
                    wijk_stats::goal_value(state, &goal, period)
                })
                .map_err(internal)?;
            let unit = if goal.per_active_member {
                format!("thousandths of {} per active member", goal.metric.unit())
            } else {
                goal.metric.unit().to_string()
            };
            goals.push(types::GoalView {
                id,
                unit,
                progress,
                status,
                goal,
            });
        }
        render::json(
            ctx.chain.address_prefix,
            &types::Goals {
                goals,
                last_complete_period: last_complete,
                at_block: render::at_block(&ctx)?,
            },
        )
    })?;
    Ok(())
}
