//! The Substrate-style methods: `system_*`, `chain_*`, `state_*`, `author_*`.

use crate::context::RpcContext;
use crate::error::{internal, invalid_params, refused, unavailable};
use crate::json::{header_json, transaction_json};
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage, SubscriptionSink};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use wijk_primitives::{Hash, Height};

type RpcResult = Result<Value, ErrorObjectOwned>;

pub(crate) fn parse_hash(text: &str) -> Result<Hash, ErrorObjectOwned> {
    Hash::from_hex(text)
        .ok_or_else(|| invalid_params(format!("`{text}` is not a 0x-hex 32-byte hash")))
}

/// Most transactions `author_submitTransactions` takes in one call.
const MAX_SUBMITTED_AT_ONCE: usize = 1_000;

pub(crate) fn parse_hex(text: &str) -> Result<Vec<u8>, ErrorObjectOwned> {
    hex::decode(text.strip_prefix("0x").unwrap_or(text))
        .map_err(|error| invalid_params(format!("not hex: {error}")))
}

/// Height of the block named by an optional hash param; the finalized head when absent.
pub(crate) fn resolve_height(
    ctx: &RpcContext,
    hash: Option<String>,
) -> Result<Option<Height>, ErrorObjectOwned> {
    match hash {
        None => ctx.storage.finalized_height().map_err(internal),
        Some(text) => ctx.storage.height_of(&parse_hash(&text)?).map_err(internal),
    }
}

fn optional_hash(params: &Params<'_>) -> Result<Option<String>, ErrorObjectOwned> {
    let mut sequence = params.sequence();
    sequence.optional_next::<String>()
}

async fn send_json(sink: &SubscriptionSink, value: &Value) -> bool {
    match serde_json::value::to_raw_value(value) {
        Ok(raw) => sink.send(SubscriptionMessage::from(raw)).await.is_ok(),
        Err(_) => false,
    }
}

pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_method("system_chain", |_, ctx, _| -> RpcResult {
        Ok(json!(ctx.chain.name))
    })?;
    module.register_method("system_name", |_, _, _| -> RpcResult {
        Ok(json!("wijk-node"))
    })?;
    module.register_method("system_version", |_, ctx, _| -> RpcResult {
        Ok(json!(ctx.chain.node_version))
    })?;
    module.register_method("system_properties", |_, ctx, _| -> RpcResult {
        Ok(json!({
            "chainId": ctx.chain.id,
            "addressPrefix": ctx.chain.address_prefix,
            "tokenSymbol": ctx.chain.coin_symbol,
            "tokenDecimals": 2,
            "genesisHash": ctx.chain.genesis_hash.to_hex(),
            "specVersion": ctx.chain.spec_version,
        }))
    })?;
    module.register_method("system_health", |_, ctx, _| -> RpcResult {
        Ok(json!({
            "peers": ctx.status.peers().len(),
            "isSyncing": ctx.status.is_syncing(),
            "shouldHavePeers": ctx.status.should_have_peers,
        }))
    })?;
    module.register_method("system_peers", |_, ctx, _| -> RpcResult {
        Ok(json!(ctx
            .status
            .peers()
            .into_iter()
            .map(|peer_id| json!({ "peerId": peer_id }))
            .collect::<Vec<_>>()))
    })?;
    module.register_method("system_localPeerId", |_, ctx, _| -> RpcResult {
        Ok(json!(ctx.status.local_peer_id))
    })?;
    module.register_method("system_syncState", |_, ctx, _| -> RpcResult {
        use std::sync::atomic::Ordering::Relaxed;
        let finalized = ctx
            .storage
            .finalized_height()
            .map_err(internal)?
            .unwrap_or(0);
        Ok(json!({
            "finalizedBlock": finalized,
            "currentBlock": ctx.status.best_height.load(Relaxed).max(finalized),
            "highestBlock": ctx.status.sync_target.load(Relaxed).max(finalized),
            "view": ctx.status.view.load(Relaxed),
        }))
    })?;

    module.register_blocking_method("chain_getBlockHash", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let height: Option<Height> = sequence.optional_next()?;
        let height = match height {
            Some(height) => height,
            None => match ctx.storage.finalized_height().map_err(internal)? {
                Some(height) => height,
                None => return Ok(Value::Null),
            },
        };
        Ok(match ctx.storage.header(height).map_err(internal)? {
            Some(header) => json!(header.hash().to_hex()),
            None => Value::Null,
        })
    })?;
    module.register_blocking_method("chain_getFinalizedHead", |_, ctx, _| -> RpcResult {
        Ok(match ctx.storage.best_header().map_err(internal)? {
            Some(header) => json!(header.hash().to_hex()),
            None => Value::Null,
        })
    })?;
    module.register_blocking_method("chain_getHeader", |params, ctx, _| -> RpcResult {
        let Some(height) = resolve_height(&ctx, optional_hash(&params)?)? else {
            return Ok(Value::Null);
        };
        Ok(match ctx.storage.header(height).map_err(internal)? {
            Some(header) => header_json(&header, ctx.chain.address_prefix),
            None => Value::Null,
        })
    })?;
    module.register_blocking_method("chain_getBlock", |params, ctx, _| -> RpcResult {
        let Some(height) = resolve_height(&ctx, optional_hash(&params)?)? else {
            return Ok(Value::Null);
        };
        let Some(block) = ctx.storage.block(height).map_err(internal)? else {
            return Ok(Value::Null);
        };
        let prefix = ctx.chain.address_prefix;
        Ok(json!({
            "block": {
                "header": header_json(&block.header, prefix),
                "transactions": block.transactions.iter().map(|tx| transaction_json(tx, prefix)).collect::<Vec<_>>(),
            }
        }))
    })?;
    module.register_blocking_method(
        "chain_getBlockTransactionHashes",
        |params, ctx, _| -> RpcResult {
            let Some(height) = resolve_height(&ctx, optional_hash(&params)?)? else {
                return Ok(Value::Null);
            };
            let Some(block) = ctx.storage.block(height).map_err(internal)? else {
                return Ok(Value::Null);
            };
            Ok(json!(block
                .transactions
                .iter()
                .map(|tx| tx.hash().to_hex())
                .collect::<Vec<_>>()))
        },
    )?;
    module.register_blocking_method(
        "chain_getFinalityCertificate",
        |params, ctx, _| -> RpcResult {
            let Some(height) = resolve_height(&ctx, optional_hash(&params)?)? else {
                return Ok(Value::Null);
            };
            let Some(certificate) = ctx.storage.certificate(height).map_err(internal)? else {
                return Ok(Value::Null);
            };
            use parity_scale_codec::Encode;
            Ok(json!({
                "height": certificate.height,
                "view": certificate.view,
                "blockHash": certificate.block_hash.to_hex(),
                "signatures": certificate.signatures.iter().map(|(signer, signature)| json!({
                    "validator": crate::json::address(ctx.chain.address_prefix, *signer),
                    "signature": format!("0x{}", hex::encode(signature.0)),
                })).collect::<Vec<_>>(),
                "encoded": format!("0x{}", hex::encode(certificate.encode())),
            }))
        },
    )?;
    for (subscribe, notification, unsubscribe) in [
        (
            "chain_subscribeNewHeads",
            "chain_newHead",
            "chain_unsubscribeNewHeads",
        ),
        (
            "chain_subscribeFinalizedHeads",
            "chain_finalizedHead",
            "chain_unsubscribeFinalizedHeads",
        ),
    ] {
        // With one validator every block is final when committed, so both streams are the
        // committed blocks; the BFT network will separate them.
        module.register_subscription(
            subscribe,
            notification,
            unsubscribe,
            |_, pending, ctx, _| async move { heads_subscription(pending, ctx).await },
        )?;
    }

    module.register_blocking_method("state_getReadProof", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let keys: Vec<String> = sequence.next()?;
        let at: Option<String> = sequence.optional_next()?;
        if keys.len() > 64 {
            return Err(invalid_params("at most 64 keys per proof request"));
        }
        let Some(height) = resolve_height(&ctx, at)? else {
            return Err(invalid_params("unknown block"));
        };
        let header = ctx
            .storage
            .header(height)
            .map_err(internal)?
            .ok_or_else(|| invalid_params("unknown block"))?;
        let mut proofs = Vec::with_capacity(keys.len());
        for key in keys {
            let key = parse_hex(&key)?;
            let (value, proof) =
                wijk_runtime::state_tree::prove(ctx.storage.as_ref(), height, &key)
                    .map_err(internal)?;
            proofs.push(json!({
                "key": format!("0x{}", hex::encode(&key)),
                "value": value.map(|v| format!("0x{}", hex::encode(v))),
                "proof": format!("0x{}", hex::encode(proof)),
            }));
        }
        Ok(json!({
            "at": header.hash().to_hex(),
            "number": height,
            "stateRoot": header.state_root.to_hex(),
            "proofs": proofs,
        }))
    })?;

    module.register_async_method("author_submitTransaction", |params, ctx, _| async move {
        let encoded: String = params.one()?;
        let bytes = parse_hex(&encoded)?;
        match ctx.pool.submit(bytes).await {
            Ok(Ok(hash)) => Ok::<Value, ErrorObjectOwned>(json!(hash.to_hex())),
            Ok(Err(error)) => Err(refused(&error, ctx.chain.address_prefix)),
            Err(_) => Err(unavailable()),
        }
    })?;
    module.register_async_method("author_submitTransactions", |params, ctx, _| async move {
        let encoded: Vec<String> = params.one()?;
        if encoded.len() > MAX_SUBMITTED_AT_ONCE {
            return Err(invalid_params(format!(
                "{} transactions in one call; at most {MAX_SUBMITTED_AT_ONCE}",
                encoded.len()
            )));
        }
        let transactions = encoded
            .iter()
            .map(|text| parse_hex(text))
            .collect::<Result<Vec<_>, _>>()?;
        let verdicts = ctx
            .pool
            .submit_batch(transactions)
            .await
            .map_err(|_| unavailable())?;
        let answers: Vec<Value> = verdicts
            .iter()
            .map(|verdict| match verdict {
                Ok(hash) => json!({ "hash": hash.to_hex() }),
                Err(error) => {
                    let error = refused(error, ctx.chain.address_prefix);
                    json!({ "error": { "code": error.code(), "message": error.message() } })
                }
            })
            .collect();
        Ok::<Value, ErrorObjectOwned>(json!(answers))
    })?;
    module.register_async_method("author_nextNonce", |params, ctx, _| async move {
        let text: String = params.one()?;
        let account = crate::wijk::parse_address(&ctx, &text)?;
        match ctx.pool.next_nonce(account).await {
            Ok(Ok(nonce)) => Ok::<Value, ErrorObjectOwned>(json!(nonce)),
            Ok(Err(error)) => Err(internal(error)),
            Err(_) => Err(unavailable()),
        }
    })?;
    module.register_subscription(
        "author_submitAndWatchTransaction",
        "author_transactionUpdate",
        "author_unwatchTransaction",
        |params, pending, ctx, _| async move { watch_transaction(params, pending, ctx).await },
    )?;
    Ok(())
}

async fn heads_subscription(
    pending: PendingSubscriptionSink,
    ctx: Arc<RpcContext>,
) -> SubscriptionResult {
    let mut committed = ctx.committed.subscribe();
    let sink = pending.accept().await?;
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            block = committed.recv() => match block {
                Ok(block) => {
                    if !send_json(&sink, &header_json(&block.header, ctx.chain.address_prefix)).await {
                        return Ok(());
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return Ok(()),
            },
        }
    }
}

/// The final block that holds transaction `hash`, read from storage.
fn included_in(ctx: &RpcContext, hash: &Hash) -> Option<Hash> {
    let location = ctx.storage.transaction_location(hash).ok().flatten()?;
    let header = ctx.storage.header(location.height).ok().flatten()?;
    Some(header.hash())
}

async fn watch_transaction(
    params: Params<'static>,
    pending: PendingSubscriptionSink,
    ctx: Arc<RpcContext>,
) -> SubscriptionResult {
    let bytes = match params.one::<String>().and_then(|text| parse_hex(&text)) {
        Ok(bytes) => bytes,
        Err(error) => {
            pending.reject(error).await;
            return Ok(());
        }
    };
    // Listen before submitting, so the inclusion cannot slip past us.
    let mut committed = ctx.committed.subscribe();
    let mut pool_events = ctx.pool.events();
    let hash = match ctx.pool.submit(bytes).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(error)) => {
            pending
                .reject(refused(&error, ctx.chain.address_prefix))
                .await;
            return Ok(());
        }
        Err(_) => {
            pending.reject(unavailable()).await;
            return Ok(());
        }
    };
    let sink = pending.accept().await?;
    if !send_json(&sink, &json!("ready")).await {
        return Ok(());
    }
    loop {
        tokio::select! {
            // Inclusion is announced before the pool prunes: look at blocks first.
            biased;
            _ = sink.closed() => return Ok(()),
            block = committed.recv() => {
                let included_in = match block {
                    Ok(block) => block.tx_hashes.contains(&hash).then(|| block.header.hash()),
                    // We missed some blocks: ask storage directly.
                    Err(RecvError::Lagged(_)) => included_in(&ctx, &hash),
                    Err(RecvError::Closed) => return Ok(()),
                };
                if let Some(block_hash) = included_in {
                    send_json(&sink, &json!({ "inBlock": block_hash.to_hex() })).await;
                    send_json(&sink, &json!({ "finalized": block_hash.to_hex() })).await;
                    return Ok(());
                }
            }
            event = pool_events.recv() => {
                if let Ok(wijk_txpool::PoolEvent::Dropped { hash: dropped, reason }) = event {
                    if dropped == hash {
                        // A pool pruned against a newer state may call an included
                        // transaction stale: storage has the last word.
                        match included_in(&ctx, &hash) {
                            Some(block_hash) => {
                                let block_hash = block_hash.to_hex();
                                send_json(&sink, &json!({ "inBlock": block_hash })).await;
                                send_json(&sink, &json!({ "finalized": block_hash })).await;
                            }
                            None => {
                                send_json(&sink, &json!({ "dropped": reason })).await;
                            }
                        }
                        return Ok(());
                    }
                }
            }
        }
    }
}
