//! What the node reports about itself beyond the chain: peers, sync, consensus progress.
//! The service writes it as things happen; RPC (`system_health`, `system_peers`) and the
//! metrics endpoint read it. Plain atomics: reading never waits on the node.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Live facts about a running node.
#[derive(Debug, Default)]
pub struct NodeStatus {
    /// This node's network identity, when it runs a network.
    pub local_peer_id: Option<String>,
    /// Whether this chain expects peers (more than one validator, or a full node).
    pub should_have_peers: bool,
    /// Whether this node signs votes.
    pub is_validator: bool,
    peers: Mutex<BTreeSet<String>>,
    /// True while blocks are being downloaded from peers.
    pub syncing: AtomicBool,
    /// The height sync is heading for.
    pub sync_target: AtomicU64,
    /// The consensus view this node is in.
    pub view: AtomicU64,
    /// The highest block this node has executed (final or not).
    pub best_height: AtomicU64,
    /// Signers on the last finality certificate.
    pub certificate_signers: AtomicU64,
    /// Blocks committed since start (built, verified or synced).
    pub blocks_committed: AtomicU64,
    /// Time spent executing and committing those blocks, in microseconds.
    pub import_micros: AtomicU64,
    /// Equivocations (conflicting signed votes) seen since start.
    pub equivocations: AtomicU64,
    /// Peers refused since start (not on the chain's allow-list, or over a limit).
    pub refused_connections: AtomicU64,
    /// Consensus messages dropped since start because the consensus inbox was full.
    pub consensus_dropped: AtomicU64,
    /// Views this node voted to skip because they ran out of time (not those it skipped
    /// on a leader's abdication or with a quorum).
    pub view_timeouts: AtomicU64,
}

impl NodeStatus {
    /// A status for a node with this identity.
    pub fn new(
        local_peer_id: Option<String>,
        should_have_peers: bool,
        is_validator: bool,
    ) -> NodeStatus {
        NodeStatus {
            local_peer_id,
            should_have_peers,
            is_validator,
            ..NodeStatus::default()
        }
    }

    /// Records a connected peer.
    pub fn peer_connected(&self, peer: String) {
        self.peers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(peer);
    }

    /// Records a peer that left.
    pub fn peer_disconnected(&self, peer: &str) {
        self.peers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(peer);
    }

    /// The peers connected now.
    pub fn peers(&self) -> Vec<String> {
        self.peers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Whether blocks are being downloaded.
    pub fn is_syncing(&self) -> bool {
        self.syncing.load(Ordering::Relaxed)
    }
}
