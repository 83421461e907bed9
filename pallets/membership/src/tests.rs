use super::*;
use wijk_primitives::GeoPoint;
use wijk_support::testing::TestChain;
use wijk_support::{Borderless, Interfaces, Pallet as _};

const INTERFACES: Interfaces = Interfaces {
    currency: &wijk_coin::Pallet,
    membership: &Pallet,
    collectives: &wijk_system::SpecBoard,
    geography: &Borderless,
    enactment: &wijk_support::NoEnactment,
};

fn account(n: u8) -> AccountId {
    AccountId([n; 32])
}

const BOARD: u8 = 1;
const HELPER: u8 = 2; // an intermediary
const OTHER_HELPER: u8 = 3; // another intermediary
const ANNA: u8 = 10; // a resident
const SHOP: u8 = 11; // a merchant

fn roles(list: &[Role]) -> RoleSet {
    RoleSet::of(list)
}

fn tag(identity: &str) -> Hash {
    registration_tag(b"cooperative secret", identity)
}

fn shop_place() -> Place {
    Place {
        location: GeoPoint {
            lat: 51_063_000,
            lon: 3_714_000,
        },
        category: "food".into(),
    }
}

fn chain() -> TestChain {
    let mut chain = TestChain::new(INTERFACES);
    chain.genesis::<wijk_system::Pallet>(&wijk_system::Genesis {
        board: vec![account(BOARD)],
        ..Default::default()
    });
    chain.genesis::<wijk_coin::Pallet>(&wijk_coin::Genesis {
        balances: vec![wijk_coin::GenesisBalance(account(ANNA), 5_000)],
        ..Default::default()
    });
    chain.genesis::<Pallet>(&Genesis {
        rekey_delay_blocks: 10,
        guardian_day_blocks: 100,
        members: vec![
            GenesisMember {
                account: account(BOARD),
                roles: roles(&[Role::Board, Role::Resident]),
                tag: Some(tag("board member")),
                place: None,
            },
            GenesisMember {
                account: account(HELPER),
                roles: roles(&[Role::Intermediary]),
                tag: None,
                place: None,
            },
            GenesisMember {
                account: account(OTHER_HELPER),
                roles: roles(&[Role::Intermediary]),
                tag: None,
                place: None,
            },
            GenesisMember {
                account: account(ANNA),
                roles: roles(&[Role::Resident]),
                tag: Some(tag("85.07.30-033.28")),
                place: None,
            },
        ],
        ..Genesis::default()
    });
    chain
}

fn run(chain: &mut TestChain, who: u8, call: Call) -> Result<Vec<Event>, Error> {
    chain
        .dispatch::<Pallet>(Origin::Signed(account(who)), &call)
        .map(|events| events.of::<Event>())
}

fn register(who: u8, list: &[Role], identity: &str, place: Option<Place>) -> Call {
    Call::Register {
        who: account(who),
        roles: roles(list),
        tag: tag(identity),
        place,
    }
}

fn signer_check(chain: &TestChain, who: u8) -> Result<(), MembershipError> {
    Pallet.check_signer(chain.reader(), &account(who)).unwrap()
}

#[test]
fn tags_ignore_spelling_and_need_the_secret() {
    assert_eq!(tag("85.07.30-033.28"), tag("85073003328"));
    assert_eq!(tag("Jan  Peeters"), tag("jan peeters"));
    assert_ne!(tag("85073003328"), tag("85073003329"));
    assert_ne!(
        registration_tag(b"cooperative secret", "85073003328"),
        registration_tag(b"another secret", "85073003328"),
        "without the secret, the tag of a guessed identity cannot be computed"
    );
}

#[test]
fn genesis_members_may_sign_and_strangers_may_not() {
    let chain = chain();
    assert_eq!(signer_check(&chain, ANNA), Ok(()));
    assert_eq!(
        signer_check(&chain, 99),
        Err(MembershipError::NotMember {
            account: account(99)
        })
    );
    assert!(Pallet
        .has_role(chain.reader(), &account(HELPER), Role::Intermediary)
        .unwrap());
    assert!(!Pallet
        .has_role(chain.reader(), &account(ANNA), Role::Intermediary)
        .unwrap());
}

#[test]
fn an_open_chain_lets_anyone_sign() {
    let mut chain = TestChain::new(INTERFACES);
    chain.genesis::<Pallet>(&Genesis {
        open_accounts: true,
        ..Genesis::default()
    });
    assert_eq!(signer_check(&chain, 99), Ok(()));
}

#[test]
fn an_intermediary_registers_a_resident_once_whoever_tries_again() {
    let mut chain = chain();
    let events = run(
        &mut chain,
        HELPER,
        register(20, &[Role::Resident], "Piet 1990", None),
    )
    .unwrap();
    assert_eq!(
        events,
        vec![Event::Registered {
            who: account(20),
            roles: roles(&[Role::Resident]),
            by: Some(account(HELPER)),
        }]
    );
    assert_eq!(signer_check(&chain, 20), Ok(()));
    let record = member(chain.reader(), &account(20)).unwrap().unwrap();
    assert_eq!(record.registered_by, Some(account(HELPER)));
    assert_eq!(record.since, 1);

    // The same person under another key, by another intermediary: refused.
    assert_eq!(
        run(
            &mut chain,
            OTHER_HELPER,
            register(21, &[Role::Resident], "piet  1990", None)
        ),
        Err(Error::TagInUse {
            tag: tag("Piet 1990"),
            member: account(20)
        })
    );
    // The same key again.
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            register(20, &[Role::Resident], "someone else", None)
        ),
        Err(Error::AlreadyMember { who: account(20) })
    );
}

#[test]
fn only_intermediaries_and_the_board_register_and_powers_need_the_board() {
    let mut chain = chain();
    assert_eq!(
        run(&mut chain, ANNA, register(20, &[Role::Resident], "x", None)),
        Err(Error::NotRegistrar {
            caller: Origin::Signed(account(ANNA))
        })
    );
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            register(20, &[Role::Resident, Role::ExchangeOffice], "x", None)
        ),
        Err(Error::RoleNeedsBoard {
            role: Role::ExchangeOffice
        })
    );
    assert_eq!(
        run(&mut chain, HELPER, register(20, &[], "x", None)),
        Err(Error::NoRoles)
    );
    run(
        &mut chain,
        BOARD,
        register(20, &[Role::ExchangeOffice], "office", None),
    )
    .unwrap();
    assert!(Pallet
        .has_role(chain.reader(), &account(20), Role::ExchangeOffice)
        .unwrap());
    // A collective decision counts as the board's.
    chain
        .dispatch::<Pallet>(
            Origin::Collective(Collective::Members),
            &register(21, &[Role::Auditor], "auditor", None),
        )
        .unwrap();
}

#[test]
fn a_merchant_is_registered_with_a_well_formed_place() {
    let mut chain = chain();
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            register(SHOP, &[Role::Merchant], "shop", None)
        ),
        Err(Error::MerchantNeedsPlace)
    );
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            register(SHOP, &[Role::Resident], "shop", Some(shop_place()))
        ),
        Err(Error::PlaceNeedsMerchant)
    );
    let mut bad = shop_place();
    bad.category = "Food & Drink".into();
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            register(SHOP, &[Role::Merchant], "shop", Some(bad))
        ),
        Err(Error::BadCategory {
            category: "Food & Drink".into()
        })
    );
    let mut off = shop_place();
    off.location = GeoPoint {
        lat: 95_000_000,
        lon: 0,
    };
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            register(SHOP, &[Role::Merchant], "shop", Some(off))
        ),
        Err(Error::BadLocation)
    );
    run(
        &mut chain,
        HELPER,
        register(SHOP, &[Role::Merchant], "shop", Some(shop_place())),
    )
    .unwrap();
    assert_eq!(
        Pallet.place(chain.reader(), &account(SHOP)).unwrap(),
        Some(shop_place())
    );
    assert_eq!(Pallet.place(chain.reader(), &account(ANNA)).unwrap(), None);
}

#[test]
fn a_rekey_waits_its_delay_the_old_key_can_cancel_it_and_then_everything_moves() {
    let mut chain = chain();
    let new = account(30);
    let rekey = Call::Rekey {
        who: account(ANNA),
        new,
    };
    let events = run(&mut chain, HELPER, rekey.clone()).unwrap();
    assert_eq!(
        events,
        vec![Event::RekeyRequested {
            old: account(ANNA),
            new,
            due: 11,
            by: Some(account(HELPER))
        }]
    );
    assert!(matches!(
        run(&mut chain, HELPER, rekey.clone()),
        Err(Error::RekeyPending { due: 11, .. })
    ));
    // A stranger may not cancel; the old key may.
    assert!(matches!(
        run(
            &mut chain,
            OTHER_HELPER,
            Call::CancelRekey { who: account(ANNA) }
        ),
        Err(Error::MayNotCancel { .. })
    ));
    let cancelled = run(&mut chain, ANNA, Call::CancelRekey { who: account(ANNA) }).unwrap();
    assert_eq!(
        cancelled,
        vec![Event::RekeyCancelled {
            old: account(ANNA),
            new,
            by: Some(account(ANNA))
        }]
    );
    assert!(chain.begin_block::<Pallet>(11).of::<Event>().is_empty());
    assert_eq!(signer_check(&chain, ANNA), Ok(()));

    // A second rekey completes after its delay, and not before.
    run(&mut chain, HELPER, rekey).unwrap();
    assert!(chain.begin_block::<Pallet>(20).of::<Event>().is_empty());
    assert_eq!(
        wijk_coin::balance(chain.reader(), &account(ANNA)),
        Ok(5_000)
    );
    let completed = chain.begin_block::<Pallet>(21);
    assert_eq!(
        completed.of::<Event>(),
        vec![Event::Rekeyed {
            old: account(ANNA),
            new,
            moved: 5_000
        }]
    );
    assert_eq!(wijk_coin::balance(chain.reader(), &new), Ok(5_000));
    assert_eq!(wijk_coin::balance(chain.reader(), &account(ANNA)), Ok(0));
    assert!(signer_check(&chain, ANNA).is_err());
    assert_eq!(signer_check(&chain, 30), Ok(()));
    assert_eq!(
        TAGS.get(chain.reader(), &tag("85073003328")),
        Ok(Some(new)),
        "the tag follows the member"
    );
    assert_eq!(pending_rekey(chain.reader(), &account(ANNA)), Ok(None));
    assert_eq!(
        REKEYS_DUE.page(chain.reader(), None, 10).unwrap().entries,
        vec![]
    );
    // Coins owed to the old key later (an earmark expiring to its funder) find the new one.
    assert_eq!(Pallet.current_key(chain.reader(), &account(ANNA)), Ok(new));
    assert_eq!(Pallet.current_key(chain.reader(), &new), Ok(new));
}

#[test]
fn a_rekey_refuses_keys_in_use_and_lapses_if_the_member_was_removed() {
    let mut chain = chain();
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            Call::Rekey {
                who: account(ANNA),
                new: account(HELPER)
            }
        ),
        Err(Error::NewKeyInUse {
            new: account(HELPER)
        })
    );
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            Call::Rekey {
                who: account(ANNA),
                new: account(ANNA)
            }
        ),
        Err(Error::SameKey)
    );
    assert_eq!(
        run(
            &mut chain,
            ANNA,
            Call::Rekey {
                who: account(ANNA),
                new: account(30)
            }
        ),
        Err(Error::NotRegistrar {
            caller: Origin::Signed(account(ANNA))
        })
    );
    run(
        &mut chain,
        HELPER,
        Call::Rekey {
            who: account(ANNA),
            new: account(30),
        },
    )
    .unwrap();
    // Nobody may register the target key meanwhile, nor aim a second rekey at it.
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            register(30, &[Role::Resident], "y", None)
        ),
        Err(Error::AlreadyMember { who: account(30) })
    );
    run(
        &mut chain,
        BOARD,
        Call::Remove {
            who: account(ANNA),
            reason: "moved away".into(),
        },
    )
    .unwrap();
    assert_eq!(pending_rekey(chain.reader(), &account(ANNA)), Ok(None));
    assert!(chain.begin_block::<Pallet>(11).of::<Event>().is_empty());
    assert_eq!(
        wijk_coin::balance(chain.reader(), &account(ANNA)),
        Ok(5_000),
        "coins stay"
    );
}

#[test]
fn a_guardian_pays_within_the_days_cap_which_renews_the_next_day() {
    let mut chain = chain();
    assert_eq!(
        run(
            &mut chain,
            ANNA,
            Call::AppointGuardian {
                member: account(ANNA),
                guardian: account(BOARD),
                daily_cap: 100
            }
        ),
        Err(MembershipError::MissingRole {
            account: account(BOARD),
            role: Role::Intermediary
        }
        .into())
    );
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            Call::AppointGuardian {
                member: account(ANNA),
                guardian: account(HELPER),
                daily_cap: 100
            }
        ),
        Err(Error::NotTheMember {
            member: account(ANNA),
            caller: Origin::Signed(account(HELPER))
        }),
        "an intermediary cannot appoint themselves"
    );
    assert_eq!(
        run(
            &mut chain,
            ANNA,
            Call::AppointGuardian {
                member: account(ANNA),
                guardian: account(HELPER),
                daily_cap: 0
            }
        ),
        Err(Error::ZeroCap)
    );
    run(
        &mut chain,
        ANNA,
        Call::AppointGuardian {
            member: account(ANNA),
            guardian: account(HELPER),
            daily_cap: 2_000,
        },
    )
    .unwrap();
    assert_eq!(
        Pallet
            .check_guardian(chain.reader(), &account(HELPER), &account(ANNA))
            .unwrap(),
        Ok(())
    );
    assert!(Pallet
        .check_guardian(chain.reader(), &account(OTHER_HELPER), &account(ANNA))
        .unwrap()
        .is_err());

    let charge = |chain: &mut TestChain, amount| {
        chain
            .transact(|ctx| Pallet.charge_guardian(ctx, &account(HELPER), &account(ANNA), amount))
            .unwrap()
            .map(|events| events.of::<Event>())
    };
    assert_eq!(
        charge(&mut chain, 1_500),
        Ok(vec![Event::GuardianSpent {
            guardian: account(HELPER),
            member: account(ANNA),
            amount: 1_500,
            spent_today: 1_500,
            daily_cap: 2_000
        }])
    );
    assert_eq!(
        charge(&mut chain, 600),
        Err(MembershipError::OverGuardianCap(Box::new(
            wijk_support::GuardianCapExceeded {
                guardian: account(HELPER),
                member: account(ANNA),
                daily_cap: 2_000,
                spent_today: 1_500,
                asked: 600,
                renews_at: 100
            }
        )))
    );
    charge(&mut chain, 500).unwrap();
    chain.block.height = 100;
    charge(&mut chain, 2_000).unwrap();

    // The guardian steps down.
    let events = run(
        &mut chain,
        HELPER,
        Call::RevokeGuardian {
            member: account(ANNA),
        },
    )
    .unwrap();
    assert_eq!(
        events,
        vec![Event::GuardianRevoked {
            member: account(ANNA),
            guardian: account(HELPER),
            by: Some(account(HELPER))
        }]
    );
    assert!(charge(&mut chain, 1).is_err());
    assert_eq!(
        run(
            &mut chain,
            ANNA,
            Call::RevokeGuardian {
                member: account(ANNA)
            }
        ),
        Err(Error::NoGuardian {
            member: account(ANNA)
        })
    );
}

#[test]
fn the_board_suspends_reinstates_and_removes_with_reasons() {
    let mut chain = chain();
    let suspend = Call::Suspend {
        who: account(ANNA),
        reason: "shared her key".into(),
    };
    assert!(matches!(
        run(&mut chain, HELPER, suspend.clone()),
        Err(Error::BadOrigin(_))
    ));
    assert_eq!(
        run(
            &mut chain,
            BOARD,
            Call::Suspend {
                who: account(ANNA),
                reason: " ".into()
            }
        ),
        Err(Error::NoReason)
    );
    assert!(matches!(
        run(
            &mut chain,
            BOARD,
            Call::Suspend {
                who: account(ANNA),
                reason: "x".repeat(MAX_REASON_BYTES + 1)
            }
        ),
        Err(Error::ReasonTooLong { .. })
    ));
    run(&mut chain, BOARD, suspend).unwrap();
    assert_eq!(
        signer_check(&chain, ANNA),
        Err(MembershipError::Suspended {
            account: account(ANNA),
            reason: "shared her key".into()
        })
    );
    assert!(!Pallet.is_member(chain.reader(), &account(ANNA)).unwrap());
    run(&mut chain, BOARD, Call::Reinstate { who: account(ANNA) }).unwrap();
    assert_eq!(signer_check(&chain, ANNA), Ok(()));
    assert_eq!(
        run(&mut chain, BOARD, Call::Reinstate { who: account(ANNA) }),
        Err(Error::NotSuspended { who: account(ANNA) })
    );
    let removed = run(
        &mut chain,
        BOARD,
        Call::Remove {
            who: account(ANNA),
            reason: "moved away".into(),
        },
    )
    .unwrap();
    assert_eq!(
        removed,
        vec![Event::Removed {
            who: account(ANNA),
            reason: "moved away".into(),
            by: Some(account(BOARD))
        }]
    );
    assert!(signer_check(&chain, ANNA).is_err());
    // The tag is free again: the person may be registered anew.
    run(
        &mut chain,
        HELPER,
        register(40, &[Role::Resident], "85073003328", None),
    )
    .unwrap();
}

#[test]
fn the_board_sets_roles() {
    let mut chain = chain();
    let call = Call::SetRoles {
        who: account(ANNA),
        roles: roles(&[Role::Resident, Role::Merchant]),
        place: Some(shop_place()),
    };
    assert!(matches!(
        run(&mut chain, HELPER, call.clone()),
        Err(Error::BadOrigin(_))
    ));
    run(&mut chain, BOARD, call).unwrap();
    assert!(Pallet
        .has_role(chain.reader(), &account(ANNA), Role::Merchant)
        .unwrap());
}

#[test]
fn members_list_by_role_in_pages() {
    let mut chain = chain();
    for n in 50..60u8 {
        run(
            &mut chain,
            HELPER,
            register(n, &[Role::Resident], &format!("person {n}"), None),
        )
        .unwrap();
    }
    let all = list(chain.reader(), None, 100, None).unwrap();
    assert_eq!(all.entries.len(), 14);
    let first = list(chain.reader(), None, 4, Some(Role::Resident)).unwrap();
    assert_eq!(first.entries.len(), 4);
    let mut seen: Vec<AccountId> = first.entries.iter().map(|(a, _)| *a).collect();
    let mut next = first.next;
    while let Some(after) = next {
        let page = list(chain.reader(), Some(&after), 4, Some(Role::Resident)).unwrap();
        seen.extend(page.entries.iter().map(|(a, _)| *a));
        next = page.next;
    }
    assert_eq!(
        seen.len(),
        12,
        "ten new residents, Anna and the board member"
    );
    let helpers = list(chain.reader(), None, 10, Some(Role::Intermediary)).unwrap();
    assert_eq!(helpers.entries.len(), 2);
}

#[test]
fn genesis_refuses_a_tag_twice_and_a_merchant_without_a_place() {
    let mut overlay_base = std::collections::BTreeMap::new();
    let _ = &mut overlay_base;
    let mut state = StateOverlay::new(&overlay_base);
    let twice = Genesis {
        members: vec![
            GenesisMember {
                account: account(1),
                roles: roles(&[Role::Resident]),
                tag: Some(tag("a")),
                place: None,
            },
            GenesisMember {
                account: account(2),
                roles: roles(&[Role::Resident]),
                tag: Some(tag("a")),
                place: None,
            },
        ],
        ..Genesis::default()
    };
    assert!(matches!(
        Pallet::build_genesis(&mut state, &twice),
        Ok(Err(Error::TagInUse { .. }))
    ));
    let mut state = StateOverlay::new(&overlay_base);
    let shop = Genesis {
        members: vec![GenesisMember {
            account: account(1),
            roles: roles(&[Role::Merchant]),
            tag: None,
            place: None,
        }],
        ..Genesis::default()
    };
    assert_eq!(
        Pallet::build_genesis(&mut state, &shop),
        Ok(Err(Error::MerchantNeedsPlace))
    );
}

#[test]
fn only_the_board_moves_a_key_that_holds_power_or_a_suspended_member() {
    let mut chain = chain();
    // An intermediary may not move another intermediary (or an exchange office) to a key
    // of its choosing.
    assert_eq!(
        run(
            &mut chain,
            HELPER,
            Call::Rekey {
                who: account(OTHER_HELPER),
                new: account(30)
            }
        ),
        Err(Error::RoleNeedsBoard {
            role: Role::Intermediary
        })
    );
    // Anna's key was stolen: the board suspends it and moves her.
    run(
        &mut chain,
        BOARD,
        Call::Suspend {
            who: account(ANNA),
            reason: "key stolen".into(),
        },
    )
    .unwrap();
    assert!(matches!(
        run(
            &mut chain,
            HELPER,
            Call::Rekey {
                who: account(ANNA),
                new: account(31)
            }
        ),
        Err(Error::Membership(MembershipError::Suspended { .. }))
    ));
    run(
        &mut chain,
        BOARD,
        Call::Rekey {
            who: account(ANNA),
            new: account(31),
        },
    )
    .unwrap();
    // The suspended old key signs nothing, so it cannot cancel: the runtime refuses its
    // transactions before dispatch (the runtime's money-rules tests).
    assert!(Pallet
        .check_signer(chain.reader(), &account(ANNA))
        .unwrap()
        .is_err());
    chain.begin_block::<Pallet>(11);
    assert!(member(chain.reader(), &account(31)).unwrap().is_some());
}

#[test]
fn a_guardian_acts_only_while_an_intermediary() {
    let mut chain = chain();
    run(
        &mut chain,
        ANNA,
        Call::AppointGuardian {
            member: account(ANNA),
            guardian: account(HELPER),
            daily_cap: 100,
        },
    )
    .unwrap();
    assert_eq!(
        Pallet
            .check_guardian(chain.reader(), &account(HELPER), &account(ANNA))
            .unwrap(),
        Ok(())
    );
    run(
        &mut chain,
        BOARD,
        Call::SetRoles {
            who: account(HELPER),
            roles: roles(&[Role::Resident]),
            place: None,
        },
    )
    .unwrap();
    assert_eq!(
        Pallet
            .check_guardian(chain.reader(), &account(HELPER), &account(ANNA))
            .unwrap(),
        Err(MembershipError::MissingRole {
            account: account(HELPER),
            role: Role::Intermediary
        })
    );
}
