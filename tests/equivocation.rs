//! A Byzantine "twin": Dave's validator key runs in two processes at once (the second on
//! the full node's network identity), so whenever Dave leads a view, two different blocks
//! are proposed under his key. Every honest validator sees both signed votes, submits them
//! as evidence, and the chain records the offence once; the chain keeps finalizing and
//! never forks (one Byzantine validator of four is within `f`).

use serde_json::json;
use wijk_primitives::Keypair;
use wijk_tests::{call, finalized_height, testnet_dir, wait_finalized, ChainFacts, Testnet, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_running_twice_is_caught_and_its_equivocation_recorded_on_chain() {
    let dir = testnet_dir();
    let mut testnet = Testnet::start(dir.path(), 4, 1, 200);
    let alice_url = testnet.rpc_url("Alice");
    let dave = ChainFacts::of(&alice_url)
        .await
        .address(&Keypair::dev("Dave"));

    // The full node comes back as Dave's twin.
    testnet.kill_9("Full1");
    testnet.restart_with("Full1", &["--validator", "--key", "//Dave"]);

    // Wait, block by block, until a validator's report is final on chain.
    let client = wijk_tests::ws(&alice_url).await;
    let mut heads = wijk_tests::finalized_heads(&client).await.unwrap();
    let offences = tokio::time::timeout(WAIT * 2, async {
        loop {
            let offences = call(&alice_url, "wijk_offences", vec![]).await.unwrap();
            if offences["count"].as_u64() >= Some(1) {
                return offences;
            }
            heads.next().await.expect("subscription open").unwrap();
        }
    })
    .await
    .expect("an equivocation is recorded on chain");
    let offence = &offences["offences"][0];
    assert_eq!(offence["offender"], json!(dave), "{offence}");
    // Whoever saw both votes first reported them (possibly one of Dave's twins itself).
    let validators = call(&alice_url, "wijk_validators", vec![]).await.unwrap();
    assert!(
        validators["validators"]
            .as_array()
            .unwrap()
            .contains(&offence["reporter"]),
        "{offence}"
    );
    assert_eq!(offence["first"]["view"], offence["second"]["view"]);
    assert_ne!(offence["first"]["encoded"], offence["second"]["encoded"]);
    assert!(validators["offences"].as_u64() >= Some(1));

    // The honest three keep finalizing, and agree at every height.
    let head = finalized_height(&alice_url).await;
    wait_finalized(&alice_url, head + 3, WAIT).await.unwrap();
    let bob_url = testnet.rpc_url("Bob");
    wait_finalized(&bob_url, head + 3, WAIT).await.unwrap();
    for height in 1..=head + 3 {
        let ours = call(&alice_url, "chain_getBlockHash", vec![json!(height)])
            .await
            .unwrap();
        let theirs = call(&bob_url, "chain_getBlockHash", vec![json!(height)])
            .await
            .unwrap();
        assert_eq!(ours, theirs, "fork at #{height}");
    }
    testnet.stop();
}
