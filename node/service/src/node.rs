//! Starting and stopping a node.

use crate::chain_spec::{BadPeerId, ChainSpec, ChainSpecError};
use crate::consensus::{self, ConsensusContext, ConsensusError, RecentBlocks};
use crate::NodeKey;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use wijk_network::Multiaddr;
use wijk_primitives::{Hash, Keypair, SigningContext};
use wijk_rpc::{ChainInfo, NodeStatus, RpcConfig, RpcContext, RpcHandle};
use wijk_runtime::{build_genesis, SPEC_VERSION};
use wijk_storage::{Storage, StorageError};
use wijk_txpool::PoolConfig;

/// Everything a node needs to start.
pub struct NodeConfig {
    /// The chain.
    pub chain_spec: ChainSpec,
    /// Folder of the database.
    pub database_path: PathBuf,
    /// JSON-RPC, if served.
    pub rpc: Option<RpcConfig>,
    /// Target time between blocks.
    pub block_time_ms: u64,
    /// The validator key, if this node authors blocks.
    pub validator: Option<Keypair>,
    /// Pool limits.
    pub pool: PoolConfig,
    /// The peer-to-peer network; `None` runs alone (a dev chain, tests).
    pub network: Option<NetworkSettings>,
    /// Where to serve Prometheus metrics, if at all.
    pub prometheus: Option<SocketAddr>,
}

/// How this node joins its chain's network.
pub struct NetworkSettings {
    /// This node's identity.
    pub node_key: NodeKey,
    /// Where to listen, e.g. `/ip4/0.0.0.0/tcp/30333`.
    pub listen: Vec<Multiaddr>,
    /// Peers to dial at start (added to the chain spec's bootnodes), redialled when they
    /// drop.
    pub bootnodes: Vec<Multiaddr>,
    /// Most connections in total.
    pub max_connections: u32,
}

/// Why the node could not start or had to stop.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The chain spec is wrong.
    #[error(transparent)]
    ChainSpec(#[from] ChainSpecError),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Genesis could not be built.
    #[error("genesis: {0}")]
    Genesis(#[from] wijk_runtime::GenesisError),
    /// Reading state failed.
    #[error("reading state: {0}")]
    State(#[from] wijk_support::StateError),
    /// The RPC server did not start.
    #[error(transparent)]
    Rpc(#[from] wijk_rpc::RpcStartError),
    /// The metrics endpoint did not start.
    #[error(transparent)]
    Metrics(#[from] wijk_rpc::MetricsStartError),
    /// The key given with --validator is not in the chain's validator set.
    #[error("key {account} is not a validator of this chain; validators are: {validators}")]
    NotAValidator {
        /// The key's address.
        account: String,
        /// The set.
        validators: String,
    },
    /// The database folder could not be created.
    #[error("cannot create {path}: {source}")]
    CreateDatabaseFolder {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An allowed node in the chain spec is not a peer id.
    #[error(transparent)]
    AllowedNode(#[from] BadPeerId),
    /// A bootnode in the chain spec is not a network address.
    #[error("chain spec bootnode `{text}`: {source}")]
    Bootnode {
        /// What the spec says.
        text: String,
        /// Why it is not a multiaddress.
        source: wijk_network::multiaddr::Error,
    },
    /// The network did not start.
    #[error("network: {0}")]
    Network(#[from] wijk_network::NetworkError),
    /// The consensus actor hit an error it cannot recover from.
    #[error("consensus stopped: {0}")]
    Consensus(#[from] ConsensusError),
    /// The consensus actor ended without an error while the node was to go on.
    #[error("consensus stopped unexpectedly")]
    ConsensusEnded,
}

/// A running node.
pub struct RunningNode {
    /// Where JSON-RPC listens.
    pub rpc_addr: Option<SocketAddr>,
    /// Where Prometheus metrics are served.
    pub metrics_addr: Option<SocketAddr>,
    /// Peers, sync and consensus progress.
    pub status: Arc<NodeStatus>,
    /// The database.
    pub storage: Arc<Storage>,
    /// The chain's genesis hash.
    pub genesis_hash: Hash,
    shutdown: watch::Sender<bool>,
    /// Keeps the consensus inbox open when there is no network.
    _consensus_sender: tokio::sync::mpsc::Sender<crate::protocol::ConsensusGossip>,
    author: Option<JoinHandle<Result<(), ServiceError>>>,
    rpc: Option<RpcHandle>,
}

impl RunningNode {
    /// Resolves when the author stops by itself (an unrecoverable error), or never when
    /// the node authors no blocks.
    pub async fn wait_for_failure(&mut self) -> ServiceError {
        let Some(author) = self.author.as_mut() else {
            return std::future::pending().await;
        };
        let outcome = author.await;
        // Finished: `stop` must not wait for it again (a finished task's handle panics
        // when polled twice, which would hide this very error).
        self.author = None;
        match outcome {
            Ok(Err(error)) => error,
            Ok(Ok(())) => ServiceError::ConsensusEnded,
            Err(join) => ConsensusError::Task(join).into(),
        }
    }

    /// Stops authoring and serving, waiting for an in-flight commit to finish.
    pub async fn stop(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(author) = self.author.take() {
            let _ = author.await;
        }
        if let Some(rpc) = self.rpc.take() {
            rpc.stop().await;
        }
    }
}

/// Opens storage (writing genesis on first start), then starts the pool, the author (when
/// a validator key is given) and the RPC server.
pub async fn start(config: NodeConfig) -> Result<RunningNode, ServiceError> {
    let spec = &config.chain_spec;
    std::fs::create_dir_all(&config.database_path).map_err(|source| {
        ServiceError::CreateDatabaseFolder {
            path: config.database_path.clone(),
            source,
        }
    })?;
    let storage = Arc::new(Storage::open(&config.database_path)?);
    let genesis = build_genesis(&spec.genesis, storage.as_ref())?;
    let genesis_hash = genesis.header.hash();
    storage.initialize(&genesis)?;
    let finalized = storage.finalized_height()?.unwrap_or(0);
    tracing::info!(
        target: "service",
        "chain {} ({}) genesis {genesis_hash}, finalized height {finalized}, database {}",
        spec.name, spec.id, config.database_path.display()
    );
    let signing = SigningContext {
        genesis_hash,
        spec_version: SPEC_VERSION,
    };
    let pool = wijk_txpool::spawn(config.pool, storage.clone(), signing, finalized + 1);
    let (committed, _) = broadcast::channel(1_024);
    let (shutdown, shutdown_rx) = watch::channel(false);
    // The set now in effect (it may have changed since genesis) and any scheduled one: a
    // key in neither is most likely a mistake. A key only in the scheduled set runs as a
    // full node until its epoch begins.
    let (_, validators) = wijk_validators::current(storage.as_ref())?;
    let scheduled = wijk_validators::pending(storage.as_ref())?
        .map(|scheduled| scheduled.change.validators)
        .unwrap_or_default();

    if let Some(key) = &config.validator {
        if !validators.contains(&key.account_id()) && !scheduled.contains(&key.account_id()) {
            let show = |a| {
                wijk_primitives::Address {
                    prefix: spec.address_prefix,
                    account: a,
                }
                .to_string()
            };
            return Err(ServiceError::NotAValidator {
                account: show(key.account_id()),
                validators: validators
                    .iter()
                    .map(|v| show(*v))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }

    let status = Arc::new(NodeStatus::new(
        config
            .network
            .as_ref()
            .map(|n| n.node_key.peer_id().to_string()),
        validators.len() > 1 || config.validator.is_none(),
        config.validator.is_some(),
    ));
    status
        .best_height
        .store(finalized, std::sync::atomic::Ordering::Relaxed);
    let recent = RecentBlocks::default();
    let (consensus_sender, inbox) = tokio::sync::mpsc::channel(crate::p2p::CONSENSUS_INBOX);
    let network = match config.network {
        Some(settings) => {
            let mut bootnodes = settings.bootnodes;
            for text in &spec.bootnodes {
                bootnodes.push(text.parse().map_err(|source| ServiceError::Bootnode {
                    text: text.clone(),
                    source,
                })?);
            }
            let (handle, events) = wijk_network::start(wijk_network::NetworkConfig {
                node_key: settings.node_key.keypair(),
                // The genesis hash names the chain on the wire: nodes of other chains
                // share no topic or protocol with this one.
                chain: genesis_hash.to_hex(),
                listen: settings.listen,
                bootnodes: bootnodes.clone(),
                allowed_peers: crate::chain_spec::allowed_peers(spec)?,
                max_connections: settings.max_connections,
                // One connection per peer: when two nodes dial each other at once and
                // both connections stay, gossip may go out on one whose inbound side the
                // peer no longer reads, and a validator goes deaf to the others
                // (found by tests/validator_set.rs: finality stalled in about one run
                // of three). The second connection is refused; the first carries all.
                max_connections_per_peer: 1,
            })?;
            tracing::info!(
                target: "network",
                "node identity {} ({} nodes allowed by the chain spec)",
                handle.local_peer_id,
                spec.allowed_nodes.len()
            );
            crate::p2p::spawn(crate::p2p::Bridge {
                network: handle.clone(),
                events,
                storage: storage.clone(),
                pool: pool.clone(),
                recent: recent.clone(),
                consensus: consensus_sender.clone(),
                status: status.clone(),
                bootnodes,
                shutdown: shutdown_rx.clone(),
            });
            Some(handle)
        }
        None => None,
    };

    // A node with neither a key nor peers has nothing to follow.
    let author = (config.validator.is_some() || network.is_some()).then(|| {
        tokio::spawn(consensus::run(ConsensusContext {
            storage: storage.clone(),
            pool: pool.clone(),
            committed: committed.clone(),
            key: config.validator.clone(),
            signing,
            block_time_ms: config.block_time_ms,
            shutdown: shutdown_rx,
            network: network.clone(),
            inbox,
            recent,
            status: status.clone(),
        }))
    });

    let metrics_addr = match config.prometheus {
        Some(address) => Some(
            wijk_rpc::start_metrics(
                address,
                wijk_rpc::MetricsContext {
                    status: status.clone(),
                    storage: storage.clone(),
                    pool: pool.clone(),
                },
            )
            .await?,
        ),
        None => None,
    };
    let rpc = match config.rpc {
        Some(rpc_config) => Some(
            wijk_rpc::start(
                rpc_config,
                RpcContext {
                    storage: storage.clone(),
                    pool,
                    committed,
                    status: status.clone(),
                    chain: ChainInfo {
                        name: spec.name.clone(),
                        id: spec.id.clone(),
                        address_prefix: spec.address_prefix,
                        coin_symbol: spec.coin_symbol.clone(),
                        genesis_hash,
                        spec_version: SPEC_VERSION,
                        node_version: env!("CARGO_PKG_VERSION").to_string(),
                    },
                },
            )
            .await?,
        ),
        None => None,
    };
    Ok(RunningNode {
        rpc_addr: rpc.as_ref().map(|r| r.local_addr),
        metrics_addr,
        status,
        _consensus_sender: consensus_sender,
        storage,
        genesis_hash,
        shutdown,
        author,
        rpc,
    })
}
