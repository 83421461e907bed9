//! The one light client of wijk chains: verifies headers by finality certificates against
//! a validator set, and follows validator-set changes announced in certified headers,
//! epoch by epoch. It is the only code in the project that counts signatures: block import,
//! sync, `verify-certificates`, the wallet's proofs, consensus's own certificates (through
//! [`verify_quorum`]) and, later, the bridge pallet and the relayer all use it.
//!
//! # The rules a verifier applies
//! - **Quorum** ([`verify_quorum`]): among `n` validators, a quorum is `n - f` distinct
//!   signers with `f = (n - 1) / 3` (`2f + 1` when `n = 3f + 1`; see
//!   [`wijk_primitives::quorum`]). Every signer must be in the set; a signer listed twice or
//!   a signature that does not verify makes the whole certificate invalid (it is never
//!   "dropped and counted without"), and signatures are checked with the strict cofactored
//!   rule of [`wijk_primitives::verify`].
//! - **What a certificate finalizes.** A [`FinalityCertificate`] signs a
//!   [`wijk_primitives::FinalityVote`] `(genesis hash, height, view, block hash)`. It
//!   finalizes that block and, through parent hashes, every ancestor: a verifier is given a
//!   *run* of consecutive headers whose last one the certificate names. The last block of
//!   an epoch may instead be finalized through a *closing block*: a certificate at a greater
//!   height whose block hash is `closing_block_hash(last block, height)`.
//! - **Which set signs.** The certificate's view names its epoch (`view >> 40`). Epoch 0's
//!   set comes from genesis. A header may announce a change
//!   ([`wijk_primitives::ValidatorSetChange`]): from its activation height on, blocks belong
//!   to the next epoch and are certified by the new set, and every block before it by the
//!   old one. A run never spans an activation height, and a client never skips an epoch: a
//!   certificate of an epoch later than the one it follows (or the one a verified header
//!   announced) is refused, and the announcing header must be verified first.
//!
//! Owns: those rules, and the trusted state of a client that follows one chain.
//! Must never: do I/O or trust anything it was not shown proof of: the set that checks a
//! certificate is always the client's own, never one the submitter names.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use parity_scale_codec::{Decode, Encode};
use std::collections::BTreeSet;
use wijk_primitives::{
    closing_block_hash, epoch_of_view, quorum, verify_strict, AccountId, FinalityCertificate,
    FinalityVote, Hash, Header, Height, Signature, ValidatorSetChange,
};

/// Why signatures do not make a quorum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuorumError {
    /// A signer is not in the validator set.
    #[error("signer {signer:?} is not a validator of this epoch")]
    UnknownSigner {
        /// The signer.
        signer: AccountId,
    },
    /// A validator is listed twice.
    #[error("validator {signer:?} signed twice")]
    DuplicateSigner {
        /// The signer.
        signer: AccountId,
    },
    /// A signature does not verify.
    #[error("the signature of validator {signer:?} does not verify")]
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

/// Checks that a quorum of distinct `validators` signed `message`, every signature strictly.
/// The one quorum rule of the project (see the crate docs); returns how many signed.
pub fn verify_quorum(
    message: &[u8],
    signatures: &[(AccountId, Signature)],
    validators: &[AccountId],
) -> Result<usize, QuorumError> {
    let mut seen = BTreeSet::new();
    for (signer, signature) in signatures {
        if !validators.contains(signer) {
            return Err(QuorumError::UnknownSigner { signer: *signer });
        }
        if !seen.insert(*signer) {
            return Err(QuorumError::DuplicateSigner { signer: *signer });
        }
        verify_strict(signer, message, signature)
            .map_err(|_| QuorumError::BadSignature { signer: *signer })?;
    }
    let needed = quorum(validators.len());
    if seen.len() < needed {
        return Err(QuorumError::NoQuorum {
            signers: seen.len(),
            validators: validators.len(),
            quorum: needed,
        });
    }
    Ok(seen.len())
}

/// Checks that `certificate` is signed by a quorum of `validators` on the chain
/// `genesis_hash` (what it finalizes is the caller's to check).
pub fn verify_certificate_signatures(
    certificate: &FinalityCertificate,
    genesis_hash: Hash,
    validators: &[AccountId],
) -> Result<usize, QuorumError> {
    let vote = FinalityVote {
        genesis_hash,
        height: certificate.height,
        view: certificate.view,
        block_hash: certificate.block_hash,
    };
    verify_quorum(&vote.signing_bytes(), &certificate.signatures, validators)
}

/// What a light client trusts: a chain, a verified header, and the validator set that
/// certifies the blocks after it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct TrustedState {
    /// The chain (its genesis hash), which every finality vote binds.
    pub genesis_hash: Hash,
    /// The epoch whose set certifies the block after `height` (unless `scheduled` says a
    /// change takes effect by then).
    pub epoch: u64,
    /// That epoch's validators.
    pub validators: Vec<AccountId>,
    /// The highest verified header's height (0: genesis).
    pub height: Height,
    /// Its hash.
    pub block_hash: Hash,
    /// A change announced in a verified header and not yet in effect at `height`.
    pub scheduled: Option<ValidatorSetChange>,
}

impl TrustedState {
    /// Trust in a chain from its genesis header and its first validator set.
    pub fn from_genesis(genesis: &Header, validators: Vec<AccountId>) -> TrustedState {
        TrustedState {
            genesis_hash: genesis.hash(),
            epoch: 0,
            validators,
            height: genesis.height,
            block_hash: genesis.hash(),
            scheduled: None,
        }
    }

    /// The epoch, set and still-scheduled change at the block at `height` (above the
    /// trusted header), as far as this client knows.
    pub fn epoch_at(&self, height: Height) -> (u64, Vec<AccountId>, Option<ValidatorSetChange>) {
        match &self.scheduled {
            Some(change) if height >= change.activates_at => (
                self.epoch.saturating_add(1),
                change.validators.clone(),
                None,
            ),
            _ => (self.epoch, self.validators.clone(), self.scheduled.clone()),
        }
    }

    /// The same trust, stated directly: once the trusted header is the last of its epoch,
    /// the next epoch's set certifies what follows, so that set is the state's own.
    pub fn settled(self) -> TrustedState {
        match &self.scheduled {
            Some(change) if change.activates_at == self.height.saturating_add(1) => TrustedState {
                epoch: self.epoch.saturating_add(1),
                validators: change.validators.clone(),
                scheduled: None,
                ..self
            },
            _ => self,
        }
    }
}

/// Why a run of headers was not accepted as final.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LightClientError {
    /// No headers were given.
    #[error("no headers to verify")]
    EmptyRun,
    /// The headers are not consecutive, each the parent of the next.
    #[error("header {height} does not follow the header before it")]
    NotLinked {
        /// The height of the header that does not link.
        height: Height,
    },
    /// The run starts at or below what is already verified.
    #[error("header {height} is not above the verified header {trusted}")]
    Stale {
        /// The run's first height.
        height: Height,
        /// The verified height.
        trusted: Height,
    },
    /// The run continues the verified header but names another parent: a fork.
    #[error("header {height} names parent {claimed}, but the verified header {trusted_height} is {trusted}")]
    Fork {
        /// The first header's height.
        height: Height,
        /// Its parent hash.
        claimed: Hash,
        /// The verified header's height.
        trusted_height: Height,
        /// Its hash.
        trusted: Hash,
    },
    /// The run spans the height at which a new validator set takes over.
    #[error(
        "headers {first}..={last} span the activation height {activates_at} of a new validator set"
    )]
    CrossesEpochBoundary {
        /// The run's first height.
        first: Height,
        /// Its last.
        last: Height,
        /// Where the new set begins.
        activates_at: Height,
    },
    /// A header announces a change the chain's rules forbid (one while another is
    /// scheduled, or one that takes effect too soon).
    #[error("header {height} announces a validator-set change that cannot be: {reason}")]
    BadAnnouncement {
        /// The header.
        height: Height,
        /// Why.
        reason: &'static str,
    },
    /// The certificate is of another epoch than the run's blocks.
    #[error("the certificate is of epoch {certificate_epoch}, but the headers are of epoch {expected_epoch}; a client verifies one epoch after another (follow the validator-set changes first)")]
    WrongEpoch {
        /// The epoch the certificate's view names.
        certificate_epoch: u64,
        /// The epoch of the headers, as this client follows it.
        expected_epoch: u64,
    },
    /// The certificate does not name the run's last block (nor a closing block after it,
    /// where one may be).
    #[error("the certificate is for block {certified} at height {certified_height}, not block {expected} at {expected_height}")]
    WrongBlock {
        /// What the certificate names.
        certified: Hash,
        /// Its height.
        certified_height: Height,
        /// The run's last block.
        expected: Hash,
        /// Its height.
        expected_height: Height,
    },
    /// The signatures are not a quorum of the epoch's set.
    #[error(transparent)]
    Quorum(#[from] QuorumError),
}

/// Why a block that came with a certificate is not proven final by it: blocks are final
/// through the certificate of the block that ends their run, which must come with every
/// block of the run, and come.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unproven {
    /// The block's certificate is for a block below it.
    #[error("its certificate is for the earlier block {certified}")]
    EarlierCertificate {
        /// The height the certificate names.
        certified: Height,
    },
    /// A later block of the run came with another certificate than this one.
    #[error(
        "it is final through block {certified}, but a later block came with another certificate"
    )]
    CertificateChanged {
        /// The height its certificate names.
        certified: Height,
    },
    /// The run grew past the most blocks one certificate may justify.
    #[error("no certificate within {blocks} blocks")]
    NoCertificateWithin {
        /// The most blocks one certificate may justify.
        blocks: usize,
    },
    /// The blocks ended before the block the certificate names.
    #[error("it is final only through block {certified}, which never came")]
    CertifiedBlockMissing {
        /// The height the certificate names.
        certified: Height,
    },
}

/// A run of headers as the client follows it.
struct Followed<'r> {
    last: &'r Header,
    epoch: u64,
    validators: Vec<AccountId>,
    scheduled: Option<ValidatorSetChange>,
    announced: Option<ValidatorSetChange>,
}

impl Followed<'_> {
    /// Whether the run's last block is the last of its epoch.
    fn ends_epoch(&self) -> bool {
        self.scheduled
            .as_ref()
            .is_some_and(|change| change.activates_at == self.last.height.saturating_add(1))
    }

    /// Whether `certificate` names the run's last block, or (at an epoch's end) a closing
    /// block after it.
    fn certified_by(&self, certificate: &FinalityCertificate) -> bool {
        let last_hash = self.last.hash();
        if certificate.height == self.last.height {
            return certificate.block_hash == last_hash;
        }
        self.ends_epoch()
            && certificate.height > self.last.height
            && certificate.block_hash == closing_block_hash(last_hash, certificate.height)
    }
}

/// A light client following one chain.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct LightClient {
    state: TrustedState,
}

/// What a successful check established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The last header of the run, now known final.
    pub height: Height,
    /// Its hash.
    pub block_hash: Hash,
    /// The epoch whose set certified it.
    pub epoch: u64,
    /// How many validators signed.
    pub signers: usize,
    /// The change the run's headers announced, if one did.
    pub announced: Option<ValidatorSetChange>,
    /// What a client trusts once it accepts the run ([`LightClient::advance`]).
    pub trusted_after: TrustedState,
}

impl LightClient {
    /// A client that trusts `state`.
    pub fn new(state: TrustedState) -> LightClient {
        LightClient { state }
    }

    /// What the client trusts.
    pub fn state(&self) -> &TrustedState {
        &self.state
    }

    /// Checks that `certificate` finalizes the last header of `run` (consecutive headers,
    /// ascending, above the trusted one) under this client's view of the validator set,
    /// without changing what the client trusts.
    ///
    /// A run that starts right after the trusted header must name it as parent; one that
    /// starts later skips the headers between, which is safe within an epoch (the
    /// certificate's view names its epoch, and a set signs only in its own).
    pub fn check(
        &self,
        run: &[Header],
        certificate: &FinalityCertificate,
    ) -> Result<Verified, LightClientError> {
        let followed = self.follow(run)?;
        let last = followed.last;
        let certificate_epoch = epoch_of_view(certificate.view);
        if certificate_epoch != followed.epoch {
            return Err(LightClientError::WrongEpoch {
                certificate_epoch,
                expected_epoch: followed.epoch,
            });
        }
        let last_hash = last.hash();
        if !followed.certified_by(certificate) {
            return Err(LightClientError::WrongBlock {
                certified: certificate.block_hash,
                certified_height: certificate.height,
                expected: last_hash,
                expected_height: last.height,
            });
        }
        let trusted = &self.state;
        let signers =
            verify_certificate_signatures(certificate, trusted.genesis_hash, &followed.validators)?;
        Ok(Verified {
            height: last.height,
            block_hash: last_hash,
            epoch: followed.epoch,
            signers,
            announced: followed.announced,
            trusted_after: TrustedState {
                genesis_hash: trusted.genesis_hash,
                epoch: followed.epoch,
                validators: followed.validators,
                height: last.height,
                block_hash: last_hash,
                scheduled: followed.scheduled,
            }
            .settled(),
        })
    }

    /// Whether `certificate` is the one that can finalize `run` as it stands: it names the
    /// run's last header, or that header is the last of its epoch and the certificate is
    /// past it (a closing block). A certificate at a later height that does neither is a
    /// descendant's: the run waits for more headers. (Whether it verifies is
    /// [`Self::check`]'s to say.)
    pub fn completes(&self, run: &[Header], certificate: &FinalityCertificate) -> bool {
        match self.follow(run) {
            Ok(followed) => {
                certificate.height == followed.last.height
                    || (followed.ends_epoch() && certificate.height > followed.last.height)
            }
            Err(_) => true,
        }
    }

    /// Links `run` to the trusted header and follows the announcements in it: the epoch
    /// and set its blocks belong to, and what is scheduled after it.
    fn follow<'r>(&self, run: &'r [Header]) -> Result<Followed<'r>, LightClientError> {
        let (first, last) = match (run.first(), run.last()) {
            (Some(first), Some(last)) => (first, last),
            _ => return Err(LightClientError::EmptyRun),
        };
        let trusted = &self.state;
        if first.height <= trusted.height {
            return Err(LightClientError::Stale {
                height: first.height,
                trusted: trusted.height,
            });
        }
        if first.height == trusted.height.saturating_add(1)
            && first.parent_hash != trusted.block_hash
        {
            return Err(LightClientError::Fork {
                height: first.height,
                claimed: first.parent_hash,
                trusted_height: trusted.height,
                trusted: trusted.block_hash,
            });
        }
        for pair in run.windows(2) {
            if pair[1].height != pair[0].height.saturating_add(1)
                || pair[1].parent_hash != pair[0].hash()
            {
                return Err(LightClientError::NotLinked {
                    height: pair[1].height,
                });
            }
        }
        // The epoch the run starts in: the trusted one, or the next if a scheduled change
        // has taken effect by the run's first block.
        let (epoch, validators, mut scheduled) = trusted.epoch_at(first.height);
        // Follow announcements through the run, in order; no header may reach the
        // activation height of a change (that block is the next epoch's).
        let mut announced = None;
        for header in run {
            if let Some(change) = &scheduled {
                if header.height >= change.activates_at {
                    return Err(LightClientError::CrossesEpochBoundary {
                        first: first.height,
                        last: last.height,
                        activates_at: change.activates_at,
                    });
                }
            }
            if let Some(change) = &header.validator_set_change {
                if scheduled.is_some() {
                    return Err(LightClientError::BadAnnouncement {
                        height: header.height,
                        reason: "another change is still scheduled",
                    });
                }
                if change.activates_at < header.height.saturating_add(2) {
                    return Err(LightClientError::BadAnnouncement {
                        height: header.height,
                        reason: "it takes effect less than two blocks later",
                    });
                }
                if change.validators.is_empty() {
                    return Err(LightClientError::BadAnnouncement {
                        height: header.height,
                        reason: "the new set is empty",
                    });
                }
                scheduled = Some(change.clone());
                announced = Some(change.clone());
            }
        }
        Ok(Followed {
            last,
            epoch,
            validators,
            scheduled,
            announced,
        })
    }

    /// [`Self::check`], then trusts the run's last header: a change it announced is
    /// followed, and once the trusted height reaches the block before a change's activation
    /// height the client moves to the next epoch.
    pub fn advance(
        &mut self,
        run: &[Header],
        certificate: &FinalityCertificate,
    ) -> Result<Verified, LightClientError> {
        let verified = self.check(run, certificate)?;
        self.state = verified.trusted_after.clone();
        Ok(verified)
    }
}

#[cfg(test)]
mod tests;
