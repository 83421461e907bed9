//! A test chain for pallet tests (feature `test-utils`): state in a map, genesis of one
//! pallet at a time, calls dispatched as transactions (kept with their events when they
//! succeed, rolled back when they fail), and blocks advanced with their hooks.
#![allow(clippy::panic)]

use crate::pallet::{BlockContext, CallContext, DispatchResult, EventBuffer, Interfaces, Pallet};
use crate::state::{StateError, StateOverlay, StateRead};
use crate::Origin;
use std::any::Any;
use std::collections::BTreeMap;
use wijk_primitives::{Hash, Height};

/// The events a call deposited, of any pallet.
#[derive(Default)]
pub struct Events(Vec<Box<dyn Any + Send>>);

impl Events {
    /// The events of type `E`, in order.
    pub fn of<E: Clone + 'static>(&self) -> Vec<E> {
        self.0
            .iter()
            .filter_map(|event| event.downcast_ref::<E>().cloned())
            .collect()
    }

    /// How many events there are, of any type.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// State and block of a test, with the interfaces the pallets under test are bound to.
#[derive(Clone)]
pub struct TestChain {
    /// Committed state.
    pub state: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The block calls execute in.
    pub block: BlockContext,
    /// What `ctx.currency()` and friends are.
    pub interfaces: Interfaces,
}

impl TestChain {
    /// An empty chain at height 1.
    pub fn new(interfaces: Interfaces) -> TestChain {
        TestChain {
            state: BTreeMap::new(),
            block: BlockContext {
                height: 1,
                timestamp_ms: 1_000,
                genesis_hash: Hash([7; 32]),
            },
            interfaces,
        }
    }

    fn apply(&mut self, overlay_changes: crate::StateChanges) {
        for (key, value) in overlay_changes {
            match value {
                Some(value) => self.state.insert(key, value),
                None => self.state.remove(&key),
            };
        }
    }

    /// Writes `P`'s genesis.
    pub fn genesis<P: Pallet>(&mut self, config: &P::Genesis) -> &mut Self {
        let base = self.state.clone();
        let mut overlay = StateOverlay::new(&base);
        match P::build_genesis(&mut overlay, config) {
            Ok(Ok(())) => {}
            Ok(Err(error)) => panic!("{} genesis failed: {error}", P::NAME),
            Err(error) => panic!("{} genesis failed: {error}", P::NAME),
        }
        overlay.commit_transaction();
        let changes = overlay.into_changes();
        self.apply(changes);
        self
    }

    /// Runs `f` as one transaction in the current block: its changes are kept if it
    /// succeeds and rolled back if it fails.
    pub fn transact<E>(
        &mut self,
        f: impl FnOnce(&mut CallContext<'_, '_>) -> DispatchResult<E>,
    ) -> Result<Result<Events, E>, StateError> {
        let base = self.state.clone();
        let mut overlay = StateOverlay::new(&base);
        let mut events = EventBuffer::default();
        let result = f(&mut CallContext::new(
            &mut overlay,
            self.block,
            self.interfaces,
            &mut events,
        ))?;
        Ok(match result {
            Ok(()) => {
                overlay.commit_transaction();
                let changes = overlay.into_changes();
                self.apply(changes);
                Ok(Events(events.take()))
            }
            Err(error) => Err(error),
        })
    }

    /// Dispatches a call of `P` from `origin` as one transaction.
    pub fn dispatch<P: Pallet>(
        &mut self,
        origin: Origin,
        call: &P::Call,
    ) -> Result<Events, P::Error> {
        match self.transact(|ctx| P::dispatch(ctx, &origin, call)) {
            Ok(result) => result,
            Err(error) => panic!("state failed in a test: {error}"),
        }
    }

    /// Moves to block `height`, running `P`'s begin-block hook.
    pub fn begin_block<P: Pallet>(&mut self, height: Height) -> Events {
        self.block.height = height;
        self.block.timestamp_ms = height.saturating_mul(1_000);
        match self.transact(|ctx| P::begin_block(ctx).map(Ok::<(), StateError>)) {
            Ok(Ok(events)) => events,
            Ok(Err(error)) | Err(error) => panic!("begin_block failed in a test: {error}"),
        }
    }

    /// Runs `P`'s end-block hook in the current block.
    pub fn end_block<P: Pallet>(&mut self) -> Events {
        match self.transact(|ctx| P::end_block(ctx).map(Ok::<(), StateError>)) {
            Ok(Ok(events)) => events,
            Ok(Err(error)) | Err(error) => panic!("end_block failed in a test: {error}"),
        }
    }

    /// The committed state, for a pallet's read functions.
    pub fn reader(&self) -> &dyn StateRead {
        &self.state
    }
}
