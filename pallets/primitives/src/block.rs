//! Headers, blocks and finality certificates.

use crate::hash::{blake3_hash, Hash};
use crate::keys::{AccountId, Keypair, Signature};
use parity_scale_codec::{Decode, Encode};

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
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Encode,
    Decode,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
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
/// validator set (the `wijk-light-client` crate holds the rules).
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_is_two_thirds_plus_one() {
        assert_eq!(quorum(1), 1);
        assert_eq!(quorum(3), 3);
        assert_eq!(quorum(4), 3);
        assert_eq!(quorum(7), 5);
        assert_eq!(quorum(10), 7);
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
