use super::*;
use parity_scale_codec::{Decode, Encode};
use std::collections::BTreeMap;
use wijk_coin::Call as CoinCall;
use wijk_primitives::Keypair;
use wijk_runtime::state_tree::MemoryTree;
use wijk_runtime::{build_genesis, simple_genesis, RuntimeCall, Transaction, SPEC_VERSION};

fn setup() -> (BTreeMap<Vec<u8>, Vec<u8>>, SigningContext) {
    let alice = Keypair::dev("Alice").account_id();
    let genesis = build_genesis(
        &simple_genesis(&[alice], &[(alice, 10_000)]),
        &MemoryTree::default(),
    )
    .unwrap();
    let state = genesis
        .changes
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
    (
        state,
        SigningContext {
            genesis_hash: genesis.header.hash(),
            spec_version: SPEC_VERSION,
        },
    )
}

/// As if a block had used `account`'s nonces up to `nonce` (its genesis balance kept).
fn set_committed_nonce(state: &mut BTreeMap<Vec<u8>, Vec<u8>>, account: &AccountId, nonce: u64) {
    let key = wijk_system::ACCOUNTS.key(account);
    let mut info = state
        .get(&key)
        .map(|bytes| wijk_system::AccountInfo::decode(&mut &bytes[..]).unwrap())
        .unwrap_or_default();
    info.nonce = nonce;
    state.insert(key, info.encode());
}

fn transfer(signing: &SigningContext, nonce: u64, amount: u128) -> Vec<u8> {
    let call = RuntimeCall::Coin(CoinCall::Transfer {
        to: Keypair::dev("Bob").account_id(),
        amount,
    });
    Transaction::sign(&Keypair::dev("Alice"), signing, nonce, 50, call).encode()
}

#[test]
fn admits_valid_and_refuses_each_bad_input_with_a_reason() {
    let (state, signing) = setup();
    let mut pool = Pool::new(PoolConfig::default());
    let good = transfer(&signing, 0, 100);
    let hash = pool.submit(&good, &state, &signing, 1).unwrap();
    assert!(pool.contains(&hash));
    assert_eq!(
        pool.submit(&good, &state, &signing, 1),
        Err(SubmitError::AlreadyKnown { hash })
    );
    // Malformed and oversized bytes.
    assert!(matches!(
        pool.submit(&[1, 2, 3], &state, &signing, 1),
        Err(SubmitError::Decode(_))
    ));
    let huge = vec![0u8; wijk_runtime::MAX_TRANSACTION_BYTES + 1];
    assert!(matches!(
        pool.submit(&huge, &state, &signing, 1),
        Err(SubmitError::Decode(DecodeLimitError::TooLarge { .. }))
    ));
    // Signed for another chain.
    let other = SigningContext {
        genesis_hash: Hash([7; 32]),
        ..signing
    };
    assert!(matches!(
        pool.submit(&transfer(&other, 1, 5), &state, &signing, 1),
        Err(SubmitError::Signature(_))
    ));
    // Tampered signature.
    let mut tampered = transfer(&signing, 1, 5);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(matches!(
        pool.submit(&tampered, &state, &signing, 1),
        Err(SubmitError::Signature(_))
    ));
    // Same nonce, different content.
    assert!(matches!(
        pool.submit(&transfer(&signing, 0, 7), &state, &signing, 1),
        Err(SubmitError::NonceTaken { .. })
    ));
    // Would fail: more than the balance.
    let (state2, _) = setup();
    let mut fresh = Pool::new(PoolConfig::default());
    assert!(matches!(
        fresh.submit(&transfer(&signing, 0, 1_000_000), &state2, &signing, 1),
        Err(SubmitError::WouldFail(_))
    ));
    // Expired.
    assert!(matches!(
        fresh.submit(&transfer(&signing, 0, 1), &state2, &signing, 51),
        Err(SubmitError::Invalid(_))
    ));
    // Too far ahead.
    let far = PoolConfig {
        max_nonce_gap: 2,
        ..PoolConfig::default()
    };
    assert!(matches!(
        Pool::new(far).submit(&transfer(&signing, 3, 1), &state2, &signing, 1),
        Err(SubmitError::NonceGapTooLarge { .. })
    ));
}

#[test]
fn caps_bound_the_pool_and_each_account() {
    let (state, signing) = setup();
    let mut pool = Pool::new(PoolConfig {
        max_per_account: 2,
        ..PoolConfig::default()
    });
    pool.submit(&transfer(&signing, 0, 1), &state, &signing, 1)
        .unwrap();
    pool.submit(&transfer(&signing, 1, 1), &state, &signing, 1)
        .unwrap();
    assert!(matches!(
        pool.submit(&transfer(&signing, 2, 1), &state, &signing, 1),
        Err(SubmitError::AccountLimit { limit: 2, .. })
    ));
    let mut tiny = Pool::new(PoolConfig {
        max_count: 1,
        ..PoolConfig::default()
    });
    tiny.submit(&transfer(&signing, 0, 1), &state, &signing, 1)
        .unwrap();
    assert!(matches!(
        tiny.submit(&transfer(&signing, 1, 1), &state, &signing, 1),
        Err(SubmitError::PoolFull { .. })
    ));
}

#[test]
fn candidates_follow_nonces_and_prune_drops_included() {
    let (state, signing) = setup();
    let mut pool = Pool::new(PoolConfig::default());
    // Future nonce first, then the gap filler: candidates must come out 0, 1, 2.
    let h2 = pool
        .submit(&transfer(&signing, 2, 1), &state, &signing, 1)
        .unwrap();
    let h0 = pool
        .submit(&transfer(&signing, 0, 1), &state, &signing, 1)
        .unwrap();
    let h1 = pool
        .submit(&transfer(&signing, 1, 1), &state, &signing, 1)
        .unwrap();
    let nonces = |pending_next: &HashMap<AccountId, u64>| -> Vec<u64> {
        pool.candidates(10, &state, pending_next)
            .unwrap()
            .iter()
            .map(|t| t.transaction().nonce)
            .collect()
    };
    assert_eq!(nonces(&HashMap::new()), vec![0, 1, 2]);
    // Nonces 0 and 1 sit in a block not final yet: only 2 is offered for the next one.
    let alice = Keypair::dev("Alice").account_id();
    assert_eq!(nonces(&HashMap::from([(alice, 2)])), vec![2]);
    assert_eq!(
        pool.candidates(2, &state, &HashMap::new()).unwrap().len(),
        2
    );
    let dropped = pool.prune(&[h0, h1], &[alice], &state, 2).unwrap();
    assert!(dropped.is_empty());
    assert!(pool.contains(&h2) && pool.len() == 1);
    // Once expired it is dropped with the reason.
    let dropped = pool.prune(&[], &[], &state, 51).unwrap();
    assert_eq!(dropped.len(), 1);
    assert!(pool.is_empty() && pool.bytes() == 0);
}

#[test]
fn prune_drops_a_used_nonce_of_the_blocks_signers_only() {
    let (mut state, signing) = setup();
    let alice = Keypair::dev("Alice").account_id();
    let mut pool = Pool::new(PoolConfig::default());
    // Alice's nonce 0 is pooled, but a block carrying another transaction of hers with
    // nonce 0 was committed (the state now says her next nonce is 1).
    let pooled = pool
        .submit(&transfer(&signing, 0, 1), &state, &signing, 1)
        .unwrap();
    set_committed_nonce(&mut state, &alice, 1);
    // Not told she signed in the block: nothing read, nothing dropped.
    assert!(pool.prune(&[], &[], &state, 2).unwrap().is_empty());
    let dropped = pool.prune(&[], &[alice, alice], &state, 2).unwrap();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].0, pooled);
    assert!(matches!(
        dropped[0].1,
        InvalidTransaction::System(wijk_system::Error::NonceTooLow {
            expected: 1,
            got: 0
        })
    ));
    assert!(pool.is_empty() && pool.bytes() == 0);
}

#[test]
fn a_batch_gets_the_verdicts_of_one_by_one_submission() {
    let (state, signing) = setup();
    let mut tampered = transfer(&signing, 3, 1);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let batch: Vec<Vec<u8>> = vec![
        transfer(&signing, 0, 1),
        tampered,
        transfer(&signing, 0, 1), // a duplicate within the batch
        transfer(&signing, 0, 2), // the same nonce, another transaction
        transfer(&signing, 1, 1),
        vec![9, 9, 9],               // not a transaction
        transfer(&signing, 5000, 1), // too far ahead
        transfer(&signing, 2, 1_000_000),
    ];
    let mut one_by_one = Pool::new(PoolConfig::default());
    let expected: Vec<_> = batch
        .iter()
        .map(|bytes| one_by_one.submit(bytes, &state, &signing, 1))
        .collect();
    let mut batched = Pool::new(PoolConfig::default());
    let local: Vec<_> = batch.iter().map(|bytes| (bytes, Source::Local)).collect();
    let verdicts = batched.submit_many(&local, &state, &signing, 1);
    assert_eq!(verdicts, expected);
    assert!(verdicts[0].is_ok() && verdicts[4].is_ok() && verdicts[7].is_ok());
    assert!(matches!(verdicts[1], Err(SubmitError::Signature(_))));
    assert!(matches!(verdicts[2], Err(SubmitError::AlreadyKnown { .. })));
    assert!(matches!(verdicts[3], Err(SubmitError::NonceTaken { .. })));
    assert!(matches!(verdicts[5], Err(SubmitError::Decode(_))));
    assert!(matches!(
        verdicts[6],
        Err(SubmitError::NonceGapTooLarge { .. })
    ));
    assert_eq!(batched.len(), 3);
}

#[test]
fn a_used_nonce_is_refused_before_its_signature_is_checked() {
    let (mut state, signing) = setup();
    let alice = Keypair::dev("Alice").account_id();
    set_committed_nonce(&mut state, &alice, 1);
    // A bad signature too: the cheaper verdict comes first.
    let mut tampered = transfer(&signing, 0, 1);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(matches!(
        Pool::new(PoolConfig::default()).submit(&tampered, &state, &signing, 1),
        Err(SubmitError::Invalid(InvalidTransaction::System(
            wijk_system::Error::NonceTooLow {
                expected: 1,
                got: 0
            }
        )))
    ));
}

#[test]
fn the_next_nonce_skips_the_accounts_transactions_waiting_in_the_pool() {
    let (state, signing) = setup();
    let mut pool = Pool::new(PoolConfig::default());
    let (alice, bob) = (
        Keypair::dev("Alice").account_id(),
        Keypair::dev("Bob").account_id(),
    );
    assert_eq!(pool.next_nonce(&state, &alice).unwrap(), 0);
    pool.submit(&transfer(&signing, 0, 1), &state, &signing, 1)
        .unwrap();
    assert_eq!(pool.next_nonce(&state, &alice).unwrap(), 1);
    // A transaction after a gap does not count: the gap is what to sign next.
    pool.submit(&transfer(&signing, 2, 1), &state, &signing, 1)
        .unwrap();
    assert_eq!(pool.next_nonce(&state, &alice).unwrap(), 1);
    pool.submit(&transfer(&signing, 1, 1), &state, &signing, 1)
        .unwrap();
    assert_eq!(pool.next_nonce(&state, &alice).unwrap(), 3);
    assert_eq!(pool.next_nonce(&state, &bob).unwrap(), 0);
}

#[test]
fn a_peers_transaction_is_not_dry_run_but_every_other_check_stays() {
    let (state, signing) = setup();
    let overdraft = transfer(&signing, 0, 1_000_000);
    // Submitted here: the resident hears at once that the balance is too low.
    assert!(matches!(
        Pool::new(PoolConfig::default()).submit(&overdraft, &state, &signing, 1),
        Err(SubmitError::WouldFail(_))
    ));
    // Gossiped by a peer: admitted; the block it lands in records the failure.
    let mut pool = Pool::new(PoolConfig::default());
    let verdicts = pool.submit_many(&[(&overdraft, Source::Peer)], &state, &signing, 1);
    assert!(verdicts[0].is_ok());
    // Expiry, signature and nonce are still checked for a peer's transactions.
    let expired = transfer(&signing, 1, 1);
    let mut tampered = transfer(&signing, 2, 1);
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    let mut fresh = Pool::new(PoolConfig::default());
    let verdicts = fresh.submit_many(
        &[
            (&expired, Source::Peer),
            (&tampered, Source::Peer),
            (&transfer(&signing, 0, 1), Source::Peer),
        ],
        &state,
        &signing,
        51,
    );
    let expired_at_51 = |verdict: &Result<Hash, SubmitError>| {
        matches!(
            verdict,
            Err(SubmitError::Invalid(InvalidTransaction::System(
                wijk_system::Error::Expired {
                    valid_until: 50,
                    height: 51
                }
            )))
        )
    };
    assert!(expired_at_51(&verdicts[0]), "{:?}", verdicts[0]);
    assert!(matches!(verdicts[1], Err(SubmitError::Signature(_))));
    assert!(expired_at_51(&verdicts[2]), "{:?}", verdicts[2]);
    assert!(fresh.is_empty());
}
