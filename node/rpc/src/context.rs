//! What the RPC methods can see.

use std::sync::Arc;
use tokio::sync::broadcast;
use wijk_primitives::{Hash, SigningContext};
use wijk_storage::{CommittedBlock, Storage};
use wijk_txpool::PoolMailbox;

/// Fixed facts about the chain this node serves.
#[derive(Debug, Clone)]
pub struct ChainInfo {
    /// Human name of the chain (e.g. "Wijk Dev").
    pub name: String,
    /// Chain id (e.g. "wijk_dev").
    pub id: String,
    /// Address prefix.
    pub address_prefix: u16,
    /// The coin's symbol as the wijk named it.
    pub coin_symbol: String,
    /// Genesis hash.
    pub genesis_hash: Hash,
    /// Runtime spec version.
    pub spec_version: u32,
    /// Node implementation version.
    pub node_version: String,
}

impl ChainInfo {
    /// The signing context wallets must use.
    pub fn signing_context(&self) -> SigningContext {
        SigningContext {
            genesis_hash: self.genesis_hash,
            spec_version: self.spec_version,
        }
    }
}

/// Everything the methods need; shared by all connections.
pub struct RpcContext {
    /// Read access to the chain.
    pub storage: Arc<Storage>,
    /// The transaction pool.
    pub pool: PoolMailbox,
    /// Committed blocks, as they happen.
    pub committed: broadcast::Sender<CommittedBlock>,
    /// Facts about the chain.
    pub chain: ChainInfo,
    /// Peers, sync and consensus progress.
    pub status: Arc<crate::NodeStatus>,
}
