//! Strict ed25519 verification, single and batched, with one verdict whatever the batch.
//!
//! The rule: the public key must decode and not be of small order ("weak"); the
//! signature's `s` must be canonical; `R` must be encoded canonically, not be of small
//! order, and decode to a curve point; and the *cofactored* equation
//! `[8]([s]B - R - [k]A) = 0` must hold, with `k = SHA-512(R || A || message)`.
//!
//! Why cofactored: a signature whose `R` carries a small torsion component fails the
//! cofactorless equation checked alone, yet passes a cofactorless batch with a chance
//! that depends on the batch's random coefficients, so two validators that grouped it
//! differently (one met it in its pool, the other in a block) could disagree on a block.
//! Multiplying by the cofactor removes the torsion from both checks, so the single and the
//! batched verdict are the same for every signature and every grouping (as in ZIP 215).
//! The encoding checks above are stricter than ZIP 215 and are made on the bytes, the same
//! way everywhere.
//!
//! The batch equation is built here on curve25519-dalek rather than taken from a crate:
//! ed25519-dalek's batch is cofactorless, and the ZIP 215 crates decompress every public
//! key again in each batch, which costs a quarter of a verification that [`KeyCache`]
//! spares (measured: ed25519-consensus verified about 40 % fewer signatures per second
//! than this on the same batches).
//!
//! A batch is checked as one random-looking combination of its equations. The 128-bit
//! coefficients come from a hash of the whole batch rather than from a random source (this
//! crate stays pure): whoever slips a bad signature in cannot choose them, and would have
//! to find a batch whose hash cancels its error, about 2^128 hash evaluations.

use crate::keys::{AccountId, Signature};
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::VerifyingKey;
use rayon::prelude::*;
use sha2::{Digest, Sha512};
use std::collections::HashMap;
use std::sync::Mutex;

/// Signatures per batch. Large enough that the multi-scalar multiplication uses
/// Pippenger's method (about a third cheaper per signature than batches of 64 on this
/// project's machines), small enough that a block's batches spread over the cores. Not
/// part of any validity rule: the verdict does not depend on it (see the module docs).
pub const SIGNATURE_BATCH_SIZE: usize = 256;

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

/// Verifies one signature strictly (see the module docs for the rule).
pub fn verify_strict(
    signer: &AccountId,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    let key = decoded_key(signer)?;
    verify_with_key(signer, &key, message, signature)
}

/// [`verify_strict`] with the signer's decoded key taken from (or added to) `keys`: the
/// same verdict, without decompressing a recurring signer's key again.
pub fn verify_strict_cached(
    signer: &AccountId,
    message: &[u8],
    signature: &Signature,
    keys: &KeyCache,
) -> Result<(), SignatureError> {
    let key = keys
        .keys_of(std::slice::from_ref(signer))
        .pop()
        .unwrap_or(Err(SignatureError::MalformedKey { signer: *signer }))?;
    verify_with_key(signer, &key, message, signature)
}

fn verify_with_key(
    signer: &AccountId,
    key: &VerifyingKey,
    message: &[u8],
    signature: &Signature,
) -> Result<(), SignatureError> {
    let equation = Equation::of(signer, key, message, signature)?;
    if equation.holds_alone() {
        Ok(())
    } else {
        Err(SignatureError::Invalid { signer: *signer })
    }
}

/// One signature's equation `[8]([s]B - R - [k]A) = 0`, decoded and ready to check alone
/// or in a batch.
struct Equation {
    r: EdwardsPoint,
    s: Scalar,
    k: Scalar,
    a: EdwardsPoint,
}

impl Equation {
    /// Runs the encoding checks on `signature` and decodes it; `key` is the signer's key,
    /// already decoded and found not weak.
    fn of(
        signer: &AccountId,
        key: &VerifyingKey,
        message: &[u8],
        signature: &Signature,
    ) -> Result<Equation, SignatureError> {
        check_signature_form(signer, signature)?;
        let mut r_bytes = [0u8; 32];
        r_bytes.copy_from_slice(&signature.0[..32]);
        let mut s_bytes = [0u8; 32];
        s_bytes.copy_from_slice(&signature.0[32..]);
        let invalid = SignatureError::Invalid { signer: *signer };
        let r = CompressedEdwardsY(r_bytes)
            .decompress()
            .ok_or_else(|| invalid.clone())?;
        let s = Option::<Scalar>::from(Scalar::from_canonical_bytes(s_bytes)).ok_or(invalid)?;
        let mut hasher = Sha512::new();
        hasher.update(r_bytes);
        hasher.update(signer.as_bytes());
        hasher.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
        Ok(Equation {
            r,
            s,
            k,
            a: key.to_edwards(),
        })
    }

    /// `[8]([s]B - R - [k]A) = 0`.
    fn holds_alone(&self) -> bool {
        let sb_minus_ka =
            EdwardsPoint::vartime_double_scalar_mul_basepoint(&self.k, &-self.a, &self.s);
        (sb_minus_ka - self.r).mul_by_cofactor().is_identity()
    }

    /// `[8](sum of z_i ([s_i]B - R_i - [k_i]A_i)) = 0` for 128-bit `z_i` drawn from a hash
    /// of the batch: true when every equation holds, false otherwise unless the batch was
    /// ground for about 2^128 hashes (see the module docs).
    fn hold_together(equations: &[Equation]) -> bool {
        // `k` binds R, A and the message, so hashing every (k, s) binds the whole batch.
        let mut transcript = blake3::Hasher::new_derive_key("wijk-chain ed25519 batch 2026-11");
        for equation in equations {
            transcript.update(equation.k.as_bytes());
            transcript.update(equation.s.as_bytes());
        }
        let mut coefficients = transcript.finalize_xof();
        let z: Vec<Scalar> = equations
            .iter()
            .map(|_| {
                let mut bytes = [0u8; 16];
                coefficients.fill(&mut bytes);
                Scalar::from(u128::from_le_bytes(bytes))
            })
            .collect();
        let base: Scalar = equations.iter().zip(&z).map(|(e, z)| z * e.s).sum();
        let scalars = std::iter::once(base)
            .chain(z.iter().map(|z| -z))
            .chain(equations.iter().zip(&z).map(|(e, z)| -(z * e.k)));
        let points = std::iter::once(ED25519_BASEPOINT_POINT)
            .chain(equations.iter().map(|e| e.r))
            .chain(equations.iter().map(|e| e.a));
        EdwardsPoint::vartime_multiscalar_mul(scalars, points)
            .mul_by_cofactor()
            .is_identity()
    }
}

/// The signer's key, decompressed, refused if malformed or weak.
fn decoded_key(signer: &AccountId) -> Result<VerifyingKey, SignatureError> {
    let key = VerifyingKey::from_bytes(signer.as_bytes())
        .map_err(|_| SignatureError::MalformedKey { signer: *signer })?;
    if key.is_weak() {
        return Err(SignatureError::WeakKey { signer: *signer });
    }
    Ok(key)
}

/// `R` canonical and not of small order, `s` canonical: checked on the bytes.
fn check_signature_form(signer: &AccountId, signature: &Signature) -> Result<(), SignatureError> {
    let mut r_bytes = [0u8; 32];
    r_bytes.copy_from_slice(&signature.0[..32]);
    if !is_canonical_y(&r_bytes) || is_small_order_encoding(&r_bytes) {
        return Err(SignatureError::NonCanonical { signer: *signer });
    }
    let mut s_bytes = [0u8; 32];
    s_bytes.copy_from_slice(&signature.0[32..]);
    if bool::from(curve25519_dalek::Scalar::from_canonical_bytes(s_bytes).is_none()) {
        return Err(SignatureError::NonCanonical { signer: *signer });
    }
    Ok(())
}

/// Decompressed, weak-checked public keys of recent signers.
///
/// Decompressing a key costs about a quarter of a batched verification, and the residents
/// of a neighbourhood sign again and again. The cache changes no verdict: it holds only
/// keys that decoded and are not weak, which is all [`decoded_key`] would establish again.
/// Bounded: when full it is emptied, so a flood of fresh keys costs no more than without it.
pub struct KeyCache {
    keys: Mutex<HashMap<AccountId, VerifyingKey>>,
    capacity: usize,
}

impl KeyCache {
    /// A cache holding at most `capacity` keys (about 200 bytes each).
    pub fn new(capacity: usize) -> Self {
        KeyCache {
            keys: Mutex::new(HashMap::with_capacity(capacity.min(1 << 16))),
            capacity,
        }
    }

    /// The keys of `signers` (or why each is refused), from the cache where present,
    /// decoded and remembered where not.
    fn keys_of(&self, signers: &[AccountId]) -> Vec<Result<VerifyingKey, SignatureError>> {
        let known: Vec<Option<VerifyingKey>> = {
            let keys = self
                .keys
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            signers.iter().map(|s| keys.get(s).copied()).collect()
        };
        let mut fresh = Vec::new();
        let out = signers
            .iter()
            .zip(known)
            .map(|(signer, known)| match known {
                Some(key) => Ok(key),
                None => {
                    let key = decoded_key(signer)?;
                    fresh.push((*signer, key));
                    Ok(key)
                }
            })
            .collect();
        if !fresh.is_empty() {
            let mut keys = self
                .keys
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if keys.len() + fresh.len() > self.capacity {
                keys.clear();
            }
            if fresh.len() <= self.capacity {
                keys.extend(fresh);
            }
        }
        out
    }
}

impl Default for KeyCache {
    /// Room for 65,536 signers (about 13 MiB).
    fn default() -> Self {
        KeyCache::new(1 << 16)
    }
}

/// Encodings (sign bit ignored) of the points of small order, after libsodium's list:
/// 0, 1, the two of order 8, and p-1, p, p+1 (the last two are non-canonical forms).
const SMALL_ORDER_ENCODINGS: [[u8; 32]; 7] = [
    [0; 32],
    {
        let mut one = [0u8; 32];
        one[0] = 1;
        one
    },
    [
        0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
        0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
        0xfc, 0x05,
    ],
    [
        0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
        0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
        0x03, 0x7a,
    ],
    field_element_with_low_byte(0xec),
    field_element_with_low_byte(0xed),
    field_element_with_low_byte(0xee),
];

/// `0xff..ff7f` with the lowest byte replaced: p - 1, p and p + 1 for 0xec, 0xed, 0xee.
const fn field_element_with_low_byte(low: u8) -> [u8; 32] {
    let mut bytes = [0xff; 32];
    bytes[0] = low;
    bytes[31] = 0x7f;
    bytes
}

/// Whether a compressed point encodes a point of small order, in either sign.
fn is_small_order_encoding(bytes: &[u8; 32]) -> bool {
    SMALL_ORDER_ENCODINGS
        .iter()
        .any(|blocked| bytes[..31] == blocked[..31] && (bytes[31] & 0x7f) == blocked[31])
}

/// Whether the y coordinate (the low 255 bits, little-endian) is below p = 2^255 - 19.
/// Checked on the bytes: decompression would quietly reduce a y at or above p.
fn is_canonical_y(bytes: &[u8; 32]) -> bool {
    let top = bytes[31] & 0x7f;
    !(top == 0x7f && bytes[1..31].iter().all(|b| *b == 0xff) && bytes[0] >= 0xed)
}

/// Verifies every signature, in chunks of [`SIGNATURE_BATCH_SIZE`] checked in parallel.
/// On failure returns the index of a refused signature and why: in the first failing
/// chunk, the first that fails the encoding checks (key, `R`, `s`), else the first whose
/// equation fails. Decoded keys come from `keys` when given (see [`KeyCache`]); the
/// verdict and the index are the same with or without it.
///
/// A single chunk (the pool's usual batch) is checked on the calling thread: handing it
/// to the thread pool gains no parallelism, and costs a wake-up and the idle workers'
/// spinning afterwards.
pub fn verify_batch_strict(
    items: &[SignedMessage<'_>],
    keys: Option<&KeyCache>,
) -> Result<(), (usize, SignatureError)> {
    match items.len() {
        0 => return Ok(()),
        1..=SIGNATURE_BATCH_SIZE => return verify_chunk(items, keys),
        _ => {}
    }
    items
        .par_chunks(SIGNATURE_BATCH_SIZE)
        .enumerate()
        .map(|(chunk_index, chunk)| {
            verify_chunk(chunk, keys).map_err(|(i, e)| (chunk_index * SIGNATURE_BATCH_SIZE + i, e))
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// [`verify_batch_strict`] with every chunk checked in order on the calling thread: the
/// same verdict and index. For a caller that is itself one stage of a pipeline with a
/// thread per stage (block import): there the pool's workers would only take cores from
/// the other stages, and their spinning between blocks costs more than it gains.
pub fn verify_batch_strict_serial(
    items: &[SignedMessage<'_>],
    keys: Option<&KeyCache>,
) -> Result<(), (usize, SignatureError)> {
    for (chunk_index, chunk) in items.chunks(SIGNATURE_BATCH_SIZE).enumerate() {
        verify_chunk(chunk, keys).map_err(|(i, e)| (chunk_index * SIGNATURE_BATCH_SIZE + i, e))?;
    }
    Ok(())
}

fn verify_chunk(
    chunk: &[SignedMessage<'_>],
    cache: Option<&KeyCache>,
) -> Result<(), (usize, SignatureError)> {
    let decoded: Vec<Result<VerifyingKey, SignatureError>> = match cache {
        Some(cache) => {
            let signers: Vec<AccountId> = chunk.iter().map(|item| item.signer).collect();
            cache.keys_of(&signers)
        }
        None => chunk.iter().map(|item| decoded_key(&item.signer)).collect(),
    };
    // In index order, key first, so the first failing index is reported whatever is cached.
    let mut equations = Vec::with_capacity(chunk.len());
    for (index, (item, key)) in chunk.iter().zip(decoded).enumerate() {
        let key = key.map_err(|e| (index, e))?;
        equations.push(
            Equation::of(&item.signer, &key, item.message, &item.signature)
                .map_err(|e| (index, e))?,
        );
    }
    if Equation::hold_together(&equations) {
        return Ok(());
    }
    // The batch failed: find which one.
    for (index, (item, equation)) in chunk.iter().zip(&equations).enumerate() {
        if !equation.holds_alone() {
            return Err((
                index,
                SignatureError::Invalid {
                    signer: item.signer,
                },
            ));
        }
    }
    // Every equation holds alone, so any combination of them does: the batch cannot fail.
    // Refuse anyway rather than accept what was not shown valid.
    Err((
        0,
        SignatureError::Invalid {
            signer: chunk.first().map(|c| c.signer).unwrap_or_default(),
        },
    ))
}

#[cfg(test)]
mod cached_tests {
    use super::*;
    use crate::keys::Keypair;

    #[test]
    fn the_key_cache_changes_no_verdict() {
        let keys = KeyCache::new(4);
        let alice = Keypair::dev("Alice");
        let signature = alice.sign(b"message");
        for _ in 0..2 {
            assert_eq!(
                verify_strict_cached(&alice.account_id(), b"message", &signature, &keys),
                verify_strict(&alice.account_id(), b"message", &signature)
            );
            assert_eq!(
                verify_strict_cached(&alice.account_id(), b"other", &signature, &keys),
                verify_strict(&alice.account_id(), b"other", &signature)
            );
        }
        let bad = AccountId([0; 32]);
        assert_eq!(
            verify_strict_cached(&bad, b"message", &signature, &keys),
            verify_strict(&bad, b"message", &signature)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Keypair;

    fn signed(count: usize) -> (Vec<Keypair>, Vec<Vec<u8>>) {
        let pairs: Vec<_> = (0..count)
            .map(|i| {
                let mut seed = [1u8; 32];
                seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
                Keypair::from_seed(&seed)
            })
            .collect();
        let messages = (0..count)
            .map(|i| format!("message {i}").into_bytes())
            .collect();
        (pairs, messages)
    }

    fn signed_messages<'a>(pairs: &[Keypair], messages: &'a [Vec<u8>]) -> Vec<SignedMessage<'a>> {
        pairs
            .iter()
            .zip(messages)
            .map(|(pair, message)| SignedMessage {
                signer: pair.account_id(),
                message,
                signature: pair.sign(message),
            })
            .collect()
    }

    #[test]
    fn batch_accepts_good_and_names_the_bad_one() {
        let (pairs, messages) = signed(150);
        let mut items: Vec<SignedMessage<'_>> = signed_messages(&pairs, &messages);
        let cache = KeyCache::new(1_000);
        for keys in [None, Some(&cache), Some(&cache)] {
            assert_eq!(verify_batch_strict(&items, keys), Ok(()));
        }
        items[97].signature.0[40] ^= 1;
        for keys in [None, Some(&cache)] {
            let (index, _) = verify_batch_strict(&items, keys).unwrap_err();
            assert_eq!(index, 97);
        }
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
        let cache = KeyCache::new(10);
        for _ in 0..2 {
            assert!(matches!(
                verify_batch_strict(&items, Some(&cache)),
                Err((0, SignatureError::WeakKey { .. }))
            ));
        }
        assert!(matches!(
            verify_batch_strict(&items, None),
            Err((0, SignatureError::WeakKey { .. }))
        ));
    }

    #[test]
    fn byte_checks_agree_with_the_curve() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        for point in EIGHT_TORSION {
            let bytes = point.compress().to_bytes();
            assert!(is_small_order_encoding(&bytes), "{bytes:02x?}");
            let mut flipped = bytes;
            flipped[31] ^= 0x80;
            assert!(is_small_order_encoding(&flipped));
        }
        for seed in 1..50u8 {
            let signature = Keypair::from_seed(&[seed; 32]).sign(b"m");
            let mut r = [0u8; 32];
            r.copy_from_slice(&signature.0[..32]);
            assert!(is_canonical_y(&r) && !is_small_order_encoding(&r));
        }
        // y = p + 2 (a non-canonical encoding of y = 2) is refused.
        assert!(!is_canonical_y(&field_element_with_low_byte(0xef)));
        assert!(is_canonical_y(&field_element_with_low_byte(0xec)));
    }

    /// A signature whose `R` carries a torsion component of order 8, made with a known
    /// secret scalar: the cofactorless equation fails, the cofactored one holds.
    fn torsioned_signature(message: &[u8]) -> (AccountId, Signature) {
        use curve25519_dalek::constants::EIGHT_TORSION;
        let secret = Scalar::from(0x5eed_0000_1234_u64) * Scalar::from(0x0bad_cafe_u64);
        let public = (ED25519_BASEPOINT_POINT * secret).compress();
        let nonce = Scalar::from(0x1234_5678_9abc_u64);
        let r = (ED25519_BASEPOINT_POINT * nonce + EIGHT_TORSION[1]).compress();
        let mut hasher = Sha512::new();
        hasher.update(r.as_bytes());
        hasher.update(public.as_bytes());
        hasher.update(message);
        let k = Scalar::from_bytes_mod_order_wide(&hasher.finalize().into());
        let s = nonce + k * secret;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(r.as_bytes());
        signature[32..].copy_from_slice(s.as_bytes());
        (AccountId(public.to_bytes()), Signature(signature))
    }

    #[test]
    fn a_torsioned_signature_gets_one_verdict_alone_and_in_every_batch() {
        let message = b"pay the baker";
        let (signer, signature) = torsioned_signature(message);
        // It is the kind that splits cofactorless checks: dalek's strict check refuses it.
        let dalek_key = VerifyingKey::from_bytes(signer.as_bytes()).unwrap();
        assert!(dalek_key
            .verify_strict(message, &ed25519_dalek::Signature::from_bytes(&signature.0))
            .is_err());
        assert_eq!(verify_strict(&signer, message, &signature), Ok(()));
        let (pairs, messages) = signed(40);
        let cache = KeyCache::new(100);
        // Each batch has its own coefficients: a cofactorless batch would pass it about one
        // time in eight; this one must pass every time, wherever it sits.
        for position in 0..40 {
            let mut items: Vec<SignedMessage<'_>> = signed_messages(&pairs, &messages);
            items.insert(
                position,
                SignedMessage {
                    signer,
                    message,
                    signature,
                },
            );
            let keys = (position % 2 == 0).then_some(&cache);
            assert_eq!(verify_batch_strict(&items[..=position], keys), Ok(()));
            assert_eq!(verify_batch_strict(&items, keys), Ok(()));
        }
        // And it stays bound to its message.
        assert!(verify_strict(&signer, b"pay the butcher", &signature).is_err());
    }

    #[test]
    fn the_bad_signature_is_named_in_whichever_chunk_it_falls() {
        let (pairs, messages) = signed(2 * SIGNATURE_BATCH_SIZE + 10);
        let mut items: Vec<SignedMessage<'_>> = signed_messages(&pairs, &messages);
        let cache = KeyCache::new(1_000);
        assert_eq!(verify_batch_strict(&items, Some(&cache)), Ok(()));
        let bad = SIGNATURE_BATCH_SIZE + 3;
        items[bad].message = b"something else";
        for keys in [None, Some(&cache)] {
            assert!(matches!(
                verify_batch_strict(&items, keys),
                Err((index, SignatureError::Invalid { .. })) if index == bad
            ));
            // The serial path gives the same verdict and index.
            assert!(matches!(
                verify_batch_strict_serial(&items, keys),
                Err((index, SignatureError::Invalid { .. })) if index == bad
            ));
        }
        items[bad].message = &messages[bad];
        assert_eq!(verify_batch_strict_serial(&items, Some(&cache)), Ok(()));
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

    #[test]
    fn a_full_cache_is_emptied_and_verdicts_do_not_change() {
        let (pairs, messages) = signed(100);
        let items: Vec<SignedMessage<'_>> = signed_messages(&pairs, &messages);
        let cache = KeyCache::new(30);
        for _ in 0..3 {
            assert_eq!(verify_batch_strict(&items, Some(&cache)), Ok(()));
            let held = cache.keys.lock().unwrap().len();
            assert!(held <= 30, "cache holds {held} keys");
        }
        // A malformed signature before a bad key, in a chunk whose good keys are cached:
        // the first is named, as without a cache.
        let mut bad = items.clone();
        bad[70].signature.0[63] |= 0xF0;
        bad[80].signer = AccountId([0u8; 32]);
        bad[80].signer.0[0] = 1;
        let (index, _) = verify_batch_strict(&bad, Some(&cache)).unwrap_err();
        assert_eq!(index, 70);
        assert_eq!(verify_batch_strict(&bad, None).unwrap_err().0, 70);
    }
}
