//! The JSON-RPC server of a wijk node: HTTP and WebSocket on one port.
//!
//! Owns: the method table (Substrate-style `system_*`, `chain_*`, `state_*`, `author_*`,
//! `rpc_methods`, `rpc_discover`, and the domain's `wijk_*`, each pallet's in its own
//! module under [`pallets`]), rendering chain data as the interface's types
//! ([`wijk_rpc_types`], which also give the OpenRPC document), error codes, and the
//! server's limits (request size, connections in all and per client address,
//! subscriptions per connection).
//! Also serves Prometheus metrics on their own port ([`start_metrics`]).
//! Must never: write state or blocks; it reads storage and hands transactions to the pool.

mod chain;
mod context;
mod error;
mod metrics;
mod pallets;
mod render;
mod request_shape;
mod server;
mod status;
mod wijk;

pub use context::{ChainInfo, RpcContext};
pub use error::codes;
pub use metrics::{start_metrics, MetricsContext, MetricsStartError};
pub use server::{start, RpcConfig, RpcHandle, RpcStartError};
pub use status::NodeStatus;
