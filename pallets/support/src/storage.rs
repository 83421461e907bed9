//! Typed storage items: a value under a fixed key, a map from keys to values with paged
//! listing in key order, and an append-only log listed in the order it was written.
//!
//! **Key encoding.** A map entry lives under `prefix || key bytes`, where the key bytes
//! are [`StorageKey::encode_key`]: unsigned integers big-endian, accounts and hashes as
//! their 32 raw bytes, tuples as the concatenation of their parts. Big-endian keeps byte
//! order equal to numeric order, so a map keyed by a height or an index lists in that
//! order (SCALE's little-endian integers would list 256 before 1). Values are SCALE.

use crate::state::{StateError, StateOverlay, StateRead, MAX_STATE_VALUE_BYTES};
use parity_scale_codec::{Decode, Encode};
use std::marker::PhantomData;
use wijk_primitives::{AccountId, Hash};

/// A type that can key a [`StorageMap`]: a fixed-width, order-preserving byte form.
pub trait StorageKey: Sized {
    /// Appends this key's bytes.
    fn encode_key(&self, out: &mut Vec<u8>);
    /// Reads a key from the front of `bytes`, advancing it; `None` if it is malformed.
    fn decode_key(bytes: &mut &[u8]) -> Option<Self>;
}

fn take<'a>(bytes: &mut &'a [u8], len: usize) -> Option<&'a [u8]> {
    if bytes.len() < len {
        return None;
    }
    let (head, rest) = bytes.split_at(len);
    *bytes = rest;
    Some(head)
}

macro_rules! big_endian_key {
    ($($int:ty),*) => {$(
        impl StorageKey for $int {
            fn encode_key(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_be_bytes());
            }
            fn decode_key(bytes: &mut &[u8]) -> Option<Self> {
                let raw = take(bytes, std::mem::size_of::<$int>())?;
                Some(<$int>::from_be_bytes(raw.try_into().ok()?))
            }
        }
    )*};
}
big_endian_key!(u8, u16, u32, u64, u128);

impl<const N: usize> StorageKey for [u8; N] {
    fn encode_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(self);
    }
    fn decode_key(bytes: &mut &[u8]) -> Option<Self> {
        take(bytes, N)?.try_into().ok()
    }
}

impl StorageKey for AccountId {
    fn encode_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode_key(bytes: &mut &[u8]) -> Option<Self> {
        <[u8; 32]>::decode_key(bytes).map(AccountId)
    }
}

impl StorageKey for Hash {
    fn encode_key(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.0);
    }
    fn decode_key(bytes: &mut &[u8]) -> Option<Self> {
        <[u8; 32]>::decode_key(bytes).map(Hash)
    }
}

impl<A: StorageKey, B: StorageKey> StorageKey for (A, B) {
    fn encode_key(&self, out: &mut Vec<u8>) {
        self.0.encode_key(out);
        self.1.encode_key(out);
    }
    fn decode_key(bytes: &mut &[u8]) -> Option<Self> {
        Some((A::decode_key(bytes)?, B::decode_key(bytes)?))
    }
}

impl<A: StorageKey, B: StorageKey, C: StorageKey> StorageKey for (A, B, C) {
    fn encode_key(&self, out: &mut Vec<u8>) {
        self.0.encode_key(out);
        self.1.encode_key(out);
        self.2.encode_key(out);
    }
    fn decode_key(bytes: &mut &[u8]) -> Option<Self> {
        Some((
            A::decode_key(bytes)?,
            B::decode_key(bytes)?,
            C::decode_key(bytes)?,
        ))
    }
}

fn corrupt(key: &[u8], reason: impl ToString) -> StateError {
    StateError::Corrupt {
        key_hex: hex::encode(key),
        reason: reason.to_string(),
    }
}

fn decode_stored<V: Decode>(key: &[u8], bytes: &[u8]) -> Result<V, StateError> {
    wijk_primitives::decode_bounded::<V>("stored value", bytes, MAX_STATE_VALUE_BYTES)
        .map_err(|error| corrupt(key, error))
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

    /// Reads the value from any state: a block in progress or committed state.
    pub fn get(&self, state: &dyn StateRead) -> Result<Option<V>, StateError> {
        state
            .get(self.key)?
            .map(|bytes| decode_stored(self.key, &bytes))
            .transpose()
    }

    /// Writes the value.
    pub fn put(&self, state: &mut StateOverlay<'_>, value: &V) {
        state.set(self.key.to_vec(), value.encode());
    }

    /// Deletes the value.
    pub fn remove(&self, state: &mut StateOverlay<'_>) {
        state.remove(self.key.to_vec());
    }
}

/// One page of a listing: the entries, and the key to continue after if there may be more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<K, V> {
    /// Entries in key order.
    pub entries: Vec<(K, V)>,
    /// Pass as `after` to get the next page; `None` when this page reached the end.
    pub next: Option<K>,
}

/// A typed map: the value for `k` lives under `prefix || k.encode_key()`.
pub struct StorageMap<K, V> {
    prefix: &'static [u8],
    _types: PhantomData<(K, V)>,
}

impl<K: StorageKey + Clone, V: Encode + Decode> StorageMap<K, V> {
    /// Declares the map under `prefix` (by convention `pallet/item/`).
    pub const fn new(prefix: &'static [u8]) -> Self {
        StorageMap {
            prefix,
            _types: PhantomData,
        }
    }

    /// The map's key prefix.
    pub fn prefix(&self) -> &'static [u8] {
        self.prefix
    }

    /// The raw key of entry `k`; RPC and proofs use it.
    pub fn key(&self, k: &K) -> Vec<u8> {
        let mut key = self.prefix.to_vec();
        k.encode_key(&mut key);
        key
    }

    /// Reads entry `k` from any state.
    pub fn get(&self, state: &dyn StateRead, k: &K) -> Result<Option<V>, StateError> {
        let key = self.key(k);
        state
            .get(&key)?
            .map(|bytes| decode_stored(&key, &bytes))
            .transpose()
    }

    /// Whether entry `k` exists.
    pub fn contains(&self, state: &dyn StateRead, k: &K) -> Result<bool, StateError> {
        Ok(state.get(&self.key(k))?.is_some())
    }

    /// Writes entry `k`.
    pub fn insert(&self, state: &mut StateOverlay<'_>, k: &K, value: &V) {
        state.set(self.key(k), value.encode());
    }

    /// Deletes entry `k`.
    pub fn remove(&self, state: &mut StateOverlay<'_>, k: &K) {
        state.remove(self.key(k));
    }

    /// Up to `limit` entries in key order, after `after` (from the first when `None`).
    pub fn page(
        &self,
        state: &dyn StateRead,
        after: Option<&K>,
        limit: usize,
    ) -> Result<Page<K, V>, StateError> {
        let mut cursor = after.map(|k| self.key(k));
        let mut entries = Vec::new();
        while entries.len() < limit {
            let Some((raw_key, bytes)) = state.next_entry(self.prefix, cursor.as_deref())? else {
                return Ok(Page {
                    entries,
                    next: None,
                });
            };
            let mut rest = &raw_key[self.prefix.len()..];
            let key = K::decode_key(&mut rest)
                .filter(|_| rest.is_empty())
                .ok_or_else(|| corrupt(&raw_key, "key does not decode as the map's key type"))?;
            let value = decode_stored(&raw_key, &bytes)?;
            entries.push((key, value));
            cursor = Some(raw_key);
        }
        let next = entries.last().map(|(k, _)| k.clone());
        Ok(Page { entries, next })
    }

    /// Up to `limit` entries whose key starts with `first` (the leading part of a tuple
    /// key: every `(account, _)` of one account), in key order.
    pub fn page_under<P: StorageKey>(
        &self,
        state: &dyn StateRead,
        first: &P,
        limit: usize,
    ) -> Result<Vec<(K, V)>, StateError> {
        let mut prefix = self.prefix.to_vec();
        first.encode_key(&mut prefix);
        let mut cursor: Option<Vec<u8>> = None;
        let mut entries = Vec::new();
        while entries.len() < limit {
            let Some((raw_key, bytes)) = state.next_entry(&prefix, cursor.as_deref())? else {
                break;
            };
            let mut rest = &raw_key[self.prefix.len()..];
            let key = K::decode_key(&mut rest)
                .filter(|_| rest.is_empty())
                .ok_or_else(|| corrupt(&raw_key, "key does not decode as the map's key type"))?;
            entries.push((key, decode_stored(&raw_key, &bytes)?));
            cursor = Some(raw_key);
        }
        Ok(entries)
    }

    /// Visits every entry in key order, a page at a time (for audits and tests: the work
    /// grows with the map, so block execution must bound what it visits itself).
    pub fn for_each(
        &self,
        state: &dyn StateRead,
        mut visit: impl FnMut(K, V),
    ) -> Result<(), StateError> {
        let mut after: Option<K> = None;
        loop {
            let page = self.page(state, after.as_ref(), 256)?;
            for (key, value) in page.entries {
                visit(key, value);
            }
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(()),
            }
        }
    }
}

/// An append-only list, read back in the order it was written: entry `n` lives under
/// `prefix || n` (big-endian) and the count under `prefix || "len"`. The standard form for
/// records a pallet lists oldest first (offences, redemptions, decisions).
pub struct StorageLog<V> {
    entries: StorageMap<u64, V>,
    len_key: &'static [u8],
}

impl<V: Encode + Decode> StorageLog<V> {
    /// Declares a log: entries under `prefix` (`pallet/item/`), the count under `len_key`
    /// (`pallet/item_count`), which must not start with `prefix`.
    pub const fn new(prefix: &'static [u8], len_key: &'static [u8]) -> Self {
        StorageLog {
            entries: StorageMap::new(prefix),
            len_key,
        }
    }

    fn len_item(&self) -> StorageValue<u64> {
        StorageValue::new(self.len_key)
    }

    /// How many entries were appended.
    pub fn len(&self, state: &dyn StateRead) -> Result<u64, StateError> {
        Ok(self.len_item().get(state)?.unwrap_or(0))
    }

    /// Whether nothing was appended yet.
    pub fn is_empty(&self, state: &dyn StateRead) -> Result<bool, StateError> {
        Ok(self.len(state)? == 0)
    }

    /// Appends `value`; returns its index.
    pub fn push(&self, state: &mut StateOverlay<'_>, value: &V) -> Result<u64, StateError> {
        let index = self.len(state)?;
        self.entries.insert(state, &index, value);
        self.len_item().put(state, &index.saturating_add(1));
        Ok(index)
    }

    /// Entry `index`.
    pub fn get(&self, state: &dyn StateRead, index: u64) -> Result<Option<V>, StateError> {
        self.entries.get(state, &index)
    }

    /// Rewrites entry `index`, which must exist (a record whose status changes, such as a
    /// redemption paid); the log's order and length stay.
    pub fn replace(
        &self,
        state: &mut StateOverlay<'_>,
        index: u64,
        value: &V,
    ) -> Result<bool, StateError> {
        if index >= self.len(&*state)? {
            return Ok(false);
        }
        self.entries.insert(state, &index, value);
        Ok(true)
    }

    /// Rewrites entry `index`, which the caller read from this log: a missing one means the
    /// state is corrupt, and says so with its key.
    pub fn rewrite(
        &self,
        state: &mut StateOverlay<'_>,
        index: u64,
        value: &V,
    ) -> Result<(), StateError> {
        if self.replace(state, index, value)? {
            Ok(())
        } else {
            Err(corrupt(
                &self.key(index),
                "a record read from this log is missing",
            ))
        }
    }

    /// The raw key of entry `index`.
    pub fn key(&self, index: u64) -> Vec<u8> {
        self.entries.key(&index)
    }

    /// Entries `from..from + limit`, oldest first.
    pub fn page(
        &self,
        state: &dyn StateRead,
        from: u64,
        limit: usize,
    ) -> Result<Vec<(u64, V)>, StateError> {
        let after = from.checked_sub(1);
        Ok(self.entries.page(state, after.as_ref(), limit)?.entries)
    }

    /// Visits every entry, oldest first.
    pub fn for_each(
        &self,
        state: &dyn StateRead,
        visit: impl FnMut(u64, V),
    ) -> Result<(), StateError> {
        self.entries.for_each(state, visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

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

    #[test]
    fn integer_keys_list_in_numeric_order_across_pages() {
        const MAP: StorageMap<u64, u32> = StorageMap::new(b"t/map/");
        let backend = BTreeMap::new();
        let mut state = StateOverlay::new(&backend);
        for n in [300u64, 1, 256, 2, 70_000] {
            MAP.insert(&mut state, &n, &(n as u32));
        }
        // Something under a neighbouring prefix is not listed.
        state.set(b"t/mapx".to_vec(), vec![0]);
        let first = MAP.page(&state, None, 3).unwrap();
        assert_eq!(
            first.entries.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            [1, 2, 256]
        );
        let second = MAP.page(&state, first.next.as_ref(), 3).unwrap();
        assert_eq!(
            second.entries.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            [300, 70_000]
        );
        assert_eq!(second.next, None);
    }

    #[test]
    fn a_log_lists_oldest_first_from_any_index() {
        const LOG: StorageLog<u8> = StorageLog::new(b"t/log/", b"t/log_len");
        let backend = BTreeMap::new();
        let mut state = StateOverlay::new(&backend);
        for value in 0..5u8 {
            assert_eq!(LOG.push(&mut state, &(value * 10)), Ok(u64::from(value)));
        }
        assert_eq!(LOG.len(&state), Ok(5));
        assert_eq!(LOG.page(&state, 3, 10), Ok(vec![(3, 30), (4, 40)]));
        assert_eq!(LOG.page(&state, 0, 2), Ok(vec![(0, 0), (1, 10)]));
    }

    #[test]
    fn a_malformed_key_under_a_map_prefix_is_reported() {
        const MAP: StorageMap<u64, u32> = StorageMap::new(b"t/map/");
        let backend = BTreeMap::from([(b"t/map/xyz".to_vec(), 1u32.encode())]);
        assert!(matches!(
            MAP.page(&backend, None, 10),
            Err(StateError::Corrupt { .. })
        ));
    }
}
