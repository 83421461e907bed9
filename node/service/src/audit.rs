//! Checking a chain's finality with nothing but its chain spec: every block's certificate
//! against the validator set, every parent link back to the genesis the spec defines, and
//! every body against its certified header. No state, no re-execution (`import-blocks`
//! does that): this is what an auditor runs on a block file from a cooperative.

use wijk_light_client::{LightClient, LightClientError, TrustedState, Unproven};
use wijk_primitives::{AccountId, FinalityCertificate, Hash, Header};
use wijk_runtime::{execute::transactions_root, Block};

/// Why a chain failed the audit.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// Reading the blocks failed.
    #[error(transparent)]
    Source(#[from] crate::ImportError),
    /// A height is missing or repeated.
    #[error("expected block {expected}, found block {found}")]
    Gap {
        /// The next height.
        expected: u64,
        /// What came.
        found: u64,
    },
    /// A block does not name the block before it as its parent.
    #[error("block {height} names parent {claimed}, but block {} is {actual}", height - 1)]
    BrokenLink {
        /// The block's height.
        height: u64,
        /// Its parent hash.
        claimed: Hash,
        /// The hash of the block before it.
        actual: Hash,
    },
    /// A certificate does not finalize its block (or the run of blocks it ends).
    #[error("block {height}: {source}")]
    Certificate {
        /// The block's height.
        height: u64,
        /// Why.
        source: LightClientError,
    },
    /// A block is final only through a later block's certificate, and the blocks up to that
    /// one do not come with that same certificate (or end before it).
    #[error("block {height} is not proven final: {why}")]
    Unjustified {
        /// The block's height.
        height: u64,
        /// Why.
        why: Unproven,
    },
    /// A block's transactions are not the ones its certified header commits to.
    #[error("block {height}: its transactions do not match the certified header")]
    BodyMismatch {
        /// The block's height.
        height: u64,
    },
}

/// What an audit covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditSummary {
    /// Blocks checked.
    pub blocks: u64,
    /// The last block checked.
    pub head: Hash,
    /// Its height.
    pub head_height: u64,
}

/// Checks `blocks` (from height 1, in order) against `genesis` and `validators`, both
/// derived from the chain spec. `on_checked` is called after each block.
///
/// A block may come with the certificate of a later block (consensus finalized it as that
/// block's ancestor): it is proven final when that block arrives with the same
/// certificate and the parent links between them hold. A chain that ends before it fails.
///
/// Validator-set changes are followed from the certified headers alone, by the one light
/// client ([`wijk_light_client`]): a header that announces a change switches the set at the
/// announced height, and the last block before it may be final through a closing block of
/// the old set.
pub fn verify_certificates(
    genesis: &Header,
    validators: &[AccountId],
    blocks: impl Iterator<Item = Result<(Block, FinalityCertificate), crate::ImportError>>,
    mut on_checked: impl FnMut(&Header),
) -> Result<AuditSummary, AuditError> {
    let mut client = LightClient::new(TrustedState::from_genesis(genesis, validators.to_vec()));
    let mut previous = genesis.clone();
    let mut checked = 0u64;
    // Blocks final only through a later block's certificate, and that certificate.
    let mut run: Vec<Header> = Vec::new();
    let mut run_certificate: Option<FinalityCertificate> = None;
    for item in blocks {
        let (block, certificate) = item?;
        let header = block.header.clone();
        let height = header.height;
        if height != previous.height + 1 {
            return Err(AuditError::Gap {
                expected: previous.height + 1,
                found: height,
            });
        }
        if header.parent_hash != previous.hash() {
            return Err(AuditError::BrokenLink {
                height,
                claimed: header.parent_hash,
                actual: previous.hash(),
            });
        }
        if let Some(waiting_for) = &run_certificate {
            if *waiting_for != certificate {
                return Err(AuditError::Unjustified {
                    height: run.first().map_or(height, |h| h.height),
                    why: Unproven::CertificateChanged {
                        certified: waiting_for.height,
                    },
                });
            }
        }
        let hashes: Vec<Hash> = block.transactions.iter().map(|tx| tx.hash()).collect();
        if transactions_root(&hashes) != header.transactions_root {
            return Err(AuditError::BodyMismatch { height });
        }
        if certificate.height < height {
            return Err(AuditError::Unjustified {
                height,
                why: Unproven::EarlierCertificate {
                    certified: certificate.height,
                },
            });
        }
        run.push(header.clone());
        if client.completes(&run, &certificate) {
            client
                .advance(&run, &certificate)
                .map_err(|source| AuditError::Certificate { height, source })?;
            for done in run.drain(..) {
                on_checked(&done);
                checked += 1;
            }
            run_certificate = None;
        } else {
            run_certificate.get_or_insert(certificate);
        }
        previous = header;
    }
    if let (Some(first), Some(waiting_for)) = (run.first(), run_certificate) {
        return Err(AuditError::Unjustified {
            height: first.height,
            why: Unproven::CertifiedBlockMissing {
                certified: waiting_for.height,
            },
        });
    }
    Ok(AuditSummary {
        blocks: checked,
        head: previous.hash(),
        head_height: previous.height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::test_chain;
    use wijk_runtime::state_tree::MemoryTree;

    fn audit(
        chain: &crate::testing::TestChain,
        blocks: Vec<(Block, FinalityCertificate)>,
    ) -> Result<AuditSummary, AuditError> {
        let genesis = wijk_runtime::build_genesis(&chain.config, &MemoryTree::default()).unwrap();
        verify_certificates(
            &genesis.header,
            &chain.config.validators.set,
            blocks.into_iter().map(Ok),
            |_| {},
        )
    }

    #[test]
    fn a_good_chain_passes_and_each_forgery_is_named() {
        let chain = test_chain(4);
        let summary = audit(&chain, chain.blocks.clone()).unwrap();
        assert_eq!(summary.blocks, 4);
        assert_eq!(summary.head, chain.blocks[3].0.header.hash());

        // A certificate signed by someone outside the validator set.
        let mut forged = chain.blocks.clone();
        let block_hash = forged[2].0.header.hash();
        forged[2].1 = FinalityCertificate::sign_single(
            &wijk_primitives::Keypair::dev("Mallory"),
            chain.signing.genesis_hash,
            3,
            3,
            block_hash,
        );
        assert!(matches!(
            audit(&chain, forged),
            Err(AuditError::Certificate {
                height: 3,
                source: LightClientError::Quorum(
                    wijk_light_client::QuorumError::UnknownSigner { .. }
                )
            })
        ));

        // A transaction dropped from a certified block.
        let mut stripped = chain.blocks.clone();
        stripped[1].0.transactions.pop();
        assert!(matches!(
            audit(&chain, stripped),
            Err(AuditError::BodyMismatch { height: 2 })
        ));

        // A block left out.
        let mut gapped = chain.blocks.clone();
        gapped.remove(1);
        assert!(matches!(
            audit(&chain, gapped),
            Err(AuditError::Gap {
                expected: 2,
                found: 3
            })
        ));
    }

    #[test]
    fn the_set_changes_at_the_announced_height_and_the_old_epoch_ends_through_a_closing_block() {
        let chain = crate::testing::test_chain_changing_set(6, 4);
        assert!(chain.blocks[0].0.header.validator_set_change.is_some());
        assert_eq!(audit(&chain, chain.blocks.clone()).unwrap().blocks, 6);

        // The old validator may not certify a block of the new epoch, in its own epoch's
        // views or in the new one's...
        for view in [5, wijk_primitives::epoch_base_view(1) + 5] {
            let mut old_signer = chain.blocks.clone();
            old_signer[4].1 = FinalityCertificate::sign_single(
                &chain.validator,
                chain.signing.genesis_hash,
                5,
                view,
                old_signer[4].0.header.hash(),
            );
            assert!(matches!(
                audit(&chain, old_signer),
                Err(AuditError::Certificate {
                    height: 5,
                    source: LightClientError::WrongEpoch { .. } | LightClientError::Quorum(_)
                })
            ));
        }
        // ...a closing block certifies only the last block of an epoch...
        let mut closing_elsewhere = chain.blocks.clone();
        closing_elsewhere[1].1 = FinalityCertificate::sign_single(
            &chain.validator,
            chain.signing.genesis_hash,
            4,
            2,
            wijk_primitives::closing_block_hash(closing_elsewhere[1].0.header.hash(), 4),
        );
        assert!(audit(&chain, closing_elsewhere).is_err());
        // ...and a header that hides the announcement leaves the old set in charge, so the
        // new set's certificates fail (and the block's hash no longer matches its own).
        let mut hidden = chain.blocks.clone();
        hidden[0].0.header.validator_set_change = None;
        assert!(audit(&chain, hidden).is_err());
    }

    #[test]
    fn ancestors_are_final_through_a_descendant_certificate() {
        let chain = test_chain(5);
        let mut run = chain.blocks.clone();
        run[1].1 = run[3].1.clone();
        run[2].1 = run[3].1.clone();
        assert_eq!(audit(&chain, run.clone()).unwrap().blocks, 5);
        // The certifying block is cut off.
        assert!(matches!(
            audit(&chain, run[..3].to_vec()),
            Err(AuditError::Unjustified { height: 2, .. })
        ));
        // A block claims a later certificate that its successors do not carry.
        let mut lying = chain.blocks.clone();
        lying[1].1 = chain.blocks[3].1.clone();
        assert!(matches!(
            audit(&chain, lying),
            Err(AuditError::Unjustified { height: 2, .. })
        ));
        // A certificate for an earlier block is no justification.
        let mut stale = chain.blocks.clone();
        stale[2].1 = chain.blocks[1].1.clone();
        assert!(matches!(
            audit(&chain, stale),
            Err(AuditError::Unjustified { height: 3, .. })
        ));
    }

    #[test]
    fn a_chain_of_another_genesis_breaks_at_block_one() {
        let chain = test_chain(2);
        let mut other = chain.config.clone();
        other.system.timestamp_ms += 1;
        let genesis = wijk_runtime::build_genesis(&other, &MemoryTree::default()).unwrap();
        let result = verify_certificates(
            &genesis.header,
            &chain.config.validators.set,
            chain.blocks.clone().into_iter().map(Ok),
            |_| {},
        );
        assert!(matches!(
            result,
            Err(AuditError::BrokenLink { height: 1, .. })
        ));
    }
}
