//! The wijk runtime: the state-transition function of a wijk chain.
//!
//! Owns: the composition of the pallets ([`construct_runtime!`], one line per pallet, below),
//! which gives [`RuntimeCall`], [`RuntimeEvent`], [`DispatchError`] and [`RuntimeGenesis`];
//! the interfaces pallets talk through, bound to the pallets that implement them
//! ([`INTERFACES`]); the block validity rules ([`execute`]), including the block's cost and
//! size limits; genesis ([`genesis`]); the authenticated state tree ([`state_tree`], a
//! Jellyfish Merkle tree keyed and hashed with blake3) and reading state through blocks
//! executed but not yet committed ([`staged`]).
//! Must never: do I/O, read a clock, draw randomness, or panic on any input. State comes in
//! through [`wijk_support::StateRead`] and [`jmt::storage::TreeReader`]; time comes in the
//! header. Same block and same pre-state give the same post-state and root everywhere.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod compose;
pub mod enactment;
pub mod execute;
pub mod genesis;
pub mod memory_chain;
pub mod staged;
pub mod state_tree;
pub mod stats;

use wijk_primitives::SpecVersion;
use wijk_support::{Cost, Interfaces};

pub use execute::{
    build_block, check_signatures, check_signatures_serial, check_signatures_skipping,
    execute_block, execute_checked_block, execute_checked_state, receipts_root, transaction_cost,
    BlockError, BuiltBlock, CheckedSignatures, ExecutedBlock, ExecutedState, HookEvents,
    InvalidTransaction, Receipt, SignaturesChecked, TxOutcome, VerifiedTransaction,
};
pub use genesis::{build_genesis, register_residents, simple_genesis, Genesis, GenesisError};
pub use memory_chain::MemoryChain;
pub use staged::{StagedBlock, StagedState};

construct_runtime! {
    0 => system: System(wijk_system::Pallet),
    1 => coin: Coin(wijk_coin::Pallet),
    2 => validators: Validators(wijk_validators::Pallet),
    3 => geo: Geo(wijk_geo::Pallet),
    4 => membership: Membership(wijk_membership::Pallet),
    5 => governance: Governance(wijk_governance::Pallet),
    6 => activities: Activities(wijk_activities::Pallet),
    7 => market: Market(wijk_market::Pallet),
    8 => stats: Stats(wijk_stats::Pallet),
}

/// The pallets behind the interfaces: the coin is the currency, the membership pallet says
/// who belongs, the geo pallet where the wijk is; the board (the chain spec's, then the
/// elected one) decides for the board and an enacted vote for the members; the runtime
/// itself carries out what the members decide ([`enactment`]).
pub const INTERFACES: Interfaces = Interfaces {
    currency: &wijk_coin::Pallet,
    membership: &wijk_membership::Pallet,
    collectives: &wijk_system::SpecBoard,
    geography: &wijk_geo::Pallet,
    enactment: &enactment::RuntimeEnactment,
};

/// What checking a guardian's envelope costs on top of the call inside: one record read.
pub const GUARDIAN_CHECK_COST: Cost = Cost::micros(2);

/// Version of the state-transition rules; part of every signed payload and recorded in
/// state (`system/spec_version`). 3: the pallet framework (calls and events by pallet index,
/// storage keys big-endian, genesis deposits and redemptions recorded, hook events in the
/// receipts root, block cost limits). 4: the wijk's money rules (members only, roles,
/// guardians and their envelope, redemption owed then paid, gifts and pools, earmarks, the
/// region, the rate limit). 5: an account's earmarked coins live in its account record
/// (`system/account/`), not in records of their own. 6: the wijk's democracy (the
/// governance pallet; the validator set changes by the members' vote, the board only within
/// its limit). 7: valued activities (the activities pallet: catalogue, budgets, claims), the
/// cooperative's fund spent by vote. 8: the market (the market pallet: offers, requests,
/// deals in escrow; earmarked coins reserved for an eligible seller). 9: the wijk's statistics
/// and goals (the stats pallet, counted at every block's end from the block's events; coin's
/// `MerchantPaid`, activities' `PaidOut` names its activity, units and category).
pub const SPEC_VERSION: SpecVersion = 9;

/// Largest encoded transaction accepted anywhere (pool, block, RPC).
pub const MAX_TRANSACTION_BYTES: usize = 16 * 1024;
/// Most transactions in one block.
pub const MAX_BLOCK_TRANSACTIONS: usize = 20_000;
/// Largest encoded block accepted from a peer or an import file; blocks are built within it.
pub const MAX_BLOCK_BYTES: usize = 16 * 1024 * 1024;
/// What every transaction costs besides its call: its strict signature check, nonce, state
/// root share and synced commit. `scripts/bench-import --calibrate` measured 30.7-33.0 µs
/// on the reference machine (2026-12-01); the rest is headroom for its noisy phases.
pub const TRANSACTION_BASE_COST: Cost = Cost::micros(36);
/// The most a block's transactions and hooks may cost together: 20,000 payments
/// (36 + 4 µs each), which a validator of the reference machine checks, executes and
/// commits in well under a view.
pub const MAX_BLOCK_COST: Cost = Cost::micros(800_000);

/// A transaction of this runtime.
pub type Transaction = wijk_primitives::SignedTransaction<RuntimeCall>;
/// A block of this runtime.
pub type Block = wijk_primitives::Block<Transaction>;

/// Decodes a transaction from untrusted bytes (size cap, depth limit, no trailing bytes).
pub fn decode_transaction(bytes: &[u8]) -> Result<Transaction, wijk_primitives::DecodeLimitError> {
    wijk_primitives::decode_bounded("transaction", bytes, MAX_TRANSACTION_BYTES)
}

/// Decodes a runtime call from untrusted bytes (a proposal's call).
pub fn decode_call(bytes: &[u8]) -> Result<RuntimeCall, wijk_primitives::DecodeLimitError> {
    wijk_primitives::decode_bounded("call", bytes, MAX_TRANSACTION_BYTES)
}

/// Decodes a block from untrusted bytes.
pub fn decode_block(bytes: &[u8]) -> Result<Block, wijk_primitives::DecodeLimitError> {
    wijk_primitives::decode_bounded("block", bytes, MAX_BLOCK_BYTES)
}
