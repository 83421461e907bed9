//! The node service: wires storage, the transaction pool, consensus and the block author,
//! and the RPC server into a running wijk node, and imports/exports blocks.
//!
//! Owns: the chains a node knows by name ([`chain_spec`]), start-up and shutdown
//! ([`node`]), the consensus actor that carries out consensus effects and catches up from
//! peers ([`consensus`]: voter, builder, resolver, executor, marshal), what nodes say to each other ([`protocol`]) and the routing of
//! network events (`p2p`), node keys ([`node_key`]), block import with full re-execution
//! and certificate checks ([`import`]), and the audit of a chain's certificates from its
//! spec alone ([`audit`]).
//! Must never: contain chain rules (the runtime does) or consensus decisions (the
//! consensus crate does); it only performs their effects.

pub mod audit;
pub mod chain_spec;
pub mod consensus;
pub mod import;
pub mod node;
pub mod node_key;
mod p2p;
pub mod protocol;
#[cfg(test)]
mod testing;

pub use audit::{verify_certificates, AuditError, AuditSummary};
pub use chain_spec::{BadPeerId, ChainSpec, ChainSpecError};
pub use import::{
    import_blocks, light_client_at_head, BlockFileReader, BlockFileWriter, ImportError,
    ImportSummary,
};
pub use node::{start, NetworkSettings, NodeConfig, RunningNode, ServiceError};
pub use node_key::{NodeKey, NodeKeyError};
