//! The consensus actor: drives the BFT [`Replica`] and carries out its effects. It logs
//! each vote (synced) before it is sent, builds blocks from the pool when this validator
//! leads a view, gossips proposals with their block, executes other leaders' proposals on
//! their (possibly not yet final) parents, commits what becomes final, and catches up from
//! peers when it finds itself behind. Full nodes run it too, without a key: they never
//! sign, and follow by certificates and sync.
//!
//! Blocks built or verified but not final yet are kept in memory; a proposal on top of one
//! executes through [`StagedState`] layers, so the database only ever holds final blocks.
//!
//! **Epochs.** The validator set is read from state, not from the spec. When a scheduled
//! change is about to take effect, the old set's chain ends at the block before the
//! activation height: a proposal past it can only be a *closing block* (no body, a derived
//! hash), which lets the old set keep voting until that last block is final. Once it is
//! committed, the actor starts a fresh replica for the new set at the new epoch's base
//! view (see [`wijk_primitives::vote`]); closing blocks are never committed. Votes and
//! certificates of any other epoch are dropped on arrival: signatures of the old set
//! (removed validators included) never finalize a new-epoch block here. A node that falls
//! an epoch behind catches up by sync, which checks every block against the set in state.

use crate::node::ServiceError;
use crate::protocol::{ConsensusGossip, SyncRequest, SyncResponse, MAX_BLOCKS_PER_ANSWER};
use parity_scale_codec::Encode;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{broadcast, mpsc, watch};
use wijk_consensus::{BlockRef, Config, Effect, Input, Message, Replica, Restart, Vote, VoteKind};
use wijk_network::{NetworkHandle, PeerId, Topic};
use wijk_primitives::{
    closing_block_hash, decode_bounded, epoch_base_view, epoch_of_view, AccountId,
    FinalityCertificate, Hash, Header, KeyCache, Keypair, SignedVote, SigningContext, TimestampMs,
};
use wijk_rpc::NodeStatus;
use wijk_runtime::{
    build_block, check_signatures_skipping, execute_checked_block, Block, BuiltBlock,
    ExecutedBlock, StagedBlock, StagedState,
};
use wijk_storage::{CommittedBlock, Storage};
use wijk_txpool::PoolMailbox;

/// How many missing blocks a node fetches one by one (by hash) before it falls back to
/// downloading finalized blocks by height.
const MAX_FETCH_BY_HASH: usize = 64;
/// How long to wait for one peer's answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// Proposals received but not executed yet, kept for later verification.
const MAX_RECEIVED_BLOCKS: usize = 256;

/// What the consensus actor needs.
pub struct AuthorContext {
    /// The database.
    pub storage: Arc<Storage>,
    /// The pool.
    pub pool: PoolMailbox,
    /// Where to announce committed blocks.
    pub committed: broadcast::Sender<CommittedBlock>,
    /// The validator key; `None` for a full node. A key outside the current validator set
    /// (read from state) signs nothing until a set change brings it in.
    pub key: Option<Keypair>,
    /// The chain's signing context.
    pub signing: SigningContext,
    /// Target time between blocks.
    pub block_time_ms: u64,
    /// Set to true to stop.
    pub shutdown: watch::Receiver<bool>,
    /// The network, if this node has peers.
    pub network: Option<NetworkHandle>,
    /// Consensus gossip from peers.
    pub inbox: mpsc::Receiver<ConsensusGossip>,
    /// Non-final blocks, shared with the network so peers can fetch them.
    pub recent: RecentBlocks,
    /// Progress for RPC and metrics.
    pub status: Arc<NodeStatus>,
}

/// Blocks executed here but not final yet, readable by the network side to answer peers.
#[derive(Clone, Default)]
pub struct RecentBlocks(Arc<Mutex<HashMap<Hash, Arc<Block>>>>);

impl RecentBlocks {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Hash, Arc<Block>>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The block with this hash, if it is recent.
    pub fn get(&self, hash: &Hash) -> Option<Arc<Block>> {
        self.lock().get(hash).cloned()
    }
}

/// How long a view may take before a validator votes to skip it: several block times, and
/// never less than two seconds. Building and executing a full block takes time, and under
/// load it grows towards a second on a small machine. A view skipped then throws away the
/// work of every validator on its block, and the next blocks come bigger and slower still.
/// Measured with four validators on two cores: at 5,500 tx/s offered, a one-second timeout
/// collapsed finality to 4,000-4,400 tx/s at 1 block/s; with two seconds it held
/// 5,214 tx/s. (Both figures predate the fix that gives each view its full timeout from
/// when it is entered, so part of that gain was the fix's.) A crashed leader costs this
/// long per view it leads.
pub fn view_timeout_ms(block_time_ms: u64) -> u64 {
    block_time_ms.saturating_mul(3).max(2_000)
}

/// Most transactions a leader puts in one block: ten per millisecond since its parent (far
/// above the pool's steady rate), counting at least one block time and at most two.
///
/// Why it follows the time since the parent: under load blocks come slower than the
/// block time, and a fixed budget then caps throughput at budget x blocks per second
/// while the pool backs up. Why it stops at two block times: every validator must check
/// and execute a block well within a view timeout (a full 20,000-transaction block takes
/// longer than a view on a small machine, and the view is then skipped).
fn block_transaction_budget(block_time_ms: u64, since_parent_ms: u64) -> usize {
    let window_ms = since_parent_ms.clamp(block_time_ms, block_time_ms.saturating_mul(2));
    (window_ms.saturating_mul(10) as usize).clamp(500, wijk_runtime::MAX_BLOCK_TRANSACTIONS)
}

fn now_ms() -> TimestampMs {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as TimestampMs)
        .unwrap_or(0)
}

fn fatal(reason: impl std::fmt::Display) -> ServiceError {
    ServiceError::Author {
        reason: reason.to_string(),
    }
}

/// A block built or verified here, not final yet.
struct Pending {
    block: Arc<Block>,
    executed: ExecutedBlock,
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
fn restart_point(storage: &Storage) -> Result<EpochStart, ServiceError> {
    let head = storage
        .best_header()?
        .ok_or_else(|| fatal("no genesis in storage"))?;
    let (epoch, validators) =
        wijk_validators::set_for_height(storage, head.height + 1).map_err(fatal)?;
    let certified_view = storage.certificate(head.height)?.map_or(0, |c| c.view);
    let finalized_view = certified_view.max(epoch_base_view(epoch));
    let signed_votes = storage
        .logged_votes()?
        .iter()
        .map(|bytes| decode_bounded::<Vote>("logged vote", bytes, 4096))
        .filter(|vote| vote.as_ref().map_or(true, |v| v.view > finalized_view))
        .collect::<Result<_, _>>()
        .map_err(|error| fatal(format!("the vote log is corrupt: {error}")))?;
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
fn new_replica(ctx: &AuthorContext, start: EpochStart) -> Replica {
    let signer = ctx
        .key
        .clone()
        .filter(|key| start.validators.contains(&key.account_id()));
    tracing::info!(
        target: "consensus",
        "{} in epoch {} (validators: {}) resumes after block #{} (view {}), {} logged votes",
        match (&signer, &ctx.key) {
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
            genesis_hash: ctx.signing.genesis_hash,
            validators: start.validators,
            key: signer,
            view_timeout_ms: view_timeout_ms(ctx.block_time_ms),
        },
        start.restart,
    )
}

fn block_ref(header: &Header) -> BlockRef {
    BlockRef {
        hash: header.hash(),
        height: header.height,
        parent: header.parent_hash,
    }
}

/// The state after the last of `layers` (pending blocks above the final head, oldest
/// first), and the header whose post-state it is: where a block is built or executed.
fn staged_on<'a>(
    storage: &'a Storage,
    layers: &'a [Arc<Pending>],
) -> Result<(StagedState<'a, Storage>, Header), String> {
    let tip = match layers.last() {
        Some(layer) => layer.block.header.clone(),
        None => storage
            .best_header()
            .map_err(|e| e.to_string())?
            .ok_or("no genesis in storage")?,
    };
    let mut state = StagedState::new(storage);
    for layer in layers {
        state.push(StagedBlock {
            height: layer.block.header.height,
            executed: &layer.executed,
        });
    }
    Ok((state, tip))
}

/// Runs until shutdown or an unrecoverable error.
pub async fn run(ctx: AuthorContext) -> Result<(), ServiceError> {
    let start = restart_point(&ctx.storage)?;
    let epoch = start.epoch;
    let replica = new_replica(&ctx, start);
    Actor {
        ctx,
        replica,
        epoch,
        closing: HashMap::new(),
        reported: HashSet::new(),
        stalled: (0, Instant::now()),
        reconnect_after: (Duration::ZERO, Instant::now()),
        keys: Arc::new(KeyCache::default()),
        pending: BTreeMap::new(),
        received: HashMap::new(),
        inputs: VecDeque::from([Input::Tick]),
        next_tick_ms: None,
    }
    .run()
    .await
}

/// Whether the actor goes on after an effect.
enum Flow {
    Continue,
    /// A new epoch's replica replaced the one whose effects were being carried out.
    NewEpoch,
    Stop,
}

struct Actor {
    ctx: AuthorContext,
    replica: Replica,
    /// The epoch the replica runs.
    epoch: u64,
    /// Closing blocks proposed or checked in this epoch, with the epoch's last block.
    closing: HashMap<Hash, Hash>,
    /// Equivocations already reported by this validator.
    reported: HashSet<(AccountId, u64)>,
    /// The finalized height and since when it has not moved (or peers were last asked).
    stalled: (u64, Instant),
    /// When nothing is finalized for this long, connections are renewed (doubling each
    /// time, reset by progress).
    reconnect_after: (Duration, Instant),
    /// Decoded keys of recent signers, for checking proposals' signatures.
    keys: Arc<KeyCache>,
    pending: BTreeMap<Hash, Arc<Pending>>,
    /// Proposed blocks from peers, not executed yet.
    received: HashMap<Hash, Arc<Block>>,
    inputs: VecDeque<Input>,
    next_tick_ms: Option<TimestampMs>,
}

impl Actor {
    async fn run(mut self) -> Result<(), ServiceError> {
        loop {
            while let Some(input) = self.inputs.pop_front() {
                for effect in self.replica.on_input(now_ms(), input) {
                    if *self.ctx.shutdown.borrow() {
                        return Ok(());
                    }
                    match self.on_effect(effect).await? {
                        Flow::Continue => {}
                        // The old replica's remaining effects are moot.
                        Flow::NewEpoch => break,
                        Flow::Stop => return Ok(()),
                    }
                }
            }
            self.ctx.status.view.store(self.replica.view(), Relaxed);
            let wait = self.next_tick_ms.map_or(Duration::from_secs(1), |at| {
                Duration::from_millis(at.saturating_sub(now_ms()))
            });
            tokio::select! {
                _ = tokio::time::sleep(wait) => {
                    self.inputs.push_back(Input::Tick);
                    self.catch_up_if_stalled().await?;
                }
                gossip = self.ctx.inbox.recv() => match gossip {
                    Some(gossip) => self.on_gossip(gossip),
                    None => return Ok(()),
                },
                _ = self.ctx.shutdown.changed() => return Ok(()),
            }
        }
    }

    fn on_gossip(&mut self, gossip: ConsensusGossip) {
        tracing::trace!(target: "consensus", view = self.replica.view(), ?gossip, "received");
        let (inputs, block) = gossip_inputs(gossip, self.epoch);
        if let Some((hash, block)) = block {
            if self.received.len() >= MAX_RECEIVED_BLOCKS {
                let finalized = self.replica.finalized().height;
                self.received.retain(|_, b| b.header.height > finalized);
                if self.received.len() >= MAX_RECEIVED_BLOCKS {
                    self.received.clear();
                }
            }
            self.received.insert(hash, block);
        }
        self.inputs.extend(inputs);
    }

    async fn on_effect(&mut self, effect: Effect) -> Result<Flow, ServiceError> {
        tracing::trace!(target: "consensus", view = self.replica.view(), ?effect);
        match effect {
            Effect::ScheduleTick { at_ms } => self.next_tick_ms = Some(at_ms),
            Effect::PersistVote(vote) => {
                let storage = self.ctx.storage.clone();
                tokio::task::spawn_blocking(move || storage.log_vote(vote.view, &vote.encode()))
                    .await
                    .map_err(fatal)??;
            }
            Effect::Broadcast(message) => self.broadcast(message).await,
            Effect::BuildBlock {
                view,
                parent,
                parent_view: _,
            } => {
                // The parent may have been proposed while this node was away.
                let anchor = match self.ensure_parent(&parent).await {
                    Ok(anchor) => anchor,
                    Err(reason) => {
                        tracing::warn!(target: "consensus", view, reason = %reason.text(), "cannot build: the parent is not available");
                        return Ok(Flow::Continue);
                    }
                };
                // Past the end of the epoch only a closing block may be proposed.
                if let Some(last) = anchor {
                    // Paced like blocks, so a stuck epoch end does not spin through views.
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_millis(self.ctx.block_time_ms)) => {}
                        _ = self.ctx.shutdown.changed() => return Ok(Flow::Stop),
                    }
                    let height = parent.height + 1;
                    let hash = closing_block_hash(last, height);
                    self.closing.insert(hash, last);
                    tracing::info!(target: "consensus", view, height, "proposing a closing block: the epoch ends at #{}", height - 1);
                    self.inputs.push_back(Input::Built {
                        view,
                        block: BlockRef {
                            hash,
                            height,
                            parent: parent.hash,
                        },
                    });
                    return Ok(Flow::Continue);
                }
                // Pace the chain, whoever leads: a block time after the parent.
                let parent_time = match self.pending.get(&parent.hash) {
                    Some(pending) => pending.block.header.timestamp_ms,
                    None => self.head()?.timestamp_ms,
                };
                let wait = (parent_time + self.ctx.block_time_ms).saturating_sub(now_ms());
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
                    _ = self.ctx.shutdown.changed() => return Ok(Flow::Stop),
                }
                let timestamp_ms = now_ms().max(parent_time + 1);
                match self.build(parent, parent_time, timestamp_ms).await {
                    Ok(built) => {
                        for (hash, reason) in &built.rejected {
                            tracing::debug!(target: "consensus", %hash, %reason, "left out of the block");
                        }
                        let block = block_ref(&built.block.header);
                        self.add_pending(Arc::new(built.block), built.executed);
                        self.inputs.push_back(Input::Built { view, block });
                    }
                    // No answer: the view times out and the next leader tries.
                    Err(reason) => {
                        tracing::error!(target: "consensus", view, %reason, "building failed")
                    }
                }
            }
            Effect::VerifyBlock { view, block } => match self.verify(block).await {
                Ok(()) => self.inputs.push_back(Input::Verified {
                    view,
                    block,
                    valid: true,
                }),
                Err(Missing::Invalid(reason)) => {
                    tracing::warn!(target: "consensus", view, hash = %block.hash, %reason, "invalid proposal");
                    self.inputs.push_back(Input::Verified {
                        view,
                        block,
                        valid: false,
                    });
                }
                // No answer: without the block this validator cannot vote for it.
                Err(Missing::Unavailable(reason)) => {
                    tracing::warn!(target: "consensus", view, hash = %block.hash, %reason, "cannot check the proposal")
                }
            },
            Effect::Finalized {
                blocks,
                certificate,
            } => {
                self.on_finalized(blocks, certificate).await?;
                return self.next_epoch_if_begun();
            }
            Effect::NeedAncestors {
                tip,
                finalized_height,
            } => {
                self.on_need_ancestors(tip, finalized_height).await?;
                return self.next_epoch_if_begun();
            }
            Effect::Evidence { first, second } => {
                self.ctx.status.equivocations.fetch_add(1, Relaxed);
                tracing::warn!(target: "consensus", signer = ?first.signer, view = first.vote.view, ?first, ?second, "validator signed conflicting votes");
                self.report_equivocation(first, second).await;
            }
            Effect::Halt { reason } => return Err(fatal(reason)),
        }
        Ok(Flow::Continue)
    }

    /// Sends a consensus message to every peer. Our own proposal goes with its block and
    /// the certificates that justify its parent.
    async fn broadcast(&self, message: Message) {
        let Some(network) = &self.ctx.network else {
            return;
        };
        let gossip = match message {
            Message::Vote(vote) => match (vote.vote.kind, &self.ctx.key) {
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
        self.ctx.recent.lock().insert(hash, block.clone());
        self.pending
            .insert(hash, Arc::new(Pending { block, executed }));
        self.ctx.status.best_height.fetch_max(height, Relaxed);
    }

    /// Forgets what is final (or conflicts with what is): everything at or below `height`.
    fn prune_pending(&mut self, height: u64) {
        self.pending.retain(|_, p| p.block.header.height > height);
        self.received.retain(|_, b| b.header.height > height);
        self.ctx
            .recent
            .lock()
            .retain(|_, b| b.header.height > height);
    }

    fn head(&self) -> Result<Header, ServiceError> {
        self.ctx
            .storage
            .best_header()?
            .ok_or_else(|| fatal("no genesis in storage"))
    }

    /// The not-yet-final blocks from the finalized head up to `tip`, oldest first.
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

    async fn build(
        &self,
        parent: BlockRef,
        parent_timestamp_ms: TimestampMs,
        timestamp_ms: TimestampMs,
    ) -> Result<BuiltBlock, String> {
        let layers = self.ancestry(parent.hash);
        // The pool keeps transactions until they are final: tell it which nonces the
        // not-yet-final ancestors used, so it offers only what they do not hold.
        let mut pending_next: HashMap<AccountId, u64> = HashMap::new();
        for layer in &layers {
            for transaction in &layer.block.transactions {
                let next = pending_next.entry(transaction.signer).or_default();
                *next = (*next).max(transaction.nonce + 1);
            }
        }
        let budget = block_transaction_budget(
            self.ctx.block_time_ms,
            timestamp_ms.saturating_sub(parent_timestamp_ms),
        );
        let candidates = self
            .ctx
            .pool
            .candidates(budget, pending_next)
            .await
            .map_err(|e| e.to_string())?;
        let storage = self.ctx.storage.clone();
        let proposer = self
            .ctx
            .key
            .as_ref()
            .ok_or("a full node does not build blocks")?
            .account_id();
        let signing = self.ctx.signing;
        tokio::task::spawn_blocking(move || {
            let (state, parent_header) = staged_on(&storage, &layers)?;
            if parent_header.hash() != parent.hash {
                return Err(format!(
                    "asked to build on {}, which is neither final nor pending here",
                    parent.hash
                ));
            }
            build_block(
                &state,
                &state,
                &parent_header,
                signing.genesis_hash,
                timestamp_ms,
                proposer,
                candidates,
            )
            .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// Makes sure the block `hash` is executed here: takes it (and any missing ancestors
    /// back to a block this node has) from received proposals or from peers, and executes
    /// them in order on their parents.
    async fn ensure_executed(&mut self, hash: Hash) -> Result<(), Missing> {
        let head = self
            .head()
            .map_err(|e| Missing::Unavailable(e.to_string()))?;
        let head_hash = head.hash();
        let mut missing = Vec::new();
        let mut cursor = hash;
        while cursor != head_hash && !self.pending.contains_key(&cursor) {
            if missing.len() >= MAX_FETCH_BY_HASH {
                return Err(Missing::Unavailable(format!(
                    "more than {MAX_FETCH_BY_HASH} blocks missing; waiting for sync"
                )));
            }
            let block = match self.received.get(&cursor) {
                Some(block) => block.clone(),
                None => self.fetch_block(cursor).await?,
            };
            if block.header.height <= head.height {
                return Err(Missing::Invalid(format!(
                    "block {cursor} at height {} does not extend the final block {head_hash}",
                    block.header.height
                )));
            }
            cursor = block.header.parent_hash;
            missing.push(block);
        }
        for block in missing.into_iter().rev() {
            let executed = self.execute(block.clone()).await?;
            self.add_pending(block, executed);
        }
        Ok(())
    }

    /// Executes `block` on its parent, which is final or pending here.
    async fn execute(&self, block: Arc<Block>) -> Result<ExecutedBlock, Missing> {
        let layers = self.ancestry(block.header.parent_hash);
        let storage = self.ctx.storage.clone();
        let signing = self.ctx.signing;
        let status = self.ctx.status.clone();
        let epoch = self.epoch;
        let keys = self.keys.clone();
        let checked = self.ctx.pool.checked_signatures();
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let (state, parent) = staged_on(&storage, &layers).map_err(Missing::Unavailable)?;
            let (block_epoch, _) = wijk_validators::set_for_height(&state, parent.height + 1)
                .map_err(|e| Missing::Unavailable(e.to_string()))?;
            if block_epoch != epoch {
                return Err(Missing::Invalid(format!(
                    "block #{} belongs to epoch {block_epoch}, not to the running epoch {epoch}",
                    parent.height + 1
                )));
            }
            let checked = check_signatures_skipping(&block, &signing, Some(&keys), Some(&checked))
                .map_err(|e| Missing::Invalid(e.to_string()))?;
            let executed =
                execute_checked_block(&state, &state, &parent, &block, &signing, checked)
                    .map_err(|e| Missing::Invalid(e.to_string()))?;
            status
                .import_micros
                .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
            Ok(executed)
        })
        .await
        .map_err(|e| Missing::Unavailable(e.to_string()))?
    }

    /// Asks peers, one after another, for the block with this hash.
    async fn fetch_block(&self, hash: Hash) -> Result<Arc<Block>, Missing> {
        let request = SyncRequest::Block { hash }.encode();
        for peer in self.peers().await {
            if let Some(SyncResponse::Block(Some(block))) = self.ask(peer, request.clone()).await {
                if block.header.hash() == hash {
                    return Ok(Arc::new(block));
                }
                tracing::warn!(target: "sync", %peer, %hash, "peer answered with another block");
            }
        }
        Err(Missing::Unavailable(format!("no peer has block {hash}")))
    }

    async fn peers(&self) -> Vec<PeerId> {
        match &self.ctx.network {
            Some(network) => network.peers().await.unwrap_or_default(),
            None => Vec::new(),
        }
    }

    async fn ask(&self, peer: PeerId, request: Vec<u8>) -> Option<SyncResponse> {
        let network = self.ctx.network.as_ref()?;
        let answer = tokio::time::timeout(REQUEST_TIMEOUT, network.request(peer, request)).await;
        match answer {
            Ok(Ok(bytes)) => match decode_bounded::<SyncResponse>(
                "sync response",
                &bytes,
                wijk_network::MAX_SYNC_MESSAGE_BYTES,
            ) {
                Ok(response) => Some(response),
                Err(error) => {
                    tracing::warn!(target: "sync", %peer, %error, "malformed sync answer");
                    None
                }
            },
            Ok(Err(error)) => {
                tracing::debug!(target: "sync", %peer, %error, "sync request failed");
                None
            }
            Err(_) => {
                tracing::debug!(target: "sync", %peer, "sync request timed out");
                None
            }
        }
    }

    async fn on_finalized(
        &mut self,
        blocks: Vec<BlockRef>,
        certificate: FinalityCertificate,
    ) -> Result<(), ServiceError> {
        self.ctx
            .status
            .certificate_signers
            .store(certificate.signatures.len() as u64, Relaxed);
        let head = self.head()?;
        let blocks = without_closing_blocks(blocks, &self.closing);
        // Blocks this node already has (synced meanwhile) must be the same blocks.
        for block in blocks.iter().filter(|b| b.height <= head.height) {
            let ours = self.ctx.storage.header(block.height)?.map(|h| h.hash());
            if ours != Some(block.hash) {
                return Err(fatal(format!(
                    "block {} at height {} is final, but this node has {ours:?} there",
                    block.hash, block.height
                )));
            }
        }
        let new: Vec<BlockRef> = blocks
            .into_iter()
            .filter(|b| b.height > head.height)
            .collect();
        let Some(tip) = new.last().copied() else {
            return Ok(());
        };
        match self.ensure_executed(tip.hash).await {
            Ok(()) => self.commit_run(&new, certificate).await,
            Err(Missing::Invalid(reason)) => Err(fatal(format!(
                "a quorum finalized block {} at height {}, which this node finds invalid: {reason}",
                tip.hash, tip.height
            ))),
            Err(reason) => {
                tracing::info!(target: "sync", height = tip.height, reason = %reason.text(), "final block not executed here; downloading");
                self.sync_to(tip.height).await
            }
        }
    }

    /// Makes sure `parent` (of a block to build or check) is known here, and tells whether
    /// a block on it would be past the end of the running epoch: `Some(last block of the
    /// epoch)` if it can only be a closing block.
    async fn ensure_parent(&mut self, parent: &BlockRef) -> Result<Option<Hash>, Missing> {
        if let Some(last) = self.closing.get(&parent.hash) {
            return Ok(Some(*last));
        }
        self.ensure_executed(parent.hash).await?;
        let layers = self.ancestry(parent.hash);
        let storage = self.ctx.storage.clone();
        let next_epoch = tokio::task::spawn_blocking(move || {
            let (state, tip) = staged_on(&storage, &layers)?;
            wijk_validators::set_for_height(&state, tip.height + 1)
                .map(|(epoch, _)| epoch)
                .map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| Missing::Unavailable(e.to_string()))?
        .map_err(Missing::Unavailable)?;
        Ok((next_epoch != self.epoch).then_some(parent.hash))
    }

    /// Checks a proposed block: executes a real one on its parent; a closing block must
    /// follow the end of the epoch and carry the derived hash.
    async fn verify(&mut self, block: BlockRef) -> Result<(), Missing> {
        if self.closing.contains_key(&block.hash) {
            return Ok(());
        }
        let parent = BlockRef {
            hash: block.parent,
            height: block.height.saturating_sub(1),
            parent: Hash::ZERO,
        };
        match self.ensure_parent(&parent).await? {
            Some(last) if block.hash == closing_block_hash(last, block.height) => {
                self.closing.insert(block.hash, last);
                Ok(())
            }
            Some(_) => Err(Missing::Invalid(format!(
                "block #{} follows the last block of its validator set's epoch and is not its closing block",
                block.height
            ))),
            None => self.ensure_executed(block.hash).await,
        }
    }

    /// When nothing was finalized for a while, asks peers how far they are and downloads
    /// what is missing. Certificates of an epoch this node has not reached are signed by a
    /// set it does not know yet and are refused, so this is how a node that fell more than
    /// an epoch behind (or starts from an empty database) catches up.
    async fn catch_up_if_stalled(&mut self) -> Result<(), ServiceError> {
        let head = self.head()?.height;
        let patience = Duration::from_millis(view_timeout_ms(self.ctx.block_time_ms) * 2);
        if head != self.stalled.0 {
            self.stalled = (head, Instant::now());
            self.reconnect_after = (patience * 2, Instant::now());
            return Ok(());
        }
        if self.stalled.1.elapsed() < patience {
            return Ok(());
        }
        self.stalled.1 = Instant::now();
        // Connected but deaf (a connection whose inbound side stopped, seen in tests about
        // once in ten runs): fresh connections cost a few seconds and cure it. A network
        // that is truly halted (too few validators up) pays this with growing pauses.
        let (after, since) = self.reconnect_after;
        if since.elapsed() >= after.max(patience * 2) {
            if let Some(network) = &self.ctx.network {
                tracing::warn!(target: "network", "nothing finalized for {:?}; renewing connections", since.elapsed());
                let _ = network.reconnect().await;
            }
            self.reconnect_after = ((after * 2).min(Duration::from_secs(60)), Instant::now());
        }
        let mut best = head;
        let request = SyncRequest::Status.encode();
        for peer in self.peers().await {
            if let Some(SyncResponse::Status { height, .. }) = self.ask(peer, request.clone()).await
            {
                best = best.max(height);
            }
        }
        if best > head {
            tracing::info!(target: "sync", "no progress for {patience:?}; peers are at #{best}, this node at #{head}");
            self.sync_to(best).await?;
            self.next_epoch_if_begun()?;
        }
        Ok(())
    }

    /// After a commit or a sync: if the chain entered a new epoch, replaces the replica
    /// with one for the new validator set.
    fn next_epoch_if_begun(&mut self) -> Result<Flow, ServiceError> {
        // Called after every commit: read one state key, and the vote log only on a change.
        let head = self.head()?.height;
        let (epoch, _) =
            wijk_validators::set_for_height(self.ctx.storage.as_ref(), head + 1).map_err(fatal)?;
        if epoch == self.epoch {
            return Ok(Flow::Continue);
        }
        let start = restart_point(&self.ctx.storage)?;
        tracing::info!(target: "consensus", "epoch {} begins after block #{}", start.epoch, start.restart.finalized.height);
        self.epoch = start.epoch;
        self.replica = new_replica(&self.ctx, start);
        self.closing.clear();
        self.inputs.clear();
        self.inputs.push_back(Input::Tick);
        Ok(Flow::NewEpoch)
    }

    /// Records a validator's two conflicting votes on chain: this validator signs a
    /// report transaction and submits it to its own pool (a full node only logs).
    async fn report_equivocation(&mut self, first: SignedVote, second: SignedVote) {
        let Some(key) = self.ctx.key.clone() else {
            return;
        };
        let offence = (first.signer, first.vote.view);
        if self.reported.contains(&offence) {
            return;
        }
        if first.signer == key.account_id() {
            tracing::error!(target: "consensus", view = first.vote.view, "this validator's key signed a vote that conflicts with this node's: the key runs on another node too; stop one of them");
        }
        let storage = self.ctx.storage.clone();
        let recorded = tokio::task::spawn_blocking(move || {
            wijk_validators::OFFENCE_INDEX.get(storage.as_ref(), &offence)
        })
        .await;
        let cannot = |error: &dyn std::fmt::Display| {
            tracing::error!(target: "consensus", %error, "cannot report equivocation");
        };
        match recorded {
            Ok(Ok(None)) => {}
            Ok(Ok(Some(_))) => return,
            Ok(Err(error)) => return cannot(&error),
            Err(error) => return cannot(&error),
        }
        // After this validator's transactions still in the pool (earlier reports).
        let nonce = match self.ctx.pool.next_nonce(key.account_id()).await {
            Ok(Ok(nonce)) => nonce,
            Ok(Err(error)) => return cannot(&error),
            Err(_) => return,
        };
        let valid_until = self.replica.finalized().height + 600;
        let report = wijk_runtime::Transaction::sign(
            &key,
            &self.ctx.signing,
            nonce,
            valid_until,
            wijk_runtime::RuntimeCall::Validators(wijk_validators::Call::ReportEquivocation {
                first: Box::new(first),
                second: Box::new(second),
            }),
        );
        match self.ctx.pool.submit(report.encode()).await {
            Ok(Ok(hash)) => {
                tracing::warn!(target: "consensus", offender = ?first.signer, view = first.vote.view, %hash, "equivocation evidence submitted for the chain to record");
                self.reported.insert(offence);
            }
            Ok(Err(error)) => {
                tracing::error!(target: "consensus", %error, "equivocation evidence refused by the pool")
            }
            Err(_) => tracing::debug!(target: "consensus", "pool stopped; evidence not submitted"),
        }
    }

    /// Commits pending blocks (consecutive, above the head) final through `certificate`.
    async fn commit_run(
        &mut self,
        run: &[BlockRef],
        certificate: FinalityCertificate,
    ) -> Result<(), ServiceError> {
        let blocks: Vec<Arc<Pending>> = run
            .iter()
            .map(|r| {
                self.pending
                    .get(&r.hash)
                    .cloned()
                    .ok_or_else(|| fatal(format!("final block {} was not executed", r.hash)))
            })
            .collect::<Result<_, _>>()?;
        let storage = self.ctx.storage.clone();
        let started = Instant::now();
        let written = blocks.clone();
        tokio::task::spawn_blocking(move || {
            let run: Vec<_> = written
                .iter()
                .map(|p| (p.block.as_ref(), &p.executed))
                .collect();
            storage.commit_blocks(&run, &certificate)
        })
        .await
        .map_err(fatal)?
        .map_err(fatal)?;
        self.ctx
            .status
            .import_micros
            .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
        let committed: Vec<&Block> = blocks.iter().map(|p| p.block.as_ref()).collect();
        self.announce(&committed).await;
        if let Some(last) = run.last() {
            self.prune_pending(last.height);
        }
        Ok(())
    }

    /// Tells subscribers, then the pool, about committed blocks (ascending). Subscribers
    /// hear of every block before the pool prunes against the new state: a transaction in
    /// the last block of a run must be reported included, not dropped as stale.
    async fn announce(&self, blocks: &[&Block]) {
        let mut included = Vec::new();
        let mut signers = Vec::new();
        for block in blocks {
            signers.extend(block.transactions.iter().map(|tx| tx.signer));
            let header = block.header.clone();
            let tx_hashes: Vec<Hash> = block.transactions.iter().map(|tx| tx.hash()).collect();
            tracing::info!(
                target: "consensus",
                "finalized #{} {} with {} transactions",
                header.height,
                header.hash(),
                tx_hashes.len()
            );
            self.ctx.status.blocks_committed.fetch_add(1, Relaxed);
            self.ctx
                .status
                .best_height
                .fetch_max(header.height, Relaxed);
            included.extend_from_slice(&tx_hashes);
            let _ = self
                .ctx
                .committed
                .send(CommittedBlock { header, tx_hashes });
        }
        if let Some(last) = blocks.last() {
            // A closed pool means we are shutting down; nothing to do.
            let _ = self
                .ctx
                .pool
                .block_committed(last.header.height, included, signers)
                .await;
        }
    }

    /// A certificate finalized `tip`, whose ancestry back to the replica's finalized block
    /// is unknown: fetch it, then tell the replica the parent links.
    async fn on_need_ancestors(
        &mut self,
        tip: BlockRef,
        finalized_height: u64,
    ) -> Result<(), ServiceError> {
        if self.ensure_executed(tip.hash).await.is_err() {
            self.sync_to(tip.height).await?;
        }
        let head = self.head()?;
        let mut links = Vec::new();
        let storage = self.ctx.storage.clone();
        let stored_to = head.height.min(tip.height);
        let stored = tokio::task::spawn_blocking(move || {
            (finalized_height + 1..=stored_to)
                .map(|height| storage.header(height))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(fatal)??;
        links.extend(stored.into_iter().flatten().map(|h| block_ref(&h)));
        links.extend(
            self.ancestry(tip.hash)
                .iter()
                .map(|p| block_ref(&p.block.header)),
        );
        if !links.is_empty() {
            self.inputs.push_back(Input::Ancestors(links));
        }
        Ok(())
    }

    /// Downloads finalized blocks from peers until the head reaches `target` (or no peer
    /// has more), importing each with full re-execution and certificate checks.
    async fn sync_to(&mut self, target: u64) -> Result<(), ServiceError> {
        let status = self.ctx.status.clone();
        status.sync_target.fetch_max(target, Relaxed);
        status.syncing.store(true, Relaxed);
        let started = Instant::now();
        let first = self.head()?.height;
        let result = self.download(target).await;
        status.syncing.store(false, Relaxed);
        let head = self.head()?.height;
        if head > first {
            tracing::info!(target: "sync", "synced #{} to #{head} (target #{target}) in {:.1?}", first + 1, started.elapsed());
            self.prune_pending(head);
        }
        result
    }

    async fn download(&mut self, target: u64) -> Result<(), ServiceError> {
        loop {
            let head = self.head()?.height;
            if head >= target {
                return Ok(());
            }
            let request = SyncRequest::Finalized {
                from: head + 1,
                max_blocks: MAX_BLOCKS_PER_ANSWER,
            }
            .encode();
            let mut progressed = false;
            for peer in self.peers().await {
                let Some(SyncResponse::Finalized(blocks)) = self.ask(peer, request.clone()).await
                else {
                    continue;
                };
                if blocks.is_empty() {
                    continue;
                }
                let storage = self.ctx.storage.clone();
                let signing = self.ctx.signing;
                let imported = tokio::task::spawn_blocking(move || {
                    let mut imported = Vec::new();
                    let result = crate::import_blocks(
                        &storage,
                        blocks.into_iter().map(Ok),
                        &signing,
                        |block| imported.push(block.clone()),
                    );
                    (result, imported)
                })
                .await
                .map_err(fatal)?;
                let (result, blocks) = imported;
                self.announce(&blocks.iter().collect::<Vec<_>>()).await;
                match result {
                    Ok(summary) if summary.blocks > 0 => {
                        tracing::info!(target: "sync", "imported {} blocks from {peer}; at #{} of #{target}", summary.blocks, self.head()?.height);
                        progressed = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(target: "sync", %peer, %error, "blocks from peer refused")
                    }
                }
            }
            if !progressed {
                tracing::warn!(target: "sync", "no peer could extend the chain past #{head} (target #{target}); will retry on the next certificate");
                return Ok(());
            }
        }
    }
}

/// What a gossip message gives the replica running `epoch`: its inputs, in order, and the
/// proposed block it carries with its hash (kept until the replica asks to verify it).
///
/// Votes and certificates of another epoch are signed by another validator set: a quorum
/// of the old set (removed validators included) must never finalize a block of the new
/// epoch here, nor the other way round. So a message whose vote is of another epoch gives
/// nothing, and a proposal's justification loses its certificates of another epoch. A
/// node behind by an epoch catches up by sync, which checks each block against the set in
/// its state.
fn gossip_inputs(gossip: ConsensusGossip, epoch: u64) -> (Vec<Input>, Option<(Hash, Arc<Block>)>) {
    let other_epoch = |view: u64| epoch_of_view(view) != epoch;
    let vote_view = match &gossip {
        ConsensusGossip::Message(Message::Vote(vote)) => vote.vote.view,
        ConsensusGossip::Message(Message::Certificate(certificate)) => certificate.vote.view,
        ConsensusGossip::Proposal { vote, .. } | ConsensusGossip::ClosingProposal { vote, .. } => {
            vote.vote.view
        }
    };
    if other_epoch(vote_view) {
        tracing::trace!(target: "consensus", epoch, "message of another epoch dropped");
        return (Vec::new(), None);
    }
    // A proposal: the certificates of this epoch that justify it, then the leader's vote.
    let proposal = |vote, justification: Vec<wijk_consensus::Certificate>| {
        justification
            .into_iter()
            .filter(|certificate| !other_epoch(certificate.vote.view))
            .map(|certificate| Input::Message(Message::Certificate(certificate)))
            .chain([Input::Message(Message::Vote(vote))])
            .collect::<Vec<_>>()
    };
    match gossip {
        ConsensusGossip::Message(message) => (vec![Input::Message(message)], None),
        ConsensusGossip::Proposal {
            vote,
            block,
            justification,
        } => {
            let VoteKind::Notarize { block: named, .. } = vote.vote.kind else {
                return (Vec::new(), None);
            };
            if named != block_ref(&block.header) {
                tracing::debug!(target: "consensus", "proposal whose block is not the one its vote names; dropped");
                return (Vec::new(), None);
            }
            (
                proposal(vote, justification),
                Some((named.hash, Arc::new(*block))),
            )
        }
        ConsensusGossip::ClosingProposal {
            vote,
            justification,
        } => (proposal(vote, justification), None),
    }
}

/// `blocks` (consecutive, ascending) without the closing blocks among them: those known
/// here (with their epoch's last block, in `closing`), and any block whose hash is the
/// closing hash of the last real block before it.
fn without_closing_blocks(blocks: Vec<BlockRef>, closing: &HashMap<Hash, Hash>) -> Vec<BlockRef> {
    let mut last_real = blocks.first().map(|b| b.parent).unwrap_or_default();
    if let Some(last) = closing.get(&last_real) {
        last_real = *last;
    }
    blocks
        .into_iter()
        .filter(|block| {
            if closing.contains_key(&block.hash)
                || block.hash == closing_block_hash(last_real, block.height)
            {
                return false;
            }
            last_real = block.hash;
            true
        })
        .collect()
}

/// Why a block is not executed here.
enum Missing {
    /// It (or an ancestor) could not be had from anyone.
    Unavailable(String),
    /// It (or an ancestor) does not execute, or does not extend the final chain.
    Invalid(String),
}

impl Missing {
    fn text(&self) -> &str {
        match self {
            Missing::Unavailable(reason) | Missing::Invalid(reason) => reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{block_transaction_budget, gossip_inputs};
    use crate::protocol::ConsensusGossip;
    use wijk_consensus::{BlockRef, Certificate, Input, Message, Vote, VoteKind};
    use wijk_primitives::{epoch_base_view, Hash, Keypair};
    use wijk_runtime::MAX_BLOCK_TRANSACTIONS;

    #[test]
    fn votes_and_certificates_of_another_epoch_give_the_replica_nothing() {
        let key = Keypair::dev("Alice");
        let genesis = Hash([7; 32]);
        let block = BlockRef {
            hash: Hash([1; 32]),
            height: 10,
            parent: Hash([2; 32]),
        };
        let notarize = |view| {
            Vote {
                view,
                kind: VoteKind::Notarize {
                    block,
                    parent_view: view - 1,
                },
            }
            .sign(&key, genesis)
        };
        let nullification = |view| Certificate {
            vote: Vote {
                view,
                kind: VoteKind::Nullify,
            },
            signatures: Vec::new(),
        };
        let (old, new) = (epoch_base_view(1) + 5, epoch_base_view(2) + 5);
        // Epoch 2 runs: a vote or certificate of epoch 1 is dropped, one of epoch 2 passes.
        for (view, passes) in [(old, false), (new, true)] {
            let vote = ConsensusGossip::Message(Message::Vote(notarize(view)));
            assert_eq!(gossip_inputs(vote, 2).0.len(), usize::from(passes));
            let certificate = ConsensusGossip::Message(Message::Certificate(nullification(view)));
            assert_eq!(gossip_inputs(certificate, 2).0.len(), usize::from(passes));
        }
        // A proposal of this epoch keeps only the certificates of this epoch that justify
        // it; its vote comes last.
        let proposal = ConsensusGossip::ClosingProposal {
            vote: notarize(new),
            justification: vec![nullification(old), nullification(new - 1)],
        };
        let (inputs, block) = gossip_inputs(proposal, 2);
        assert!(block.is_none());
        assert_eq!(
            inputs,
            vec![
                Input::Message(Message::Certificate(nullification(new - 1))),
                Input::Message(Message::Vote(notarize(new))),
            ]
        );
        // A proposal of another epoch gives nothing, whatever justifies it.
        let proposal = ConsensusGossip::ClosingProposal {
            vote: notarize(old),
            justification: vec![nullification(old - 1)],
        };
        assert!(gossip_inputs(proposal, 2).0.is_empty());
    }

    #[test]
    fn a_block_carries_what_arrived_since_its_parent_within_two_block_times() {
        // At least one block time's worth, even right after the parent.
        assert_eq!(block_transaction_budget(250, 0), 2_500);
        assert_eq!(block_transaction_budget(250, 100), 2_500);
        // Blocks that come slower than the block time carry what arrived meanwhile ...
        assert_eq!(block_transaction_budget(250, 400), 4_000);
        // ... up to two block times, so every validator still executes it within a view.
        assert_eq!(block_transaction_budget(250, 60_000), 5_000);
        // Never fewer than 500, never more than a block may hold.
        assert_eq!(block_transaction_budget(10, 10), 500);
        assert_eq!(
            block_transaction_budget(5_000, 5_000),
            MAX_BLOCK_TRANSACTIONS
        );
    }
}
