//! Four validators and a full node as real processes on loopback, started by
//! `scripts/local-testnet`: a validator killed with SIGKILL, finality without it, its
//! catch-up and return to voting; two of four down halts finality without a fork, and one
//! back resumes it; nothing acknowledged as final is lost; a fresh full node syncs the
//! whole chain to the same state root; the result passes `verify-certificates`.

use serde_json::{json, Value};
use std::time::Duration;
use wijk_primitives::Keypair;
use wijk_tests::{
    call, dev_address, finalized_height, http_get, submit_until_final, testnet_dir, transfer_hex,
    wait_finalized, wait_peers, ws, ChainFacts, Testnet, WAIT,
};

/// The block hash at `height` on a node.
async fn hash_at(url: &str, height: u64) -> Value {
    call(url, "chain_getBlockHash", vec![json!(height)])
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validators_survive_crashes_halt_without_forks_and_a_fresh_node_syncs() {
    // WIJK_KEEP_TESTNET=1 keeps the folder (logs, databases) for a post-mortem.
    let dir = testnet_dir();
    let mut testnet = Testnet::start(dir.path(), 4, 1, 200);
    let alice_url = testnet.rpc_url("Alice");
    let signing = ChainFacts::of(&alice_url).await.signing;
    let payer = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let mut nonce = 0u64;
    let mut acknowledged = Vec::new();
    let client = ws(&alice_url).await;
    let pay = async |nonce: &mut u64, acknowledged: &mut Vec<String>| {
        let encoded = transfer_hex(&signing, &payer, *nonce, 100_000, bob, 1);
        *nonce += 1;
        let block = submit_until_final(&client, &encoded).await.unwrap();
        acknowledged.push(encoded);
        block
    };

    // All four finalize; the health RPC tells the truth about peers.
    for _ in 0..3 {
        pay(&mut nonce, &mut acknowledged).await;
    }
    wait_peers(&alice_url, 4, WAIT).await.unwrap();
    let health = call(&alice_url, "system_health", vec![]).await.unwrap();
    assert_eq!(health["peers"], json!(4), "3 validators and the full node");
    assert_eq!(health["shouldHavePeers"], json!(true));

    // Prometheus metrics tell the same story.
    let metrics = http_get(testnet.node("Alice")["metrics_url"].as_str().unwrap());
    for line in ["wijk_peers 4", "wijk_certificate_signers 3"] {
        assert!(metrics.contains(line), "{line} missing from:\n{metrics}");
    }
    assert!(metrics.contains("wijk_finalized_height "), "{metrics}");

    // kill -9 one validator: finality goes on with the other three.
    testnet.kill_9("Dave");
    for _ in 0..3 {
        pay(&mut nonce, &mut acknowledged).await;
    }

    // Restarted, it catches up by sync and rejoins.
    testnet.restart("Dave");
    let target = finalized_height(&alice_url).await;
    wait_finalized(&testnet.rpc_url("Dave"), target, WAIT)
        .await
        .unwrap();

    // Two of four down: no quorum, finality halts (a payment stays pending)...
    testnet.kill_9("Charlie");
    testnet.kill_9("Dave");
    let halted_at = finalized_height(&alice_url).await;
    let encoded = transfer_hex(&signing, &payer, nonce, 100_000, bob, 1);
    nonce += 1;
    call(&alice_url, "author_submitTransaction", vec![json!(encoded)])
        .await
        .unwrap();
    // Two view timeouts (2 s each) without a final block.
    let stalled = wait_finalized(&alice_url, halted_at + 2, Duration::from_secs(4)).await;
    assert!(stalled.is_err(), "finalized without a quorum: {stalled:?}");

    // ...and one back resumes it: Dave's votes are needed for every certificate now.
    testnet.restart("Dave");
    let resumed = wait_finalized(&alice_url, halted_at + 2, WAIT)
        .await
        .unwrap();
    assert!(resumed >= halted_at + 2);
    pay(&mut nonce, &mut acknowledged).await;
    let head = finalized_height(&alice_url).await;
    let dave_url = testnet.rpc_url("Dave");
    wait_finalized(&dave_url, head, WAIT).await.unwrap();

    // No fork: the running validators agree on every height.
    let bob_url = testnet.rpc_url("Bob");
    wait_finalized(&bob_url, head, WAIT).await.unwrap();
    for height in 1..=head {
        let ours = hash_at(&alice_url, height).await;
        assert_eq!(ours, hash_at(&bob_url, height).await, "fork at #{height}");
        assert_eq!(ours, hash_at(&dave_url, height).await, "fork at #{height}");
    }
    // Nothing acknowledged as final is lost, on any running validator.
    for encoded in &acknowledged {
        let tx: wijk_runtime::Transaction =
            parity_scale_codec::Decode::decode(&mut &hex::decode(&encoded[2..]).unwrap()[..])
                .unwrap();
        for url in [&alice_url, &bob_url, &dave_url] {
            let found = call(url, "wijk_transaction", vec![json!(tx.hash().to_hex())])
                .await
                .unwrap();
            assert!(found["blockNumber"].as_u64().is_some(), "lost {found}");
        }
    }
    let bob_balance = call(&dave_url, "wijk_account", vec![json!(dev_address("Bob"))])
        .await
        .unwrap();
    assert!(bob_balance["balanceCents"].is_string());

    // A fresh full node (its database deleted) syncs the whole chain to the same root.
    testnet.resync_from_scratch("Full1", &alice_url).await;
    let full_url = testnet.rpc_url("Full1");
    let full_health = call(&full_url, "system_health", vec![]).await.unwrap();
    assert_eq!(full_health["isSyncing"], json!(false));

    // An auditor checks every certificate of a validator's database from the spec alone.
    testnet.stop();
    testnet.verify_certificates(&["Alice", "Bob", "Charlie", "Dave", "Full1"]);
}
