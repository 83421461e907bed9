//! JSON views of chain data. Bytes are `0x` hex, amounts are decimal strings.

use serde_json::{json, Value};
use wijk_coin::{Call as CoinCall, Event as CoinEvent};
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
    })
}

/// A call as JSON.
pub fn call_json(call: &RuntimeCall, prefix: u16) -> Value {
    match call {
        RuntimeCall::Coin(CoinCall::Transfer { to, amount: cents }) => json!({
            "pallet": "coin", "call": "transfer", "to": address(prefix, *to), "amount": amount(*cents),
        }),
        RuntimeCall::Coin(CoinCall::Mint {
            to,
            amount: cents,
            deposit_ref,
        }) => json!({
            "pallet": "coin", "call": "mint", "to": address(prefix, *to), "amount": amount(*cents),
            "depositRef": String::from_utf8_lossy(deposit_ref),
        }),
        RuntimeCall::Coin(CoinCall::Redeem { amount: cents }) => json!({
            "pallet": "coin", "call": "redeem", "amount": amount(*cents),
        }),
    }
}

/// An event as JSON.
pub fn event_json(event: &RuntimeEvent, prefix: u16) -> Value {
    let RuntimeEvent::Coin(event) = event;
    match event {
        CoinEvent::Transferred {
            from,
            to,
            amount: cents,
        } => json!({
            "event": "coin.Transferred", "from": address(prefix, *from), "to": address(prefix, *to),
            "amount": amount(*cents),
        }),
        CoinEvent::Minted {
            to,
            amount: cents,
            deposit_ref,
        } => json!({
            "event": "coin.Minted", "to": address(prefix, *to), "amount": amount(*cents),
            "depositRef": String::from_utf8_lossy(deposit_ref),
        }),
        CoinEvent::Redeemed { who, amount: cents } => json!({
            "event": "coin.Redeemed", "who": address(prefix, *who), "amount": amount(*cents),
        }),
    }
}

pub(crate) fn outcome_json(receipt: &Receipt, prefix: u16) -> Value {
    match &receipt.outcome {
        TxOutcome::Success { events } => json!({
            "success": true,
            "events": events.iter().map(|e| event_json(e, prefix)).collect::<Vec<_>>(),
        }),
        TxOutcome::Failed { error } => json!({ "success": false, "error": error.to_string() }),
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
