//! Starting and stopping the server.

use crate::context::RpcContext;
use crate::request_shape::RequestShapeLayer;
use jsonrpsee::server::{
    serve_with_graceful_shutdown, stop_channel, Server, ServerConfig, ServerHandle,
};
use jsonrpsee::RpcModule;
use serde_json::json;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

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
    /// Most concurrent connections from one client address (below the total, so one
    /// client that opens many idle connections cannot lock every other wallet out).
    pub max_connections_per_ip: u32,
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
            max_connections_per_ip: 25,
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
    accept: tokio::task::JoinHandle<()>,
}

impl RpcHandle {
    /// Stops the server (no new connections; open ones finish what they are doing) and
    /// waits until it has stopped.
    pub async fn stop(self) {
        let _ = self.handle.stop();
        let _ = self.accept.await;
        self.handle.stopped().await;
    }
}

/// Connections open per client address.
#[derive(Clone, Default)]
struct PerAddress(Arc<Mutex<HashMap<IpAddr, u32>>>);

/// A connection counted against its address while it lives.
struct Counted {
    table: PerAddress,
    address: IpAddr,
}

impl PerAddress {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, u32>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a connection from `address`, unless it already has `limit`.
    fn admit(&self, address: IpAddr, limit: u32) -> Option<Counted> {
        let mut table = self.lock();
        let open = table.entry(address).or_default();
        if *open >= limit {
            return None;
        }
        *open += 1;
        Some(Counted {
            table: self.clone(),
            address,
        })
    }
}

/// A client's TCP stream that counts against its address until it is dropped. The count
/// lives in the stream, not in the task that serves it: a WebSocket upgrade hands the
/// stream on to a task of jsonrpsee's, and the connection lasts as long as the stream.
struct CountedStream {
    stream: TcpStream,
    _counted: Counted,
}

impl tokio::io::AsyncRead for CountedStream {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl tokio::io::AsyncWrite for CountedStream {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let mut table = self.table.lock();
        if let Some(open) = table.get_mut(&self.address) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                table.remove(&self.address);
            }
        }
    }
}

/// Tells a client over its limit why, in HTTP (what a browser, curl or a WebSocket
/// handshake understands), and closes.
async fn refuse_over_limit(mut socket: TcpStream, limit: u32) {
    let body = json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": {
            "code": -32000,
            "message": format!("too many connections from your address (at most {limit}); close some and try again"),
        },
    })
    .to_string();
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = socket.write_all(response.as_bytes()).await;
    let _ = socket.shutdown().await;
}

/// The method table.
pub(crate) fn methods(ctx: RpcContext) -> Result<RpcModule<RpcContext>, RpcStartError> {
    let mut module = RpcModule::new(ctx);
    crate::chain::register(&mut module)?;
    crate::wijk::register(&mut module)?;
    crate::pallets::register(&mut module)?;
    module.register_method("rpc_discover", |_, ctx, _| {
        wijk_rpc_types::openrpc::document(&ctx.chain.node_version)
    })?;
    let mut names: Vec<String> = module.method_names().map(String::from).collect();
    names.push("rpc_methods".into());
    names.sort();
    module.register_method("rpc_methods", move |_, _, _| json!({ "methods": names }))?;
    Ok(module)
}

/// Starts the server on the current tokio runtime: an accept loop that counts
/// connections per client address, each connection served by jsonrpsee (HTTP and
/// WebSocket) behind the request-shape middleware.
pub async fn start(config: RpcConfig, ctx: RpcContext) -> Result<RpcHandle, RpcStartError> {
    let module = methods(ctx)?;
    let server_config = ServerConfig::builder()
        .max_request_body_size(config.max_request_bytes)
        .max_response_body_size(config.max_response_bytes)
        .max_connections(config.max_connections)
        .max_subscriptions_per_connection(config.max_subscriptions_per_connection)
        .build();
    let bind = |source| RpcStartError::Bind {
        listen: config.listen,
        source,
    };
    let listener = TcpListener::bind(config.listen).await.map_err(bind)?;
    let local_addr = listener.local_addr().map_err(bind)?;
    let services = Server::builder()
        .set_config(server_config)
        .set_http_middleware(tower::ServiceBuilder::new().layer(RequestShapeLayer {
            max_bytes: config.max_request_bytes as usize,
        }))
        .to_service_builder();
    let (stop, handle) = stop_channel();
    let per_address = PerAddress::default();
    let limit = config.max_connections_per_ip.max(1);
    let methods: jsonrpsee::Methods = module.into();
    let accept = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stop.clone().shutdown() => return,
            };
            let (socket, remote) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    tracing::warn!(target: "rpc", %error, "accepting a JSON-RPC connection failed");
                    continue;
                }
            };
            let Some(counted) = per_address.admit(remote.ip(), limit) else {
                tracing::warn!(target: "rpc", address = %remote.ip(), limit, "refused a JSON-RPC connection: too many from this address");
                tokio::spawn(refuse_over_limit(socket, limit));
                continue;
            };
            let service = services.clone().build(methods.clone(), stop.clone());
            let stopped = stop.clone().shutdown();
            let stream = CountedStream {
                stream: socket,
                _counted: counted,
            };
            tokio::spawn(async move {
                if let Err(error) = serve_with_graceful_shutdown(stream, service, stopped).await {
                    tracing::debug!(target: "rpc", %error, "JSON-RPC connection ended");
                }
            });
        }
    });
    tracing::info!(target: "rpc", "JSON-RPC (HTTP and WebSocket) listening on {local_addr}");
    Ok(RpcHandle {
        local_addr,
        handle,
        accept,
    })
}
