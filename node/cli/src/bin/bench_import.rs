//! Import benchmark: builds blocks of signed transfers among many accounts, then times
//! importing them into a fresh node database - strict signature checks (batched),
//! execution, state root, and one synced RocksDB write per block - and prints the rate
//! beside this machine's ed25519 batch-verification rate on one core, measured in the
//! same run (absolute numbers are noisy here; the ratio is what compares).
//!
//! Run through `scripts/bench-import` (release build).

#[path = "../bench_ceiling.rs"]
mod bench_ceiling;

use clap::Parser;
use std::time::Instant;
use wijk_primitives::{verify_batch_strict, FinalityCertificate, KeyCache, Keypair};
use wijk_runtime::{
    build_genesis, simple_genesis, MemoryChain, RuntimeCall, Transaction, VerifiedTransaction,
};
use wijk_storage::Storage;

/// Import throughput against the signature-verification ceiling.
#[derive(Debug, Parser)]
struct Args {
    /// Accounts that send and receive.
    #[arg(long, default_value_t = 10_000)]
    accounts: usize,
    /// Blocks to import.
    #[arg(long, default_value_t = 20)]
    blocks: usize,
    /// Transfers per block.
    #[arg(long, default_value_t = 5_000)]
    txs_per_block: usize,
    /// Also measure what each kind of call costs to execute, and the base every
    /// transaction pays, beside the costs the pallets declare (a block is limited by
    /// their sum).
    #[arg(long)]
    calibrate: bool,
}

/// The node's allocator, so the figures are the node's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.txs_per_block <= args.accounts,
        "--txs-per-block must not exceed --accounts"
    );
    let validator = Keypair::dev("Alice");
    let keys: Vec<Keypair> = (0..args.accounts)
        .map(|i| Keypair::from_seed(blake3::hash(&(i as u64).to_le_bytes()).as_bytes()))
        .collect();
    let funded: Vec<_> = keys.iter().map(|k| (k.account_id(), 1_000_000)).collect();
    let config = simple_genesis(&[validator.account_id()], &funded);

    eprintln!(
        "building {} blocks of {} transfers among {} accounts ...",
        args.blocks, args.txs_per_block, args.accounts
    );
    let mut chain = MemoryChain::new(&config)?;
    let signing = chain.signing();
    let mut nonces = vec![0u64; args.accounts];
    let mut next_sender = 0usize;
    let mut blocks = Vec::with_capacity(args.blocks);
    for height in 1..=args.blocks as u64 {
        let transactions: Vec<Transaction> = (0..args.txs_per_block)
            .map(|_| {
                let from = next_sender % args.accounts;
                next_sender += 1;
                let to = keys[(from * 7 + 1) % args.accounts].account_id();
                let nonce = nonces[from];
                nonces[from] += 1;
                let call = RuntimeCall::Coin(wijk_coin::Call::Transfer { to, amount: 1 });
                Transaction::sign(&keys[from], &signing, nonce, u64::MAX, call)
            })
            .collect();
        let candidates = transactions
            .into_iter()
            .map(|tx| VerifiedTransaction::verify(tx, &signing))
            .collect::<Result<Vec<_>, _>>()?;
        let built = chain.build_next(height * 1_000, validator.account_id(), candidates)?;
        anyhow::ensure!(
            built.block.transactions.len() == args.txs_per_block,
            "builder left out {:?}",
            built.rejected.first()
        );
        let certificate = FinalityCertificate::sign_single(
            &validator,
            signing.genesis_hash,
            height,
            height,
            built.block.header.hash(),
        );
        blocks.push((built.block, certificate));
    }

    // The ceiling: dalek's raw batch verification of the same signatures on one core (the
    // physical floor of any import), and our strict batch path (with its weak-key and
    // canonical-R checks) for comparison.
    let payloads: Vec<Vec<u8>> = blocks
        .iter()
        .flat_map(|(b, _)| b.transactions.iter().map(|tx| tx.payload_for(&signing)))
        .collect();
    let all: Vec<&Transaction> = blocks
        .iter()
        .flat_map(|(b, _)| b.transactions.iter())
        .collect();
    let messages: Vec<_> = all
        .iter()
        .zip(&payloads)
        .map(|(tx, p)| tx.signed_message(p))
        .collect();
    let one_core = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let raw_one_core = bench_ceiling::raw_batch_verify_rate(&all, &signing)?;
    let chunk = wijk_primitives::SIGNATURE_BATCH_SIZE;
    // With the signers' keys decoded once beforehand, as the node's key cache holds them
    // (the raw dalek figure is given decoded keys too).
    let keys = KeyCache::default();
    verify_batch_strict(&messages, Some(&keys))
        .map_err(|(i, e)| anyhow::anyhow!("signature {i}: {e}"))?;
    let started = Instant::now();
    one_core
        .install(|| verify_batch_strict(&messages, Some(&keys)))
        .map_err(|(i, e)| anyhow::anyhow!("signature {i}: {e}"))?;
    let verify_one_core = messages.len() as f64 / started.elapsed().as_secs_f64();
    let started = Instant::now();
    verify_batch_strict(&messages, Some(&keys))
        .map_err(|(i, e)| anyhow::anyhow!("signature {i}: {e}"))?;
    let verify_all_cores = messages.len() as f64 / started.elapsed().as_secs_f64();

    // The import: a fresh RocksDB node, every block checked, executed and committed synced.
    let dir = tempfile::tempdir()?;
    let storage = Storage::open(dir.path())?;
    storage.initialize(&build_genesis(&config, &storage)?)?;
    let total: usize = blocks.iter().map(|(b, _)| b.transactions.len()).sum();
    eprintln!(
        "importing {} blocks ({total} transactions) into a fresh database ...",
        blocks.len()
    );
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    let summary =
        wijk_service::import_blocks(&storage, blocks.iter().cloned().map(Ok), &signing, |_| {})?;
    anyhow::ensure!(
        summary.transactions as usize == total,
        "imported {} of {total}",
        summary.transactions
    );
    let seconds = started.elapsed().as_secs_f64();
    let cores_busy = (process_cpu_seconds() - cpu_before) / seconds;
    let import_rate = total as f64 / seconds;
    anyhow::ensure!(
        storage.best_header()?.map(|h| h.hash()) == Some(chain.head().hash()),
        "imported head differs"
    );

    println!("import:                       {import_rate:>10.0} tx/s  ({total} transfers in {} blocks, {seconds:.2} s, {} accounts, synced commit per block, decoded signer keys cached)", blocks.len(), args.accounts);
    println!("ed25519 batch verify, 1 core: {raw_one_core:>10.0} sig/s  (dalek verify_batch in chunks of {chunk}; same signatures, same run)");
    println!("  strict batch path, 1 core:  {verify_one_core:>10.0} sig/s  (the node's cofactored batch with its encoding checks, keys cached)");
    println!(
        "  strict batch path, {} cores: {verify_all_cores:>9.0} sig/s",
        rayon::current_num_threads()
    );
    println!(
        "ratio import / 1-core verify: {:>10.1} %  (target >= 40 %)",
        100.0 * import_rate / raw_one_core
    );
    println!(
        "cores busy during import:     {cores_busy:>10.2}    (of {} available)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "target 20,000 tx/s:           {:>10}",
        if import_rate >= 20_000.0 {
            "met"
        } else {
            "NOT met"
        }
    );

    // Where the time goes: a second import into another fresh database, timing each phase
    // (execution includes its own signature check; its share is reported net of that).
    let dir = tempfile::tempdir()?;
    let storage = Storage::open(dir.path())?;
    storage.initialize(&build_genesis(&config, &storage)?)?;
    let (mut verify_s, mut execute_s, mut root_s, mut commit_s) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (block, certificate) in &blocks {
        let parent = storage
            .best_header()?
            .ok_or_else(|| anyhow::anyhow!("no head"))?;
        let started = Instant::now();
        wijk_runtime::check_signatures(block, &signing, None)?;
        verify_s += started.elapsed().as_secs_f64();
        let started = Instant::now();
        let executed = wijk_runtime::execute_block(&storage, &storage, &parent, block, &signing)?;
        execute_s += started.elapsed().as_secs_f64();
        // The state root alone, recomputed from the same changes.
        let started = Instant::now();
        wijk_runtime::state_tree::apply_changes(&storage, block.header.height, &executed.changes)?;
        root_s += started.elapsed().as_secs_f64();
        let started = Instant::now();
        storage.commit_block(block, &executed, certificate)?;
        commit_s += started.elapsed().as_secs_f64();
    }
    let per_tx = |seconds: f64| 1e6 * seconds / total as f64;
    println!(
        "breakdown (separate run), per transaction: signatures {:.1} us, execution {:.1} us, state root {:.1} us, synced commit {:.1} us",
        per_tx(verify_s),
        per_tx((execute_s - verify_s - root_s).max(0.0)),
        per_tx(root_s),
        per_tx(commit_s)
    );
    if args.calibrate {
        // What every transaction pays whatever its call: its signature checked on one
        // core, its share of the state root and of the synced commit.
        let base_us = 1e6 / verify_one_core + per_tx(root_s) + per_tx(commit_s);
        calibrate(&chain, args.accounts, base_us)?;
    }
    Ok(())
}

/// Whether a declared cost covers the measured one.
fn verdict(declared_us: f64, measured_us: f64) -> &'static str {
    if declared_us >= measured_us {
        "ok"
    } else {
        "DECLARED TOO LOW"
    }
}

/// Times each kind of call executing on `chain`'s state (a fresh block each time, so
/// every call takes its successful path) and prints it beside the declared cost.
fn calibrate(chain: &MemoryChain, accounts: usize, base_us: f64) -> anyhow::Result<()> {
    use wijk_primitives::{BlockRef, Hash, Vote, VoteKind};
    use wijk_support::{BlockContext, StateOverlay};
    const RUNS: usize = 2_000;
    let signing = chain.signing();
    let context = BlockContext {
        height: chain.head().height + 1,
        timestamp_ms: chain.head().timestamp_ms + 1_000,
        genesis_hash: signing.genesis_hash,
    };
    let validator = Keypair::dev("Alice");
    let key = |i: usize| Keypair::from_seed(blake3::hash(&(i as u64).to_le_bytes()).as_bytes());
    let set: Vec<_> = (0..100).map(|i| key(i).account_id()).collect();
    let vote = |byte: u8| {
        Vote {
            view: 5,
            kind: VoteKind::Notarize {
                block: BlockRef {
                    hash: Hash([byte; 32]),
                    height: 3,
                    parent: Hash::ZERO,
                },
                parent_view: 4,
            },
        }
        .sign(&validator, signing.genesis_hash)
    };
    // Each kind of call, and how to make its `i`th instance with its signer.
    type MakeCall<'a> = Box<dyn Fn(usize) -> (Keypair, RuntimeCall) + 'a>;
    let kinds: Vec<(&str, MakeCall<'_>)> = vec![
        (
            "coin.transfer",
            Box::new(|i| {
                let to = key((i * 7 + 1) % accounts).account_id();
                (
                    key(i % accounts),
                    RuntimeCall::Coin(wijk_coin::Call::Transfer { to, amount: 1 }),
                )
            }),
        ),
        (
            "coin.mint",
            Box::new(|i| {
                let call = RuntimeCall::Coin(wijk_coin::Call::Mint {
                    to: key(i % accounts).account_id(),
                    amount: 100,
                    deposit_ref: format!("BANK-CALIBRATION-{i}").into_bytes(),
                });
                (Keypair::dev("Alice"), call)
            }),
        ),
        (
            "coin.redeem",
            Box::new(|i| {
                (
                    key(i % accounts),
                    RuntimeCall::Coin(wijk_coin::Call::Redeem { amount: 1 }),
                )
            }),
        ),
        (
            "validators.scheduleChange (100 validators)",
            Box::new(|_| {
                let call = RuntimeCall::Validators(wijk_validators::Call::ScheduleChange {
                    validators: set.clone(),
                    activates_at: 1_000_000,
                });
                (Keypair::dev("Alice"), call)
            }),
        ),
        (
            "validators.reportEquivocation",
            Box::new(|_| {
                let call = RuntimeCall::Validators(wijk_validators::Call::ReportEquivocation {
                    first: Box::new(vote(1)),
                    second: Box::new(vote(2)),
                });
                (key(1), call)
            }),
        ),
    ];
    let declared_base = wijk_runtime::TRANSACTION_BASE_COST.0 as f64 / 1e3;
    println!(
        "calibration: base cost (signature on 1 core + state root + synced commit): measured {base_us:.1} us, declared {declared_base:.1} us  {}",
        verdict(declared_base, base_us)
    );
    println!("calibration: call                                          measured    declared");
    for (name, make) in &kinds {
        let transactions: Vec<Transaction> = (0..RUNS)
            .map(|i| {
                let (signer, call) = make(i);
                let nonce = wijk_system::nonce(chain.state(), &signer.account_id())?;
                Ok(Transaction::sign(&signer, &signing, nonce, u64::MAX, call))
            })
            .collect::<anyhow::Result<_>>()?;
        let declared = wijk_runtime::transaction_cost(&transactions[0]).0 as f64 / 1e3
            - wijk_runtime::TRANSACTION_BASE_COST.0 as f64 / 1e3;
        let mut failed = 0;
        let started = Instant::now();
        for transaction in &transactions {
            let mut state = StateOverlay::new(chain.state());
            let receipt = wijk_runtime::execute::apply_transaction(
                &mut state,
                &context,
                transaction,
                Hash::ZERO,
            )?
            .map_err(|invalid| anyhow::anyhow!("{name}: {invalid}"))?;
            if matches!(receipt.outcome, wijk_runtime::TxOutcome::Failed { .. }) {
                failed += 1;
            }
        }
        let measured = started.elapsed().as_secs_f64() * 1e6 / RUNS as f64;
        anyhow::ensure!(
            failed == 0,
            "{name}: {failed} calls failed; the calibration measures successful calls"
        );
        println!(
            "calibration: {name:<45} {measured:>8.1} us {declared:>8.1} us  {}",
            verdict(declared, measured)
        );
    }
    Ok(())
}

/// User plus system CPU time of this process so far, in seconds, from `/proc/self/stat`
/// (Linux; fields 14 and 15, in USER_HZ = 100 ticks per second). NaN where unavailable.
fn process_cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return f64::NAN;
    };
    // The command name (field 2) may contain spaces; the fields after it are plain.
    let Some(after_name) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
        return f64::NAN;
    };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    // After the name, field 3 (state) is index 0, so utime (14) is 11 and stime (15) is 12.
    match (ticks(11), ticks(12)) {
        (Some(user), Some(system)) => (user + system) / 100.0,
        _ => f64::NAN,
    }
}
