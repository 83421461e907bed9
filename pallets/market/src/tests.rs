use super::*;
use proptest::prelude::*;
use wijk_coin::{Earmark, GenesisBalance};
use wijk_membership::GenesisMember;
use wijk_support::testing::{Events, TestChain};
use wijk_support::{Interfaces, NoEnactment, Place, Role, RoleSet};

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
/// The city: funds earmarked food coins.
const CITY: u8 = 2;
/// An intermediary: guardian of resident 14, organiser of job-seekers' teams, mediator.
const GUARDIAN: u8 = 3;
/// A second intermediary with no stake in anything.
const MEDIATOR: u8 = 4;
/// Merchants: a grocer (food) and a bike repairer (mobility).
const GROCER: u8 = 5;
const BIKES: u8 = 6;
/// Residents are 10 ..= 19; 14 has a guardian.
const RESIDENTS: std::ops::RangeInclusive<u8> = 10..=19;
const GUARDED: u8 = 14;
/// Blocks before a rekey takes effect.
const REKEY_DELAY: Height = 5;

fn signed(n: u8) -> Origin {
    Origin::Signed(account(n))
}

fn member(n: u8, roles: &[Role], place: Option<Place>) -> GenesisMember {
    GenesisMember {
        account: account(n),
        roles: RoleSet::of(roles),
        tag: None,
        place,
    }
}

fn shop(category: &str) -> Option<Place> {
    Some(Place {
        location: GeoPoint {
            lat: 51_060_000,
            lon: 3_712_000,
        },
        category: category.into(),
    })
}

fn chain_with(rules: Rules) -> TestChain {
    let mut chain = TestChain::new(INTERFACES);
    chain.genesis::<wijk_system::Pallet>(&wijk_system::Genesis {
        board: vec![account(BOARD)],
        ..Default::default()
    });
    let mut members = vec![
        member(BOARD, &[Role::Board, Role::Resident], None),
        member(CITY, &[Role::Organisation], None),
        member(GUARDIAN, &[Role::Intermediary], None),
        member(MEDIATOR, &[Role::Intermediary], None),
        member(GROCER, &[Role::Merchant], shop("food")),
        member(BIKES, &[Role::Merchant], shop("mobility")),
    ];
    members.extend(RESIDENTS.map(|n| member(n, &[Role::Resident], None)));
    chain.genesis::<wijk_membership::Pallet>(&wijk_membership::Genesis {
        members,
        rekey_delay_blocks: REKEY_DELAY,
        ..Default::default()
    });
    let appoint = wijk_membership::Call::AppointGuardian {
        member: account(GUARDED),
        guardian: account(GUARDIAN),
        daily_cap: 100_000,
    };
    if let Err(error) = chain.dispatch::<wijk_membership::Pallet>(signed(GUARDED), &appoint) {
        panic!("appointing the guardian failed: {error}");
    }
    let mut balances = vec![GenesisBalance(account(CITY), 100_000)];
    balances.extend(RESIDENTS.map(|n| GenesisBalance(account(n), 10_000)));
    chain.genesis::<wijk_coin::Pallet>(&wijk_coin::Genesis {
        balances,
        ..Default::default()
    });
    chain.genesis::<Pallet>(&Genesis { rules });
    chain.begin_block::<Pallet>(10);
    chain
}

fn chain() -> TestChain {
    chain_with(Rules {
        max_open_listings: 4,
        max_listing_blocks: 1_000,
        start_within_blocks: 20,
        complete_within_blocks: 50,
    })
}

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

fn balance(chain: &TestChain, n: u8) -> Cents {
    wijk_coin::balance(chain.reader(), &account(n)).unwrap()
}

fn reserved(chain: &TestChain, n: u8) -> Cents {
    wijk_coin::reserved(chain.reader(), &account(n)).unwrap()
}

fn earmarked(chain: &TestChain, n: u8) -> Cents {
    wijk_coin::earmark::holdings_of(chain.reader(), &account(n))
        .unwrap()
        .iter()
        .map(|(_, amount)| *amount)
        .sum()
}

fn post_call(kind: ListingKind, amount: Cents, per_hour: bool, hours: Option<u32>) -> Call {
    Call::Post {
        kind,
        title: "bike repair".into(),
        category: "repairs".into(),
        price: Price { amount, per_hour },
        hours,
        location: None,
        expires_at: 500,
        text_hash: Hash([3; 32]),
        team: Vec::new(),
    }
}

/// Posts and returns the listing's number.
fn post(chain: &mut TestChain, origin: Origin, call: Call) -> ListingId {
    let events = ok(chain, origin, call);
    match events.of::<Event>().as_slice() {
        [Event::Posted { listing, .. }] => *listing,
        other => panic!("unexpected events {other:?}"),
    }
}

/// Accepts and returns the deal's number.
fn accept(chain: &mut TestChain, origin: Origin, listing: ListingId, hours: Option<u32>) -> DealId {
    let events = ok(
        chain,
        origin,
        Call::Accept {
            listing,
            hours,
            team: Vec::new(),
        },
    );
    match events.of::<Event>().as_slice() {
        [Event::Accepted { deal, .. }] => *deal,
        other => panic!("unexpected events {other:?}"),
    }
}

fn status(chain: &TestChain, id: DealId) -> DealStatus {
    deal(chain.reader(), id).unwrap().unwrap().status
}

/// Runs the hook at the end of blocks up to `height`.
fn run_to(chain: &mut TestChain, height: Height) -> Vec<Event> {
    let mut events = Vec::new();
    while chain.block.height < height {
        let next = chain.block.height + 1;
        chain.begin_block::<Pallet>(next);
        events.extend(chain.end_block::<Pallet>().of::<Event>());
    }
    events
}

/// Gives `to` food coins of the city, spendable only at food shops.
fn give_food_coins(chain: &mut TestChain, to: u8, amount: Cents) {
    let call = wijk_coin::Call::EarmarkedTransfer {
        to: account(to),
        amount,
        earmark: Earmark {
            funder: account(CITY),
            label: "food".into(),
            categories: vec!["food".into()],
            region_only: false,
            expires_at: None,
        },
    };
    if let Err(error) = chain.dispatch::<wijk_coin::Pallet>(signed(CITY), &call) {
        panic!("earmarking failed: {error}");
    }
}

fn assert_conserved(chain: &TestChain, supply: Cents) {
    let audit = wijk_coin::audit(chain.reader()).unwrap();
    assert_eq!(audit.supply.total_supply, supply);
    assert_eq!(
        audit.free_balances + audit.reserved_balances + audit.earmarked_balances,
        supply
    );
}

fn supply(chain: &TestChain) -> Cents {
    wijk_coin::supply(chain.reader()).unwrap().total_supply
}

#[test]
fn an_offer_bought_by_the_hour_is_held_in_escrow_and_paid_when_the_buyer_confirms() {
    let mut chain = chain();
    let supply = supply(&chain);
    let listing = post(
        &mut chain,
        signed(11),
        post_call(ListingKind::Offer, 1_500, true, None),
    );
    let deal_id = accept(&mut chain, signed(12), listing, Some(3));
    assert_eq!(balance(&chain, 12), 10_000 - 4_500);
    assert_eq!(reserved(&chain, 12), 4_500);
    assert_eq!(escrow_total(chain.reader()).unwrap(), 4_500);
    ok(&mut chain, signed(11), Call::Start { deal: deal_id });
    // Only the buyer confirms; a seller cannot.
    assert!(matches!(
        refused(&mut chain, signed(11), Call::Complete { deal: deal_id }),
        Error::NotParty { .. }
    ));
    let events = ok(&mut chain, signed(12), Call::Complete { deal: deal_id });
    assert!(events
        .of::<Event>()
        .iter()
        .any(|e| matches!(e, Event::Completed { amount: 4_500, .. })));
    assert_eq!(balance(&chain, 11), 10_000 + 4_500);
    assert_eq!(reserved(&chain, 12), 0);
    assert_eq!(escrow_total(chain.reader()).unwrap(), 0);
    // Completing twice, or refunding after completion, is refused.
    assert!(matches!(
        refused(&mut chain, signed(12), Call::Complete { deal: deal_id }),
        Error::WrongStatus { .. }
    ));
    assert!(matches!(
        refused(&mut chain, signed(11), Call::Cancel { deal: deal_id }),
        Error::WrongStatus { .. }
    ));
    // The offer stays open: a service is sold again.
    accept(&mut chain, signed(13), listing, Some(1));
    assert_conserved(&chain, supply);
}

#[test]
fn an_expired_offer_cannot_be_accepted_and_the_hook_closes_it() {
    let mut chain = chain();
    let listing = post(
        &mut chain,
        signed(11),
        post_call(ListingKind::Offer, 500, false, None),
    );
    run_to(&mut chain, 499);
    chain.begin_block::<Pallet>(500);
    assert!(matches!(
        refused(
            &mut chain,
            signed(12),
            Call::Accept {
                listing,
                hours: None,
                team: vec![]
            }
        ),
        Error::ListingExpired {
            expires_at: 500,
            ..
        }
    ));
    let events = chain.end_block::<Pallet>().of::<Event>();
    assert!(matches!(events.as_slice(), [Event::ListingExpired { .. }]));
    assert!(matches!(
        super::listing(chain.reader(), listing)
            .unwrap()
            .unwrap()
            .status,
        ListingStatus::Expired { .. }
    ));
    assert!(open_listings(chain.reader(), ListingKind::Offer, None, 10)
        .unwrap()
        .is_empty());
}

#[test]
fn listings_are_checked_and_capped_per_member() {
    let mut chain = chain();
    let bad = |chain: &mut TestChain, call: Call| refused(chain, signed(11), call);
    let mut call = post_call(ListingKind::Offer, 500, false, None);
    if let Call::Post { title, .. } = &mut call {
        *title = " ".into();
    }
    assert!(matches!(bad(&mut chain, call), Error::BadListing { .. }));
    assert!(matches!(
        bad(&mut chain, post_call(ListingKind::Offer, 0, false, None)),
        Error::BadListing { .. }
    ));
    assert!(matches!(
        bad(
            &mut chain,
            post_call(ListingKind::Offer, 500, false, Some(2))
        ),
        Error::BadHours { .. }
    ));
    assert!(matches!(
        bad(&mut chain, post_call(ListingKind::Request, 500, true, None)),
        Error::BadHours { .. }
    ));
    let mut far = post_call(ListingKind::Offer, 500, false, None);
    if let Call::Post { expires_at, .. } = &mut far {
        *expires_at = 10 + 1_001;
    }
    assert!(matches!(bad(&mut chain, far), Error::BadListing { .. }));
    // A resident names no team; only an intermediary does.
    let mut team = post_call(ListingKind::Offer, 500, false, None);
    if let Call::Post { team: members, .. } = &mut team {
        *members = vec![account(15), account(16)];
    }
    assert!(matches!(bad(&mut chain, team), Error::Membership(_)));
    for _ in 0..4 {
        post(
            &mut chain,
            signed(11),
            post_call(ListingKind::Offer, 500, false, None),
        );
    }
    assert!(matches!(
        bad(&mut chain, post_call(ListingKind::Offer, 500, false, None)),
        Error::TooManyListings { max: 4, .. }
    ));
    // Withdrawing one makes room; a stranger cannot withdraw it.
    assert!(matches!(
        refused(&mut chain, signed(12), Call::Withdraw { listing: 0 }),
        Error::NotOwner { .. }
    ));
    ok(&mut chain, signed(11), Call::Withdraw { listing: 0 });
    post(
        &mut chain,
        signed(11),
        post_call(ListingKind::Offer, 500, false, None),
    );
    // Nobody buys their own offer.
    assert!(matches!(
        refused(
            &mut chain,
            signed(11),
            Call::Accept {
                listing: 1,
                hours: None,
                team: vec![]
            }
        ),
        Error::OwnListing { .. }
    ));
}

#[test]
fn a_request_is_paid_into_escrow_when_posted_and_a_team_takes_it_in_equal_shares() {
    let mut chain = chain();
    let supply = supply(&chain);
    // Resident 12 wants 4 hours of garden work at 10.01 an hour.
    let listing = post(
        &mut chain,
        signed(12),
        post_call(ListingKind::Request, 1_001, true, Some(4)),
    );
    assert_eq!(reserved(&chain, 12), 4_004);
    assert_eq!(escrow_total(chain.reader()).unwrap(), 4_004);
    // The intermediary takes it for a team of three job-seekers.
    let events = ok(
        &mut chain,
        signed(GUARDIAN),
        Call::Accept {
            listing,
            hours: None,
            team: vec![account(15), account(16), account(17)],
        },
    );
    let Some(Event::Accepted { deal: deal_id, .. }) = events.of::<Event>().into_iter().next()
    else {
        panic!("no deal");
    };
    // Taken: nobody else accepts it.
    assert!(matches!(
        refused(
            &mut chain,
            signed(13),
            Call::Accept {
                listing,
                hours: None,
                team: vec![]
            }
        ),
        Error::ListingClosed { .. }
    ));
    // The organiser starts; the buyer confirms; 40.04 in three shares (the odd cent first).
    ok(&mut chain, signed(GUARDIAN), Call::Start { deal: deal_id });
    ok(&mut chain, signed(12), Call::Complete { deal: deal_id });
    assert_eq!(balance(&chain, 15), 10_000 + 1_335);
    assert_eq!(balance(&chain, 16), 10_000 + 1_335);
    assert_eq!(balance(&chain, 17), 10_000 + 1_334);
    assert_eq!(reserved(&chain, 12), 0);
    assert_eq!(split_equally(4_004, 3), vec![1_335, 1_335, 1_334]);
    assert_conserved(&chain, supply);
}

#[test]
fn a_withdrawn_or_expired_request_returns_its_escrow() {
    let mut chain = chain();
    let first = post(
        &mut chain,
        signed(12),
        post_call(ListingKind::Request, 2_000, false, None),
    );
    post(
        &mut chain,
        signed(12),
        post_call(ListingKind::Request, 3_000, false, None),
    );
    assert_eq!(reserved(&chain, 12), 5_000);
    ok(&mut chain, signed(12), Call::Withdraw { listing: first });
    assert_eq!(reserved(&chain, 12), 3_000);
    run_to(&mut chain, 500);
    assert_eq!(reserved(&chain, 12), 0);
    assert_eq!(balance(&chain, 12), 10_000);
    assert_eq!(escrow_total(chain.reader()).unwrap(), 0);
}

#[test]
fn the_buyer_cancels_before_the_start_and_only_the_seller_after() {
    let mut chain = chain();
    let listing = post(
        &mut chain,
        signed(11),
        post_call(ListingKind::Offer, 700, false, None),
    );
    let first = accept(&mut chain, signed(12), listing, None);
    ok(&mut chain, signed(12), Call::Cancel { deal: first });
    assert_eq!(balance(&chain, 12), 10_000);
    let second = accept(&mut chain, signed(12), listing, None);
    ok(&mut chain, signed(11), Call::Start { deal: second });
    assert!(matches!(
        refused(&mut chain, signed(12), Call::Cancel { deal: second }),
        Error::NotParty { .. }
    ));
    ok(&mut chain, signed(11), Call::Cancel { deal: second });
    assert_eq!(balance(&chain, 12), 10_000);
    assert!(matches!(
        status(&chain, second),
        DealStatus::Cancelled { .. }
    ));
}

#[test]
fn a_deal_not_started_or_not_completed_in_time_is_refunded_unless_disputed() {
    let mut chain = chain();
    let listing = post(
        &mut chain,
        signed(11),
        post_call(ListingKind::Offer, 700, false, None),
    );
    let never_started = accept(&mut chain, signed(12), listing, None);
    let never_confirmed = accept(&mut chain, signed(13), listing, None);
    let disputed = accept(&mut chain, signed(15), listing, None);
    ok(
        &mut chain,
        signed(11),
        Call::Start {
            deal: never_confirmed,
        },
    );
    ok(&mut chain, signed(11), Call::Start { deal: disputed });
    ok(
        &mut chain,
        signed(11),
        Call::Dispute {
            deal: disputed,
            reason: "the buyer does not answer".into(),
        },
    );
    // Start by block 30 (accepted at 10, 20 blocks): at 30 still in time, refunded after.
    run_to(&mut chain, 30);
    assert_eq!(status(&chain, never_started), DealStatus::Accepted);
    let events = run_to(&mut chain, 31);
    assert!(matches!(events.as_slice(), [Event::TimedOut { late, .. }] if late == "start"));
    assert_eq!(balance(&chain, 12), 10_000);
    let events = run_to(&mut chain, 61);
    assert!(matches!(events.as_slice(), [Event::TimedOut { late, .. }] if late == "completion"));
    assert_eq!(balance(&chain, 13), 10_000);
    assert!(matches!(
        status(&chain, disputed),
        DealStatus::Disputed { .. }
    ));
    assert_eq!(reserved(&chain, 15), 700);
}

#[test]
fn a_dispute_is_raised_by_a_party_and_resolved_by_someone_without_a_stake() {
    let mut chain = chain();
    let supply = supply(&chain);
    let listing = post(
        &mut chain,
        signed(GUARDED),
        post_call(ListingKind::Offer, 1_000, false, None),
    );
    let id = accept(&mut chain, signed(12), listing, None);
    // A third party cannot dispute.
    assert!(matches!(
        refused(
            &mut chain,
            signed(13),
            Call::Dispute {
                deal: id,
                reason: "meddling".into()
            }
        ),
        Error::NotParty { .. }
    ));
    assert!(matches!(
        refused(
            &mut chain,
            signed(12),
            Call::Dispute {
                deal: id,
                reason: "".into()
            }
        ),
        Error::BadReason { .. }
    ));
    // Nothing to resolve before a dispute.
    assert!(matches!(
        refused(
            &mut chain,
            signed(MEDIATOR),
            Call::Resolve {
                deal: id,
                to_sellers: 500,
                reason: "half".into()
            }
        ),
        Error::WrongStatus { .. }
    ));
    ok(
        &mut chain,
        signed(12),
        Call::Dispute {
            deal: id,
            reason: "half done".into(),
        },
    );
    // The seller's guardian has a stake; a resident is no mediator.
    assert!(matches!(
        refused(
            &mut chain,
            signed(GUARDIAN),
            Call::Resolve {
                deal: id,
                to_sellers: 1_000,
                reason: "all".into()
            }
        ),
        Error::ResolverHasStake { .. }
    ));
    assert!(matches!(
        refused(
            &mut chain,
            signed(13),
            Call::Resolve {
                deal: id,
                to_sellers: 1_000,
                reason: "all".into()
            }
        ),
        Error::Membership(_)
    ));
    assert!(matches!(
        refused(
            &mut chain,
            signed(MEDIATOR),
            Call::Resolve {
                deal: id,
                to_sellers: 1_001,
                reason: "more".into()
            }
        ),
        Error::OverEscrow { .. }
    ));
    ok(
        &mut chain,
        signed(MEDIATOR),
        Call::Resolve {
            deal: id,
            to_sellers: 600,
            reason: "most of it was done".into(),
        },
    );
    assert_eq!(balance(&chain, GUARDED), 10_000 + 600);
    assert_eq!(balance(&chain, 12), 10_000 - 600);
    assert_eq!(escrow_total(chain.reader()).unwrap(), 0);
    // The board may resolve too (a decision, or a board member signing).
    let second = accept(&mut chain, signed(13), listing, None);
    ok(
        &mut chain,
        signed(13),
        Call::Dispute {
            deal: second,
            reason: "not done".into(),
        },
    );
    ok(
        &mut chain,
        Origin::Collective(Collective::Board),
        Call::Resolve {
            deal: second,
            to_sellers: 0,
            reason: "nothing was done".into(),
        },
    );
    assert_eq!(balance(&chain, 13), 10_000);
    assert_conserved(&chain, supply);
}

#[test]
fn earmarked_coins_pay_into_escrow_only_for_a_seller_their_rule_allows() {
    let mut chain = chain();
    let supply = supply(&chain);
    // Resident 12 holds 30.00 of food coins and 20.00 free (the rest given away).
    give_food_coins(&mut chain, 12, 3_000);
    if let Err(error) = chain.dispatch::<wijk_coin::Pallet>(
        signed(12),
        &wijk_coin::Call::Transfer {
            to: account(19),
            amount: 8_000,
        },
    ) {
        panic!("{error}");
    }
    let grocer = post(
        &mut chain,
        signed(GROCER),
        post_call(ListingKind::Offer, 4_000, false, None),
    );
    let bikes = post(
        &mut chain,
        signed(BIKES),
        post_call(ListingKind::Offer, 4_000, false, None),
    );
    // The bike shop is no food shop: free coins alone are short, and the error says why.
    match refused(
        &mut chain,
        signed(12),
        Call::Accept {
            listing: bikes,
            hours: None,
            team: vec![],
        },
    ) {
        Error::Currency(CurrencyError::EarmarkNotUsable { why }) => {
            assert!(why.contains("mobility"), "{why}")
        }
        other => panic!("unexpected {other:?}"),
    }
    // At the grocer: 30.00 of food coins first, then 10.00 free.
    let id = accept(&mut chain, signed(12), grocer, None);
    let record = deal(chain.reader(), id).unwrap().unwrap();
    assert_eq!(record.escrow.earmarked_total(), 3_000);
    assert_eq!(record.escrow.free, 1_000);
    assert_eq!(earmarked(&chain, 12), 0);
    assert_eq!(balance(&chain, 12), 1_000);
    // Cancelled: the food coins return under their earmark, the free coins free.
    ok(&mut chain, signed(12), Call::Cancel { deal: id });
    assert_eq!(earmarked(&chain, 12), 3_000);
    assert_eq!(balance(&chain, 12), 2_000);
    // Disputed and split: the grocer's part comes from the food coins first.
    let id = accept(&mut chain, signed(12), grocer, None);
    ok(
        &mut chain,
        signed(GROCER),
        Call::Dispute {
            deal: id,
            reason: "collected half".into(),
        },
    );
    ok(
        &mut chain,
        signed(MEDIATOR),
        Call::Resolve {
            deal: id,
            to_sellers: 2_000,
            reason: "half collected".into(),
        },
    );
    assert_eq!(balance(&chain, GROCER), 2_000);
    assert_eq!(earmarked(&chain, 12), 1_000);
    assert_eq!(balance(&chain, 12), 2_000);
    assert_conserved(&chain, supply);
}

#[test]
fn a_guardian_posts_and_buys_for_their_member_within_the_cap() {
    let mut chain = chain();
    let for_member = Origin::Guardian {
        guardian: account(GUARDIAN),
        member: account(GUARDED),
    };
    let listing = post(
        &mut chain,
        signed(11),
        post_call(ListingKind::Offer, 900, false, None),
    );
    let id = accept(&mut chain, for_member, listing, None);
    assert_eq!(
        deal(chain.reader(), id).unwrap().unwrap().buyer,
        account(GUARDED)
    );
    assert_eq!(reserved(&chain, GUARDED), 900);
    ok(&mut chain, for_member, Call::Complete { deal: id });
    assert_eq!(balance(&chain, 11), 10_900);
    let request = post(
        &mut chain,
        for_member,
        post_call(ListingKind::Request, 500, false, None),
    );
    assert_eq!(
        super::listing(chain.reader(), request)
            .unwrap()
            .unwrap()
            .posted_by,
        Some(account(GUARDIAN))
    );
    // The guardian withdraws it themselves, as its poster.
    ok(
        &mut chain,
        signed(GUARDIAN),
        Call::Withdraw { listing: request },
    );
    assert_eq!(reserved(&chain, GUARDED), 0);
}

#[test]
fn the_hook_closes_at_most_its_bound_of_listings_a_block() {
    let mut chain = chain_with(Rules {
        max_open_listings: 100,
        ..Rules::default()
    });
    for n in RESIDENTS {
        for _ in 0..4 {
            let mut call = post_call(ListingKind::Request, 10, false, None);
            if let Call::Post { expires_at, .. } = &mut call {
                *expires_at = 20;
            }
            post(&mut chain, signed(n), call);
        }
    }
    assert_eq!(escrow_total(chain.reader()).unwrap(), 400);
    let first = run_to(&mut chain, 20).len();
    assert_eq!(first, MAX_EXPIRIES_PER_BLOCK);
    let second = run_to(&mut chain, 21).len();
    assert_eq!(first + second, 40);
    assert_eq!(escrow_total(chain.reader()).unwrap(), 0);
}

#[test]
fn only_a_vote_sets_the_rules() {
    let mut chain = chain();
    let rules = Rules::default();
    assert!(matches!(
        refused(
            &mut chain,
            signed(BOARD),
            Call::SetRules {
                rules: rules.clone()
            }
        ),
        Error::BadOrigin(_)
    ));
    ok(
        &mut chain,
        Origin::Collective(Collective::Members),
        Call::SetRules {
            rules: rules.clone(),
        },
    );
    assert_eq!(super::rules(chain.reader()).unwrap(), rules);
}

/// Who acts on a deal in a random history: its buyer, its first seller, or someone else.
#[derive(Debug, Clone, Copy)]
enum Party {
    Buyer,
    Seller,
    Stranger,
}

#[derive(Debug, Clone)]
enum Step {
    PostOffer {
        who: u8,
        amount: Cents,
        per_hour: bool,
    },
    PostRequest {
        who: u8,
        amount: Cents,
    },
    Withdraw {
        owner: bool,
        listing: u64,
    },
    Accept {
        who: u8,
        listing: u64,
        hours: u32,
    },
    Start {
        party: Party,
        deal: u64,
    },
    Complete {
        party: Party,
        deal: u64,
    },
    Cancel {
        party: Party,
        deal: u64,
    },
    Dispute {
        party: Party,
        deal: u64,
    },
    Resolve {
        deal: u64,
        to_sellers: Cents,
    },
    Blocks {
        count: u8,
    },
}

fn step() -> impl Strategy<Value = Step> {
    let seller = prop_oneof![10u8..=19, Just(GROCER), Just(BIKES)];
    let party = prop_oneof![
        3 => Just(Party::Buyer),
        3 => Just(Party::Seller),
        1 => Just(Party::Stranger)
    ];
    prop_oneof![
        2 => (seller, 1u128..3_000, any::<bool>()).prop_map(|(who, amount, per_hour)| Step::PostOffer { who, amount, per_hour }),
        1 => (10u8..=19, 1u128..3_000).prop_map(|(who, amount)| Step::PostRequest { who, amount }),
        1 => (any::<bool>(), 0u64..12).prop_map(|(owner, listing)| Step::Withdraw { owner, listing }),
        4 => (10u8..=19, 0u64..12, 1u32..4).prop_map(|(who, listing, hours)| Step::Accept { who, listing, hours }),
        2 => (party.clone(), 0u64..12).prop_map(|(party, deal)| Step::Start { party, deal }),
        3 => (party.clone(), 0u64..12).prop_map(|(party, deal)| Step::Complete { party, deal }),
        1 => (party.clone(), 0u64..12).prop_map(|(party, deal)| Step::Cancel { party, deal }),
        1 => (party, 0u64..12).prop_map(|(party, deal)| Step::Dispute { party, deal }),
        1 => (0u64..12, 0u128..4_000).prop_map(|(deal, to_sellers)| Step::Resolve { deal, to_sellers }),
        1 => (1u8..12).prop_map(|count| Step::Blocks { count }),
    ]
}

/// A record among the `count` made so far (11 names one never made).
fn pick(selector: u64, count: u64) -> u64 {
    if selector == 11 || count == 0 {
        count + selector
    } else {
        selector % count
    }
}

/// Who acts as `party` on the deal `selector` picks.
fn actor(chain: &TestChain, party: Party, selector: u64) -> (Origin, DealId) {
    let id = pick(selector, deal_count(chain.reader()).unwrap());
    let who = match (deal(chain.reader(), id).unwrap(), party) {
        (Some(record), Party::Buyer) => record.buyer,
        (Some(record), Party::Seller) => record.sellers[0],
        _ => account(19),
    };
    (Origin::Signed(who), id)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    /// Over random histories of listings, deals, disputes, cancellations and timeouts, with
    /// earmarked coins: no coin is created or destroyed (supply, and free + reserved +
    /// earmarked, stay what genesis made); the escrow total is the open deals' and open
    /// requests' escrow, and each account's reserve is exactly its part of it; a closed deal
    /// holds nothing and a seller is paid at most what the deal held.
    #[test]
    fn escrow_conserves_every_coin_on_every_path(steps in proptest::collection::vec(step(), 20..120)) {
        let mut chain = chain_with(Rules {
            max_open_listings: 6,
            max_listing_blocks: 200,
            start_within_blocks: 15,
            complete_within_blocks: 40,
        });
        for n in [11, 13, 15] {
            give_food_coins(&mut chain, n, 2_000);
        }
        let supply = supply(&chain);
        for step in steps {
            let height = chain.block.height;
            let (origin, call) = match step {
                Step::Blocks { count } => {
                    run_to(&mut chain, height + Height::from(count));
                    (None, None)
                }
                Step::PostOffer { who, amount, per_hour } => {
                    let mut call = post_call(ListingKind::Offer, amount, per_hour, None);
                    if let Call::Post { expires_at, .. } = &mut call { *expires_at = height + 60; }
                    (Some(signed(who)), Some(call))
                }
                Step::PostRequest { who, amount } => {
                    let mut call = post_call(ListingKind::Request, amount, false, None);
                    if let Call::Post { expires_at, .. } = &mut call { *expires_at = height + 60; }
                    (Some(signed(who)), Some(call))
                }
                Step::Withdraw { owner, listing } => {
                    let listing = pick(listing, listing_count(chain.reader()).unwrap());
                    let who = super::listing(chain.reader(), listing).unwrap().map_or(account(10), |l| l.owner);
                    let who = if owner { who } else { account(18) };
                    (Some(Origin::Signed(who)), Some(Call::Withdraw { listing }))
                }
                Step::Accept { who, listing, hours } => {
                    let listing = pick(listing, listing_count(chain.reader()).unwrap());
                    let per_hour = super::listing(chain.reader(), listing).unwrap().is_some_and(|l| l.price.per_hour);
                    (Some(signed(who)), Some(Call::Accept { listing, hours: per_hour.then_some(hours), team: vec![] }))
                }
                Step::Start { party, deal } => {
                    let (who, deal) = actor(&chain, party, deal);
                    (Some(who), Some(Call::Start { deal }))
                }
                Step::Complete { party, deal } => {
                    let (who, deal) = actor(&chain, party, deal);
                    (Some(who), Some(Call::Complete { deal }))
                }
                Step::Cancel { party, deal } => {
                    let (who, deal) = actor(&chain, party, deal);
                    (Some(who), Some(Call::Cancel { deal }))
                }
                Step::Dispute { party, deal } => {
                    let (who, deal) = actor(&chain, party, deal);
                    (Some(who), Some(Call::Dispute { deal, reason: "no".into() }))
                }
                Step::Resolve { deal, to_sellers } => {
                    let deal = pick(deal, deal_count(chain.reader()).unwrap());
                    (Some(signed(MEDIATOR)), Some(Call::Resolve { deal, to_sellers, reason: "split".into() }))
                }
            };
            if let (Some(origin), Some(call)) = (origin, call) {
                let _ = chain.dispatch::<Pallet>(origin, &call);
            }
            let audit = wijk_coin::audit(chain.reader()).unwrap();
            prop_assert_eq!(audit.supply.total_supply, supply);
            prop_assert_eq!(audit.free_balances + audit.reserved_balances + audit.earmarked_balances, supply);
            let mut held = std::collections::BTreeMap::<AccountId, Cents>::new();
            for id in 0..deal_count(chain.reader()).unwrap() {
                let record = deal(chain.reader(), id).unwrap().unwrap();
                prop_assert_eq!(record.escrow.total(), record.amount);
                if record.status.is_open() {
                    *held.entry(record.buyer).or_default() += record.amount;
                }
                if let DealStatus::Resolved { to_sellers, to_buyer, .. } = record.status {
                    prop_assert_eq!(to_sellers + to_buyer, record.amount);
                }
            }
            for id in 0..listing_count(chain.reader()).unwrap() {
                let record = super::listing(chain.reader(), id).unwrap().unwrap();
                if record.status == ListingStatus::Open {
                    *held.entry(record.owner).or_default() += record.escrow.total();
                } else {
                    prop_assert_eq!(record.escrow.total(), 0);
                }
            }
            prop_assert_eq!(held.values().sum::<Cents>(), escrow_total(chain.reader()).unwrap());
            for n in RESIDENTS.chain([GROCER, BIKES]) {
                prop_assert_eq!(held.get(&account(n)).copied().unwrap_or(0), reserved(&chain, n));
            }
        }
    }
}

/// Moves member `from` to the new key `to` (an intermediary asks; it takes effect after the
/// spec's delay, in the membership pallet's begin-block hook).
fn rekey(chain: &mut TestChain, from: u8, to: u8) {
    use wijk_support::Membership as _;
    let call = wijk_membership::Call::Rekey {
        who: account(from),
        new: account(to),
    };
    if let Err(error) = chain.dispatch::<wijk_membership::Pallet>(signed(MEDIATOR), &call) {
        panic!("rekey refused: {error}");
    }
    let due = chain.block.height + REKEY_DELAY;
    chain.begin_block::<wijk_membership::Pallet>(due);
    assert_eq!(
        wijk_membership::Pallet
            .current_key(chain.reader(), &account(from))
            .unwrap(),
        account(to)
    );
}

#[test]
fn a_member_on_a_new_key_is_still_the_same_party() {
    let mut chain = chain();
    let supply = supply(&chain);
    // The grocer holds food coins that fit their own shop, and offers something.
    give_food_coins(&mut chain, GROCER, 2_000);
    let listing = post(
        &mut chain,
        signed(GROCER),
        post_call(ListingKind::Offer, 1_500, false, None),
    );
    let request = post(
        &mut chain,
        signed(12),
        post_call(ListingKind::Request, 800, false, None),
    );
    let deal_id = accept(&mut chain, signed(13), listing, None);
    const NEW_GROCER: u8 = 40;
    const NEW_TWELVE: u8 = 41;
    rekey(&mut chain, GROCER, NEW_GROCER);
    rekey(&mut chain, 12, NEW_TWELVE);
    // The grocer's new key may not buy their own offer (their food coins would come out
    // free): it is the same party.
    assert!(matches!(
        refused(
            &mut chain,
            signed(NEW_GROCER),
            Call::Accept {
                listing,
                hours: None,
                team: vec![]
            }
        ),
        Error::OwnListing { .. }
    ));
    // The new keys act as the parties they are: the seller starts, the requester withdraws
    // (the escrow returns to the new key), and a stranger still may not.
    ok(
        &mut chain,
        signed(NEW_GROCER),
        Call::Start { deal: deal_id },
    );
    assert!(matches!(
        refused(
            &mut chain,
            signed(NEW_TWELVE),
            Call::Cancel { deal: deal_id }
        ),
        Error::NotParty { .. }
    ));
    ok(
        &mut chain,
        signed(NEW_TWELVE),
        Call::Withdraw { listing: request },
    );
    assert_eq!(balance(&chain, NEW_TWELVE), 10_000);
    ok(&mut chain, signed(13), Call::Complete { deal: deal_id });
    assert_eq!(balance(&chain, NEW_GROCER), 1_500);
    assert_conserved(&chain, supply);
}
