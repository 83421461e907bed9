//! Crash recovery of a real `wijk-node` process: SIGKILL mid-stream, restart on the same
//! base path, and prove that nothing acknowledged as final was lost, that block
//! production continues, and that the chain re-executes from genesis to the same head.

use jsonrpsee::core::client::SubscriptionClientT;
use serde_json::{json, Value};
use std::process::Command;
use wijk_primitives::{Hash, Keypair};
use wijk_tests::{
    call, node_binary, signing_context, submit_until_final, transfer_hex, ws, NodeProcess, WAIT,
};

async fn balance_cents(url: &str, address: &str) -> u128 {
    let account = call(url, "wijk_account", vec![json!(address)])
        .await
        .unwrap();
    account["balanceCents"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_final_transaction_is_lost_after_kill_9_and_the_chain_re_executes() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("node");
    let node = NodeProcess::start_dev(&base, &["--block-time-ms", "50"]);
    let url = node.rpc_url.clone();
    let info = call(&url, "wijk_chainInfo", vec![]).await.unwrap();
    let genesis = Hash::from_hex(info["genesisHash"].as_str().unwrap()).unwrap();
    let signing = signing_context(genesis);
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob").account_id();
    let bob_address = wijk_tests::dev_address("Bob");
    let bob_before: u128 = balance_cents(&url, &bob_address).await;

    // Payments acknowledged as final, one after another.
    let client = ws(&url).await;
    let mut acknowledged = Vec::new();
    for nonce in 0..30 {
        let encoded = transfer_hex(&signing, &alice, nonce, 10_000, bob, 1);
        submit_until_final(&client, &encoded).await.unwrap();
        let tx: wijk_runtime::Transaction =
            parity_scale_codec::Decode::decode(&mut &hex::decode(&encoded[2..]).unwrap()[..])
                .unwrap();
        acknowledged.push(tx.hash());
    }
    // More in flight, then SIGKILL without waiting for them.
    for nonce in 30..50 {
        let encoded = transfer_hex(&signing, &alice, nonce, 10_000, bob, 1);
        call(&url, "author_submitTransaction", vec![json!(encoded)])
            .await
            .unwrap();
    }
    node.kill_hard();

    let node = NodeProcess::start_dev(&base, &["--block-time-ms", "50"]);
    let url = node.rpc_url.clone();
    for hash in &acknowledged {
        let tx = call(&url, "wijk_transaction", vec![json!(hash.to_hex())])
            .await
            .unwrap();
        assert_eq!(
            tx["finalized"],
            json!(true),
            "final transaction {hash} lost after kill -9"
        );
        assert_eq!(tx["outcome"]["success"], json!(true));
    }
    // Balances agree with what the chain says happened, and supply still equals reserve.
    let alice_nonce = call(
        &url,
        "wijk_account",
        vec![json!(wijk_tests::dev_address("Alice"))],
    )
    .await
    .unwrap()["nonce"]
        .as_u64()
        .unwrap();
    assert!(alice_nonce >= 30, "nonce {alice_nonce} went backwards");
    let bob_after: u128 = balance_cents(&url, &bob_address).await;
    assert_eq!(bob_after - bob_before, u128::from(alice_nonce));
    let supply = call(&url, "wijk_supply", vec![]).await.unwrap();
    assert_eq!(supply["total_supply"], supply["euro_reserve"]);

    // Block production continues after the restart.
    let head: u64 = call(&url, "chain_getHeader", vec![]).await.unwrap()["number"]
        .as_u64()
        .unwrap();
    let client = ws(&url).await;
    let mut heads = client
        .subscribe::<Value, _>(
            "chain_subscribeFinalizedHeads",
            Vec::<Value>::new(),
            "chain_unsubscribeFinalizedHeads",
        )
        .await
        .unwrap();
    tokio::time::timeout(WAIT, async {
        while let Some(Ok(header)) = heads.next().await {
            if header["number"].as_u64().unwrap() >= head + 3 {
                return;
            }
        }
        panic!("head subscription ended");
    })
    .await
    .expect("blocks keep being finalized after restart");

    // Re-execute the whole chain from genesis into a fresh database: every root must match
    // and the head must be the same block.
    node.stop();
    let last_head = {
        let output = Command::new(node_binary())
            .args(["export-blocks", "--dev", "--base-path"])
            .arg(&base)
            .arg("--output")
            .arg(dir.path().join("chain.blocks"))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stderr).to_string()
    };
    // An auditor's check of every certificate, with nothing but the chain spec: on the
    // exported file and on the node's own database.
    for source in [
        vec![
            std::path::PathBuf::from("--input"),
            dir.path().join("chain.blocks"),
        ],
        vec![std::path::PathBuf::from("--base-path"), base.clone()],
    ] {
        let output = Command::new(node_binary())
            .args(["verify-certificates", "--dev"])
            .args(&source)
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "audit failed: {report}");
        assert!(report.contains("certificates verify"), "{report}");
    }
    let output = Command::new(node_binary())
        .args(["import-blocks", "--dev", "--base-path"])
        .arg(dir.path().join("fresh"))
        .arg("--input")
        .arg(dir.path().join("chain.blocks"))
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "re-execution failed: {report}");
    let exported_head = last_head
        .lines()
        .find_map(|l| l.split("head ").nth(1))
        .expect("export reports its head")
        .trim()
        .to_string();
    let imported_head = report
        .lines()
        .find_map(|l| l.split("head is ").nth(1))
        .expect("import reports its head")
        .trim()
        .to_string();
    assert_eq!(
        imported_head, exported_head,
        "re-execution from genesis reached another head"
    );
}
