//! The domain methods: `wijk_chainInfo`, `wijk_account`, `wijk_supply`, `wijk_history`,
//! `wijk_transaction`, `wijk_validators`, `wijk_offences`.

use crate::chain::parse_hash;
use crate::context::RpcContext;
use crate::error::{internal, invalid_params};
use crate::json::{address, amount, outcome_json, transaction_json};
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use std::collections::HashMap;
use wijk_primitives::{AccountId, Address, Height};
use wijk_storage::TxLocation;

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Most history entries per page.
const MAX_HISTORY_PAGE: usize = 100;
/// Most offences per page.
const MAX_OFFENCES_PAGE: u64 = 100;

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

/// The transaction at `location` with its receipt, as JSON.
fn located_transaction(
    ctx: &RpcContext,
    location: TxLocation,
    blocks: &mut HashMap<Height, (wijk_runtime::Block, Vec<wijk_runtime::Receipt>)>,
) -> RpcResult {
    let (block, receipts) = match blocks.entry(location.height) {
        std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
        std::collections::hash_map::Entry::Vacant(entry) => {
            let block = ctx.storage.block(location.height).map_err(internal)?;
            let receipts = ctx.storage.receipts(location.height).map_err(internal)?;
            let receipts = receipts.map(|stored| stored.transactions);
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
    let (Some(tx), Some(receipt)) = (block.transactions.get(index), receipts.get(index)) else {
        return Err(internal(format!(
            "transaction {}:{} missing",
            location.height, location.index
        )));
    };
    let prefix = ctx.chain.address_prefix;
    let mut value = transaction_json(tx, prefix);
    value["blockNumber"] = json!(location.height);
    value["blockHash"] = json!(block.header.hash().to_hex());
    value["index"] = json!(location.index);
    value["timestamp"] = json!(block.header.timestamp_ms);
    value["finalized"] = json!(true);
    value["outcome"] = outcome_json(receipt, prefix);
    Ok(value)
}

pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("wijk_chainInfo", |_, ctx, _| -> RpcResult {
        Ok(json!({
            "name": ctx.chain.name,
            "chainId": ctx.chain.id,
            "addressPrefix": ctx.chain.address_prefix,
            "coinSymbol": ctx.chain.coin_symbol,
            "genesisHash": ctx.chain.genesis_hash.to_hex(),
            "specVersion": ctx.chain.spec_version,
        }))
    })?;
    module.register_blocking_method("wijk_account", |params, ctx, _| -> RpcResult {
        let text: String = params.one()?;
        let account = parse_address(&ctx, &text)?;
        let wijk_system::AccountInfo {
            nonce,
            balance_cents: balance,
        } = wijk_system::account(ctx.storage.as_ref(), &account).map_err(internal)?;
        Ok(json!({
            "address": address(ctx.chain.address_prefix, account),
            "publicKey": format!("0x{}", hex::encode(account.0)),
            "balance": amount(balance),
            "balanceCents": balance.to_string(),
            "nonce": nonce,
            "atBlock": ctx.storage.finalized_height().map_err(internal)?,
        }))
    })?;
    module.register_blocking_method("wijk_supply", |_, ctx, _| -> RpcResult {
        let (total_supply, euro_reserve) =
            wijk_coin::supply(ctx.storage.as_ref()).map_err(internal)?;
        Ok(json!({
            "total_supply": amount(total_supply),
            "euro_reserve": amount(euro_reserve),
            "total_supply_cents": total_supply.to_string(),
            "euro_reserve_cents": euro_reserve.to_string(),
            "balanced": total_supply == euro_reserve,
            "atBlock": ctx.storage.finalized_height().map_err(internal)?,
        }))
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
        Ok(json!({ "entries": items, "next": next }))
    })?;
    module.register_blocking_method("wijk_validators", |_, ctx, _| -> RpcResult {
        let state = ctx.storage.as_ref();
        let prefix = ctx.chain.address_prefix;
        let (epoch, validators) = wijk_validators::current(state).map_err(internal)?;
        let pending = wijk_validators::pending(state)
            .map_err(internal)?
            .map(|scheduled| scheduled.change);
        let board = wijk_system::board(state).map_err(internal)?;
        let (_, offences) = wijk_validators::offences(state, 0, 0).map_err(internal)?;
        let list = |set: &[AccountId]| -> Vec<String> {
            set.iter().map(|v| address(prefix, *v)).collect()
        };
        Ok(json!({
            "epoch": epoch,
            "validators": list(&validators),
            "quorum": wijk_primitives::quorum(validators.len()),
            "board": list(&board),
            "scheduled": pending.map(|change| json!({
                "activatesAt": change.activates_at,
                "validators": list(&change.validators),
            })),
            "offences": offences,
            "atBlock": ctx.storage.finalized_height().map_err(internal)?,
        }))
    })?;
    module.register_blocking_method("wijk_offences", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let from: Option<u64> = sequence.optional_next()?;
        let limit: Option<u64> = sequence.optional_next()?;
        let (offences, count) = wijk_validators::offences(
            ctx.storage.as_ref(),
            from.unwrap_or(0),
            limit.unwrap_or(20).clamp(1, MAX_OFFENCES_PAGE) as usize,
        )
        .map_err(internal)?;
        let prefix = ctx.chain.address_prefix;
        let items: Vec<Value> = offences
            .iter()
            .map(|offence| crate::json::offence_json(offence, prefix))
            .collect();
        Ok(json!({ "offences": items, "count": count }))
    })?;
    module.register_blocking_method("wijk_transaction", |params, ctx, _| -> RpcResult {
        let text: String = params.one()?;
        let hash = parse_hash(&text)?;
        match ctx.storage.transaction_location(&hash).map_err(internal)? {
            Some(location) => located_transaction(&ctx, location, &mut HashMap::new()),
            None => Ok(Value::Null),
        }
    })?;
    Ok(())
}
