//! The voter: owns the replica and the blocks that are not final yet; turns gossip, timers
//! and the other parts' answers into the replica's inputs, and its effects into work for
//! the builder, resolver, executor and marshal. It waits for nothing but the synced write
//! of its own votes.

use super::builder::{self, Build, BuildFailure};
use super::executor::{self, Execution};
use super::gossip::{gossip_inputs, without_closing_blocks};
use super::marshal::{self, Job, Marshal};
use super::{
    block_ref, evidence, now_ms, resolver, staged_on, view_timeout_ms, ConsensusContext,
    ConsensusError, Pending, RecentBlocks, Rejection,
};
use crate::node::ServiceError;
use crate::protocol::ConsensusGossip;
use parity_scale_codec::Encode;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, watch};
use wijk_consensus::{BlockRef, Config, Effect, Input, Message, Replica, Restart, Vote, VoteKind};
use wijk_network::{NetworkHandle, Topic};
use wijk_primitives::{
    closing_block_hash, decode_bounded, epoch_base_view, AccountId, FinalityCertificate, Hash,
    Header, KeyCache, Keypair, SignedVote, SigningContext, TimestampMs,
};
use wijk_rpc::NodeStatus;
use wijk_runtime::{Block, BuiltBlock, CheckedSignatures, ExecutedBlock};
use wijk_storage::Storage;
use wijk_txpool::PoolMailbox;

/// How many missing blocks a node fetches one by one (by hash) before it falls back to
/// downloading finalized blocks by height.
const MAX_FETCH_BY_HASH: usize = 64;
/// Proposals received but not executed yet, kept for later verification.
const MAX_RECEIVED_BLOCKS: usize = 256;
/// How long a block no peer had is not asked for again.
const UNAVAILABLE_FOR: Duration = Duration::from_secs(2);
/// Answers of the other parts waiting for the voter (it starts far fewer jobs at once).
const DONE_QUEUE: usize = 1_024;

/// An answer to the voter from one of the other parts.
pub(super) enum Done {
    /// The builder built (or could not build) the block for `view`.
    Built {
        view: u64,
        outcome: Result<Box<BuiltBlock>, BuildFailure>,
    },
    /// A closing block for `view`, paced like a block.
    ClosingPaced { view: u64, block: BlockRef },
    /// The resolver fetched `hash` (or no peer had it).
    Fetched {
        hash: Hash,
        block: Option<Arc<Block>>,
    },
    /// The executor executed `block`.
    Executed {
        block: Arc<Block>,
        outcome: Result<Result<ExecutedBlock, Rejection>, ConsensusError>,
    },
    /// Equivocation evidence was handed to the pool (or not).
    Reported {
        offence: (AccountId, u64),
        submitted: bool,
    },
    /// The marshal committed up to `height`.
    Committed { height: u64 },
    /// The marshal synced (or tried to); the head is at `head`.
    Synced { head: u64 },
    /// The marshal failed: the node must stop.
    Failed(ConsensusError),
}

/// Where a block the replica asked for stands.
enum Resolution {
    /// Executed here (pending) or final.
    Ready,
    /// Being fetched or executed.
    Waiting,
    /// No peer has it (or an ancestor), or too much is missing: a case for sync.
    Unavailable,
    /// It is more than [`MAX_FETCH_BY_HASH`] blocks above the head: a case for sync, known
    /// from its height alone, before any block is fetched.
    FarAhead,
    /// It (or an ancestor) is not a block to vote for.
    Invalid(Rejection),
}

/// The block this leader was asked to build.
enum Building {
    /// Its parent is not executed here yet.
    WaitingForParent { view: u64, parent: BlockRef },
    /// The builder is on it.
    InFlight { view: u64 },
}

/// What every part of the actor reads.
struct Shared {
    storage: Arc<Storage>,
    pool: PoolMailbox,
    key: Option<Keypair>,
    signing: SigningContext,
    block_time_ms: u64,
    network: Option<NetworkHandle>,
    recent: RecentBlocks,
    status: Arc<NodeStatus>,
    /// Decoded keys of recent signers, for checking proposals' signatures.
    keys: Arc<KeyCache>,
    /// Signatures the pool already checked.
    checked: Arc<CheckedSignatures>,
}

/// Where a replica starts: the epoch and validator set of the next block, and the
/// replica's restart point.
struct EpochStart {
    epoch: u64,
    validators: Vec<AccountId>,
    restart: Restart,
}

/// Where the replica restarts: the last final block, the view that finalized it (or, if
/// that block ended an epoch, the next epoch's base view, which every validator agrees on
/// however it learned the block was final), and every vote logged since.
fn restart_point(storage: &Storage) -> Result<EpochStart, ConsensusError> {
    let head = storage.best_header()?.ok_or(ConsensusError::NoGenesis)?;
    let (epoch, validators) = wijk_validators::set_for_height(storage, head.height + 1)?;
    let certified_view = storage.certificate(head.height)?.map_or(0, |c| c.view);
    let finalized_view = certified_view.max(epoch_base_view(epoch));
    let signed_votes = storage
        .logged_votes()?
        .iter()
        .map(|bytes| decode_bounded::<Vote>("logged vote", bytes, 4096))
        .filter(|vote| vote.as_ref().map_or(true, |v| v.view > finalized_view))
        .collect::<Result<_, _>>()
        .map_err(ConsensusError::CorruptVoteLog)?;
    Ok(EpochStart {
        epoch,
        validators,
        restart: Restart {
            finalized: block_ref(&head),
            finalized_view,
            signed_votes,
        },
    })
}

/// A replica for the epoch `start` describes. A key outside that epoch's set is not
/// given to it: such a node follows like a full node and signs nothing.
fn new_replica(shared: &Shared, start: EpochStart) -> Replica {
    let signer = shared
        .key
        .clone()
        .filter(|key| start.validators.contains(&key.account_id()));
    tracing::info!(
        target: "consensus",
        "{} in epoch {} (validators: {}) resumes after block #{} (view {}), {} logged votes",
        match (&signer, &shared.key) {
            (Some(key), _) => format!("validator {:?}", key.account_id()),
            (None, Some(key)) => format!("{:?}, not a validator in this epoch,", key.account_id()),
            (None, None) => "full node".to_string(),
        },
        start.epoch,
        start.validators.len(),
        start.restart.finalized.height,
        start.restart.finalized_view,
        start.restart.signed_votes.len()
    );
    Replica::new(
        Config {
            genesis_hash: shared.signing.genesis_hash,
            validators: start.validators,
            key: signer,
            view_timeout_ms: view_timeout_ms(shared.block_time_ms),
        },
        start.restart,
    )
}

/// Runs the consensus actor (voter and marshal) until shutdown or an unrecoverable error.
pub async fn run(ctx: ConsensusContext) -> Result<(), ServiceError> {
    let shared = Shared {
        checked: ctx.pool.checked_signatures(),
        storage: ctx.storage,
        pool: ctx.pool,
        key: ctx.key,
        signing: ctx.signing,
        block_time_ms: ctx.block_time_ms,
        network: ctx.network,
        recent: ctx.recent,
        status: ctx.status,
        keys: Arc::new(KeyCache::default()),
    };
    let start = restart_point(&shared.storage)?;
    let head = shared
        .storage
        .best_header()
        .map_err(ConsensusError::from)?
        .ok_or(ConsensusError::NoGenesis)?;
    let (done_sender, done) = mpsc::channel(DONE_QUEUE);
    let (marshal_sender, jobs) = mpsc::channel(marshal::MARSHAL_QUEUE);
    tokio::spawn(
        Marshal {
            storage: shared.storage.clone(),
            network: shared.network.clone(),
            pool: shared.pool.clone(),
            committed: ctx.committed,
            status: shared.status.clone(),
            signing: shared.signing,
            jobs,
            done: done_sender.clone(),
        }
        .run(),
    );
    let epoch = start.epoch;
    let replica = new_replica(&shared, start);
    let handed = head.height;
    Voter {
        shared,
        replica,
        epoch,
        head,
        inputs: VecDeque::from([Input::Tick]),
        next_tick_ms: None,
        inbox: ctx.inbox,
        shutdown: ctx.shutdown,
        done_sender,
        done,
        marshal: marshal_sender,
        marshal_backlog: VecDeque::new(),
        closing: HashMap::new(),
        pending: BTreeMap::new(),
        received: HashMap::new(),
        rejected: HashMap::new(),
        fetching: HashSet::new(),
        unavailable: HashMap::new(),
        executing: HashSet::new(),
        building: None,
        verifying: Vec::new(),
        finalizing: VecDeque::new(),
        handed,
        wanted_ancestors: None,
        syncing: false,
        reported: HashSet::new(),
        stalled: (0, Instant::now()),
        reconnect_after: (Duration::ZERO, Instant::now()),
    }
    .run()
    .await
    .map_err(ServiceError::from)
}

struct Voter {
    shared: Shared,
    replica: Replica,
    /// The epoch the replica runs.
    epoch: u64,
    /// The last committed header, as the marshal reported it.
    head: Header,
    inputs: VecDeque<Input>,
    next_tick_ms: Option<TimestampMs>,
    inbox: mpsc::Receiver<ConsensusGossip>,
    shutdown: watch::Receiver<bool>,
    done_sender: mpsc::Sender<Done>,
    done: mpsc::Receiver<Done>,
    marshal: mpsc::Sender<Job>,
    /// Jobs the marshal's queue had no room for yet, in order.
    marshal_backlog: VecDeque<Job>,
    /// Closing blocks proposed or checked in this epoch, with the epoch's last block.
    closing: HashMap<Hash, Hash>,
    /// Blocks executed here, not final (or final and not committed yet).
    pending: BTreeMap<Hash, Arc<Pending>>,
    /// Proposed or fetched blocks, not executed yet.
    received: HashMap<Hash, Arc<Block>>,
    /// Blocks found not to be voted for, with their height (forgotten below the head).
    rejected: HashMap<Hash, (u64, Rejection)>,
    fetching: HashSet<Hash>,
    /// Blocks no peer had, and since when.
    unavailable: HashMap<Hash, Instant>,
    executing: HashSet<Hash>,
    building: Option<Building>,
    /// Proposals the replica asked about, not answered yet.
    verifying: Vec<(u64, BlockRef)>,
    /// Final runs waiting for their blocks to be executed, in order.
    finalizing: VecDeque<(Vec<BlockRef>, FinalityCertificate)>,
    /// The highest block handed to the marshal to commit.
    handed: u64,
    /// A final block whose ancestry the replica lacks, and its finalized height then.
    wanted_ancestors: Option<(BlockRef, u64)>,
    /// The marshal is syncing (or about to).
    syncing: bool,
    /// Equivocations this validator reported.
    reported: HashSet<(AccountId, u64)>,
    /// The finalized height and since when it has not moved (or peers were last asked).
    stalled: (u64, Instant),
    /// When nothing is finalized for this long, connections are renewed (doubling each
    /// time, reset by progress).
    reconnect_after: (Duration, Instant),
}

impl Voter {
    async fn run(mut self) -> Result<(), ConsensusError> {
        loop {
            self.drain().await?;
            if *self.shutdown.borrow() {
                return Ok(());
            }
            self.shared.status.view.store(self.replica.view(), Relaxed);
            let wait = self.next_tick_ms.map_or(Duration::from_secs(1), |at| {
                Duration::from_millis(at.saturating_sub(now_ms()))
            });
            tokio::select! {
                _ = tokio::time::sleep(wait) => {
                    self.inputs.push_back(Input::Tick);
                    self.catch_up_if_stalled().await;
                }
                gossip = self.inbox.recv() => match gossip {
                    Some(gossip) => self.on_gossip(gossip)?,
                    None => return Ok(()),
                },
                done = self.done.recv() => match done {
                    Some(done) => self.on_done(done)?,
                    None => return Ok(()),
                },
                _ = self.shutdown.changed() => return Ok(()),
            }
        }
    }

    /// Feeds the replica its inputs and carries out its effects.
    async fn drain(&mut self) -> Result<(), ConsensusError> {
        while let Some(input) = self.inputs.pop_front() {
            for effect in self.replica.on_input(now_ms(), input) {
                if *self.shutdown.borrow() {
                    return Ok(());
                }
                self.on_effect(effect).await?;
            }
        }
        Ok(())
    }

    async fn on_effect(&mut self, effect: Effect) -> Result<(), ConsensusError> {
        tracing::trace!(target: "consensus", view = self.replica.view(), ?effect);
        match effect {
            Effect::ScheduleTick { at_ms } => self.next_tick_ms = Some(at_ms),
            Effect::ViewTimedOut { view } => {
                self.shared.status.view_timeouts.fetch_add(1, Relaxed);
                tracing::debug!(target: "consensus", view, "view timed out: voting to skip it");
            }
            Effect::PersistVote(vote) => {
                // The one slow thing the voter does itself: a vote is durable before it
                // is sent (the double-sign protection across restarts).
                let storage = self.shared.storage.clone();
                tokio::task::spawn_blocking(move || storage.log_vote(vote.view, &vote.encode()))
                    .await??;
            }
            Effect::Broadcast(message) => self.broadcast(message).await,
            Effect::BuildBlock { view, parent, .. } => {
                self.building = Some(Building::WaitingForParent { view, parent });
                self.advance_build()?;
            }
            Effect::VerifyBlock { view, block } => {
                self.verifying.push((view, block));
                self.advance_verify()?;
            }
            Effect::Finalized {
                blocks,
                certificate,
            } => self.on_finalized(blocks, certificate)?,
            Effect::NeedAncestors {
                tip,
                finalized_height,
            } => {
                self.wanted_ancestors = Some((tip, finalized_height));
                self.advance_ancestors()?;
            }
            Effect::Evidence { first, second } => self.on_evidence(first, second),
            Effect::Halt { reason } => return Err(ConsensusError::Halted { reason }),
        }
        Ok(())
    }

    fn on_gossip(&mut self, gossip: ConsensusGossip) -> Result<(), ConsensusError> {
        tracing::trace!(target: "consensus", view = self.replica.view(), ?gossip, "received");
        let (inputs, block) = gossip_inputs(gossip, self.epoch);
        self.inputs.extend(inputs);
        if let Some((hash, block)) = block {
            self.keep_received(hash, block);
            self.advance_all()?;
        }
        Ok(())
    }

    fn keep_received(&mut self, hash: Hash, block: Arc<Block>) {
        if self.pending.contains_key(&hash) {
            return;
        }
        if self.received.len() >= MAX_RECEIVED_BLOCKS {
            let finalized = self.replica.finalized().height;
            self.received.retain(|_, b| b.header.height > finalized);
            if self.received.len() >= MAX_RECEIVED_BLOCKS {
                self.received.clear();
            }
        }
        self.received.insert(hash, block);
    }

    fn on_done(&mut self, done: Done) -> Result<(), ConsensusError> {
        match done {
            Done::Built { view, outcome } => {
                if matches!(self.building, Some(Building::InFlight { view: v }) if v == view) {
                    self.building = None;
                }
                match outcome {
                    Ok(built) => {
                        let built = *built;
                        for (hash, reason) in &built.rejected {
                            tracing::debug!(target: "consensus", %hash, %reason, "left out of the block");
                        }
                        let block = block_ref(&built.block.header);
                        self.add_pending(Arc::new(built.block), built.executed);
                        self.inputs.push_back(Input::Built { view, block });
                    }
                    Err(BuildFailure::Stopping) => {}
                    Err(error) => {
                        tracing::error!(target: "consensus", view, %error, "building failed; giving up the view");
                        self.inputs.push_back(Input::CannotPropose { view });
                    }
                }
            }
            Done::ClosingPaced { view, block } => {
                if matches!(self.building, Some(Building::InFlight { view: v }) if v == view) {
                    self.building = None;
                }
                self.inputs.push_back(Input::Built { view, block });
            }
            Done::Fetched { hash, block } => {
                self.fetching.remove(&hash);
                match block {
                    Some(block) => self.keep_received(hash, block),
                    None => {
                        self.unavailable.insert(hash, Instant::now());
                    }
                }
            }
            Done::Executed { block, outcome } => {
                let hash = block.header.hash();
                self.executing.remove(&hash);
                match outcome? {
                    Ok(executed) => self.add_pending(block, executed),
                    Err(rejection) => {
                        tracing::warn!(target: "consensus", %hash, %rejection, "invalid block");
                        self.rejected.insert(hash, (block.header.height, rejection));
                    }
                }
            }
            Done::Reported { offence, submitted } => {
                if !submitted {
                    self.reported.remove(&offence);
                }
            }
            Done::Committed { height } => self.on_head(height)?,
            Done::Synced { head } => {
                self.syncing = false;
                self.on_head(head)?;
                if head > self.replica.finalized().height {
                    // The replica is behind what the sync wrote: it starts again at the
                    // head, as a restarted node would.
                    self.restart_replica()?;
                }
            }
            Done::Failed(error) => return Err(error),
        }
        self.flush_backlog();
        self.advance_all()
    }

    /// The marshal moved the head to `height`.
    fn on_head(&mut self, height: u64) -> Result<(), ConsensusError> {
        if height > self.head.height {
            if let Some(header) = self.shared.storage.header(height)? {
                self.head = header;
            }
        }
        self.handed = self.handed.max(self.head.height);
        self.prune_pending(self.head.height);
        self.next_epoch_if_begun()
    }

    fn advance_all(&mut self) -> Result<(), ConsensusError> {
        self.advance_build()?;
        self.advance_verify()?;
        self.advance_finalizing()?;
        self.advance_ancestors()
    }

    /// Hands `job` to the marshal, or holds it back (in order) while its queue is full.
    fn hand_to_marshal(&mut self, job: Job) {
        if !self.marshal_backlog.is_empty() {
            self.marshal_backlog.push_back(job);
            return;
        }
        if let Err(mpsc::error::TrySendError::Full(job)) = self.marshal.try_send(job) {
            self.marshal_backlog.push_back(job);
        }
    }

    fn flush_backlog(&mut self) {
        while let Some(job) = self.marshal_backlog.pop_front() {
            if let Err(mpsc::error::TrySendError::Full(job)) = self.marshal.try_send(job) {
                self.marshal_backlog.push_front(job);
                return;
            }
        }
    }

    fn sync_to(&mut self, target: u64) {
        if !self.syncing {
            self.syncing = true;
            tracing::info!(target: "sync", target, "blocks missing; downloading final blocks");
            self.hand_to_marshal(Job::Sync { target });
        }
    }

    /// The pending blocks from the committed head up to `tip`, oldest first.
    fn ancestry(&self, tip: Hash) -> Vec<Arc<Pending>> {
        let mut chain = Vec::new();
        let mut cursor = tip;
        while let Some(block) = self.pending.get(&cursor) {
            chain.push(block.clone());
            cursor = block.block.header.parent_hash;
        }
        chain.reverse();
        chain
    }

    /// Where `target` (at `height`) stands, starting what it needs (a fetch, an execution).
    fn resolve(&mut self, target: Hash, height: u64) -> Result<Resolution, ConsensusError> {
        let head_hash = self.head.hash();
        // Walking back one fetch at a time would take a round trip per block, only to
        // give up at the limit: a node this far behind downloads by height at once.
        if height > self.head.height + MAX_FETCH_BY_HASH as u64
            && !self.pending.contains_key(&target)
        {
            return Ok(Resolution::FarAhead);
        }
        let mut missing: Vec<Arc<Block>> = Vec::new();
        let mut cursor = target;
        while cursor != head_hash && !self.pending.contains_key(&cursor) {
            if let Some((_, rejection)) = self.rejected.get(&cursor) {
                return Ok(Resolution::Invalid(if cursor == target {
                    rejection.clone()
                } else {
                    Rejection::InvalidAncestor { ancestor: cursor }
                }));
            }
            if missing.len() >= MAX_FETCH_BY_HASH {
                return Ok(Resolution::Unavailable);
            }
            let Some(block) = self.received.get(&cursor).cloned() else {
                if self.fetching.contains(&cursor) {
                    return Ok(Resolution::Waiting);
                }
                if self
                    .unavailable
                    .get(&cursor)
                    .is_some_and(|since| since.elapsed() < UNAVAILABLE_FOR)
                {
                    return Ok(Resolution::Unavailable);
                }
                self.fetch(cursor);
                return Ok(Resolution::Waiting);
            };
            if block.header.height <= self.head.height {
                let rejection = Rejection::DoesNotExtend {
                    height: block.header.height,
                    final_hash: head_hash,
                    final_height: self.head.height,
                };
                self.rejected
                    .insert(cursor, (block.header.height, rejection.clone()));
                return Ok(Resolution::Invalid(rejection));
            }
            cursor = block.header.parent_hash;
            missing.push(block);
        }
        // The oldest missing block's parent is executed here: execute it next.
        match missing.pop() {
            None => Ok(Resolution::Ready),
            Some(block) => {
                self.execute(block);
                Ok(Resolution::Waiting)
            }
        }
    }

    fn fetch(&mut self, hash: Hash) {
        let Some(network) = self.shared.network.clone() else {
            self.unavailable.insert(hash, Instant::now());
            return;
        };
        self.fetching.insert(hash);
        let done = self.done_sender.clone();
        tokio::spawn(async move {
            let block = resolver::fetch_block(network, hash).await;
            let _ = done.send(Done::Fetched { hash, block }).await;
        });
    }

    fn execute(&mut self, block: Arc<Block>) {
        let hash = block.header.hash();
        if !self.executing.insert(hash) {
            return;
        }
        let job = Execution {
            storage: self.shared.storage.clone(),
            layers: self.ancestry(block.header.parent_hash),
            block: block.clone(),
            signing: self.shared.signing,
            keys: self.shared.keys.clone(),
            checked: self.shared.checked.clone(),
            epoch: self.epoch,
            status: self.shared.status.clone(),
        };
        let done = self.done_sender.clone();
        tokio::spawn(async move {
            let outcome = executor::execute(job).await;
            let _ = done.send(Done::Executed { block, outcome }).await;
        });
    }

    /// If a block on `parent` (executed here) would be past the end of the running epoch,
    /// the epoch's last block: then only a closing block may follow.
    fn epoch_end_after(&self, parent: Hash) -> Result<Option<Hash>, ConsensusError> {
        if let Some(last) = self.closing.get(&parent) {
            return Ok(Some(*last));
        }
        let layers = self.ancestry(parent);
        let (state, tip) = staged_on(&self.shared.storage, &layers)?;
        let (next_epoch, _) = wijk_validators::set_for_height(&state, tip.height + 1)?;
        Ok((next_epoch != self.epoch).then_some(parent))
    }

    fn advance_build(&mut self) -> Result<(), ConsensusError> {
        let Some(Building::WaitingForParent { view, parent }) = self.building else {
            return Ok(());
        };
        if view != self.replica.view() {
            self.building = None;
            return Ok(());
        }
        if !self.closing.contains_key(&parent.hash) {
            match self.resolve(parent.hash, parent.height)? {
                Resolution::Ready => {}
                Resolution::Waiting => return Ok(()),
                Resolution::Unavailable | Resolution::FarAhead | Resolution::Invalid(_) => {
                    // Still catching up: give the view up now rather than let it time out.
                    tracing::info!(target: "consensus", view, parent = %parent.hash, "cannot build: the parent is not executed here; giving up the view");
                    self.building = None;
                    self.inputs.push_back(Input::CannotPropose { view });
                    return Ok(());
                }
            }
        }
        self.building = Some(Building::InFlight { view });
        let done = self.done_sender.clone();
        let mut shutdown = self.shutdown.clone();
        let block_time = Duration::from_millis(self.shared.block_time_ms);
        if let Some(last) = self.epoch_end_after(parent.hash)? {
            // Past the end of the epoch only a closing block may be proposed, paced like
            // blocks so a stuck epoch end does not spin through views.
            let height = parent.height + 1;
            let hash = closing_block_hash(last, height);
            self.closing.insert(hash, last);
            tracing::info!(target: "consensus", view, height, "proposing a closing block: the epoch ends at #{}", height - 1);
            let block = BlockRef {
                hash,
                height,
                parent: parent.hash,
            };
            tokio::spawn(async move {
                if builder::pause(block_time, &mut shutdown).await.is_ok() {
                    let _ = done.send(Done::ClosingPaced { view, block }).await;
                }
            });
            return Ok(());
        }
        let Some(proposer) = self.shared.key.as_ref().map(Keypair::account_id) else {
            return Ok(());
        };
        let parent_timestamp_ms = match self.pending.get(&parent.hash) {
            Some(pending) => pending.block.header.timestamp_ms,
            None => self.head.timestamp_ms,
        };
        let job = Build {
            storage: self.shared.storage.clone(),
            pool: self.shared.pool.clone(),
            layers: self.ancestry(parent.hash),
            parent: parent.hash,
            parent_timestamp_ms,
            block_time_ms: self.shared.block_time_ms,
            proposer,
            signing: self.shared.signing,
            shutdown,
        };
        tokio::spawn(async move {
            let outcome = builder::build(job).await.map(Box::new);
            let _ = done.send(Done::Built { view, outcome }).await;
        });
        Ok(())
    }

    /// The verdict on a proposal, once it can be given.
    fn verdict(&mut self, block: BlockRef) -> Result<Option<bool>, ConsensusError> {
        if self.closing.contains_key(&block.hash) {
            return Ok(Some(true));
        }
        match self.resolve(block.parent, block.height.saturating_sub(1))? {
            Resolution::Ready => {}
            // Syncing is the way forward (the finalized blocks start it); no verdict.
            Resolution::Waiting | Resolution::FarAhead => return Ok(None),
            Resolution::Unavailable => {
                tracing::warn!(target: "consensus", hash = %block.hash, "cannot check the proposal: its parent is not to be had");
                return Ok(None);
            }
            Resolution::Invalid(rejection) => {
                tracing::warn!(target: "consensus", hash = %block.hash, %rejection, "invalid proposal: its parent is invalid");
                return Ok(Some(false));
            }
        }
        if let Some(last) = self.epoch_end_after(block.parent)? {
            if block.hash == closing_block_hash(last, block.height) {
                self.closing.insert(block.hash, last);
                return Ok(Some(true));
            }
            tracing::warn!(target: "consensus", hash = %block.hash, rejection = %Rejection::NotClosing { height: block.height }, "invalid proposal");
            return Ok(Some(false));
        }
        Ok(match self.resolve(block.hash, block.height)? {
            Resolution::Ready => Some(true),
            Resolution::Waiting | Resolution::FarAhead => None,
            Resolution::Unavailable => {
                tracing::warn!(target: "consensus", hash = %block.hash, "cannot check the proposal: no peer has it");
                None
            }
            Resolution::Invalid(rejection) => {
                tracing::warn!(target: "consensus", hash = %block.hash, %rejection, "invalid proposal");
                Some(false)
            }
        })
    }

    fn advance_verify(&mut self) -> Result<(), ConsensusError> {
        let current = self.replica.view();
        let mut still = Vec::new();
        for (view, block) in std::mem::take(&mut self.verifying) {
            if view < current {
                continue;
            }
            match self.verdict(block)? {
                Some(valid) => self
                    .inputs
                    .push_back(Input::Verified { view, block, valid }),
                // Waiting, or nothing to be had now: a block that arrives later (gossip, a
                // fetch) brings it back through `advance_all`.
                None => {
                    if !self.unavailable.contains_key(&block.hash) {
                        still.push((view, block));
                    }
                }
            }
        }
        self.verifying.extend(still);
        Ok(())
    }

    fn on_finalized(
        &mut self,
        blocks: Vec<BlockRef>,
        certificate: FinalityCertificate,
    ) -> Result<(), ConsensusError> {
        self.shared
            .status
            .certificate_signers
            .store(certificate.signatures.len() as u64, Relaxed);
        let blocks = without_closing_blocks(blocks, &self.closing);
        // Blocks this node already has (synced meanwhile) must be the same blocks.
        for block in blocks.iter().filter(|b| b.height <= self.head.height) {
            let ours = self.shared.storage.header(block.height)?.map(|h| h.hash());
            if ours != Some(block.hash) {
                return Err(ConsensusError::FinalConflict {
                    hash: block.hash,
                    height: block.height,
                    ours,
                });
            }
        }
        let new: Vec<BlockRef> = blocks
            .into_iter()
            .filter(|b| b.height > self.handed)
            .collect();
        if !new.is_empty() {
            self.finalizing.push_back((new, certificate));
        }
        self.advance_finalizing()
    }

    fn advance_finalizing(&mut self) -> Result<(), ConsensusError> {
        while let Some((run, _)) = self.finalizing.front() {
            let run: Vec<BlockRef> = run
                .iter()
                .copied()
                .filter(|b| b.height > self.handed)
                .collect();
            let Some(tip) = run.last().copied() else {
                self.finalizing.pop_front();
                continue;
            };
            match self.resolve(tip.hash, tip.height)? {
                Resolution::Ready => {
                    let blocks = run
                        .iter()
                        .map(|block| {
                            self.pending
                                .get(&block.hash)
                                .cloned()
                                .ok_or(ConsensusError::NotExecuted { hash: block.hash })
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    let Some((_, certificate)) = self.finalizing.pop_front() else {
                        break;
                    };
                    self.handed = tip.height;
                    self.hand_to_marshal(Job::Commit {
                        run: blocks,
                        certificate,
                    });
                }
                Resolution::Waiting => break,
                Resolution::Invalid(rejection) => {
                    return Err(ConsensusError::FinalBlockInvalid {
                        hash: tip.hash,
                        height: tip.height,
                        rejection: Box::new(rejection),
                    })
                }
                Resolution::Unavailable | Resolution::FarAhead => {
                    tracing::info!(target: "sync", height = tip.height, "final block not to be had by hash; downloading");
                    self.finalizing.pop_front();
                    self.sync_to(tip.height);
                }
            }
        }
        Ok(())
    }

    /// A certificate finalized a block whose ancestry back to the replica's finalized
    /// block is unknown: once it is executed here, tell the replica the parent links.
    fn advance_ancestors(&mut self) -> Result<(), ConsensusError> {
        let Some((tip, finalized_height)) = self.wanted_ancestors else {
            return Ok(());
        };
        match self.resolve(tip.hash, tip.height)? {
            Resolution::Ready => {
                self.wanted_ancestors = None;
                let mut links = Vec::new();
                for height in finalized_height + 1..=self.head.height.min(tip.height) {
                    if let Some(header) = self.shared.storage.header(height)? {
                        links.push(block_ref(&header));
                    }
                }
                links.extend(
                    self.ancestry(tip.hash)
                        .iter()
                        .map(|p| block_ref(&p.block.header)),
                );
                if !links.is_empty() {
                    self.inputs.push_back(Input::Ancestors(links));
                }
            }
            Resolution::Waiting => {}
            Resolution::Unavailable | Resolution::FarAhead | Resolution::Invalid(_) => {
                // Far behind: download the final chain; the replica restarts at its head.
                self.wanted_ancestors = None;
                self.sync_to(tip.height);
            }
        }
        Ok(())
    }

    /// Sends a consensus message to every peer. Our own proposal goes with its block and
    /// the certificates that justify its parent.
    async fn broadcast(&self, message: Message) {
        let Some(network) = &self.shared.network else {
            return;
        };
        let gossip = match message {
            Message::Vote(vote) => match (vote.vote.kind, &self.shared.key) {
                (VoteKind::Notarize { block, parent_view }, Some(key))
                    if vote.signer == key.account_id()
                        && self.replica.leader(vote.vote.view) == vote.signer =>
                {
                    let justification = self.replica.justification(vote.vote.view, parent_view);
                    match self.pending.get(&block.hash) {
                        Some(pending) => ConsensusGossip::Proposal {
                            vote,
                            block: Box::new((*pending.block).clone()),
                            justification,
                        },
                        None if self.closing.contains_key(&block.hash) => {
                            ConsensusGossip::ClosingProposal {
                                vote,
                                justification,
                            }
                        }
                        None => ConsensusGossip::Message(Message::Vote(vote)),
                    }
                }
                _ => ConsensusGossip::Message(Message::Vote(vote)),
            },
            other => ConsensusGossip::Message(other),
        };
        if network
            .publish(Topic::Consensus, gossip.encode())
            .await
            .is_err()
        {
            tracing::debug!(target: "consensus", "network stopped; message not sent");
        }
    }

    fn add_pending(&mut self, block: Arc<Block>, executed: ExecutedBlock) {
        let hash = block.header.hash();
        let height = block.header.height;
        if height <= self.head.height {
            return;
        }
        self.shared.recent.lock().insert(hash, block.clone());
        self.received.remove(&hash);
        self.pending
            .insert(hash, Arc::new(Pending { block, executed }));
        self.shared.status.best_height.fetch_max(height, Relaxed);
    }

    /// Forgets what is final (or conflicts with what is): everything at or below `height`.
    fn prune_pending(&mut self, height: u64) {
        self.pending.retain(|_, p| p.block.header.height > height);
        self.received.retain(|_, b| b.header.height > height);
        self.rejected.retain(|_, (h, _)| *h > height);
        self.unavailable
            .retain(|_, since| since.elapsed() < UNAVAILABLE_FOR);
        self.shared
            .recent
            .lock()
            .retain(|_, b| b.header.height > height);
    }

    /// After a commit or a sync: if the chain entered a new epoch, replaces the replica
    /// with one for the new validator set.
    fn next_epoch_if_begun(&mut self) -> Result<(), ConsensusError> {
        // Called after every commit: read one state key, and the vote log only on a change.
        let (epoch, _) =
            wijk_validators::set_for_height(self.shared.storage.as_ref(), self.head.height + 1)?;
        if epoch != self.epoch {
            self.restart_replica()?;
        }
        Ok(())
    }

    /// A fresh replica at the committed head (a new epoch, or after a sync).
    fn restart_replica(&mut self) -> Result<(), ConsensusError> {
        let start = restart_point(&self.shared.storage)?;
        if start.epoch != self.epoch {
            tracing::info!(target: "consensus", "epoch {} begins after block #{}", start.epoch, start.restart.finalized.height);
        }
        self.epoch = start.epoch;
        self.replica = new_replica(&self.shared, start);
        // What the old replica asked for is moot.
        self.closing.clear();
        self.inputs.clear();
        self.inputs.push_back(Input::Tick);
        self.building = None;
        self.verifying.clear();
        self.wanted_ancestors = None;
        let head = self.head.height;
        self.finalizing
            .retain(|(run, _)| run.last().is_some_and(|b| b.height > head));
        Ok(())
    }

    fn on_evidence(&mut self, first: SignedVote, second: SignedVote) {
        self.shared.status.equivocations.fetch_add(1, Relaxed);
        tracing::warn!(target: "consensus", signer = ?first.signer, view = first.vote.view, ?first, ?second, "validator signed conflicting votes");
        let Some(key) = self.shared.key.clone() else {
            return;
        };
        let offence = (first.signer, first.vote.view);
        if !self.reported.insert(offence) {
            return;
        }
        if first.signer == key.account_id() {
            tracing::error!(target: "consensus", view = first.vote.view, "this validator's key signed a vote that conflicts with this node's: the key runs on another node too; stop one of them");
        }
        let job = evidence::Report {
            key,
            storage: self.shared.storage.clone(),
            pool: self.shared.pool.clone(),
            signing: self.shared.signing,
            valid_until: self.replica.finalized().height + 600,
            first,
            second,
        };
        let done = self.done_sender.clone();
        tokio::spawn(async move {
            let submitted = evidence::report(job).await;
            let _ = done.send(Done::Reported { offence, submitted }).await;
        });
    }

    /// When nothing was finalized for a while, asks the marshal to find out how far peers
    /// are and download what is missing. Certificates of an epoch this node has not reached
    /// are signed by a set it does not know yet and are refused, so this is how a node that
    /// fell more than an epoch behind (or starts from an empty database) catches up.
    async fn catch_up_if_stalled(&mut self) {
        let head = self.head.height;
        let patience = Duration::from_millis(view_timeout_ms(self.shared.block_time_ms) * 2);
        if head != self.stalled.0 {
            self.stalled = (head, Instant::now());
            self.reconnect_after = (patience * 2, Instant::now());
            return;
        }
        if self.stalled.1.elapsed() < patience {
            return;
        }
        self.stalled.1 = Instant::now();
        // Connected but deaf (a connection whose inbound side stopped, seen in tests about
        // once in ten runs): fresh connections cost a few seconds and cure it. A network
        // that is truly halted (too few validators up) pays this with growing pauses.
        let (after, since) = self.reconnect_after;
        if since.elapsed() >= after.max(patience * 2) {
            if let Some(network) = &self.shared.network {
                tracing::warn!(target: "network", "nothing finalized for {:?}; renewing connections", since.elapsed());
                let _ = network.reconnect().await;
            }
            self.reconnect_after = ((after * 2).min(Duration::from_secs(60)), Instant::now());
        }
        if !self.syncing && self.shared.network.is_some() {
            self.syncing = true;
            self.hand_to_marshal(Job::CatchUp);
        }
    }
}
