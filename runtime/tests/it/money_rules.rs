//! The money rules at the transaction level: only members sign, a suspended member signs
//! nothing, a guardian's envelope is checked before its call runs, and the rate limit
//! refuses the excess with the block from which the account may send again. Each refusal
//! makes the transaction invalid (the pool refuses it; a block builder leaves it out).

use wijk_primitives::{AccountId, Keypair};
use wijk_runtime::execute::validate_transaction;
use wijk_runtime::{
    InvalidTransaction, MemoryChain, RuntimeCall, Transaction, TxOutcome, VerifiedTransaction,
};
use wijk_support::{MembershipError, Role, RoleSet};

fn key(name: &str) -> Keypair {
    Keypair::dev(name)
}

/// A closed chain: Alice runs the cooperative, Bob is an intermediary, Carol and Dave are
/// residents; Eve is nobody. Two transactions per account per window of 10 blocks.
fn chain() -> MemoryChain {
    let (alice, bob, carol, dave, eve) = (
        key("Alice"),
        key("Bob"),
        key("Carol"),
        key("Dave"),
        key("Eve"),
    );
    let funded: Vec<(AccountId, u128)> = [&alice, &bob, &carol, &dave, &eve]
        .iter()
        .map(|k| (k.account_id(), 10_000))
        .collect();
    let mut genesis = wijk_runtime::simple_genesis(&[alice.account_id()], &funded);
    genesis.membership.open_accounts = false;
    genesis
        .membership
        .members
        .push(wijk_membership::GenesisMember {
            account: bob.account_id(),
            roles: RoleSet::of(&[Role::Intermediary]),
            tag: None,
            place: None,
        });
    wijk_runtime::register_residents(&mut genesis, [carol.account_id(), dave.account_id()]);
    genesis.system.rate_limit = wijk_system::RateLimit {
        transactions: 2,
        window_blocks: 10,
    };
    MemoryChain::new(&genesis).unwrap()
}

fn pay(to: &Keypair, amount: u128) -> RuntimeCall {
    RuntimeCall::Coin(wijk_coin::Call::Transfer {
        to: to.account_id(),
        amount,
    })
}

fn sign(chain: &MemoryChain, who: &Keypair, call: RuntimeCall) -> Transaction {
    let nonce = wijk_system::nonce(chain.state(), &who.account_id()).unwrap();
    Transaction::sign(who, &chain.signing(), nonce, 1_000, call)
}

fn validity(chain: &MemoryChain, tx: &Transaction) -> Result<TxOutcome, InvalidTransaction> {
    validate_transaction(
        chain.state(),
        chain.signing().genesis_hash,
        chain.head().height + 1,
        tx,
    )
    .unwrap()
}

/// Builds the next block from `txs`; returns what the builder left out.
fn block(chain: &mut MemoryChain, txs: Vec<Transaction>) -> Vec<InvalidTransaction> {
    let signing = chain.signing();
    let candidates = txs
        .into_iter()
        .map(|tx| VerifiedTransaction::verify(tx, &signing).unwrap())
        .collect::<Vec<_>>();
    let timestamp = (chain.head().height + 1) * 1_000;
    let built = chain
        .build_next(timestamp, key("Alice").account_id(), candidates)
        .unwrap();
    built.rejected.into_iter().map(|(_, why)| why).collect()
}

#[test]
fn only_members_sign_and_a_suspended_member_signs_nothing() {
    let mut chain = chain();
    let stranger = sign(&chain, &key("Eve"), pay(&key("Carol"), 1));
    assert_eq!(
        validity(&chain, &stranger),
        Err(MembershipError::NotMember {
            account: key("Eve").account_id()
        }
        .into())
    );
    assert_eq!(
        block(&mut chain, vec![stranger]).len(),
        1,
        "left out of the block"
    );

    let suspend = sign(
        &chain,
        &key("Alice"),
        RuntimeCall::Membership(wijk_membership::Call::Suspend {
            who: key("Carol").account_id(),
            reason: "under review".into(),
        }),
    );
    assert!(block(&mut chain, vec![suspend]).is_empty());
    let from_suspended = sign(&chain, &key("Carol"), pay(&key("Dave"), 1));
    assert!(matches!(
        validity(&chain, &from_suspended),
        Err(InvalidTransaction::Membership(refused)) if matches!(*refused, MembershipError::Suspended { .. })
    ));
    // Paying a suspended member fails as a call (the payer may sign).
    let to_suspended = sign(&chain, &key("Dave"), pay(&key("Carol"), 1));
    assert!(matches!(
        validity(&chain, &to_suspended),
        Ok(TxOutcome::Failed { .. })
    ));
}

#[test]
fn a_guardians_envelope_runs_for_the_member_and_nobody_elses_is_accepted() {
    let mut chain = chain();
    let appoint = sign(
        &chain,
        &key("Carol"),
        RuntimeCall::Membership(wijk_membership::Call::AppointGuardian {
            member: key("Carol").account_id(),
            guardian: key("Bob").account_id(),
            daily_cap: 500,
        }),
    );
    assert!(block(&mut chain, vec![appoint]).is_empty());

    let envelope = |signer: &Keypair, call: RuntimeCall| {
        sign(
            &chain,
            signer,
            RuntimeCall::OnBehalfOf {
                member: key("Carol").account_id(),
                call: Box::new(call),
            },
        )
    };
    let by_guardian = envelope(&key("Bob"), pay(&key("Dave"), 300));
    let json = wijk_primitives::json::with_address_prefix(42, || by_guardian.call.to_json());
    assert_eq!(
        json["onBehalfOf"],
        key("Carol").account_id().address(42).to_string()
    );
    assert_eq!(json["call"]["call"], "transfer");
    let Ok(TxOutcome::Success { events }) = validity(&chain, &by_guardian) else {
        panic!("the guardian's payment is valid and succeeds");
    };
    let names: Vec<String> = events
        .iter()
        .map(|event| event.to_json()["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["membership.GuardianSpent", "coin.Transferred"]);

    let by_other = envelope(&key("Dave"), pay(&key("Bob"), 1));
    assert!(matches!(
        validity(&chain, &by_other),
        Err(InvalidTransaction::Membership(refused)) if matches!(*refused, MembershipError::NotGuardian { .. })
    ));
    let nested = envelope(
        &key("Bob"),
        RuntimeCall::OnBehalfOf {
            member: key("Carol").account_id(),
            call: Box::new(pay(&key("Dave"), 1)),
        },
    );
    assert_eq!(
        validity(&chain, &nested),
        Err(InvalidTransaction::NestedEnvelope)
    );

    assert!(block(&mut chain, vec![by_guardian]).is_empty());
    assert_eq!(
        wijk_coin::balance(chain.state(), &key("Carol").account_id()),
        Ok(9_700)
    );
    assert_eq!(
        wijk_coin::balance(chain.state(), &key("Bob").account_id()),
        Ok(10_000)
    );
}

#[test]
fn the_rate_limit_refuses_the_excess_and_says_when_to_send_again() {
    let mut chain = chain();
    let carol = key("Carol");
    let first = sign(&chain, &carol, pay(&key("Dave"), 1));
    assert!(block(&mut chain, vec![first]).is_empty());
    let second = sign(&chain, &carol, pay(&key("Dave"), 1));
    assert!(block(&mut chain, vec![second]).is_empty());
    let third = sign(&chain, &carol, pay(&key("Dave"), 1));
    let refused = validity(&chain, &third).unwrap_err();
    assert_eq!(
        refused,
        InvalidTransaction::System(wijk_system::Error::RateLimited {
            limit: 2,
            window_blocks: 10,
            next_at: 10
        })
    );
    assert!(
        refused
            .to_string()
            .contains("it may send again from block 10"),
        "{refused}"
    );
    // Others are not held back by Carol's limit.
    assert!(validity(&chain, &sign(&chain, &key("Dave"), pay(&carol, 1))).is_ok());
    // From the next window Carol may send again.
    while chain.head().height < 9 {
        assert!(block(&mut chain, vec![]).is_empty());
    }
    assert!(block(&mut chain, vec![third]).is_empty());
    assert_eq!(
        wijk_system::nonce(chain.state(), &carol.account_id()),
        Ok(3)
    );
}
