//! The coin pallet's methods: `wijk_supply`, `wijk_redemptions`.

use crate::context::RpcContext;
use crate::error::internal;
use crate::render;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::Value;
use wijk_primitives::format_cents;
use wijk_rpc_types as types;

pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_blocking_method(
        "wijk_supply",
        |_, ctx, _| -> Result<Value, ErrorObjectOwned> {
            let supply = wijk_coin::supply(ctx.storage.as_ref()).map_err(internal)?;
            render::json(
                ctx.chain.address_prefix,
                &types::Supply {
                    total_supply: format_cents(supply.total_supply),
                    euro_reserve: format_cents(supply.euro_reserve),
                    total_supply_cents: supply.total_supply.to_string(),
                    euro_reserve_cents: supply.euro_reserve.to_string(),
                    redemptions_owed: format_cents(supply.owed),
                    redemptions_owed_cents: supply.owed.to_string(),
                    balanced: supply.total_supply.checked_add(supply.owed)
                        == Some(supply.euro_reserve),
                    at_block: render::at_block(&ctx)?,
                },
            )
        },
    )?;
    module.register_blocking_method(
        "wijk_redemptions",
        |params, ctx, _| -> Result<Value, ErrorObjectOwned> {
            let mut sequence = params.sequence();
            let owed_only: Option<bool> = sequence.optional_next()?;
            let from: Option<u64> = sequence.optional_next()?;
            let limit: Option<usize> = sequence.optional_next()?;
            let limit = limit.unwrap_or(20).clamp(1, MAX_REDEMPTIONS_PAGE);
            let state = ctx.storage.as_ref();
            let count = wijk_coin::REDEMPTIONS.len(state).map_err(internal)?;
            let mut entries = Vec::new();
            let mut next = from.unwrap_or(0);
            // Reads at most a few pages past the start when only owed ones are wanted.
            let mut budget = limit * 16;
            while next < count && entries.len() < limit && budget > 0 {
                let page = wijk_coin::REDEMPTIONS
                    .page(state, next, limit.min(budget))
                    .map_err(internal)?;
                if page.is_empty() {
                    break;
                }
                budget = budget.saturating_sub(page.len());
                for (id, record) in page {
                    next = id + 1;
                    if owed_only == Some(true) && record.paid.is_some() {
                        continue;
                    }
                    entries.push(types::Redemption {
                        id,
                        who: record.who,
                        amount: format_cents(record.amount),
                        amount_cents: record.amount.to_string(),
                        fee: format_cents(record.fee),
                        payout_to: record.payout_to,
                        requested_at: record.height,
                        paid: record.paid.map(|payout| types::RedemptionPayout {
                            by: payout.by,
                            bank_ref: payout.bank_ref,
                            at: payout.height,
                        }),
                    });
                    if entries.len() == limit {
                        break;
                    }
                }
            }
            let owed = wijk_coin::supply(state).map_err(internal)?.owed;
            render::json(
                ctx.chain.address_prefix,
                &types::RedemptionsPage {
                    entries,
                    next: (next < count).then_some(next),
                    owed: format_cents(owed),
                },
            )
        },
    )?;
    Ok(())
}

/// Most redemptions per page.
const MAX_REDEMPTIONS_PAGE: usize = 100;
