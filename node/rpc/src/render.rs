//! Chain data rendered as the interface's types ([`wijk_rpc_types`]), then as JSON under
//! the chain's address prefix (accounts become this chain's addresses).

use crate::error::internal;
use jsonrpsee::types::ErrorObjectOwned;
use parity_scale_codec::Encode;
use serde::Serialize;
use serde_json::Value;
use wijk_primitives::json::with_address_prefix;
use wijk_primitives::Height;
use wijk_rpc_types as types;
use wijk_runtime::{Receipt, Transaction, TxOutcome};

/// `value` as JSON, accounts as addresses of the chain with `prefix`.
pub(crate) fn json<T: Serialize>(prefix: u16, value: &T) -> Result<Value, ErrorObjectOwned> {
    with_address_prefix(prefix, || serde_json::to_value(value)).map_err(internal)
}

/// A transaction (its call rendered in the chain's address scope).
pub(crate) fn transaction(tx: &Transaction, prefix: u16) -> types::Transaction {
    types::Transaction {
        hash: tx.hash(),
        signer: tx.signer,
        nonce: tx.nonce,
        valid_until: tx.valid_until,
        call: with_address_prefix(prefix, || tx.call.to_json()),
        encoded: tx.encode().into(),
    }
}

/// What a final transaction did.
pub(crate) fn outcome(receipt: &Receipt, prefix: u16) -> types::Outcome {
    with_address_prefix(prefix, || match &receipt.outcome {
        TxOutcome::Success { events } => types::Outcome {
            success: true,
            events: Some(events.iter().map(|event| event.to_json()).collect()),
            error: None,
        },
        TxOutcome::Failed { error } => types::Outcome {
            success: false,
            events: None,
            error: Some(error.to_string()),
        },
    })
}

/// A final transaction at `index` of `block`, with its receipt.
pub(crate) fn final_transaction(
    block: &wijk_runtime::Block,
    index: u32,
    tx: &Transaction,
    receipt: &Receipt,
    prefix: u16,
) -> types::FinalTransaction {
    types::FinalTransaction {
        transaction: transaction(tx, prefix),
        block_number: block.header.height,
        block_hash: block.header.hash(),
        index,
        timestamp: block.header.timestamp_ms,
        finalized: true,
        outcome: outcome(receipt, prefix),
    }
}

/// The final height, for `atBlock` fields.
pub(crate) fn at_block(ctx: &crate::RpcContext) -> Result<Option<Height>, ErrorObjectOwned> {
    ctx.storage.finalized_height().map_err(internal)
}
