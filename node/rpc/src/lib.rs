//! The JSON-RPC server of a wijk node: HTTP and WebSocket on one port.
//!
//! Owns: the method table (Substrate-style `system_*`, `chain_*`, `state_*`, `author_*`,
//! `rpc_methods`, and the domain's `wijk_*`), the JSON shapes (hex for bytes, decimal
//! strings for amounts), error codes, and the server's limits (request size,
//! connections, subscriptions per connection).
//! Also serves Prometheus metrics on their own port ([`start_metrics`]).
//! Must never: write state or blocks; it reads storage and hands transactions to the pool.

mod chain;
mod context;
mod error;
mod json;
mod metrics;
mod server;
mod status;
mod wijk;

pub use context::{ChainInfo, RpcContext};
pub use error::codes;
pub use json::{call_json, event_json, header_json};
pub use metrics::{start_metrics, MetricsContext, MetricsStartError};
pub use server::{start, RpcConfig, RpcHandle, RpcStartError};
pub use status::NodeStatus;
