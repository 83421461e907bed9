//! The members' decisions through the whole runtime: a proposal's kind follows from its
//! call, a vote closes in the end-block hook, and the approved call runs as the members'
//! decision, here a validator-set change the board alone may not make, announced in the
//! header of the block that enacts it and in force from its height.

use parity_scale_codec::Encode;
use wijk_governance::{Call as Governance, Choice, Status, Track, Tracks};
use wijk_primitives::{AccountId, Hash, Keypair};
use wijk_runtime::{
    MemoryChain, RuntimeCall, RuntimeEvent, Transaction, TxOutcome, VerifiedTransaction,
};

fn key(name: &str) -> Keypair {
    Keypair::dev(name)
}

const RESIDENTS: [&str; 4] = ["Carol", "Dave", "Eve", "Ferdie"];

/// Alice validates and sits on the board; four residents vote. Votes last 3 blocks and take
/// effect 1 block after; the board alone may change no validator.
fn chain() -> MemoryChain {
    let alice = key("Alice").account_id();
    let mut genesis = wijk_runtime::simple_genesis(&[alice], &[(alice, 10_000)]);
    genesis.membership.open_accounts = false;
    wijk_runtime::register_residents(
        &mut genesis,
        RESIDENTS.iter().map(|name| key(name).account_id()),
    );
    let quick = Track {
        quorum_per_mille: 500,
        approval_per_mille: 500,
        voting_blocks: 3,
        enactment_blocks: 1,
    };
    genesis.governance.tracks = Tracks {
        validator_set: quick,
        parameter: quick,
        ..Tracks::default()
    };
    genesis.validators.board_change_limit = 0;
    MemoryChain::new(&genesis).unwrap()
}

fn sign(chain: &MemoryChain, who: &Keypair, call: RuntimeCall) -> Transaction {
    let nonce = wijk_system::nonce(chain.state(), &who.account_id()).unwrap();
    Transaction::sign(who, &chain.signing(), nonce, 1_000, call)
}

/// Builds the next block; returns the outcomes of its transactions and its hooks' events.
fn block(
    chain: &mut MemoryChain,
    txs: Vec<Transaction>,
) -> (Vec<TxOutcome>, Vec<RuntimeEvent>, wijk_runtime::BuiltBlock) {
    let signing = chain.signing();
    let candidates: Vec<VerifiedTransaction> = txs
        .into_iter()
        .map(|tx| VerifiedTransaction::verify(tx, &signing).unwrap())
        .collect();
    let timestamp = (chain.head().height + 1) * 1_000;
    let built = chain
        .build_next(timestamp, key("Alice").account_id(), candidates)
        .unwrap();
    assert!(built.rejected.is_empty(), "{:?}", built.rejected);
    let outcomes = built
        .executed
        .receipts
        .iter()
        .map(|receipt| receipt.outcome.clone())
        .collect();
    let hooks = built.executed.hook_events.end.clone();
    (outcomes, hooks, built)
}

/// Why a transaction's call failed (empty if it succeeded).
fn failure(outcome: &TxOutcome) -> String {
    match outcome {
        TxOutcome::Success { .. } => String::new(),
        TxOutcome::Failed { error } => error.to_string(),
    }
}

fn propose(call: RuntimeCall) -> RuntimeCall {
    RuntimeCall::Governance(Governance::Propose {
        title: "Bob validates with Alice".into(),
        text_hash: Hash([1; 32]),
        encoded_call: call.encode(),
    })
}

#[test]
fn the_members_vote_a_validator_change_the_board_may_not_make_and_it_takes_effect() {
    let mut chain = chain();
    let alice = key("Alice");
    let bob = key("Bob").account_id();
    let new_set: Vec<AccountId> = vec![alice.account_id(), bob];
    let change = RuntimeCall::Validators(wijk_validators::Call::ChangeSet {
        validators: new_set.clone(),
    });
    // The board alone may not.
    let tx = sign(&chain, &alice, change.clone());
    let (outcomes, _, _) = block(&mut chain, vec![tx]);
    assert!(
        failure(&outcomes[0]).contains("needs a vote of the members"),
        "{outcomes:?}"
    );
    // A payment is no decision of the members: it cannot be proposed.
    let carol = key("Carol");
    let payment = RuntimeCall::Coin(wijk_coin::Call::Transfer {
        to: carol.account_id(),
        amount: 100,
    });
    let tx = sign(&chain, &carol, propose(payment));
    let (outcomes, _, _) = block(&mut chain, vec![tx]);
    assert!(
        failure(&outcomes[0]).contains("not something the members decide"),
        "{outcomes:?}"
    );
    // Carol proposes the change; it runs on the validator track.
    let tx = sign(&chain, &carol, propose(change));
    let (outcomes, _, _) = block(&mut chain, vec![tx]);
    assert!(failure(&outcomes[0]).is_empty(), "{outcomes:?}");
    let opened = wijk_governance::proposal(chain.state(), 0)
        .unwrap()
        .unwrap();
    assert_eq!(opened.kind, wijk_support::ProposalKind::ValidatorSet);
    assert_eq!(opened.electorate, 4);
    let closes_at = opened.closes_at;
    // Three of four residents vote yes, Dave delegating to Carol.
    let delegate = RuntimeCall::Governance(Governance::Delegate {
        to: carol.account_id(),
        scope: wijk_governance::Scope::All,
    });
    let vote = |choice: Choice| RuntimeCall::Governance(Governance::Vote { id: 0, choice });
    let txs = vec![
        sign(&chain, &key("Dave"), delegate),
        sign(&chain, &carol, vote(Choice::Yes)),
        sign(&chain, &key("Eve"), vote(Choice::Yes)),
        sign(&chain, &key("Ferdie"), vote(Choice::No)),
    ];
    let (outcomes, _, _) = block(&mut chain, txs);
    assert!(
        outcomes.iter().all(|o| failure(o).is_empty()),
        "{outcomes:?}"
    );
    let tally = wijk_governance::proposal(chain.state(), 0)
        .unwrap()
        .unwrap()
        .tally;
    assert_eq!((tally.yes, tally.no), (3, 1));
    assert_eq!(
        wijk_governance::recount(chain.state(), 0).unwrap(),
        Some(tally)
    );
    // Blocks up to the close; the close block's hook decides.
    let mut closed = Vec::new();
    while chain.head().height < closes_at {
        let (_, hooks, _) = block(&mut chain, vec![]);
        closed = hooks;
    }
    assert!(
        closed.iter().any(|event| matches!(
            event,
            RuntimeEvent::Governance(wijk_governance::Event::Closed { id: 0, .. })
        )),
        "{closed:?}"
    );
    // The next block enacts it: its header announces the new set.
    let (_, hooks, built) = block(&mut chain, vec![]);
    assert!(
        hooks.contains(&RuntimeEvent::Governance(wijk_governance::Event::Enacted {
            id: 0,
            failed: None
        })),
        "{hooks:?}"
    );
    let announced = built.block.header.validator_set_change.clone().unwrap();
    assert_eq!(announced.validators, new_set);
    assert!(matches!(
        wijk_governance::proposal(chain.state(), 0)
            .unwrap()
            .unwrap()
            .status,
        Status::Enacted { failed: None, .. }
    ));
    while chain.head().height < announced.activates_at {
        block(&mut chain, vec![]);
    }
    assert_eq!(
        wijk_validators::current(chain.state()).unwrap(),
        (1, new_set)
    );
}
