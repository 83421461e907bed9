//! Starting and stopping the server.

use crate::context::RpcContext;
use jsonrpsee::server::{Server, ServerConfig, ServerHandle};
use jsonrpsee::RpcModule;
use serde_json::json;
use std::net::SocketAddr;

/// Limits and address of the server.
#[derive(Debug, Clone, Copy)]
pub struct RpcConfig {
    /// Where to listen (default `127.0.0.1:9944`).
    pub listen: SocketAddr,
    /// Largest request body, bytes.
    pub max_request_bytes: u32,
    /// Largest response body, bytes.
    pub max_response_bytes: u32,
    /// Most concurrent connections.
    pub max_connections: u32,
    /// Most subscriptions on one WebSocket connection.
    pub max_subscriptions_per_connection: u32,
}

impl Default for RpcConfig {
    fn default() -> Self {
        RpcConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 9944)),
            max_request_bytes: 512 * 1024,
            max_response_bytes: 32 * 1024 * 1024,
            max_connections: 100,
            max_subscriptions_per_connection: 64,
        }
    }
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum RpcStartError {
    /// The port could not be bound.
    #[error("cannot listen for JSON-RPC on {listen}: {source} (is another node running? try --rpc-port)")]
    Bind {
        /// The address.
        listen: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// A method was registered twice (a bug).
    #[error("rpc method table: {0}")]
    Methods(#[from] jsonrpsee::core::RegisterMethodError),
}

/// A running server.
pub struct RpcHandle {
    /// The bound address (useful with port 0).
    pub local_addr: SocketAddr,
    handle: ServerHandle,
}

impl RpcHandle {
    /// Stops the server and waits until it has stopped.
    pub async fn stop(self) {
        let _ = self.handle.stop();
        self.handle.stopped().await;
    }
}

/// The method table.
pub(crate) fn methods(ctx: RpcContext) -> Result<RpcModule<RpcContext>, RpcStartError> {
    let mut module = RpcModule::new(ctx);
    crate::chain::register(&mut module)?;
    crate::wijk::register(&mut module)?;
    let mut names: Vec<String> = module.method_names().map(String::from).collect();
    names.push("rpc_methods".into());
    names.sort();
    module.register_method("rpc_methods", move |_, _, _| json!({ "methods": names }))?;
    Ok(module)
}

/// Starts the server on the current tokio runtime.
pub async fn start(config: RpcConfig, ctx: RpcContext) -> Result<RpcHandle, RpcStartError> {
    let module = methods(ctx)?;
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_bytes)
        .max_response_body_size(config.max_response_bytes)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .build();
    let server = Server::builder()
        .set_config(server_config)
        .build(config.listen)
        .await
        .map_err(|source| RpcStartError::Bind {
            listen: config.listen,
            source,
        })?;
    let local_addr = server.local_addr().map_err(|source| RpcStartError::Bind {
        listen: config.listen,
        source,
    })?;
    let handle = server.start(module);
    tracing::info!(target: "rpc", "JSON-RPC (HTTP and WebSocket) listening on {local_addr}");
    Ok(RpcHandle { local_addr, handle })
}
