//! The wijk decides, on a running four-validator `rabot` testnet (real processes, the
//! Rabot-Blaisantvest demo spec with quick tracks and a full node): the city funds its
//! budget; residents vote a new value for an hour of neighbourhood help, and the vote is
//! enacted; a resident earns coins for attested hours at the new value from the city's
//! budget (as coins for Rabot's shops only), another for work done before the vote at the
//! old value; a verifier cannot attest their own claim; members vote a validator-set change
//! the board could also make, it is announced in a certified header and takes effect at its
//! epoch, the removed validator is stopped and the rest finalize on; and
//! `wijk-node verify-certificates` follows the change from the full node's database.
//! Supply, reserve and owed agree after every step.

use std::time::Duration;
use wijk_client::{types, Client};
use wijk_governance::Status;
use wijk_primitives::{Hash, Keypair};
use wijk_runtime::RuntimeCall;
use wijk_service::chain_spec::AllowedNode;
use wijk_tests::{testnet_dir, wait_finalized, wait_peers, Testnet, WAIT};

const STEP: Duration = Duration::from_secs(60);

fn key(name: &str) -> Keypair {
    Keypair::dev(name)
}

async fn balanced(client: &Client) {
    let supply = client.supply().await.expect("wijk_supply");
    assert!(supply.balanced, "{supply:?}");
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

fn activities(call: wijk_activities::Call) -> RuntimeCall {
    RuntimeCall::Activities(call)
}

fn propose(title: &str, call: RuntimeCall) -> RuntimeCall {
    use parity_scale_codec::Encode;
    RuntimeCall::Governance(wijk_governance::Call::Propose {
        title: title.into(),
        text_hash: wijk_primitives::blake3_hash(title.as_bytes()),
        encoded_call: call.encode(),
    })
}

fn vote_yes(id: u64) -> RuntimeCall {
    RuntimeCall::Governance(wijk_governance::Call::Vote {
        id,
        choice: wijk_governance::Choice::Yes,
    })
}

/// The newest proposal's number (the one just made).
async fn newest_proposal(client: &Client) -> u64 {
    client.proposals(None, 1).await.expect("wijk_proposals")[0].id
}

/// Waits until proposal `id` is carried out, and checks it did not fail.
async fn enacted(client: &Client, url: &str, id: u64) -> u64 {
    let proposal = client
        .proposal(id, None, 0)
        .await
        .unwrap()
        .expect("proposal");
    let enacts_at = proposal.proposal.closes_at + proposal.proposal.track.enactment_blocks;
    wait_finalized(url, enacts_at + 1, WAIT)
        .await
        .expect("the chain reaches the enactment");
    let proposal = client
        .proposal(id, None, 0)
        .await
        .unwrap()
        .expect("proposal");
    match proposal.proposal.status {
        Status::Enacted { at, failed: None } => {
            assert_eq!(proposal.recount, proposal.proposal.tally, "recount");
            at
        }
        other => panic!("proposal {id} is {other:?}"),
    }
}

/// The time of the latest final block.
async fn final_time(client: &Client) -> u64 {
    let head = client
        .finalized_head()
        .await
        .unwrap()
        .expect("a final block");
    client
        .header(&head)
        .await
        .unwrap()
        .expect("header")
        .timestamp
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wijk_values_its_activities_and_changes_its_validators_by_vote() {
    let mut spec = wijk_service::chain_spec::rabot();
    spec.block_time_ms = 250;
    let quick = |kind| wijk_governance::Track {
        voting_blocks: 40,
        enactment_blocks: 4,
        ..wijk_governance::default_track(kind)
    };
    use wijk_support::ProposalKind::*;
    spec.genesis.governance.tracks = wijk_governance::Tracks {
        activity_value: quick(ActivityValue),
        activity_catalogue: quick(ActivityCatalogue),
        parameter: quick(Parameter),
        board: quick(Board),
        validator_set: quick(ValidatorSet),
        spend: quick(Spend),
        goal: quick(Goal),
    };
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
    balanced(&client).await;

    let city = key("StadGent");
    let verifier = key("Buurtwerker");
    let (anna, mohammed, lotte, fatima, koen) = (
        key("Anna"),
        key("Mohammed"),
        key("Lotte"),
        key("Fatima"),
        key("Koen"),
    );
    const HELP: u32 = 0; // an hour of neighbourhood help
    const CITY_BUDGET: u32 = 0;

    // The catalogue starts at Torekes' rate; the city funds its budget.
    let catalogue = client.activities().await.unwrap();
    assert_eq!(catalogue.activities[HELP as usize].value, 250);
    run(
        &client,
        &city,
        activities(wijk_activities::Call::Fund {
            budget: CITY_BUDGET,
            amount: 50_000,
        }),
    )
    .await;
    let budgets = client.budgets(Some(&city.account_id())).await.unwrap();
    assert_eq!(budgets.budgets[0].remaining, 50_000);

    // Lotte did an hour of help before anyone proposed a new value.
    let before_vote_ms = final_time(&client).await;

    // Only the members decide what an activity is worth: the board may not set it.
    let set_value = activities(wijk_activities::Call::SetValue {
        activity: HELP,
        value: 300,
    });
    let board_try = refused(&client, &key("Alice"), set_value.clone()).await;
    assert!(
        board_try.contains("only the members (by an enacted vote) may do this"),
        "{board_try}"
    );
    run(
        &client,
        &anna,
        propose("An hour of neighbourhood help is worth 3.00", set_value),
    )
    .await;
    let value_vote = newest_proposal(&client).await;
    // And a validator change, by vote: the health centre hands its validator back.
    let three = vec![
        key("Alice").account_id(),
        key("Bob").account_id(),
        key("Charlie").account_id(),
    ];
    run(
        &client,
        &koen,
        propose(
            "The health centre stops validating",
            RuntimeCall::Validators(wijk_validators::Call::ChangeSet {
                validators: three.clone(),
            }),
        ),
    )
    .await;
    let validator_vote = newest_proposal(&client).await;
    for voter in [&anna, &mohammed, &lotte] {
        run(&client, voter, vote_yes(value_vote)).await;
    }
    for voter in [&fatima, &koen, &anna] {
        run(&client, voter, vote_yes(validator_vote)).await;
    }

    // The value vote is enacted: the history keeps both values.
    enacted(&client, &url, value_vote).await;
    let catalogue = client.activities().await.unwrap();
    let help = &catalogue.activities[HELP as usize];
    assert_eq!(help.value, 300);
    assert_eq!(
        help.values.iter().map(|v| v.value).collect::<Vec<_>>(),
        vec![250, 300]
    );

    // Mohammed claims four hours done now, at the new value; the verifier attests; the
    // city's budget pays, in coins for Rabot's shops only.
    let claim = |units, done_at_ms| {
        activities(wijk_activities::Call::Claim {
            activity: HELP,
            units,
            done_at_ms,
            evidence: Hash([7; 32]),
        })
    };
    run(&client, &mohammed, claim(4, final_time(&client).await)).await;
    let claims = client
        .claims(Some(&mohammed.account_id()), false, None, 10)
        .await
        .unwrap();
    let mohammed_claim = &claims.claims[0];
    assert_eq!(
        (mohammed_claim.amount, mohammed_claim.status.as_str()),
        (1_200, "pending")
    );
    let before = client.account(&mohammed.account_id()).await.unwrap();
    run(
        &client,
        &verifier,
        activities(wijk_activities::Call::Attest {
            claim: mohammed_claim.id,
        }),
    )
    .await;
    let after = client.account(&mohammed.account_id()).await.unwrap();
    assert_eq!(after.balance_cents, before.balance_cents, "paid earmarked");
    assert_eq!(after.earmarked.len(), 1, "{after:?}");
    assert_eq!(after.earmarked[0].amount_cents, "1200");
    assert!(
        after.earmarked[0].rule.contains("Rabot-Blaisantvest only"),
        "{}",
        after.earmarked[0].rule
    );
    let paid = client
        .claims(Some(&mohammed.account_id()), false, None, 10)
        .await
        .unwrap();
    assert_eq!(paid.claims[0].status, "paid");
    assert_eq!(paid.claims[0].budget, Some(CITY_BUDGET));
    // Paid once: attesting again is refused.
    let twice = refused(
        &client,
        &verifier,
        activities(wijk_activities::Call::Attest {
            claim: mohammed_claim.id,
        }),
    )
    .await;
    assert!(twice.contains("is paid"), "{twice}");

    // Lotte's hour before the vote is worth the old value.
    run(&client, &lotte, claim(1, before_vote_ms)).await;
    let lotte_claim = client
        .claims(Some(&lotte.account_id()), false, None, 10)
        .await
        .unwrap()
        .claims[0]
        .clone();
    assert_eq!((lotte_claim.value_per_unit, lotte_claim.amount), (250, 250));
    run(
        &client,
        &verifier,
        activities(wijk_activities::Call::Attest {
            claim: lotte_claim.id,
        }),
    )
    .await;
    // A verifier may not attest their own claim.
    run(&client, &verifier, claim(2, final_time(&client).await)).await;
    let own_claim = client
        .claims(Some(&verifier.account_id()), false, None, 1)
        .await
        .unwrap()
        .claims[0]
        .id;
    let own = refused(
        &client,
        &verifier,
        activities(wijk_activities::Call::Attest { claim: own_claim }),
    )
    .await;
    assert!(own.contains("another verifier must decide it"), "{own}");
    let budgets = client.budgets(Some(&city.account_id())).await.unwrap();
    assert_eq!(budgets.budgets[0].remaining, 50_000 - 1_200 - 250);
    assert_eq!(budgets.budgets[0].paid_out, 1_450);

    // The validator vote is enacted; its header announces the change, the new epoch begins.
    let enacted_at = enacted(&client, &url, validator_vote).await;
    let announced = client
        .header(
            &client
                .block_hash(Some(enacted_at))
                .await
                .unwrap()
                .expect("block"),
        )
        .await
        .unwrap()
        .expect("header");
    let change = announced
        .validator_set_change
        .expect("the enacting block announces the change");
    assert_eq!(change.validators, three);
    wait_finalized(&url, change.activates_at + 2, WAIT)
        .await
        .expect("the new epoch finalizes");
    let validators = client.validators().await.unwrap();
    assert_eq!(
        (validators.epoch, validators.validators),
        (1, three.clone())
    );

    // The health centre's node stops; the three finalize on.
    testnet.kill_9("Dave");
    let fatima_before = client.account(&fatima.account_id()).await.unwrap();
    run(
        &client,
        &anna,
        RuntimeCall::Coin(wijk_coin::Call::Transfer {
            to: fatima.account_id(),
            amount: 100,
        }),
    )
    .await;
    let fatima_after = client.account(&fatima.account_id()).await.unwrap();
    assert_ne!(fatima_before.balance_cents, fatima_after.balance_cents);

    // The full node followed; an auditor checks every certificate across the change.
    let head = wijk_tests::finalized_height(&url).await;
    wait_finalized(&testnet.rpc_url("Full1"), head, WAIT)
        .await
        .expect("the full node follows");
    testnet.stop();
    testnet.verify_certificates(&["Full1", "Alice"]);
}
