//! Starting and stopping a node.

use crate::author::{self, AuthorContext};
use crate::chain_spec::{ChainSpec, ChainSpecError};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use wijk_primitives::{Hash, Keypair, SigningContext};
use wijk_rpc::{ChainInfo, RpcConfig, RpcContext, RpcHandle};
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
    /// The RPC server did not start.
    #[error(transparent)]
    Rpc(#[from] wijk_rpc::RpcStartError),
    /// The key given with --validator is not in the chain's validator set.
    #[error("key {account} is not a validator of this chain; validators are: {validators}")]
    NotAValidator {
        /// The key's address.
        account: String,
        /// The set.
        validators: String,
    },
    /// The block author hit an error it cannot recover from.
    #[error("block author stopped: {reason}")]
    Author {
        /// Why.
        reason: String,
    },
}

/// A running node.
pub struct RunningNode {
    /// Where JSON-RPC listens.
    pub rpc_addr: Option<SocketAddr>,
    /// The database.
    pub storage: Arc<Storage>,
    /// The chain's genesis hash.
    pub genesis_hash: Hash,
    shutdown: watch::Sender<bool>,
    author: Option<JoinHandle<Result<(), ServiceError>>>,
    rpc: Option<RpcHandle>,
}

impl RunningNode {
    /// Resolves when the author stops by itself (an unrecoverable error), or never when
    /// the node authors no blocks.
    pub async fn wait_for_failure(&mut self) -> ServiceError {
        match self.author.as_mut() {
            Some(author) => match author.await {
                Ok(Err(error)) => error,
                Ok(Ok(())) => ServiceError::Author {
                    reason: "stopped".into(),
                },
                Err(join) => ServiceError::Author {
                    reason: join.to_string(),
                },
            },
            None => std::future::pending().await,
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
    let genesis_config = spec.genesis_config()?;
    std::fs::create_dir_all(&config.database_path).map_err(|source| ServiceError::Author {
        reason: format!("cannot create {}: {source}", config.database_path.display()),
    })?;
    let storage = Arc::new(Storage::open(&config.database_path)?);
    let genesis = build_genesis(&genesis_config, storage.as_ref())?;
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

    let author = match &config.validator {
        Some(key) => {
            let validators = spec.validators()?;
            if !validators.contains(&key.account_id()) {
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
                        .into_iter()
                        .map(show)
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            Some(tokio::spawn(author::run(AuthorContext {
                storage: storage.clone(),
                pool: pool.clone(),
                committed: committed.clone(),
                key: key.clone(),
                validators,
                signing,
                block_time_ms: config.block_time_ms,
                shutdown: shutdown_rx,
            })))
        }
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
        storage,
        genesis_hash,
        shutdown,
        author,
        rpc,
    })
}
