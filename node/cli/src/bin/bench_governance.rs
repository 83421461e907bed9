//! Governance benchmark: `--members` registered residents, of whom the first open
//! `--proposals` proposals (each a new value for an activity), the last make `--delegations`
//! delegations to voters, and voters cast `--votes` votes; then the chain runs on until every
//! proposal is closed and carried out.
//!
//! By default the load goes over JSON-RPC to a local testnet of `--validators` validators on
//! this machine (real processes, real libp2p, synced RocksDB commits), as fast as the nodes
//! take it, and the benchmark prints the votes and delegations *finalized* per second with
//! their submission-to-finality times. Then it fetches every final block and imports it
//! again here as a syncing node does (each signature checked, every call executed, the state
//! root compared), timed block by block: the blocks that close and enact the proposals are
//! set beside the blocks without transactions and the vote blocks (their work is bounded
//! and must not stand out), and beside how long after its predecessor each became final on
//! the network. Last, each proposal's tally three ways: the runtime's (its `Closed` event),
//! an auditor's recount from the chain's votes and delegations (re-imported here, and as the
//! node's `wijk_proposal` gives it), and the benchmark's own count of what it submitted.
//! `--in-process` builds the blocks in memory instead (no network, no disk), for profiling.
//!
//! Every figure is printed beside this machine's ed25519 batch-verify rate measured in the
//! same run. Run through `scripts/bench-governance` (release build).

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
use wijk_governance::{Choice, Tally};
use wijk_primitives::{Hash, Height, Keypair, SigningContext};
use wijk_runtime::{
    Block, MemoryChain, RuntimeCall, RuntimeEvent, Transaction, TxOutcome, VerifiedTransaction,
};

/// Votes and delegations finalized, closing and enactment timed block by block.
#[derive(Debug, Parser)]
struct Args {
    /// Registered residents (each may vote).
    #[arg(long, default_value_t = 20_000)]
    members: usize,
    /// Proposals open at once (at most 32).
    #[arg(long, default_value_t = 10)]
    proposals: usize,
    /// Votes cast, spread over the proposals (each voter votes on every proposal).
    #[arg(long, default_value_t = 20_000)]
    votes: usize,
    /// Delegations made before the votes (by members who do not vote themselves).
    #[arg(long, default_value_t = 5_000)]
    delegations: usize,
    /// Blocks a proposal stays open (long enough for every vote to become final; the
    /// benchmark stops with a clear error otherwise).
    #[arg(long, default_value_t = 160)]
    voting_blocks: u64,
    /// Validators of the testnet (all on this machine).
    #[arg(long, default_value_t = 4)]
    validators: usize,
    /// Target time between blocks.
    #[arg(long, default_value_t = 250)]
    block_time_ms: u64,
    /// Transactions per `author_submitTransactions` call.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Calls in flight at once, spread over the validators.
    #[arg(long, default_value_t = 16)]
    in_flight: usize,
    /// Build the blocks in memory, without nodes (each block built as a validator builds
    /// it); for profiling the runtime alone.
    #[arg(long)]
    in_process: bool,
    /// In process: most transactions offered per block (the builder also keeps within the
    /// block's cost).
    #[arg(long, default_value_t = 2_000)]
    per_block: usize,
    /// The wijk-node binary (default: next to this one).
    #[arg(long)]
    binary: Option<PathBuf>,
}

/// The signed load, in the order it is submitted, and what it must add up to.
struct Load {
    proposals: Vec<Transaction>,
    delegations: Vec<Transaction>,
    votes: Vec<Transaction>,
    /// Each proposal's tally as the benchmark counts what it cast: a voter's choice
    /// weighs one, plus one for each member who delegated to them.
    expected: Vec<Tally>,
}

/// What one block did and how long importing (or building) it took.
struct Timed {
    height: Height,
    /// What its transactions were: "propose", "delegate", "vote" or "other".
    kinds: Vec<&'static str>,
    failed: Vec<String>,
    closed: usize,
    enacted: usize,
    millis: f64,
    /// The runtime's final tallies, from the `Closed` events of its end-block hook.
    closed_tallies: Vec<(u64, Tally)>,
}

fn key(i: usize) -> Keypair {
    Keypair::from_seed(blake3::hash(&(i as u64).to_le_bytes()).as_bytes())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

fn kind_of(tx: &Transaction) -> &'static str {
    match &tx.call {
        RuntimeCall::Governance(wijk_governance::Call::Vote { .. }) => "vote",
        RuntimeCall::Governance(wijk_governance::Call::Delegate { .. }) => "delegate",
        RuntimeCall::Governance(wijk_governance::Call::Propose { .. }) => "propose",
        _ => "other",
    }
}

fn show(tally: &Tally) -> String {
    format!("{}/{}/{}", tally.yes, tally.no, tally.abstain)
}

/// Proposals by members `0..`, each a new value for activity 0; delegations by the last
/// members to the voters; then votes by the first members on every proposal (yes, no and
/// abstain mixed), proposal by proposal, so one member's consecutive nonces are far apart.
fn make_load(args: &Args, keys: &[Keypair], signing: &SigningContext) -> Load {
    let voters = args.votes.div_ceil(args.proposals);
    let mut nonces = vec![0u64; keys.len()];
    let mut sign = |who: usize, call: RuntimeCall| {
        let nonce = nonces[who];
        nonces[who] += 1;
        Transaction::sign(&keys[who], signing, nonce, u64::MAX, call)
    };
    let proposals = (0..args.proposals)
        .map(|p| {
            let value = RuntimeCall::Activities(wijk_activities::Call::SetValue {
                activity: 0,
                value: 250 + p as u128,
            });
            sign(
                p,
                RuntimeCall::Governance(wijk_governance::Call::Propose {
                    title: format!("benchmark proposal {p}"),
                    text_hash: Hash([p as u8; 32]),
                    encoded_call: value.encode(),
                }),
            )
        })
        .collect();
    let mut delegated_to = vec![0u32; voters];
    let delegations = (0..args.delegations)
        .map(|d| {
            let delegate = d % voters;
            delegated_to[delegate] += 1;
            sign(
                args.members - 1 - d,
                RuntimeCall::Governance(wijk_governance::Call::Delegate {
                    to: keys[delegate].account_id(),
                    scope: wijk_governance::Scope::All,
                }),
            )
        })
        .collect();
    let mut expected = vec![Tally::default(); args.proposals];
    let mut votes = Vec::with_capacity(args.votes);
    for (p, tally) in expected.iter_mut().enumerate() {
        for (voter, delegators) in delegated_to.iter().enumerate() {
            // Voter-major numbering decides who votes when the votes do not fill a square.
            if voter * args.proposals + p >= args.votes {
                continue;
            }
            let weight = 1 + delegators;
            let choice = match (voter + p) % 10 {
                0..=5 => {
                    tally.yes += weight;
                    Choice::Yes
                }
                6..=8 => {
                    tally.no += weight;
                    Choice::No
                }
                _ => {
                    tally.abstain += weight;
                    Choice::Abstain
                }
            };
            votes.push(sign(
                voter,
                RuntimeCall::Governance(wijk_governance::Call::Vote {
                    id: p as u64,
                    choice,
                }),
            ));
        }
    }
    Load {
        proposals,
        delegations,
        votes,
        expected,
    }
}

/// Notes what a block's import or build did.
fn timed(
    height: Height,
    transactions: &[Transaction],
    receipts: &[wijk_runtime::Receipt],
    end_events: &[RuntimeEvent],
    millis: f64,
) -> Timed {
    let mut block = Timed {
        height,
        kinds: transactions.iter().map(kind_of).collect(),
        failed: receipts
            .iter()
            .filter_map(|receipt| match &receipt.outcome {
                TxOutcome::Failed { error } => Some(error.to_string()),
                TxOutcome::Success { .. } => None,
            })
            .collect(),
        closed: 0,
        enacted: 0,
        millis,
        closed_tallies: Vec::new(),
    };
    for event in end_events {
        match event {
            RuntimeEvent::Governance(wijk_governance::Event::Closed { id, tally, .. }) => {
                block.closed += 1;
                block.closed_tallies.push((*id, tally.clone()));
            }
            RuntimeEvent::Governance(wijk_governance::Event::Enacted { .. }) => block.enacted += 1,
            _ => {}
        }
    }
    block
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        (1..=wijk_governance::MAX_OPEN_PROPOSALS).contains(&args.proposals),
        "1 to {} proposals",
        wijk_governance::MAX_OPEN_PROPOSALS
    );
    let voters = args.votes.div_ceil(args.proposals);
    anyhow::ensure!(
        voters + args.delegations <= args.members && args.proposals <= voters.max(1),
        "--members must cover the voters ({voters}) and the delegators ({}), and every proposer votes",
        args.delegations
    );
    eprintln!("registering {} residents ...", args.members);
    let keys: Vec<Keypair> = (0..args.members).map(key).collect();
    let validators = if args.in_process { 1 } else { args.validators };
    let mut spec = wijk_service::chain_spec::local(validators, 0);
    spec.block_time_ms = args.block_time_ms;
    spec.genesis.governance.tracks.activity_value.voting_blocks = args.voting_blocks;
    wijk_runtime::register_residents(&mut spec.genesis, keys.iter().map(Keypair::account_id));
    // The chain as an auditor keeps it: built here in process, or re-imported from the nodes.
    let mut chain = MemoryChain::new(&spec.genesis)?;
    let signing = chain.signing();
    let load = make_load(&args, &keys, &signing);
    let everything: Vec<&Transaction> = load
        .proposals
        .iter()
        .chain(&load.delegations)
        .chain(&load.votes)
        .collect();
    let ceiling = bench_ceiling::raw_batch_verify_rate(&everything, &signing)?;

    let (blocks, network) = if args.in_process {
        (build_in_process(&args, &mut chain, &load)?, None)
    } else {
        let testnet = bench_testnet::Testnet::start(
            &spec,
            args.validators,
            args.binary.as_deref(),
            "scripts/bench-governance",
        )?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let run = runtime.block_on(run_network(&args, &testnet, &load, &signing));
        drop(testnet);
        let run = run?;
        eprintln!(
            "importing the {} final blocks again, as a syncing node does ...",
            run.blocks.len()
        );
        let mut blocks = Vec::new();
        for block in &run.blocks {
            let started = Instant::now();
            let executed = chain.import(block)?;
            let millis = started.elapsed().as_secs_f64() * 1e3;
            blocks.push(timed(
                block.header.height,
                &block.transactions,
                &executed.receipts,
                &executed.hook_events.end,
                millis,
            ));
        }
        (blocks, Some(run))
    };
    report(&args, &chain, &load, &blocks, network.as_ref(), ceiling)
}

/// Builds blocks in memory from the load, offered in order, until every proposal is
/// carried out.
fn build_in_process(
    args: &Args,
    chain: &mut MemoryChain,
    load: &Load,
) -> anyhow::Result<Vec<Timed>> {
    let signing = chain.signing();
    let validator = Keypair::dev("Alice");
    let mut pending = load
        .proposals
        .iter()
        .chain(&load.delegations)
        .chain(&load.votes)
        .peekable();
    let mut carried: Vec<&Transaction> = Vec::new();
    let mut blocks = Vec::new();
    let mut quiet_blocks = 0;
    eprintln!(
        "building blocks: {} proposals, {} delegations, {} votes ...",
        load.proposals.len(),
        load.delegations.len(),
        load.votes.len()
    );
    while quiet_blocks <= 5 {
        let mut offered: Vec<&Transaction> = std::mem::take(&mut carried);
        while offered.len() < args.per_block {
            match pending.next() {
                Some(tx) => offered.push(tx),
                None => break,
            }
        }
        if offered.is_empty() && all_enacted(chain, args.proposals)? {
            quiet_blocks += 1;
        }
        anyhow::ensure!(blocks.len() < 10_000, "the proposals never closed");
        let candidates = offered
            .iter()
            .map(|tx| VerifiedTransaction::verify((*tx).clone(), &signing))
            .collect::<Result<Vec<_>, _>>()?;
        let height = chain.head().height + 1;
        let started = Instant::now();
        let built = chain.build_next(height * 1_000, validator.account_id(), candidates)?;
        let millis = started.elapsed().as_secs_f64() * 1e3;
        let included: std::collections::HashSet<Hash> = built
            .block
            .transactions
            .iter()
            .map(Transaction::hash)
            .collect();
        // Over the block's cost: offered again in the next block.
        carried = offered
            .into_iter()
            .filter(|tx| !included.contains(&tx.hash()))
            .collect();
        blocks.push(timed(
            height,
            &built.block.transactions,
            &built.executed.receipts,
            &built.executed.hook_events.end,
            millis,
        ));
    }
    Ok(blocks)
}

fn all_enacted(chain: &MemoryChain, proposals: usize) -> anyhow::Result<bool> {
    for id in 0..proposals as u64 {
        let status = wijk_governance::proposal(chain.state(), id)?.map(|p| p.status);
        if !matches!(status, Some(wijk_governance::Status::Enacted { .. })) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// What the network run measured, and the final blocks it fetched.
struct NetworkRun {
    phases: Vec<Phase>,
    /// Every final block from 1 on, for the re-import.
    blocks: Vec<Block>,
    /// When each height was seen final (by the watcher on the first validator).
    final_at: HashMap<Height, Instant>,
    /// Each proposal as the first validator's `wijk_proposal` shows it at the end.
    proposals: Vec<types::governance::ProposalDetail>,
}

/// One kind of load submitted and finalized.
struct Phase {
    name: &'static str,
    count: usize,
    /// From the first submission to the last finality.
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The validators' CPU time (all together) per transaction.
    cpu_us_per_tx: f64,
}

/// What the finality watcher has seen.
#[derive(Default)]
struct Seen {
    final_tx: HashMap<Hash, Instant>,
    final_at: HashMap<Height, Instant>,
    height: Height,
}

async fn run_network(
    args: &Args,
    testnet: &bench_testnet::Testnet,
    load: &Load,
    signing: &SigningContext,
) -> anyhow::Result<NetworkRun> {
    let mut clients = Vec::new();
    for url in &testnet.urls {
        clients.push(Client::connect(url).await?);
    }
    let first = clients[0].clone();
    anyhow::ensure!(
        first.signing_context() == *signing,
        "the nodes' chain is not the one this benchmark signs for (genesis {} spec {}, here {} spec {})",
        first.signing_context().genesis_hash,
        first.signing_context().spec_version,
        signing.genesis_hash,
        signing.spec_version
    );

    // Watch finality on the first validator; waiters wake on each final block.
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (progress, _) = tokio::sync::watch::channel(0u64);
    let progress = Arc::new(progress);
    let mut heads = first.finalized_heads().await?;
    let watcher = {
        let (seen, progress, client) = (seen.clone(), progress.clone(), first.clone());
        tokio::spawn(async move {
            while let Some(head) = heads.next().await {
                let at = Instant::now();
                let hashes = client
                    .block_transaction_hashes(&head.hash)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default();
                {
                    let mut seen = seen.lock().unwrap_or_else(|p| p.into_inner());
                    seen.final_at.insert(head.number, at);
                    seen.height = seen.height.max(head.number);
                    for tx in hashes {
                        seen.final_tx.entry(tx).or_insert(at);
                    }
                }
                progress.send_replace(head.number);
            }
        })
    };

    let mut phases = Vec::new();
    for (name, transactions) in [
        ("proposals", &load.proposals),
        ("delegations", &load.delegations),
        ("votes", &load.votes),
    ] {
        eprintln!("submitting {} {name} ...", transactions.len());
        phases.push(
            submit_until_final(
                args,
                &clients,
                testnet,
                &seen,
                &progress,
                name,
                transactions,
            )
            .await?,
        );
    }

    // Every proposal closes after its last voting height and is carried out its track's
    // delay later, a bounded number a block: follow the first validator's final blocks
    // until every proposal is carried out, then a few quiet blocks more.
    let mut closes_at = 0;
    for id in 0..args.proposals as u64 {
        let detail = first
            .proposal(id, None, 0)
            .await?
            .ok_or_else(|| anyhow::anyhow!("proposal {id} is not on chain"))?;
        closes_at = closes_at.max(detail.proposal.closes_at);
    }
    let voting_ended = seen.lock().unwrap_or_else(|p| p.into_inner()).height;
    eprintln!("votes final at height {voting_ended}; following the chain past the close at height {closes_at} until every proposal is carried out ...");
    let mut heights = progress.subscribe();
    let deadline = Instant::now() + Duration::from_secs(600);
    let (proposals, last_height) = loop {
        let height = *heights.borrow_and_update();
        if height > closes_at {
            let mut proposals = Vec::new();
            for id in 0..args.proposals as u64 {
                proposals.push(
                    first
                        .proposal(id, None, 0)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("proposal {id} is not on chain"))?,
                );
            }
            let settled = proposals.iter().all(|detail| {
                !matches!(
                    detail.proposal.status,
                    wijk_governance::Status::Voting | wijk_governance::Status::Approved { .. }
                )
            });
            if settled {
                let read_at = detail_height(&proposals).unwrap_or(height);
                break (proposals, read_at + 3);
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::timeout(left, heights.changed())
            .await
            .map_err(|_| {
                anyhow::anyhow!("the proposals were not all carried out within 10 minutes")
            })??;
    };
    wait_for(&progress, Duration::from_secs(60), |height| {
        *height >= last_height
    })
    .await
    .map_err(|_| anyhow::anyhow!("height {last_height} was not final within a minute"))?;
    watcher.abort();

    eprintln!("fetching blocks 1 to {last_height} ...");
    let mut blocks = Vec::new();
    for height in 1..=last_height {
        let hash = first
            .block_hash(Some(height))
            .await?
            .ok_or_else(|| anyhow::anyhow!("no final block at height {height}"))?;
        blocks.push(
            first
                .block(&hash)
                .await?
                .ok_or_else(|| anyhow::anyhow!("block {hash} is missing"))?,
        );
    }
    let final_at = std::mem::take(&mut seen.lock().unwrap_or_else(|p| p.into_inner()).final_at);
    Ok(NetworkRun {
        phases,
        blocks,
        final_at,
        proposals,
    })
}

/// The height at which the proposals shown were read.
fn detail_height(proposals: &[types::governance::ProposalDetail]) -> Option<Height> {
    proposals.iter().filter_map(|detail| detail.at_block).max()
}

/// Waits until the watcher's finalized height satisfies `done`, or `timeout` passes.
async fn wait_for(
    progress: &tokio::sync::watch::Sender<u64>,
    timeout: Duration,
    done: impl FnMut(&u64) -> bool,
) -> Result<(), tokio::time::error::Elapsed> {
    let mut receiver = progress.subscribe();
    tokio::time::timeout(timeout, receiver.wait_for(done))
        .await
        .map(|_| ())
}

/// Submits `transactions` in batches, as fast as the validators take them (a bounded
/// number of calls in flight, round-robin over the validators), and waits until all are
/// final.
async fn submit_until_final(
    args: &Args,
    clients: &[Client],
    testnet: &bench_testnet::Testnet,
    seen: &Arc<Mutex<Seen>>,
    progress: &tokio::sync::watch::Sender<u64>,
    name: &'static str,
    transactions: &[Transaction],
) -> anyhow::Result<Phase> {
    let encoded: Vec<(Hash, types::Bytes)> = transactions
        .iter()
        .map(|tx| (tx.hash(), types::Bytes(tx.encode())))
        .collect();
    let in_flight = Arc::new(tokio::sync::Semaphore::new(args.in_flight));
    let submitted_at = Arc::new(Mutex::new(HashMap::<Hash, Instant>::new()));
    let cpu_before = bench_testnet::cpu_seconds(&testnet.pids);
    let started = Instant::now();
    let mut sends = Vec::new();
    for (index, batch) in encoded.chunks(args.batch.max(1)).enumerate() {
        let permit = in_flight.clone().acquire_owned().await?;
        let client = clients[index % clients.len()].clone();
        let batch = batch.to_vec();
        let submitted_at = submitted_at.clone();
        sends.push(tokio::spawn(async move {
            let bytes: Vec<types::Bytes> = batch.iter().map(|(_, tx)| tx.clone()).collect();
            let now = Instant::now();
            submitted_at
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend(batch.iter().map(|(hash, _)| (*hash, now)));
            let answers = client.submit_encoded_batch(&bytes).await?;
            drop(permit);
            Ok::<Vec<String>, anyhow::Error>(
                answers
                    .into_iter()
                    .filter_map(|answer| match answer {
                        types::Submitted::Refused { error } => Some(error.message),
                        types::Submitted::Accepted { .. } => None,
                    })
                    .collect(),
            )
        }));
    }
    let mut refused = Vec::new();
    for send in sends {
        refused.extend(send.await??);
    }
    anyhow::ensure!(
        refused.is_empty(),
        "{} of the {name} were refused, the first because: {}",
        refused.len(),
        refused[0]
    );
    let all_final = || {
        let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
        encoded
            .iter()
            .all(|(hash, _)| seen.final_tx.contains_key(hash))
    };
    wait_for(progress, Duration::from_secs(120), |_| all_final())
        .await
        .map_err(|_| anyhow::anyhow!("the {name} were not all final within 2 minutes"))?;
    let cpu_used = bench_testnet::cpu_seconds(&testnet.pids) - cpu_before;
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    let submitted_at = submitted_at.lock().unwrap_or_else(|p| p.into_inner());
    let mut latencies: Vec<f64> = encoded
        .iter()
        .filter_map(|(hash, _)| {
            let final_at = seen.final_tx.get(hash)?;
            let submitted = submitted_at.get(hash)?;
            Some(final_at.saturating_duration_since(*submitted).as_secs_f64() * 1e3)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    let last_final = encoded
        .iter()
        .filter_map(|(hash, _)| seen.final_tx.get(hash))
        .max()
        .copied()
        .unwrap_or(started);
    Ok(Phase {
        name,
        count: encoded.len(),
        seconds: last_final.saturating_duration_since(started).as_secs_f64(),
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
        cpu_us_per_tx: cpu_used * 1e6 / encoded.len().max(1) as f64,
    })
}

fn report(
    args: &Args,
    chain: &MemoryChain,
    load: &Load,
    blocks: &[Timed],
    network: Option<&NetworkRun>,
    ceiling: f64,
) -> anyhow::Result<()> {
    if let Some(failed) = blocks.iter().find(|b| !b.failed.is_empty()) {
        anyhow::bail!(
            "{} benchmark transactions failed in block #{}, the first: {} (if voting closed, raise --voting-blocks)",
            failed.failed.len(),
            failed.height,
            failed.failed[0]
        );
    }
    let how = if network.is_some() {
        format!(
            "submitted over JSON-RPC to {} validators on this machine (block time {} ms, {} per call, {} calls in flight); every final block then imported again here (signatures, execution, state root), in memory",
            args.validators, args.block_time_ms, args.batch, args.in_flight
        )
    } else {
        format!(
            "in process, up to {} transactions offered per block; each block built as a validator builds it (signatures, execution, state root), in memory",
            args.per_block
        )
    };
    println!(
        "governance: {} residents, {} proposals open at once, {} delegations then {} votes; {how}",
        args.members,
        args.proposals,
        load.delegations.len(),
        load.votes.len()
    );
    if let Some(run) = network {
        println!("finalized on the network   count   per second   p50 to final   p99 to final   node CPU per tx");
        for phase in &run.phases {
            println!(
                "{:<24} {:>7} {:>12.0} {:>11.0} ms {:>11.0} ms {:>14.0} us",
                phase.name,
                phase.count,
                phase.count as f64 / phase.seconds.max(1e-9),
                phase.p50_ms,
                phase.p99_ms,
                phase.cpu_us_per_tx
            );
        }
        println!("(per second: from the first submission to the last finality; node CPU: all {} validators together)", args.validators);
    }

    // What the blocks of each kind cost to execute.
    let of_kind = |wanted: &str| -> (usize, f64, Vec<f64>) {
        let mut count = 0;
        let mut total_ms = 0.0;
        let mut per_block = Vec::new();
        for block in blocks {
            if !block.kinds.is_empty() && block.kinds.iter().all(|kind| *kind == wanted) {
                count += block.kinds.len();
                total_ms += block.millis;
                per_block.push(block.millis);
            }
        }
        (count, total_ms, per_block)
    };
    let verb = if network.is_some() {
        "imported"
    } else {
        "built"
    };
    let (votes, votes_ms, vote_blocks) = of_kind("vote");
    let (delegations, delegations_ms, delegation_blocks) = of_kind("delegate");
    let vote_median = median(vote_blocks.clone());
    println!(
        "votes {verb}:        {votes:>6} in {:>3} blocks of votes only, {:>8.0} votes/s ({:.1} us each; median block {vote_median:.0} ms)",
        vote_blocks.len(),
        votes as f64 / (votes_ms / 1e3),
        votes_ms * 1e3 / votes.max(1) as f64,
    );
    println!(
        "delegations {verb}:  {delegations:>6} in {:>3} blocks of delegations only, {:>8.0} delegations/s ({:.1} us each, with {} proposals open; median block {:.0} ms)",
        delegation_blocks.len(),
        delegations as f64 / (delegations_ms / 1e3),
        delegations_ms * 1e3 / delegations.max(1) as f64,
        args.proposals,
        median(delegation_blocks)
    );
    let is_quiet = |b: &Timed| b.kinds.is_empty() && b.closed == 0 && b.enacted == 0;
    let quiet: Vec<&Timed> = blocks.iter().filter(|b| is_quiet(b)).collect();
    let quiet_median = median(quiet.iter().map(|b| b.millis).collect());
    println!(
        "blocks without transactions, closing or enactment: {} of them, median {quiet_median:.2} ms {verb}",
        quiet.len()
    );
    // How long after its predecessor each block became final on the network.
    let gap = |height: Height| -> Option<f64> {
        let run = network?;
        let at = run.final_at.get(&height)?;
        let before = run.final_at.get(&(height - 1))?;
        Some(at.saturating_duration_since(*before).as_secs_f64() * 1e3)
    };
    let quiet_gap = median(quiet.iter().filter_map(|b| gap(b.height)).collect());
    for block in blocks.iter().filter(|b| b.closed > 0 || b.enacted > 0) {
        let finality = match gap(block.height) {
            Some(ms) => format!(
                "; final {ms:.0} ms after the block before (quiet blocks: median {quiet_gap:.0} ms)"
            ),
            None => String::new(),
        };
        println!(
            "block #{:<4} closes {} and enacts {} proposals: {:>7.2} ms {verb} = {:.1}x a block without transactions, {:.3}x a median vote block{finality}",
            block.height,
            block.closed,
            block.enacted,
            block.millis,
            block.millis / quiet_median,
            block.millis / vote_median,
        );
    }

    println!(
        "(the governance pallet declares its hooks at most {:.0} us a block, reserved from every block's cost)",
        <wijk_governance::Pallet as wijk_support::Pallet>::HOOKS_COST.0 as f64 / 1e3
    );

    // The tallies: the runtime's, recounted, and the benchmark's own.
    let closed: HashMap<u64, &Tally> = blocks
        .iter()
        .flat_map(|b| b.closed_tallies.iter().map(|(id, tally)| (*id, tally)))
        .collect();
    println!("proposal   runtime's final tally   recount from the chain   node's recount (wijk_proposal)   submitted   status        (yes/no/abstain)");
    for (id, expected) in load.expected.iter().enumerate() {
        let id = id as u64;
        let proposal = wijk_governance::proposal(chain.state(), id)?
            .ok_or_else(|| anyhow::anyhow!("proposal {id} is missing"))?;
        let final_tally = closed
            .get(&id)
            .copied()
            .ok_or_else(|| anyhow::anyhow!("proposal {id} never closed"))?;
        let recount = wijk_governance::recount(chain.state(), id)?.unwrap_or_default();
        let node = network.and_then(|run| run.proposals.get(id as usize));
        println!(
            "#{id:<8} {:>22}   {:>22}   {:>30}   {:>9}   {}",
            show(final_tally),
            show(&recount),
            node.map_or("-".into(), |detail| show(&detail.recount)),
            show(expected),
            match proposal.status {
                wijk_governance::Status::Enacted { failed: None, .. } => "enacted".to_string(),
                other => format!("{other:?}"),
            }
        );
        let agree = recount == *final_tally
            && final_tally == expected
            && node.is_none_or(|detail| {
                detail.recount == *final_tally && detail.proposal.tally == *final_tally
            });
        anyhow::ensure!(agree, "proposal {id}: the tallies differ");
    }
    let rate = |count: usize, seconds: f64| count as f64 / seconds.max(1e-9);
    println!(
        "ed25519 batch verify, 1 core: {ceiling:>10.0} sig/s (same run); votes {verb} per second = {:.1} % of it",
        100.0 * rate(votes, votes_ms / 1e3) / ceiling
    );
    if let Some(phase) = network.and_then(|run| run.phases.iter().find(|p| p.name == "votes")) {
        println!(
            "votes finalized per second on the network: {:.0} = {:.1} % of the 1-core verify rate",
            rate(phase.count, phase.seconds),
            100.0 * rate(phase.count, phase.seconds) / ceiling
        );
    }
    Ok(())
}
