//! Consensus votes as signed bytes, and the epochs of a validator set.
//!
//! They live here, not in the consensus crate, because the runtime checks them too: two
//! conflicting votes signed by one validator are evidence of equivocation that any account
//! may submit and the chain records. Every signature binds the chain (genesis hash), the
//! view and the vote's kind through a domain tag, so no signature can be replayed as
//! another kind of vote, in another view, or on another wijk chain. A finalize vote signs
//! exactly a [`FinalityVote`], so a quorum of them *is* a [`crate::FinalityCertificate`].
//!
//! **Epochs.** Each validator set runs its own epoch of views: epoch `e` votes in views
//! `e << 40` and up ([`epoch_base_view`]), so a vote can never be confused with one of
//! another set, and every node agrees where the next epoch starts. The last block of an
//! epoch may be finalized through *closing blocks* ([`closing_block_hash`]): placeholders
//! that carry no transactions and exist only so the old set can keep voting until that
//! block is final; they are never committed.

use crate::block::{FinalityVote, Height};
use crate::hash::Hash;
use crate::keys::{AccountId, Keypair, Signature};
use crate::verify::verify_strict;
use parity_scale_codec::{Decode, Encode};

/// A consensus round. View 0 is genesis (or the restart point); voting starts at view 1.
pub type View = u64;

/// Views per epoch, as a shift: epoch `e` owns views `[e << 40, (e + 1) << 40)`, more
/// than a thousand years of 50 ms views.
pub const EPOCH_VIEW_SHIFT: u32 = 40;

/// The base view of `epoch`: the view its first block's parent counts as finalized in.
pub fn epoch_base_view(epoch: u64) -> View {
    epoch << EPOCH_VIEW_SHIFT
}

/// The epoch a view belongs to.
pub fn epoch_of_view(view: View) -> u64 {
    view >> EPOCH_VIEW_SHIFT
}

const CLOSING_DOMAIN: &[u8] = b"wijk-epoch-closing-v1";

/// The hash of the closing block at `height` after `last_block` (the last real block of
/// an epoch): a deterministic placeholder, so every validator can check a closing proposal
/// without a body.
pub fn closing_block_hash(last_block: Hash, height: Height) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(CLOSING_DOMAIN);
    hasher.update(last_block.as_bytes());
    hasher.update(&height.to_le_bytes());
    Hash(*hasher.finalize().as_bytes())
}

/// What consensus knows of a block: enough to follow the chain of parents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct BlockRef {
    /// The block's hash.
    pub hash: Hash,
    /// Its height.
    pub height: Height,
    /// Its parent's hash.
    pub parent: Hash,
}

/// What a vote says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub enum VoteKind {
    /// "This block is a valid proposal of this view, extending the parent notarized in
    /// `parent_view`." The leader's own notarize vote is its proposal.
    #[codec(index = 0)]
    Notarize {
        /// The block.
        block: BlockRef,
        /// The view in which its parent was notarized (0 for the base block).
        parent_view: View,
    },
    /// "This view made no progress in time; skip it."
    #[codec(index = 1)]
    Nullify,
    /// "I saw this block notarized and did not nullify this view": a quorum of these
    /// finalizes the block.
    #[codec(index = 2)]
    Finalize {
        /// The block.
        block: BlockRef,
    },
}

/// A vote in a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub struct Vote {
    /// The view.
    pub view: View,
    /// What it says.
    pub kind: VoteKind,
}

const NOTARIZE_DOMAIN: &[u8] = b"wijk-notarize-v1";
const NULLIFY_DOMAIN: &[u8] = b"wijk-nullify-v1";

impl Vote {
    /// The exact bytes a validator signs for this vote on the chain `genesis_hash`.
    pub fn signing_bytes(&self, genesis_hash: Hash) -> Vec<u8> {
        match self.kind {
            VoteKind::Notarize { block, parent_view } => {
                let mut bytes = NOTARIZE_DOMAIN.to_vec();
                (genesis_hash, self.view, block, parent_view).encode_to(&mut bytes);
                bytes
            }
            VoteKind::Nullify => {
                let mut bytes = NULLIFY_DOMAIN.to_vec();
                (genesis_hash, self.view).encode_to(&mut bytes);
                bytes
            }
            VoteKind::Finalize { block } => FinalityVote {
                genesis_hash,
                height: block.height,
                view: self.view,
                block_hash: block.hash,
            }
            .signing_bytes(),
        }
    }

    /// Signs the vote.
    pub fn sign(self, key: &Keypair, genesis_hash: Hash) -> SignedVote {
        SignedVote {
            vote: self,
            signer: key.account_id(),
            signature: key.sign(&self.signing_bytes(genesis_hash)),
        }
    }

    /// Whether one validator signing both `self` and `other` is equivocation: two
    /// different blocks notarized or finalized in one view, or a nullify and a finalize
    /// in one view (an honest validator finalizes only a view it did not nullify).
    pub fn conflicts_with(&self, other: &Vote) -> bool {
        if self.view != other.view {
            return false;
        }
        match (self.kind, other.kind) {
            (VoteKind::Notarize { block: a, .. }, VoteKind::Notarize { block: b, .. }) => a != b,
            (VoteKind::Finalize { block: a }, VoteKind::Finalize { block: b }) => a != b,
            (VoteKind::Nullify, VoteKind::Finalize { .. })
            | (VoteKind::Finalize { .. }, VoteKind::Nullify) => true,
            _ => false,
        }
    }
}

/// A vote with its signer and signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct SignedVote {
    /// The vote.
    pub vote: Vote,
    /// Who signed it.
    pub signer: AccountId,
    /// The signature over [`Vote::signing_bytes`].
    pub signature: Signature,
}

/// Why a vote or certificate was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteError {
    /// The signer is not a validator.
    #[error("{signer:?} is not a validator")]
    UnknownSigner {
        /// The signer.
        signer: AccountId,
    },
    /// The signature does not verify.
    #[error("vote by {signer:?} in view {view} has a bad signature")]
    BadSignature {
        /// The signer.
        signer: AccountId,
        /// The view.
        view: View,
    },
    /// A vote in view 0, which nobody votes in.
    #[error("view {view}: a proposal must be at view >= 1 and carry a non-zero height")]
    Malformed {
        /// The view.
        view: View,
    },
}

impl SignedVote {
    /// Checks the signer is a validator and the signature verifies strictly.
    pub fn verify(&self, genesis_hash: Hash, validators: &[AccountId]) -> Result<(), VoteError> {
        if !validators.contains(&self.signer) {
            return Err(VoteError::UnknownSigner {
                signer: self.signer,
            });
        }
        if self.vote.view == 0 {
            return Err(VoteError::Malformed { view: 0 });
        }
        verify_strict(
            &self.signer,
            &self.vote.signing_bytes(genesis_hash),
            &self.signature,
        )
        .map_err(|_| VoteError::BadSignature {
            signer: self.signer,
            view: self.vote.view,
        })
    }
}

/// A signed vote as people and auditors read it: signer, view, kind and block, with the
/// SCALE bytes that let anyone check the signature again.
impl serde::Serialize for SignedVote {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (kind, block) = match self.vote.kind {
            VoteKind::Notarize { block, .. } => ("notarize", Some(block)),
            VoteKind::Nullify => ("nullify", None),
            VoteKind::Finalize { block } => ("finalize", Some(block)),
        };
        let mut out = serializer.serialize_struct("SignedVote", 6)?;
        out.serialize_field("signer", &self.signer)?;
        out.serialize_field("view", &self.vote.view)?;
        out.serialize_field("kind", kind)?;
        out.serialize_field("blockHash", &block.map(|b| b.hash))?;
        out.serialize_field("blockNumber", &block.map(|b| b.height))?;
        out.serialize_field("encoded", &format!("0x{}", hex::encode(self.encode())))?;
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(byte: u8) -> BlockRef {
        BlockRef {
            hash: Hash([byte; 32]),
            height: 1,
            parent: Hash::ZERO,
        }
    }

    #[test]
    fn conflicting_votes_are_recognised_and_others_are_not() {
        let notarize = |b, view| Vote {
            view,
            kind: VoteKind::Notarize {
                block: block(b),
                parent_view: 0,
            },
        };
        let finalize = |b, view| Vote {
            view,
            kind: VoteKind::Finalize { block: block(b) },
        };
        let nullify = |view| Vote {
            view,
            kind: VoteKind::Nullify,
        };
        assert!(notarize(1, 5).conflicts_with(&notarize(2, 5)));
        assert!(finalize(1, 5).conflicts_with(&finalize(2, 5)));
        assert!(nullify(5).conflicts_with(&finalize(1, 5)));
        assert!(!notarize(1, 5).conflicts_with(&notarize(2, 6)));
        assert!(!notarize(1, 5).conflicts_with(&finalize(1, 5)));
        assert!(!nullify(5).conflicts_with(&notarize(1, 5)));
        assert!(!notarize(1, 5).conflicts_with(&notarize(1, 5)));
    }

    #[test]
    fn epochs_partition_views_and_closing_hashes_are_distinct() {
        assert_eq!(epoch_of_view(epoch_base_view(3)), 3);
        assert_eq!(epoch_of_view(epoch_base_view(3) - 1), 2);
        assert_eq!(epoch_of_view(7), 0);
        let last = Hash([4; 32]);
        assert_ne!(closing_block_hash(last, 10), closing_block_hash(last, 11));
        assert_ne!(
            closing_block_hash(last, 10),
            closing_block_hash(Hash([5; 32]), 10)
        );
    }
}
