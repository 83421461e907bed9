//! Removing one validator of four, where the new set {Alice, Bob, Charlie} is also a
//! quorum of the old one. The removal takes effect: with Dave killed, the chain goes on
//! with three of three. A full node that was down across the change comes back in the old
//! epoch, catches up across the boundary and reaches the same state root. Every database
//! passes `verify-certificates`.

use serde_json::json;
use wijk_primitives::Keypair;
use wijk_runtime::{RuntimeCall, Transaction};
use wijk_tests::{
    call, encode_hex, finalized_height, submit_until_final, testnet_dir, transfer_hex,
    wait_finalized, ws, ChainFacts, Testnet, WAIT,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_down_across_a_validator_removal_catches_up_by_sync() {
    let dir = testnet_dir();
    let mut testnet = Testnet::start(dir.path(), 4, 1, 200);
    let alice_url = testnet.rpc_url("Alice");
    let chain = ChainFacts::of(&alice_url).await;
    let signing = chain.signing;
    let client = ws(&alice_url).await;
    let keys: Vec<Keypair> = ["Alice", "Bob", "Charlie"]
        .iter()
        .map(|name| Keypair::dev(name))
        .collect();

    // The full node goes down before the change.
    testnet.kill_9("Full1");

    let activates_at = finalized_height(&alice_url).await + 6;
    let schedule = encode_hex(&Transaction::sign(
        &keys[0],
        &signing,
        0,
        100_000,
        RuntimeCall::Validators(wijk_validators::Call::ScheduleChange {
            validators: keys.iter().map(|k| k.account_id()).collect(),
            activates_at,
        }),
    ));
    submit_until_final(&client, &schedule).await.unwrap();
    wait_finalized(&alice_url, activates_at + 2, WAIT)
        .await
        .unwrap();
    let set = call(&alice_url, "wijk_validators", vec![]).await.unwrap();
    assert_eq!(set["epoch"], json!(1), "{set}");
    assert_eq!(set["quorum"], json!(3));
    let address = |key: &Keypair| chain.address(key);
    assert_eq!(
        set["validators"],
        json!(keys.iter().map(address).collect::<Vec<_>>())
    );

    // Dave is out: killing him changes nothing.
    testnet.kill_9("Dave");
    let eve = Keypair::dev("Eve").account_id();
    for nonce in 0..2 {
        let pay = transfer_hex(&signing, &keys[1], nonce, 100_000, eve, 1);
        submit_until_final(&client, &pay).await.unwrap();
    }

    // The full node returns in epoch 0 and catches up across the boundary.
    testnet.restart("Full1");
    let full_url = testnet.rpc_url("Full1");
    let head = finalized_height(&alice_url).await;
    wait_finalized(&full_url, head, WAIT).await.unwrap();
    let at_head = call(&alice_url, "chain_getBlockHash", vec![json!(head)])
        .await
        .unwrap();
    let root = |url: String| {
        let at_head = at_head.clone();
        async move { call(&url, "chain_getHeader", vec![at_head]).await.unwrap()["stateRoot"].clone() }
    };
    assert_eq!(root(full_url.clone()).await, root(alice_url.clone()).await);
    let synced = call(&full_url, "wijk_validators", vec![]).await.unwrap();
    assert_eq!(synced["epoch"], json!(1));

    testnet.stop();
    testnet.verify_certificates(&["Alice", "Bob", "Charlie", "Dave", "Full1"]);
}
