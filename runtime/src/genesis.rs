//! Genesis: the state a chain starts from and its header (height 0).
//!
//! The state is what every pallet's `build_genesis` writes from its section of the chain
//! spec, in the composer's order, plus the spec version in force (`system/spec_version`).
//! The header has height 0, the parent [`Hash::ZERO`], the system section's timestamp, the
//! state root of that state, and zero transactions and receipts roots.

use crate::state_tree::apply_changes;
use crate::{DispatchError, RuntimeGenesis, SPEC_VERSION};
use jmt::storage::{TreeReader, TreeUpdateBatch};
use wijk_primitives::{AccountId, Cents, Hash, Header};
use wijk_support::{Role, RoleSet, StateChanges, StateError, StateOverlay};

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
    /// A pallet refused its section (e.g. no validators, balances that overflow).
    #[error("genesis of {0}")]
    Pallet(Box<DispatchError>),
    /// The empty state could not be read (it is in memory: a bug).
    #[error(transparent)]
    State(#[from] StateError),
    /// The tree could not be built.
    #[error(transparent)]
    StateTree(#[from] crate::state_tree::StateTreeError),
}

/// Builds genesis from `genesis`. `empty_tree` must read as an empty tree.
pub fn build_genesis<R: TreeReader>(
    genesis: &RuntimeGenesis,
    empty_tree: &R,
) -> Result<Genesis, GenesisError> {
    let empty = std::collections::BTreeMap::new();
    let mut state = StateOverlay::new(&empty);
    genesis
        .build_pallets(&mut state)?
        .map_err(|refused| GenesisError::Pallet(Box::new(refused)))?;
    // The statistics start from the coins genesis created (none earmarked or set aside).
    let circulating = crate::INTERFACES.currency.total_supply(&state)?;
    wijk_stats::set_genesis_levels(
        &mut state,
        wijk_stats::Levels {
            circulating,
            ..wijk_stats::Levels::default()
        },
    );
    wijk_system::set_spec_version(&mut state, SPEC_VERSION)?;
    state.commit_transaction();
    let changes = state.into_changes();
    let (state_root, tree_batch) = apply_changes(empty_tree, 0, &changes)?;
    let header = Header {
        parent_hash: Hash::ZERO,
        height: 0,
        timestamp_ms: genesis.system.timestamp_ms,
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

/// A genesis for tools, tests and benchmarks: `validators` finalize blocks; the first of
/// them is the board, an exchange office (it mints) and an intermediary; the chain is open
/// to every account, every holder may redeem, and `balances` are funded. Every other
/// section is its default, so adding a pallet changes no caller.
pub fn simple_genesis(validators: &[AccountId], balances: &[(AccountId, Cents)]) -> RuntimeGenesis {
    let first = validators.first().copied().unwrap_or_default();
    let mut genesis = RuntimeGenesis::default();
    genesis.system.board = vec![first];
    genesis.membership.open_accounts = true;
    genesis.membership.members = vec![wijk_membership::GenesisMember {
        account: first,
        roles: RoleSet::of(&[
            Role::Board,
            Role::ExchangeOffice,
            Role::Intermediary,
            Role::Organisation,
        ]),
        tag: None,
        place: None,
    }];
    genesis.coin.redemption.any_holder = true;
    genesis.coin.balances = balances
        .iter()
        .map(|(account, cents)| wijk_coin::GenesisBalance(*account, *cents))
        .collect();
    genesis.validators.set = validators.to_vec();
    genesis
}

/// Registers `accounts` as residents in `genesis` (for test and benchmark chains whose
/// senders must be members), each under the tag derived from its account.
pub fn register_residents(
    genesis: &mut RuntimeGenesis,
    accounts: impl IntoIterator<Item = AccountId>,
) {
    genesis
        .membership
        .members
        .extend(
            accounts
                .into_iter()
                .map(|account| wijk_membership::GenesisMember {
                    account,
                    roles: RoleSet::of(&[Role::Resident]),
                    tag: None,
                    place: None,
                }),
        );
}
