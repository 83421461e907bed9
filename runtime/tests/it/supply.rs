//! Money is conserved over random histories of blocks, checked after every block in two
//! independent ways: from the state (every balance, deposit and redemption record) and
//! from the blocks alone (replaying their events from the genesis balances).

use proptest::prelude::*;
use std::collections::BTreeMap;
use wijk_primitives::{AccountId, Cents, Keypair};
use wijk_runtime::{
    MemoryChain, RuntimeCall, RuntimeEvent, Transaction, TxOutcome, VerifiedTransaction,
};

const PEOPLE: usize = 5;

fn people() -> Vec<Keypair> {
    (0..PEOPLE)
        .map(|n| Keypair::dev(&format!("P{n}")))
        .collect()
}

/// One transaction of a random history: who signs (0 is the issuer), and what.
#[derive(Debug, Clone)]
enum Action {
    Pay {
        from: usize,
        to: usize,
        amount: Cents,
    },
    Mint {
        to: usize,
        amount: Cents,
        deposit: u8,
    },
    Redeem {
        who: usize,
        amount: Cents,
    },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (0..PEOPLE, 0..PEOPLE, 0u128..3_000).prop_map(|(from, to, amount)| Action::Pay {
            from,
            to,
            amount
        }),
        (0..PEOPLE, 1u128..3_000, 0u8..12).prop_map(|(to, amount, deposit)| Action::Mint {
            to,
            amount,
            deposit
        }),
        (0..PEOPLE, 0u128..3_000).prop_map(|(who, amount)| Action::Redeem { who, amount }),
    ]
}

/// What the blocks say, replayed: balances, supply and reserve from the genesis balances
/// and the events of every successful transaction.
#[derive(Default)]
struct Replay {
    balances: BTreeMap<AccountId, Cents>,
    supply: Cents,
    reserve: Cents,
}

impl Replay {
    fn event(&mut self, event: &RuntimeEvent) {
        use wijk_coin::Event::*;
        let RuntimeEvent::Coin(event) = event else {
            return;
        };
        match event {
            Transferred { from, to, amount } => {
                *self.balances.entry(*from).or_default() -= amount;
                *self.balances.entry(*to).or_default() += amount;
            }
            Minted { to, amount, .. } => {
                *self.balances.entry(*to).or_default() += amount;
                self.supply += amount;
                self.reserve += amount;
            }
            Redeemed { who, amount } => {
                *self.balances.entry(*who).or_default() -= amount;
                self.supply -= amount;
                self.reserve -= amount;
            }
            Reserved { .. } | Unreserved { .. } | ReservePaid { .. } => {
                unreachable!("no pallet in this runtime reserves coins yet")
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn every_block_conserves_money_by_state_and_by_history(
        blocks in proptest::collection::vec(proptest::collection::vec(action(), 0..12), 1..8)
    ) {
        let people = people();
        let genesis_balances: Vec<(AccountId, Cents)> =
            people.iter().map(|p| (p.account_id(), 2_000)).collect();
        let mut chain = MemoryChain::new(&wijk_runtime::simple_genesis(
            &[people[0].account_id()],
            &genesis_balances,
        ))
        .unwrap();
        let mut replay = Replay::default();
        for (account, amount) in &genesis_balances {
            replay.balances.insert(*account, *amount);
            replay.supply += amount;
            replay.reserve += amount;
        }
        let mut nonces = [0u64; PEOPLE];
        for (height, actions) in blocks.iter().enumerate() {
            let signing = chain.signing();
            let candidates: Vec<VerifiedTransaction> = actions
                .iter()
                .map(|action| {
                    let (signer, call) = match action {
                        Action::Pay { from, to, amount } => (*from, wijk_coin::Call::Transfer {
                            to: people[*to].account_id(),
                            amount: *amount,
                        }),
                        Action::Mint { to, amount, deposit } => (0, wijk_coin::Call::Mint {
                            to: people[*to].account_id(),
                            amount: *amount,
                            deposit_ref: vec![b'D', *deposit],
                        }),
                        Action::Redeem { who, amount } => (*who, wijk_coin::Call::Redeem { amount: *amount }),
                    };
                    let nonce = nonces[signer];
                    nonces[signer] += 1;
                    let tx = Transaction::sign(&people[signer], &signing, nonce, u64::MAX, RuntimeCall::Coin(call));
                    VerifiedTransaction::verify(tx, &signing).unwrap()
                })
                .collect();
            let built = chain
                .build_next((height as u64 + 1) * 1_000, people[0].account_id(), candidates)
                .unwrap();
            prop_assert_eq!(built.block.transactions.len(), actions.len());
            for receipt in &built.executed.receipts {
                if let TxOutcome::Success { events } = &receipt.outcome {
                    for event in events {
                        replay.event(event);
                    }
                }
            }
            // From the state: every record adds up.
            let audit = wijk_coin::audit(chain.state());
            prop_assert!(audit.is_ok(), "{:?}", audit);
            let audit = audit.unwrap();
            // From the history, independently: the same figures.
            prop_assert_eq!(audit.total_supply, replay.supply);
            prop_assert_eq!(audit.euro_reserve, replay.reserve);
            for (account, balance) in &replay.balances {
                prop_assert_eq!(wijk_coin::balance(chain.state(), account).unwrap(), *balance);
            }
        }
    }
}
