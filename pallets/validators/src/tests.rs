use super::*;
use wijk_primitives::{epoch_base_view, BlockRef, Hash, Keypair, Vote, VoteKind};
use wijk_support::testing::TestChain;
use wijk_support::{Interfaces, OpenMembership, Pallet as _};

const INTERFACES: Interfaces = Interfaces {
    currency: &wijk_coin::Pallet,
    membership: &OpenMembership,
    collectives: &wijk_system::SpecBoard,
    geography: &wijk_support::Borderless,
    enactment: &wijk_support::NoEnactment,
};

fn keys() -> Vec<Keypair> {
    ["Alice", "Bob", "Charlie", "Dave"]
        .iter()
        .map(|n| Keypair::dev(n))
        .collect()
}

/// A chain after genesis with the four dev validators and Alice on the board.
fn chain() -> TestChain {
    let mut chain = TestChain::new(INTERFACES);
    chain.genesis::<wijk_system::Pallet>(&wijk_system::Genesis {
        board: vec![keys()[0].account_id()],
        ..Default::default()
    });
    chain.genesis::<Pallet>(&Genesis {
        set: keys().iter().map(|k| k.account_id()).collect(),
        ..Default::default()
    });
    chain.block.height = 5;
    chain
}

fn notarize(chain: &TestChain, key: &Keypair, view: View, byte: u8) -> SignedVote {
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
    .sign(key, chain.block.genesis_hash)
}

fn report(
    chain: &mut TestChain,
    first: SignedVote,
    second: SignedVote,
) -> Result<Vec<Event>, Error> {
    let reporter = keys()[1].account_id();
    chain
        .dispatch::<Pallet>(
            Origin::Signed(reporter),
            &Call::ReportEquivocation {
                first: Box::new(first),
                second: Box::new(second),
            },
        )
        .map(|events| events.of::<Event>())
}

#[test]
fn equivocation_is_recorded_once_with_both_votes_and_listed() {
    let mut chain = chain();
    let dave = &keys()[3];
    let (first, second) = (notarize(&chain, dave, 9, 1), notarize(&chain, dave, 9, 2));
    assert_eq!(
        report(&mut chain, first, second),
        Ok(vec![Event::EquivocationRecorded {
            offender: dave.account_id(),
            view: 9,
            reporter: keys()[1].account_id(),
        }])
    );
    let (listed, count) = offences(chain.reader(), 0, 10).unwrap();
    assert_eq!(count, 1);
    assert_eq!(listed[0].first, first);
    assert_eq!(listed[0].second, second);
    assert_eq!(listed[0].recorded_at, 5);
    assert_eq!(
        report(&mut chain, second, first),
        Err(Error::AlreadyRecorded {
            offender: dave.account_id(),
            view: 9
        })
    );
}

#[test]
fn evidence_that_proves_nothing_is_refused() {
    let mut chain = chain();
    let [alice, bob, _, dave] = <[Keypair; 4]>::try_from(keys()).ok().unwrap();
    let (a, b) = (
        notarize(&chain, &dave, 9, 1),
        notarize(&chain, &dave, 10, 2),
    );
    assert_eq!(
        report(&mut chain, a, b),
        Err(Error::NotConflicting {
            first_view: 9,
            second_view: 10
        })
    );
    let (a, b) = (notarize(&chain, &dave, 9, 1), notarize(&chain, &bob, 9, 2));
    assert_eq!(report(&mut chain, a, b), Err(Error::DifferentSigners));
    let mut forged = notarize(&chain, &dave, 9, 2);
    forged.signature = notarize(&chain, &dave, 9, 3).signature;
    let a = notarize(&chain, &dave, 9, 1);
    assert_eq!(report(&mut chain, a, forged), Err(Error::BadSignature));
    let outsider = Keypair::dev("Mallory");
    let (a, b) = (
        notarize(&chain, &outsider, 9, 1),
        notarize(&chain, &outsider, 9, 2),
    );
    assert_eq!(
        report(&mut chain, a, b),
        Err(Error::NotAValidator {
            signer: outsider.account_id(),
            epoch: 0
        })
    );
    let next_epoch = epoch_base_view(1) + 1;
    let (a, b) = (
        notarize(&chain, &alice, next_epoch, 1),
        notarize(&chain, &alice, next_epoch, 2),
    );
    assert_eq!(
        report(&mut chain, a, b),
        Err(Error::NotAValidator {
            signer: alice.account_id(),
            epoch: 1
        })
    );
}

fn schedule(
    chain: &mut TestChain,
    origin: Origin,
    validators: Vec<AccountId>,
    activates_at: Height,
) -> Result<Vec<Event>, Error> {
    chain
        .dispatch::<Pallet>(
            origin,
            &Call::ScheduleChange {
                validators,
                activates_at,
            },
        )
        .map(|events| events.of::<Event>())
}

#[test]
fn the_members_or_the_board_schedule_one_change_ahead_and_it_takes_effect_at_its_height() {
    let mut chain = chain();
    chain.block.height = 4;
    let keys = keys();
    let signed = |n: usize| Origin::Signed(keys[n].account_id());
    let new_set: Vec<AccountId> = keys[..3].iter().map(|k| k.account_id()).collect();
    assert!(matches!(
        schedule(&mut chain, signed(1), new_set.clone(), 10),
        Err(Error::BadOrigin(BadOrigin {
            required: wijk_support::Requirement::DecidedBy(Collective::Members),
            ..
        }))
    ));
    assert_eq!(
        schedule(&mut chain, signed(0), new_set.clone(), 5),
        Err(Error::TooSoon {
            earliest: 6,
            requested: 5
        })
    );
    assert_eq!(
        schedule(&mut chain, signed(0), vec![], 10),
        Err(Error::BadSetSize { count: 0, max: 100 })
    );
    let twice = vec![keys[0].account_id(), keys[0].account_id()];
    assert!(matches!(
        schedule(&mut chain, signed(0), twice, 10),
        Err(Error::DuplicateValidator { .. })
    ));

    let before = chain.state.clone();
    // A decision of the members outranks the board's: it may schedule too.
    assert!(schedule(
        &mut chain.clone(),
        Origin::Collective(Collective::Members),
        new_set.clone(),
        10
    )
    .is_ok());
    schedule(&mut chain, signed(0), new_set.clone(), 10).unwrap();
    assert_eq!(
        scheduled_in_block(chain.reader(), &before).unwrap(),
        Some(ValidatorSetChange {
            activates_at: 10,
            validators: new_set.clone()
        })
    );
    chain.block.height = 5;
    assert!(matches!(
        schedule(&mut chain, signed(0), new_set.clone(), 20),
        Err(Error::ChangeAlreadyPending { activates_at: 10 })
    ));

    let old_set: Vec<AccountId> = keys.iter().map(|k| k.account_id()).collect();
    assert_eq!(set_for_height(chain.reader(), 9).unwrap(), (0, old_set));
    assert_eq!(
        set_for_height(chain.reader(), 10).unwrap(),
        (1, new_set.clone())
    );
    assert!(ends_epoch(chain.reader(), 9).unwrap());
    assert!(!ends_epoch(chain.reader(), 8).unwrap());

    // A block before the activation height changes nothing; the one at it begins epoch 1.
    let scheduled = chain.state.clone();
    chain.begin_block::<Pallet>(9);
    assert_eq!(chain.state, scheduled);
    chain.begin_block::<Pallet>(10);
    assert_eq!(
        scheduled_in_block(chain.reader(), &scheduled).unwrap(),
        None
    );
    assert_eq!(current(chain.reader()).unwrap(), (1, new_set.clone()));
    assert_eq!(pending(chain.reader()).unwrap(), None);
    assert_eq!(
        set_for_height(chain.reader(), 11).unwrap(),
        (1, new_set.clone())
    );
    assert_eq!(
        epochs(chain.reader(), 0, 10).unwrap(),
        vec![
            (
                0,
                EpochInfo {
                    validators: keys.iter().map(|k| k.account_id()).collect(),
                    starts_at: 1,
                    announced_at: None
                }
            ),
            (
                1,
                EpochInfo {
                    validators: new_set,
                    starts_at: 10,
                    announced_at: Some(4)
                }
            )
        ]
    );
}

#[test]
fn the_board_alone_changes_the_set_only_within_its_limit() {
    let mut chain = chain();
    let keys = keys();
    let board = Origin::Signed(keys[0].account_id());
    let stranger = |n: u8| AccountId([n; 32]);
    let mut replaced: Vec<AccountId> = keys.iter().map(|k| k.account_id()).collect();
    replaced[3] = stranger(50);
    replaced[2] = stranger(51);
    // Two swapped out for two newcomers is four changes: the members' decision.
    assert_eq!(
        chain
            .dispatch::<Pallet>(
                board,
                &Call::ChangeSet {
                    validators: replaced.clone()
                }
            )
            .err(),
        Some(Error::BeyondBoardLimit {
            changed: 4,
            limit: 2
        })
    );
    let events = chain
        .dispatch::<Pallet>(
            Origin::Collective(Collective::Members),
            &Call::ChangeSet {
                validators: replaced.clone(),
            },
        )
        .unwrap()
        .of::<Event>();
    // From the soonest height a change may take effect.
    assert_eq!(
        events,
        vec![Event::ChangeScheduled {
            activates_at: 5 + MIN_CHANGE_DELAY,
            validators: replaced
        }]
    );
    // One swapped for one is within the board's limit.
    let mut chain = self::chain();
    let mut swapped: Vec<AccountId> = keys.iter().map(|k| k.account_id()).collect();
    swapped[3] = stranger(50);
    assert!(chain
        .dispatch::<Pallet>(
            board,
            &Call::ChangeSet {
                validators: swapped
            }
        )
        .is_ok());
}

#[test]
fn a_genesis_without_validators_is_refused() {
    let empty = std::collections::BTreeMap::new();
    let mut state = StateOverlay::new(&empty);
    assert_eq!(
        Pallet::build_genesis(
            &mut state,
            &Genesis {
                set: vec![],
                ..Default::default()
            }
        ),
        Ok(Err(Error::BadSetSize { count: 0, max: 100 }))
    );
}
