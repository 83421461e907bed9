//! Runtime behaviour: building a block and re-executing it agree; tampering is caught;
//! proofs verify offline.

use parity_scale_codec::Decode;
use std::collections::BTreeMap;
use wijk_coin::Call as CoinCall;
use wijk_primitives::{AccountId, Header, Keypair, SigningContext};
use wijk_runtime::state_tree::{prove, verify_proof, MemoryTree};
use wijk_runtime::{
    build_block, build_genesis, execute_block, simple_genesis, BlockError, RuntimeCall,
    StagedBlock, StagedState, Transaction, TxOutcome, VerifiedTransaction, SPEC_VERSION,
};

mod compose;
mod democracy;
mod framework;
mod money_rules;
mod supply;

struct Chain {
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    tree: MemoryTree,
    head: Header,
    signing: SigningContext,
}

impl Chain {
    fn new() -> Chain {
        let alice = Keypair::dev("Alice").account_id();
        let config = simple_genesis(&[alice], &[(alice, 10_000)]);
        let mut tree = MemoryTree::default();
        let genesis = build_genesis(&config, &tree).unwrap();
        tree.write(&genesis.tree_batch);
        let mut state = BTreeMap::new();
        apply(&mut state, &genesis.changes);
        Chain {
            state,
            tree,
            signing: SigningContext {
                genesis_hash: genesis.header.hash(),
                spec_version: SPEC_VERSION,
            },
            head: genesis.header,
        }
    }

    fn tx(&self, who: &Keypair, nonce: u64, call: CoinCall) -> Transaction {
        Transaction::sign(who, &self.signing, nonce, 100, RuntimeCall::Coin(call))
    }
}

fn apply(state: &mut BTreeMap<Vec<u8>, Vec<u8>>, changes: &wijk_support::StateChanges) {
    for (key, value) in changes {
        match value {
            Some(value) => state.insert(key.clone(), value.clone()),
            None => state.remove(key),
        };
    }
}

fn verified(chain: &Chain, txs: Vec<Transaction>) -> Vec<VerifiedTransaction> {
    txs.into_iter()
        .map(|tx| VerifiedTransaction::verify(tx, &chain.signing).unwrap())
        .collect()
}

#[test]
fn built_block_re_executes_to_the_same_roots() {
    let mut chain = Chain::new();
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let txs = vec![
        chain.tx(
            &alice,
            0,
            CoinCall::Transfer {
                to: bob,
                amount: 1_250,
            },
        ),
        chain.tx(
            &alice,
            1,
            CoinCall::Transfer {
                to: bob,
                amount: 99_999,
            },
        ),
        chain.tx(&alice, 5, CoinCall::Transfer { to: bob, amount: 1 }),
    ];
    let built = build_block(
        &chain.state,
        &chain.tree,
        &chain.head,
        chain.signing.genesis_hash,
        1_000,
        alice.account_id(),
        verified(&chain, txs),
    )
    .unwrap();
    // The gap nonce is left out; the overdraft is included as a failed call.
    assert_eq!(built.block.transactions.len(), 2);
    assert_eq!(built.rejected.len(), 1);
    assert!(matches!(
        built.executed.receipts[0].outcome,
        TxOutcome::Success { .. }
    ));
    assert!(matches!(
        built.executed.receipts[1].outcome,
        TxOutcome::Failed { .. }
    ));
    // Alice's one record: both nonces used, only the successful payment paid.
    let record = |account: &AccountId| {
        built.executed.changes[&wijk_system::ACCOUNTS.key(account)]
            .as_deref()
            .map(|bytes| wijk_system::AccountInfo::decode(&mut &bytes[..]).unwrap())
    };
    assert_eq!(
        record(&alice.account_id()),
        Some(wijk_system::AccountInfo {
            nonce: 2,
            balance_cents: 10_000 - 1_250,
            earmarked: vec![],
        })
    );
    assert_eq!(
        record(&bob),
        Some(wijk_system::AccountInfo {
            nonce: 0,
            balance_cents: 1_250,
            earmarked: vec![],
        })
    );

    let executed = execute_block(
        &chain.state,
        &chain.tree,
        &chain.head,
        &built.block,
        &chain.signing,
    )
    .unwrap();
    assert_eq!(executed.state_root, built.block.header.state_root);
    assert_eq!(executed.changes, built.executed.changes);

    // Tampering with the amount breaks the signature; with the root, the root check.
    let mut forged = built.block.clone();
    if let RuntimeCall::Coin(CoinCall::Transfer { amount, .. }) = &mut forged.transactions[0].call {
        *amount = 5;
    }
    assert!(matches!(
        execute_block(
            &chain.state,
            &chain.tree,
            &chain.head,
            &forged,
            &chain.signing
        ),
        Err(BlockError::InvalidTransaction {
            index: 0,
            reason: wijk_runtime::InvalidTransaction::Signature(_),
            ..
        })
    ));
    // A signature check is bound to its header, and the header to its transactions: a check
    // of the real block does not let swapped transactions through ...
    let checked = wijk_runtime::check_signatures(&built.block, &chain.signing, None).unwrap();
    assert!(matches!(
        wijk_runtime::execute_checked_block(
            &chain.state,
            &chain.tree,
            &chain.head,
            &forged,
            &chain.signing,
            checked
        ),
        Err(BlockError::RootMismatch {
            which: "transactions root",
            ..
        })
    ));
    // ... nor execute a block with another header.
    let mut other_header = built.block.clone();
    other_header.header.timestamp_ms += 1;
    let checked = wijk_runtime::check_signatures(&built.block, &chain.signing, None).unwrap();
    assert!(matches!(
        wijk_runtime::execute_checked_block(
            &chain.state,
            &chain.tree,
            &chain.head,
            &other_header,
            &chain.signing,
            checked
        ),
        Err(BlockError::SignaturesNotChecked { .. })
    ));
    let mut wrong_root = built.block.clone();
    wrong_root.header.state_root.0[0] ^= 1;
    assert!(matches!(
        execute_block(
            &chain.state,
            &chain.tree,
            &chain.head,
            &wrong_root,
            &chain.signing
        ),
        Err(BlockError::RootMismatch {
            which: "state root",
            ..
        })
    ));

    // Commit, then prove Bob's balance and a missing key offline against the root.
    chain.tree.write(&built.executed.tree_batch);
    apply(&mut chain.state, &built.executed.changes);
    chain.head = built.block.header.clone();
    let bob_key = wijk_system::ACCOUNTS.key(&bob);
    let (value, proof) = prove(&chain.tree, 1, &bob_key).unwrap();
    assert_eq!(
        value.as_deref(),
        chain.state.get(&bob_key).map(|v| v.as_slice())
    );
    verify_proof(chain.head.state_root, &bob_key, value.as_deref(), &proof).unwrap();
    assert!(verify_proof(chain.head.state_root, &bob_key, Some(&[0u8; 16]), &proof).is_err());
    let missing = wijk_system::ACCOUNTS.key(&Keypair::dev("Nobody").account_id());
    let (none, exclusion) = prove(&chain.tree, 1, &missing).unwrap();
    assert!(none.is_none());
    verify_proof(chain.head.state_root, &missing, None, &exclusion).unwrap();
}

#[test]
fn replayed_transaction_makes_a_block_invalid() {
    let mut chain = Chain::new();
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let tx = chain.tx(
        &alice,
        0,
        CoinCall::Transfer {
            to: bob,
            amount: 10,
        },
    );
    let built = build_block(
        &chain.state,
        &chain.tree,
        &chain.head,
        chain.signing.genesis_hash,
        1,
        alice.account_id(),
        verified(&chain, vec![tx.clone()]),
    )
    .unwrap();
    chain.tree.write(&built.executed.tree_batch);
    apply(&mut chain.state, &built.executed.changes);
    chain.head = built.block.header.clone();
    // A second block replaying the same transaction: the builder refuses it ...
    let again = build_block(
        &chain.state,
        &chain.tree,
        &chain.head,
        chain.signing.genesis_hash,
        2,
        alice.account_id(),
        verified(&chain, vec![tx.clone()]),
    )
    .unwrap();
    assert!(again.block.transactions.is_empty());
    // ... and a proposer that forces it in gets the block rejected.
    let mut forced = again.block.clone();
    forced.transactions.push(tx.clone());
    forced.header.transactions_root = wijk_runtime::execute::transactions_root(&[tx.hash()]);
    assert!(matches!(
        execute_block(
            &chain.state,
            &chain.tree,
            &chain.head,
            &forced,
            &chain.signing
        ),
        Err(BlockError::InvalidTransaction { index: 0, .. })
    ));
}

#[test]
fn same_block_same_root_on_two_machines() {
    let chain_a = Chain::new();
    let chain_b = Chain::new();
    assert_eq!(chain_a.head, chain_b.head);
    let alice = Keypair::dev("Alice");
    let txs: Vec<_> = (0..50)
        .map(|n| {
            chain_a.tx(
                &alice,
                n,
                CoinCall::Transfer {
                    to: Keypair::dev(&format!("R{n}")).account_id(),
                    amount: 7,
                },
            )
        })
        .collect();
    let built = build_block(
        &chain_a.state,
        &chain_a.tree,
        &chain_a.head,
        chain_a.signing.genesis_hash,
        5,
        alice.account_id(),
        verified(&chain_a, txs),
    )
    .unwrap();
    let executed = execute_block(
        &chain_b.state,
        &chain_b.tree,
        &chain_b.head,
        &built.block,
        &chain_b.signing,
    )
    .unwrap();
    assert_eq!(executed.state_root, built.block.header.state_root);
}

#[test]
fn a_block_built_on_staged_state_matches_one_built_after_commit() {
    let mut chain = Chain::new();
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob");
    let pay = |to, amount| CoinCall::Transfer { to, amount };
    let first = build_block(
        &chain.state,
        &chain.tree,
        &chain.head,
        chain.signing.genesis_hash,
        1_000,
        alice.account_id(),
        verified(
            &chain,
            vec![chain.tx(&alice, 0, pay(bob.account_id(), 500))],
        ),
    )
    .unwrap();
    // Block 2 spends what block 1 gave Bob, read through the staged (unwritten) block 1.
    let layer = StagedBlock::executed(1, &first.executed);
    let (mut staged_state, mut staged_tree) = (
        StagedState::new(&chain.state),
        StagedState::new(&chain.tree),
    );
    staged_state.push(layer);
    staged_tree.push(layer);
    let second = build_block(
        &staged_state,
        &staged_tree,
        &first.block.header,
        chain.signing.genesis_hash,
        2_000,
        alice.account_id(),
        verified(
            &chain,
            vec![chain.tx(&bob, 0, pay(alice.account_id(), 200))],
        ),
    )
    .unwrap();
    assert_eq!(second.block.transactions.len(), 1);
    assert!(matches!(
        second.executed.receipts[0].outcome,
        TxOutcome::Success { .. }
    ));
    // A proof served at version 2 from the staged view verifies against block 2's root.
    staged_tree.push(StagedBlock::executed(2, &second.executed));
    let key = wijk_system::ACCOUNTS.key(&bob.account_id());
    let (value, proof) = prove(&staged_tree, 2, &key).unwrap();
    verify_proof(
        second.block.header.state_root,
        &key,
        value.as_deref(),
        &proof,
    )
    .unwrap();
    // Commit block 1, then re-execute block 2 on the committed state: same roots.
    chain.tree.write(&first.executed.tree_batch);
    apply(&mut chain.state, &first.executed.changes);
    let executed = execute_block(
        &chain.state,
        &chain.tree,
        &first.block.header,
        &second.block,
        &chain.signing,
    )
    .unwrap();
    assert_eq!(executed.state_root, second.block.header.state_root);
}

#[test]
fn a_scheduled_validator_set_change_is_announced_in_the_header_and_enacted_at_its_height() {
    let mut chain = Chain::new();
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let schedule = Transaction::sign(
        &alice,
        &chain.signing,
        0,
        100,
        RuntimeCall::Validators(wijk_validators::Call::ScheduleChange {
            validators: vec![alice.account_id(), bob],
            activates_at: 3,
        }),
    );
    let built = build_block(
        &chain.state,
        &chain.tree,
        &chain.head,
        chain.signing.genesis_hash,
        1_000,
        alice.account_id(),
        verified(&chain, vec![schedule]),
    )
    .unwrap();
    let announced = built.block.header.validator_set_change.clone().unwrap();
    assert_eq!(announced.activates_at, 3);
    assert_eq!(announced.validators, vec![alice.account_id(), bob]);

    // A header that hides (or invents) the announcement is refused.
    let mut hidden = built.block.clone();
    hidden.header.validator_set_change = None;
    assert!(matches!(
        execute_block(
            &chain.state,
            &chain.tree,
            &chain.head,
            &hidden,
            &chain.signing
        ),
        Err(BlockError::WrongAnnouncement { .. })
    ));

    // Blocks 2 and 3: the set in state switches at height 3, announced only once.
    apply(&mut chain.state, &built.executed.changes);
    chain.tree.write(&built.executed.tree_batch);
    chain.head = built.block.header;
    assert_eq!(
        wijk_validators::set_for_height(&chain.state, 2).unwrap().1,
        vec![alice.account_id()]
    );
    for timestamp in [2_000, 3_000] {
        let next = build_block(
            &chain.state,
            &chain.tree,
            &chain.head,
            chain.signing.genesis_hash,
            timestamp,
            alice.account_id(),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(next.block.header.validator_set_change, None);
        apply(&mut chain.state, &next.executed.changes);
        chain.tree.write(&next.executed.tree_batch);
        chain.head = next.block.header;
    }
    assert_eq!(
        wijk_validators::current(&chain.state).unwrap(),
        (1, vec![alice.account_id(), bob])
    );
}

#[test]
fn signatures_the_pool_checked_are_skipped_and_nothing_else_is() {
    let chain = Chain::new();
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let txs: Vec<Transaction> = (0..3)
        .map(|nonce| chain.tx(&alice, nonce, CoinCall::Transfer { to: bob, amount: 1 }))
        .collect();
    let checked = wijk_runtime::CheckedSignatures::new(chain.signing, 10);
    checked.remember(&VerifiedTransaction::verify(txs[0].clone(), &chain.signing).unwrap());
    assert_eq!(checked.len(), 1);

    // Transaction 1's signature is forged (it signs another nonce); 0 is skipped as checked.
    let mut forged = txs.clone();
    forged[1].signature = txs[2].signature;
    let block = wijk_runtime::Block {
        header: chain.head.clone(),
        transactions: forged,
    };
    let verdict = |cache: Option<&wijk_runtime::CheckedSignatures>| {
        wijk_runtime::check_signatures_skipping(&block, &chain.signing, None, cache)
    };
    assert!(matches!(
        verdict(Some(&checked)),
        Err(BlockError::InvalidTransaction { index: 1, .. })
    ));
    assert!(matches!(
        verdict(None),
        Err(BlockError::InvalidTransaction { index: 1, .. })
    ));

    // A cache filled for another chain is not consulted: its forged first transaction is
    // caught even though its hash is "known".
    let other_chain = SigningContext {
        genesis_hash: wijk_primitives::Hash([9; 32]),
        spec_version: SPEC_VERSION,
    };
    let foreign = Transaction::sign(
        &alice,
        &other_chain,
        0,
        100,
        RuntimeCall::Coin(CoinCall::Transfer { to: bob, amount: 1 }),
    );
    let foreign_cache = wijk_runtime::CheckedSignatures::new(other_chain, 10);
    foreign_cache.remember(&VerifiedTransaction::verify(foreign.clone(), &other_chain).unwrap());
    let replayed = wijk_runtime::Block {
        header: chain.head.clone(),
        transactions: vec![foreign],
    };
    assert!(matches!(
        wijk_runtime::check_signatures_skipping(
            &replayed,
            &chain.signing,
            None,
            Some(&foreign_cache)
        ),
        Err(BlockError::InvalidTransaction { index: 0, .. })
    ));
}

#[test]
fn batch_verification_gives_each_transaction_its_own_verdict_and_fills_the_cache() {
    let chain = Chain::new();
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let mut txs: Vec<Transaction> = (0..6)
        .map(|nonce| chain.tx(&alice, nonce, CoinCall::Transfer { to: bob, amount: 1 }))
        .collect();
    // Transaction 2 carries transaction 3's signature.
    txs[2].signature = txs[3].signature;
    let keys = wijk_primitives::KeyCache::default();
    let checked = wijk_runtime::CheckedSignatures::new(chain.signing, 100);
    let verdicts =
        VerifiedTransaction::verify_all(txs.clone(), &chain.signing, &keys, Some(&checked));
    for (tx, verdict) in txs.iter().zip(&verdicts) {
        let single = VerifiedTransaction::verify(tx.clone(), &chain.signing);
        assert_eq!(
            verdict.as_ref().map(|v| v.hash()).map_err(Clone::clone),
            single.map(|v| v.hash())
        );
    }
    assert!(verdicts[2].is_err());
    assert_eq!(verdicts.iter().filter(|v| v.is_ok()).count(), 5);
    // Only the good ones are remembered as checked.
    assert_eq!(checked.len(), 5);

    // A block of the five good ones is then checked without checking any again; one more
    // (unchecked) transaction is checked and remembered too.
    let mut good: Vec<Transaction> = txs
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 2)
        .map(|(_, tx)| tx.clone())
        .collect();
    good.push(chain.tx(&alice, 6, CoinCall::Transfer { to: bob, amount: 1 }));
    let block = wijk_runtime::Block {
        header: chain.head.clone(),
        transactions: good,
    };
    assert!(
        wijk_runtime::check_signatures_skipping(&block, &chain.signing, None, Some(&checked))
            .is_ok()
    );
    assert_eq!(checked.len(), 6);
}
