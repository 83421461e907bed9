//! The stats pallet's rules: incremental figures equal the in-memory recount over random
//! blocks of facts (periods crossed, members active many times, breakdowns), levels never
//! below zero, goals' lines and statuses.

use proptest::prelude::*;
use std::collections::BTreeMap;
use wijk_primitives::AccountId;
use wijk_support::{StateOverlay, StateRead};

use super::*;
use crate::recount::Recount;

#[derive(Debug, Clone)]
enum TestFact {
    Active(u8),
    NewMember,
    Mint(u32),
    Redeem(u32),
    Pay(u32),
    Sale(u32),
    Payout(u8, u8, u32, u32),
    Deal(u8, u32),
    Earmark(u32),
    Unearmark(u32),
    Reserve(u32),
    Unreserve(u32),
}

const CATEGORIES: [&str; 3] = ["neighbourhood-help", "green", "care"];

fn test_fact() -> impl Strategy<Value = TestFact> {
    prop_oneof![
        (0u8..6).prop_map(TestFact::Active),
        Just(TestFact::NewMember),
        (1u32..5_000).prop_map(TestFact::Mint),
        (1u32..5_000).prop_map(TestFact::Redeem),
        (1u32..5_000).prop_map(TestFact::Pay),
        (1u32..5_000).prop_map(TestFact::Sale),
        (0u8..3, 0u8..3, 1u32..8, 1u32..5_000)
            .prop_map(|(a, c, u, x)| TestFact::Payout(a, c, u, x)),
        (0u8..3, 1u32..5_000).prop_map(|(c, x)| TestFact::Deal(c, x)),
        (1u32..5_000).prop_map(TestFact::Earmark),
        (1u32..5_000).prop_map(TestFact::Unearmark),
        (1u32..5_000).prop_map(TestFact::Reserve),
        (1u32..5_000).prop_map(TestFact::Unreserve),
    ]
}

fn fact(test: &TestFact) -> Fact<'static> {
    match *test {
        TestFact::Active(n) => Fact::Active(AccountId([n; 32])),
        TestFact::NewMember => Fact::NewMember,
        TestFact::Mint(x) => Fact::Minted(x.into()),
        TestFact::Redeem(x) => Fact::Redeemed(x.into()),
        TestFact::Pay(x) => Fact::Payment(x.into()),
        TestFact::Sale(x) => Fact::MerchantSale(x.into()),
        TestFact::Payout(activity, category, units, x) => Fact::ActivityPayout {
            activity: activity.into(),
            category: CATEGORIES[usize::from(category)],
            units,
            amount: x.into(),
        },
        TestFact::Deal(category, x) => Fact::DealSettled {
            category: CATEGORIES[usize::from(category)],
            amount: x.into(),
        },
        TestFact::Earmark(x) => Fact::EarmarkIn(x.into()),
        TestFact::Unearmark(x) => Fact::EarmarkOut(x.into()),
        TestFact::Reserve(x) => Fact::ReserveIn(x.into()),
        TestFact::Unreserve(x) => Fact::ReserveOut(x.into()),
    }
}

/// Facts that never take a level below zero (an outgoing amount is cut to what is held).
fn feasible(blocks: &[Vec<TestFact>], start: Levels) -> Vec<Vec<Fact<'static>>> {
    let mut levels = start;
    blocks
        .iter()
        .map(|facts| {
            facts
                .iter()
                .filter_map(|test| {
                    let mut fact = fact(test);
                    let cut = |amount: &mut u128, held: u128| *amount = (*amount).min(held);
                    match &mut fact {
                        Fact::Redeemed(x) => cut(x, levels.circulating),
                        Fact::EarmarkOut(x) => cut(x, levels.earmarked),
                        Fact::ReserveOut(x) => cut(x, levels.reserved),
                        _ => {}
                    }
                    levels.apply(&fact).ok()?;
                    Some(fact)
                })
                .collect()
        })
        .collect()
}

fn new_state(period_blocks: u64, levels: Levels) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let empty = BTreeMap::new();
    let mut state = StateOverlay::new(&empty);
    PERIOD_BLOCKS.put(&mut state, &period_blocks);
    set_genesis_levels(&mut state, levels);
    state.commit_transaction();
    state
        .into_changes()
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn incremental_figures_equal_the_recount(
        blocks in proptest::collection::vec(proptest::collection::vec(test_fact(), 0..10), 1..30),
        period_blocks in 1u64..7,
    ) {
        let start = Levels { circulating: 10_000, earmarked: 0, reserved: 0 };
        let blocks = feasible(&blocks, start);
        let mut backend = new_state(period_blocks, start);
        let mut recount = Recount::new(period_blocks, start);
        for (index, facts) in blocks.iter().enumerate() {
            let height = index as u64 + 1;
            let mut tally = BlockTally::default();
            recount.begin_block(height);
            for fact in facts {
                tally.add(*fact);
                recount.fact(*fact).unwrap();
            }
            recount.end_block();
            let mut state = StateOverlay::new(&backend);
            record_block(&mut state, height, tally).unwrap().unwrap();
            state.commit_transaction();
            for (key, value) in state.into_changes() {
                match value {
                    Some(value) => { backend.insert(key, value); }
                    None => { backend.remove(&key); }
                }
            }
        }
        let state: &dyn StateRead = &backend;
        for (period, figures) in &recount.periods {
            prop_assert_eq!(&PERIODS.get(state, period).unwrap().unwrap(), figures);
        }
        prop_assert_eq!(PERIODS.page(state, None, 1000).unwrap().entries.len(), recount.periods.len());
        for (key, figures) in &recount.by_activity {
            prop_assert_eq!(&BY_ACTIVITY.get(state, key).unwrap().unwrap(), figures);
        }
        for (key, figures) in &recount.by_category {
            prop_assert_eq!(&BY_CATEGORY.get(state, key).unwrap().unwrap(), figures);
        }
        for (key, figures) in &recount.deals {
            prop_assert_eq!(&DEALS_BY_CATEGORY.get(state, key).unwrap().unwrap(), figures);
        }
        prop_assert_eq!(levels(state).unwrap(), recount.levels());
    }
}

#[test]
fn a_level_never_goes_below_zero() {
    let backend = new_state(10, Levels::default());
    let mut state = StateOverlay::new(&backend);
    let mut tally = BlockTally::default();
    tally.add(Fact::Redeemed(1));
    let refused = record_block(&mut state, 1, tally).unwrap().unwrap_err();
    assert_eq!(refused.level, "circulating coins");
}

#[test]
fn gdp_is_sales_payouts_and_deals_and_not_payments() {
    let backend = new_state(
        10,
        Levels {
            circulating: 1_000,
            ..Levels::default()
        },
    );
    let mut state = StateOverlay::new(&backend);
    let mut tally = BlockTally::default();
    for fact in [
        Fact::Payment(500),
        Fact::MerchantSale(200),
        Fact::ActivityPayout {
            activity: 0,
            category: "care",
            units: 2,
            amount: 300,
        },
        Fact::DealSettled {
            category: "repair",
            amount: 50,
        },
        Fact::Active(AccountId([1; 32])),
        Fact::Active(AccountId([1; 32])),
    ] {
        tally.add(fact);
    }
    record_block(&mut state, 3, tally).unwrap().unwrap();
    let figures = period(&state, 0).unwrap().unwrap();
    assert_eq!(figures.gdp(), 550);
    assert_eq!(figures.payments, 500);
    assert_eq!(figures.active_members, 1);
    assert_eq!(figures.velocity_milli(), 500);
    let breakdown = breakdown(&state, 0, 10).unwrap();
    assert_eq!(
        breakdown.deals_by_category,
        vec![(
            "repair".to_string(),
            DealFigures {
                deals: 1,
                value: 50
            }
        )]
    );
    assert_eq!(breakdown.by_category[0].0, "care");
}

fn goal(baseline: u64, target: u64) -> Goal {
    Goal {
        name: "more help".into(),
        metric: Metric::ActivityUnits(ActivityFilter::All),
        per_active_member: false,
        baseline,
        baseline_period: None,
        target,
        first_period: 2,
        deadline_period: 5,
        set_at: 0,
        set_by: None,
        retired: false,
    }
}

#[test]
fn a_goal_follows_the_line_from_baseline_to_target() {
    let rising = goal(100, 500);
    assert_eq!(
        (2..=5).map(|p| rising.expected_at(p)).collect::<Vec<_>>(),
        vec![200, 300, 400, 500]
    );
    let values = BTreeMap::from([(2, 250u64), (3, 280)]);
    let (progress, status) = rising
        .progress(Some(3), |p| Ok(values.get(&p).copied()))
        .unwrap();
    assert!(progress[0].on_track && !progress[1].on_track);
    assert_eq!(status, GoalStatus::Behind);
    let values = BTreeMap::from([(2, 250u64), (3, 300), (4, 400), (5, 520)]);
    let (_, status) = rising
        .progress(Some(9), |p| Ok(values.get(&p).copied()))
        .unwrap();
    assert_eq!(status, GoalStatus::Achieved);
    let falling = goal(500, 100);
    assert_eq!(falling.expected_at(5), 100);
    let (_, status) = falling.progress(Some(5), |_| Ok(Some(150))).unwrap();
    assert_eq!(status, GoalStatus::Missed);
    let (_, status) = rising.progress(None, |_| Ok(Some(1))).unwrap();
    assert_eq!(status, GoalStatus::NotStarted);
}
