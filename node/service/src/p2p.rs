//! The node's side of the network: routes what peers send (consensus gossip to the
//! consensus actor, transaction batches to the pool, sync requests answered from storage
//! and recent blocks), gossips the transactions submitted here, keeps the peer list for
//! RPC and metrics, and redials bootnodes that dropped.
//!
//! Every queue toward the node is bounded: when the consensus inbox is full a message is
//! dropped and counted (`wijk_consensus_messages_dropped_total`; consensus tolerates loss
//! and repeats itself, see [`crate::consensus`]), never buffered without limit.

use crate::consensus::RecentBlocks;
use crate::protocol::{
    ConsensusGossip, SyncRequest, SyncResponse, MAX_BLOCKS_PER_ANSWER, MAX_SYNC_ANSWER_BYTES,
    MAX_TRANSACTIONS_PER_BATCH,
};
use parity_scale_codec::Encode;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use wijk_network::{Multiaddr, NetworkEvent, NetworkHandle, PeerId, Topic};
use wijk_primitives::decode_bounded;
use wijk_rpc::NodeStatus;
use wijk_storage::Storage;
use wijk_txpool::{PoolEvent, PoolMailbox};

/// Consensus messages queued for the consensus actor.
pub(crate) const CONSENSUS_INBOX: usize = 4_096;
/// Transaction batches from peers queued for the pool.
const TRANSACTION_INBOX: usize = 256;
/// How often dropped bootnodes are dialled again.
const REDIAL_INTERVAL: Duration = Duration::from_secs(3);
/// Locally submitted transactions wait at most this long to be gossiped in a batch.
const GOSSIP_BATCH_DELAY: Duration = Duration::from_millis(20);

/// What the bridge needs.
pub(crate) struct Bridge {
    pub network: NetworkHandle,
    pub events: mpsc::Receiver<NetworkEvent>,
    pub storage: Arc<Storage>,
    pub pool: PoolMailbox,
    pub recent: RecentBlocks,
    pub consensus: mpsc::Sender<ConsensusGossip>,
    pub status: Arc<NodeStatus>,
    pub bootnodes: Vec<Multiaddr>,
    pub shutdown: watch::Receiver<bool>,
}

/// Starts the bridge's tasks.
pub(crate) fn spawn(bridge: Bridge) {
    let (transactions, transaction_queue) = mpsc::channel(TRANSACTION_INBOX);
    tokio::spawn(admit_from_peers(bridge.pool.clone(), transaction_queue));
    tokio::spawn(gossip_local_transactions(
        bridge.network.clone(),
        bridge.pool.clone(),
        bridge.shutdown.clone(),
    ));
    tokio::spawn(redial_bootnodes(
        bridge.network.clone(),
        bridge.bootnodes.clone(),
        bridge.status.clone(),
        bridge.shutdown.clone(),
    ));
    tokio::spawn(route(bridge, transactions));
}

async fn route(mut bridge: Bridge, transactions: mpsc::Sender<Vec<Vec<u8>>>) {
    while let Some(event) = bridge.events.recv().await {
        match event {
            NetworkEvent::Listening(address) => {
                tracing::debug!(target: "network", %address, "listening")
            }
            NetworkEvent::PeerConnected(peer) => {
                bridge.status.peer_connected(peer.to_string());
                tracing::info!(target: "network", %peer, peers = bridge.status.peers().len(), "peer connected");
            }
            NetworkEvent::PeerDisconnected(peer) => {
                bridge.status.peer_disconnected(&peer.to_string());
                tracing::info!(target: "network", %peer, peers = bridge.status.peers().len(), "peer disconnected");
            }
            NetworkEvent::Refused { .. } => {
                bridge.status.refused_connections.fetch_add(1, Relaxed);
            }
            NetworkEvent::Gossip {
                from,
                topic: Topic::Consensus,
                data,
            } => match decode_bounded::<ConsensusGossip>(
                "consensus gossip",
                &data,
                wijk_network::MAX_GOSSIP_BYTES,
            ) {
                Ok(gossip) => {
                    if bridge.consensus.try_send(gossip).is_err() {
                        bridge.status.consensus_dropped.fetch_add(1, Relaxed);
                        tracing::debug!(target: "network", "consensus inbox full; message dropped");
                    }
                }
                Err(error) => {
                    tracing::warn!(target: "network", peer = %from, %error, "malformed consensus gossip")
                }
            },
            NetworkEvent::Gossip {
                from,
                topic: Topic::Transactions,
                data,
            } => match decode_bounded::<Vec<Vec<u8>>>(
                "transaction batch",
                &data,
                wijk_network::MAX_GOSSIP_BYTES,
            ) {
                Ok(batch) if batch.len() <= MAX_TRANSACTIONS_PER_BATCH => {
                    if transactions.try_send(batch).is_err() {
                        tracing::debug!(target: "network", "transaction inbox full; batch dropped");
                    }
                }
                Ok(batch) => {
                    tracing::warn!(target: "network", peer = %from, size = batch.len(), "oversized transaction batch")
                }
                Err(error) => {
                    tracing::warn!(target: "network", peer = %from, %error, "malformed transaction batch")
                }
            },
            NetworkEvent::SyncRequest { from, id, request } => {
                let network = bridge.network.clone();
                let storage = bridge.storage.clone();
                let recent = bridge.recent.clone();
                tokio::spawn(async move {
                    let answer = tokio::task::spawn_blocking(move || {
                        answer(&storage, &recent, from, &request)
                    })
                    .await;
                    match answer {
                        Ok(Some(response)) => {
                            let _ = network.respond(id, response.encode()).await;
                        }
                        // Nothing to say to a malformed request; the peer times out.
                        Ok(None) => {}
                        Err(error) => {
                            tracing::error!(target: "sync", %error, "answering a sync request failed")
                        }
                    }
                });
            }
        }
    }
}

/// Answers a sync request from storage and recent (non-final) blocks.
fn answer(
    storage: &Storage,
    recent: &RecentBlocks,
    from: PeerId,
    request: &[u8],
) -> Option<SyncResponse> {
    let request = match decode_bounded::<SyncRequest>("sync request", request, 256) {
        Ok(request) => request,
        Err(error) => {
            tracing::warn!(target: "sync", peer = %from, %error, "malformed sync request");
            return None;
        }
    };
    let read = || -> Result<SyncResponse, wijk_storage::StorageError> {
        Ok(match request {
            SyncRequest::Status => {
                let head = storage.best_header()?;
                SyncResponse::Status {
                    height: head.as_ref().map_or(0, |h| h.height),
                    hash: head.map(|h| h.hash()).unwrap_or_default(),
                }
            }
            SyncRequest::Finalized { from, max_blocks } => {
                let head = storage.finalized_height()?.unwrap_or(0);
                let max_blocks = max_blocks.clamp(1, MAX_BLOCKS_PER_ANSWER) as u64;
                let mut blocks = Vec::new();
                let mut bytes = 0usize;
                let mut height = from.max(1);
                while height <= head {
                    let (Some(block), Some(certificate)) =
                        (storage.block(height)?, storage.certificate(height)?)
                    else {
                        break;
                    };
                    // End on a block with its own certificate, so the answer is provable
                    // on its own: a run final through a later block is sent whole.
                    let complete = certificate.height == height;
                    bytes += block.encoded_size() + certificate.encoded_size();
                    blocks.push((block, certificate));
                    height += 1;
                    let full = blocks.len() as u64 >= max_blocks || bytes >= MAX_SYNC_ANSWER_BYTES;
                    if full && complete {
                        break;
                    }
                }
                SyncResponse::Finalized(blocks)
            }
            SyncRequest::Block { hash } => match recent.get(&hash) {
                Some(block) => SyncResponse::Block(Some((*block).clone())),
                None => match storage.height_of(&hash)? {
                    Some(height) => SyncResponse::Block(storage.block(height)?),
                    None => SyncResponse::Block(None),
                },
            },
        })
    };
    match read() {
        Ok(response) => Some(response),
        Err(error) => {
            tracing::error!(target: "sync", %error, "cannot read storage to answer a peer");
            None
        }
    }
}

/// Hands transactions gossiped by peers to the pool, batch after batch.
async fn admit_from_peers(pool: PoolMailbox, mut batches: mpsc::Receiver<Vec<Vec<u8>>>) {
    while let Some(batch) = batches.recv().await {
        // Refusals (mostly duplicates and stale nonces, which are expected) are logged by
        // the pool.
        if pool.submit_from_peer(batch).await.is_err() {
            return;
        }
    }
}

/// Gossips transactions submitted to this node, in batches (one signed gossip message per
/// batch rather than per transaction).
async fn gossip_local_transactions(
    network: NetworkHandle,
    pool: PoolMailbox,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut events = pool.events();
    let mut batch: Vec<Vec<u8>> = Vec::new();
    // When the oldest transaction in the batch must be sent.
    let mut due_at = tokio::time::Instant::now();
    loop {
        let next = if batch.is_empty() {
            let event = tokio::select! {
                event = events.recv() => Some(event),
                _ = shutdown.changed() => return,
            };
            due_at = tokio::time::Instant::now() + GOSSIP_BATCH_DELAY;
            event
        } else {
            tokio::time::timeout_at(due_at, events.recv()).await.ok()
        };
        let timed_out = next.is_none();
        match next {
            Some(Ok(PoolEvent::AdmittedLocally { bytes, .. })) => batch.push(bytes.to_vec()),
            Some(Ok(_)) => {}
            Some(Err(tokio::sync::broadcast::error::RecvError::Lagged(missed))) => {
                tracing::debug!(target: "txpool", missed, "fell behind the pool; some transactions are not gossiped (the pool still includes them)");
            }
            Some(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return,
            None => {}
        }
        let due = timed_out || batch.len() >= MAX_TRANSACTIONS_PER_BATCH;
        if due && !batch.is_empty() {
            let data = std::mem::take(&mut batch).encode();
            if network.publish(Topic::Transactions, data).await.is_err() {
                return;
            }
        }
    }
}

/// Dials again every bootnode that is not connected: peers restart, and nobody else
/// would reconnect to them.
async fn redial_bootnodes(
    network: NetworkHandle,
    bootnodes: Vec<Multiaddr>,
    status: Arc<NodeStatus>,
    mut shutdown: watch::Receiver<bool>,
) {
    if bootnodes.is_empty() {
        return;
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(REDIAL_INTERVAL) => {}
            _ = shutdown.changed() => return,
        }
        let connected = status.peers();
        for address in &bootnodes {
            let peer = address.iter().find_map(|part| match part {
                wijk_network::multiaddr::Protocol::P2p(peer) => Some(peer.to_string()),
                _ => None,
            });
            if peer.as_ref().is_some_and(|p| connected.contains(p)) {
                continue;
            }
            if peer.as_deref() == status.local_peer_id.as_deref() {
                continue;
            }
            if network.dial(address.clone()).await.is_err() {
                return;
            }
        }
    }
}
