//! Transactions in plain words, read from their generic JSON (no per-call code: a new
//! pallet's calls and events read as well as the coin's).

use serde_json::Value;
use wijk_client::types::FinalTransaction;

/// An address or hash shortened to its ends, for one-line summaries.
pub(crate) fn short(text: &str) -> String {
    if text.chars().count() > 16 {
        let start: String = text.chars().take(6).collect();
        let end: String = text
            .chars()
            .rev()
            .take(6)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        format!("{start}..{end}")
    } else {
        text.to_string()
    }
}

/// One field's value in words.
fn value(value: &Value) -> String {
    match value {
        Value::String(text) => short(text),
        Value::Array(items) if items.len() <= 3 => {
            let parts: Vec<String> = items.iter().map(self::value).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Array(items) => format!("[{} items]", items.len()),
        // A signed vote and the like: its kind and view say what it is.
        Value::Object(fields) => {
            let parts: Vec<String> = ["kind", "view"]
                .iter()
                .filter_map(|key| {
                    fields
                        .get(*key)
                        .map(|v| format!("{key} {}", self::value(v)))
                })
                .collect();
            if parts.is_empty() {
                "{..}".to_string()
            } else {
                format!("({})", parts.join(", "))
            }
        }
        other => other.to_string(),
    }
}

/// `pallet.name  field value  field value` for a call or an event; a guardian's envelope
/// reads as its call `for` the member.
pub(crate) fn tagged(object: &Value, tag: &str) -> String {
    let Some(fields) = object.as_object() else {
        return object.to_string();
    };
    if let (Some(member), Some(call)) = (fields.get("onBehalfOf"), fields.get("call")) {
        return format!("{}  (for {})", tagged(call, tag), value(member));
    }
    let name = match (fields.get("pallet"), fields.get(tag)) {
        (Some(pallet), Some(name)) => format!(
            "{}.{}",
            pallet.as_str().unwrap_or("?"),
            name.as_str().unwrap_or("?")
        ),
        (None, Some(name)) => name.as_str().unwrap_or("?").to_string(),
        _ => "?".to_string(),
    };
    let details: Vec<String> = fields
        .iter()
        .filter(|(key, _)| key.as_str() != "pallet" && key.as_str() != tag)
        .map(|(key, field)| format!("{key} {}", value(field)))
        .collect();
    if details.is_empty() {
        name
    } else {
        format!("{name}  {}", details.join("  "))
    }
}

/// One line per transaction: block, hash, signer, what it did, and whether it worked.
pub(crate) fn transaction(tx: &FinalTransaction, address_prefix: u16) -> String {
    let signer = tx.transaction.signer.address(address_prefix).to_string();
    let outcome = if tx.outcome.success {
        "ok".to_string()
    } else {
        format!(
            "FAILED: {}",
            tx.outcome.error.as_deref().unwrap_or("no reason given")
        )
    };
    format!(
        "#{}  {}  by {}  {}  [{}]",
        tx.block_number,
        short(&tx.transaction.hash.to_hex()),
        short(&signer),
        tagged(&tx.transaction.call, "call"),
        outcome
    )
}
