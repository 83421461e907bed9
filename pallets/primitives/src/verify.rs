//! Strict ed25519 verification, single and batched.
//!
//! *Strict* means: the public key must decode and not be of small order ("weak"), the
//! signature's `s` must be canonical, and `R` must decode canonically and not be of small
//! order. Batch verification is only attempted after these per-signature checks pass;
//! when a batch fails we fall back to single strict checks to name the bad signature.
//!
//! Determinism: dalek derives the batch coefficients from a transcript of the batch, so the
//! verdict on an adversarial signature (one with a torsion component) could depend on how
//! signatures are grouped. We therefore always group by index into fixed chunks of
//! [`SIGNATURE_BATCH_SIZE`]: every node, whatever its core count, forms the same batches and
//! reaches the same verdict. Chunks are verified in parallel.

use crate::keys::{AccountId, Signature};
use curve25519_dalek::edwards::CompressedEdwardsY;
use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;

/// Signatures per batch. Fixed: it is part of the block validity rule (see module docs).
pub const SIGNATURE_BATCH_SIZE: usize = 64;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The signer's 32 bytes are not a valid ed25519 public key.
    #[error("signer {signer:?} is not a valid ed25519 public key")]
    MalformedKey {
        /// The signer.
        signer: AccountId,
    },
    /// The public key is of small order: anyone could forge for it.
    #[error("signer {signer:?} is a weak (small-order) key")]
    WeakKey {
        /// The signer.
        signer: AccountId,
    },
    /// `R` is not canonical or is of small order, or `s` is not canonical.
    #[error("signature by {signer:?} is not in canonical form")]
    NonCanonical {
        /// The signer.
        signer: AccountId,
    },
    /// The signature does not verify for this message and key.
    #[error("signature by {signer:?} does not verify")]
    Invalid {
        /// The signer.
        signer: AccountId,
    },
}

/// One signature to check.
#[derive(Debug, Clone, Copy)]
pub struct SignedMessage<'a> {
    /// Who claims to have signed.
    pub signer: AccountId,
    /// The signed bytes.
    pub message: &'a [u8],
    /// The signature.
    pub signature: Signature,
}

/// Verifies one signature strictly.
pub fn verify_strict(
    signer: &AccountId,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    let key = checked_key(signer, signature)?;
    key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature.0))
        .map_err(|_| SignatureError::Invalid { signer: *signer })
}

/// Decodes the key and runs the per-signature strictness checks that batch verification
/// does not do by itself.
fn checked_key(signer: &AccountId, signature: &Signature) -> Result<VerifyingKey, SignatureError> {
    let key = VerifyingKey::from_bytes(signer.as_bytes())
        .map_err(|_| SignatureError::MalformedKey { signer: *signer })?;
    if key.is_weak() {
        return Err(SignatureError::WeakKey { signer: *signer });
    }
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&signature.0[..32]);
    let r_compressed = CompressedEdwardsY(r_bytes);
    let r_point = r_compressed
        .decompress()
        .ok_or(SignatureError::NonCanonical { signer: *signer })?;
    if r_point.is_small_order() || r_point.compress() != r_compressed {
        return Err(SignatureError::NonCanonical { signer: *signer });
    }
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&signature.0[32..]);
    if bool::from(curve25519_dalek::Scalar::from_canonical_bytes(s_bytes).is_none()) {
        return Err(SignatureError::NonCanonical { signer: *signer });
    }
    Ok(key)
}

/// Verifies every signature, in fixed chunks of [`SIGNATURE_BATCH_SIZE`] checked in
/// parallel. On failure returns the lowest failing index and why.
pub fn verify_batch_strict(items: &[SignedMessage<'_>]) -> Result<(), (usize, SignatureError)> {
    items
        .par_chunks(SIGNATURE_BATCH_SIZE)
        .enumerate()
        .map(|(chunk_index, chunk)| {
            verify_chunk(chunk).map_err(|(i, e)| (chunk_index * SIGNATURE_BATCH_SIZE + i, e))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

fn verify_chunk(chunk: &[SignedMessage<'_>]) -> Result<(), (usize, SignatureError)> {
    let mut keys = Vec::with_capacity(chunk.len());
    let mut signatures = Vec::with_capacity(chunk.len());
    let mut messages = Vec::with_capacity(chunk.len());
    for (index, item) in chunk.iter().enumerate() {
        keys.push(checked_key(&item.signer, &item.signature).map_err(|e| (index, e))?);
        signatures.push(ed25519_dalek::Signature::from_bytes(&item.signature.0));
        messages.push(item.message);
    }
    if ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok() {
        return Ok(());
    }
    // The batch failed: find which one, with the single strict check.
    for (index, item) in chunk.iter().enumerate() {
        verify_strict(&item.signer, item.message, &item.signature).map_err(|e| (index, e))?;
    }
    // All singles pass although the batch failed; cannot happen for strict-valid
    // signatures (each equation holds exactly, so any combination does). Refuse anyway.
    Err((
        0,
        SignatureError::Invalid {
            signer: chunk.first().map(|c| c.signer).unwrap_or_default(),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keypair;

    fn signed(count: usize) -> (Vec<Keypair>, Vec<Vec<u8>>) {
        let pairs: Vec<_> = (0..count)
            .map(|i| Keypair::from_seed(&[i as u8 + 1; 32]))
            .collect();
        let messages = (0..count)
            .map(|i| format!("message {i}").into_bytes())
            .collect();
        (pairs, messages)
    }

    #[test]
    fn batch_accepts_good_and_names_the_bad_one() {
        let (pairs, messages) = signed(150);
        let mut items: Vec<SignedMessage<'_>> = pairs
            .iter()
            .zip(&messages)
            .map(|(pair, message)| SignedMessage {
                signer: pair.account_id(),
                message,
                signature: pair.sign(message),
            })
            .collect();
        assert_eq!(verify_batch_strict(&items), Ok(()));
        items[97].signature.0[40] ^= 1;
        let (index, _) = verify_batch_strict(&items).unwrap_err();
        assert_eq!(index, 97);
    }

    #[test]
    fn weak_key_is_refused_before_batching() {
        // The identity point (y = 1) is of small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let weak = AccountId(identity);
        let result = verify_strict(&weak, b"x", &Signature([0u8; 64]));
        assert!(matches!(
            result,
            Err(SignatureError::WeakKey { .. } | SignatureError::NonCanonical { .. })
        ));
        let items = [SignedMessage {
            signer: weak,
            message: b"x",
            signature: Signature([0u8; 64]),
        }];
        assert!(matches!(
            verify_batch_strict(&items),
            Err((0, SignatureError::WeakKey { .. }))
        ));
    }

    #[test]
    fn non_canonical_s_is_refused() {
        let pair = Keypair::from_seed(&[9u8; 32]);
        let mut signature = pair.sign(b"hello");
        // s + l is the classic malleation; setting the top bits makes s >= l.
        signature.0[63] |= 0xF0;
        assert!(matches!(
            verify_strict(&pair.account_id(), b"hello", &signature),
            Err(SignatureError::NonCanonical { .. })
        ));
    }
}
