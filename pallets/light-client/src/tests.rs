use super::*;
use wijk_primitives::{epoch_base_view, Keypair};

const GENESIS_TIME: u64 = 0;

fn keys(names: &[&str]) -> Vec<Keypair> {
    names.iter().map(|name| Keypair::dev(name)).collect()
}

fn accounts(keys: &[Keypair]) -> Vec<AccountId> {
    keys.iter().map(Keypair::account_id).collect()
}

fn genesis() -> Header {
    Header {
        parent_hash: Hash::ZERO,
        height: 0,
        timestamp_ms: GENESIS_TIME,
        state_root: Hash([1; 32]),
        transactions_root: Hash::ZERO,
        receipts_root: Hash::ZERO,
        proposer: AccountId::default(),
        validator_set_change: None,
    }
}

/// A chain of headers after genesis: `announce` puts a change into the header at its
/// height.
fn chain(length: u64, announce: Option<(Height, ValidatorSetChange)>) -> Vec<Header> {
    let mut headers = vec![genesis()];
    for height in 1..=length {
        let parent = headers.last().map(Header::hash).unwrap_or_default();
        headers.push(Header {
            parent_hash: parent,
            height,
            timestamp_ms: height * 1_000,
            state_root: Hash([height as u8; 32]),
            transactions_root: Hash::ZERO,
            receipts_root: Hash::ZERO,
            proposer: AccountId::default(),
            validator_set_change: announce
                .as_ref()
                .filter(|(at, _)| *at == height)
                .map(|(_, change)| change.clone()),
        });
    }
    headers
}

fn certify(
    signers: &[Keypair],
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
        signatures: signers
            .iter()
            .map(|key| (key.account_id(), key.sign(&vote.signing_bytes())))
            .collect(),
    }
}

fn client(validators: &[Keypair]) -> LightClient {
    LightClient::new(TrustedState::from_genesis(&genesis(), accounts(validators)))
}

#[test]
fn a_quorum_is_distinct_known_signers_with_good_signatures() {
    let set = keys(&["A", "B", "C", "D"]);
    let message = b"finalize this";
    let sign = |key: &Keypair| (key.account_id(), key.sign(message));
    let validators = accounts(&set);
    assert_eq!(
        verify_quorum(
            message,
            &[sign(&set[0]), sign(&set[1]), sign(&set[2])],
            &validators
        ),
        Ok(3)
    );
    // A signer twice is refused, not counted once: the certificate is malformed.
    assert_eq!(
        verify_quorum(
            message,
            &[sign(&set[0]), sign(&set[1]), sign(&set[1]), sign(&set[2])],
            &validators
        ),
        Err(QuorumError::DuplicateSigner {
            signer: set[1].account_id()
        })
    );
    assert_eq!(
        verify_quorum(message, &[sign(&set[0]), sign(&set[1])], &validators),
        Err(QuorumError::NoQuorum {
            signers: 2,
            validators: 4,
            quorum: 3
        })
    );
    let outsider = Keypair::dev("Mallory");
    assert_eq!(
        verify_quorum(
            message,
            &[sign(&set[0]), sign(&set[1]), sign(&outsider)],
            &validators
        ),
        Err(QuorumError::UnknownSigner {
            signer: outsider.account_id()
        })
    );
    let mut forged = sign(&set[2]);
    forged.1 = set[2].sign(b"something else");
    assert_eq!(
        verify_quorum(
            message,
            &[sign(&set[0]), sign(&set[1]), forged],
            &validators
        ),
        Err(QuorumError::BadSignature {
            signer: set[2].account_id()
        })
    );
}

#[test]
fn a_run_is_final_through_the_certificate_of_its_last_header() {
    let set = keys(&["A", "B", "C", "D"]);
    let headers = chain(5, None);
    let genesis_hash = headers[0].hash();
    let mut client = client(&set);
    let certificate = certify(&set[..3], genesis_hash, 3, 7, headers[3].hash());
    let verified = client.advance(&headers[1..=3], &certificate).unwrap();
    assert_eq!((verified.height, verified.signers), (3, 3));
    assert_eq!(client.state().block_hash, headers[3].hash());
    // The same run again is stale; a run that skips ahead (within the epoch) is fine.
    assert!(matches!(
        client.check(&headers[1..=3], &certificate),
        Err(LightClientError::Stale { .. })
    ));
    let at_five = certify(&set[1..], genesis_hash, 5, 9, headers[5].hash());
    assert!(client.check(&headers[5..=5], &at_five).is_ok());
    // A certificate for another block, or of another chain, is refused.
    let other = certify(&set[..3], genesis_hash, 5, 9, Hash([9; 32]));
    assert!(matches!(
        client.check(&headers[5..=5], &other),
        Err(LightClientError::WrongBlock { .. })
    ));
    let foreign = certify(&set[..3], Hash([9; 32]), 5, 9, headers[5].hash());
    assert!(matches!(
        client.check(&headers[5..=5], &foreign),
        Err(LightClientError::Quorum(QuorumError::BadSignature { .. }))
    ));
    // Headers that do not link, or a first header that forks from the trusted one.
    let mut unlinked = headers[4..=5].to_vec();
    unlinked[1].parent_hash = Hash([3; 32]);
    assert!(matches!(
        client.check(&unlinked, &at_five),
        Err(LightClientError::NotLinked { height: 5 })
    ));
    let mut fork = headers[4].clone();
    fork.parent_hash = Hash([2; 32]);
    let fork_certificate = certify(&set[..3], genesis_hash, 4, 8, fork.hash());
    assert!(matches!(
        client.check(&[fork], &fork_certificate),
        Err(LightClientError::Fork { height: 4, .. })
    ));
    assert_eq!(client.check(&[], &at_five), Err(LightClientError::EmptyRun));
}

#[test]
fn a_validator_set_change_is_followed_epoch_by_epoch() {
    let old = keys(&["A", "B", "C", "D"]);
    let new = keys(&["E", "F", "G"]);
    let change = ValidatorSetChange {
        activates_at: 6,
        validators: accounts(&new),
    };
    let headers = chain(8, Some((3, change.clone())));
    let genesis_hash = headers[0].hash();
    let next_epoch = epoch_base_view(1);
    let mut client = client(&old);

    // Before the announcement is verified, a certificate of the new epoch is refused: a
    // client never skips an epoch.
    let early = certify(&new, genesis_hash, 7, next_epoch + 2, headers[7].hash());
    assert!(matches!(
        client.check(&headers[7..=7], &early),
        Err(LightClientError::WrongEpoch {
            certificate_epoch: 1,
            expected_epoch: 0
        })
    ));
    // ... and the old set signing there gets nowhere either: past the activation height
    // (once the announcement is known) the new set signs.
    let announcing = certify(&old[..3], genesis_hash, 3, 5, headers[3].hash());
    let verified = client.advance(&headers[1..=3], &announcing).unwrap();
    assert_eq!(verified.announced, Some(change.clone()));
    let by_old_set = certify(&old, genesis_hash, 7, 9, headers[7].hash());
    assert!(matches!(
        client.check(&headers[7..=7], &by_old_set),
        Err(LightClientError::WrongEpoch { .. })
    ));
    // A run may not span the activation height.
    let spanning = certify(&new, genesis_hash, 6, next_epoch + 1, headers[6].hash());
    assert!(matches!(
        client.check(&headers[4..=6], &spanning),
        Err(LightClientError::CrossesEpochBoundary {
            activates_at: 6,
            ..
        })
    ));
    // The old epoch's last block, final through a closing block of the old set ...
    let closing = closing_block_hash(headers[5].hash(), 7);
    let through_closing = certify(&old[1..], genesis_hash, 7, 12, closing);
    assert!(client.check(&headers[4..=5], &through_closing).is_ok());
    // ... but a closing certificate for a block that does not end an epoch is refused.
    let not_last = certify(
        &old[1..],
        genesis_hash,
        7,
        12,
        closing_block_hash(headers[4].hash(), 7),
    );
    assert!(matches!(
        client.check(&headers[4..=4], &not_last),
        Err(LightClientError::WrongBlock { .. })
    ));
    client.advance(&headers[4..=5], &through_closing).unwrap();
    assert_eq!(client.state().epoch, 1);
    assert_eq!(client.state().validators, accounts(&new));
    // The new set certifies the new epoch; the old one no longer does.
    let by_new_set = certify(
        &new[..3],
        genesis_hash,
        7,
        next_epoch + 2,
        headers[7].hash(),
    );
    assert!(client.check(&headers[6..=7], &by_new_set).is_ok());
    let old_in_new_epoch = certify(&old, genesis_hash, 7, next_epoch + 2, headers[7].hash());
    assert!(matches!(
        client.check(&headers[6..=7], &old_in_new_epoch),
        Err(LightClientError::Quorum(QuorumError::UnknownSigner { .. }))
    ));
}

#[test]
fn a_forged_chain_of_another_set_is_refused_however_consistent() {
    let real = keys(&["A"]);
    let forger = keys(&["Mallory"]);
    let headers = chain(4, None);
    // The forger signs the chain's own genesis hash and valid-looking certificates.
    let forged = certify(&forger, headers[0].hash(), 4, 4, headers[4].hash());
    assert!(matches!(
        client(&real).check(&headers[1..=4], &forged),
        Err(LightClientError::Quorum(QuorumError::UnknownSigner { .. }))
    ));
    // Announcing a change to itself in a header it certifies gets it nowhere either.
    let takeover = ValidatorSetChange {
        activates_at: 3,
        validators: accounts(&forger),
    };
    let headers = chain(4, Some((1, takeover)));
    let announcing = certify(&forger, headers[0].hash(), 1, 1, headers[1].hash());
    assert!(matches!(
        client(&real).advance(&headers[1..=1], &announcing),
        Err(LightClientError::Quorum(QuorumError::UnknownSigner { .. }))
    ));
}

#[test]
fn announcements_the_chain_forbids_are_refused() {
    let set = keys(&["A"]);
    let soon = ValidatorSetChange {
        activates_at: 3,
        validators: accounts(&set),
    };
    let headers = chain(3, Some((2, soon)));
    let certificate = certify(&set, headers[0].hash(), 2, 2, headers[2].hash());
    assert!(matches!(
        client(&set).check(&headers[1..=2], &certificate),
        Err(LightClientError::BadAnnouncement { height: 2, .. })
    ));
}
