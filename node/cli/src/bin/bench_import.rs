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

/// Where the benchmark's merchants trade: inside a square region around the origin.
fn bench_region() -> wijk_geo::Region {
    let corner = |lat, lon| wijk_primitives::GeoPoint { lat, lon };
    wijk_geo::Region {
        name: "Benchwijk".into(),
        polygons: vec![vec![
            corner(0, 0),
            corner(0, 1_000_000),
            corner(1_000_000, 1_000_000),
            corner(1_000_000, 0),
        ]],
    }
}

/// How many merchants the earmarked run pays.
const MERCHANTS: usize = 100;

/// The earmark the exchange office mints under in the earmarked run: food, inside the
/// region, from the first validator's organisation.
fn bench_earmark(funder: wijk_primitives::AccountId) -> wijk_coin::Earmark {
    wijk_coin::Earmark {
        funder,
        label: "city food budget".into(),
        categories: vec!["food".into()],
        region_only: true,
        expires_at: None,
    }
}

/// A closed chain: every sender a registered resident, [`MERCHANTS`] merchants inside the
/// region, the first validator the exchange office.
fn bench_genesis(
    validator: &Keypair,
    keys: &[Keypair],
    merchants: &[Keypair],
) -> wijk_runtime::RuntimeGenesis {
    let funded: Vec<_> = keys.iter().map(|k| (k.account_id(), 1_000_000)).collect();
    let mut config = simple_genesis(&[validator.account_id()], &funded);
    config.membership.open_accounts = false;
    // The calibration times a change to 100 validators signed by the board; on a real chain
    // that is the members' decision, whose enactment runs the same call.
    config.validators.board_change_limit = 200;
    wijk_runtime::register_residents(&mut config, keys.iter().map(Keypair::account_id));
    // One valued activity, for the calibration of a claim.
    config.activities.catalogue = vec![wijk_activities::GenesisActivity {
        name: "an hour of neighbourhood help".into(),
        unit: "hour".into(),
        category: "neighbourhood-help".into(),
        value: 250,
        max_units_per_period: Some(40),
    }];
    // //Alice verifies it and funds a budget for it, for the calibration of attestations
    // and payouts.
    if let Some(first) = config.membership.members.first_mut() {
        let mut roles = first.roles.roles();
        roles.push(wijk_support::Role::Verifier);
        first.roles = wijk_support::RoleSet::of(&roles);
    }
    config.activities.verifiers = vec![wijk_activities::GenesisVerifier {
        account: validator.account_id(),
        scope: wijk_activities::VerifierScope::Activity(0),
    }];
    config.activities.budgets = vec![wijk_activities::GenesisBudget {
        funder: validator.account_id(),
        name: "calibration budget".into(),
        activities: vec![0],
        categories: Vec::new(),
        payout_earmark: None,
    }];
    config.geo.region = bench_region();
    config
        .membership
        .members
        .extend(
            merchants
                .iter()
                .enumerate()
                .map(|(i, key)| wijk_membership::GenesisMember {
                    account: key.account_id(),
                    roles: wijk_support::RoleSet::of(&[wijk_support::Role::Merchant]),
                    tag: None,
                    place: Some(wijk_support::Place {
                        location: wijk_primitives::GeoPoint {
                            lat: 1_000 + i as i32 * 9_000,
                            lon: 500_000,
                        },
                        category: "food".into(),
                    }),
                }),
        );
    config
}

/// Builds `count` blocks on `chain`, each of `per_block` transactions from `make(i)`.
fn build_blocks(
    chain: &mut MemoryChain,
    validator: &Keypair,
    count: usize,
    per_block: usize,
    mut make: impl FnMut(usize) -> (usize, Transaction),
) -> anyhow::Result<Vec<(wijk_runtime::Block, FinalityCertificate)>> {
    let signing = chain.signing();
    let mut blocks = Vec::with_capacity(count);
    let mut next = 0usize;
    for _ in 0..count {
        let height = chain.head().height + 1;
        let candidates = (0..per_block)
            .map(|_| {
                let (_, tx) = make(next);
                next += 1;
                VerifiedTransaction::verify(tx, &signing)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let built = chain.build_next(height * 1_000, validator.account_id(), candidates)?;
        anyhow::ensure!(
            built.block.transactions.len() == per_block,
            "builder left out {:?}",
            built.rejected.first()
        );
        if let Some(failed) = built
            .executed
            .receipts
            .iter()
            .find(|receipt| matches!(receipt.outcome, wijk_runtime::TxOutcome::Failed { .. }))
        {
            anyhow::bail!("a benchmark transaction failed: {:?}", failed.outcome);
        }
        let certificate = FinalityCertificate::sign_single(
            validator,
            signing.genesis_hash,
            height,
            height,
            built.block.header.hash(),
        );
        blocks.push((built.block, certificate));
    }
    Ok(blocks)
}

/// Imports `setup` untimed, then `timed`, into a fresh database; returns the timed
/// transactions per second and the cores busy meanwhile.
fn time_import(
    config: &wijk_runtime::RuntimeGenesis,
    setup: &[(wijk_runtime::Block, FinalityCertificate)],
    timed: &[(wijk_runtime::Block, FinalityCertificate)],
    head: wijk_primitives::Hash,
    signing: &wijk_primitives::SigningContext,
) -> anyhow::Result<(f64, f64, f64)> {
    let dir = tempfile::tempdir()?;
    let storage = Storage::open(dir.path())?;
    storage.initialize(&build_genesis(config, &storage)?)?;
    wijk_service::import_blocks(&storage, setup.iter().cloned().map(Ok), signing, |_| {})?;
    let total: usize = timed.iter().map(|(b, _)| b.transactions.len()).sum();
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    let summary =
        wijk_service::import_blocks(&storage, timed.iter().cloned().map(Ok), signing, |_| {})?;
    anyhow::ensure!(
        summary.transactions as usize == total,
        "imported {} of {total}",
        summary.transactions
    );
    let seconds = started.elapsed().as_secs_f64();
    let cores_busy = (process_cpu_seconds() - cpu_before) / seconds;
    anyhow::ensure!(
        storage.best_header()?.map(|h| h.hash()) == Some(head),
        "imported head differs"
    );
    Ok((total as f64 / seconds, seconds, cores_busy))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.txs_per_block <= args.accounts,
        "--txs-per-block must not exceed --accounts"
    );
    let validator = Keypair::dev("Alice");
    let key = |i: u64| Keypair::from_seed(blake3::hash(&i.to_le_bytes()).as_bytes());
    let keys: Vec<Keypair> = (0..args.accounts as u64).map(key).collect();
    let merchants: Vec<Keypair> = (0..MERCHANTS as u64).map(|i| key(u64::MAX - i)).collect();
    let config = bench_genesis(&validator, &keys, &merchants);

    eprintln!(
        "building {} blocks of {} payments among {} registered members ...",
        args.blocks, args.txs_per_block, args.accounts
    );
    let mut chain = MemoryChain::new(&config)?;
    let signing = chain.signing();
    let mut nonces = vec![0u64; args.accounts];
    let accounts = args.accounts;
    let blocks = build_blocks(
        &mut chain,
        &validator,
        args.blocks,
        args.txs_per_block,
        |i| {
            let from = i % accounts;
            let to = keys[(from * 7 + 1) % accounts].account_id();
            let nonce = nonces[from];
            nonces[from] += 1;
            let call = RuntimeCall::Coin(wijk_coin::Call::Transfer { to, amount: 1 });
            (
                from,
                Transaction::sign(&keys[from], &signing, nonce, u64::MAX, call),
            )
        },
    )?;
    let plain_head = chain.head().hash();

    // The earmarked run, on a chain of its own: setup blocks mint earmarked coins to every
    // sender (untimed), then half the payments go to merchants, paid from earmarked coins.
    eprintln!("building the earmarked run (setup mints, then half the payments at merchants) ...");
    let mut earmarked_chain = MemoryChain::new(&config)?;
    let earmark = bench_earmark(validator.account_id());
    let mut office_nonce = 0u64;
    let setup_blocks = accounts.div_ceil(args.txs_per_block);
    let setup = build_blocks(
        &mut earmarked_chain,
        &validator,
        setup_blocks,
        args.txs_per_block.min(accounts),
        |i| {
            let call = RuntimeCall::Coin(wijk_coin::Call::Mint {
                to: keys[i % accounts].account_id(),
                amount: 1_000_000,
                deposit_ref: format!("BENCH-EARMARK-{i}").into_bytes(),
                earmark: Some(earmark.clone()),
            });
            let tx = Transaction::sign(&validator, &signing, office_nonce, u64::MAX, call);
            office_nonce += 1;
            (0, tx)
        },
    )?;
    let mut nonces = vec![0u64; accounts];
    let earmarked = build_blocks(
        &mut earmarked_chain,
        &validator,
        args.blocks,
        args.txs_per_block,
        |i| {
            let from = i % accounts;
            let to = if i % 2 == 0 {
                merchants[(i / 2) % MERCHANTS].account_id()
            } else {
                keys[(from * 7 + 1) % accounts].account_id()
            };
            let nonce = nonces[from];
            nonces[from] += 1;
            let call = RuntimeCall::Coin(wijk_coin::Call::Transfer { to, amount: 1 });
            (
                from,
                Transaction::sign(&keys[from], &signing, nonce, u64::MAX, call),
            )
        },
    )?;
    let earmarked_head = earmarked_chain.head().hash();

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

    // The imports: a fresh RocksDB node, every block checked, executed and committed synced.
    let total: usize = blocks.iter().map(|(b, _)| b.transactions.len()).sum();
    eprintln!(
        "importing {} blocks ({total} transactions) into a fresh database ...",
        blocks.len()
    );
    let (import_rate, seconds, cores_busy) =
        time_import(&config, &[], &blocks, plain_head, &signing)?;
    eprintln!("importing the earmarked run ...");
    let (earmarked_rate, earmarked_seconds, _) =
        time_import(&config, &setup, &earmarked, earmarked_head, &signing)?;

    println!("import:                       {import_rate:>10.0} tx/s  ({total} payments between registered members in {} blocks, {seconds:.2} s, {} accounts, synced commit per block, decoded signer keys cached)", blocks.len(), args.accounts);
    println!("import, half at merchants:    {earmarked_rate:>10.0} tx/s  (the same count, every other one to one of {MERCHANTS} merchants paid from earmarked coins, {earmarked_seconds:.2} s)");
    println!("ed25519 batch verify, 1 core: {raw_one_core:>10.0} sig/s  (dalek verify_batch in chunks of {chunk}; same signatures, same run)");
    println!("  strict batch path, 1 core:  {verify_one_core:>10.0} sig/s  (the node's cofactored batch with its encoding checks, keys cached)");
    println!(
        "  strict batch path, {} cores: {verify_all_cores:>9.0} sig/s",
        rayon::current_num_threads()
    );
    println!(
        "ratio import / 1-core verify: {:>10.1} %  (floor 55 %)",
        100.0 * import_rate / raw_one_core
    );
    println!(
        "  with earmarks at merchants: {:>10.1} %  (floor 55 %)",
        100.0 * earmarked_rate / raw_one_core
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

    // Where the time goes: each run imported again into another fresh database, one phase
    // at a time on one thread.
    let plain_phases = Phases::measure(&config, &[], &blocks, &signing)?;
    let earmarked_phases = Phases::measure(&config, &setup, &earmarked, &signing)?;
    println!("breakdown per transaction (separate runs, one thread, one phase at a time):");
    println!("  between members:           {plain_phases}");
    println!("  half at merchants:         {earmarked_phases}");
    if args.calibrate {
        // What every transaction pays whatever its call: its signature checked on one
        // core, its share of the state root and of the synced commit.
        let base_us = 1e6 / verify_one_core + plain_phases.root_us + plain_phases.commit_us;
        calibrate(earmarked_chain, args.accounts, base_us)?;
    }
    Ok(())
}

/// The time per transaction of each phase of an import, measured apart.
struct Phases {
    signatures_us: f64,
    execution_us: f64,
    root_us: f64,
    commit_us: f64,
}

impl Phases {
    /// Imports `setup` untimed, then `timed` phase by phase, into a fresh database.
    fn measure(
        config: &wijk_runtime::RuntimeGenesis,
        setup: &[(wijk_runtime::Block, FinalityCertificate)],
        timed: &[(wijk_runtime::Block, FinalityCertificate)],
        signing: &wijk_primitives::SigningContext,
    ) -> anyhow::Result<Phases> {
        let dir = tempfile::tempdir()?;
        let storage = Storage::open(dir.path())?;
        storage.initialize(&build_genesis(config, &storage)?)?;
        wijk_service::import_blocks(&storage, setup.iter().cloned().map(Ok), signing, |_| {})?;
        let mut seconds = [0.0f64; 4];
        let mut timed_phase = |phase: usize, started: Instant| {
            seconds[phase] += started.elapsed().as_secs_f64();
        };
        for (block, certificate) in timed {
            let parent = storage
                .best_header()?
                .ok_or_else(|| anyhow::anyhow!("no head"))?;
            let started = Instant::now();
            let checked = wijk_runtime::check_signatures_serial(block, signing, None)?;
            timed_phase(0, started);
            let started = Instant::now();
            let state =
                wijk_runtime::execute_checked_state(&storage, &parent, block, signing, checked)?;
            timed_phase(1, started);
            let started = Instant::now();
            let executed = state.with_state_root(&storage)?;
            timed_phase(2, started);

            let started = Instant::now();
            storage.commit_block(block, &executed, certificate)?;
            timed_phase(3, started);
        }
        let total: usize = timed.iter().map(|(b, _)| b.transactions.len()).sum();
        let [signatures_us, execution_us, root_us, commit_us] =
            seconds.map(|s| 1e6 * s / total as f64);
        Ok(Phases {
            signatures_us,
            execution_us,
            root_us,
            commit_us,
        })
    }
}

impl std::fmt::Display for Phases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "signatures {:.1} us, execution {:.1} us, state root {:.1} us, synced commit {:.1} us",
            self.signatures_us, self.execution_us, self.root_us, self.commit_us
        )
    }
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
fn calibrate(mut chain: MemoryChain, accounts: usize, base_us: f64) -> anyhow::Result<()> {
    use wijk_primitives::{BlockRef, Hash, Vote, VoteKind};
    use wijk_support::BlockContext;
    const RUNS: usize = 2_000;
    let signing = chain.signing();
    let context = BlockContext {
        height: chain.head().height + 1,
        timestamp_ms: chain.head().timestamp_ms + 1_000,
        genesis_hash: signing.genesis_hash,
    };
    let validator = Keypair::dev("Alice");
    let key = |i: usize| Keypair::from_seed(blake3::hash(&(i as u64).to_le_bytes()).as_bytes());
    let key_merchant = |i: usize| {
        Keypair::from_seed(blake3::hash(&(u64::MAX - i as u64).to_le_bytes()).as_bytes())
    };
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
                    earmark: None,
                });
                (Keypair::dev("Alice"), call)
            }),
        ),
        (
            "coin.requestRedemption",
            Box::new(|i| {
                (
                    key(i % accounts),
                    RuntimeCall::Coin(wijk_coin::Call::RequestRedemption {
                        amount: 100,
                        payout_to: Hash([3; 32]),
                    }),
                )
            }),
        ),
        (
            "coin.transfer to a merchant",
            Box::new(|i| {
                let to = key_merchant(i % MERCHANTS).account_id();
                (
                    key(i % accounts),
                    RuntimeCall::Coin(wijk_coin::Call::Transfer { to, amount: 1 }),
                )
            }),
        ),
        (
            "membership.register",
            Box::new(|i| {
                let call = RuntimeCall::Membership(wijk_membership::Call::Register {
                    who: key(1_000_000 + i).account_id(),
                    roles: wijk_support::RoleSet::of(&[wijk_support::Role::Resident]),
                    tag: Hash(*blake3::hash(&(i as u64).to_be_bytes()).as_bytes()),
                    place: None,
                });
                (Keypair::dev("Alice"), call)
            }),
        ),
        (
            "governance.propose (a validator change)",
            Box::new(|i| {
                let change = RuntimeCall::Validators(wijk_validators::Call::ChangeSet {
                    validators: set[..4].to_vec(),
                });
                let call = RuntimeCall::Governance(wijk_governance::Call::Propose {
                    title: "calibration".into(),
                    text_hash: Hash([i as u8; 32]),
                    encoded_call: parity_scale_codec::Encode::encode(&change),
                });
                (key(i % accounts), call)
            }),
        ),
        (
            "governance.delegate (no proposal open)",
            Box::new(|i| {
                let call = RuntimeCall::Governance(wijk_governance::Call::Delegate {
                    to: key((i + 1) % accounts).account_id(),
                    scope: wijk_governance::Scope::All,
                });
                (key(i % accounts), call)
            }),
        ),
        (
            "activities.claim",
            Box::new(|i| {
                let call = RuntimeCall::Activities(wijk_activities::Call::Claim {
                    activity: 0,
                    units: 2,
                    done_at_ms: context.timestamp_ms,
                    evidence: Hash([i as u8; 32]),
                });
                (key(i % accounts), call)
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
    time_kinds(&chain, &context, &kinds, RUNS)?;
    drop(kinds);

    // The calls whose work grows with what is open: 32 proposals open (the most), a
    // delegate who voted on all of them, claims pending a verifier and claims attested
    // waiting for funds. Built as blocks first; then each kind timed on that state.
    anyhow::ensure!(
        accounts >= 4 * RUNS + 200,
        "--calibrate needs --accounts of at least {}",
        4 * RUNS + 200
    );
    let open = wijk_governance::MAX_OPEN_PROPOSALS;
    let alice = Keypair::dev("Alice");
    let block = |chain: &mut MemoryChain,
                 calls: Vec<(Keypair, RuntimeCall)>|
     -> anyhow::Result<()> {
        let signing = chain.signing();
        let mut nonces = std::collections::HashMap::new();
        let mut pending = Vec::new();
        for (signer, call) in calls {
            let account = signer.account_id();
            let nonce = match nonces.get(&account) {
                Some(next) => *next,
                None => wijk_system::nonce(chain.state(), &account)?,
            };
            nonces.insert(account, nonce + 1);
            pending.push(VerifiedTransaction::verify(
                Transaction::sign(&signer, &signing, nonce, u64::MAX, call),
                &signing,
            )?);
        }
        while !pending.is_empty() {
            let height = chain.head().height + 1;
            let built = chain.build_next(height * 1_000, alice.account_id(), pending.clone())?;
            if let Some(failed) = built
                .executed
                .receipts
                .iter()
                .find(|r| matches!(r.outcome, wijk_runtime::TxOutcome::Failed { .. }))
            {
                anyhow::bail!("preparing the calibration: {:?}", failed.outcome);
            }
            let included = built.block.transactions.len();
            anyhow::ensure!(
                included > 0,
                "preparing the calibration: nothing fit in a block"
            );
            pending.drain(..included);
        }
        Ok(())
    };
    block(
        &mut chain,
        (0..open)
            .map(|p| {
                let value = RuntimeCall::Activities(wijk_activities::Call::SetValue {
                    activity: 0,
                    value: 300 + p as u128,
                });
                let call = RuntimeCall::Governance(wijk_governance::Call::Propose {
                    title: format!("calibration {p}"),
                    text_hash: Hash([p as u8; 32]),
                    encoded_call: parity_scale_codec::Encode::encode(&value),
                });
                (key(10 + p), call)
            })
            .collect(),
    )?;
    let claim = |i: usize| {
        (
            key(100 + i),
            RuntimeCall::Activities(wijk_activities::Call::Claim {
                activity: 0,
                units: 2,
                done_at_ms: chain.head().timestamp_ms,
                evidence: Hash([7; 32]),
            }),
        )
    };
    let mut calls: Vec<(Keypair, RuntimeCall)> = (0..2 * RUNS).map(claim).collect();
    // //Alice's delegate-to-be votes on every open proposal.
    calls.extend((0..open as u64).map(|id| {
        (
            key(0),
            RuntimeCall::Governance(wijk_governance::Call::Vote {
                id,
                choice: wijk_governance::Choice::Yes,
            }),
        )
    }));
    block(&mut chain, calls)?;
    // The second half attested while the budget is empty: they wait for funds.
    let first_claim = wijk_activities::claim_count(chain.state())? - 2 * RUNS as u64;
    block(
        &mut chain,
        (RUNS..2 * RUNS)
            .map(|i| {
                let call = RuntimeCall::Activities(wijk_activities::Call::Attest {
                    claim: first_claim + i as u64,
                });
                (alice.clone(), call)
            })
            .collect(),
    )?;
    block(
        &mut chain,
        vec![(
            alice.clone(),
            RuntimeCall::Coin(wijk_coin::Call::Mint {
                to: alice.account_id(),
                amount: 100_000_000,
                deposit_ref: b"BANK-CALIBRATION-BUDGET".to_vec(),
                earmark: None,
            }),
        )],
    )?;
    block(
        &mut chain,
        vec![(
            alice.clone(),
            RuntimeCall::Activities(wijk_activities::Call::Fund {
                budget: 0,
                amount: 100_000_000,
            }),
        )],
    )?;
    // The market: an offer by each of one group of members, accepted by another.
    let (sellers, buyers) = (100 + 2 * RUNS, 100 + 3 * RUNS);
    let expires_at = chain.head().height + 10_000;
    let offer = |title: String| {
        RuntimeCall::Market(wijk_market::Call::Post {
            kind: wijk_market::ListingKind::Offer,
            title,
            category: "repairs".into(),
            price: wijk_market::Price {
                amount: 1_500,
                per_hour: true,
            },
            hours: None,
            location: Some(wijk_primitives::GeoPoint {
                lat: 500_000,
                lon: 500_000,
            }),
            expires_at,
            text_hash: Hash([5; 32]),
            team: Vec::new(),
        })
    };
    let first_listing = wijk_market::listing_count(chain.state())?;
    block(
        &mut chain,
        (0..RUNS)
            .map(|i| (key(sellers + i), offer(format!("calibration offer {i}"))))
            .collect(),
    )?;
    let first_deal = wijk_market::deal_count(chain.state())?;
    block(
        &mut chain,
        (0..RUNS)
            .map(|i| {
                let call = RuntimeCall::Market(wijk_market::Call::Accept {
                    listing: first_listing + i as u64,
                    hours: Some(2),
                    team: Vec::new(),
                });
                (key(buyers + i), call)
            })
            .collect(),
    )?;
    let context = BlockContext {
        height: chain.head().height + 1,
        timestamp_ms: chain.head().timestamp_ms + 1_000,
        genesis_hash: signing.genesis_hash,
    };
    let kinds: Vec<(&str, MakeCall<'_>)> = vec![
        (
            "market.post (an offer)",
            Box::new(|i| (key(200 + i), offer(format!("offer {i}")))),
        ),
        (
            "market.accept (an offer: its price into escrow)",
            Box::new(|i| {
                let call = RuntimeCall::Market(wijk_market::Call::Accept {
                    listing: first_listing + i as u64,
                    hours: Some(3),
                    team: Vec::new(),
                });
                (key(200 + i), call)
            }),
        ),
        (
            "market.complete (the seller paid from escrow)",
            Box::new(|i| {
                let call = RuntimeCall::Market(wijk_market::Call::Complete {
                    deal: first_deal + i as u64,
                });
                (key(buyers + i), call)
            }),
        ),
        (
            "market.cancel (the buyer refunded)",
            Box::new(|i| {
                let call = RuntimeCall::Market(wijk_market::Call::Cancel {
                    deal: first_deal + i as u64,
                });
                (key(buyers + i), call)
            }),
        ),
        (
            "governance.vote (32 proposals open)",
            Box::new(|i| {
                let call = RuntimeCall::Governance(wijk_governance::Call::Vote {
                    id: (i % open) as u64,
                    choice: wijk_governance::Choice::No,
                });
                (key(200 + i), call)
            }),
        ),
        (
            "governance.delegate (32 open, the delegate voted on all)",
            Box::new(|i| {
                let call = RuntimeCall::Governance(wijk_governance::Call::Delegate {
                    to: key(0).account_id(),
                    scope: wijk_governance::Scope::All,
                });
                (key(200 + i), call)
            }),
        ),
        (
            "activities.attest (and its payout)",
            Box::new(|i| {
                let call = RuntimeCall::Activities(wijk_activities::Call::Attest {
                    claim: first_claim + i as u64,
                });
                (alice.clone(), call)
            }),
        ),
        (
            "activities.pay (an attested claim, once funded)",
            Box::new(|i| {
                let call = RuntimeCall::Activities(wijk_activities::Call::Pay {
                    claim: first_claim + (RUNS + i) as u64,
                    budget: None,
                });
                (key(1), call)
            }),
        ),
    ];
    time_kinds(&chain, &context, &kinds, RUNS)?;
    Ok(())
}

/// Each kind of call and how to make its `i`th instance with its signer.
type MakeCall<'a> = Box<dyn Fn(usize) -> (Keypair, RuntimeCall) + 'a>;

/// Times `runs` calls of each kind executing on `chain`'s state in a block of `context`
/// (each on a fresh overlay, so every call takes its successful path) and prints each
/// beside its declared cost.
fn time_kinds(
    chain: &MemoryChain,
    context: &wijk_support::BlockContext,
    kinds: &[(&str, MakeCall<'_>)],
    runs: usize,
) -> anyhow::Result<()> {
    use wijk_primitives::Hash;
    use wijk_support::StateOverlay;
    let signing = chain.signing();
    for (name, make) in kinds {
        let transactions: Vec<Transaction> = (0..runs)
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
                context,
                transaction,
                Hash::ZERO,
            )?
            .map_err(|invalid| anyhow::anyhow!("{name}: {invalid}"))?;
            if matches!(receipt.outcome, wijk_runtime::TxOutcome::Failed { .. }) {
                failed += 1;
            }
        }
        let measured = started.elapsed().as_secs_f64() * 1e6 / runs as f64;
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
