//! The system pallet's method: `wijk_account`.

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
        "wijk_account",
        |params, ctx, _| -> Result<Value, ErrorObjectOwned> {
            let text: String = params.one()?;
            let account = crate::wijk::parse_address(&ctx, &text)?;
            let info = wijk_system::account(ctx.storage.as_ref(), &account).map_err(internal)?;
            render::json(
                ctx.chain.address_prefix,
                &types::Account {
                    address: account,
                    public_key: account.0.to_vec().into(),
                    balance: format_cents(info.balance_cents),
                    balance_cents: info.balance_cents.to_string(),
                    nonce: info.nonce,
                    at_block: render::at_block(&ctx)?,
                },
            )
        },
    )?;
    Ok(())
}
