//! The wijk runtime: the state-transition function of a wijk chain.
//!
//! Owns: the composition of the pallets into [`RuntimeCall`] and [`RuntimeEvent`], the block
//! validity rules ([`execute`]), genesis ([`genesis`]), the authenticated state tree
//! ([`state_tree`], a Jellyfish Merkle tree keyed and hashed with blake3) and reading state
//! through blocks executed but not yet committed ([`staged`]).
//! Must never: do I/O, read a clock, draw randomness, or panic on any input. State comes in
//! through [`wijk_support::StateRead`] and [`jmt::storage::TreeReader`]; time comes in the
//! header. Same block and same pre-state give the same post-state and root everywhere.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod execute;
pub mod genesis;
pub mod memory_chain;
pub mod staged;
pub mod state_tree;

use parity_scale_codec::{Decode, Encode};
use wijk_primitives::SpecVersion;

pub use execute::{
    build_block, check_signatures, check_signatures_skipping, execute_block, execute_checked_block,
    BlockError, BuiltBlock, CheckedSignatures, ExecutedBlock, InvalidTransaction, Receipt,
    SignaturesChecked, TxOutcome, VerifiedTransaction,
};
pub use genesis::{build_genesis, Genesis, GenesisConfig, GenesisError};
pub use memory_chain::MemoryChain;
pub use staged::{StagedBlock, StagedState};

/// Version of the state-transition rules; part of every signed payload. 2: an account's
/// nonce and balance are one record (`system/account/<account>`).
pub const SPEC_VERSION: SpecVersion = 2;

/// Largest encoded transaction accepted anywhere (pool, block, RPC).
pub const MAX_TRANSACTION_BYTES: usize = 16 * 1024;
/// Most transactions in one block.
pub const MAX_BLOCK_TRANSACTIONS: usize = 20_000;
/// Largest encoded block accepted from a peer or an import file.
pub const MAX_BLOCK_BYTES: usize = 16 * 1024 * 1024;

/// Every call the runtime understands, by pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum RuntimeCall {
    /// The coin pallet.
    #[codec(index = 0)]
    Coin(wijk_coin::Call),
    /// The validators pallet.
    #[codec(index = 1)]
    Validators(wijk_validators::Call),
}

/// Every event the runtime emits, by pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum RuntimeEvent {
    /// The coin pallet.
    #[codec(index = 0)]
    Coin(wijk_coin::Event),
    /// The validators pallet.
    #[codec(index = 1)]
    Validators(wijk_validators::Event),
}

/// Why a call failed during dispatch (the transaction is still included, its nonce used).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum DispatchError {
    /// From the coin pallet.
    #[error("coin: {0}")]
    #[codec(index = 0)]
    Coin(wijk_coin::Error),
    /// From the validators pallet.
    #[error("validators: {0}")]
    #[codec(index = 1)]
    Validators(wijk_validators::Error),
}

/// A transaction of this runtime.
pub type Transaction = wijk_primitives::SignedTransaction<RuntimeCall>;
/// A block of this runtime.
pub type Block = wijk_primitives::Block<Transaction>;

/// Decodes a transaction from untrusted bytes (size cap, depth limit, no trailing bytes).
pub fn decode_transaction(bytes: &[u8]) -> Result<Transaction, wijk_primitives::DecodeLimitError> {
    wijk_primitives::decode_bounded("transaction", bytes, MAX_TRANSACTION_BYTES)
}

/// Decodes a block from untrusted bytes.
pub fn decode_block(bytes: &[u8]) -> Result<Block, wijk_primitives::DecodeLimitError> {
    wijk_primitives::decode_bounded("block", bytes, MAX_BLOCK_BYTES)
}
