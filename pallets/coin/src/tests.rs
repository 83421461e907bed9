use super::*;
use proptest::prelude::*;
use wijk_support::testing::{Events, TestChain};
use wijk_support::{Interfaces, OpenMembership, Pallet as _};

const INTERFACES: Interfaces = Interfaces {
    currency: &Pallet,
    membership: &OpenMembership,
    collectives: &wijk_system::SpecBoard,
};

fn account(n: u8) -> AccountId {
    AccountId([n; 32])
}

const ISSUER_ACCOUNT: u8 = 100;

fn chain(balances: &[(u8, Cents)]) -> TestChain {
    let mut chain = TestChain::new(INTERFACES);
    chain.genesis::<Pallet>(&Genesis {
        issuer: account(ISSUER_ACCOUNT),
        balances: balances
            .iter()
            .map(|(a, c)| GenesisBalance(account(*a), *c))
            .collect(),
    });
    chain
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

#[test]
fn an_account_listed_twice_at_genesis_holds_the_sum_and_one_deposit_record() {
    let chain = chain(&[(1, 500), (2, 10), (1, 700)]);
    let state = chain.reader();
    assert_eq!(balance(state, &account(1)), Ok(1_200));
    assert_eq!(supply(state), Ok((1_210, 1_210)));
    assert_eq!(
        wijk_system::account(state, &account(1)).map(|info| info.nonce),
        Ok(0)
    );
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
fn transfer_moves_coins_and_emits_event() {
    let mut chain = chain(&[(1, 1_000)]);
    let call = Call::Transfer {
        to: account(2),
        amount: 250,
    };
    assert_eq!(
        run(&mut chain, 1, call),
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
fn a_guardian_moves_the_members_coins_not_their_own() {
    let mut chain = chain(&[(1, 1_000), (7, 50)]);
    let call = Call::Transfer {
        to: account(2),
        amount: 100,
    };
    let origin = Origin::Guardian {
        guardian: account(7),
        member: account(1),
    };
    assert!(chain.dispatch::<Pallet>(origin, &call).is_ok());
    assert_eq!(balance(chain.reader(), &account(1)), Ok(900));
    assert_eq!(balance(chain.reader(), &account(7)), Ok(50));
    // Minting needs the issuer's own signature, never a guardian's.
    let mint = Call::Mint {
        to: account(2),
        amount: 1,
        deposit_ref: b"x".to_vec(),
    };
    let by_guardian = Origin::Guardian {
        guardian: account(7),
        member: account(ISSUER_ACCOUNT),
    };
    assert!(matches!(
        chain.dispatch::<Pallet>(by_guardian, &mint),
        Err(Error::BadOrigin(_))
    ));
}

#[test]
fn transfer_with_insufficient_funds_fails_and_changes_nothing() {
    let mut chain = chain(&[(1, 100)]);
    let call = Call::Transfer {
        to: account(2),
        amount: 101,
    };
    assert_eq!(run(&mut chain, 1, call), Err(insufficient(1, 100, 101)));
    assert_eq!(balance(chain.reader(), &account(1)), Ok(100));
    assert_eq!(balance(chain.reader(), &account(2)), Ok(0));
}

#[test]
fn zero_and_self_transfers_are_refused() {
    let mut chain = chain(&[(1, 100)]);
    let to = |n, amount| Call::Transfer {
        to: account(n),
        amount,
    };
    assert_eq!(
        run(&mut chain, 1, to(2, 0)),
        Err(Error::Currency(CurrencyError::ZeroAmount))
    );
    assert_eq!(
        run(&mut chain, 1, to(1, 5)),
        Err(Error::Currency(CurrencyError::SelfTransfer))
    );
}

#[test]
fn only_the_issuer_mints_and_each_deposit_once() {
    let mut chain = chain(&[]);
    let mint = |amount| Call::Mint {
        to: account(3),
        amount,
        deposit_ref: b"bank-2026-0001".to_vec(),
    };
    assert_eq!(
        run(&mut chain, 1, mint(500)),
        Err(Error::NotIssuer { caller: account(1) })
    );
    assert!(run(&mut chain, ISSUER_ACCOUNT, mint(500)).is_ok());
    assert!(matches!(
        run(&mut chain, ISSUER_ACCOUNT, mint(500)),
        Err(Error::Currency(
            CurrencyError::DepositAlreadyRecorded { .. }
        ))
    ));
    assert_eq!(balance(chain.reader(), &account(3)), Ok(500));
    assert_eq!(supply(chain.reader()), Ok((500, 500)));
    let too_long = Call::Mint {
        to: account(3),
        amount: 1,
        deposit_ref: vec![b'x'; MAX_DEPOSIT_REF_BYTES + 1],
    };
    assert!(matches!(
        run(&mut chain, ISSUER_ACCOUNT, too_long),
        Err(Error::Currency(CurrencyError::BadDepositRef { .. }))
    ));
}

#[test]
fn redeem_burns_supply_and_reserve_together_and_is_recorded() {
    let mut chain = chain(&[(1, 1_000)]);
    assert_eq!(
        run(&mut chain, 1, Call::Redeem { amount: 200 }),
        Ok(vec![Event::Redeemed {
            who: account(1),
            amount: 200
        }])
    );
    assert_eq!(supply(chain.reader()), Ok((800, 800)));
    assert_eq!(
        REDEMPTIONS.page(chain.reader(), 0, 10),
        Ok(vec![(
            0,
            RedemptionRecord {
                who: account(1),
                amount: 200,
                height: 1
            }
        )])
    );
    assert_eq!(
        run(&mut chain, 1, Call::Redeem { amount: 801 }),
        Err(insufficient(1, 800, 801))
    );
}

#[test]
fn reserved_coins_cannot_be_spent_and_are_paid_out_or_released() {
    let mut chain = chain(&[(1, 1_000)]);
    let (buyer, seller) = (account(1), account(2));
    escrow(&mut chain, |ctx| Pallet.reserve(ctx, &buyer, 600)).unwrap();
    assert_eq!(balance(chain.reader(), &buyer), Ok(400));
    assert_eq!(reserved(chain.reader(), &buyer), Ok(600));
    let spend = Call::Transfer {
        to: seller,
        amount: 500,
    };
    assert_eq!(run(&mut chain, 1, spend), Err(insufficient(1, 400, 500)));
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
    assert_eq!(supply(chain.reader()), Ok((1_000, 1_000)));
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
}

/// One step of a random history: a call from an account, or an escrow operation another
/// pallet would make through the [`Currency`] trait.
#[derive(Debug, Clone)]
enum Step {
    Call(u8, Call),
    Reserve(u8, Cents),
    Unreserve(u8, Cents),
    Repatriate(u8, u8, Cents),
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0u8..6;
    let amount = 0u128..2_000;
    prop_oneof![
        (who.clone(), 0u8..6, amount.clone()).prop_map(|(w, to, amount)| Step::Call(
            w,
            Call::Transfer {
                to: account(to),
                amount
            }
        )),
        (0u8..6, amount.clone(), 0u8..20).prop_map(|(to, amount, r)| Step::Call(
            ISSUER_ACCOUNT,
            Call::Mint {
                to: account(to),
                amount,
                deposit_ref: vec![b'd', r]
            }
        )),
        (0u8..6, amount.clone(), 0u8..20).prop_map(|(w, amount, r)| Step::Call(
            w,
            Call::Mint {
                to: account(w),
                amount,
                deposit_ref: vec![b'x', r]
            }
        )),
        (who.clone(), amount.clone())
            .prop_map(|(w, amount)| Step::Call(w, Call::Redeem { amount })),
        (who.clone(), amount.clone()).prop_map(|(w, amount)| Step::Reserve(w, amount)),
        (who.clone(), amount.clone()).prop_map(|(w, amount)| Step::Unreserve(w, amount)),
        (who.clone(), who, amount).prop_map(|(w, to, amount)| Step::Repatriate(w, to, amount)),
    ]
}

proptest! {
    /// Whatever sequence of calls and escrow operations, succeeded or failed: no coin is
    /// created or destroyed outside mint and burn. After every step the free and reserved
    /// balances sum to the supply, the supply equals the reserve, and the reserve equals
    /// the recorded deposits minus the recorded redemptions; and the supply moved by
    /// exactly what the step's events say was minted or redeemed.
    #[test]
    fn no_coin_is_created_or_destroyed_outside_mint_and_burn(steps in proptest::collection::vec(step(), 1..80)) {
        let mut chain = chain(&[(0, 5_000), (1, 300)]);
        for step in steps {
            let before = supply(chain.reader()).unwrap().0;
            let events = match step {
                Step::Call(who, call) => chain.dispatch::<Pallet>(Origin::Signed(account(who)), &call).ok(),
                Step::Reserve(who, amount) => escrow(&mut chain, |ctx| Pallet.reserve(ctx, &account(who), amount)).ok(),
                Step::Unreserve(who, amount) => escrow(&mut chain, |ctx| Pallet.unreserve(ctx, &account(who), amount)).ok(),
                Step::Repatriate(from, to, amount) => escrow(&mut chain, |ctx| Pallet.repatriate_reserved(ctx, &account(from), &account(to), amount)).ok(),
            };
            let (mut minted, mut burned) = (0, 0);
            for event in events.map(|e| e.of::<Event>()).unwrap_or_default() {
                match event {
                    Event::Minted { amount, .. } => minted += amount,
                    Event::Redeemed { amount, .. } => burned += amount,
                    _ => {}
                }
            }
            prop_assert_eq!(Pallet::check_invariants(chain.reader()).unwrap(), Ok(()));
            let audited = audit(chain.reader());
            prop_assert!(audited.is_ok(), "{:?}", audited);
            prop_assert_eq!(supply(chain.reader()).unwrap().0, before + minted - burned);
        }
    }
}
