//! The machine's ceiling that every benchmark prints its figure beside: dalek's ed25519
//! batch verification on one core, over the benchmark's own transaction signatures.
//! Shared by the benchmark binaries (included with `#[path]`).

use std::time::Instant;
use wijk_primitives::SigningContext;
use wijk_runtime::Transaction;

/// Signatures per second that `ed25519_dalek::verify_batch` checks on one core, in
/// chunks of the size the node uses.
pub(crate) fn raw_batch_verify_rate(
    transactions: &[&Transaction],
    signing: &SigningContext,
) -> anyhow::Result<f64> {
    let payloads: Vec<Vec<u8>> = transactions
        .iter()
        .map(|tx| tx.payload_for(signing))
        .collect();
    let keys: Vec<ed25519_dalek::VerifyingKey> = transactions
        .iter()
        .map(|tx| ed25519_dalek::VerifyingKey::from_bytes(tx.signer.as_bytes()))
        .collect::<Result<_, _>>()?;
    let signatures: Vec<ed25519_dalek::Signature> = transactions
        .iter()
        .map(|tx| ed25519_dalek::Signature::from_bytes(&tx.signature.0))
        .collect();
    let messages: Vec<&[u8]> = payloads.iter().map(Vec::as_slice).collect();
    let chunk = wijk_primitives::SIGNATURE_BATCH_SIZE;
    let started = Instant::now();
    for ((messages, signatures), keys) in messages
        .chunks(chunk)
        .zip(signatures.chunks(chunk))
        .zip(keys.chunks(chunk))
    {
        ed25519_dalek::verify_batch(messages, signatures, keys)?;
    }
    Ok(transactions.len() as f64 / started.elapsed().as_secs_f64())
}
