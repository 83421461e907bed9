//! The domain methods that belong to no pallet: `wijk_chainInfo`, `wijk_history`,
//! `wijk_transaction` (the pallets' own methods are in [`crate::pallets`]).

use crate::chain::parse_hash;
use crate::context::RpcContext;
use crate::error::{internal, invalid_params};
use crate::render;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::Value;
use std::collections::HashMap;
use wijk_primitives::{AccountId, Address, Height};
use wijk_rpc_types as types;
use wijk_storage::TxLocation;

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Most history entries per page.
const MAX_HISTORY_PAGE: usize = 100;

pub(crate) fn parse_address(ctx: &RpcContext, text: &str) -> Result<AccountId, ErrorObjectOwned> {
    Address::parse(text, ctx.chain.address_prefix)
        .map_err(|error| invalid_params(error.to_string()))
}

fn parse_cursor(text: &str) -> Result<TxLocation, ErrorObjectOwned> {
    let bad = || invalid_params(format!("cursor `{text}` is not of the form HEIGHT:INDEX"));
    let (height, index) = text.split_once(':').ok_or_else(bad)?;
    Ok(TxLocation {
        height: height.parse().map_err(|_| bad())?,
        index: index.parse().map_err(|_| bad())?,
    })
}

/// The transaction at `location` with its receipt.
fn located_transaction(
    ctx: &RpcContext,
    location: TxLocation,
    blocks: &mut HashMap<Height, (wijk_runtime::Block, wijk_storage::BlockReceipts)>,
) -> Result<types::FinalTransaction, ErrorObjectOwned> {
    let (block, receipts) = match blocks.entry(location.height) {
        std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
        std::collections::hash_map::Entry::Vacant(entry) => {
            let block = ctx.storage.block(location.height).map_err(internal)?;
            let receipts = ctx.storage.receipts(location.height).map_err(internal)?;
            let (Some(block), Some(receipts)) = (block, receipts) else {
                return Err(internal(format!(
                    "block {} missing from storage",
                    location.height
                )));
            };
            entry.insert((block, receipts))
        }
    };
    let index = location.index as usize;
    let (Some(tx), Some(receipt)) = (
        block.transactions.get(index),
        receipts.transactions.get(index),
    ) else {
        return Err(internal(format!(
            "transaction {}:{} missing",
            location.height, location.index
        )));
    };
    Ok(render::final_transaction(
        block,
        location.index,
        tx,
        receipt,
        ctx.chain.address_prefix,
    ))
}

pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("wijk_chainInfo", |_, ctx, _| -> RpcResult {
        render::json(
            ctx.chain.address_prefix,
            &types::ChainInfo {
                name: ctx.chain.name.clone(),
                chain_id: ctx.chain.id.clone(),
                address_prefix: ctx.chain.address_prefix,
                coin_symbol: ctx.chain.coin_symbol.clone(),
                genesis_hash: ctx.chain.genesis_hash,
                spec_version: ctx.chain.spec_version,
            },
        )
    })?;
    module.register_blocking_method("wijk_history", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let text: String = sequence.next()?;
        let limit: Option<usize> = sequence.optional_next()?;
        let before: Option<String> = sequence.optional_next()?;
        let account = parse_address(&ctx, &text)?;
        let limit = limit.unwrap_or(20).clamp(1, MAX_HISTORY_PAGE);
        let before = before.as_deref().map(parse_cursor).transpose()?;
        let entries = ctx
            .storage
            .account_history(&account, before, limit)
            .map_err(internal)?;
        let mut blocks = HashMap::new();
        let mut items = Vec::with_capacity(entries.len());
        for entry in &entries {
            items.push(located_transaction(&ctx, entry.location, &mut blocks)?);
        }
        let next = (entries.len() == limit)
            .then(|| {
                entries
                    .last()
                    .map(|e| format!("{}:{}", e.location.height, e.location.index))
            })
            .flatten();
        render::json(
            ctx.chain.address_prefix,
            &types::HistoryPage {
                entries: items,
                next,
            },
        )
    })?;
    module.register_blocking_method("wijk_transaction", |params, ctx, _| -> RpcResult {
        let text: String = params.one()?;
        let hash = parse_hash(&text)?;
        match ctx.storage.transaction_location(&hash).map_err(internal)? {
            Some(location) => {
                let found = located_transaction(&ctx, location, &mut HashMap::new())?;
                render::json(ctx.chain.address_prefix, &found)
            }
            None => Ok(Value::Null),
        }
    })?;
    Ok(())
}
