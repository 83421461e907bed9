//! The import pipeline: blocks are committed in order, a bad block stops it with every
//! earlier block durable, and a re-run skips what the node already has.

use super::*;
use crate::testing::{test_chain, test_chain_changing_set, TestChain};
use wijk_runtime::build_genesis;

fn fresh_storage(chain: &TestChain) -> (tempfile::TempDir, Storage) {
    let dir = tempfile::tempdir().unwrap();
    let storage = Storage::open(dir.path()).unwrap();
    storage
        .initialize(&build_genesis(&chain.config, &storage).unwrap())
        .unwrap();
    (dir, storage)
}

#[test]
fn a_bad_block_stops_the_pipeline_with_every_earlier_block_durable() {
    let chain = test_chain(6);
    let (_dir, storage) = fresh_storage(&chain);
    // Block 4 claims a wrong state root, with a certificate that does sign it.
    let mut stream = chain.blocks.clone();
    let (bad_block, bad_certificate) = &mut stream[3];
    bad_block.header.state_root = Hash([7; 32]);
    *bad_certificate = FinalityCertificate::sign_single(
        &chain.validator,
        chain.signing.genesis_hash,
        4,
        4,
        bad_block.header.hash(),
    );
    let mut announced = Vec::new();
    let error = import_blocks(&storage, stream.into_iter().map(Ok), &chain.signing, |b| {
        announced.push(b.header.height)
    })
    .unwrap_err();
    assert!(
        matches!(
            error,
            ImportError::Invalid {
                height: 4,
                source: BlockError::RootMismatch {
                    which: "state root",
                    ..
                }
            }
        ),
        "{error}"
    );
    assert_eq!(announced, vec![1, 2, 3]);
    assert_eq!(storage.finalized_height().unwrap(), Some(3));
    assert_eq!(
        storage.best_header().unwrap().map(|h| h.hash()),
        Some(chain.blocks[2].0.header.hash())
    );

    // The good stream again: 1-3 are skipped, 4-6 imported, same head as the builder's.
    let summary = import_blocks(
        &storage,
        chain.blocks.iter().cloned().map(Ok),
        &chain.signing,
        |_| {},
    )
    .unwrap();
    assert_eq!(
        summary,
        ImportSummary {
            blocks: 3,
            transactions: 9,
            skipped: 3
        }
    );
    assert_eq!(
        storage.best_header().unwrap().map(|h| h.hash()),
        Some(chain.blocks[5].0.header.hash())
    );
}

#[test]
fn a_block_differing_from_ours_at_a_known_height_is_a_conflict() {
    let chain = test_chain(3);
    let (_dir, storage) = fresh_storage(&chain);
    import_blocks(
        &storage,
        chain.blocks.iter().cloned().map(Ok),
        &chain.signing,
        |_| {},
    )
    .unwrap();
    let mut other = chain.blocks[1].clone();
    other.0.header.timestamp_ms += 1;
    let error =
        import_blocks(&storage, std::iter::once(Ok(other)), &chain.signing, |_| {}).unwrap_err();
    assert!(
        matches!(error, ImportError::Conflict { height: 2 }),
        "{error}"
    );
}

#[test]
fn a_bad_signature_is_refused_before_execution() {
    let chain = test_chain(2);
    let (_dir, storage) = fresh_storage(&chain);
    let mut stream = chain.blocks.clone();
    stream[1].0.transactions[0].signature.0[40] ^= 1;
    let error =
        import_blocks(&storage, stream.into_iter().map(Ok), &chain.signing, |_| {}).unwrap_err();
    assert!(
        matches!(
            error,
            ImportError::Invalid {
                height: 2,
                source: BlockError::InvalidTransaction { index: 0, .. }
            }
        ),
        "{error}"
    );
    assert_eq!(storage.finalized_height().unwrap(), Some(1));
}

/// Consensus may finalize a run of blocks with the certificate of the last; each block of
/// the run comes with that certificate, and nothing is written before it checks.
#[test]
fn blocks_final_through_a_descendant_are_written_only_with_it() {
    let chain = test_chain(6);
    let mut stream = chain.blocks.clone();
    let certificate_of_4 = stream[3].1.clone();
    stream[1].1 = certificate_of_4.clone();
    stream[2].1 = certificate_of_4.clone();

    // The stream stops before block 4: blocks 2 and 3 are not proven final.
    let (_dir, storage) = fresh_storage(&chain);
    let error = import_blocks(
        &storage,
        stream[..3].iter().cloned().map(Ok),
        &chain.signing,
        |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(error, ImportError::Unjustified { height: 2, .. }),
        "{error}"
    );
    assert_eq!(storage.finalized_height().unwrap(), Some(1));

    // Block 3 claims block 5's certificate while block 2 waits for block 4's.
    let mut mixed = stream.clone();
    mixed[2].1 = chain.blocks[4].1.clone();
    let error =
        import_blocks(&storage, mixed.into_iter().map(Ok), &chain.signing, |_| {}).unwrap_err();
    assert!(
        matches!(error, ImportError::Unjustified { height: 2, .. }),
        "{error}"
    );
    assert_eq!(storage.finalized_height().unwrap(), Some(1));

    // The whole run: written together, each block stored with its justification.
    let mut announced = Vec::new();
    let summary = import_blocks(&storage, stream.into_iter().map(Ok), &chain.signing, |b| {
        announced.push(b.header.height)
    })
    .unwrap();
    assert_eq!(summary.blocks, 5);
    assert_eq!(announced, vec![2, 3, 4, 5, 6]);
    assert_eq!(storage.certificate(2).unwrap(), Some(certificate_of_4));
    assert_eq!(
        storage.best_header().unwrap().map(|h| h.hash()),
        Some(chain.blocks[5].0.header.hash())
    );
}

#[test]
fn import_follows_a_validator_set_change_across_the_epoch_boundary() {
    let chain = test_chain_changing_set(6, 4);
    let (_dir, storage) = fresh_storage(&chain);
    let summary = import_blocks(
        &storage,
        chain.blocks.iter().cloned().map(Ok),
        &chain.signing,
        |_| {},
    )
    .unwrap();
    assert_eq!(summary.blocks, 6);
    let bob = wijk_primitives::Keypair::dev("Bob").account_id();
    assert_eq!(wijk_validators::current(&storage).unwrap(), (1, vec![bob]));
    // Block 3 is stored with the closing-block certificate that finalized it.
    let stored = storage.certificate(3).unwrap().unwrap();
    assert_eq!(stored.height, 5);

    // A block of the new epoch certified by the old validator is refused.
    let mut old_signer = chain.blocks.clone();
    old_signer[4].1 = FinalityCertificate::sign_single(
        &chain.validator,
        chain.signing.genesis_hash,
        5,
        5,
        old_signer[4].0.header.hash(),
    );
    let (_dir, storage) = fresh_storage(&chain);
    let error = import_blocks(
        &storage,
        old_signer.into_iter().map(Ok),
        &chain.signing,
        |_| {},
    )
    .unwrap_err();
    assert!(
        matches!(error, ImportError::Certificate { height: 5, .. }),
        "{error}"
    );
    assert_eq!(storage.finalized_height().unwrap(), Some(4));
}
