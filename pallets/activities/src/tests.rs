use super::*;
use proptest::prelude::*;
use wijk_coin::GenesisBalance;
use wijk_membership::GenesisMember;
use wijk_support::testing::{Events, TestChain};
use wijk_support::{Interfaces, NoEnactment, RoleSet};

const INTERFACES: Interfaces = Interfaces {
    currency: &wijk_coin::Pallet,
    membership: &wijk_membership::Pallet,
    collectives: &wijk_system::SpecBoard,
    geography: &wijk_support::Borderless,
    enactment: &NoEnactment,
};

fn account(n: u8) -> AccountId {
    AccountId([n; 32])
}

const BOARD: u8 = 1;
/// The city (funds neighbourhood help) and the health insurer (funds exercise).
const CITY: u8 = 2;
const INSURER: u8 = 3;
/// Verifiers: one for the category "neighbourhood-help", one for activity 2 only.
const HELP_VERIFIER: u8 = 4;
const EXERCISE_VERIFIER: u8 = 5;
/// A verifier who is also a resident and claims themselves.
const VERIFYING_RESIDENT: u8 = 6;
const GUARDIAN: u8 = 7;
/// Residents are 10 ..= 19.
const RESIDENTS: std::ops::RangeInclusive<u8> = 10..=19;

const NEIGHBOURHOOD_HELP: ActivityId = 0;
const FACADE_GARDEN: ActivityId = 1;
const EXERCISE: ActivityId = 2;

const MEMBERS: Origin = Origin::Collective(Collective::Members);

fn signed(n: u8) -> Origin {
    Origin::Signed(account(n))
}

fn member(n: u8, roles: &[Role]) -> GenesisMember {
    GenesisMember {
        account: account(n),
        roles: RoleSet::of(roles),
        tag: None,
        place: None,
    }
}

fn catalogue() -> Vec<GenesisActivity> {
    vec![
        GenesisActivity {
            name: "an hour of neighbourhood help".into(),
            unit: "hour".into(),
            category: "neighbourhood-help".into(),
            value: 250,
            max_units_per_period: Some(20),
        },
        GenesisActivity {
            name: "a facade garden planted".into(),
            unit: "garden".into(),
            category: "green".into(),
            value: 1_500,
            max_units_per_period: None,
        },
        GenesisActivity {
            name: "an hour of exercise with seniors".into(),
            unit: "hour".into(),
            category: "care".into(),
            value: 300,
            max_units_per_period: None,
        },
    ]
}

fn chain_with(rules: Rules) -> TestChain {
    let mut chain = TestChain::new(INTERFACES);
    chain.genesis::<wijk_system::Pallet>(&wijk_system::Genesis {
        board: vec![account(BOARD)],
        ..Default::default()
    });
    let mut members = vec![
        member(BOARD, &[Role::Board, Role::Resident]),
        member(CITY, &[Role::Organisation]),
        member(INSURER, &[Role::Organisation]),
        member(HELP_VERIFIER, &[Role::Verifier]),
        member(EXERCISE_VERIFIER, &[Role::Verifier]),
        member(VERIFYING_RESIDENT, &[Role::Verifier, Role::Resident]),
        member(GUARDIAN, &[Role::Intermediary]),
    ];
    members.extend(RESIDENTS.map(|n| member(n, &[Role::Resident])));
    chain.genesis::<wijk_membership::Pallet>(&wijk_membership::Genesis {
        members,
        ..Default::default()
    });
    chain.genesis::<wijk_coin::Pallet>(&wijk_coin::Genesis {
        balances: vec![
            GenesisBalance(account(CITY), 100_000),
            GenesisBalance(account(INSURER), 50_000),
        ],
        ..Default::default()
    });
    chain.genesis::<Pallet>(&Genesis {
        rules,
        catalogue: catalogue(),
        verifiers: vec![
            GenesisVerifier {
                account: account(HELP_VERIFIER),
                scope: VerifierScope::Category("neighbourhood-help".into()),
            },
            GenesisVerifier {
                account: account(EXERCISE_VERIFIER),
                scope: VerifierScope::Activity(EXERCISE),
            },
            GenesisVerifier {
                account: account(VERIFYING_RESIDENT),
                scope: VerifierScope::Category("neighbourhood-help".into()),
            },
        ],
        budgets: vec![
            GenesisBudget {
                funder: account(CITY),
                name: "Stad Gent neighbourhood help".into(),
                activities: vec![],
                categories: vec!["neighbourhood-help".into(), "green".into()],
                payout_earmark: None,
            },
            GenesisBudget {
                funder: account(INSURER),
                name: "exercise with seniors".into(),
                activities: vec![EXERCISE],
                categories: vec![],
                payout_earmark: Some(EarmarkTerms {
                    label: "Zorgkas: local shops".into(),
                    categories: vec![],
                    region_only: true,
                }),
            },
        ],
    });
    chain.begin_block::<Pallet>(10);
    chain
}

fn chain() -> TestChain {
    chain_with(Rules::default())
}

const CITY_BUDGET: BudgetId = 0;
const INSURER_BUDGET: BudgetId = 1;

fn ok(chain: &mut TestChain, origin: Origin, call: Call) -> Events {
    match chain.dispatch::<Pallet>(origin, &call) {
        Ok(events) => events,
        Err(error) => panic!("{call:?} failed: {error}"),
    }
}

fn refused(chain: &mut TestChain, origin: Origin, call: Call) -> Error {
    let before = chain.state.clone();
    match chain.dispatch::<Pallet>(origin, &call) {
        Ok(_) => panic!("{call:?} succeeded"),
        Err(error) => {
            assert_eq!(chain.state, before, "a refused call changed state");
            error
        }
    }
}

fn fund(chain: &mut TestChain, funder: u8, budget: BudgetId, amount: Cents) {
    ok(chain, signed(funder), Call::Fund { budget, amount });
}

/// Files a claim of `units` of `activity` done now; returns its number.
fn claim(chain: &mut TestChain, origin: Origin, activity: ActivityId, units: u32) -> ClaimId {
    let done_at_ms = chain.block.timestamp_ms;
    let events = ok(
        chain,
        origin,
        Call::Claim {
            activity,
            units,
            done_at_ms,
            evidence: Hash([9; 32]),
        },
    );
    match events.of::<Event>().as_slice() {
        [Event::Claimed { claim, .. }] => *claim,
        other => panic!("unexpected events {other:?}"),
    }
}

fn balance(chain: &TestChain, n: u8) -> Cents {
    wijk_coin::balance(chain.reader(), &account(n)).unwrap()
}

fn reserved(chain: &TestChain, n: u8) -> Cents {
    wijk_coin::reserved(chain.reader(), &account(n)).unwrap()
}

fn status(chain: &TestChain, id: ClaimId) -> ClaimStatus {
    super::claim(chain.reader(), id).unwrap().unwrap().status
}

fn remaining(chain: &TestChain, id: BudgetId) -> Cents {
    budget(chain.reader(), id).unwrap().unwrap().remaining
}

#[test]
fn funding_reserves_the_funders_coins_and_defunding_returns_them() {
    let mut chain = chain();
    fund(&mut chain, CITY, CITY_BUDGET, 40_000);
    assert_eq!(balance(&chain, CITY), 60_000);
    assert_eq!(reserved(&chain, CITY), 40_000);
    assert_eq!(remaining(&chain, CITY_BUDGET), 40_000);
    // Only the funder funds or takes back, and never more than is in it.
    assert!(matches!(
        refused(
            &mut chain,
            signed(INSURER),
            Call::Fund {
                budget: CITY_BUDGET,
                amount: 1
            }
        ),
        Error::NotFunder { .. }
    ));
    assert!(matches!(
        refused(
            &mut chain,
            signed(CITY),
            Call::Defund {
                budget: CITY_BUDGET,
                amount: 40_001
            }
        ),
        Error::OverBudget {
            remaining: 40_000,
            ..
        }
    ));
    assert!(matches!(
        refused(
            &mut chain,
            signed(CITY),
            Call::Fund {
                budget: CITY_BUDGET,
                amount: 60_001
            }
        ),
        Error::Currency(CurrencyError::InsufficientBalance { .. })
    ));
    ok(
        &mut chain,
        signed(CITY),
        Call::Defund {
            budget: CITY_BUDGET,
            amount: 40_000,
        },
    );
    assert_eq!(
        (balance(&chain, CITY), reserved(&chain, CITY)),
        (100_000, 0)
    );
    assert!(matches!(
        refused(
            &mut chain,
            signed(CITY),
            Call::Fund {
                budget: 9,
                amount: 1
            }
        ),
        Error::NoSuchBudget { budget: 9 }
    ));
}

#[test]
fn only_organisations_open_budgets_and_a_budget_names_real_activities() {
    let mut chain = chain();
    let open = |activities: Vec<ActivityId>, categories: Vec<String>| Call::OpenBudget {
        name: "street party".into(),
        activities,
        categories,
        payout_earmark: None,
    };
    assert!(matches!(
        refused(&mut chain, signed(10), open(vec![], vec![])),
        Error::Membership(MembershipError::MissingRole {
            role: Role::Organisation,
            ..
        })
    ));
    assert!(matches!(
        refused(&mut chain, signed(CITY), open(vec![7], vec![])),
        Error::NoSuchActivity { activity: 7 }
    ));
    assert!(matches!(
        refused(
            &mut chain,
            signed(CITY),
            open(vec![], vec!["Not A Category".into()])
        ),
        Error::BadBudget { .. }
    ));
    let events = ok(&mut chain, signed(CITY), open(vec![FACADE_GARDEN], vec![]));
    assert!(matches!(
        events.of::<Event>().as_slice(),
        [Event::BudgetOpened { budget: 2, .. }]
    ));
}

#[test]
fn a_claim_without_attestation_is_never_paid() {
    let mut chain = chain();
    fund(&mut chain, CITY, CITY_BUDGET, 40_000);
    let id = claim(&mut chain, signed(10), NEIGHBOURHOOD_HELP, 4);
    assert_eq!(status(&chain, id), ClaimStatus::Pending);
    // Asking for the payout of a pending claim is refused; blocks pass; nothing is paid.
    assert!(matches!(
        refused(
            &mut chain,
            signed(10),
            Call::Pay {
                claim: id,
                budget: None
            }
        ),
        Error::WrongStatus { .. }
    ));
    for height in 11..20 {
        chain.begin_block::<Pallet>(height);
        chain.end_block::<Pallet>();
    }
    assert_eq!(balance(&chain, 10), 0);
    assert_eq!(remaining(&chain, CITY_BUDGET), 40_000);
}

#[test]
fn an_attested_claim_is_paid_once_at_its_value_from_the_matching_budget() {
    let mut chain = chain();
    fund(&mut chain, CITY, CITY_BUDGET, 40_000);
    let id = claim(&mut chain, signed(10), NEIGHBOURHOOD_HELP, 4);
    let events = ok(
        &mut chain,
        signed(HELP_VERIFIER),
        Call::Attest { claim: id },
    );
    assert_eq!(
        events.of::<Event>(),
        vec![
            Event::Attested {
                claim: id,
                verifier: account(HELP_VERIFIER)
            },
            Event::PaidOut {
                claim: id,
                to: account(10),
                budget: CITY_BUDGET,
                funder: account(CITY),
                amount: 1_000,
                earmarked: false,
                activity: NEIGHBOURHOOD_HELP,
                units: 4,
                category: "neighbourhood-help".into(),
            },
        ]
    );
    assert_eq!(balance(&chain, 10), 1_000);
    assert_eq!(remaining(&chain, CITY_BUDGET), 39_000);
    assert_eq!(reserved(&chain, CITY), 39_000);
    // Paid at most once: attesting again, or asking again, is refused.
    for call in [
        Call::Attest { claim: id },
        Call::Pay {
            claim: id,
            budget: None,
        },
    ] {
        assert!(matches!(
            refused(&mut chain, signed(HELP_VERIFIER), call),
            Error::WrongStatus { .. }
        ));
    }
    assert!(matches!(
        refused(
            &mut chain,
            signed(HELP_VERIFIER),
            Call::Reject {
                claim: id,
                reason: "late".into()
            }
        ),
        Error::WrongStatus { .. }
    ));
    assert_eq!(balance(&chain, 10), 1_000);
}

#[test]
fn a_verifier_cannot_decide_their_own_claim_nor_one_outside_their_registration() {
    let mut chain = chain();
    fund(&mut chain, CITY, CITY_BUDGET, 40_000);
    let own = claim(
        &mut chain,
        signed(VERIFYING_RESIDENT),
        NEIGHBOURHOOD_HELP,
        2,
    );
    for call in [
        Call::Attest { claim: own },
        Call::Reject {
            claim: own,
            reason: "no".into(),
        },
    ] {
        assert!(matches!(
            refused(&mut chain, signed(VERIFYING_RESIDENT), call),
            Error::OwnClaim { .. }
        ));
    }
    // Another verifier of the category may.
    ok(
        &mut chain,
        signed(HELP_VERIFIER),
        Call::Attest { claim: own },
    );
    // The exercise verifier is registered for activity 2 only.
    let help = claim(&mut chain, signed(11), NEIGHBOURHOOD_HELP, 1);
    assert!(matches!(
        refused(
            &mut chain,
            signed(EXERCISE_VERIFIER),
            Call::Attest { claim: help }
        ),
        Error::NotVerifierFor {
            activity: NEIGHBOURHOOD_HELP,
            ..
        }
    ));
    // A resident without the verifier role may not, even if registered.
    ok(
        &mut chain,
        signed(BOARD),
        Call::AddVerifier {
            verifier: account(HELP_VERIFIER),
            scope: VerifierScope::Activity(EXERCISE),
        },
    );
    assert!(matches!(
        refused(&mut chain, signed(12), Call::Attest { claim: help }),
        Error::Membership(MembershipError::MissingRole {
            role: Role::Verifier,
            ..
        })
    ));
    // Registering needs the board and the role.
    assert!(matches!(
        refused(
            &mut chain,
            signed(12),
            Call::AddVerifier {
                verifier: account(12),
                scope: VerifierScope::Activity(EXERCISE)
            }
        ),
        Error::BadOrigin(_)
    ));
    assert!(matches!(
        refused(
            &mut chain,
            signed(BOARD),
            Call::AddVerifier {
                verifier: account(12),
                scope: VerifierScope::Activity(EXERCISE)
            }
        ),
        Error::Membership(MembershipError::MissingRole {
            role: Role::Verifier,
            ..
        })
    ));
}

#[test]
fn a_guardian_claims_for_their_member_and_may_not_attest_what_they_filed() {
    let mut chain = chain();
    fund(&mut chain, CITY, CITY_BUDGET, 40_000);
    let on_behalf = Origin::Guardian {
        guardian: account(GUARDIAN),
        member: account(13),
    };
    let id = claim(&mut chain, on_behalf, NEIGHBOURHOOD_HELP, 3);
    let record = super::claim(chain.reader(), id).unwrap().unwrap();
    assert_eq!(
        (record.participant, record.filed_by),
        (account(13), Some(account(GUARDIAN)))
    );
    assert_eq!(
        claims_of(chain.reader(), &account(13), 10).unwrap(),
        vec![id]
    );
    ok(
        &mut chain,
        signed(HELP_VERIFIER),
        Call::Attest { claim: id },
    );
    assert_eq!(balance(&chain, 13), 750);
    assert_eq!(balance(&chain, GUARDIAN), 0);
}

#[test]
fn an_empty_budget_leaves_the_attested_claim_payable_when_money_arrives() {
    let mut chain = chain();
    let id = claim(&mut chain, signed(10), NEIGHBOURHOOD_HELP, 4);
    let events = ok(
        &mut chain,
        signed(HELP_VERIFIER),
        Call::Attest { claim: id },
    );
    assert!(matches!(
        events.of::<Event>().as_slice(),
        [
            Event::Attested { .. },
            Event::AwaitingFunds { amount: 1_000, .. }
        ]
    ));
    assert!(matches!(
        status(&chain, id),
        ClaimStatus::AwaitingFunds { .. }
    ));
    // Asking again while no budget can pay: a clear error, and the claim still waits.
    let error = refused(
        &mut chain,
        signed(10),
        Call::Pay {
            claim: id,
            budget: None,
        },
    );
    assert!(matches!(error, Error::NoFundedBudget { needed: 1_000, .. }));
    assert!(error.to_string().contains("wijk activity pay"), "{error}");
    // Too little money is not enough either: claims are never split over budgets.
    fund(&mut chain, CITY, CITY_BUDGET, 999);
    assert!(matches!(
        refused(
            &mut chain,
            signed(10),
            Call::Pay {
                claim: id,
                budget: None
            }
        ),
        Error::NoFundedBudget { .. }
    ));
    fund(&mut chain, CITY, CITY_BUDGET, 1);
    // A budget named that does not pay for the activity is refused, and says so.
    fund(&mut chain, INSURER, INSURER_BUDGET, 5_000);
    assert!(matches!(
        refused(
            &mut chain,
            signed(10),
            Call::Pay {
                claim: id,
                budget: Some(INSURER_BUDGET)
            }
        ),
        Error::BudgetCannotPay {
            budget: INSURER_BUDGET,
            ..
        }
    ));
    let events = ok(
        &mut chain,
        signed(10),
        Call::Pay {
            claim: id,
            budget: Some(CITY_BUDGET),
        },
    );
    assert!(matches!(
        events.of::<Event>().as_slice(),
        [Event::PaidOut { amount: 1_000, .. }]
    ));
    assert_eq!(balance(&chain, 10), 1_000);
    assert!(matches!(
        status(&chain, id),
        ClaimStatus::Paid {
            budget: CITY_BUDGET,
            ..
        }
    ));
    assert!(matches!(
        refused(
            &mut chain,
            signed(10),
            Call::Pay {
                claim: id,
                budget: None
            }
        ),
        Error::WrongStatus { .. }
    ));
    assert!(open_claims(chain.reader(), None, 10)
        .unwrap()
        .entries
        .is_empty());
}

#[test]
fn only_the_members_vote_sets_a_value_and_claims_are_paid_at_the_value_when_the_work_was_done() {
    let mut chain = chain();
    fund(&mut chain, CITY, CITY_BUDGET, 40_000);
    let set = Call::SetValue {
        activity: NEIGHBOURHOOD_HELP,
        value: 400,
    };
    for origin in [
        signed(BOARD),
        Origin::Collective(Collective::Board),
        signed(CITY),
    ] {
        assert!(matches!(
            refused(&mut chain, origin, set.clone()),
            Error::BadOrigin(_)
        ));
    }
    let worked_before_ms = chain.block.timestamp_ms;
    chain.begin_block::<Pallet>(20);
    ok(&mut chain, MEMBERS, set);
    chain.begin_block::<Pallet>(30);
    // Work done before the vote is worth the old value, work done after it the new one.
    let before = ok(
        &mut chain,
        signed(10),
        Call::Claim {
            activity: NEIGHBOURHOOD_HELP,
            units: 2,
            done_at_ms: worked_before_ms,
            evidence: Hash([1; 32]),
        },
    );
    assert!(matches!(
        before.of::<Event>().as_slice(),
        [Event::Claimed { amount: 500, .. }]
    ));
    let after = claim(&mut chain, signed(11), NEIGHBOURHOOD_HELP, 2);
    assert_eq!(
        super::claim(chain.reader(), after).unwrap().unwrap().amount,
        800
    );
    // Work done in the very block the value changed counts at the old value.
    let enacted_at = value_history(chain.reader(), NEIGHBOURHOOD_HELP).unwrap()[1];
    assert_eq!(enacted_at.since_ms, 20_001);
    assert_eq!(enacted_at.value, 400);
    let history = value_history(chain.reader(), NEIGHBOURHOOD_HELP).unwrap();
    assert_eq!(
        history
            .iter()
            .map(|change| change.value)
            .collect::<Vec<_>>(),
        vec![250, 400]
    );
    let record = activity(chain.reader(), NEIGHBOURHOOD_HELP)
        .unwrap()
        .unwrap();
    assert_eq!(
        value_at(chain.reader(), 0, &record, 20_000).unwrap(),
        Some(250)
    );
    assert_eq!(
        value_at(chain.reader(), 0, &record, 20_001).unwrap(),
        Some(400)
    );
    ok(
        &mut chain,
        signed(HELP_VERIFIER),
        Call::Attest { claim: after },
    );
    assert_eq!(balance(&chain, 11), 800);
}

#[test]
fn the_members_add_and_retire_activities_and_retired_work_is_claimable_only_from_before() {
    let mut chain = chain();
    let add = Call::AddActivity {
        name: "half an hour of Dutch practice with a newcomer".into(),
        unit: "half hour".into(),
        category: "language".into(),
        value: 150,
        max_units_per_period: Some(16),
    };
    assert!(matches!(
        refused(&mut chain, signed(BOARD), add.clone()),
        Error::BadOrigin(_)
    ));
    let events = ok(&mut chain, MEMBERS, add);
    assert!(matches!(
        events.of::<Event>().as_slice(),
        [Event::ActivityAdded {
            activity: 3,
            value: 150,
            ..
        }]
    ));
    assert!(matches!(
        refused(
            &mut chain,
            MEMBERS,
            Call::AddActivity {
                name: "x".into(),
                unit: "hour".into(),
                category: "Bad Category".into(),
                value: 1,
                max_units_per_period: None
            }
        ),
        Error::BadActivity { .. }
    ));
    let worked_ms = chain.block.timestamp_ms;
    chain.begin_block::<Pallet>(20);
    ok(
        &mut chain,
        MEMBERS,
        Call::RetireActivity {
            activity: FACADE_GARDEN,
        },
    );
    chain.begin_block::<Pallet>(21);
    assert!(matches!(
        refused(
            &mut chain,
            signed(10),
            Call::Claim {
                activity: FACADE_GARDEN,
                units: 1,
                done_at_ms: 21_000,
                evidence: Hash([1; 32])
            }
        ),
        Error::Retired {
            activity: FACADE_GARDEN,
            ..
        }
    ));
    ok(
        &mut chain,
        signed(10),
        Call::Claim {
            activity: FACADE_GARDEN,
            units: 1,
            done_at_ms: worked_ms,
            evidence: Hash([1; 32]),
        },
    );
    assert!(matches!(
        refused(
            &mut chain,
            MEMBERS,
            Call::SetValue {
                activity: FACADE_GARDEN,
                value: 10
            }
        ),
        Error::Retired { .. }
    ));
}

#[test]
fn claims_are_dated_in_the_window_and_capped_per_person_and_period() {
    let mut chain = chain_with(Rules {
        max_earned_per_period: Some(6_300),
        max_open_claims: 3,
        ..Rules::default()
    });
    let now = chain.block.timestamp_ms;
    let dated = |done_at_ms| Call::Claim {
        activity: NEIGHBOURHOOD_HELP,
        units: 1,
        done_at_ms,
        evidence: Hash([1; 32]),
    };
    assert!(matches!(
        refused(&mut chain, signed(10), dated(now + 1)),
        Error::DoneInFuture { .. }
    ));
    chain.begin_block::<Pallet>(61 * 86_400);
    assert!(matches!(
        refused(&mut chain, signed(10), dated(now)),
        Error::TooLate { window_days: 60 }
    ));
    // The unit cap (20 hours a period) and the coin cap (63.00 a period).
    let today = chain.block.timestamp_ms;
    claim(&mut chain, signed(10), NEIGHBOURHOOD_HELP, 18);
    assert!(matches!(
        refused(
            &mut chain,
            signed(10),
            Call::Claim {
                activity: NEIGHBOURHOOD_HELP,
                units: 3,
                done_at_ms: today,
                evidence: Hash([1; 32])
            }
        ),
        Error::OverUnitCap {
            cap: 20,
            already: 18,
            asked: 3,
            ..
        }
    ));
    let garden = claim(&mut chain, signed(10), FACADE_GARDEN, 1);
    assert!(matches!(
        refused(
            &mut chain,
            signed(10),
            Call::Claim {
                activity: FACADE_GARDEN,
                units: 1,
                done_at_ms: today,
                evidence: Hash([1; 32])
            }
        ),
        Error::OverEarnedCap {
            cap: 6_300,
            already: 6_000,
            asked: 1_500
        }
    ));
    // A rejection gives its share back.
    ok(
        &mut chain,
        signed(BOARD),
        Call::AddVerifier {
            verifier: account(HELP_VERIFIER),
            scope: VerifierScope::Category("green".into()),
        },
    );
    ok(
        &mut chain,
        signed(HELP_VERIFIER),
        Call::Reject {
            claim: garden,
            reason: "no garden at this address".into(),
        },
    );
    assert!(matches!(
        status(&chain, garden),
        ClaimStatus::Rejected { .. }
    ));
    claim(&mut chain, signed(10), FACADE_GARDEN, 1);
    // The open claims cap: three await a verifier at most.
    claim(&mut chain, signed(10), EXERCISE, 1);
    assert!(matches!(
        refused(
            &mut chain,
            signed(10),
            Call::Claim {
                activity: EXERCISE,
                units: 1,
                done_at_ms: today,
                evidence: Hash([1; 32])
            }
        ),
        Error::TooManyOpenClaims { max: 3 }
    ));
    // Another person has their own caps.
    claim(&mut chain, signed(11), NEIGHBOURHOOD_HELP, 20);
}

#[test]
fn a_participant_withdraws_only_their_own_pending_claim_and_a_rejection_needs_a_reason() {
    let mut chain = chain();
    let id = claim(&mut chain, signed(10), NEIGHBOURHOOD_HELP, 1);
    assert!(matches!(
        refused(&mut chain, signed(11), Call::WithdrawClaim { claim: id }),
        Error::NotYours { .. }
    ));
    assert!(matches!(
        refused(
            &mut chain,
            signed(HELP_VERIFIER),
            Call::Reject {
                claim: id,
                reason: " ".into()
            }
        ),
        Error::BadReason { .. }
    ));
    ok(&mut chain, signed(10), Call::WithdrawClaim { claim: id });
    assert!(matches!(status(&chain, id), ClaimStatus::Withdrawn { .. }));
    assert!(matches!(
        refused(
            &mut chain,
            signed(HELP_VERIFIER),
            Call::Attest { claim: id }
        ),
        Error::WrongStatus { .. }
    ));
    assert!(matches!(
        refused(
            &mut chain,
            signed(HELP_VERIFIER),
            Call::Attest { claim: 99 }
        ),
        Error::NoSuchClaim { claim: 99 }
    ));
}

#[test]
fn a_budget_naming_the_activity_pays_before_one_for_its_category_or_for_all() {
    let mut chain = chain();
    ok(
        &mut chain,
        signed(CITY),
        Call::OpenBudget {
            name: "anything".into(),
            activities: vec![],
            categories: vec![],
            payout_earmark: None,
        },
    );
    ok(
        &mut chain,
        signed(CITY),
        Call::OpenBudget {
            name: "neighbourhood help, hours only".into(),
            activities: vec![NEIGHBOURHOOD_HELP],
            categories: vec![],
            payout_earmark: None,
        },
    );
    for budget in [CITY_BUDGET, 2, 3] {
        fund(&mut chain, CITY, budget, 1_000);
    }
    let paid_by = |chain: &mut TestChain, resident: u8, activity| {
        let id = claim(chain, signed(resident), activity, 1);
        let verifier = if activity == EXERCISE {
            EXERCISE_VERIFIER
        } else {
            HELP_VERIFIER
        };
        ok(chain, signed(verifier), Call::Attest { claim: id });
        match status(chain, id) {
            ClaimStatus::Paid { budget, .. } => budget,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(paid_by(&mut chain, 10, NEIGHBOURHOOD_HELP), 3);
    // The insurer's budget is empty: exercise falls to the budget for every activity.
    assert_eq!(paid_by(&mut chain, 11, EXERCISE), 2);
    fund(&mut chain, INSURER, INSURER_BUDGET, 1_000);
    assert_eq!(paid_by(&mut chain, 12, EXERCISE), INSURER_BUDGET);
    // Once the activity's own budget is spent, the category's pays.
    for resident in 13..=15 {
        assert_eq!(paid_by(&mut chain, resident, NEIGHBOURHOOD_HELP), 3);
    }
    assert_eq!(remaining(&chain, 3), 0);
    assert_eq!(paid_by(&mut chain, 16, NEIGHBOURHOOD_HELP), CITY_BUDGET);
}

#[test]
fn an_earmarked_budget_pays_coins_that_only_local_shops_take() {
    let mut chain = chain();
    fund(&mut chain, INSURER, INSURER_BUDGET, 10_000);
    let id = claim(&mut chain, signed(10), EXERCISE, 2);
    let events = ok(
        &mut chain,
        signed(EXERCISE_VERIFIER),
        Call::Attest { claim: id },
    );
    assert!(matches!(
        events.of::<Event>().as_slice(),
        [
            Event::Attested { .. },
            Event::PaidOut {
                amount: 600,
                earmarked: true,
                ..
            }
        ]
    ));
    assert_eq!(balance(&chain, 10), 0);
    let held = wijk_coin::earmark::holdings_of(chain.reader(), &account(10)).unwrap();
    assert_eq!(held.len(), 1);
    let (earmark, amount) = &held[0];
    assert_eq!(
        (earmark.funder, earmark.region_only, *amount),
        (account(INSURER), true, 600)
    );
    assert_eq!(reserved(&chain, INSURER), 9_400);
    assert!(wijk_coin::audit(chain.reader()).is_ok());
}

/// One step of a random history.
#[derive(Debug, Clone)]
enum Step {
    Fund {
        funder: bool,
        budget: BudgetId,
        amount: Cents,
    },
    Defund {
        funder: bool,
        budget: BudgetId,
        amount: Cents,
    },
    Claim {
        resident: u8,
        activity: ActivityId,
        units: u32,
    },
    Attest {
        verifier: u8,
        claim: u64,
    },
    Reject {
        verifier: u8,
        claim: u64,
    },
    Withdraw {
        resident: u8,
        claim: u64,
    },
    Pay {
        claim: u64,
    },
    SetValue {
        activity: ActivityId,
        value: Cents,
    },
    Block,
}

fn step() -> impl Strategy<Value = Step> {
    let verifier = prop_oneof![
        Just(HELP_VERIFIER),
        Just(EXERCISE_VERIFIER),
        Just(VERIFYING_RESIDENT)
    ];
    // Attestations and funding come often, so most histories pay out.
    prop_oneof![
        3 => (any::<bool>(), 0u32..3, 1u128..5_000).prop_map(|(funder, budget, amount)| Step::Fund { funder, budget, amount }),
        1 => (any::<bool>(), 0u32..3, 1u128..3_000).prop_map(|(funder, budget, amount)| Step::Defund { funder, budget, amount }),
        4 => (prop_oneof![Just(VERIFYING_RESIDENT), 10u8..=19], 0u32..4, 0u32..25)
            .prop_map(|(resident, activity, units)| Step::Claim { resident, activity, units }),
        4 => (verifier.clone(), 0u64..8).prop_map(|(verifier, claim)| Step::Attest { verifier, claim }),
        1 => (verifier, 0u64..8).prop_map(|(verifier, claim)| Step::Reject { verifier, claim }),
        1 => (10u8..=19, 0u64..8).prop_map(|(resident, claim)| Step::Withdraw { resident, claim }),
        2 => (0u64..8).prop_map(|claim| Step::Pay { claim }),
        1 => (0u32..3, 0u128..600).prop_map(|(activity, value)| Step::SetValue { activity, value }),
        1 => Just(Step::Block),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// Over random histories of funding, claims, decisions and value changes: no coin is
    /// created or destroyed (supply, and free + reserved + earmarked, stay what genesis
    /// made); each budget's unspent coins are exactly reserved on its funder; a claim is paid
    /// only once attested, exactly once, at units times the value in force when the work was
    /// done; and the caps' counters equal a recount of the claims that count.
    #[test]
    fn no_coin_is_created_or_lost_and_claims_are_paid_once_and_only_when_attested(
        steps in proptest::collection::vec(step(), 20..150)
    ) {
        let mut chain = chain();
        ok(&mut chain, signed(CITY), Call::OpenBudget {
            name: "all activities".into(),
            activities: vec![],
            categories: vec![],
            payout_earmark: Some(EarmarkTerms { label: "local".into(), categories: vec![], region_only: true }),
        });
        ok(&mut chain, signed(BOARD), Call::AddVerifier {
            verifier: account(HELP_VERIFIER),
            scope: VerifierScope::Category("green".into()),
        });
        let supply = wijk_coin::supply(chain.reader()).unwrap().total_supply;
        let mut height = 10;
        let mut paid_events: Vec<(ClaimId, Cents)> = Vec::new();
        for step in steps {
            let funder_of = |city: bool| if city { CITY } else { INSURER };
            // A claim selector picks among the claims filed so far (7 names one never filed).
            let filed = claim_count(chain.reader()).unwrap();
            let pick = |selector: u64| if selector == 7 || filed == 0 { filed + selector } else { selector % filed };
            let (origin, call) = match step {
                Step::Fund { funder, budget, amount } => (signed(funder_of(funder)), Call::Fund { budget, amount }),
                Step::Defund { funder, budget, amount } => (signed(funder_of(funder)), Call::Defund { budget, amount }),
                Step::Claim { resident, activity, units } => (signed(resident), Call::Claim {
                    activity, units, done_at_ms: chain.block.timestamp_ms.saturating_sub(units as u64 * 700),
                    evidence: Hash([resident; 32]),
                }),
                Step::Attest { verifier, claim } => (signed(verifier), Call::Attest { claim: pick(claim) }),
                Step::Reject { verifier, claim } => (signed(verifier), Call::Reject { claim: pick(claim), reason: "no".into() }),
                Step::Withdraw { resident, claim } => (signed(resident), Call::WithdrawClaim { claim: pick(claim) }),
                Step::Pay { claim } => (signed(10), Call::Pay { claim: pick(claim), budget: (claim % 2 == 1).then_some((claim / 2) as u32 % 3) }),
                Step::SetValue { activity, value } => (MEMBERS, Call::SetValue { activity, value }),
                Step::Block => {
                    height += 1;
                    chain.begin_block::<Pallet>(height);
                    continue;
                }
            };
            if let Ok(events) = chain.dispatch::<Pallet>(origin, &call) {
                for event in events.of::<Event>() {
                    if let Event::PaidOut { claim, amount, .. } = event {
                        paid_events.push((claim, amount));
                    }
                }
            }
            let audit = wijk_coin::audit(chain.reader()).unwrap();
            prop_assert_eq!(audit.supply.total_supply, supply);
            prop_assert_eq!(audit.free_balances + audit.reserved_balances + audit.earmarked_balances, supply);
            let mut held = std::collections::BTreeMap::<AccountId, Cents>::new();
            let mut paid_out: Cents = 0;
            for (_, budget) in budgets(chain.reader(), None, None, 100).unwrap().entries {
                *held.entry(budget.funder).or_default() += budget.remaining;
                prop_assert_eq!(budget.funded, budget.remaining + budget.paid_out + budget.withdrawn);
                paid_out += budget.paid_out;
            }
            for funder in [CITY, INSURER] {
                prop_assert_eq!(held.get(&account(funder)).copied().unwrap_or(0), reserved(&chain, funder));
            }
            // Claims: paid once, only attested, at the value in force when the work was done.
            let mut units = std::collections::BTreeMap::<(Hash, ActivityId, u64), u32>::new();
            let mut earned = std::collections::BTreeMap::<(Hash, u64), Cents>::new();
            let mut paid_claims: Cents = 0;
            for id in 0..claim_count(chain.reader()).unwrap() {
                let record = super::claim(chain.reader(), id).unwrap().unwrap();
                let activity = activity(chain.reader(), record.activity).unwrap().unwrap();
                let value = value_at(chain.reader(), record.activity, &activity, record.done_at_ms).unwrap();
                prop_assert_eq!(Some(record.value_per_unit), value);
                prop_assert_eq!(record.amount, record.value_per_unit * Cents::from(record.units));
                let times_paid = paid_events.iter().filter(|(claim, _)| *claim == id).count();
                let is_paid = matches!(record.status, ClaimStatus::Paid { .. });
                prop_assert_eq!(times_paid, usize::from(is_paid));
                if is_paid {
                    paid_claims += record.amount;
                }
                if record.status.counts() {
                    *units.entry((record.person, record.activity, record.period)).or_default() += record.units;
                    *earned.entry((record.person, record.period)).or_default() += record.amount;
                }
            }
            prop_assert_eq!(paid_claims, paid_out);
            let mut stored_units = std::collections::BTreeMap::new();
            UNITS.for_each(chain.reader(), |key, value| { stored_units.insert(key, value); }).unwrap();
            prop_assert_eq!(stored_units, units);
            let mut stored_earned = std::collections::BTreeMap::new();
            EARNED.for_each(chain.reader(), |key, value| { stored_earned.insert(key, value); }).unwrap();
            prop_assert_eq!(stored_earned, earned);
        }
    }
}

#[test]
fn a_verifier_who_filed_a_claim_as_guardian_may_not_decide_it() {
    let mut chain = chain();
    let filed_for = Origin::Guardian {
        guardian: account(VERIFYING_RESIDENT),
        member: account(14),
    };
    let id = claim(&mut chain, filed_for, NEIGHBOURHOOD_HELP, 2);
    let record = super::claim(chain.reader(), id).unwrap().unwrap();
    assert!(record.filed_by_person.is_some());
    assert!(matches!(
        refused(
            &mut chain,
            signed(VERIFYING_RESIDENT),
            Call::Attest { claim: id }
        ),
        Error::OwnClaim { .. }
    ));
    ok(
        &mut chain,
        signed(HELP_VERIFIER),
        Call::Attest { claim: id },
    );
}
