//! Headers, blocks and finality certificates.

use crate::hash::{blake3_hash, Hash};
use crate::keys::{AccountId, Keypair, Signature};
use crate::verify::verify_strict;
use parity_scale_codec::{Decode, Encode};
use std::collections::BTreeSet;

/// Block height; genesis is 0.
pub type Height = u64;
/// Milliseconds since the Unix epoch, as set by the block's proposer.
pub type TimestampMs = u64;

/// A block header. Its blake3 hash (over SCALE) is the block hash.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Header {
    /// Hash of the parent header ([`Hash::ZERO`] for genesis).
    pub parent_hash: Hash,
    /// Height of this block.
    pub height: Height,
    /// Proposer's timestamp; never earlier than the parent's.
    pub timestamp_ms: TimestampMs,
    /// Root of the authenticated state after executing this block.
    pub state_root: Hash,
    /// Merkle root of the transaction hashes, in block order.
    pub transactions_root: Hash,
    /// Merkle root of the receipts (outcome and events of each transaction).
    pub receipts_root: Hash,
    /// The validator that proposed this block.
    pub proposer: AccountId,
    /// A validator-set change this block scheduled, announced in the header so a light
    /// client following certified headers knows which set signs from which height.
    pub validator_set_change: Option<ValidatorSetChange>,
}

/// A scheduled change of the validator set.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidatorSetChange {
    /// The first height the new set certifies; every earlier block is certified by the
    /// set before it.
    pub activates_at: Height,
    /// The new set, in leader order.
    pub validators: Vec<AccountId>,
}

impl Header {
    /// The block hash.
    pub fn hash(&self) -> Hash {
        blake3_hash(&self.encode())
    }
}

/// A block: header plus transactions.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Block<Transaction> {
    /// The header.
    pub header: Header,
    /// The transactions, executed in this order.
    pub transactions: Vec<Transaction>,
}

/// A binary Merkle root over `leaves` with domain separation between leaves (`0x00`) and
/// inner nodes (`0x01`), so a leaf can never be passed off as a node. An odd node is
/// carried up unchanged. The root of no leaves is [`Hash::ZERO`].
pub fn merkle_root(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return Hash::ZERO;
    }
    let mut level: Vec<Hash> = leaves
        .iter()
        .map(|leaf| {
            let mut hasher = blake3::Hasher::new();
            hasher.update(&[0x00]);
            hasher.update(leaf.as_bytes());
            Hash(*hasher.finalize().as_bytes())
        })
        .collect();
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [left, right] => {
                    let mut hasher = blake3::Hasher::new();
                    hasher.update(&[0x01]);
                    hasher.update(left.as_bytes());
                    hasher.update(right.as_bytes());
                    Hash(*hasher.finalize().as_bytes())
                }
                [single] => *single,
                _ => Hash::ZERO,
            })
            .collect();
    }
    level[0]
}

/// What a validator signs when it votes to finalize a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct FinalityVote {
    /// The chain (genesis hash), so a vote cannot be replayed on another wijk chain.
    pub genesis_hash: Hash,
    /// Height of the block.
    pub height: Height,
    /// Consensus view (round) in which the vote was cast.
    pub view: u64,
    /// The block voted for.
    pub block_hash: Hash,
}

const FINALITY_DOMAIN: &[u8] = b"wijk-finality-v1";

impl FinalityVote {
    /// The exact bytes a validator signs.
    pub fn signing_bytes(&self) -> Vec<u8> {
        let mut bytes = FINALITY_DOMAIN.to_vec();
        self.encode_to(&mut bytes);
        bytes
    }
}

/// Proof that a quorum of validators finalized a block: checkable with nothing but the
/// validator set.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct FinalityCertificate {
    /// Height of the finalized block.
    pub height: Height,
    /// View in which it was finalized.
    pub view: u64,
    /// The finalized block.
    pub block_hash: Hash,
    /// Signatures over the [`FinalityVote`], one per distinct validator.
    pub signatures: Vec<(AccountId, Signature)>,
}

/// Why a finality certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
    /// The certificate is for another block than the one it came with.
    #[error("certificate is for block {certified:?} at height {certified_height}, not {expected:?} at {expected_height}")]
    WrongBlock {
        /// What the certificate names.
        certified: Hash,
        /// Its height.
        certified_height: Height,
        /// The block it should certify.
        expected: Hash,
        /// That block's height.
        expected_height: Height,
    },
    /// A signer is not in the validator set.
    #[error("signer {signer:?} is not a validator")]
    UnknownSigner {
        /// The signer.
        signer: AccountId,
    },
    /// A validator signed twice.
    #[error("validator {signer:?} appears twice")]
    DuplicateSigner {
        /// The signer.
        signer: AccountId,
    },
    /// A signature does not verify.
    #[error("signature of validator {signer:?} does not verify")]
    BadSignature {
        /// The signer.
        signer: AccountId,
    },
    /// Fewer than a quorum of validators signed.
    #[error("{signers} of {validators} validators signed; a quorum is {quorum}")]
    NoQuorum {
        /// Distinct valid signers.
        signers: usize,
        /// Size of the set.
        validators: usize,
        /// Signers needed.
        quorum: usize,
    },
}

/// Signers needed for finality among `validators`: `n - f` with `f = (n - 1) / 3`, i.e.
/// `2f + 1` when `n = 3f + 1`.
pub fn quorum(validators: usize) -> usize {
    validators - validators.saturating_sub(1) / 3
}

impl FinalityCertificate {
    /// Signs a one-validator certificate (the dev chain, or a vote to be aggregated).
    pub fn sign_single(
        validator: &Keypair,
        genesis_hash: Hash,
        height: Height,
        view: u64,
        block_hash: Hash,
    ) -> FinalityCertificate {
        let vote = FinalityVote {
            genesis_hash,
            height,
            view,
            block_hash,
        };
        FinalityCertificate {
            height,
            view,
            block_hash,
            signatures: vec![(
                validator.account_id(),
                validator.sign(&vote.signing_bytes()),
            )],
        }
    }

    /// Checks the certificate finalizes `header` under `validators` on the chain with
    /// `genesis_hash`.
    pub fn verify(
        &self,
        genesis_hash: Hash,
        header: &Header,
        validators: &[AccountId],
    ) -> Result<(), CertificateError> {
        let expected = header.hash();
        if self.block_hash != expected || self.height != header.height {
            return Err(CertificateError::WrongBlock {
                certified: self.block_hash,
                certified_height: self.height,
                expected,
                expected_height: header.height,
            });
        }
        self.verify_signatures(genesis_hash, validators)
    }

    /// Checks the certificate finalizes `last_block`, the last block of its validator
    /// set's epoch, either directly or through one of the closing blocks after it
    /// ([`crate::closing_block_hash`]).
    pub fn verify_epoch_end(
        &self,
        genesis_hash: Hash,
        last_block: &Header,
        validators: &[AccountId],
    ) -> Result<(), CertificateError> {
        let last_hash = last_block.hash();
        let certifies = if self.height == last_block.height {
            self.block_hash == last_hash
        } else {
            self.height > last_block.height
                && self.block_hash == crate::vote::closing_block_hash(last_hash, self.height)
        };
        if !certifies {
            return Err(CertificateError::WrongBlock {
                certified: self.block_hash,
                certified_height: self.height,
                expected: last_hash,
                expected_height: last_block.height,
            });
        }
        self.verify_signatures(genesis_hash, validators)
    }

    /// Checks a quorum of distinct `validators` signed this certificate's vote.
    pub fn verify_signatures(
        &self,
        genesis_hash: Hash,
        validators: &[AccountId],
    ) -> Result<(), CertificateError> {
        let vote = FinalityVote {
            genesis_hash,
            height: self.height,
            view: self.view,
            block_hash: self.block_hash,
        }
        .signing_bytes();
        let mut seen = BTreeSet::new();
        for (signer, signature) in &self.signatures {
            if !validators.contains(signer) {
                return Err(CertificateError::UnknownSigner { signer: *signer });
            }
            if !seen.insert(*signer) {
                return Err(CertificateError::DuplicateSigner { signer: *signer });
            }
            verify_strict(signer, &vote, signature)
                .map_err(|_| CertificateError::BadSignature { signer: *signer })?;
        }
        let needed = quorum(validators.len());
        if seen.len() < needed {
            return Err(CertificateError::NoQuorum {
                signers: seen.len(),
                validators: validators.len(),
                quorum: needed,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(height: Height) -> Header {
        Header {
            parent_hash: Hash::ZERO,
            height,
            timestamp_ms: 1,
            state_root: Hash([1; 32]),
            transactions_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            proposer: AccountId([5; 32]),
            validator_set_change: None,
        }
    }

    #[test]
    fn quorum_is_two_thirds_plus_one() {
        assert_eq!(quorum(1), 1);
        assert_eq!(quorum(3), 3);
        assert_eq!(quorum(4), 3);
        assert_eq!(quorum(7), 5);
        assert_eq!(quorum(10), 7);
    }

    #[test]
    fn single_validator_certificate_verifies_and_rejects_forgeries() {
        let alice = Keypair::dev("Alice");
        let genesis = Hash([9; 32]);
        let header = header(3);
        let certificate = FinalityCertificate::sign_single(&alice, genesis, 3, 0, header.hash());
        assert_eq!(
            certificate.verify(genesis, &header, &[alice.account_id()]),
            Ok(())
        );
        assert!(matches!(
            certificate.verify(genesis, &header, &[Keypair::dev("Bob").account_id()]),
            Err(CertificateError::UnknownSigner { .. })
        ));
        assert!(matches!(
            certificate.verify(Hash([8; 32]), &header, &[alice.account_id()]),
            Err(CertificateError::BadSignature { .. })
        ));
        assert!(matches!(
            certificate.verify(genesis, &self::header(4), &[alice.account_id()]),
            Err(CertificateError::WrongBlock { .. })
        ));
    }

    #[test]
    fn an_epoch_end_is_certified_directly_or_through_its_closing_blocks_only() {
        let alice = Keypair::dev("Alice");
        let set = [alice.account_id()];
        let genesis = Hash([9; 32]);
        let last = header(3);
        let direct = FinalityCertificate::sign_single(&alice, genesis, 3, 7, last.hash());
        assert_eq!(direct.verify_epoch_end(genesis, &last, &set), Ok(()));
        let closing = crate::vote::closing_block_hash(last.hash(), 5);
        let through = FinalityCertificate::sign_single(&alice, genesis, 5, 9, closing);
        assert_eq!(through.verify_epoch_end(genesis, &last, &set), Ok(()));
        let wrong_height = FinalityCertificate::sign_single(&alice, genesis, 6, 9, closing);
        assert!(matches!(
            wrong_height.verify_epoch_end(genesis, &last, &set),
            Err(CertificateError::WrongBlock { .. })
        ));
        let other = FinalityCertificate::sign_single(&alice, genesis, 5, 9, Hash([1; 32]));
        assert!(matches!(
            other.verify_epoch_end(genesis, &last, &set),
            Err(CertificateError::WrongBlock { .. })
        ));
    }

    fn arbitrary_header() -> impl proptest::strategy::Strategy<Value = Header> {
        use proptest::prelude::*;
        (
            any::<[u8; 32]>(),
            any::<u64>(),
            any::<u64>(),
            any::<[u8; 32]>(),
            any::<[u8; 32]>(),
        )
            .prop_map(|(parent, height, timestamp_ms, state, proposer)| Header {
                parent_hash: Hash(parent),
                height,
                timestamp_ms,
                state_root: Hash(state),
                transactions_root: Hash(state),
                receipts_root: Hash(parent),
                proposer: AccountId(proposer),
                validator_set_change: (height % 3 == 0).then(|| ValidatorSetChange {
                    activates_at: height,
                    validators: vec![AccountId(parent)],
                }),
            })
    }

    proptest::proptest! {
        #[test]
        fn header_block_and_certificate_round_trip(
            header in arbitrary_header(),
            transactions in proptest::collection::vec(proptest::collection::vec(0u8..=255, 0..40), 0..8),
            view in 0u64..1_000,
        ) {
            use crate::codec::decode_bounded;
            let block = Block { header: header.clone(), transactions };
            let back: Block<Vec<u8>> = decode_bounded("block", &block.encode(), 1 << 20).unwrap();
            proptest::prop_assert_eq!(&back, &block);
            let certificate = FinalityCertificate::sign_single(
                &Keypair::from_seed(&[1; 32]), Hash::ZERO, header.height, view, header.hash());
            let back: FinalityCertificate = decode_bounded("certificate", &certificate.encode(), 4096).unwrap();
            proptest::prop_assert_eq!(back, certificate);
        }

        #[test]
        fn decoding_garbage_as_a_block_never_panics(bytes in proptest::collection::vec(0u8..=255, 0..512)) {
            let _ = crate::codec::decode_bounded::<Block<Vec<u8>>>("block", &bytes, 1 << 20);
            let _ = crate::codec::decode_bounded::<FinalityCertificate>("certificate", &bytes, 1 << 20);
        }
    }

    #[test]
    fn merkle_root_depends_on_every_leaf_and_order() {
        let leaves: Vec<Hash> = (0..5u8).map(|i| Hash([i; 32])).collect();
        let root = merkle_root(&leaves);
        let mut swapped = leaves.clone();
        swapped.swap(1, 2);
        assert_ne!(root, merkle_root(&swapped));
        assert_ne!(root, merkle_root(&leaves[..4]));
        assert_eq!(merkle_root(&[]), Hash::ZERO);
    }
}
