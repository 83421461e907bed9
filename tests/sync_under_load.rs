//! A validator syncing a long gap under load costs the others nothing: four validators
//! as real processes carry a steady stream of payments; one is killed, falls behind by
//! more blocks than a node fetches one by one, and comes back. While it downloads the gap,
//! the other three keep finalizing with no view timing out (when the syncing validator
//! leads a view, it gives the view up at once instead of letting it run out), and once it
//! has caught up it votes and proposes again: blocks it proposed become final.

use parity_scale_codec::Encode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use wijk_client::{types, Client};
use wijk_primitives::{Keypair, SigningContext};
use wijk_runtime::{RuntimeCall, Transaction};
use wijk_tests::{client, finalized_height, testnet_dir, wait_finalized, wait_peers, Testnet};

const BLOCK_TIME_MS: u64 = 200;
/// Blocks the restarted validator must download: above the 64 a node fetches by hash, and
/// enough that its sync spans several views (import runs at about 80 blocks a second of
/// this load; at 80 blocks a sync was once over within three views).
const GAP: u64 = 120;
/// The payment load, offered to the three validators that stay up.
const LOAD_TX_PER_SECOND: f64 = 600.0;
const BATCH: usize = 30;
const SENDERS: usize = 2_000;
/// How long the whole scenario may take at most: the gap grows at about one block a second
/// while a validator is down (each view it leads runs out).
const GAP_WAIT: Duration = Duration::from_secs(240);
const CATCH_UP_WAIT: Duration = Duration::from_secs(60);
/// View timeouts the three counted at most: none while the fourth syncs.
const VIEW_TIMEOUT_METRIC: &str = "wijk_consensus_view_timeouts";

fn sender(i: usize) -> Keypair {
    Keypair::from_seed(blake3::hash(&(i as u64).to_le_bytes()).as_bytes())
}

/// Offers `LOAD_TX_PER_SECOND` payments round-robin to `clients` until `stop`; returns how
/// many were accepted. A refused payment's nonce is used again, so no sender is left with
/// a gap.
async fn offer_load(
    clients: Vec<Client>,
    signing: SigningContext,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<u64> {
    let keys: Vec<Keypair> = (0..SENDERS).map(sender).collect();
    let mut nonces = vec![0u64; SENDERS];
    let mut ticker =
        tokio::time::interval(Duration::from_secs_f64(BATCH as f64 / LOAD_TX_PER_SECOND));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (mut next, mut round, mut accepted) = (0usize, 0usize, 0u64);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = stop.changed() => return Ok(accepted),
        }
        let senders: Vec<usize> = (0..BATCH).map(|k| (next + k) % SENDERS).collect();
        next += BATCH;
        let encoded: Vec<types::Bytes> = senders
            .iter()
            .map(|&s| {
                let call = RuntimeCall::Coin(wijk_coin::Call::Transfer {
                    to: keys[(s + 1) % SENDERS].account_id(),
                    amount: 1,
                });
                types::Bytes(
                    Transaction::sign(&keys[s], &signing, nonces[s], u64::MAX, call).encode(),
                )
            })
            .collect();
        let node = &clients[round % clients.len()];
        round += 1;
        // A busy node may not answer in time: those nonces are simply used again.
        if let Ok(answers) = node.submit_encoded_batch(&encoded).await {
            for (&s, answer) in senders.iter().zip(answers) {
                if matches!(answer, types::Submitted::Accepted { .. }) {
                    nonces[s] += 1;
                    accepted += 1;
                }
            }
        }
    }
}

/// Records when each final block reaches `client`, and who proposed it.
async fn watch_finality(client: &Client) -> Arc<Mutex<Vec<(Instant, u64, String)>>> {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut heads = client.finalized_heads().await.expect("subscription");
    let record = seen.clone();
    tokio::spawn(async move {
        while let Some(head) = heads.next().await {
            record.lock().unwrap_or_else(|p| p.into_inner()).push((
                Instant::now(),
                head.number,
                format!("{:?}", head.proposer),
            ));
        }
    });
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_syncing_a_long_gap_under_load_costs_the_others_no_view() {
    let mut spec = wijk_service::chain_spec::local(4, 0);
    spec.block_time_ms = BLOCK_TIME_MS;
    wijk_runtime::register_residents(
        &mut spec.genesis,
        (0..SENDERS).map(|i| sender(i).account_id()),
    );
    for i in 0..SENDERS {
        spec.genesis
            .coin
            .balances
            .push(wijk_coin::GenesisBalance(sender(i).account_id(), 1_000_000));
    }
    let dir = testnet_dir();
    let mut testnet = Testnet::start_with_spec(&dir.path().join("net"), &spec, 0);
    let staying = ["Alice", "Bob", "Charlie"];
    let alice_url = testnet.rpc_url("Alice");
    let dave_url = testnet.rpc_url("Dave");
    wait_peers(&alice_url, 3, Duration::from_secs(30))
        .await
        .expect("all four connected");

    let mut clients = Vec::new();
    for name in staying {
        clients.push(client(&testnet.rpc_url(name)).await);
    }
    let signing = clients[0].signing_context();
    let (stop, stopped) = watch::channel(false);
    let load = tokio::spawn(offer_load(clients.clone(), signing, stopped));
    let finality = watch_finality(&clients[0]).await;

    // Dave goes down under load and falls behind by more than a node fetches by hash.
    let start = finalized_height(&alice_url).await;
    wait_finalized(&dave_url, start + 5, Duration::from_secs(30))
        .await
        .expect("Dave finalizes with the others");
    testnet.kill_9("Dave");
    let dave_left_at = finalized_height(&alice_url).await;
    wait_finalized(&alice_url, dave_left_at + GAP, GAP_WAIT)
        .await
        .expect("the other three finalize without Dave");

    // Dave comes back. The window under test opens once it follows the current view
    // (before that, a view it leads can only run out: the others cannot know it is back).
    testnet.restart("Dave");
    let dave = client(&dave_url).await;
    let mut alice_heads = clients[0].finalized_heads().await.expect("subscription");
    let (window_opened, timeouts_before, dave_behind_by, view_at_open) =
        tokio::time::timeout(CATCH_UP_WAIT, async {
            loop {
                let alice = clients[0].sync_state().await.expect("Alice's state");
                let dave_state = dave.sync_state().await.expect("Dave's state");
                if dave_state.view >= alice.view {
                    let timeouts: Vec<u64> = staying
                        .iter()
                        .map(|name| testnet.metric(name, VIEW_TIMEOUT_METRIC))
                        .collect();
                    let behind = alice.finalized_block - dave_state.finalized_block;
                    return (Instant::now(), timeouts, behind, alice.view);
                }
                // Dave learns the view from the next certificate the others gossip:
                // look again after each final block.
                alice_heads.next().await.expect("Alice's heads");
            }
        })
        .await
        .expect("Dave follows the views again");
    assert!(
        dave_behind_by >= GAP / 2,
        "Dave was only {dave_behind_by} blocks behind when the window opened: no long sync to observe"
    );

    // The window closes when Dave has caught up with the final chain.
    let mut dave_heads = dave.finalized_heads().await.expect("subscription");
    let caught_up_at = tokio::time::timeout(CATCH_UP_WAIT, async {
        loop {
            let dave_height = finalized_height(&dave_url).await;
            if dave_height + 1 >= finalized_height(&alice_url).await {
                return Instant::now();
            }
            dave_heads.next().await.expect("Dave's heads");
        }
    })
    .await;
    let caught_up_at = caught_up_at.expect("Dave caught up with the final chain");
    let timeouts_after: Vec<u64> = staying
        .iter()
        .map(|name| testnet.metric(name, VIEW_TIMEOUT_METRIC))
        .collect();
    let view_at_close = clients[0].sync_state().await.expect("state").view;
    drop(alice_heads);
    let window = caught_up_at - window_opened;
    let longest_pause = {
        let seen = finality.lock().unwrap_or_else(|p| p.into_inner());
        let times: Vec<Instant> = seen
            .iter()
            .map(|(at, _, _)| *at)
            .filter(|at| *at >= window_opened && *at <= caught_up_at)
            .collect();
        times
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default()
    };
    eprintln!(
        "Dave synced {dave_behind_by} blocks in {window:?}; the others went through {} views, the longest pause between final blocks {longest_pause:?}, view timeouts {timeouts_before:?} -> {timeouts_after:?}",
        view_at_close - view_at_open
    );
    // Leaders take turns: four views in the window include one Dave led while syncing.
    assert!(
        view_at_close - view_at_open >= 4,
        "the window held no view Dave led; the sync was too quick to observe"
    );
    assert_eq!(
        timeouts_before, timeouts_after,
        "a view timed out on Alice, Bob or Charlie while Dave synced"
    );
    assert!(
        longest_pause
            < Duration::from_millis(wijk_service::consensus::view_timeout_ms(BLOCK_TIME_MS)),
        "finality paused for {longest_pause:?} while Dave synced"
    );

    // Dave votes and leads again: a block it proposes becomes final.
    let dave_account = format!("{:?}", Keypair::dev("Dave").account_id());
    let rejoined = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let proposed = finality
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
                .any(|(at, _, proposer)| *at > caught_up_at && *proposer == dave_account);
            if proposed {
                return;
            }
            wait_finalized(
                &alice_url,
                finalized_height(&alice_url).await + 1,
                Duration::from_secs(10),
            )
            .await
            .expect("finality goes on");
        }
    })
    .await;
    assert!(rejoined.is_ok(), "no block Dave proposed became final");

    stop.send(true).expect("load running");
    let accepted = load.await.expect("load task").expect("load");
    assert!(accepted > 1_000, "only {accepted} payments were accepted");
    testnet.stop();
}
