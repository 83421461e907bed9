//! Network benchmark: a local testnet of validators on this machine (real processes, real
//! libp2p, synced RocksDB commits), loaded with signed transfers over JSON-RPC at stepped
//! rates. For each step it prints the sustained finalized rate and the time from
//! submission to finality (p50, p99), beside this machine's ed25519 batch-verify rate
//! measured in the same run (absolute numbers are noisy here; ratios compare).
//!
//! Run through `scripts/bench-network` (release build).

#[path = "../bench_ceiling.rs"]
mod bench_ceiling;
#[path = "../bench_testnet.rs"]
mod bench_testnet;

use clap::Parser;
use parity_scale_codec::Encode;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wijk_client::{types, Client};
use wijk_primitives::{epoch_of_view, Hash, Keypair, SigningContext};
use wijk_runtime::{RuntimeCall, Transaction, SPEC_VERSION};

/// Finalized throughput and latency of a local validator network.
#[derive(Debug, Parser)]
struct Args {
    /// Validators (all on this machine).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Funded accounts that send transfers.
    #[arg(long, default_value_t = 5_000)]
    accounts: usize,
    /// Offered load per step, in transactions per second.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "1000,2500,5000,5500,6500"
    )]
    rates: Vec<u64>,
    /// Seconds of load per step.
    #[arg(long, default_value_t = 10)]
    step_seconds: u64,
    /// Target time between blocks.
    #[arg(long, default_value_t = 250)]
    block_time_ms: u64,
    /// Transactions per `author_submitTransactions` call.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// The wijk-node binary (default: next to this one).
    #[arg(long)]
    binary: Option<PathBuf>,
}

/// When each transaction was submitted, and when it was seen final.
#[derive(Default)]
struct Timings {
    submitted: HashMap<Hash, Instant>,
    finalized: HashMap<Hash, Instant>,
    /// Each finalized block as the watcher saw it: when, and how many transactions.
    blocks: Vec<(Instant, usize)>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let keys: Vec<Keypair> = (0..args.accounts)
        .map(|i| Keypair::from_seed(blake3::hash(&(i as u64).to_le_bytes()).as_bytes()))
        .collect();

    // The chain: a local testnet spec whose bench accounts are registered residents holding
    // coins from genesis (the chain is closed: only members transact).
    let mut spec = wijk_service::chain_spec::local(args.validators, 0);
    spec.block_time_ms = args.block_time_ms;
    wijk_runtime::register_residents(&mut spec.genesis, keys.iter().map(Keypair::account_id));
    for key in &keys {
        spec.genesis
            .coin
            .balances
            .push(wijk_coin::GenesisBalance(key.account_id(), 100_000));
    }

    let ceiling = verify_ceiling(&keys)?;
    let testnet = bench_testnet::Testnet::start(
        &spec,
        args.validators,
        args.binary.as_deref(),
        "scripts/bench-network",
    )?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(load(&args, &keys, &testnet.urls, &testnet.pids));
    drop(testnet);
    let steps = result?;

    println!(
        "network: {} validators on this machine, block time {} ms, {} sending accounts, transfers over JSON-RPC, {} per author_submitTransactions call",
        args.validators, args.block_time_ms, args.accounts, args.batch
    );
    println!("offered tx/s   finalized tx/s   p50 finality   p99 finality   finalized/submitted   node CPU per tx   blocks/s   tx per block   views skipped");
    for step in &steps {
        println!(
            "{:>12} {:>16.0} {:>12.0} ms {:>12.0} ms   {:>19}   {:>11.0} us   {:>8.1}   {:>12.0}   {:>13}",
            step.offered,
            step.finalized_rate,
            step.p50_ms,
            step.p99_ms,
            format!("{}/{}", step.finalized, step.submitted),
            step.cpu_us_per_tx,
            step.blocks_per_second,
            step.mean_block_transactions,
            skipped_text(step.views_skipped)
        );
    }
    println!("(node CPU per tx: the validators' CPU time, all {} together, over the step's finalized transactions; steadier than latency on a shared machine)", args.validators);
    let best = steps
        .iter()
        .filter(|s| s.p50_ms < 1_000.0)
        .map(|s| s.finalized_rate)
        .fold(0.0, f64::max);
    println!(
        "ed25519 batch verify, 1 core: {ceiling:>10.0} sig/s  (dalek verify_batch in chunks of {}, same run)",
        wijk_primitives::SIGNATURE_BATCH_SIZE
    );
    println!(
        "best sustained rate with p50 < 1 s: {best:.0} tx/s = {:.1} % of the 1-core verify rate (target >= 5,000 tx/s)",
        100.0 * best / ceiling
    );
    Ok(())
}

/// The machine's ed25519 batch-verification rate on one core, on transfer signatures.
fn verify_ceiling(keys: &[Keypair]) -> anyhow::Result<f64> {
    let signing = SigningContext {
        genesis_hash: Hash([1; 32]),
        spec_version: SPEC_VERSION,
    };
    let count = 20_000.min(keys.len() * 4);
    let txs: Vec<Transaction> = (0..count)
        .map(|i| transfer(&signing, &keys[i % keys.len()], i as u64, &keys[0]))
        .collect();
    bench_ceiling::raw_batch_verify_rate(&txs.iter().collect::<Vec<_>>(), &signing)
}

fn transfer(signing: &SigningContext, from: &Keypair, nonce: u64, to: &Keypair) -> Transaction {
    let call = RuntimeCall::Coin(wijk_coin::Call::Transfer {
        to: to.account_id(),
        amount: 1,
    });
    Transaction::sign(from, signing, nonce, u64::MAX, call)
}

struct Step {
    offered: u64,
    submitted: usize,
    finalized: usize,
    finalized_rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// CPU time of all validator processes during the step, per finalized transaction.
    cpu_us_per_tx: f64,
    /// Finalized blocks per second during the step, and their mean and largest size: they
    /// tell whether the chain was limited by block size or by how fast blocks came.
    blocks_per_second: f64,
    mean_block_transactions: f64,
    largest_block_transactions: usize,
    /// Views that ended without a final block (timed out and skipped): work every validator
    /// did on a block that was then thrown away. Approximate (the first node's current view
    /// against its finalized height, give or take the blocks in flight); `None` when an
    /// epoch began during the step (views jump at an epoch).
    views_skipped: Option<u64>,
}

fn skipped_text(views: Option<u64>) -> String {
    views.map_or_else(|| "n/a (new epoch)".into(), |views| format!("~{views}"))
}

/// The first node's consensus view and finalized height (`system_syncState`).
async fn view_and_height(client: &Client) -> anyhow::Result<(u64, u64)> {
    let state = client.sync_state().await?;
    Ok((state.view, state.finalized_block))
}

async fn load(
    args: &Args,
    keys: &[Keypair],
    urls: &[String],
    pids: &[u32],
) -> anyhow::Result<Vec<Step>> {
    let mut clients: Vec<Client> = Vec::new();
    for url in urls {
        clients.push(Client::connect(url).await?);
    }
    let first = clients.first().ok_or_else(|| anyhow::anyhow!("no nodes"))?;
    let signing = first.signing_context();
    anyhow::ensure!(
        signing.spec_version == SPEC_VERSION,
        "the nodes run spec version {}, this benchmark {SPEC_VERSION}",
        signing.spec_version
    );

    // Watch finality on one validator: every transaction in every finalized block.
    let timings = Arc::new(Mutex::new(Timings::default()));
    let mut heads = first.finalized_heads().await?;
    let watcher = {
        let timings = timings.clone();
        let client = first.clone();
        tokio::spawn(async move {
            while let Some(head) = heads.next().await {
                let seen = Instant::now();
                // Only the hashes: the measurement should cost the node little.
                let Ok(Some(hashes)) = client.block_transaction_hashes(&head.hash).await else {
                    continue;
                };
                let mut timings = timings.lock().unwrap_or_else(|p| p.into_inner());
                timings.blocks.push((seen, hashes.len()));
                for tx in hashes {
                    timings.finalized.entry(tx).or_insert(seen);
                }
            }
        })
    };

    let mut nonces = vec![0u64; keys.len()];
    let mut next_sender = 0usize;
    let mut steps = Vec::new();
    for &rate in &args.rates {
        let total = (rate * args.step_seconds) as usize;
        eprintln!(
            "step: {rate} tx/s for {} s: signing {total} transfers ...",
            args.step_seconds
        );
        let txs: Vec<(Hash, types::Bytes)> = (0..total)
            .map(|_| {
                let sender = next_sender % keys.len();
                next_sender += 1;
                let nonce = nonces[sender];
                nonces[sender] += 1;
                let tx = transfer(
                    &signing,
                    &keys[sender],
                    nonce,
                    &keys[(sender + 1) % keys.len()],
                );
                (tx.hash(), types::Bytes(tx.encode()))
            })
            .collect();
        let batches: Vec<Vec<(Hash, types::Bytes)>> =
            txs.chunks(args.batch).map(<[_]>::to_vec).collect();
        let interval = Duration::from_secs_f64(args.batch as f64 / rate as f64);
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let in_flight = Arc::new(tokio::sync::Semaphore::new(64));
        let cpu_before = bench_testnet::cpu_seconds(pids);
        let (view_before, height_before) = view_and_height(first).await?;
        let started = Instant::now();
        let mut sends = Vec::new();
        for (index, batch) in batches.into_iter().enumerate() {
            ticker.tick().await;
            let client = clients[index % clients.len()].clone();
            let permit = in_flight.clone().acquire_owned().await?;
            let timings = timings.clone();
            sends.push(tokio::spawn(async move {
                let encoded: Vec<types::Bytes> = batch.iter().map(|(_, tx)| tx.clone()).collect();
                let now = Instant::now();
                {
                    let mut timings = timings.lock().unwrap_or_else(|p| p.into_inner());
                    for (hash, _) in &batch {
                        timings.submitted.insert(*hash, now);
                    }
                }
                let answers = client.submit_encoded_batch(&encoded).await?;
                drop(permit);
                Ok::<usize, anyhow::Error>(
                    answers
                        .iter()
                        .filter(|a| matches!(a, types::Submitted::Refused { .. }))
                        .count(),
                )
            }));
        }
        let mut refused = 0;
        for send in sends {
            refused += send.await??;
        }
        let offered_for = started.elapsed();
        if refused > 0 {
            eprintln!("  {refused} submissions refused (pool full or rate-limited)");
        }
        // Wait until everything is final, or nothing has become final for a while.
        let hashes: Vec<Hash> = txs.iter().map(|(h, _)| *h).collect();
        let mut last_count = 0;
        let mut last_progress = Instant::now();
        loop {
            let count = {
                let timings = timings.lock().unwrap_or_else(|p| p.into_inner());
                hashes
                    .iter()
                    .filter(|h| timings.finalized.contains_key(h))
                    .count()
            };
            if count == hashes.len() || last_progress.elapsed() > Duration::from_secs(10) {
                break;
            }
            if count > last_count {
                last_count = count;
                last_progress = Instant::now();
            }
            // Sampling the watcher's progress; the finality events themselves are awaited
            // by the watcher task.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let cpu_used = bench_testnet::cpu_seconds(pids) - cpu_before;
        let (view_after, height_after) = view_and_height(first).await?;
        let timings_now = timings.lock().unwrap_or_else(|p| p.into_inner());
        let mut latencies: Vec<f64> = hashes
            .iter()
            .filter_map(|h| {
                let submitted = timings_now.submitted.get(h)?;
                let finalized = timings_now.finalized.get(h)?;
                Some(
                    finalized
                        .saturating_duration_since(*submitted)
                        .as_secs_f64()
                        * 1_000.0,
                )
            })
            .collect();
        latencies.sort_by(f64::total_cmp);
        let last_final = hashes
            .iter()
            .filter_map(|h| timings_now.finalized.get(h))
            .max()
            .copied()
            .unwrap_or(started);
        let window = last_final
            .saturating_duration_since(started)
            .max(offered_for);
        let percentile = |p: f64| {
            latencies
                .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
                .copied()
                .unwrap_or(f64::NAN)
        };
        let step_blocks: Vec<usize> = timings_now
            .blocks
            .iter()
            .filter(|(seen, _)| *seen >= started && *seen <= last_final)
            .map(|(_, transactions)| *transactions)
            .collect();
        let step = Step {
            offered: rate,
            submitted: hashes.len(),
            finalized: latencies.len(),
            finalized_rate: latencies.len() as f64 / window.as_secs_f64(),
            p50_ms: percentile(0.5),
            p99_ms: percentile(0.99),
            cpu_us_per_tx: cpu_used * 1e6 / latencies.len().max(1) as f64,
            blocks_per_second: step_blocks.len() as f64 / window.as_secs_f64(),
            mean_block_transactions: step_blocks.iter().sum::<usize>() as f64
                / step_blocks.len().max(1) as f64,
            largest_block_transactions: step_blocks.iter().copied().max().unwrap_or(0),
            // Each finalized block took one view; the other views were skipped.
            views_skipped: (epoch_of_view(view_before) == epoch_of_view(view_after)).then(|| {
                (view_after.saturating_sub(view_before))
                    .saturating_sub(height_after.saturating_sub(height_before))
            }),
        };
        eprintln!(
            "  finalized {}/{} at {:.0} tx/s, p50 {:.0} ms, p99 {:.0} ms; {:.1} blocks/s of {:.0} transactions (largest {}), {} views skipped",
            step.finalized,
            step.submitted,
            step.finalized_rate,
            step.p50_ms,
            step.p99_ms,
            step.blocks_per_second,
            step.mean_block_transactions,
            step.largest_block_transactions,
            skipped_text(step.views_skipped)
        );
        drop(timings_now);
        steps.push(step);
    }
    watcher.abort();
    Ok(steps)
}
