//! The transaction pool.
//!
//! Owns: admission of transactions from wallets and peers (size cap before decoding, decode
//! depth limit, strict signature, nonce, expiry, and for a wallet's submissions a dry run
//! of the call on committed state), the per-account nonce queues, the caps (count, bytes, per account: members pay
//! no fees, so these caps are what bounds spam), and the order of candidates for the next
//! block.
//! Must never: write state or blocks, or decide finality.
//!
//! Layout: [`state`] is the pure pool logic; [`actor`] runs it as a task that owns the pool
//! and is reached through the bounded mailbox in [`ingress`].

pub mod actor;
pub mod ingress;
pub mod state;

pub use actor::spawn;
pub use ingress::{PoolEvent, PoolMailbox, PoolStatus, PoolUnavailable};
pub use state::{Pool, PoolConfig, Source, SubmitError};
