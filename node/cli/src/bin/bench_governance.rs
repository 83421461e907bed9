//! Governance benchmark, in process: a chain of `--members` registered residents (the local
//! testnet spec's rules: its quick tracks, its catalogue) on which members open `--proposals`
//! proposals, make `--delegations` delegations and cast `--votes` votes; then blocks run on
//! until every proposal is closed and carried out. Every block is built as a validator
//! builds it (each signature checked, every call executed, the state root computed), and
//! timed. It prints the votes and delegations executed per second beside this machine's
//! ed25519 batch-verify rate measured in the same run, the time of each block that closes
//! or enacts proposals beside the time of blocks without transactions and of vote blocks
//! (the closing and the enactment must not stand out: their work is bounded), and each
//! proposal's running tally beside an auditor's recount from the final state.
//!
//! Not yet here (issue 17): the same load submitted over RPC to a 4-validator testnet with
//! its votes finalized per second; `scripts/bench-network` measures that path for payments.
//!
//! Run through `scripts/bench-governance` (release build).

#[path = "../bench_ceiling.rs"]
mod bench_ceiling;

use clap::Parser;
use parity_scale_codec::Encode;
use std::time::Instant;
use wijk_primitives::{Hash, Keypair};
use wijk_runtime::{MemoryChain, RuntimeCall, RuntimeEvent, Transaction, VerifiedTransaction};

/// Votes, delegations, closing and enactment, timed block by block.
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
    /// Most transactions offered per block (the builder also keeps within the block's cost).
    #[arg(long, default_value_t = 2_000)]
    per_block: usize,
}

/// What one block did and how long building it took.
struct Timed {
    height: u64,
    transactions: usize,
    closed: usize,
    enacted: usize,
    millis: f64,
}

fn key(i: usize) -> Keypair {
    Keypair::from_seed(blake3::hash(&(i as u64).to_le_bytes()).as_bytes())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
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
        voters + args.delegations <= args.members && args.proposals <= args.members,
        "--members must cover the voters ({voters}) and the delegators ({})",
        args.delegations
    );
    eprintln!("registering {} residents ...", args.members);
    let keys: Vec<Keypair> = (0..args.members).map(key).collect();
    let mut spec = wijk_service::chain_spec::local(1, 0);
    wijk_runtime::register_residents(&mut spec.genesis, keys.iter().map(Keypair::account_id));
    let validator = Keypair::dev("Alice");
    let mut chain = MemoryChain::new(&spec.genesis)?;
    let signing = chain.signing();
    let mut nonces = vec![0u64; keys.len()];
    let mut sign = |who: usize, call: RuntimeCall| {
        let nonce = nonces[who];
        nonces[who] += 1;
        Transaction::sign(&keys[who], &signing, nonce, u64::MAX, call)
    };

    // The load, in order: proposals (members 0.., each a new value for activity 0), then
    // delegations (the last members, to the voters), then votes (the first members, each on
    // every proposal: yes, no and abstain mixed).
    let mut load: Vec<(&str, Transaction)> = Vec::new();
    for p in 0..args.proposals {
        let value = RuntimeCall::Activities(wijk_activities::Call::SetValue {
            activity: 0,
            value: 250 + p as u128,
        });
        let call = RuntimeCall::Governance(wijk_governance::Call::Propose {
            title: format!("benchmark proposal {p}"),
            text_hash: Hash([p as u8; 32]),
            encoded_call: value.encode(),
        });
        load.push(("propose", sign(p, call)));
    }
    for d in 0..args.delegations {
        let delegator = args.members - 1 - d;
        let call = RuntimeCall::Governance(wijk_governance::Call::Delegate {
            to: keys[d % voters.max(1)].account_id(),
            scope: wijk_governance::Scope::All,
        });
        load.push(("delegate", sign(delegator, call)));
    }
    let mut cast = 0;
    'votes: for voter in 0..voters {
        for p in 0..args.proposals {
            if cast == args.votes {
                break 'votes;
            }
            let choice = match (voter + p) % 10 {
                0..=5 => wijk_governance::Choice::Yes,
                6..=8 => wijk_governance::Choice::No,
                _ => wijk_governance::Choice::Abstain,
            };
            let call = RuntimeCall::Governance(wijk_governance::Call::Vote {
                id: p as u64,
                choice,
            });
            load.push(("vote", sign(voter, call)));
            cast += 1;
        }
    }
    let ceiling = bench_ceiling::raw_batch_verify_rate(
        &load.iter().map(|(_, tx)| tx).collect::<Vec<_>>(),
        &signing,
    )?;

    eprintln!(
        "building blocks: {} proposals, {} delegations, {cast} votes ...",
        args.proposals, args.delegations
    );
    let mut timed: Vec<Timed> = Vec::new();
    let mut kinds_per_block: Vec<Vec<&str>> = Vec::new();
    let mut pending = load.into_iter().peekable();
    let mut carried: Vec<(&str, Transaction)> = Vec::new();
    let mut quiet_blocks = 0;
    loop {
        let mut offered: Vec<(&str, Transaction)> = std::mem::take(&mut carried);
        while offered.len() < args.per_block {
            match pending.next() {
                Some(item) => offered.push(item),
                None => break,
            }
        }
        let everything_enacted = offered.is_empty()
            && (0..args.proposals as u64).all(|id| {
                matches!(
                    wijk_governance::proposal(chain.state(), id)
                        .ok()
                        .flatten()
                        .map(|p| p.status),
                    Some(wijk_governance::Status::Enacted { .. })
                )
            });
        if everything_enacted {
            quiet_blocks += 1;
            if quiet_blocks > 5 {
                break;
            }
        }
        anyhow::ensure!(timed.len() < 10_000, "the proposals never closed");
        let candidates = offered
            .iter()
            .map(|(_, tx)| VerifiedTransaction::verify(tx.clone(), &signing))
            .collect::<Result<Vec<_>, _>>()?;
        let height = chain.head().height + 1;
        let started = Instant::now();
        let built = chain.build_next(height * 1_000, validator.account_id(), candidates)?;
        let millis = started.elapsed().as_secs_f64() * 1e3;
        let included: std::collections::HashSet<Hash> = built
            .block
            .transactions
            .iter()
            .map(|tx| tx.hash())
            .collect();
        if let Some(failed) = built
            .executed
            .receipts
            .iter()
            .find(|receipt| matches!(receipt.outcome, wijk_runtime::TxOutcome::Failed { .. }))
        {
            anyhow::bail!("a benchmark transaction failed: {:?}", failed.outcome);
        }
        let mut kinds = Vec::new();
        for (kind, tx) in offered {
            if included.contains(&tx.hash()) {
                kinds.push(kind);
            } else {
                // Over the block's cost: offered again in the next block.
                carried.push((kind, tx));
            }
        }
        let (mut closed, mut enacted) = (0, 0);
        for event in &built.executed.hook_events.end {
            match event {
                RuntimeEvent::Governance(wijk_governance::Event::Closed { .. }) => closed += 1,
                RuntimeEvent::Governance(wijk_governance::Event::Enacted { .. }) => enacted += 1,
                _ => {}
            }
        }
        timed.push(Timed {
            height,
            transactions: built.block.transactions.len(),
            closed,
            enacted,
            millis,
        });
        kinds_per_block.push(kinds);
    }

    // What the blocks of each kind cost.
    let of_kind = |wanted: &str| -> (usize, f64, Vec<f64>) {
        let mut count = 0;
        let mut total_ms = 0.0;
        let mut per_block = Vec::new();
        for (block, kinds) in timed.iter().zip(&kinds_per_block) {
            if !kinds.is_empty() && kinds.iter().all(|kind| *kind == wanted) {
                count += kinds.len();
                total_ms += block.millis;
                per_block.push(block.millis);
            }
        }
        (count, total_ms, per_block)
    };
    let (votes, votes_ms, vote_blocks) = of_kind("vote");
    let (delegations, delegations_ms, delegation_blocks) = of_kind("delegate");
    let quiet: Vec<f64> = timed
        .iter()
        .filter(|b| b.transactions == 0 && b.closed == 0 && b.enacted == 0)
        .map(|b| b.millis)
        .collect();
    let quiet_median = median(quiet.clone());
    println!(
        "governance: {} residents, {} proposals open at once, {} delegations then {} votes, up to {} transactions offered per block; each block built as a validator builds it (signatures, execution, state root), in memory",
        args.members, args.proposals, args.delegations, cast, args.per_block
    );
    println!(
        "votes:        {votes:>6} in {:>3} blocks of votes only, {:>8.0} votes/s executed ({:.1} us each; median block {:.0} ms)",
        vote_blocks.len(),
        votes as f64 / (votes_ms / 1e3),
        votes_ms * 1e3 / votes.max(1) as f64,
        median(vote_blocks.clone())
    );
    println!(
        "delegations:  {delegations:>6} in {:>3} blocks of delegations only, {:>8.0} delegations/s executed ({:.1} us each, with {} proposals open; median block {:.0} ms)",
        delegation_blocks.len(),
        delegations as f64 / (delegations_ms / 1e3),
        delegations_ms * 1e3 / delegations.max(1) as f64,
        args.proposals,
        median(delegation_blocks)
    );
    println!(
        "blocks without transactions, closing or enactment: {} of them, median {quiet_median:.2} ms",
        quiet.len()
    );
    for block in timed.iter().filter(|b| b.closed > 0 || b.enacted > 0) {
        println!(
            "block #{:<4} closes {} and enacts {} proposals: {:>7.2} ms = {:.1}x a block without transactions, {:.3}x a median vote block",
            block.height,
            block.closed,
            block.enacted,
            block.millis,
            block.millis / quiet_median,
            block.millis / median(vote_blocks.clone())
        );
    }
    println!("proposal   running tally (yes/no/abstain)   recount from the final state   status");
    for id in 0..args.proposals as u64 {
        let proposal = wijk_governance::proposal(chain.state(), id)?
            .ok_or_else(|| anyhow::anyhow!("proposal {id} is missing"))?;
        let recount = wijk_governance::recount(chain.state(), id)?.unwrap_or_default();
        let show = |t: &wijk_governance::Tally| format!("{}/{}/{}", t.yes, t.no, t.abstain);
        println!(
            "#{id:<8} {:>32}   {:>28}   {}",
            show(&proposal.tally),
            show(&recount),
            match proposal.status {
                wijk_governance::Status::Enacted { failed: None, .. } => "enacted".to_string(),
                other => format!("{other:?}"),
            }
        );
        anyhow::ensure!(
            recount == proposal.tally,
            "proposal {id}: the recount differs from the running tally"
        );
    }
    println!(
        "ed25519 batch verify, 1 core: {ceiling:>10.0} sig/s (same run); votes executed per second = {:.1} % of it",
        100.0 * votes as f64 / (votes_ms / 1e3) / ceiling
    );
    Ok(())
}
