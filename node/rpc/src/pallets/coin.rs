//! The coin pallet's method: `wijk_supply`.

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
            let (total_supply, euro_reserve) =
                wijk_coin::supply(ctx.storage.as_ref()).map_err(internal)?;
            render::json(
                ctx.chain.address_prefix,
                &types::Supply {
                    total_supply: format_cents(total_supply),
                    euro_reserve: format_cents(euro_reserve),
                    total_supply_cents: total_supply.to_string(),
                    euro_reserve_cents: euro_reserve.to_string(),
                    balanced: total_supply == euro_reserve,
                    at_block: render::at_block(&ctx)?,
                },
            )
        },
    )?;
    Ok(())
}
