//! Deterministic simulation of the BFT protocol: N replicas on a simulated network with
//! seeded latency, loss and partitions, and Byzantine validators (equivocating leader,
//! conflicting voter, silent validator, a twin running the same key twice, a leader whose
//! blocks do not execute), and a leader that cannot build (it abdicates its views).
//!
//! Every run asserts safety (no two different blocks final at one height, across all
//! honest replicas, ever) and liveness after the network heals; the same seed must give
//! the same history twice. Seeds run: `WIJK_SIM_SEEDS` (default 12 per scenario).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use wijk_consensus::{
    BlockRef, Config, Effect, Input, Message, Replica, Restart, View, Vote, VoteKind,
};
use wijk_primitives::{quorum, AccountId, FinalityVote, Hash, Keypair};

const VIEW_TIMEOUT_MS: u64 = 400;
const GENESIS: Hash = Hash([0x5e; 32]);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Behaviour {
    Honest,
    /// Sends nothing at all.
    Silent,
    /// As leader, proposes two different blocks, each to half of the validators.
    EquivocatingLeader,
    /// Votes honestly, and also signs a conflicting vote for everything it votes.
    ConflictingVoter,
    /// As leader, proposes blocks that do not execute (bad roots, bad transactions):
    /// every honest verifier finds them invalid.
    InvalidProposer,
    /// Honest, but can never build its block (it lacks the parent's state): it abdicates
    /// each view it leads.
    CannotBuild,
}

struct Node {
    replica: Replica,
    key: Keypair,
    behaviour: Behaviour,
    /// Counts toward the safety oracle and the liveness measure (false for Byzantine
    /// validators and for both copies of a twin).
    honest: bool,
    /// Final blocks by height, as this node saw them.
    chain: Vec<BlockRef>,
    /// The synced vote log.
    persisted: Vec<Vote>,
    /// The view of the last finalization (kept on disk with the blocks).
    finalized_view: View,
    /// Restarts so far (a rebuilt block gets a new timestamp, hence a new hash).
    restarts: u8,
    crashed: bool,
    evidence: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Event {
    Tick(usize),
    Deliver(usize, Vec<u8>),
    Reply(usize, ReplyInput),
    Crash(usize),
    Restart(usize),
}

/// Inputs the simulated actor answers with (kept orderable for the event queue).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum ReplyInput {
    Built(View, BlockRef),
    Verified(View, BlockRef),
    Ancestors(Vec<BlockRef>),
    CannotPropose(View),
}

struct Scenario {
    name: &'static str,
    honest: usize,
    byzantine: Vec<Behaviour>,
    /// Extra replica running the key of validator 0 (a twin).
    twin: bool,
    loss: f64,
    /// Nodes cut off from the rest between these times.
    partition: Option<(Vec<usize>, u64, u64)>,
    /// Crash a node at a time and restart it later.
    crash: Option<(usize, u64, u64)>,
    /// No side of the partition has a quorum: finality must stop until it heals.
    partition_halts: bool,
    duration_ms: u64,
}

struct Outcome {
    /// Per honest node, its final chain's hashes.
    chains: Vec<Vec<Hash>>,
    evidence: usize,
    /// Finalized height of the least advanced honest node at the heal time and the end.
    height_at_heal: u64,
    height_at_end: u64,
    /// Highest finalized height of any node shortly after the partition began, and just
    /// before it healed.
    heights_during_partition: Option<(u64, u64)>,
    /// The longest time no honest node finalized anything, after the first finalization.
    longest_pause_ms: u64,
    /// Blocks proposed that do not execute.
    invalid_proposals: usize,
    /// Views honest nodes voted to skip because they ran out of time.
    timeouts: usize,
}

struct Sim {
    rng: ChaCha8Rng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64, Event)>>,
    nodes: Vec<Node>,
    validators: Vec<AccountId>,
    /// Every block ever built: the "sync" service answering ancestry requests.
    all_blocks: BTreeMap<Hash, BlockRef>,
    /// Height -> the block finalized there by any honest node (the safety oracle).
    finalized: BTreeMap<u64, Hash>,
    /// Blocks that do not execute (what an honest verifier answers for them).
    invalid: BTreeSet<Hash>,
    /// Times at which an honest node finalized something, for the longest pause.
    finalized_at: Vec<u64>,
    /// Views honest nodes voted to skip because they ran out of time.
    timeouts: usize,
    scenario_loss: f64,
    partition: Option<(Vec<usize>, u64, u64)>,
}

impl Sim {
    fn push(&mut self, at: u64, event: Event) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq, event)));
    }

    fn cut(&self, a: usize, b: usize) -> bool {
        match &self.partition {
            Some((group, from, to)) if self.now >= *from && self.now < *to => {
                group.contains(&a) != group.contains(&b)
            }
            _ => false,
        }
    }

    fn send(&mut self, from: usize, to: usize, message: &Message) {
        if from == to || self.cut(from, to) || self.rng.gen_bool(self.scenario_loss) {
            return;
        }
        let latency = self.rng.gen_range(5..60);
        let bytes = parity_scale_codec::Encode::encode(message);
        self.push(self.now + latency, Event::Deliver(to, bytes));
    }

    fn broadcast(&mut self, from: usize, message: &Message) {
        for to in 0..self.nodes.len() {
            self.send(from, to, message);
        }
    }

    fn input(&mut self, index: usize, input: Input) {
        if self.nodes[index].crashed {
            return;
        }
        let effects = self.nodes[index].replica.on_input(self.now, input);
        for effect in effects {
            self.effect(index, effect);
        }
    }

    fn effect(&mut self, index: usize, effect: Effect) {
        let behaviour = self.nodes[index].behaviour;
        match effect {
            Effect::PersistVote(vote) => self.nodes[index].persisted.push(vote),
            Effect::Broadcast(message) => {
                if behaviour == Behaviour::Silent {
                    return;
                }
                self.broadcast(index, &message);
                if behaviour == Behaviour::ConflictingVoter {
                    if let Message::Vote(signed) = &message {
                        if signed.signer == self.nodes[index].key.account_id() {
                            self.conflicting_votes(index, signed.vote);
                        }
                    }
                }
            }
            Effect::BuildBlock {
                view,
                parent,
                parent_view,
            } => {
                if behaviour == Behaviour::EquivocatingLeader {
                    self.equivocate(index, view, parent, parent_view);
                    return;
                }
                let delay = self.rng.gen_range(1..20);
                if behaviour == Behaviour::CannotBuild {
                    self.push(
                        self.now + delay,
                        Event::Reply(index, ReplyInput::CannotPropose(view)),
                    );
                    return;
                }
                let salt = self.nodes[index].restarts;
                let block = self.make_block(index, view, parent, salt);
                if behaviour == Behaviour::InvalidProposer {
                    self.invalid.insert(block.hash);
                }
                self.push(
                    self.now + delay,
                    Event::Reply(index, ReplyInput::Built(view, block)),
                );
            }
            Effect::VerifyBlock { view, block } => {
                let delay = self.rng.gen_range(1..20);
                self.push(
                    self.now + delay,
                    Event::Reply(index, ReplyInput::Verified(view, block)),
                );
            }
            Effect::Finalized {
                blocks,
                certificate,
            } => {
                let tip = *blocks.last().expect("finalized at least one block");
                assert_eq!(certificate.block_hash, tip.hash);
                assert_eq!(certificate.height, tip.height);
                self.check_certificate(&certificate);
                let node = &mut self.nodes[index];
                node.finalized_view = certificate.view;
                for block in blocks {
                    let parent = node.chain.last().map_or(GENESIS, |b| b.hash);
                    assert_eq!(block.parent, parent, "node {index} finalized a gap");
                    assert_eq!(block.height, node.chain.len() as u64 + 1);
                    node.chain.push(block);
                    if node.honest {
                        let first = *self.finalized.entry(block.height).or_insert(block.hash);
                        assert_eq!(
                            first, block.hash,
                            "SAFETY VIOLATION: two blocks final at height {}",
                            block.height
                        );
                        assert!(
                            !self.invalid.contains(&block.hash),
                            "SAFETY VIOLATION: a block that does not execute is final at height {}",
                            block.height
                        );
                        self.finalized_at.push(self.now);
                    }
                }
            }
            Effect::NeedAncestors {
                tip,
                finalized_height,
            } => {
                let mut ancestors = Vec::new();
                let mut cursor = tip;
                while cursor.height > finalized_height + 1 {
                    let Some(parent) = self.all_blocks.get(&cursor.parent) else {
                        break;
                    };
                    ancestors.push(*parent);
                    cursor = *parent;
                }
                let delay = self.rng.gen_range(5..50);
                self.push(
                    self.now + delay,
                    Event::Reply(index, ReplyInput::Ancestors(ancestors)),
                );
            }
            Effect::ScheduleTick { at_ms } => self.push(at_ms, Event::Tick(index)),
            Effect::ViewTimedOut { .. } => {
                if self.nodes[index].honest {
                    self.timeouts += 1;
                }
            }
            Effect::Evidence { first, second } => {
                assert!(first.vote.conflicts_with(&second.vote));
                assert_eq!(first.signer, second.signer);
                self.nodes[index].evidence += 1;
            }
            Effect::Halt { reason } => panic!("node {index} halted: {reason}"),
        }
    }

    fn make_block(&mut self, index: usize, view: View, parent: BlockRef, salt: u8) -> BlockRef {
        let mut hasher = blake3::Hasher::new();
        hasher.update(&parent.hash.0);
        hasher.update(&view.to_le_bytes());
        hasher.update(&(index as u64).to_le_bytes());
        hasher.update(&[salt]);
        let block = BlockRef {
            hash: Hash(*hasher.finalize().as_bytes()),
            height: parent.height + 1,
            parent: parent.hash,
        };
        self.all_blocks.insert(block.hash, block);
        block
    }

    fn equivocate(&mut self, index: usize, view: View, parent: BlockRef, parent_view: View) {
        let key = self.nodes[index].key.clone();
        let a = self.make_block(index, view, parent, 101);
        let b = self.make_block(index, view, parent, 102);
        for (to, block) in (0..self.nodes.len()).map(|to| (to, if to % 2 == 0 { a } else { b })) {
            let vote = Vote {
                view,
                kind: VoteKind::Notarize { block, parent_view },
            }
            .sign(&key, GENESIS);
            self.send(index, to, &Message::Vote(vote));
        }
    }

    fn conflicting_votes(&mut self, index: usize, vote: Vote) {
        let key = self.nodes[index].key.clone();
        let conflicting = match vote.kind {
            VoteKind::Notarize { block, parent_view } => {
                let mut other = block;
                other.hash.0[0] ^= 0xff;
                vec![VoteKind::Notarize {
                    block: other,
                    parent_view,
                }]
            }
            VoteKind::Finalize { .. } => vec![VoteKind::Nullify],
            VoteKind::Nullify => Vec::new(),
        };
        for kind in conflicting {
            let signed = Vote {
                view: vote.view,
                kind,
            }
            .sign(&key, GENESIS);
            self.broadcast(index, &Message::Vote(signed));
        }
    }

    fn check_certificate(&self, certificate: &wijk_primitives::FinalityCertificate) {
        let bytes = FinalityVote {
            genesis_hash: GENESIS,
            height: certificate.height,
            view: certificate.view,
            block_hash: certificate.block_hash,
        }
        .signing_bytes();
        let signers: BTreeSet<AccountId> = certificate
            .signatures
            .iter()
            .map(|(signer, signature)| {
                assert!(self.validators.contains(signer));
                wijk_primitives::verify_strict(signer, &bytes, signature)
                    .expect("certificate signature verifies");
                *signer
            })
            .collect();
        assert!(signers.len() >= quorum(self.validators.len()));
    }

    fn max_height(&self) -> u64 {
        self.nodes
            .iter()
            .map(|n| n.chain.len() as u64)
            .max()
            .unwrap_or(0)
    }

    fn min_honest_height(&self) -> u64 {
        self.nodes
            .iter()
            .filter(|n| n.honest)
            .map(|n| n.chain.len() as u64)
            .min()
            .unwrap_or(0)
    }
}

/// What a node finds on disk after a crash: its finalized blocks and its vote log.
fn restart_point(node: &Node) -> Restart {
    Restart {
        finalized: node.chain.last().copied().unwrap_or(BlockRef {
            hash: GENESIS,
            height: 0,
            parent: Hash::ZERO,
        }),
        finalized_view: node.finalized_view,
        signed_votes: node.persisted.clone(),
    }
}

fn run(scenario: &Scenario, seed: u64) -> Outcome {
    let validator_count = scenario.honest + scenario.byzantine.len();
    let keys: Vec<Keypair> = (0..validator_count)
        .map(|i| Keypair::from_seed(&[i as u8 + 1; 32]))
        .collect();
    let validators: Vec<AccountId> = keys.iter().map(Keypair::account_id).collect();
    let config = |key: &Keypair| Config {
        genesis_hash: GENESIS,
        validators: validators.clone(),
        key: Some(key.clone()),
        view_timeout_ms: VIEW_TIMEOUT_MS,
    };
    let genesis = Restart {
        finalized: BlockRef {
            hash: GENESIS,
            height: 0,
            parent: Hash::ZERO,
        },
        finalized_view: 0,
        signed_votes: Vec::new(),
    };
    // Byzantine validators take the first indices, so some of them lead early views.
    let mut behaviours: Vec<Behaviour> = scenario.byzantine.clone();
    behaviours.resize(validator_count, Behaviour::Honest);
    let mut nodes: Vec<Node> = keys
        .iter()
        .zip(&behaviours)
        .map(|(key, behaviour)| Node {
            replica: Replica::new(config(key), genesis.clone()),
            key: key.clone(),
            behaviour: *behaviour,
            honest: matches!(behaviour, Behaviour::Honest | Behaviour::CannotBuild),
            chain: Vec::new(),
            persisted: Vec::new(),
            finalized_view: 0,
            restarts: 0,
            crashed: false,
            evidence: 0,
        })
        .collect();
    if scenario.twin {
        // A second replica with validator 0's key, each running honest code on its own:
        // together they are one faulty validator (they will sign conflicting votes).
        let key = keys[0].clone();
        nodes[0].honest = false;
        nodes.push(Node {
            replica: Replica::new(config(&key), genesis.clone()),
            key,
            behaviour: Behaviour::Honest,
            honest: false,
            chain: Vec::new(),
            persisted: Vec::new(),
            finalized_view: 0,
            restarts: 0,
            crashed: false,
            evidence: 0,
        });
    }
    let mut sim = Sim {
        rng: ChaCha8Rng::seed_from_u64(seed),
        now: 0,
        seq: 0,
        queue: BinaryHeap::new(),
        nodes,
        validators,
        all_blocks: BTreeMap::new(),
        finalized: BTreeMap::new(),
        invalid: BTreeSet::new(),
        finalized_at: Vec::new(),
        timeouts: 0,
        scenario_loss: scenario.loss,
        partition: scenario.partition.clone(),
    };
    for i in 0..sim.nodes.len() {
        let start = sim.rng.gen_range(0..50);
        sim.push(start, Event::Tick(i));
    }
    if let Some((node, at, back)) = scenario.crash {
        sim.push(at, Event::Crash(node));
        sim.push(back, Event::Restart(node));
    }
    let heal = scenario
        .partition
        .as_ref()
        .map_or(0, |(_, _, to)| *to)
        .max(scenario.crash.map_or(0, |(_, _, back)| back));
    let mut height_at_heal = None;
    // Messages sent before the cut may still land: measure from 200 ms after it.
    let partition_window = scenario
        .partition
        .as_ref()
        .map(|(_, from, to)| (from + 200, *to));
    let (mut partition_start_height, mut partition_end_height) = (None, None);
    while let Some(Reverse((at, _, event))) = sim.queue.pop() {
        if at > scenario.duration_ms {
            break;
        }
        sim.now = at;
        if let Some((from, to)) = partition_window {
            if at >= from && partition_start_height.is_none() {
                partition_start_height = Some(sim.max_height());
            }
            if at < to {
                partition_end_height = Some(sim.max_height());
            }
        }
        if height_at_heal.is_none() && at >= heal {
            height_at_heal = Some(sim.min_honest_height());
        }
        match event {
            Event::Tick(i) => sim.input(i, Input::Tick),
            Event::Deliver(i, bytes) => {
                let message: Message = wijk_primitives::decode_bounded("message", &bytes, 1 << 20)
                    .expect("simulated messages decode");
                sim.input(i, Input::Message(message));
            }
            Event::Reply(i, ReplyInput::Built(view, block)) => {
                sim.input(i, Input::Built { view, block })
            }
            Event::Reply(i, ReplyInput::Verified(view, block)) => {
                let valid = !sim.invalid.contains(&block.hash);
                sim.input(i, Input::Verified { view, block, valid })
            }
            Event::Reply(i, ReplyInput::CannotPropose(view)) => {
                sim.input(i, Input::CannotPropose { view })
            }
            Event::Reply(i, ReplyInput::Ancestors(blocks)) => {
                sim.input(i, Input::Ancestors(blocks))
            }
            Event::Crash(i) => sim.nodes[i].crashed = true,
            Event::Restart(i) => {
                // A restart loses everything but what is on disk: the finalized blocks
                // and the synced vote log.
                let node = &mut sim.nodes[i];
                node.restarts += 1;
                let config = Config {
                    genesis_hash: GENESIS,
                    validators: sim.validators.clone(),
                    key: Some(node.key.clone()),
                    view_timeout_ms: VIEW_TIMEOUT_MS,
                };
                node.replica = Replica::new(config, restart_point(node));
                node.crashed = false;
                sim.input(i, Input::Tick);
            }
        }
    }
    Outcome {
        chains: sim
            .nodes
            .iter()
            .filter(|n| n.honest)
            .map(|n| n.chain.iter().map(|b| b.hash).collect())
            .collect(),
        evidence: sim.nodes.iter().map(|n| n.evidence).sum(),
        height_at_heal: height_at_heal.unwrap_or_else(|| sim.min_honest_height()),
        height_at_end: sim.min_honest_height(),
        heights_during_partition: partition_start_height.zip(partition_end_height),
        invalid_proposals: sim.invalid.len(),
        timeouts: sim.timeouts,
        longest_pause_ms: {
            let mut times = sim.finalized_at.clone();
            times.sort_unstable();
            times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
        },
    }
}

fn seeds() -> u64 {
    std::env::var("WIJK_SIM_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12)
}

/// Runs every seed of a scenario: safety is asserted inside; here liveness, reproducibility
/// and equivocation evidence exactly when a validator is faulty.
fn check(scenario: Scenario, expect_evidence: bool) {
    for seed in 0..seeds() {
        let outcome = run(&scenario, seed);
        eprintln!(
            "{} seed {seed}: final height {} (at heal {}), evidence {}",
            scenario.name, outcome.height_at_end, outcome.height_at_heal, outcome.evidence
        );
        // Honest chains are prefixes of one another.
        for a in &outcome.chains {
            for b in &outcome.chains {
                let common = a.len().min(b.len());
                assert_eq!(
                    a[..common],
                    b[..common],
                    "{} seed {seed}: forked",
                    scenario.name
                );
            }
        }
        assert!(
            outcome.height_at_end >= outcome.height_at_heal + 5,
            "{} seed {seed}: no liveness after heal ({} -> {})",
            scenario.name,
            outcome.height_at_heal,
            outcome.height_at_end
        );
        if expect_evidence {
            assert!(
                outcome.evidence > 0,
                "{} seed {seed}: equivocation went unnoticed",
                scenario.name
            );
        } else {
            assert_eq!(
                outcome.evidence, 0,
                "{} seed {seed}: an honest validator signed conflicting votes",
                scenario.name
            );
        }
        if let Some((during_start, during_end)) = outcome.heights_during_partition {
            if scenario.partition_halts {
                assert_eq!(
                    during_start, during_end,
                    "{} seed {seed}: finality advanced without a quorum",
                    scenario.name
                );
            }
        }
        if seed == 0 {
            let again = run(&scenario, seed);
            assert_eq!(
                again.chains, outcome.chains,
                "{}: same seed, different history",
                scenario.name
            );
        }
    }
}

#[test]
fn honest_validators_on_a_lossy_network_finalize_one_chain() {
    check(
        Scenario {
            name: "honest, 10% loss",
            honest: 4,
            byzantine: vec![],
            twin: false,
            loss: 0.10,
            partition: None,
            crash: None,
            partition_halts: false,
            duration_ms: 8_000,
        },
        false,
    );
}

#[test]
fn a_partition_halts_finality_without_a_fork_and_heals() {
    check(
        Scenario {
            name: "partition 2|2 then heal",
            honest: 4,
            byzantine: vec![],
            twin: false,
            loss: 0.02,
            partition: Some((vec![0, 1], 1_000, 4_000)),
            crash: None,
            partition_halts: true,
            duration_ms: 9_000,
        },
        false,
    );
}

#[test]
fn a_silent_validator_is_skipped() {
    check(
        Scenario {
            name: "silent validator",
            honest: 3,
            byzantine: vec![Behaviour::Silent],
            twin: false,
            loss: 0.05,
            partition: None,
            crash: None,
            partition_halts: false,
            duration_ms: 8_000,
        },
        false,
    );
}

#[test]
fn an_equivocating_leader_is_caught_and_cannot_fork() {
    check(
        Scenario {
            name: "equivocating leader",
            honest: 3,
            byzantine: vec![Behaviour::EquivocatingLeader],
            twin: false,
            loss: 0.02,
            partition: None,
            crash: None,
            partition_halts: false,
            duration_ms: 8_000,
        },
        true,
    );
}

#[test]
fn a_conflicting_voter_is_caught_and_cannot_fork() {
    check(
        Scenario {
            name: "conflicting voter, 7 validators",
            honest: 5,
            byzantine: vec![Behaviour::ConflictingVoter, Behaviour::ConflictingVoter],
            twin: false,
            loss: 0.05,
            partition: Some((vec![2, 3, 4], 1_500, 3_000)),
            crash: None,
            partition_halts: false,
            duration_ms: 8_000,
        },
        true,
    );
}

#[test]
fn twins_with_one_key_cannot_fork() {
    check(
        Scenario {
            name: "twin",
            honest: 4,
            byzantine: vec![],
            twin: true,
            loss: 0.05,
            partition: Some((vec![0, 1], 1_000, 2_500)),
            crash: None,
            partition_halts: false,
            duration_ms: 8_000,
        },
        true,
    );
}

#[test]
fn a_leader_proposing_blocks_that_do_not_execute_gets_none_final() {
    let scenario = Scenario {
        name: "invalid proposals",
        honest: 3,
        byzantine: vec![Behaviour::InvalidProposer],
        twin: false,
        loss: 0.05,
        partition: None,
        crash: None,
        partition_halts: false,
        duration_ms: 8_000,
    };
    // The oracle inside refuses any such block final; the test is not vacuous:
    assert!(run(&scenario, 0).invalid_proposals > 3);
    check(scenario, false);
}

#[test]
fn a_leader_that_cannot_build_costs_no_timeout() {
    let scenario = Scenario {
        name: "abdicating leader",
        honest: 4,
        byzantine: vec![],
        twin: false,
        loss: 0.0,
        partition: None,
        crash: None,
        partition_halts: false,
        duration_ms: 6_000,
    };
    for seed in 0..seeds() {
        let mut with_abdication = scenario_with(&scenario, 0, Behaviour::CannotBuild);
        with_abdication.name = "abdicating leader";
        let outcome = run(&with_abdication, seed);
        eprintln!(
            "abdicating leader seed {seed}: final height {}, longest pause {} ms",
            outcome.height_at_end, outcome.longest_pause_ms
        );
        // Every fourth view's leader gives up at once: no view waits out its timeout.
        assert!(
            outcome.longest_pause_ms < VIEW_TIMEOUT_MS,
            "seed {seed}: a pause of {} ms, a timeout is {VIEW_TIMEOUT_MS} ms",
            outcome.longest_pause_ms
        );
        assert_eq!(outcome.timeouts, 0, "seed {seed}: views timed out");
        // A silent leader, by contrast, costs a timeout each time it leads.
        let silent = run(&scenario_with(&scenario, 0, Behaviour::Silent), seed);
        assert!(
            silent.longest_pause_ms >= VIEW_TIMEOUT_MS && silent.timeouts > 0,
            "seed {seed}: the comparison proves nothing ({} ms, {} timeouts)",
            silent.longest_pause_ms,
            silent.timeouts
        );
        assert!(outcome.height_at_end > silent.height_at_end);
    }
}

/// `scenario` with validator `index` behaving as `behaviour` (the others honest).
fn scenario_with(scenario: &Scenario, index: usize, behaviour: Behaviour) -> Scenario {
    let mut byzantine = vec![Behaviour::Honest; index];
    byzantine.push(behaviour);
    Scenario {
        name: scenario.name,
        honest: scenario.honest - byzantine.len(),
        byzantine,
        twin: scenario.twin,
        loss: scenario.loss,
        partition: scenario.partition.clone(),
        crash: scenario.crash,
        partition_halts: scenario.partition_halts,
        duration_ms: scenario.duration_ms,
    }
}

#[test]
fn a_crashed_validator_restarts_without_double_signing_and_catches_up() {
    check(
        Scenario {
            name: "crash and restart",
            honest: 4,
            byzantine: vec![],
            twin: false,
            loss: 0.05,
            partition: None,
            crash: Some((2, 1_500, 3_500)),
            partition_halts: false,
            duration_ms: 9_000,
        },
        false,
    );
}

#[test]
fn a_validator_restarting_within_its_view_does_not_sign_again() {
    // Back after 150 ms, usually still in the view it voted in before the crash: only the
    // synced vote log keeps it from signing a conflicting vote there.
    check(
        Scenario {
            name: "quick restart",
            honest: 4,
            byzantine: vec![],
            twin: false,
            loss: 0.05,
            partition: None,
            crash: Some((1, 2_000, 2_150)),
            partition_halts: false,
            duration_ms: 6_000,
        },
        false,
    );
}
