//! JSON views of chain data. Bytes are `0x` hex, amounts are decimal strings.

use serde_json::{json, Value};
use wijk_primitives::json::with_address_prefix;
use wijk_primitives::{format_cents, Address, Cents, Header};
use wijk_runtime::{Receipt, RuntimeCall, RuntimeEvent, Transaction, TxOutcome};

pub(crate) fn address(prefix: u16, account: wijk_primitives::AccountId) -> String {
    Address { prefix, account }.to_string()
}

pub(crate) fn amount(cents: Cents) -> Value {
    json!(format_cents(cents))
}

/// A header as JSON.
pub fn header_json(header: &Header, prefix: u16) -> Value {
    json!({
        "hash": header.hash().to_hex(),
        "parentHash": header.parent_hash.to_hex(),
        "number": header.height,
        "timestamp": header.timestamp_ms,
        "stateRoot": header.state_root.to_hex(),
        "transactionsRoot": header.transactions_root.to_hex(),
        "receiptsRoot": header.receipts_root.to_hex(),
        "proposer": address(prefix, header.proposer),
        "validatorSetChange": header.validator_set_change.as_ref().map(|change| json!({
            "activatesAt": change.activates_at,
            "validators": change.validators.iter().map(|v| address(prefix, *v)).collect::<Vec<_>>(),
        })),
        "encoded": format!("0x{}", hex::encode(parity_scale_codec::Encode::encode(header))),
    })
}

/// A recorded equivocation as JSON.
pub(crate) fn offence_json(offence: &wijk_validators::Offence, prefix: u16) -> Value {
    with_address_prefix(prefix, || {
        json!({
            "offender": offence.offender,
            "view": offence.view,
            "epoch": offence.epoch,
            "reporter": offence.reporter,
            "recordedAt": offence.recorded_at,
            "first": offence.first,
            "second": offence.second,
        })
    })
}

/// A call as JSON: `{"pallet": ..., "call": ..., fields}`.
pub fn call_json(call: &RuntimeCall, prefix: u16) -> Value {
    with_address_prefix(prefix, || call.to_json())
}

/// An event as JSON: `{"event": "pallet.Name", fields}`.
pub fn event_json(event: &RuntimeEvent, prefix: u16) -> Value {
    with_address_prefix(prefix, || event.to_json())
}

pub(crate) fn outcome_json(receipt: &Receipt, prefix: u16) -> Value {
    match &receipt.outcome {
        TxOutcome::Success { events } => json!({
            "success": true,
            "events": events.iter().map(|e| event_json(e, prefix)).collect::<Vec<_>>(),
        }),
        TxOutcome::Failed { error } => json!({
            "success": false,
            "error": with_address_prefix(prefix, || error.to_string()),
        }),
    }
}

pub(crate) fn transaction_json(tx: &Transaction, prefix: u16) -> Value {
    use parity_scale_codec::Encode;
    json!({
        "hash": tx.hash().to_hex(),
        "signer": address(prefix, tx.signer),
        "nonce": tx.nonce,
        "validUntil": tx.valid_until,
        "call": call_json(&tx.call, prefix),
        "encoded": format!("0x{}", hex::encode(tx.encode())),
    })
}
