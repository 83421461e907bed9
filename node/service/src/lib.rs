//! The node service: wires storage, the transaction pool, consensus and the block author,
//! and the RPC server into a running wijk node, and imports/exports blocks.
//!
//! Owns: the chain specification format ([`chain_spec`]), start-up and shutdown
//! ([`node`]), the validator actor that carries out consensus effects ([`author`]), block
//! import with full re-execution and certificate checks ([`import`]), and the audit of a
//! chain's certificates from its spec alone ([`audit`]).
//! Must never: contain chain rules (the runtime does) or consensus decisions (the
//! consensus crate does); it only performs their effects.

pub mod audit;
pub mod author;
pub mod chain_spec;
pub mod import;
pub mod node;
#[cfg(test)]
mod testing;

pub use audit::{verify_certificates, AuditError, AuditSummary};
pub use chain_spec::{ChainSpec, ChainSpecError};
pub use import::{
    import_block, import_blocks, BlockFileReader, BlockFileWriter, ImportError, ImportSummary,
};
pub use node::{start, NodeConfig, RunningNode, ServiceError};
