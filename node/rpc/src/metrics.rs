//! Prometheus metrics on their own port (`GET /metrics`, text format): heights, view,
//! peers, sync, pool size, block import time, certificate signers. Values are read at
//! scrape time from [`NodeStatus`], storage and the pool; nothing is kept twice.

use crate::NodeStatus;
use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Request, Response, StatusCode};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use wijk_storage::Storage;
use wijk_txpool::PoolMailbox;

/// What the metrics endpoint reads.
pub struct MetricsContext {
    /// Peers, sync, consensus.
    pub status: Arc<NodeStatus>,
    /// Heights.
    pub storage: Arc<Storage>,
    /// Pool size.
    pub pool: PoolMailbox,
}

struct NodeCollector {
    status: Arc<NodeStatus>,
    storage: Arc<Storage>,
    /// Read from the pool (an actor) just before each scrape is encoded.
    pool_count: AtomicU64,
    pool_bytes: AtomicU64,
}

impl std::fmt::Debug for NodeCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NodeCollector")
    }
}

fn gauge(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: i64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

impl Collector for NodeCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let status = &self.status;
        let finalized = self.storage.finalized_height().ok().flatten().unwrap_or(0);
        let e = &mut encoder;
        gauge(
            e,
            "wijk_finalized_height",
            "Height of the last finalized block",
            finalized as i64,
        )?;
        gauge(
            e,
            "wijk_best_height",
            "Height of the highest block executed here, final or not",
            status.best_height.load(Relaxed).max(finalized) as i64,
        )?;
        gauge(
            e,
            "wijk_view",
            "Consensus view this node is in",
            status.view.load(Relaxed) as i64,
        )?;
        gauge(
            e,
            "wijk_peers",
            "Connected peers",
            status.peers().len() as i64,
        )?;
        gauge(
            e,
            "wijk_is_syncing",
            "1 while downloading blocks from peers",
            i64::from(status.is_syncing()),
        )?;
        gauge(
            e,
            "wijk_sync_target_height",
            "Highest height known to be final on the network",
            status.sync_target.load(Relaxed).max(finalized) as i64,
        )?;
        gauge(
            e,
            "wijk_txpool_transactions",
            "Transactions in the pool",
            self.pool_count.load(Relaxed) as i64,
        )?;
        gauge(
            e,
            "wijk_txpool_bytes",
            "Bytes in the pool",
            self.pool_bytes.load(Relaxed) as i64,
        )?;
        gauge(
            e,
            "wijk_certificate_signers",
            "Signers on the last finality certificate",
            status.certificate_signers.load(Relaxed) as i64,
        )?;
        counter(
            e,
            "wijk_blocks_committed",
            "Blocks committed since start (built, verified or synced)",
            status.blocks_committed.load(Relaxed),
        )?;
        let seconds = status.import_micros.load(Relaxed) as f64 / 1e6;
        let metric = ConstCounter::new(seconds);
        metric.encode(e.encode_descriptor(
            "wijk_block_import_seconds",
            "Time spent executing and committing blocks since start (divide by wijk_blocks_committed for the mean)",
            None,
            metric.metric_type(),
        )?)?;
        counter(
            e,
            "wijk_equivocations",
            "Conflicting signed votes seen since start",
            status.equivocations.load(Relaxed),
        )?;
        counter(
            e,
            "wijk_refused_connections",
            "Peers refused since start (not allowed by the chain spec, or over a limit)",
            status.refused_connections.load(Relaxed),
        )?;
        counter(
            e,
            "wijk_consensus_messages_dropped",
            "Consensus messages dropped since start because the consensus inbox was full (consensus repeats what matters)",
            status.consensus_dropped.load(Relaxed),
        )?;
        counter(
            e,
            "wijk_consensus_view_timeouts",
            "Views this node voted to skip since start because they ran out of time (a leader that was down, slow or cut off)",
            status.view_timeouts.load(Relaxed),
        )?;
        Ok(())
    }
}

/// Why the metrics endpoint did not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot serve metrics on {address}: {source}")]
pub struct MetricsStartError {
    /// The address.
    pub address: SocketAddr,
    /// The OS error.
    pub source: std::io::Error,
}

/// Serves `GET /metrics` on `address` until the runtime stops. Returns the bound address.
pub async fn start_metrics(
    address: SocketAddr,
    context: MetricsContext,
) -> Result<SocketAddr, MetricsStartError> {
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|source| MetricsStartError { address, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| MetricsStartError { address, source })?;
    let collector = Arc::new(NodeCollector {
        status: context.status,
        storage: context.storage,
        pool_count: AtomicU64::new(0),
        pool_bytes: AtomicU64::new(0),
    });
    let mut registry = Registry::default();
    registry.register_collector(Box::new(collector.clone()));
    let registry = Arc::new(registry);
    let pool = context.pool;
    tracing::info!(target: "rpc", "Prometheus metrics on http://{bound}/metrics");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let registry = registry.clone();
            let collector = collector.clone();
            let pool = pool.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request: Request<hyper::body::Incoming>| {
                        let registry = registry.clone();
                        let collector = collector.clone();
                        let pool = pool.clone();
                        async move {
                            if request.uri().path() != "/metrics" {
                                return Response::builder().status(StatusCode::NOT_FOUND).body(
                                    Full::new(Bytes::from_static(b"metrics are at /metrics\n")),
                                );
                            }
                            if let Ok(status) = pool.status().await {
                                collector.pool_count.store(status.count as u64, Relaxed);
                                collector.pool_bytes.store(status.bytes as u64, Relaxed);
                            }
                            let registry = registry.clone();
                            // Storage reads happen while encoding: off the async threads.
                            let text = tokio::task::spawn_blocking(move || {
                                let mut text = String::new();
                                prometheus_client::encoding::text::encode(&mut text, &registry)
                                    .map(|()| text)
                            })
                            .await;
                            match text {
                            Ok(Ok(text)) => Response::builder()
                                .header(
                                    "content-type",
                                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                                )
                                .body(Full::new(Bytes::from(text))),
                            _ => Response::builder()
                                .status(StatusCode::INTERNAL_SERVER_ERROR)
                                .body(Full::new(Bytes::from_static(b"encoding failed\n"))),
                        }
                        }
                    });
                let io = hyper_util::rt::TokioIo::new(stream);
                if let Err(error) = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await
                {
                    tracing::debug!(target: "rpc", %error, "metrics connection ended");
                }
            });
        }
    });
    Ok(bound)
}
