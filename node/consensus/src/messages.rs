//! What validators sign and send: votes, and the certificates a quorum of votes forms.
//!
//! Every signature binds the chain (genesis hash), the view and the vote's kind through a
//! domain tag, so no signature can be replayed as another kind of vote, in another view,
//! or on another wijk chain. A finalize vote signs exactly a
//! [`wijk_primitives::FinalityVote`], so a quorum of them *is* the block's
//! [`FinalityCertificate`], checkable with nothing but the validator set.

use parity_scale_codec::{Decode, Encode};
use std::collections::BTreeMap;
use wijk_primitives::{AccountId, FinalityCertificate, Hash, Signature};

pub use wijk_primitives::vote::{BlockRef, SignedVote, View, Vote, VoteKind};

/// Why a certificate was refused: its signatures are not a quorum of the set (the one
/// quorum rule, [`wijk_light_client::verify_quorum`]).
pub type MessageError = wijk_light_client::QuorumError;

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
        wijk_light_client::verify_quorum(
            &self.vote.signing_bytes(genesis_hash),
            &self.signatures,
            validators,
        )
        .map(|_| ())
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
