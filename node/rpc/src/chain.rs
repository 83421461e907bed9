//! The Substrate-style methods: `system_*`, `chain_*`, `state_*`, `author_*`.

use crate::context::RpcContext;
use crate::error::{internal, invalid_params, refused, unavailable};
use crate::render;
use jsonrpsee::core::SubscriptionResult;
use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage, SubscriptionSink};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;
use wijk_primitives::{Hash, Height};
use wijk_rpc_types as types;

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
        render::json(
            ctx.chain.address_prefix,
            &types::SystemProperties {
                chain_id: ctx.chain.id.clone(),
                address_prefix: ctx.chain.address_prefix,
                token_symbol: ctx.chain.coin_symbol.clone(),
                token_decimals: 2,
                genesis_hash: ctx.chain.genesis_hash,
                spec_version: ctx.chain.spec_version,
            },
        )
    })?;
    module.register_method("system_health", |_, ctx, _| -> RpcResult {
        render::json(
            ctx.chain.address_prefix,
            &types::Health {
                peers: ctx.status.peers().len(),
                is_syncing: ctx.status.is_syncing(),
                should_have_peers: ctx.status.should_have_peers,
            },
        )
    })?;
    module.register_method("system_peers", |_, ctx, _| -> RpcResult {
        let peers: Vec<types::PeerInfo> = ctx
            .status
            .peers()
            .into_iter()
            .map(|peer_id| types::PeerInfo { peer_id })
            .collect();
        render::json(ctx.chain.address_prefix, &peers)
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
        render::json(
            ctx.chain.address_prefix,
            &types::SyncState {
                finalized_block: finalized,
                current_block: ctx.status.best_height.load(Relaxed).max(finalized),
                highest_block: ctx.status.sync_target.load(Relaxed).max(finalized),
                view: ctx.status.view.load(Relaxed),
            },
        )
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
        match ctx.storage.header(height).map_err(internal)? {
            Some(header) => render::json(ctx.chain.address_prefix, &types::Header::from(&header)),
            None => Ok(Value::Null),
        }
    })?;
    module.register_blocking_method("chain_getBlock", |params, ctx, _| -> RpcResult {
        let Some(height) = resolve_height(&ctx, optional_hash(&params)?)? else {
            return Ok(Value::Null);
        };
        let Some(block) = ctx.storage.block(height).map_err(internal)? else {
            return Ok(Value::Null);
        };
        let prefix = ctx.chain.address_prefix;
        render::json(
            prefix,
            &types::SignedBlock {
                block: types::Block {
                    header: types::Header::from(&block.header),
                    transactions: block
                        .transactions
                        .iter()
                        .map(|tx| render::transaction(tx, prefix))
                        .collect(),
                },
            },
        )
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
            let hashes: Vec<Hash> = block.transactions.iter().map(|tx| tx.hash()).collect();
            render::json(ctx.chain.address_prefix, &hashes)
        },
    )?;
    module.register_blocking_method(
        "chain_getFinalityCertificate",
        |params, ctx, _| -> RpcResult {
            let Some(height) = resolve_height(&ctx, optional_hash(&params)?)? else {
                return Ok(Value::Null);
            };
            match ctx.storage.certificate(height).map_err(internal)? {
                Some(certificate) => render::json(
                    ctx.chain.address_prefix,
                    &types::FinalityCertificate::from(&certificate),
                ),
                None => Ok(Value::Null),
            }
        },
    )?;
    module.register_blocking_method("chain_getReceipts", |params, ctx, _| -> RpcResult {
        let Some(height) = resolve_height(&ctx, optional_hash(&params)?)? else {
            return Ok(Value::Null);
        };
        let (Some(header), Some(encoded)) = (
            ctx.storage.header(height).map_err(internal)?,
            ctx.storage.receipts_bytes(height).map_err(internal)?,
        ) else {
            return Ok(Value::Null);
        };
        render::json(
            ctx.chain.address_prefix,
            &types::Receipts {
                block_hash: header.hash(),
                number: height,
                encoded: encoded.into(),
            },
        )
    })?;
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
        // Only final blocks are committed, so both streams are the committed blocks; the
        // new-heads stream is kept for Substrate-style clients.
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
            proofs.push(types::StateProof {
                key: key.into(),
                value: value.map(types::Bytes),
                proof: proof.into(),
            });
        }
        render::json(
            ctx.chain.address_prefix,
            &types::ReadProof {
                at: header.hash(),
                number: height,
                state_root: header.state_root,
                proofs,
            },
        )
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
        let answers: Vec<types::Submitted> = verdicts
            .iter()
            .map(|verdict| match verdict {
                Ok(hash) => types::Submitted::Accepted { hash: *hash },
                Err(error) => {
                    let error = refused(error, ctx.chain.address_prefix);
                    types::Submitted::Refused {
                        error: types::RefusalDetail {
                            code: error.code(),
                            message: error.message().to_string(),
                        },
                    }
                }
            })
            .collect();
        render::json(ctx.chain.address_prefix, &answers)
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
                    let header = render::json(ctx.chain.address_prefix, &types::Header::from(&block.header));
                    match header {
                        Ok(header) if send_json(&sink, &header).await => {}
                        _ => return Ok(()),
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
    let update =
        |update: types::TransactionUpdate| serde_json::to_value(update).unwrap_or_default();
    if !send_json(&sink, &update(types::TransactionUpdate::Ready)).await {
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
                    send_json(&sink, &update(types::TransactionUpdate::InBlock(block_hash))).await;
                    send_json(&sink, &update(types::TransactionUpdate::Finalized(block_hash))).await;
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
                                send_json(&sink, &update(types::TransactionUpdate::InBlock(block_hash))).await;
                                send_json(&sink, &update(types::TransactionUpdate::Finalized(block_hash))).await;
                            }
                            None => {
                                send_json(&sink, &update(types::TransactionUpdate::Dropped(reason.to_string()))).await;
                            }
                        }
                        return Ok(());
                    }
                }
            }
        }
    }
}
