//! The life of a coin on a running four-validator `rabot` testnet (real processes, the
//! Rabot-Blaisantvest demo spec with a short rekey delay and a full node): an intermediary
//! registers a resident, and a second registration of the same person is refused; the
//! exchange office mints coins a funder earmarked for food in the wijk; the resident pays
//! a grocer inside the region and cannot pay the supermarket just outside it (the error
//! names the rule); a guardian pays within the day's cap and is refused beyond it; a rekey
//! is cancelled by the old key and a second completes after the delay; the grocer asks for
//! a payout and the exchange office pays it. Supply, reserve and owed agree after every
//! step, and `wijk-node verify-certificates` passes on the full node's database.

use std::time::Duration;
use wijk_client::{types, Client};
use wijk_primitives::{Hash, Keypair};
use wijk_runtime::RuntimeCall;
use wijk_service::chain_spec::AllowedNode;
use wijk_support::{Role, RoleSet};
use wijk_tests::{testnet_dir, wait_finalized, wait_peers, Testnet, WAIT};

const STEP: Duration = Duration::from_secs(60);

fn key(name: &str) -> Keypair {
    Keypair::dev(name)
}

fn tag(identity: &str) -> Hash {
    wijk_membership::registration_tag(b"rabot cooperative secret, demo only", identity)
}

/// Supply, reserve and owed agree (supply == reserve - owed), and the supply is `expected`.
async fn balanced(client: &Client) -> types::Supply {
    let supply = client.supply().await.expect("wijk_supply");
    assert!(supply.balanced, "{supply:?}");
    supply
}

async fn run(client: &Client, who: &Keypair, call: RuntimeCall) -> types::FinalTransaction {
    let done = client
        .execute(who, call, STEP)
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(done.outcome.success, "{:?}", done.outcome);
    balanced(client).await;
    done
}

async fn refused(client: &Client, who: &Keypair, call: RuntimeCall) -> String {
    let error = client
        .execute(who, call, STEP)
        .await
        .expect_err("the call must be refused");
    balanced(client).await;
    error.to_string()
}

async fn free_balance(client: &Client, who: &Keypair) -> u128 {
    client
        .account(&who.account_id())
        .await
        .expect("wijk_account")
        .balance_cents
        .parse()
        .expect("cents")
}

fn coin(call: wijk_coin::Call) -> RuntimeCall {
    RuntimeCall::Coin(call)
}

fn member(call: wijk_membership::Call) -> RuntimeCall {
    RuntimeCall::Membership(call)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_life_of_a_coin_in_rabot() {
    let mut spec = wijk_service::chain_spec::rabot();
    spec.block_time_ms = 250;
    spec.genesis.membership.rekey_delay_blocks = 12;
    spec.allowed_nodes.push(AllowedNode {
        name: "Full1".into(),
        peer_id: wijk_service::NodeKey::dev("Full1").peer_id().to_string(),
    });
    let dir = testnet_dir();
    let testnet = Testnet::start_with_spec(&dir.path().join("net"), &spec, 1);
    let url = testnet.rpc_url("Alice");
    wait_peers(&url, 4, WAIT).await.expect("peers");
    wait_finalized(&url, 2, WAIT).await.expect("finality");
    let client = Client::connect(&url).await.expect("client");
    let start = balanced(&client).await;

    let helper = key("Buurtcentrum");
    let other_helper = key("Welzijnsschakel");
    let office = key("Wisselkantoor");
    let city = key("StadGent");
    let grocer = key("Kruidenier");
    let supermarket = key("Supermarkt");
    let resident = Keypair::from_seed(&[41; 32]);

    // A stranger cannot transact at all: the pool refuses before any block.
    let stranger = refused(
        &client,
        &resident,
        coin(wijk_coin::Call::Transfer {
            to: grocer.account_id(),
            amount: 1,
        }),
    )
    .await;
    assert!(
        stranger.contains("is not a registered member"),
        "{stranger}"
    );

    // An intermediary registers the resident; the same person again is refused, whoever asks.
    let register = |who: &Keypair| {
        member(wijk_membership::Call::Register {
            who: who.account_id(),
            roles: RoleSet::of(&[Role::Resident]),
            tag: tag("85.07.30-033.28"),
            place: None,
        })
    };
    run(&client, &helper, register(&resident)).await;
    let twice = refused(
        &client,
        &other_helper,
        register(&Keypair::from_seed(&[42; 32])),
    )
    .await;
    assert!(twice.contains("already registered"), "{twice}");

    // The exchange office mints coins the city earmarked: food, in the wijk.
    let earmark = wijk_coin::Earmark {
        funder: city.account_id(),
        label: "stad gent voeding".into(),
        categories: vec!["food".into()],
        region_only: true,
        expires_at: None,
    };
    run(
        &client,
        &office,
        coin(wijk_coin::Call::Mint {
            to: resident.account_id(),
            amount: 4_000,
            deposit_ref: b"STAD-GENT-2026-0001".to_vec(),
            earmark: Some(earmark.clone()),
        }),
    )
    .await;
    let account = client.account(&resident.account_id()).await.unwrap();
    assert_eq!(account.balance_cents, "0");
    assert_eq!(account.earmarked.len(), 1);
    assert_eq!(account.earmarked[0].amount_cents, "4000");
    assert_eq!(
        account.earmarked[0].rule,
        "stad gent voeding: food; Rabot-Blaisantvest only"
    );
    assert_eq!(balanced(&client).await.total_supply_cents, {
        let before: u128 = start.total_supply_cents.parse().unwrap();
        (before + 4_000).to_string()
    });

    // Inside the region the grocer takes them; the supermarket outside cannot.
    let grocer_before = free_balance(&client, &grocer).await;
    run(
        &client,
        &resident,
        coin(wijk_coin::Call::Transfer {
            to: grocer.account_id(),
            amount: 1_500,
        }),
    )
    .await;
    assert_eq!(free_balance(&client, &grocer).await, grocer_before + 1_500);
    let outside = refused(
        &client,
        &resident,
        coin(wijk_coin::Call::Transfer {
            to: supermarket.account_id(),
            amount: 500,
        }),
    )
    .await;
    assert!(
        outside.contains(
            "earmark 'stad gent voeding: food; Rabot-Blaisantvest only' cannot pay merchant"
        ) && outside.contains("outside the region"),
        "{outside}"
    );

    // A guardian pays for the resident within the day's cap, and is refused beyond it.
    run(
        &client,
        &resident,
        member(wijk_membership::Call::AppointGuardian {
            member: resident.account_id(),
            guardian: helper.account_id(),
            daily_cap: 1_000,
        }),
    )
    .await;
    let for_resident = |amount| RuntimeCall::OnBehalfOf {
        member: resident.account_id(),
        call: Box::new(coin(wijk_coin::Call::Transfer {
            to: grocer.account_id(),
            amount,
        })),
    };
    let paid = run(&client, &helper, for_resident(700)).await;
    assert!(
        paid.outcome
            .events
            .iter()
            .flatten()
            .any(|event| event["event"] == "membership.GuardianSpent"),
        "{:?}",
        paid.outcome
    );
    let over = refused(&client, &helper, for_resident(400)).await;
    assert!(over.contains("a day for"), "{over}");

    // A rekey is cancelled by the old key; a second one completes after the delay.
    let first_phone = Keypair::from_seed(&[43; 32]);
    let new_phone = Keypair::from_seed(&[44; 32]);
    let rekey = |new: &Keypair| {
        member(wijk_membership::Call::Rekey {
            who: resident.account_id(),
            new: new.account_id(),
        })
    };
    run(&client, &helper, rekey(&first_phone)).await;
    run(
        &client,
        &resident,
        member(wijk_membership::Call::CancelRekey {
            who: resident.account_id(),
        }),
    )
    .await;
    let requested = run(&client, &helper, rekey(&new_phone)).await;
    let due = client
        .member(&resident.account_id())
        .await
        .unwrap()
        .expect("still a member")
        .pending_rekey
        .expect("pending")
        .due;
    assert!(due > requested.block_number);
    wait_finalized(&url, due + 1, WAIT)
        .await
        .expect("the delay passes");
    assert!(client
        .member(&resident.account_id())
        .await
        .unwrap()
        .is_none());
    let moved = client.member(&new_phone.account_id()).await.unwrap();
    assert!(
        moved.is_some_and(|m| m.guardian.is_some()),
        "roles and guardian moved"
    );
    let moved = client.account(&new_phone.account_id()).await.unwrap();
    assert_eq!(
        moved.earmarked[0].amount_cents, "1800",
        "the earmarked coins moved"
    );
    assert!(client
        .member(&first_phone.account_id())
        .await
        .unwrap()
        .is_none());
    balanced(&client).await;

    // The grocer asks for a payout (2 % to the cooperative's fund); the office pays it.
    run(
        &client,
        &grocer,
        coin(wijk_coin::Call::RequestRedemption {
            amount: 2_000,
            payout_to: wijk_primitives::blake3_hash(b"BE71096123456769"),
        }),
    )
    .await;
    let owed = client.redemptions(true, 0, 10).await.unwrap();
    assert_eq!(owed.entries.len(), 1);
    assert_eq!(owed.entries[0].amount_cents, "1960");
    assert_eq!(owed.entries[0].fee, "0.40");
    let supply = balanced(&client).await;
    assert_eq!(supply.redemptions_owed_cents, "1960");
    run(
        &client,
        &office,
        coin(wijk_coin::Call::PayRedemption {
            id: owed.entries[0].id,
            bank_ref: wijk_primitives::blake3_hash(b"SEPA-2026-0042"),
        }),
    )
    .await;
    let supply = balanced(&client).await;
    assert_eq!(supply.redemptions_owed_cents, "0");
    assert!(client
        .redemptions(true, 0, 10)
        .await
        .unwrap()
        .entries
        .is_empty());

    // The full node followed it all; its database verifies from the chain spec alone.
    let head = wijk_tests::finalized_height(&url).await;
    wait_finalized(&testnet.rpc_url("Full1"), head, WAIT)
        .await
        .expect("the full node follows");
    testnet.stop();
    testnet.verify_certificates(&["Full1", "Alice"]);
}
