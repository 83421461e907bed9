//! The seam between the pure runtime and whatever stores state: point reads, ordered
//! iteration by key, and the overlay that collects a block's changes with
//! per-transaction rollback.

use std::collections::BTreeMap;
use std::ops::Bound;

/// Largest stored value we will decode; state values are small records.
pub const MAX_STATE_VALUE_BYTES: usize = 1 << 20;

/// A failure to read state. This aborts the block, it is never a transaction's fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// The backend (e.g. the database) failed.
    #[error("state backend failed: {reason}")]
    Backend {
        /// What the backend said.
        reason: String,
    },
    /// A stored value does not decode as its declared type.
    #[error("stored value under key 0x{key_hex} is corrupt: {reason}")]
    Corrupt {
        /// The key, hex.
        key_hex: String,
        /// Why it does not decode.
        reason: String,
    },
}

/// A key and its value.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Read access to committed state. Implemented by the node's storage, by layers of executed
/// blocks not yet written, and by test maps.
pub trait StateRead {
    /// The value under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;

    /// The first entry whose key starts with `prefix` and is greater than `after` (or the
    /// first with the prefix, when `after` is `None`), in byte order of the keys. Paged
    /// listing is built on this, so every backend must order keys the same way.
    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError>;
}

/// The first entry of `map` with `prefix` past `after`.
fn next_in_map<V>(
    map: &BTreeMap<Vec<u8>, V>,
    prefix: &[u8],
    after: Option<&[u8]>,
) -> Option<(Vec<u8>, V)>
where
    V: Clone,
{
    let lower = match after {
        Some(after) if after >= prefix => Bound::Excluded(after.to_vec()),
        _ => Bound::Included(prefix.to_vec()),
    };
    map.range((lower, Bound::Unbounded))
        .next()
        .filter(|(key, _)| key.starts_with(prefix))
        .map(|(key, value)| (key.clone(), value.clone()))
}

impl StateRead for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(BTreeMap::get(self, key).cloned())
    }

    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        Ok(next_in_map(self, prefix, after))
    }
}

/// A set of state changes: `None` deletes the key.
pub type StateChanges = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// `changes` laid over `below`: what the state is once `changes` are applied.
pub struct Layered<'a> {
    /// The changes on top.
    pub changes: &'a StateChanges,
    /// The state under them.
    pub below: &'a dyn StateRead,
}

impl StateRead for Layered<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.changes.get(key) {
            Some(value) => Ok(value.clone()),
            None => self.below.get(key),
        }
    }

    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        next_entry_through(self.changes, self.below, prefix, after)
    }
}

/// The next entry of `below` with `changes` applied: the smaller of the next key below and
/// the next changed key, skipping keys the changes delete.
pub fn next_entry_through(
    changes: &StateChanges,
    below: &dyn StateRead,
    prefix: &[u8],
    after: Option<&[u8]>,
) -> Result<Option<Entry>, StateError> {
    let mut cursor: Option<Vec<u8>> = after.map(<[u8]>::to_vec);
    loop {
        let from_below = below.next_entry(prefix, cursor.as_deref())?;
        let changed = next_in_map(changes, prefix, cursor.as_deref());
        match (from_below, changed) {
            (None, None) => return Ok(None),
            (Some(entry), None) => return Ok(Some(entry)),
            (Some(entry), Some((key, _))) if entry.0 < key => return Ok(Some(entry)),
            // The changed key comes first (or shadows the same key below).
            (_, Some((key, Some(value)))) => return Ok(Some((key, value))),
            (_, Some((key, None))) => cursor = Some(key),
        }
    }
}

/// Pending changes over a [`StateRead`] backend, in two layers: the changes of the
/// transactions already applied in this block, and those of the transaction in progress,
/// which are either committed into the block or rolled back whole.
pub struct StateOverlay<'a> {
    backend: &'a dyn StateRead,
    block_changes: StateChanges,
    transaction_changes: StateChanges,
}

impl<'a> StateOverlay<'a> {
    /// An empty overlay over `backend`.
    pub fn new(backend: &'a dyn StateRead) -> Self {
        StateOverlay {
            backend,
            block_changes: StateChanges::new(),
            transaction_changes: StateChanges::new(),
        }
    }

    /// The current value of `key`, seeing pending changes first.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(value) = self.transaction_changes.get(key) {
            return Ok(value.clone());
        }
        if let Some(value) = self.block_changes.get(key) {
            return Ok(value.clone());
        }
        self.backend.get(key)
    }

    /// The next entry with `prefix` after `after`, seeing pending changes.
    pub fn next_entry(
        &self,
        prefix: &[u8],
        after: Option<&[u8]>,
    ) -> Result<Option<Entry>, StateError> {
        let block = Layered {
            changes: &self.block_changes,
            below: self.backend,
        };
        next_entry_through(&self.transaction_changes, &block, prefix, after)
    }

    /// Sets `key` to `value` in the transaction in progress.
    pub fn set(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.transaction_changes.insert(key, Some(value));
    }

    /// Deletes `key` in the transaction in progress.
    pub fn remove(&mut self, key: Vec<u8>) {
        self.transaction_changes.insert(key, None);
    }

    /// Keeps the changes of the transaction in progress.
    pub fn commit_transaction(&mut self) {
        let changes = std::mem::take(&mut self.transaction_changes);
        self.block_changes.extend(changes);
    }

    /// Discards the changes of the transaction in progress.
    pub fn rollback_transaction(&mut self) {
        self.transaction_changes.clear();
    }

    /// The committed changes of the block (a transaction in progress is discarded).
    pub fn into_changes(self) -> StateChanges {
        self.block_changes
    }
}

/// An overlay reads like any state: pallets' read helpers take `&dyn StateRead` and so
/// serve both a block in progress and committed state.
impl StateRead for StateOverlay<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        StateOverlay::get(self, key)
    }

    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        StateOverlay::next_entry(self, prefix, after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all_with_prefix(state: &dyn StateRead, prefix: &[u8]) -> Vec<Entry> {
        let mut found = Vec::new();
        let mut after: Option<Vec<u8>> = None;
        while let Some(entry) = state.next_entry(prefix, after.as_deref()).unwrap() {
            after = Some(entry.0.clone());
            found.push(entry);
        }
        found
    }

    proptest! {
        /// Iterating through two layers of changes lists exactly the entries of the state
        /// those changes produce, in key order.
        #[test]
        fn iteration_through_layers_matches_the_applied_state(
            base in proptest::collection::btree_map(proptest::collection::vec(0u8..4, 0..4), any::<u8>(), 0..20),
            block in proptest::collection::btree_map(proptest::collection::vec(0u8..4, 0..4), proptest::option::of(any::<u8>()), 0..20),
            transaction in proptest::collection::btree_map(proptest::collection::vec(0u8..4, 0..4), proptest::option::of(any::<u8>()), 0..20),
            prefix in proptest::collection::vec(0u8..4, 0..2),
        ) {
            let base: BTreeMap<Vec<u8>, Vec<u8>> = base.into_iter().map(|(k, v)| (k, vec![v])).collect();
            let mut overlay = StateOverlay::new(&base);
            let mut expected = base.clone();
            for (layer, commit) in [(&block, true), (&transaction, false)] {
                for (key, value) in layer {
                    match value {
                        Some(v) => { overlay.set(key.clone(), vec![*v]); expected.insert(key.clone(), vec![*v]); }
                        None => { overlay.remove(key.clone()); expected.remove(key); }
                    }
                }
                if commit { overlay.commit_transaction(); }
            }
            let wanted: Vec<Entry> = expected.into_iter().filter(|(k, _)| k.starts_with(&prefix)).collect();
            prop_assert_eq!(all_with_prefix(&overlay, &prefix), wanted);
        }
    }
}
