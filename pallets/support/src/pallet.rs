//! What a pallet is: one declaration of its calls, events, errors, genesis section, hooks
//! and call costs ([`Pallet`]), which the runtime's composer (`wijk_runtime`'s
//! `construct_runtime!`) turns into the runtime's call, event and error enums, dispatch,
//! hooks, genesis and history index.

use crate::origin::{BadOrigin, Collective, Collectives, Origin, Requirement};
use crate::state::{StateError, StateOverlay, StateRead};
use crate::traits::{Currency, Enactment, Geography, Membership};
use core::fmt::Debug;
use parity_scale_codec::{Decode, Encode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::any::Any;
use wijk_primitives::{AccountId, Hash, Height, TimestampMs};

/// A pallet's result: a state read failure aborts the block (never the transaction's
/// fault); an error of the pallet fails only the transaction, whose changes are rolled back.
pub type DispatchResult<E> = Result<Result<(), E>, StateError>;

/// What work costs, in nanoseconds on the reference machine (the 2-core development
/// machine the README's figures come from). Each call states its cost; a block may hold
/// transactions up to a total cost as well as up to a size, so a heavy call (a tally, a
/// proof check) cannot make a block slow. The figures are measured, not guessed:
/// `scripts/bench-import --calibrate` times every call kind and prints the measured cost
/// beside the declared one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub struct Cost(pub u64);

impl Cost {
    /// Nothing.
    pub const ZERO: Cost = Cost(0);

    /// `nanos` nanoseconds.
    pub const fn nanos(nanos: u64) -> Cost {
        Cost(nanos)
    }

    /// `micros` microseconds.
    pub const fn micros(micros: u64) -> Cost {
        Cost(micros * 1_000)
    }

    /// The sum, saturating.
    pub const fn plus(self, other: Cost) -> Cost {
        Cost(self.0.saturating_add(other.0))
    }

    /// `count` times this cost, saturating.
    pub const fn times(self, count: u64) -> Cost {
        Cost(self.0.saturating_mul(count))
    }
}

/// Where and when a call executes; pallets read the time from here, never from a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockContext {
    /// Height of the block being executed.
    pub height: Height,
    /// Its timestamp.
    pub timestamp_ms: TimestampMs,
    /// The chain's genesis hash, which every signature on this chain binds (for checking
    /// signed evidence inside a call).
    pub genesis_hash: Hash,
}

/// The pallets behind the interfaces other pallets use, as the runtime binds them.
#[derive(Clone, Copy)]
pub struct Interfaces {
    /// The money ([`Currency`]), implemented by the coin pallet.
    pub currency: &'static dyn Currency,
    /// Who is a member ([`Membership`]).
    pub membership: &'static dyn Membership,
    /// Which origins count as a collective's decision ([`Collectives`]).
    pub collectives: &'static dyn Collectives,
    /// Where the wijk is ([`Geography`]), implemented by the geo pallet.
    pub geography: &'static dyn Geography,
    /// How the members' decisions are carried out ([`Enactment`]), implemented by the
    /// runtime itself (it alone knows every call).
    pub enactment: &'static dyn Enactment,
}

/// Events deposited while a call (or hook) runs, in order; the runtime turns each into its
/// `RuntimeEvent` when the call succeeds and drops them when it fails.
#[derive(Default)]
pub struct EventBuffer(Vec<Box<dyn Any + Send>>);

impl EventBuffer {
    /// Takes the events deposited so far.
    pub fn take(&mut self) -> Vec<Box<dyn Any + Send>> {
        std::mem::take(&mut self.0)
    }

    /// Forgets the events deposited so far (the call failed).
    pub fn clear(&mut self) {
        self.0.clear();
    }
}

/// What a call (or a hook) runs with: the state, the block, the interfaces to other
/// pallets, and where its events go.
pub struct CallContext<'c, 's> {
    /// The state, with this block's earlier changes; changes made here are rolled back if
    /// the call fails.
    pub state: &'c mut StateOverlay<'s>,
    block: BlockContext,
    interfaces: Interfaces,
    events: &'c mut EventBuffer,
}

impl<'c, 's> CallContext<'c, 's> {
    /// A context over `state` for a call in `block`.
    pub fn new(
        state: &'c mut StateOverlay<'s>,
        block: BlockContext,
        interfaces: Interfaces,
        events: &'c mut EventBuffer,
    ) -> Self {
        CallContext {
            state,
            block,
            interfaces,
            events,
        }
    }

    /// The block the call executes in.
    pub fn block(&self) -> &BlockContext {
        &self.block
    }

    /// Records an event of the call (a call may deposit several).
    pub fn deposit_event<E: Any + Send>(&mut self, event: E) {
        self.events.0.push(Box::new(event));
    }

    /// The wijk's money.
    pub fn currency(&self) -> &'static dyn Currency {
        self.interfaces.currency
    }

    /// Who is a member.
    pub fn membership(&self) -> &'static dyn Membership {
        self.interfaces.membership
    }

    /// Where the wijk is.
    pub fn geography(&self) -> &'static dyn Geography {
        self.interfaces.geography
    }

    /// How the members' decisions are carried out.
    pub fn enactment(&self) -> &'static dyn Enactment {
        self.interfaces.enactment
    }

    /// Runs `work` so that, if it fails, its state changes and events are undone and
    /// everything before it stays. Only for block hooks (it keeps the hook's changes so far
    /// as a transaction's commit would): a hook carrying out several independent decisions
    /// runs each this way, so one that fails does not undo the others.
    pub fn in_hook_atomically<T, E>(
        &mut self,
        work: impl FnOnce(&mut CallContext<'_, '_>) -> Result<Result<T, E>, StateError>,
    ) -> Result<Result<T, E>, StateError> {
        self.state.commit_transaction();
        let events_before = self.events.0.len();
        let result = work(self)?;
        if result.is_err() {
            self.state.rollback_transaction();
            self.events.0.truncate(events_before);
        }
        Ok(result)
    }

    /// Succeeds if `origin` counts as a decision of `collective` under this runtime's rules
    /// (the chain itself always does). The one origin check for collective decisions: see
    /// [`crate::origin`].
    pub fn ensure_decided_by(
        &self,
        origin: &Origin,
        collective: Collective,
    ) -> Result<Result<(), BadOrigin>, StateError> {
        let decides = matches!(origin, Origin::Root)
            || self
                .interfaces
                .collectives
                .decides(&*self.state, origin, collective)?;
        Ok(if decides {
            Ok(())
        } else {
            Err(origin.refused(Requirement::DecidedBy(collective)))
        })
    }
}

/// The accounts an event concerns, for each account's history.
pub trait Involves {
    /// Appends every account this event concerns.
    fn involved_accounts(&self, accounts: &mut Vec<AccountId>);
}

/// A pallet's invariant does not hold after a block: a runtime bug, never a user's fault.
/// The block is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{pallet} invariant broken: {rule} ({detail})")]
pub struct InvariantViolation {
    /// The pallet.
    pub pallet: &'static str,
    /// The rule, in words.
    pub rule: &'static str,
    /// The figures that break it.
    pub detail: String,
}

/// A pallet, declared once. The runtime composes pallets in one place; each pallet owns its
/// storage (under keys that start with its name) and reaches others only through
/// [`Interfaces`].
pub trait Pallet: 'static {
    /// The pallet's name: its genesis section in a chain spec, the `pallet` of its calls in
    /// JSON, the prefix of its events (`coin.Transferred`) and of its storage keys.
    const NAME: &'static str;

    /// Its calls (SCALE on the wire; JSON through serde, tagged by `call`, described by
    /// their JSON schema in the node's OpenRPC document).
    type Call: Clone
        + Debug
        + PartialEq
        + Eq
        + Encode
        + Decode
        + Serialize
        + schemars::JsonSchema
        + Send
        + Sync
        + 'static;
    /// Its events, past tense (JSON through serde, tagged by `event`).
    type Event: Clone
        + Debug
        + PartialEq
        + Eq
        + Encode
        + Decode
        + Serialize
        + schemars::JsonSchema
        + Involves
        + Send
        + Sync
        + 'static;
    /// Why its calls fail; the message is what a resident reads.
    type Error: Clone
        + Debug
        + PartialEq
        + Eq
        + Encode
        + Decode
        + std::error::Error
        + Send
        + Sync
        + 'static;
    /// Its section of a chain spec's genesis; every field has a default, unknown fields are
    /// refused (`#[serde(default, deny_unknown_fields)]`).
    type Genesis: Clone + Debug + Default + PartialEq + Serialize + DeserializeOwned;

    /// The most work [`Self::begin_block`] and [`Self::end_block`] do together in one block;
    /// reserved from every block's cost.
    const HOOKS_COST: Cost = Cost::ZERO;

    /// Writes the pallet's genesis state.
    fn build_genesis(
        state: &mut StateOverlay<'_>,
        config: &Self::Genesis,
    ) -> DispatchResult<Self::Error>;

    /// Executes `call` from `origin`.
    fn dispatch(
        ctx: &mut CallContext<'_, '_>,
        origin: &Origin,
        call: &Self::Call,
    ) -> DispatchResult<Self::Error>;

    /// What executing `call` costs (without the signature check and commit every
    /// transaction pays, which the runtime adds).
    fn cost(call: &Self::Call) -> Cost;

    /// Runs first in every block, before any transaction (bounded by [`Self::HOOKS_COST`]).
    fn begin_block(_ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
        Ok(())
    }

    /// Runs last in every block, after every transaction (bounded by [`Self::HOOKS_COST`]).
    fn end_block(_ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
        Ok(())
    }

    /// Checks the pallet's invariants on the state after a block (cheap: it runs after
    /// every block).
    fn check_invariants(
        _state: &dyn StateRead,
    ) -> Result<Result<(), InvariantViolation>, StateError> {
        Ok(Ok(()))
    }
}

/// The call type of a pallet with no calls (it has storage, genesis or hooks only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum NoCall {}

/// The event type of a pallet that emits none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize)]
pub enum NoEvent {}

impl Involves for NoEvent {
    fn involved_accounts(&self, _accounts: &mut Vec<AccountId>) {}
}

/// The schema of nothing: no JSON value is a call of a pallet without calls. The composer
/// leaves such pallets out of the runtime's call and event schemas.
fn nothing() -> schemars::Schema {
    schemars::json_schema!({ "not": {} })
}

impl schemars::JsonSchema for NoCall {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NoCall".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        nothing()
    }
}

impl schemars::JsonSchema for NoEvent {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "NoEvent".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        nothing()
    }
}
