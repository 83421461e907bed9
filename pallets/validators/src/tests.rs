use super::*;
use std::collections::BTreeMap;
use wijk_primitives::{epoch_base_view, BlockRef, Hash, Keypair, Vote, VoteKind};

const GENESIS: Hash = Hash([7; 32]);

fn context(height: Height) -> BlockContext {
    BlockContext {
        height,
        timestamp_ms: 0,
        genesis_hash: GENESIS,
    }
}

fn keys() -> Vec<Keypair> {
    ["Alice", "Bob", "Charlie", "Dave"]
        .iter()
        .map(|n| Keypair::dev(n))
        .collect()
}

/// Committed state after genesis with the four dev validators and Alice as admin.
fn genesis_state() -> BTreeMap<Vec<u8>, Vec<u8>> {
    let empty = BTreeMap::new();
    let mut overlay = StateOverlay::new(&empty);
    let set: Vec<AccountId> = keys().iter().map(|k| k.account_id()).collect();
    genesis(&mut overlay, &set, keys()[0].account_id());
    overlay.commit_transaction();
    commit(&empty, overlay)
}

fn commit(
    before: &BTreeMap<Vec<u8>, Vec<u8>>,
    overlay: StateOverlay<'_>,
) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut after = before.clone();
    for (key, value) in overlay.into_changes() {
        match value {
            Some(value) => after.insert(key, value),
            None => after.remove(&key),
        };
    }
    after
}

fn notarize(key: &Keypair, view: View, byte: u8) -> SignedVote {
    Vote {
        view,
        kind: VoteKind::Notarize {
            block: BlockRef {
                hash: Hash([byte; 32]),
                height: 3,
                parent: Hash::ZERO,
            },
            parent_view: view - 1,
        },
    }
    .sign(key, GENESIS)
}

fn report(
    state: &BTreeMap<Vec<u8>, Vec<u8>>,
    first: SignedVote,
    second: SignedVote,
) -> (Result<Event, Error>, BTreeMap<Vec<u8>, Vec<u8>>) {
    let mut overlay = StateOverlay::new(state);
    let reporter = keys()[1].account_id();
    let result = dispatch(
        &mut overlay,
        &context(5),
        Origin::Signed(reporter),
        &Call::ReportEquivocation {
            first: Box::new(first),
            second: Box::new(second),
        },
    )
    .unwrap();
    overlay.commit_transaction();
    let after = commit(state, overlay);
    (result, after)
}

#[test]
fn equivocation_is_recorded_once_with_both_votes_and_listed() {
    let state = genesis_state();
    let dave = &keys()[3];
    let (first, second) = (notarize(dave, 9, 1), notarize(dave, 9, 2));
    let (result, state) = report(&state, first, second);
    assert_eq!(
        result,
        Ok(Event::EquivocationRecorded {
            offender: dave.account_id(),
            view: 9,
            reporter: keys()[1].account_id(),
        })
    );
    let (listed, count) = offences(&state, 0, 10).unwrap();
    assert_eq!(count, 1);
    assert_eq!(listed[0].first, first);
    assert_eq!(listed[0].second, second);
    assert_eq!(listed[0].recorded_at, 5);
    let (again, _) = report(&state, second, first);
    assert_eq!(
        again,
        Err(Error::AlreadyRecorded {
            offender: dave.account_id(),
            view: 9
        })
    );
}

#[test]
fn evidence_that_proves_nothing_is_refused() {
    let state = genesis_state();
    let [alice, bob, _, dave] = <[Keypair; 4]>::try_from(keys()).ok().unwrap();
    assert_eq!(
        report(&state, notarize(&dave, 9, 1), notarize(&dave, 10, 2)).0,
        Err(Error::NotConflicting {
            first_view: 9,
            second_view: 10
        })
    );
    assert_eq!(
        report(&state, notarize(&dave, 9, 1), notarize(&bob, 9, 2)).0,
        Err(Error::DifferentSigners)
    );
    let mut forged = notarize(&dave, 9, 2);
    forged.signature = notarize(&dave, 9, 3).signature;
    assert_eq!(
        report(&state, notarize(&dave, 9, 1), forged).0,
        Err(Error::BadSignature)
    );
    let outsider = Keypair::dev("Mallory");
    assert_eq!(
        report(&state, notarize(&outsider, 9, 1), notarize(&outsider, 9, 2)).0,
        Err(Error::NotAValidator {
            signer: outsider.account_id(),
            epoch: 0
        })
    );
    let next_epoch = epoch_base_view(1) + 1;
    assert_eq!(
        report(
            &state,
            notarize(&alice, next_epoch, 1),
            notarize(&alice, next_epoch, 2)
        )
        .0,
        Err(Error::NotAValidator {
            signer: alice.account_id(),
            epoch: 1
        })
    );
}

fn schedule(
    state: &BTreeMap<Vec<u8>, Vec<u8>>,
    signer: &Keypair,
    height: Height,
    validators: Vec<AccountId>,
    activates_at: Height,
) -> (Result<Event, Error>, BTreeMap<Vec<u8>, Vec<u8>>) {
    let mut overlay = StateOverlay::new(state);
    let result = dispatch(
        &mut overlay,
        &context(height),
        Origin::Signed(signer.account_id()),
        &Call::ScheduleChange {
            validators,
            activates_at,
        },
    )
    .unwrap();
    overlay.commit_transaction();
    (result, commit(state, overlay))
}

#[test]
fn only_the_admin_schedules_one_change_ahead_and_it_takes_effect_at_its_height() {
    let state = genesis_state();
    let keys = keys();
    let new_set: Vec<AccountId> = keys[..3].iter().map(|k| k.account_id()).collect();
    assert_eq!(
        schedule(&state, &keys[1], 4, new_set.clone(), 10).0,
        Err(Error::NotAdmin {
            admin: keys[0].account_id()
        })
    );
    assert_eq!(
        schedule(&state, &keys[0], 4, new_set.clone(), 5).0,
        Err(Error::TooSoon {
            earliest: 6,
            requested: 5
        })
    );
    assert_eq!(
        schedule(&state, &keys[0], 4, vec![], 10).0,
        Err(Error::BadSetSize { count: 0, max: 100 })
    );
    let twice = vec![keys[0].account_id(), keys[0].account_id()];
    assert!(matches!(
        schedule(&state, &keys[0], 4, twice, 10).0,
        Err(Error::DuplicateValidator { .. })
    ));

    let mut overlay = StateOverlay::new(&state);
    dispatch(
        &mut overlay,
        &context(4),
        Origin::Signed(keys[0].account_id()),
        &Call::ScheduleChange {
            validators: new_set.clone(),
            activates_at: 10,
        },
    )
    .unwrap()
    .unwrap();
    overlay.commit_transaction();
    let announced = scheduled_in_block(&overlay, &state).unwrap();
    assert_eq!(
        announced,
        Some(ValidatorSetChange {
            activates_at: 10,
            validators: new_set.clone()
        })
    );
    let scheduled = commit(&state, overlay);
    assert!(matches!(
        schedule(&scheduled, &keys[0], 5, new_set.clone(), 20).0,
        Err(Error::ChangeAlreadyPending { activates_at: 10 })
    ));

    let old_set: Vec<AccountId> = keys.iter().map(|k| k.account_id()).collect();
    assert_eq!(set_for_height(&scheduled, 9).unwrap(), (0, old_set));
    assert_eq!(
        set_for_height(&scheduled, 10).unwrap(),
        (1, new_set.clone())
    );
    assert!(ends_epoch(&scheduled, 9).unwrap());
    assert!(!ends_epoch(&scheduled, 8).unwrap());

    // A block before the activation height changes nothing; the one at it begins epoch 1.
    let mut overlay = StateOverlay::new(&scheduled);
    begin_block(&mut overlay, 9).unwrap();
    assert!(overlay.into_changes().is_empty());
    let mut overlay = StateOverlay::new(&scheduled);
    begin_block(&mut overlay, 10).unwrap();
    overlay.commit_transaction();
    assert_eq!(scheduled_in_block(&overlay, &scheduled).unwrap(), None);
    let enacted = commit(&scheduled, overlay);
    assert_eq!(current(&enacted).unwrap(), (1, new_set.clone()));
    assert_eq!(pending(&enacted).unwrap(), None);
    assert_eq!(set_for_height(&enacted, 11).unwrap(), (1, new_set));
}
