//! JSON views of chain data. Bytes are `0x` hex, amounts are decimal strings.

use serde_json::{json, Value};
use wijk_coin::{Call as CoinCall, Event as CoinEvent};
use wijk_primitives::{format_cents, Address, Cents, Header};
use wijk_runtime::{Receipt, RuntimeCall, RuntimeEvent, Transaction, TxOutcome};
use wijk_validators::{Call as ValidatorsCall, Event as ValidatorsEvent};

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

/// A signed consensus vote as JSON (the SCALE bytes let anyone re-check the signature).
fn vote_json(vote: &wijk_primitives::SignedVote, prefix: u16) -> Value {
    use wijk_primitives::VoteKind;
    let (kind, block) = match vote.vote.kind {
        VoteKind::Notarize { block, .. } => ("notarize", Some(block)),
        VoteKind::Nullify => ("nullify", None),
        VoteKind::Finalize { block } => ("finalize", Some(block)),
    };
    json!({
        "signer": address(prefix, vote.signer),
        "view": vote.vote.view,
        "kind": kind,
        "blockHash": block.map(|b| b.hash.to_hex()),
        "blockNumber": block.map(|b| b.height),
        "encoded": format!("0x{}", hex::encode(parity_scale_codec::Encode::encode(vote))),
    })
}

/// A recorded equivocation as JSON.
pub(crate) fn offence_json(offence: &wijk_validators::Offence, prefix: u16) -> Value {
    json!({
        "offender": address(prefix, offence.offender),
        "view": offence.view,
        "epoch": offence.epoch,
        "reporter": address(prefix, offence.reporter),
        "recordedAt": offence.recorded_at,
        "first": vote_json(&offence.first, prefix),
        "second": vote_json(&offence.second, prefix),
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
        RuntimeCall::Validators(ValidatorsCall::ScheduleChange {
            validators,
            activates_at,
        }) => json!({
            "pallet": "validators", "call": "scheduleChange", "activatesAt": activates_at,
            "validators": validators.iter().map(|v| address(prefix, *v)).collect::<Vec<_>>(),
        }),
        RuntimeCall::Validators(ValidatorsCall::ReportEquivocation { first, second }) => json!({
            "pallet": "validators", "call": "reportEquivocation",
            "first": vote_json(first, prefix), "second": vote_json(second, prefix),
        }),
    }
}

/// An event as JSON.
pub fn event_json(event: &RuntimeEvent, prefix: u16) -> Value {
    let event = match event {
        RuntimeEvent::Coin(event) => event,
        RuntimeEvent::Validators(ValidatorsEvent::ChangeScheduled {
            activates_at,
            validators,
        }) => {
            return json!({
                "event": "validators.ChangeScheduled", "activatesAt": activates_at,
                "validators": validators.iter().map(|v| address(prefix, *v)).collect::<Vec<_>>(),
            })
        }
        RuntimeEvent::Validators(ValidatorsEvent::EquivocationRecorded {
            offender,
            view,
            reporter,
        }) => {
            return json!({
                "event": "validators.EquivocationRecorded", "offender": address(prefix, *offender),
                "view": view, "reporter": address(prefix, *reporter),
            })
        }
    };
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
