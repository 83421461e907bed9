use super::*;
use proptest::prelude::*;
use std::collections::BTreeMap;

const CONTEXT: BlockContext = BlockContext {
    height: 1,
    timestamp_ms: 0,
    genesis_hash: wijk_primitives::Hash::ZERO,
};

fn account(n: u8) -> AccountId {
    AccountId([n; 32])
}

const ISSUER_ACCOUNT: u8 = 100;

fn genesis_backend(balances: &[(u8, Cents)]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let empty = BTreeMap::new();
    let mut overlay = StateOverlay::new(&empty);
    genesis(
        &mut overlay,
        &GenesisConfig {
            issuer: account(ISSUER_ACCOUNT),
            balances: balances.iter().map(|(a, c)| (account(*a), *c)).collect(),
        },
    )
    .unwrap();
    overlay.commit_transaction();
    overlay
        .into_changes()
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

fn run(state: &mut StateOverlay<'_>, who: u8, call: Call) -> Result<Event, Error> {
    let result = dispatch(state, &CONTEXT, Origin::Signed(account(who)), &call).unwrap();
    if result.is_ok() {
        state.commit_transaction();
    } else {
        state.rollback_transaction();
    }
    result
}

#[test]
fn an_account_listed_twice_at_genesis_holds_the_sum() {
    let backend = genesis_backend(&[(1, 500), (2, 10), (1, 700)]);
    let state = StateOverlay::new(&backend);
    assert_eq!(balance(&state, &account(1)), Ok(1_200));
    assert_eq!(supply(&backend), Ok((1_210, 1_210)));
    assert_eq!(
        wijk_system::account(&state, &account(1)).map(|info| info.nonce),
        Ok(0)
    );
}

#[test]
fn transfer_moves_coins_and_emits_event() {
    let backend = genesis_backend(&[(1, 1_000)]);
    let mut state = StateOverlay::new(&backend);
    let event = run(
        &mut state,
        1,
        Call::Transfer {
            to: account(2),
            amount: 250,
        },
    );
    assert_eq!(
        event,
        Ok(Event::Transferred {
            from: account(1),
            to: account(2),
            amount: 250
        })
    );
    assert_eq!(balance(&state, &account(1)), Ok(750));
    assert_eq!(balance(&state, &account(2)), Ok(250));
}

#[test]
fn transfer_with_insufficient_funds_fails_and_changes_nothing() {
    let backend = genesis_backend(&[(1, 100)]);
    let mut state = StateOverlay::new(&backend);
    let result = run(
        &mut state,
        1,
        Call::Transfer {
            to: account(2),
            amount: 101,
        },
    );
    assert_eq!(
        result,
        Err(Error::InsufficientBalance {
            account: account(1),
            available: 100,
            needed: 101
        })
    );
    assert_eq!(balance(&state, &account(1)), Ok(100));
    assert_eq!(balance(&state, &account(2)), Ok(0));
}

#[test]
fn zero_and_self_transfers_are_refused() {
    let backend = genesis_backend(&[(1, 100)]);
    let mut state = StateOverlay::new(&backend);
    assert_eq!(
        run(
            &mut state,
            1,
            Call::Transfer {
                to: account(2),
                amount: 0
            }
        ),
        Err(Error::ZeroAmount)
    );
    assert_eq!(
        run(
            &mut state,
            1,
            Call::Transfer {
                to: account(1),
                amount: 5
            }
        ),
        Err(Error::SelfTransfer)
    );
}

#[test]
fn only_the_issuer_mints_and_each_deposit_once() {
    let backend = genesis_backend(&[]);
    let mut state = StateOverlay::new(&backend);
    let mint = |amount| Call::Mint {
        to: account(3),
        amount,
        deposit_ref: b"bank-2026-0001".to_vec(),
    };
    assert_eq!(
        run(&mut state, 1, mint(500)),
        Err(Error::NotIssuer { caller: account(1) })
    );
    assert!(run(&mut state, ISSUER_ACCOUNT, mint(500)).is_ok());
    assert!(matches!(
        run(&mut state, ISSUER_ACCOUNT, mint(500)),
        Err(Error::DepositAlreadyRecorded { .. })
    ));
    assert_eq!(balance(&state, &account(3)), Ok(500));
    assert_eq!(TOTAL_SUPPLY.get(&state), Ok(Some(500)));
    assert_eq!(EURO_RESERVE.get(&state), Ok(Some(500)));
    let too_long = Call::Mint {
        to: account(3),
        amount: 1,
        deposit_ref: vec![b'x'; MAX_DEPOSIT_REF_BYTES + 1],
    };
    assert!(matches!(
        run(&mut state, ISSUER_ACCOUNT, too_long),
        Err(Error::BadDepositRef { .. })
    ));
}

#[test]
fn redeem_burns_supply_and_reserve_together() {
    let backend = genesis_backend(&[(1, 1_000)]);
    let mut state = StateOverlay::new(&backend);
    assert_eq!(
        run(&mut state, 1, Call::Redeem { amount: 200 }),
        Ok(Event::Redeemed {
            who: account(1),
            amount: 200
        })
    );
    assert_eq!(TOTAL_SUPPLY.get(&state), Ok(Some(800)));
    assert_eq!(EURO_RESERVE.get(&state), Ok(Some(800)));
    assert!(matches!(
        run(&mut state, 1, Call::Redeem { amount: 801 }),
        Err(Error::InsufficientBalance { .. })
    ));
}

fn operation() -> impl Strategy<Value = (u8, Call)> {
    let who = 0u8..6;
    prop_oneof![
        (who.clone(), 0u8..6, 0u128..2_000).prop_map(|(w, to, amount)| (
            w,
            Call::Transfer {
                to: account(to),
                amount
            }
        )),
        (0u8..6, 0u128..2_000, 0u8..20).prop_map(|(to, amount, r)| (
            ISSUER_ACCOUNT,
            Call::Mint {
                to: account(to),
                amount,
                deposit_ref: vec![b'd', r]
            }
        )),
        (0u8..6, 0u128..2_000, 0u8..20).prop_map(|(w, amount, r)| (
            w,
            Call::Mint {
                to: account(w),
                amount,
                deposit_ref: vec![b'x', r]
            }
        )),
        (who, 0u128..2_000).prop_map(|(w, amount)| (w, Call::Redeem { amount })),
    ]
}

proptest! {
    /// Whatever sequence of calls, succeeded or failed: supply == reserve == sum(balances).
    #[test]
    fn supply_equals_reserve_equals_sum_of_balances(ops in proptest::collection::vec(operation(), 1..80)) {
        let backend = genesis_backend(&[(0, 5_000), (1, 300)]);
        let mut state = StateOverlay::new(&backend);
        for (who, call) in ops {
            let _ = run(&mut state, who, call);
            prop_assert_eq!(check_invariant(&state).unwrap(), Ok(()));
            let sum: Cents = (0u8..6).chain([ISSUER_ACCOUNT]).map(|a| balance(&state, &account(a)).unwrap()).sum();
            prop_assert_eq!(Some(sum), TOTAL_SUPPLY.get(&state).unwrap());
        }
    }
}
