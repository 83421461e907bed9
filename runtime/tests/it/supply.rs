//! Money is conserved over random histories of blocks, checked after every block in two
//! independent ways: from the state (every balance, earmark, deposit and redemption
//! record) and from the blocks alone (replaying their events from the genesis balances).
//! The chain is closed (members only) with a region, a merchant inside it, a funder, and
//! the money rules in force: earmarks, redemption owed and paid, gifts; and the market,
//! whose escrow holds free and earmarked coins (reserved, then paid out or refunded).

use proptest::prelude::*;
use std::collections::BTreeMap;
use wijk_primitives::{AccountId, Cents, GeoPoint, Hash, Keypair};
use wijk_runtime::{
    MemoryChain, RuntimeCall, RuntimeEvent, RuntimeGenesis, Transaction, TxOutcome,
    VerifiedTransaction,
};
use wijk_support::{Place, Role, RoleSet};

const PEOPLE: usize = 6;
/// Signs mints and payouts (the exchange office) and is the funder of the earmark.
const OFFICE: usize = 0;
/// A merchant inside the region.
const MERCHANT: usize = 5;

fn people() -> Vec<Keypair> {
    (0..PEOPLE)
        .map(|n| Keypair::dev(&format!("P{n}")))
        .collect()
}

fn earmark(funder: AccountId, expires_at: Option<u64>) -> wijk_coin::Earmark {
    wijk_coin::Earmark {
        funder,
        label: "food".into(),
        categories: vec!["food".into()],
        region_only: true,
        expires_at,
    }
}

fn genesis(people: &[Keypair], balances: &[(AccountId, Cents)]) -> RuntimeGenesis {
    let mut genesis = wijk_runtime::simple_genesis(&[people[OFFICE].account_id()], balances);
    genesis.membership.open_accounts = false;
    wijk_runtime::register_residents(
        &mut genesis,
        people[1..MERCHANT].iter().map(Keypair::account_id),
    );
    genesis
        .membership
        .members
        .push(wijk_membership::GenesisMember {
            account: people[MERCHANT].account_id(),
            roles: RoleSet::of(&[Role::Merchant]),
            tag: None,
            place: Some(Place {
                location: GeoPoint { lat: 5, lon: 5 },
                category: "food".into(),
            }),
        });
    genesis.geo.region = wijk_geo::Region {
        name: "Square".into(),
        polygons: vec![vec![
            GeoPoint { lat: 0, lon: 0 },
            GeoPoint { lat: 0, lon: 10 },
            GeoPoint { lat: 10, lon: 10 },
            GeoPoint { lat: 10, lon: 0 },
        ]],
    };
    genesis.coin.redemption.fee_per_mille = 50;
    genesis.coin.redemption.fund = Some(people[OFFICE].account_id());
    // Periods of three blocks, so random histories cross many.
    genesis.stats.period_blocks = 3;
    genesis
}

/// One transaction of a random history.
#[derive(Debug, Clone)]
enum Action {
    Pay {
        from: usize,
        to: usize,
        amount: Cents,
    },
    Gift {
        from: usize,
        to: usize,
        amount: Cents,
    },
    Mint {
        to: usize,
        amount: Cents,
        deposit: u8,
        earmarked: Option<Option<u64>>,
    },
    Redeem {
        who: usize,
        amount: Cents,
    },
    PayOut {
        id: u64,
    },
    /// An offer at a fixed price (the merchant's takes earmarked coins).
    Offer {
        seller: usize,
        amount: Cents,
    },
    /// Buys listing `listing` (its price into escrow).
    Buy {
        buyer: usize,
        listing: u64,
    },
    /// Confirms (or cancels) deal `deal`, signed by its buyer (as recorded before the
    /// block) or by `who` (refused unless a party).
    Settle {
        who: usize,
        by_buyer: bool,
        deal: u64,
        complete: bool,
    },
}

fn action() -> impl Strategy<Value = Action> {
    let amount = 0u128..3_000;
    prop_oneof![
        (0..PEOPLE, 0..PEOPLE, amount.clone()).prop_map(|(from, to, amount)| Action::Pay {
            from,
            to,
            amount
        }),
        (0..PEOPLE, Just(MERCHANT), amount.clone()).prop_map(|(from, to, amount)| Action::Pay {
            from,
            to,
            amount
        }),
        (0..PEOPLE, 0..PEOPLE, amount.clone()).prop_map(|(from, to, amount)| Action::Gift {
            from,
            to,
            amount
        }),
        (
            0..PEOPLE,
            1u128..3_000,
            0u8..12,
            proptest::option::of(proptest::option::of(2u64..9))
        )
            .prop_map(|(to, amount, deposit, earmarked)| Action::Mint {
                to,
                amount,
                deposit,
                earmarked
            }),
        (0..PEOPLE, amount).prop_map(|(who, amount)| Action::Redeem { who, amount }),
        (0u64..6).prop_map(|id| Action::PayOut { id }),
        (prop_oneof![Just(MERCHANT), 1..PEOPLE], 1u128..1_500)
            .prop_map(|(seller, amount)| Action::Offer { seller, amount }),
        (1..PEOPLE, 0u64..4).prop_map(|(buyer, listing)| Action::Buy { buyer, listing }),
        (1..PEOPLE, 0u64..4).prop_map(|(buyer, listing)| Action::Buy { buyer, listing }),
        (
            1..PEOPLE,
            prop_oneof![3 => Just(true), 1 => Just(false)],
            0u64..8,
            any::<bool>()
        )
            .prop_map(|(who, by_buyer, deal, complete)| Action::Settle {
                who,
                by_buyer,
                deal,
                complete
            }),
        (
            1..PEOPLE,
            prop_oneof![3 => Just(true), 1 => Just(false)],
            0u64..8,
            any::<bool>()
        )
            .prop_map(|(who, by_buyer, deal, complete)| Action::Settle {
                who,
                by_buyer,
                deal,
                complete
            }),
    ]
}

/// What the blocks say, replayed: free and earmarked balances, supply, reserve and owed
/// from the genesis balances and the events of every successful transaction and hook.
#[derive(Default)]
struct Replay {
    free: BTreeMap<AccountId, Cents>,
    earmarked: BTreeMap<AccountId, Cents>,
    reserved: BTreeMap<AccountId, Cents>,
    supply: Cents,
    reserve: Cents,
    owed: Cents,
}

impl Replay {
    fn free_of(&mut self, who: &AccountId) -> &mut Cents {
        self.free.entry(*who).or_default()
    }

    fn reserved_of(&mut self, who: &AccountId) -> &mut Cents {
        self.reserved.entry(*who).or_default()
    }

    fn event(&mut self, event: &RuntimeEvent) {
        use wijk_coin::Event::*;
        let RuntimeEvent::Coin(event) = event else {
            return;
        };
        match event {
            Transferred { from, to, amount } => {
                *self.free_of(from) -= amount;
                *self.free_of(to) += amount;
            }
            Minted { to, amount, .. } => {
                *self.free_of(to) += amount;
                self.supply += amount;
                self.reserve += amount;
            }
            Earmarked {
                from, to, amount, ..
            } => {
                *self.free_of(from) -= amount;
                *self.earmarked.entry(*to).or_default() += amount;
            }
            EarmarkSpent {
                who,
                merchant,
                amount,
                ..
            } => {
                *self.earmarked.entry(*who).or_default() -= amount;
                *self.free_of(merchant) += amount;
            }
            EarmarkExpired {
                who,
                funder,
                amount,
                ..
            } => {
                *self.earmarked.entry(*who).or_default() -= amount;
                *self.free_of(funder) += amount;
            }
            EarmarkMoved {
                from, to, amount, ..
            } => {
                *self.earmarked.entry(*from).or_default() -= amount;
                *self.earmarked.entry(*to).or_default() += amount;
            }
            RedemptionRequested { who, amount, .. } => {
                *self.free_of(who) -= amount;
                self.supply -= amount;
                self.owed += amount;
            }
            RedemptionPaid { amount, .. } => {
                self.reserve -= amount;
                self.owed -= amount;
            }
            Gifted { .. } | PoolPaid { .. } | PoolCreated { .. } | MerchantPaid { .. } => {}
            FundSpent { .. } => {}
            Reserved { who, amount } => {
                *self.free_of(who) -= amount;
                *self.reserved_of(who) += amount;
            }
            Unreserved { who, amount } => {
                *self.reserved_of(who) -= amount;
                *self.free_of(who) += amount;
            }
            ReservePaid { from, to, amount } => {
                *self.reserved_of(from) -= amount;
                *self.free_of(to) += amount;
            }
            EarmarkReserved { who, amount, .. } => {
                *self.earmarked.entry(*who).or_default() -= amount;
                *self.reserved_of(who) += amount;
            }
            EarmarkUnreserved {
                who, to, amount, ..
            } => {
                *self.reserved_of(who) -= amount;
                *self.earmarked.entry(*to).or_default() += amount;
            }
            EarmarkReturned {
                who,
                funder,
                amount,
                ..
            } => {
                *self.reserved_of(who) -= amount;
                *self.free_of(funder) += amount;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_block_conserves_money_by_state_and_by_history(
        blocks in proptest::collection::vec(proptest::collection::vec(action(), 0..12), 1..10)
    ) {
        let people = people();
        let genesis_balances: Vec<(AccountId, Cents)> =
            people.iter().map(|p| (p.account_id(), 2_000)).collect();
        let mut chain = MemoryChain::new(&genesis(&people, &genesis_balances)).unwrap();
        let mut replay = Replay::default();
        for (account, amount) in &genesis_balances {
            replay.free.insert(*account, *amount);
            replay.supply += amount;
            replay.reserve += amount;
        }
        let office = people[OFFICE].account_id();
        let mut nonces = [0u64; PEOPLE];
        // The auditor's recount of the statistics, from the receipts alone.
        let mut recount = wijk_stats::recount::Recount::new(3, wijk_stats::levels(chain.state()).unwrap());
        for (height, actions) in blocks.iter().enumerate() {
            let signing = chain.signing();
            let candidates: Vec<VerifiedTransaction> = actions
                .iter()
                .map(|action| {
                    let account = |n: usize| people[n].account_id();
                    let coin = |signer: usize, call: wijk_coin::Call| (signer, RuntimeCall::Coin(call));
                    let market = |signer: usize, call: wijk_market::Call| (signer, RuntimeCall::Market(call));
                    let (signer, call) = match action {
                        Action::Pay { from, to, amount } => coin(*from, wijk_coin::Call::Transfer { to: account(*to), amount: *amount }),
                        Action::Gift { from, to, amount } => coin(*from, wijk_coin::Call::Gift { to: account(*to), amount: *amount }),
                        Action::Mint { to, amount, deposit, earmarked } => coin(OFFICE, wijk_coin::Call::Mint {
                            to: account(*to),
                            amount: *amount,
                            deposit_ref: vec![b'D', *deposit],
                            earmark: earmarked.map(|expiry| earmark(office, expiry)),
                        }),
                        Action::Redeem { who, amount } => coin(*who, wijk_coin::Call::RequestRedemption { amount: *amount, payout_to: Hash([7; 32]) }),
                        Action::PayOut { id } => coin(OFFICE, wijk_coin::Call::PayRedemption { id: *id, bank_ref: Hash([8; 32]) }),
                        Action::Offer { seller, amount } => market(*seller, wijk_market::Call::Post {
                            kind: wijk_market::ListingKind::Offer,
                            title: "groceries".into(),
                            category: "food".into(),
                            price: wijk_market::Price { amount: *amount, per_hour: false },
                            hours: None,
                            location: None,
                            expires_at: 1_000,
                            text_hash: Hash([1; 32]),
                            team: Vec::new(),
                        }),
                        Action::Buy { buyer, listing } => market(*buyer, wijk_market::Call::Accept { listing: *listing, hours: None, team: Vec::new() }),
                        Action::Settle { who, by_buyer, deal, complete } => {
                            // Among the deals made so far (one more names none).
                            let made = wijk_market::deal_count(chain.state()).unwrap();
                            let deal = &if made > 0 { deal % (made + 1) } else { *deal };
                            let buyer = wijk_market::deal(chain.state(), *deal).unwrap().and_then(|record| {
                                people.iter().position(|p| p.account_id() == record.buyer)
                            });
                            let signer = if *by_buyer { buyer.unwrap_or(*who) } else { *who };
                            let call = if *complete {
                                wijk_market::Call::Complete { deal: *deal }
                            } else {
                                wijk_market::Call::Cancel { deal: *deal }
                            };
                            market(signer, call)
                        }
                    };
                    let nonce = nonces[signer];
                    nonces[signer] += 1;
                    let tx = Transaction::sign(&people[signer], &signing, nonce, u64::MAX, call);
                    VerifiedTransaction::verify(tx, &signing).unwrap()
                })
                .collect();
            let built = chain
                .build_next((height as u64 + 1) * 1_000, office, candidates)
                .unwrap();
            prop_assert_eq!(built.block.transactions.len(), actions.len());
            for event in &built.executed.hook_events.begin {
                replay.event(event);
            }
            for receipt in &built.executed.receipts {
                if let TxOutcome::Success { events } = &receipt.outcome {
                    for event in events {
                        replay.event(event);
                    }
                }
            }
            for event in &built.executed.hook_events.end {
                replay.event(event);
            }
            recount.begin_block(height as u64 + 1);
            let mut underflow = None;
            wijk_runtime::stats::block_facts(
                &built.executed.hook_events.begin,
                &built.executed.receipts,
                &built.executed.hook_events.end,
                |fact| {
                    if let Err(error) = recount.fact(fact) {
                        underflow = Some(error);
                    }
                },
            );
            prop_assert_eq!(underflow, None);
            recount.end_block();
            for (period, figures) in &recount.periods {
                prop_assert_eq!(&wijk_stats::period(chain.state(), *period).unwrap().unwrap(), figures);
            }
            for ((period, category), figures) in &recount.deals {
                let held = wijk_stats::DEALS_BY_CATEGORY.get(chain.state(), &(*period, *category)).unwrap();
                prop_assert_eq!(held.as_ref(), Some(figures));
            }
            // From the state: every record adds up.
            let audit = wijk_coin::audit(chain.state());
            prop_assert!(audit.is_ok(), "{:?}", audit);
            let audit = audit.unwrap();
            // From the history, independently: the same figures.
            prop_assert_eq!(audit.supply.total_supply, replay.supply);
            prop_assert_eq!(audit.supply.euro_reserve, replay.reserve);
            prop_assert_eq!(audit.supply.owed, replay.owed);
            for (account, balance) in &replay.free {
                prop_assert_eq!(wijk_coin::balance(chain.state(), account).unwrap(), *balance);
            }
            for (account, held) in &replay.reserved {
                prop_assert_eq!(wijk_coin::reserved(chain.state(), account).unwrap(), *held);
            }
            prop_assert_eq!(
                replay.reserved.values().sum::<Cents>(),
                wijk_market::escrow_total(chain.state()).unwrap()
            );
            for (account, held) in &replay.earmarked {
                let holdings: Cents = wijk_coin::earmark::holdings_of(chain.state(), account)
                    .unwrap()
                    .iter()
                    .map(|(_, amount)| amount)
                    .sum();
                prop_assert_eq!(holdings, *held);
            }
            // The statistics' levels, carried from the events block by block, are the
            // coins the state holds.
            let levels = wijk_stats::levels(chain.state()).unwrap();
            prop_assert_eq!(levels.circulating, audit.supply.total_supply);
            prop_assert_eq!(levels.reserved, replay.reserved.values().sum::<Cents>());
            prop_assert_eq!(levels.earmarked, replay.earmarked.values().sum::<Cents>());
        }
    }
}
