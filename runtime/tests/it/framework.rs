//! The composed runtime: calls and events as JSON, errors in words, block cost limits, hook
//! events in the receipts root, and listing through blocks not yet written.

use wijk_primitives::json::with_address_prefix;
use wijk_primitives::{AccountId, Keypair, Vote, VoteKind};
use wijk_runtime::{
    receipts_root, transaction_cost, BlockError, DispatchError, HookEvents, MemoryChain,
    RuntimeCall, RuntimeEvent, StagedBlock, StagedState, Transaction, VerifiedTransaction,
    MAX_BLOCK_COST,
};

fn alice() -> Keypair {
    Keypair::dev("Alice")
}

fn chain() -> MemoryChain {
    let alice = alice().account_id();
    let bob = Keypair::dev("Bob").account_id();
    MemoryChain::new(&wijk_runtime::simple_genesis(
        &[alice],
        &[(alice, 1_000_000), (bob, 500)],
    ))
    .unwrap()
}

#[test]
fn calls_and_events_render_as_json_with_this_chains_addresses_and_euros() {
    let bob = Keypair::dev("Bob").account_id();
    let call = RuntimeCall::Coin(wijk_coin::Call::Mint {
        to: bob,
        amount: 1_250,
        deposit_ref: b"BANK-1".to_vec(),
        earmark: None,
    });
    let json = with_address_prefix(42, || call.to_json());
    assert_eq!(
        json,
        serde_json::json!({
            "pallet": "coin", "call": "mint", "to": bob.address(42).to_string(),
            "amount": "12.50", "depositRef": "BANK-1", "earmark": null,
        })
    );
    let event = RuntimeEvent::Validators(wijk_validators::Event::EquivocationRecorded {
        offender: bob,
        view: 7,
        reporter: bob,
    });
    let json = with_address_prefix(42, || event.to_json());
    assert_eq!(json["event"], "validators.EquivocationRecorded");
    assert_eq!(json["view"], 7);
    assert_eq!(json["offender"], bob.address(42).to_string());
    // A signed vote inside a call shows its parts and its exact bytes.
    let vote = Vote {
        view: 3,
        kind: VoteKind::Nullify,
    }
    .sign(&alice(), wijk_primitives::Hash::ZERO);
    let report = RuntimeCall::Validators(wijk_validators::Call::ReportEquivocation {
        first: Box::new(vote),
        second: Box::new(vote),
    });
    let json = with_address_prefix(42, || report.to_json());
    assert_eq!(json["call"], "reportEquivocation");
    assert_eq!(json["first"]["kind"], "nullify");
    assert!(json["first"]["encoded"].as_str().unwrap().starts_with("0x"));
}

#[test]
fn errors_name_their_pallet_and_show_accounts_as_addresses() {
    let bob = Keypair::dev("Bob").account_id();
    let error = DispatchError::Coin(wijk_coin::Error::Currency(
        wijk_support::CurrencyError::InsufficientBalance {
            account: bob,
            available: 8_750,
            needed: 100_000,
        },
    ));
    let text = with_address_prefix(42, || error.to_string());
    assert_eq!(
        text,
        format!(
            "coin: insufficient funds: account {} has 87.50 but needs 1000.00",
            bob.address(42)
        )
    );
}

fn report(signer: &Keypair, nonce: u64, chain: &MemoryChain) -> VerifiedTransaction {
    // Two votes of an outsider: the call fails, but its checking work is paid for all
    // the same.
    let outsider = Keypair::dev("Mallory");
    let nullify = |view| {
        Vote {
            view,
            kind: VoteKind::Nullify,
        }
        .sign(&outsider, chain.signing().genesis_hash)
    };
    let call = RuntimeCall::Validators(wijk_validators::Call::ReportEquivocation {
        first: Box::new(nullify(1)),
        second: Box::new(nullify(2)),
    });
    let tx = Transaction::sign(signer, &chain.signing(), nonce, u64::MAX, call);
    VerifiedTransaction::verify(tx, &chain.signing()).unwrap()
}

#[test]
fn a_block_holds_calls_up_to_its_cost_and_a_costlier_block_is_refused() {
    let mut chain = chain();
    let alice = alice();
    let candidates: Vec<VerifiedTransaction> = (0..6_000)
        .map(|nonce| report(&alice, nonce, &chain))
        .collect();
    let each = transaction_cost(candidates[0].transaction());
    let fits = (MAX_BLOCK_COST.0 - wijk_runtime::HOOKS_COST.0) / each.0;
    assert!(fits < 6_000, "the test needs more candidates than fit");
    let before = chain.head().clone();
    let state = chain.state().clone();
    let built = chain
        .build_next(1_000, alice.account_id(), candidates.clone())
        .unwrap();
    assert_eq!(built.block.transactions.len() as u64, fits);
    assert!(
        built.rejected.is_empty(),
        "the rest wait, they are not refused"
    );

    // A proposer that forces one more in gets its block refused.
    let mut forced = built.block.clone();
    forced
        .transactions
        .push(candidates[fits as usize].transaction().clone());
    let hashes: Vec<_> = forced.transactions.iter().map(|tx| tx.hash()).collect();
    forced.header.transactions_root = wijk_runtime::execute::transactions_root(&hashes);
    let checked = wijk_runtime::check_signatures(&forced, &chain.signing(), None).unwrap();
    let result = wijk_runtime::execute_checked_block(
        &state,
        chain.tree(),
        &before,
        &forced,
        &chain.signing(),
        checked,
    );
    assert!(
        matches!(result, Err(BlockError::TooCostly { .. })),
        "{result:?}"
    );
}

#[test]
fn the_receipts_root_commits_to_the_hooks_events_too() {
    let mut chain = chain();
    let built = chain
        .build_next(1_000, alice().account_id(), Vec::new())
        .unwrap();
    let executed = &built.executed;
    assert_eq!(
        built.block.header.receipts_root,
        receipts_root(&executed.receipts, &executed.hook_events)
    );
    let bob = Keypair::dev("Bob").account_id();
    let other = HookEvents {
        begin: vec![RuntimeEvent::Coin(wijk_coin::Event::Reserved {
            who: bob,
            amount: 1,
        })],
        end: Vec::new(),
    };
    assert_ne!(
        receipts_root(&executed.receipts, &other),
        built.block.header.receipts_root
    );
}

#[test]
fn accounts_are_listed_through_blocks_not_yet_written() {
    let mut chain = chain();
    let committed = chain.state().clone();
    let alice = alice();
    let newcomers: Vec<AccountId> = (0..5)
        .map(|n| Keypair::dev(&format!("N{n}")).account_id())
        .collect();
    let pay = |nonce: u64, to: AccountId, chain: &MemoryChain| {
        let call = RuntimeCall::Coin(wijk_coin::Call::Transfer { to, amount: 10 });
        let tx = Transaction::sign(&alice, &chain.signing(), nonce, u64::MAX, call);
        VerifiedTransaction::verify(tx, &chain.signing()).unwrap()
    };
    let first = chain
        .build_next(
            1_000,
            alice.account_id(),
            (0..3)
                .map(|n| pay(n, newcomers[n as usize], &chain))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    let second = chain
        .build_next(
            2_000,
            alice.account_id(),
            (3..5)
                .map(|n| pay(n, newcomers[n as usize], &chain))
                .collect::<Vec<_>>(),
        )
        .unwrap();
    let mut staged = StagedState::new(&committed);
    staged.push(StagedBlock::executed(1, &first.executed));
    staged.push(StagedBlock::executed(2, &second.executed));
    let list = |state: &dyn wijk_support::StateRead| -> Vec<AccountId> {
        let mut accounts = Vec::new();
        wijk_system::ACCOUNTS
            .for_each(state, |account, _| accounts.push(account))
            .unwrap();
        accounts
    };
    assert_eq!(list(&staged), list(chain.state()));
    assert_eq!(list(&staged).len(), 7);
    assert!(wijk_coin::audit(&staged).is_ok());
}
