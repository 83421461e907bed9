//! A validator-set change on a running network of real processes: the board (Alice)
//! schedules a two-validator set; the scheduling block's header announces it; the new
//! epoch begins at the announced height; after it, the two removed validators are killed
//! and the remaining two still finalize (the old set would need three). Equivocation
//! evidence submitted by anyone is checked and recorded on chain. A full node whose
//! database is deleted syncs across the epoch boundary to the same state root, and
//! `verify-certificates` follows the change from the headers alone.

use serde_json::{json, Value};
use wijk_primitives::{BlockRef, Hash, Keypair, Vote, VoteKind};
use wijk_runtime::{RuntimeCall, Transaction};
use wijk_tests::{
    call, encode_hex, finalized_height, submit_until_final, testnet_dir, transfer_hex,
    wait_finalized, ws, ChainFacts, Testnet, WAIT,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_changes_the_validator_set_at_a_certified_height_and_evidence_is_recorded() {
    let dir = testnet_dir();
    let mut testnet = Testnet::start(dir.path(), 4, 1, 200);
    let alice_url = testnet.rpc_url("Alice");
    let chain = ChainFacts::of(&alice_url).await;
    let address = |name: &str| chain.address(&Keypair::dev(name));
    let signing = chain.signing;
    let genesis = signing.genesis_hash;
    let client = ws(&alice_url).await;
    let alice = Keypair::dev("Alice");
    let bob = Keypair::dev("Bob");

    let before = call(&alice_url, "wijk_validators", vec![]).await.unwrap();
    assert_eq!(before["epoch"], json!(0));
    assert_eq!(before["quorum"], json!(3));
    assert_eq!(before["board"], json!([address("Alice")]));

    // Only the members by vote, or the board within its limit (two validators here), may
    // change the set: Bob's attempt is refused before it is pooled.
    let schedule = |who: &Keypair, nonce: u64, activates_at: u64| {
        encode_hex(&Transaction::sign(
            who,
            &signing,
            nonce,
            100_000,
            RuntimeCall::Validators(wijk_validators::Call::ScheduleChange {
                validators: vec![alice.account_id(), bob.account_id()],
                activates_at,
            }),
        ))
    };
    let refused = submit_until_final(&client, &schedule(&bob, 0, 1_000))
        .await
        .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("only the members (by an enacted vote) may do this"),
        "{refused}"
    );

    // Alice schedules {Alice, Bob} a few blocks ahead; the including header announces it.
    let activates_at = finalized_height(&alice_url).await + 8;
    let block_hash = submit_until_final(&client, &schedule(&alice, 0, activates_at))
        .await
        .unwrap();
    let header = call(&alice_url, "chain_getHeader", vec![json!(block_hash)])
        .await
        .unwrap();
    let announced = &header["validatorSetChange"];
    assert_eq!(announced["activatesAt"], json!(activates_at), "{header}");
    assert_eq!(
        announced["validators"],
        json!([address("Alice"), address("Bob")])
    );
    assert!(header["number"].as_u64().unwrap() < activates_at);

    // The new epoch begins at the announced height.
    wait_finalized(&alice_url, activates_at + 2, WAIT)
        .await
        .unwrap();
    let after = call(&alice_url, "wijk_validators", vec![]).await.unwrap();
    assert_eq!(after["epoch"], json!(1), "{after}");
    assert_eq!(
        after["validators"],
        json!([address("Alice"), address("Bob")])
    );
    assert_eq!(after["scheduled"], Value::Null);
    let signers = |certificate: Value| -> Vec<String> {
        certificate["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["validator"].as_str().unwrap_or("?").to_string())
            .collect()
    };
    let new_block = call(
        &alice_url,
        "chain_getBlockHash",
        vec![json!(activates_at + 1)],
    )
    .await
    .unwrap();
    let certificate = call(
        &alice_url,
        "chain_getFinalityCertificate",
        vec![new_block.clone()],
    )
    .await
    .unwrap();
    for signer in signers(certificate.clone()) {
        assert!(
            [address("Alice"), address("Bob")].contains(&signer),
            "block #{} certified by {signer}, outside the new set: {certificate}",
            activates_at + 1
        );
    }

    // Anyone may submit evidence: Dave signed two blocks in one view of epoch 0.
    let dave = Keypair::dev("Dave");
    let vote = |byte: u8| {
        Vote {
            view: 3,
            kind: VoteKind::Notarize {
                block: BlockRef {
                    hash: Hash([byte; 32]),
                    height: 3,
                    parent: Hash::ZERO,
                },
                parent_view: 2,
            },
        }
        .sign(&dave, genesis)
    };
    let eve = Keypair::dev("Eve");
    let report = encode_hex(&Transaction::sign(
        &eve,
        &signing,
        0,
        100_000,
        RuntimeCall::Validators(wijk_validators::Call::ReportEquivocation {
            first: Box::new(vote(1)),
            second: Box::new(vote(2)),
        }),
    ));
    submit_until_final(&client, &report).await.unwrap();
    let offences = call(&alice_url, "wijk_offences", vec![]).await.unwrap();
    assert_eq!(offences["count"], json!(1), "{offences}");
    let offence = &offences["offences"][0];
    assert_eq!(offence["offender"], json!(address("Dave")));
    assert_eq!(offence["reporter"], json!(address("Eve")));
    assert_eq!(offence["view"], json!(3));
    // Two votes that do not conflict prove nothing and record nothing.
    let harmless = encode_hex(&Transaction::sign(
        &eve,
        &signing,
        1,
        100_000,
        RuntimeCall::Validators(wijk_validators::Call::ReportEquivocation {
            first: Box::new(vote(1)),
            second: Box::new(vote(1)),
        }),
    ));
    let refused = submit_until_final(&client, &harmless).await.unwrap_err();
    assert!(refused.to_string().contains("do not conflict"), "{refused}");
    let offences = call(&alice_url, "wijk_offences", vec![]).await.unwrap();
    assert_eq!(offences["count"], json!(1));

    // Charlie and Dave are no longer needed: with both killed the old set would halt (2 of
    // 4), the new set of two finalizes on.
    testnet.kill_9("Charlie");
    testnet.kill_9("Dave");
    for nonce in 0..3 {
        let pay = transfer_hex(&signing, &bob, nonce, 100_000, eve.account_id(), 1);
        submit_until_final(&client, &pay).await.unwrap();
    }

    // A full node whose database is deleted syncs across the epoch boundary.
    testnet.resync_from_scratch("Full1", &alice_url).await;
    let full_url = testnet.rpc_url("Full1");
    let synced = call(&full_url, "wijk_validators", vec![]).await.unwrap();
    assert_eq!(synced["epoch"], json!(1));

    // The auditor follows the change from certified headers and the spec alone.
    testnet.stop();
    testnet.verify_certificates(&["Alice", "Bob", "Charlie", "Dave", "Full1"]);
}
