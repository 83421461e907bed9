//! Genesis: the state a chain starts from and its header (height 0).

use crate::state_tree::apply_changes;
use jmt::storage::{TreeReader, TreeUpdateBatch};
use wijk_primitives::{AccountId, Hash, Header, TimestampMs};
use wijk_support::{StateChanges, StateOverlay};

/// What a chain specification says the chain starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenesisConfig {
    /// Genesis timestamp (fixed in the spec, so every node derives the same genesis hash).
    pub timestamp_ms: TimestampMs,
    /// Validators that finalize blocks (epoch 0).
    pub validators: Vec<AccountId>,
    /// Who may schedule validator-set changes (the board, until governance votes on it).
    pub validator_admin: AccountId,
    /// The coin's issuer and initial balances.
    pub coin: wijk_coin::GenesisConfig,
}

/// The genesis block's header, state and tree nodes.
pub struct Genesis {
    /// The header of block 0; its hash identifies the chain.
    pub header: Header,
    /// The initial state.
    pub changes: StateChanges,
    /// Tree nodes of the initial state.
    pub tree_batch: TreeUpdateBatch,
}

/// Why a genesis could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// A chain needs at least one validator.
    #[error("the chain spec names no validators")]
    NoValidators,
    /// Coin genesis failed (e.g. balances overflow).
    #[error("coin genesis: {0}")]
    Coin(wijk_coin::Error),
    /// The tree could not be built.
    #[error("state tree: {reason}")]
    StateTree {
        /// Why.
        reason: String,
    },
}

/// Builds genesis from `config`. `empty_tree` must read as an empty tree.
pub fn build_genesis<R: TreeReader>(
    config: &GenesisConfig,
    empty_tree: &R,
) -> Result<Genesis, GenesisError> {
    if config.validators.is_empty() {
        return Err(GenesisError::NoValidators);
    }
    let empty = std::collections::BTreeMap::new();
    let mut state = StateOverlay::new(&empty);
    wijk_system::genesis(&mut state);
    wijk_validators::genesis(&mut state, &config.validators, config.validator_admin);
    wijk_coin::genesis(&mut state, &config.coin).map_err(GenesisError::Coin)?;
    state.commit_transaction();
    let changes = state.into_changes();
    let (state_root, tree_batch) = apply_changes(empty_tree, 0, &changes)?;
    let header = Header {
        parent_hash: Hash::ZERO,
        height: 0,
        timestamp_ms: config.timestamp_ms,
        state_root,
        transactions_root: Hash::ZERO,
        receipts_root: Hash::ZERO,
        proposer: AccountId::default(),
        validator_set_change: None,
    };
    Ok(Genesis {
        header,
        changes,
        tree_batch,
    })
}
