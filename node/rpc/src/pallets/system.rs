//! `wijk_account`: an account's record (the system pallet's nonce, the coin's free and
//! earmarked balances) and its membership.

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
            let state = ctx.storage.as_ref();
            let info = wijk_system::account(state, &account).map_err(internal)?;
            let region = wijk_geo::region(state).map_err(internal)?.name;
            let holdings = wijk_coin::earmark::holdings_of(state, &account).map_err(internal)?;
            let earmarked: Vec<types::EarmarkHolding> = holdings
                .iter()
                .map(|(rule, amount)| types::EarmarkHolding {
                    earmark: rule.id(),
                    rule: rule.describe(&region),
                    funder: rule.funder,
                    categories: rule.categories.clone(),
                    region_only: rule.region_only,
                    expires_at: rule.expires_at,
                    amount: format_cents(*amount),
                    amount_cents: amount.to_string(),
                })
                .collect();
            let total = holdings
                .iter()
                .fold(info.balance_cents, |sum, (_, amount)| {
                    sum.saturating_add(*amount)
                });
            let member = super::membership::member_view(state, &account).map_err(internal)?;
            render::json(
                ctx.chain.address_prefix,
                &types::Account {
                    address: account,
                    public_key: account.0.to_vec().into(),
                    balance: format_cents(info.balance_cents),
                    balance_cents: info.balance_cents.to_string(),
                    nonce: info.nonce,
                    earmarked,
                    total: format_cents(total),
                    member,
                    at_block: render::at_block(&ctx)?,
                },
            )
        },
    )?;
    Ok(())
}
