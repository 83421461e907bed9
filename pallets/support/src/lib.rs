//! The small pallet framework every wijk pallet is written against.
//!
//! Owns: the [`StateRead`] seam between the pure runtime and whatever stores state, the
//! [`StateOverlay`] that collects a block's changes with per-transaction rollback, typed
//! storage items ([`StorageValue`], [`StorageMap`]) and the [`Origin`] of a call.
//! Must never: do I/O itself, depend on a concrete database, or hold chain rules.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

use parity_scale_codec::{Decode, Encode};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use wijk_primitives::AccountId;

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

/// Read access to committed state. Implemented by the node's storage and by test maps.
pub trait StateRead {
    /// The value under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
}

impl StateRead for BTreeMap<Vec<u8>, Vec<u8>> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(BTreeMap::get(self, key).cloned())
    }
}

/// A set of state changes: `None` deletes the key.
pub type StateChanges = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

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

fn decode_stored<V: Decode>(key: &[u8], bytes: &[u8]) -> Result<V, StateError> {
    wijk_primitives::decode_bounded::<V>("stored value", bytes, MAX_STATE_VALUE_BYTES).map_err(
        |error| StateError::Corrupt {
            key_hex: hex::encode(key),
            reason: error.to_string(),
        },
    )
}

/// A single typed value under a fixed key.
pub struct StorageValue<V> {
    key: &'static [u8],
    _value: PhantomData<V>,
}

impl<V: Encode + Decode> StorageValue<V> {
    /// Declares the item at `key` (by convention `pallet/item`).
    pub const fn new(key: &'static [u8]) -> Self {
        StorageValue {
            key,
            _value: PhantomData,
        }
    }

    /// The raw key.
    pub fn key(&self) -> Vec<u8> {
        self.key.to_vec()
    }

    /// Reads the value.
    pub fn get(&self, state: &StateOverlay<'_>) -> Result<Option<V>, StateError> {
        state
            .get(self.key)?
            .map(|bytes| decode_stored(self.key, &bytes))
            .transpose()
    }

    /// Writes the value.
    pub fn put(&self, state: &mut StateOverlay<'_>, value: &V) {
        state.set(self.key.to_vec(), value.encode());
    }
}

/// A typed map: the value for `k` lives under `prefix || SCALE(k)`.
pub struct StorageMap<K, V> {
    prefix: &'static [u8],
    _types: PhantomData<(K, V)>,
}

impl<K: Encode, V: Encode + Decode> StorageMap<K, V> {
    /// Declares the map under `prefix` (by convention `pallet/item/`).
    pub const fn new(prefix: &'static [u8]) -> Self {
        StorageMap {
            prefix,
            _types: PhantomData,
        }
    }

    /// The raw key of entry `k`; RPC and proofs use it.
    pub fn key(&self, k: &K) -> Vec<u8> {
        let mut key = self.prefix.to_vec();
        k.encode_to(&mut key);
        key
    }

    /// Reads entry `k`.
    pub fn get(&self, state: &StateOverlay<'_>, k: &K) -> Result<Option<V>, StateError> {
        let key = self.key(k);
        state
            .get(&key)?
            .map(|bytes| decode_stored(&key, &bytes))
            .transpose()
    }

    /// Reads entry `k` straight from a backend (for RPC queries outside a block).
    pub fn get_committed(&self, backend: &dyn StateRead, k: &K) -> Result<Option<V>, StateError> {
        let key = self.key(k);
        backend
            .get(&key)?
            .map(|bytes| decode_stored(&key, &bytes))
            .transpose()
    }

    /// Writes entry `k`.
    pub fn insert(&self, state: &mut StateOverlay<'_>, k: &K, value: &V) {
        state.set(self.key(k), value.encode());
    }

    /// Deletes entry `k`.
    pub fn remove(&self, state: &mut StateOverlay<'_>, k: &K) {
        state.remove(self.key(k));
    }
}

impl<V: Encode + Decode> StorageValue<V> {
    /// Reads the value straight from a backend (for RPC queries outside a block).
    pub fn get_committed(&self, backend: &dyn StateRead) -> Result<Option<V>, StateError> {
        backend
            .get(self.key)?
            .map(|bytes| decode_stored(self.key, &bytes))
            .transpose()
    }
}

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum Origin {
    /// A transaction signed by this account.
    Signed(AccountId),
}

impl Origin {
    /// The signing account.
    pub fn signer(&self) -> AccountId {
        match self {
            Origin::Signed(account) => *account,
        }
    }
}

/// Where and when a call executes; pallets read the time from here, never from a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockContext {
    /// Height of the block being executed.
    pub height: wijk_primitives::Height,
    /// Its timestamp.
    pub timestamp_ms: wijk_primitives::TimestampMs,
    /// The chain's genesis hash, which every signature on this chain binds (for checking
    /// signed evidence inside a call).
    pub genesis_hash: wijk_primitives::Hash,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_discards_only_the_transaction_in_progress() {
        let backend = BTreeMap::from([(b"a".to_vec(), 1u32.encode())]);
        let item: StorageValue<u32> = StorageValue::new(b"a");
        let mut overlay = StateOverlay::new(&backend);
        item.put(&mut overlay, &2);
        overlay.commit_transaction();
        item.put(&mut overlay, &3);
        assert_eq!(item.get(&overlay), Ok(Some(3)));
        overlay.rollback_transaction();
        assert_eq!(item.get(&overlay), Ok(Some(2)));
        let changes = overlay.into_changes();
        assert_eq!(changes.get(b"a".as_slice()), Some(&Some(2u32.encode())));
    }

    #[test]
    fn corrupt_value_is_a_typed_error() {
        let backend = BTreeMap::from([(b"a".to_vec(), vec![1u8])]);
        let item: StorageValue<u32> = StorageValue::new(b"a");
        let overlay = StateOverlay::new(&backend);
        assert!(matches!(
            item.get(&overlay),
            Err(StateError::Corrupt { .. })
        ));
    }
}
