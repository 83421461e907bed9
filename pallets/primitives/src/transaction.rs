//! Signed transactions.
//!
//! The signed payload binds the chain's genesis hash and the runtime spec version (no
//! replay on another wijk chain or after an upgrade), the nonce (no replay on this chain)
//! and an expiry height (a stuck transaction cannot be resurrected much later).

use crate::block::Height;
use crate::hash::{blake3_hash, Hash};
use crate::keys::{AccountId, Keypair, Signature};
use crate::verify::{verify_strict, SignatureError, SignedMessage};
use parity_scale_codec::{Decode, Encode};

/// Runtime spec version; bumped whenever the state transition function changes.
pub type SpecVersion = u32;

/// Domain tag prefixed to every transaction signing payload.
const TRANSACTION_DOMAIN: &[u8] = b"wijk-transaction-v1";

/// What a signature is bound to besides the transaction's own fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct SigningContext {
    /// Hash of the chain's genesis header.
    pub genesis_hash: Hash,
    /// Runtime spec version the signer expects.
    pub spec_version: SpecVersion,
}

/// A transaction as submitted and as stored in blocks.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct SignedTransaction<Call> {
    /// The account that signed and pays nothing (members pay no fees).
    pub signer: AccountId,
    /// Must equal the signer's next nonce when executed.
    pub nonce: u64,
    /// The last block height at which this transaction may be included.
    pub valid_until: Height,
    /// What to do.
    pub call: Call,
    /// ed25519 over [`SignedTransaction::signing_payload`].
    pub signature: Signature,
}

impl<Call: Encode> SignedTransaction<Call> {
    /// The exact bytes that are signed.
    pub fn signing_payload(
        context: &SigningContext,
        nonce: u64,
        valid_until: Height,
        call: &Call,
    ) -> Vec<u8> {
        let mut payload = Vec::with_capacity(TRANSACTION_DOMAIN.len() + 64 + 64);
        payload.extend_from_slice(TRANSACTION_DOMAIN);
        context.encode_to(&mut payload);
        nonce.encode_to(&mut payload);
        valid_until.encode_to(&mut payload);
        call.encode_to(&mut payload);
        payload
    }

    /// Builds and signs a transaction.
    pub fn sign(
        signer: &Keypair,
        context: &SigningContext,
        nonce: u64,
        valid_until: Height,
        call: Call,
    ) -> Self {
        let signature = signer.sign(&Self::signing_payload(context, nonce, valid_until, &call));
        SignedTransaction {
            signer: signer.account_id(),
            nonce,
            valid_until,
            call,
            signature,
        }
    }

    /// The transaction hash: blake3 of its SCALE encoding.
    pub fn hash(&self) -> Hash {
        blake3_hash(&self.encode())
    }

    /// Strictly verifies the signature for this chain.
    pub fn verify_signature(&self, context: &SigningContext) -> Result<(), SignatureError> {
        let payload = Self::signing_payload(context, self.nonce, self.valid_until, &self.call);
        verify_strict(&self.signer, &payload, &self.signature)
    }

    /// The payload this transaction's signature must cover, for batch verification.
    pub fn payload_for(&self, context: &SigningContext) -> Vec<u8> {
        Self::signing_payload(context, self.nonce, self.valid_until, &self.call)
    }

    /// A batch-verification item over `payload` (from [`Self::payload_for`]).
    pub fn signed_message<'a>(&self, payload: &'a [u8]) -> SignedMessage<'a> {
        SignedMessage {
            signer: self.signer,
            message: payload,
            signature: self.signature,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::decode_bounded;
    use proptest::prelude::*;

    fn context(spec_version: SpecVersion) -> SigningContext {
        SigningContext {
            genesis_hash: Hash([1u8; 32]),
            spec_version,
        }
    }

    #[test]
    fn signature_binds_chain_and_spec_version() {
        let pair = Keypair::dev("Alice");
        let tx = SignedTransaction::sign(&pair, &context(1), 0, 10, b"call".to_vec());
        assert!(tx.verify_signature(&context(1)).is_ok());
        assert!(tx.verify_signature(&context(2)).is_err());
        let other_chain = SigningContext {
            genesis_hash: Hash([2u8; 32]),
            spec_version: 1,
        };
        assert!(tx.verify_signature(&other_chain).is_err());
    }

    proptest! {
        #[test]
        fn codec_round_trips(nonce in any::<u64>(), until in any::<u64>(),
                             call in proptest::collection::vec(any::<u8>(), 0..64),
                             sig in proptest::collection::vec(any::<u8>(), 64)) {
            let mut signature = [0u8; 64];
            signature.copy_from_slice(&sig);
            let tx = SignedTransaction { signer: AccountId([3; 32]), nonce, valid_until: until,
                                         call, signature: Signature(signature) };
            let bytes = tx.encode();
            let back: SignedTransaction<Vec<u8>> = decode_bounded("tx", &bytes, 1 << 16).unwrap();
            prop_assert_eq!(back, tx);
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = decode_bounded::<SignedTransaction<Vec<u8>>>("tx", &bytes, 1 << 16);
        }
    }
}
