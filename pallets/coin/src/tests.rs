use super::*;
use proptest::prelude::*;
use wijk_membership::{Call as MemberCall, GenesisMember};
use wijk_primitives::GeoPoint;
use wijk_support::testing::{Events, TestChain};
use wijk_support::{Interfaces, Pallet as _, Place};

const INTERFACES: Interfaces = Interfaces {
    currency: &Pallet,
    membership: &wijk_membership::Pallet,
    collectives: &wijk_system::SpecBoard,
    geography: &wijk_geo::Pallet,
    enactment: &wijk_support::NoEnactment,
};

fn account(n: u8) -> AccountId {
    AccountId([n; 32])
}

/// Residents 0..=9; the well-known others below.
const OFFICE: u8 = 100;
const HELPER: u8 = 101;
const CITY: u8 = 102;
const FUND: u8 = 103;
const BOARD: u8 = 104;
const GROCER: u8 = 50; // food, inside
const SUPERMARKET: u8 = 51; // food, just outside
const ELECTRONICS: u8 = 52; // electronics, inside
const STRANGER: u8 = 99;

const INSIDE: GeoPoint = GeoPoint {
    lat: 500_000,
    lon: 500_000,
};
const OUTSIDE: GeoPoint = GeoPoint {
    lat: 500_000,
    lon: 1_000_001,
};

fn merchant(n: u8, location: GeoPoint, category: &str) -> GenesisMember {
    GenesisMember {
        account: account(n),
        roles: RoleSet::of(&[Role::Merchant]),
        tag: None,
        place: Some(Place {
            location,
            category: category.into(),
        }),
    }
}

fn with_roles(n: u8, roles: &[Role]) -> GenesisMember {
    GenesisMember {
        account: account(n),
        roles: RoleSet::of(roles),
        tag: None,
        place: None,
    }
}

fn coin_genesis(balances: &[(u8, Cents)]) -> Genesis {
    Genesis {
        balances: balances
            .iter()
            .map(|(a, c)| GenesisBalance(account(*a), *c))
            .collect(),
        redemption: RedemptionPolicy {
            fee_per_mille: 50,
            fund: Some(account(FUND)),
            ..RedemptionPolicy::default()
        },
        gift_pools: vec![GenesisPool {
            name: "care".into(),
            monthly_cap: 3_000,
        }],
        pool_month_blocks: 1_000,
        ..Genesis::default()
    }
}

fn chain_with(coin: Genesis) -> TestChain {
    let mut chain = TestChain::new(INTERFACES);
    chain.genesis::<wijk_system::Pallet>(&wijk_system::Genesis {
        board: vec![account(BOARD)],
        ..Default::default()
    });
    chain.genesis::<wijk_geo::Pallet>(&wijk_geo::Genesis {
        region: wijk_geo::Region {
            name: "Testwijk".into(),
            polygons: vec![vec![
                GeoPoint { lat: 0, lon: 0 },
                GeoPoint {
                    lat: 0,
                    lon: 1_000_000,
                },
                GeoPoint {
                    lat: 1_000_000,
                    lon: 1_000_000,
                },
                GeoPoint {
                    lat: 1_000_000,
                    lon: 0,
                },
            ]],
        },
    });
    let mut members: Vec<GenesisMember> = (0..10u8)
        .map(|n| with_roles(n, &[Role::Resident]))
        .collect();
    members.extend([
        with_roles(OFFICE, &[Role::ExchangeOffice]),
        with_roles(HELPER, &[Role::Intermediary]),
        with_roles(CITY, &[Role::Organisation]),
        with_roles(FUND, &[Role::Organisation]),
        with_roles(BOARD, &[Role::Board]),
        merchant(GROCER, INSIDE, "food"),
        merchant(SUPERMARKET, OUTSIDE, "food"),
        merchant(ELECTRONICS, INSIDE, "electronics"),
    ]);
    chain.genesis::<wijk_membership::Pallet>(&wijk_membership::Genesis {
        members,
        ..Default::default()
    });
    chain.genesis::<Pallet>(&coin);
    chain
}

fn chain(balances: &[(u8, Cents)]) -> TestChain {
    chain_with(coin_genesis(balances))
}

fn run(chain: &mut TestChain, who: u8, call: Call) -> Result<Vec<Event>, Error> {
    chain
        .dispatch::<Pallet>(Origin::Signed(account(who)), &call)
        .map(|events| events.of::<Event>())
}

/// An escrow operation as another pallet makes it, through the [`Currency`] trait.
fn escrow(
    chain: &mut TestChain,
    operation: impl FnOnce(&mut CallContext<'_, '_>) -> DispatchResult<CurrencyError>,
) -> Result<Events, CurrencyError> {
    chain.transact(operation).unwrap()
}

fn insufficient(who: u8, available: Cents, needed: Cents) -> Error {
    Error::Currency(CurrencyError::InsufficientBalance {
        account: account(who),
        available,
        needed,
    })
}

fn pay(to: u8, amount: Cents) -> Call {
    Call::Transfer {
        to: account(to),
        amount,
    }
}

fn mint(to: u8, amount: Cents, reference: &str) -> Call {
    Call::Mint {
        to: account(to),
        amount,
        deposit_ref: reference.as_bytes().to_vec(),
        earmark: None,
    }
}

fn food_in_the_wijk(expires_at: Option<Height>) -> Earmark {
    Earmark {
        funder: account(CITY),
        label: String::new(),
        categories: vec!["food".into()],
        region_only: true,
        expires_at,
    }
}

fn figures(chain: &TestChain) -> (Cents, Cents, Cents) {
    let figures = supply(chain.reader()).unwrap();
    (figures.total_supply, figures.euro_reserve, figures.owed)
}

#[test]
fn an_account_listed_twice_at_genesis_holds_the_sum_and_one_deposit_record() {
    let chain = chain(&[(1, 500), (2, 10), (1, 700)]);
    let state = chain.reader();
    assert_eq!(balance(state, &account(1)), Ok(1_200));
    assert_eq!(figures(&chain), (1_210, 1_210, 0));
    let record = DEPOSITS
        .get(state, &deposit_hash(&genesis_deposit_ref(&account(1))))
        .unwrap();
    assert_eq!(
        record,
        Some(DepositRecord {
            beneficiary: account(1),
            amount: 1_200,
            height: 0
        })
    );
    assert_eq!(audit(state).map(|a| a.deposits), Ok(1_210));
}

#[test]
fn a_fee_without_a_fund_is_refused_at_genesis() {
    let mut genesis = coin_genesis(&[]);
    genesis.redemption.fund = None;
    let base = std::collections::BTreeMap::new();
    let mut state = StateOverlay::new(&base);
    assert!(matches!(
        Pallet::build_genesis(&mut state, &genesis),
        Ok(Err(Error::BadPolicy { .. }))
    ));
}

#[test]
fn transfer_moves_coins_and_emits_event() {
    let mut chain = chain(&[(1, 1_000)]);
    assert_eq!(
        run(&mut chain, 1, pay(2, 250)),
        Ok(vec![Event::Transferred {
            from: account(1),
            to: account(2),
            amount: 250
        }])
    );
    assert_eq!(balance(chain.reader(), &account(1)), Ok(750));
    assert_eq!(balance(chain.reader(), &account(2)), Ok(250));
}

#[test]
fn only_members_receive_and_a_suspended_member_receives_nothing() {
    let mut chain = chain(&[(1, 1_000)]);
    assert_eq!(
        run(&mut chain, 1, pay(STRANGER, 10)),
        Err(Error::Membership(MembershipError::NotMember {
            account: account(STRANGER)
        }))
    );
    chain
        .dispatch::<wijk_membership::Pallet>(
            Origin::Signed(account(BOARD)),
            &MemberCall::Suspend {
                who: account(2),
                reason: "under review".into(),
            },
        )
        .unwrap();
    assert!(matches!(
        run(&mut chain, 1, pay(2, 10)),
        Err(Error::Membership(MembershipError::Suspended { .. }))
    ));
    assert!(matches!(
        run(&mut chain, OFFICE, mint(STRANGER, 10, "bank-1")),
        Err(Error::Membership(MembershipError::NotMember { .. }))
    ));
}

#[test]
fn a_guardian_moves_the_members_coins_within_the_daily_cap() {
    let mut chain = chain(&[(1, 1_000), (HELPER, 50)]);
    chain
        .dispatch::<wijk_membership::Pallet>(
            Origin::Signed(account(1)),
            &MemberCall::AppointGuardian {
                member: account(1),
                guardian: account(HELPER),
                daily_cap: 300,
            },
        )
        .unwrap();
    let origin = Origin::Guardian {
        guardian: account(HELPER),
        member: account(1),
    };
    let events = chain.dispatch::<Pallet>(origin, &pay(2, 200)).unwrap();
    assert_eq!(
        events.of::<wijk_membership::Event>(),
        vec![wijk_membership::Event::GuardianSpent {
            guardian: account(HELPER),
            member: account(1),
            amount: 200,
            spent_today: 200,
            daily_cap: 300
        }]
    );
    assert_eq!(balance(chain.reader(), &account(1)), Ok(800));
    assert_eq!(balance(chain.reader(), &account(HELPER)), Ok(50));
    assert!(matches!(
        chain.dispatch::<Pallet>(origin, &pay(2, 101)),
        Err(Error::Membership(MembershipError::OverGuardianCap(exceeded)))
            if exceeded.spent_today == 200 && exceeded.asked == 101
    ));
    assert_eq!(balance(chain.reader(), &account(1)), Ok(800));
    // Minting needs an exchange office's own signature, never a guardian's.
    let by_guardian = Origin::Guardian {
        guardian: account(HELPER),
        member: account(OFFICE),
    };
    assert!(matches!(
        chain.dispatch::<Pallet>(by_guardian, &mint(2, 1, "x")),
        Err(Error::BadOrigin(_))
    ));
}

#[test]
fn transfer_with_insufficient_funds_fails_and_changes_nothing() {
    let mut chain = chain(&[(1, 100)]);
    assert_eq!(
        run(&mut chain, 1, pay(2, 101)),
        Err(insufficient(1, 100, 101))
    );
    assert_eq!(balance(chain.reader(), &account(1)), Ok(100));
    assert_eq!(balance(chain.reader(), &account(2)), Ok(0));
}

#[test]
fn zero_and_self_transfers_are_refused() {
    let mut chain = chain(&[(1, 100)]);
    assert_eq!(
        run(&mut chain, 1, pay(2, 0)),
        Err(Error::Currency(CurrencyError::ZeroAmount))
    );
    assert_eq!(
        run(&mut chain, 1, pay(1, 5)),
        Err(Error::Currency(CurrencyError::SelfTransfer))
    );
}

#[test]
fn only_exchange_offices_mint_and_each_deposit_once() {
    let mut chain = chain(&[]);
    assert!(matches!(
        run(&mut chain, 1, mint(3, 500, "bank-2026-0001")),
        Err(Error::MissingRole {
            role: Role::ExchangeOffice,
            ..
        })
    ));
    let events = run(&mut chain, OFFICE, mint(3, 500, "bank-2026-0001")).unwrap();
    assert_eq!(
        events,
        vec![Event::Minted {
            to: account(3),
            amount: 500,
            deposit_ref: b"bank-2026-0001".to_vec(),
            by: account(OFFICE),
            earmark: None
        }]
    );
    assert!(matches!(
        run(&mut chain, OFFICE, mint(3, 500, "bank-2026-0001")),
        Err(Error::Currency(
            CurrencyError::DepositAlreadyRecorded { .. }
        ))
    ));
    assert_eq!(balance(chain.reader(), &account(3)), Ok(500));
    assert_eq!(figures(&chain), (500, 500, 0));
    let too_long = Call::Mint {
        to: account(3),
        amount: 1,
        deposit_ref: vec![b'x'; MAX_DEPOSIT_REF_BYTES + 1],
        earmark: None,
    };
    assert!(matches!(
        run(&mut chain, OFFICE, too_long),
        Err(Error::Currency(CurrencyError::BadDepositRef { .. }))
    ));
}

#[test]
fn redemption_burns_at_once_is_owed_until_paid_and_keeps_a_fee_local() {
    let mut chain = chain(&[(1, 1_000), (GROCER, 10_000)]);
    let request = |amount| Call::RequestRedemption {
        amount,
        payout_to: Hash([9; 32]),
    };
    // Residents spend their coins in the wijk; merchants redeem.
    assert!(matches!(
        run(&mut chain, 1, request(100)),
        Err(Error::MayNotRedeem { .. })
    ));
    let events = run(&mut chain, GROCER, request(2_000)).unwrap();
    assert_eq!(
        events,
        vec![
            Event::Transferred {
                from: account(GROCER),
                to: account(FUND),
                amount: 100
            },
            Event::RedemptionRequested {
                id: 0,
                who: account(GROCER),
                amount: 1_900,
                fee: 100
            }
        ]
    );
    assert_eq!(balance(chain.reader(), &account(GROCER)), Ok(8_000));
    assert_eq!(balance(chain.reader(), &account(FUND)), Ok(100));
    assert_eq!(figures(&chain), (9_100, 11_000, 1_900));
    assert_eq!(Pallet::check_invariants(chain.reader()).unwrap(), Ok(()));
    assert!(audit(chain.reader()).is_ok());
    assert_eq!(
        run(&mut chain, GROCER, request(8_001)),
        Err(insufficient(GROCER, 8_000, 8_001))
    );

    let pay_out = Call::PayRedemption {
        id: 0,
        bank_ref: Hash([8; 32]),
    };
    assert!(matches!(
        run(&mut chain, GROCER, pay_out.clone()),
        Err(Error::MissingRole { .. })
    ));
    assert_eq!(
        run(&mut chain, OFFICE, pay_out.clone()),
        Ok(vec![Event::RedemptionPaid {
            id: 0,
            who: account(GROCER),
            amount: 1_900,
            by: account(OFFICE)
        }])
    );
    assert_eq!(figures(&chain), (9_100, 9_100, 0));
    // One bank transfer pays one redemption.
    run(&mut chain, GROCER, request(1_000)).unwrap();
    assert_eq!(
        run(
            &mut chain,
            OFFICE,
            Call::PayRedemption {
                id: 1,
                bank_ref: Hash([8; 32])
            }
        ),
        Err(Error::PayoutRefUsed {
            bank_ref: Hash([8; 32]),
            paid: 0
        })
    );
    run(
        &mut chain,
        OFFICE,
        Call::PayRedemption {
            id: 1,
            bank_ref: Hash([6; 32]),
        },
    )
    .unwrap();
    assert_eq!(
        run(&mut chain, OFFICE, pay_out),
        Err(Error::AlreadyPaid { id: 0, height: 1 })
    );
    assert_eq!(
        run(
            &mut chain,
            OFFICE,
            Call::PayRedemption {
                id: 7,
                bank_ref: Hash([8; 32])
            }
        ),
        Err(Error::NoSuchRedemption { id: 7 })
    );
    let record = REDEMPTIONS.get(chain.reader(), 0).unwrap().unwrap();
    assert_eq!(
        record.paid,
        Some(Payout {
            by: account(OFFICE),
            bank_ref: Hash([8; 32]),
            height: 1
        })
    );
    assert!(audit(chain.reader()).is_ok());
}

#[test]
fn gifts_reach_a_pool_and_an_intermediary_pays_members_within_the_monthly_cap() {
    let mut chain = chain(&[(1, 10_000)]);
    let pool = pool_account("care");
    let events = run(
        &mut chain,
        1,
        Call::Gift {
            to: pool,
            amount: 5_000,
        },
    )
    .unwrap();
    assert_eq!(
        events,
        vec![
            Event::Transferred {
                from: account(1),
                to: pool,
                amount: 5_000
            },
            Event::Gifted {
                from: account(1),
                to: pool,
                amount: 5_000
            }
        ]
    );
    let pool_pay = |amount| Call::PoolPay {
        pool,
        to: account(2),
        amount,
    };
    assert!(matches!(
        run(&mut chain, 1, pool_pay(100)),
        Err(Error::MissingRole {
            role: Role::Intermediary,
            ..
        })
    ));
    run(&mut chain, HELPER, pool_pay(2_000)).unwrap();
    assert_eq!(
        run(&mut chain, HELPER, pool_pay(1_001)),
        Err(Error::OverPoolCap(Box::new(PoolCapExceeded {
            pool: "care".into(),
            member: account(2),
            monthly_cap: 3_000,
            paid: 2_000,
            asked: 1_001
        })))
    );
    chain.block.height = 1_000;
    run(&mut chain, HELPER, pool_pay(2_500)).unwrap();
    assert_eq!(balance(chain.reader(), &account(2)), Ok(4_500));
    assert_eq!(balance(chain.reader(), &pool), Ok(500));
    assert!(matches!(
        run(
            &mut chain,
            HELPER,
            Call::PoolPay {
                pool: account(3),
                to: account(2),
                amount: 1
            }
        ),
        Err(Error::NoSuchPool { .. })
    ));
    // Only the board opens pools, each name once.
    let create = Call::CreatePool {
        name: "school trips".into(),
        monthly_cap: 1_000,
    };
    assert!(matches!(
        run(&mut chain, 1, create.clone()),
        Err(Error::BadOrigin(_))
    ));
    run(&mut chain, BOARD, create.clone()).unwrap();
    assert!(matches!(
        run(&mut chain, BOARD, create),
        Err(Error::PoolExists { .. })
    ));
}

#[test]
fn earmarked_coins_pay_matching_merchants_first_and_the_refusal_names_the_rule() {
    let mut chain = chain(&[(1, 300)]);
    let earmark = food_in_the_wijk(None);
    let minted = run(
        &mut chain,
        OFFICE,
        Call::Mint {
            to: account(1),
            amount: 1_000,
            deposit_ref: b"city-2026-q1".to_vec(),
            earmark: Some(earmark.clone()),
        },
    )
    .unwrap();
    assert!(minted.contains(&Event::Earmarked {
        from: account(1),
        to: account(1),
        amount: 1_000,
        earmark: earmark.id(),
        rule: "food; Testwijk only".into()
    }));
    assert_eq!(
        balance(chain.reader(), &account(1)),
        Ok(300),
        "free coins apart"
    );
    assert_eq!(
        earmark::holdings_of(chain.reader(), &account(1)).unwrap(),
        vec![(earmark.clone(), 1_000)]
    );

    // The grocer inside takes earmarked coins first, then free ones.
    let events = run(&mut chain, 1, pay(GROCER, 1_100)).unwrap();
    assert_eq!(
        events,
        vec![
            Event::EarmarkSpent {
                who: account(1),
                merchant: account(GROCER),
                earmark: earmark.id(),
                amount: 1_000
            },
            Event::Transferred {
                from: account(1),
                to: account(GROCER),
                amount: 100
            },
            Event::MerchantPaid {
                from: account(1),
                merchant: account(GROCER),
                amount: 1_100
            }
        ]
    );
    assert_eq!(balance(chain.reader(), &account(GROCER)), Ok(1_100));
    assert_eq!(balance(chain.reader(), &account(1)), Ok(200));
    assert_eq!(
        earmark::holdings_of(chain.reader(), &account(1)),
        Ok(vec![])
    );

    // Earmark more, then try the shops the rule does not allow.
    run(
        &mut chain,
        OFFICE,
        Call::Mint {
            to: account(1),
            amount: 500,
            deposit_ref: b"city-2026-q2".to_vec(),
            earmark: Some(earmark.clone()),
        },
    )
    .unwrap();
    let outside = run(&mut chain, 1, pay(SUPERMARKET, 400)).unwrap_err();
    assert_eq!(
        outside.to_string(),
        format!(
            "earmark 'food; Testwijk only' cannot pay merchant {:?}: the shop at 0.500000,1.000001 is outside the region",
            account(SUPERMARKET)
        )
    );
    let wrong_category = run(&mut chain, 1, pay(ELECTRONICS, 400)).unwrap_err();
    assert!(
        wrong_category
            .to_string()
            .ends_with("category 'electronics'"),
        "{wrong_category}"
    );
    // Free coins still pay them, and a resident.
    run(&mut chain, 1, pay(SUPERMARKET, 150)).unwrap();
    let to_resident = run(&mut chain, 1, pay(2, 100)).unwrap_err();
    assert!(matches!(
        to_resident,
        Error::Earmark(EarmarkError::OnlyAtMerchants { .. })
    ));
    assert!(audit(chain.reader()).is_ok());
}

#[test]
fn an_expired_earmark_returns_exactly_what_is_left_to_its_funder() {
    let mut chain = chain(&[(CITY, 2_000)]);
    let earmark = food_in_the_wijk(Some(10));
    let transfer = |amount| Call::EarmarkedTransfer {
        to: account(1),
        amount,
        earmark: earmark.clone(),
    };
    assert!(matches!(
        run(&mut chain, 1, transfer(1)),
        Err(Error::MissingRole { .. })
    ));
    let mut not_theirs = earmark.clone();
    not_theirs.funder = account(FUND);
    assert!(matches!(
        run(
            &mut chain,
            CITY,
            Call::EarmarkedTransfer {
                to: account(1),
                amount: 1,
                earmark: not_theirs
            }
        ),
        Err(Error::Earmark(EarmarkError::NotYourEarmark { .. }))
    ));
    run(&mut chain, CITY, transfer(1_500)).unwrap();
    assert_eq!(balance(chain.reader(), &account(CITY)), Ok(500));
    run(&mut chain, 1, pay(GROCER, 600)).unwrap();
    chain.block.height = 9;
    assert!(chain.end_block::<Pallet>().of::<Event>().is_empty());
    chain.block.height = 10;
    // Past the expiry, the coins no longer pay, even before the hook returns them.
    assert!(run(&mut chain, 1, pay(GROCER, 1)).is_err());
    let events = chain.end_block::<Pallet>().of::<Event>();
    assert_eq!(
        events,
        vec![Event::EarmarkExpired {
            who: account(1),
            funder: account(CITY),
            earmark: earmark.id(),
            amount: 900
        }]
    );
    assert_eq!(balance(chain.reader(), &account(CITY)), Ok(1_400));
    assert_eq!(
        earmark::holdings_of(chain.reader(), &account(1)),
        Ok(vec![])
    );
    assert!(audit(chain.reader()).is_ok());
    let past = Call::EarmarkedTransfer {
        to: account(1),
        amount: 1,
        earmark: earmark.clone(),
    };
    assert!(matches!(
        run(&mut chain, CITY, past),
        Err(Error::Earmark(EarmarkError::ExpiryPassed { .. }))
    ));
}

#[test]
fn an_earmark_expires_to_its_funders_key_now_when_the_funder_moved_keys() {
    let mut chain = chain(&[(CITY, 2_000)]);
    let earmark = food_in_the_wijk(Some(10));
    run(
        &mut chain,
        CITY,
        Call::EarmarkedTransfer {
            to: account(1),
            amount: 400,
            earmark: earmark.clone(),
        },
    )
    .unwrap();
    // The city's key was moved by a rekey (what the membership pallet records when one
    // completes); its record moved with it.
    let moved_to = account(88);
    chain
        .transact(|ctx| {
            let record = wijk_membership::MEMBERS.get(&*ctx.state, &account(CITY))?;
            wijk_membership::MEMBERS.remove(ctx.state, &account(CITY));
            if let Some(record) = record {
                wijk_membership::MEMBERS.insert(ctx.state, &moved_to, &record);
            }
            wijk_membership::MOVED_TO.insert(ctx.state, &account(CITY), &moved_to);
            Ok(Ok::<(), Error>(()))
        })
        .unwrap()
        .unwrap();
    chain.block.height = 10;
    assert_eq!(
        chain.end_block::<Pallet>().of::<Event>(),
        vec![Event::EarmarkExpired {
            who: account(1),
            funder: moved_to,
            earmark: earmark.id(),
            amount: 400
        }]
    );
    assert_eq!(balance(chain.reader(), &moved_to), Ok(400));
    assert_eq!(balance(chain.reader(), &account(CITY)), Ok(1_600));
    assert!(audit(chain.reader()).is_ok());
}

#[test]
fn an_account_holds_a_bounded_number_of_earmarks() {
    let mut chain = chain(&[(CITY, 100)]);
    for n in 0..earmark::MAX_EARMARKS_PER_ACCOUNT {
        let mut rule = food_in_the_wijk(None);
        rule.label = format!("budget {n}");
        run(
            &mut chain,
            CITY,
            Call::EarmarkedTransfer {
                to: account(1),
                amount: 1,
                earmark: rule,
            },
        )
        .unwrap();
    }
    let mut one_more = food_in_the_wijk(None);
    one_more.label = "one more".into();
    assert!(matches!(
        run(
            &mut chain,
            CITY,
            Call::EarmarkedTransfer {
                to: account(1),
                amount: 1,
                earmark: one_more
            }
        ),
        Err(Error::Earmark(EarmarkError::TooManyEarmarks { .. }))
    ));
    // The same rule again adds to its holding.
    let mut first = food_in_the_wijk(None);
    first.label = "budget 0".into();
    run(
        &mut chain,
        CITY,
        Call::EarmarkedTransfer {
            to: account(1),
            amount: 1,
            earmark: first,
        },
    )
    .unwrap();
}

#[test]
fn a_local_only_coin_refuses_payments_that_leave_the_wijk() {
    let mut genesis = coin_genesis(&[(1, 1_000)]);
    genesis.local_only = true;
    let mut chain = chain_with(genesis);
    let refused = run(&mut chain, 1, pay(SUPERMARKET, 10)).unwrap_err();
    assert!(matches!(refused, Error::NotLocal { .. }), "{refused}");
    assert!(refused
        .to_string()
        .starts_with("this coin stays in Testwijk: merchant"));
    run(&mut chain, 1, pay(GROCER, 10)).unwrap();
    run(&mut chain, 1, pay(2, 10)).unwrap();
}

#[test]
fn reserved_coins_cannot_be_spent_and_are_paid_out_or_released() {
    let mut chain = chain(&[(1, 1_000)]);
    let (buyer, seller) = (account(1), account(2));
    escrow(&mut chain, |ctx| Pallet.reserve(ctx, &buyer, 600)).unwrap();
    assert_eq!(balance(chain.reader(), &buyer), Ok(400));
    assert_eq!(reserved(chain.reader(), &buyer), Ok(600));
    assert_eq!(
        run(&mut chain, 1, pay(2, 500)),
        Err(insufficient(1, 400, 500))
    );
    assert_eq!(
        escrow(&mut chain, |ctx| Pallet
            .repatriate_reserved(ctx, &buyer, &seller, 700))
        .err(),
        Some(CurrencyError::InsufficientReserved {
            account: buyer,
            reserved: 600,
            needed: 700
        })
    );
    escrow(&mut chain, |ctx| {
        Pallet.repatriate_reserved(ctx, &buyer, &seller, 450)
    })
    .unwrap();
    escrow(&mut chain, |ctx| Pallet.unreserve(ctx, &buyer, 150)).unwrap();
    assert_eq!(balance(chain.reader(), &buyer), Ok(550));
    assert_eq!(balance(chain.reader(), &seller), Ok(450));
    assert_eq!(reserved(chain.reader(), &buyer), Ok(0));
    // An emptied reserve leaves no record behind.
    assert_eq!(RESERVED.get(chain.reader(), &buyer), Ok(None));
    assert_eq!(figures(&chain), (1_000, 1_000, 0));
}

#[test]
fn moving_holdings_to_a_new_key_takes_free_and_earmarked_coins() {
    let mut chain = chain(&[(1, 700), (CITY, 300)]);
    let earmark = food_in_the_wijk(Some(50));
    run(
        &mut chain,
        CITY,
        Call::EarmarkedTransfer {
            to: account(1),
            amount: 300,
            earmark: earmark.clone(),
        },
    )
    .unwrap();
    let new = account(77);
    let moved = chain
        .transact(|ctx| {
            Pallet
                .move_holdings(ctx, &account(1), &new)
                .map(|moved| moved.map(|amount| assert_eq!(amount, 1_000)))
        })
        .unwrap()
        .unwrap();
    assert_eq!(balance(chain.reader(), &new), Ok(700));
    assert_eq!(
        earmark::holdings_of(chain.reader(), &new),
        Ok(vec![(earmark.clone(), 300)])
    );
    assert!(moved.of::<Event>().contains(&Event::EarmarkMoved {
        from: account(1),
        to: new,
        earmark: earmark.id(),
        amount: 300
    }));
    // The expiry follows the holding.
    chain.block.height = 50;
    let expired = chain.end_block::<Pallet>().of::<Event>();
    assert_eq!(expired.len(), 1);
    assert_eq!(balance(chain.reader(), &account(CITY)), Ok(300));
    assert!(audit(chain.reader()).is_ok());
}

#[test]
fn an_audit_catches_a_balance_written_behind_the_coins_back() {
    let chain = chain(&[(1, 1_000)]);
    let mut state = StateOverlay::new(&chain.state);
    assert!(audit(&state).is_ok());
    wijk_system::set_balance(&mut state, &account(9), 5).unwrap();
    assert!(matches!(
        audit(&state),
        Err(AuditError::BalancesDoNotSum(_))
    ));
    state.rollback_transaction();
    EURO_RESERVE.put(&mut state, &999);
    TOTAL_SUPPLY.put(&mut state, &999);
    assert!(matches!(
        audit(&state),
        Err(AuditError::BalancesDoNotSum(_))
    ));
    state.rollback_transaction();
    DEPOSITS.insert(
        &mut state,
        &Hash([1; 32]),
        &DepositRecord {
            beneficiary: account(1),
            amount: 3,
            height: 1,
        },
    );
    assert!(matches!(
        audit(&state),
        Err(AuditError::ReserveDoesNotMatch(_))
    ));
    state.rollback_transaction();
    REDEMPTIONS_OWED.put(&mut state, &1);
    assert!(matches!(
        audit(&state),
        Err(AuditError::OwedDoesNotMatch(_))
    ));
}

/// One step of a random history: a call from an account, an escrow operation another
/// pallet would make through the [`Currency`] trait, or the end of a block.
#[derive(Debug, Clone)]
enum Step {
    Call(u8, Call),
    Reserve(u8, Cents),
    Unreserve(u8, Cents),
    Repatriate(u8, u8, Cents),
    /// A rekey's move of everything an account holds to another key (77 is fresh).
    MoveHoldings(u8, u8),
    EndBlock,
}

/// Accounts the random history uses: residents, the grocer, the supermarket, the city.
fn someone() -> impl Strategy<Value = u8> {
    prop_oneof![0u8..4, Just(GROCER), Just(SUPERMARKET), Just(CITY)]
}

fn step() -> impl Strategy<Value = Step> {
    let amount = 0u128..2_000;
    let reference = 0u8..20;
    prop_oneof![
        (someone(), someone(), amount.clone())
            .prop_map(|(w, to, amount)| Step::Call(w, pay(to, amount))),
        (someone(), someone(), amount.clone()).prop_map(|(w, to, amount)| Step::Call(
            w,
            Call::Gift {
                to: account(to),
                amount
            }
        )),
        (someone(), amount.clone()).prop_map(|(w, amount)| Step::Call(
            w,
            Call::Gift {
                to: pool_account("care"),
                amount
            }
        )),
        (someone(), amount.clone()).prop_map(|(to, amount)| Step::Call(
            HELPER,
            Call::PoolPay {
                pool: pool_account("care"),
                to: account(to),
                amount
            }
        )),
        (someone(), amount.clone(), reference.clone())
            .prop_map(|(to, amount, r)| Step::Call(OFFICE, mint(to, amount, &format!("d{r}")))),
        (
            someone(),
            amount.clone(),
            reference.clone(),
            proptest::option::of(1u64..30)
        )
            .prop_map(|(to, amount, r, expiry)| Step::Call(
                OFFICE,
                Call::Mint {
                    to: account(to),
                    amount,
                    deposit_ref: format!("e{r}").into_bytes(),
                    earmark: Some(food_in_the_wijk(expiry)),
                }
            )),
        (someone(), amount.clone(), proptest::option::of(1u64..30)).prop_map(
            |(to, amount, expiry)| Step::Call(
                CITY,
                Call::EarmarkedTransfer {
                    to: account(to),
                    amount,
                    earmark: food_in_the_wijk(expiry),
                }
            )
        ),
        (someone(), amount.clone()).prop_map(|(w, amount)| Step::Call(
            w,
            Call::RequestRedemption {
                amount,
                payout_to: Hash([1; 32])
            }
        )),
        (0u64..6).prop_map(|id| Step::Call(
            OFFICE,
            Call::PayRedemption {
                id,
                bank_ref: Hash([2; 32])
            }
        )),
        (someone(), amount.clone()).prop_map(|(w, amount)| Step::Reserve(w, amount)),
        (someone(), amount.clone()).prop_map(|(w, amount)| Step::Unreserve(w, amount)),
        (someone(), someone(), amount).prop_map(|(w, to, amount)| Step::Repatriate(w, to, amount)),
        (someone(), prop_oneof![someone(), Just(77u8)])
            .prop_map(|(from, to)| Step::MoveHoldings(from, to)),
        Just(Step::EndBlock),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever sequence of payments, gifts, pool payouts, mints (free and earmarked),
    /// earmarked transfers, redemptions and their payouts, escrow operations, moves of
    /// everything an account holds to another key, and expiries,
    /// succeeded or failed: no coin is created or destroyed outside mint and burn. After
    /// every step the free, reserved and earmarked balances sum to the supply, supply plus
    /// owed equals the reserve, the reserve equals deposits minus payouts, the owed figure
    /// equals the unpaid redemptions; and the supply moved by exactly what the step's
    /// events say was minted or burned.
    #[test]
    fn no_coin_is_created_or_destroyed_outside_mint_and_burn(steps in proptest::collection::vec(step(), 1..80)) {
        let mut chain = chain(&[(0, 5_000), (1, 300), (GROCER, 4_000), (CITY, 6_000)]);
        for step in steps {
            let before = supply(chain.reader()).unwrap().total_supply;
            let events = match step {
                Step::Call(who, call) => chain.dispatch::<Pallet>(Origin::Signed(account(who)), &call).ok(),
                Step::Reserve(who, amount) => escrow(&mut chain, |ctx| Pallet.reserve(ctx, &account(who), amount)).ok(),
                Step::Unreserve(who, amount) => escrow(&mut chain, |ctx| Pallet.unreserve(ctx, &account(who), amount)).ok(),
                Step::Repatriate(from, to, amount) => escrow(&mut chain, |ctx| Pallet.repatriate_reserved(ctx, &account(from), &account(to), amount)).ok(),
                Step::MoveHoldings(from, to) => escrow(&mut chain, |ctx| Ok(Pallet.move_holdings(ctx, &account(from), &account(to))?.map(|_| ()))).ok(),
                Step::EndBlock => {
                    let events = chain.end_block::<Pallet>();
                    chain.block.height += 3;
                    Some(events)
                }
            };
            let (mut minted, mut burned) = (0, 0);
            for event in events.map(|e| e.of::<Event>()).unwrap_or_default() {
                match event {
                    Event::Minted { amount, .. } => minted += amount,
                    Event::RedemptionRequested { amount, .. } => burned += amount,
                    _ => {}
                }
            }
            prop_assert_eq!(Pallet::check_invariants(chain.reader()).unwrap(), Ok(()));
            let audited = audit(chain.reader());
            prop_assert!(audited.is_ok(), "{:?}", audited);
            prop_assert_eq!(supply(chain.reader()).unwrap().total_supply, before + minted - burned);
        }
    }
}

#[test]
fn only_the_members_vote_spends_from_the_keyless_cooperative_fund_and_anyone_may_give_to_it() {
    let mut chain = chain(&[(0, 10_000)]);
    let fund = cooperative_fund();
    // A gift to the fund, like one to a pool: it is no member, yet it receives.
    chain
        .dispatch::<Pallet>(
            Origin::Signed(account(0)),
            &Call::Gift {
                to: fund,
                amount: 4_000,
            },
        )
        .unwrap();
    assert_eq!(balance(chain.reader(), &fund).unwrap(), 4_000);
    let spend = |amount, purpose: &str| Call::SpendFromFund {
        to: account(3),
        amount,
        purpose: purpose.into(),
    };
    for origin in [
        Origin::Signed(account(BOARD)),
        Origin::Collective(Collective::Board),
        Origin::Signed(account(0)),
    ] {
        assert!(matches!(
            chain.dispatch::<Pallet>(origin, &spend(1_000, "street party")),
            Err(Error::BadOrigin(_))
        ));
    }
    let members = Origin::Collective(Collective::Members);
    assert!(matches!(
        chain.dispatch::<Pallet>(members, &spend(1_000, "")),
        Err(Error::BadPurpose { .. })
    ));
    assert!(matches!(
        chain.dispatch::<Pallet>(members, &spend(4_001, "street party")),
        Err(Error::Currency(CurrencyError::InsufficientBalance { .. }))
    ));
    let events = chain
        .dispatch::<Pallet>(members, &spend(1_000, "street party"))
        .unwrap()
        .of::<Event>();
    assert!(matches!(
        events.as_slice(),
        [
            Event::Transferred { .. },
            Event::FundSpent { amount: 1_000, .. }
        ]
    ));
    assert_eq!(balance(chain.reader(), &account(3)).unwrap(), 1_000);
    assert_eq!(balance(chain.reader(), &fund).unwrap(), 3_000);
    assert!(audit(chain.reader()).is_ok());
}

#[test]
fn an_earmarked_payout_from_reserve_reads_as_reserve_paid_then_earmarked_and_a_refusal_changes_nothing(
) {
    let mut chain = chain(&[(CITY, 10_000)]);
    let city = account(CITY);
    let resident = account(4);
    escrow(&mut chain, |ctx| Pallet.reserve(ctx, &city, 5_000)).unwrap();
    let terms = EarmarkTerms {
        label: "Stad".into(),
        categories: vec![],
        region_only: true,
    };
    let events = escrow(&mut chain, |ctx| {
        Pallet.repatriate_reserved_earmarked(ctx, &city, &resident, 1_200, &terms)
    })
    .unwrap()
    .of::<Event>();
    assert!(matches!(
        events.as_slice(),
        [Event::ReservePaid { amount: 1_200, .. }, Event::Earmarked { from, to, amount: 1_200, .. }]
            if *from == resident && *to == resident
    ));
    assert_eq!(reserved(chain.reader(), &city).unwrap(), 3_800);
    let held = earmark::holdings_of(chain.reader(), &resident).unwrap();
    assert_eq!((held[0].0.funder, held[0].1), (city, 1_200));
    // Malformed terms, or more than is reserved: refused, nothing changed.
    let before = chain.state.clone();
    let bad = EarmarkTerms {
        categories: vec!["Not A Category".into()],
        ..terms.clone()
    };
    assert!(matches!(
        escrow(&mut chain, |ctx| Pallet
            .repatriate_reserved_earmarked(ctx, &city, &resident, 1, &bad)),
        Err(CurrencyError::BadEarmark { .. })
    ));
    assert!(matches!(
        escrow(&mut chain, |ctx| Pallet.repatriate_reserved_earmarked(
            ctx, &city, &resident, 3_801, &terms
        )),
        Err(CurrencyError::InsufficientReserved { .. })
    ));
    assert_eq!(chain.state, before);
    assert!(audit(chain.reader()).is_ok());
}
