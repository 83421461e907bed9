//! What validators sign and send: votes, and the certificates a quorum of votes forms.
//!
//! Every signature binds the chain (genesis hash), the view and the vote's kind through a
//! domain tag, so no signature can be replayed as another kind of vote, in another view,
//! or on another wijk chain. A finalize vote signs exactly a
//! [`wijk_primitives::FinalityVote`], so a quorum of them *is* the block's
//! [`FinalityCertificate`], checkable with nothing but the validator set.

use parity_scale_codec::{Decode, Encode};
use std::collections::BTreeMap;
use wijk_primitives::{
    quorum, verify_strict, AccountId, FinalityCertificate, FinalityVote, Hash, Height, Keypair,
    Signature,
};

/// A consensus round. View 0 is genesis (or the restart point); voting starts at view 1.
pub type View = u64;

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
pub enum MessageError {
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
    /// A certificate has fewer than a quorum of distinct signers.
    #[error("certificate for view {view} has {signers} distinct signers, a quorum is {quorum}")]
    NoQuorum {
        /// The view.
        view: View,
        /// Distinct signers.
        signers: usize,
        /// Needed.
        quorum: usize,
    },
    /// A notarize vote names a block at a height that does not follow its parent's.
    #[error("view {view}: a proposal must be at view >= 1 and carry a non-zero height")]
    Malformed {
        /// The view.
        view: View,
    },
}

impl SignedVote {
    /// Checks the signer is a validator and the signature verifies strictly.
    pub fn verify(&self, genesis_hash: Hash, validators: &[AccountId]) -> Result<(), MessageError> {
        if !validators.contains(&self.signer) {
            return Err(MessageError::UnknownSigner {
                signer: self.signer,
            });
        }
        if self.vote.view == 0 {
            return Err(MessageError::Malformed { view: 0 });
        }
        verify_strict(
            &self.signer,
            &self.vote.signing_bytes(genesis_hash),
            &self.signature,
        )
        .map_err(|_| MessageError::BadSignature {
            signer: self.signer,
            view: self.vote.view,
        })
    }
}

/// A quorum of signatures on one vote.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Certificate {
    /// The vote they all signed.
    pub vote: Vote,
    /// One signature per distinct validator.
    pub signatures: Vec<(AccountId, Signature)>,
}

impl Certificate {
    /// Builds a certificate from collected signatures (sorted by signer, deterministic).
    pub fn from_votes(vote: Vote, signatures: &BTreeMap<AccountId, Signature>) -> Certificate {
        Certificate {
            vote,
            signatures: signatures.iter().map(|(a, s)| (*a, *s)).collect(),
        }
    }

    /// Checks every signature and that a quorum of distinct validators signed.
    pub fn verify(&self, genesis_hash: Hash, validators: &[AccountId]) -> Result<(), MessageError> {
        let mut signers = std::collections::BTreeSet::new();
        let bytes = self.vote.signing_bytes(genesis_hash);
        for (signer, signature) in &self.signatures {
            if !validators.contains(signer) {
                return Err(MessageError::UnknownSigner { signer: *signer });
            }
            verify_strict(signer, &bytes, signature).map_err(|_| MessageError::BadSignature {
                signer: *signer,
                view: self.vote.view,
            })?;
            signers.insert(*signer);
        }
        let needed = quorum(validators.len());
        if signers.len() < needed {
            return Err(MessageError::NoQuorum {
                view: self.vote.view,
                signers: signers.len(),
                quorum: needed,
            });
        }
        Ok(())
    }

    /// For a finalize certificate: the block's [`FinalityCertificate`].
    pub fn finality_certificate(&self) -> Option<FinalityCertificate> {
        match self.vote.kind {
            VoteKind::Finalize { block } => Some(FinalityCertificate {
                height: block.height,
                view: self.vote.view,
                block_hash: block.hash,
                signatures: self.signatures.clone(),
            }),
            _ => None,
        }
    }
}

/// What validators send each other.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Message {
    /// One vote (the leader's notarize vote is its proposal).
    #[codec(index = 0)]
    Vote(SignedVote),
    /// A quorum certificate, forwarded so lagging validators catch up.
    #[codec(index = 1)]
    Certificate(Certificate),
}
