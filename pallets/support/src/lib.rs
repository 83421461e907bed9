//! The pallet framework every wijk pallet is written against.
//!
//! Owns: the [`StateRead`] seam between the pure runtime and whatever stores state, with
//! ordered iteration for paged listing; the [`StateOverlay`] that collects a block's changes
//! with per-transaction rollback; typed storage ([`StorageValue`], [`StorageMap`] with
//! [`StorageMap::page`], [`StorageLog`]) and its key encoding; the [`Pallet`] declaration and
//! the [`CallContext`] a call runs with; [`Origin`]s and the one helper that decides whether
//! an origin counts as a collective's decision; call [`Cost`]s; and the [`traits`] through
//! which pallets talk to each other ([`Currency`], [`Membership`], [`Geography`],
//! [`Enactment`]).
//! Must never: do I/O, depend on a concrete database or on any pallet, or hold chain rules
//! (those live in the pallets).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod origin;
pub mod pallet;
pub mod state;
pub mod storage;
#[cfg(feature = "test-utils")]
pub mod testing;
pub mod traits;

pub use origin::{Acting, BadOrigin, Collective, Collectives, Origin, Requirement};
pub use pallet::{
    BlockContext, CallContext, Cost, DispatchResult, EventBuffer, Interfaces, InvariantViolation,
    Involves, NoCall, NoEvent, Pallet,
};
pub use state::{
    next_entry_through, Entry, Layered, StateChanges, StateError, StateOverlay, StateRead,
    MAX_STATE_VALUE_BYTES,
};
pub use storage::{Page, StorageKey, StorageLog, StorageMap, StorageValue};
pub use traits::{
    valid_category, Borderless, Currency, CurrencyError, EarmarkTerms, Enactment, Escrowed,
    Geography, GuardianCapExceeded, Membership, MembershipError, NoEnactment, NotProposable,
    OpenMembership, Place, Proposable, ProposalKind, Role, RoleSet, Voter, MAX_CATEGORY_BYTES,
    MAX_EARMARK_CATEGORIES, MAX_EARMARK_LABEL_BYTES,
};

/// Returns early from a dispatch function: a state error aborts the block (`?` on the
/// outer result), a pallet error fails the call. `ensure!(condition, Error::X { .. })`.
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $error:expr) => {
        if !$condition {
            return Ok(Err($error.into()));
        }
    };
}

/// Unwraps a pallet-level `Result<T, E>` inside a dispatch function: on `Err` the call fails
/// with that error (converted with `Into`); state is untouched by this macro.
#[macro_export]
macro_rules! check {
    ($result:expr) => {
        match $result {
            Ok(value) => value,
            Err(error) => return Ok(Err(error.into())),
        }
    };
}

/// Unwraps the inner result of a nested `Result<Result<T, E>, StateError>`: returns the
/// pallet error (converted with `Into`) from the enclosing dispatch function.
#[macro_export]
macro_rules! tri {
    ($nested:expr) => {
        match $nested? {
            Ok(value) => value,
            Err(error) => return Ok(Err(error.into())),
        }
    };
}
