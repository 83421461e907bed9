//! An in-memory read cache in front of one column: the hot state (the accounts residents
//! use every day) and the newest state-tree nodes are read on every block, and a RocksDB
//! lookup walks the memtable's skip list each time. The cache never answers differently
//! from the database.
//!
//! Why it cannot go stale: every write to the column goes through [`ColumnCache::wrote`]
//! after the synced write succeeded, and bumps a generation. A reader that missed reads
//! the database and keeps its answer only if no write happened since it looked
//! ([`ColumnCache::fill`] compares the generation it saw), so an answer read before a
//! write can never be stored after it.

use hashlink::LruCache;
use std::sync::{Mutex, MutexGuard};

/// The answer the cache holds for a key: its value, or `None` when the key is absent.
pub(crate) type Cached = Option<Vec<u8>>;

/// What a lookup found.
pub(crate) enum Lookup {
    /// The cache holds the key.
    Hit(Cached),
    /// Not held: read the database, then [`ColumnCache::fill`] with this generation.
    Miss(u64),
}

struct Inner {
    generation: u64,
    entries: LruCache<Vec<u8>, Cached>,
}

/// A bounded, least-recently-used cache of one column.
pub(crate) struct ColumnCache {
    inner: Mutex<Inner>,
}

impl ColumnCache {
    /// An empty cache of at most `capacity` keys.
    pub(crate) fn new(capacity: usize) -> Self {
        ColumnCache {
            inner: Mutex::new(Inner {
                generation: 0,
                entries: LruCache::new(capacity),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The cache holds no invariant a panicking holder could break half-way that the
        // generation check does not cover: clear it to be safe.
        self.inner.lock().unwrap_or_else(|poisoned| {
            let mut inner = poisoned.into_inner();
            inner.entries.clear();
            inner.generation += 1;
            inner
        })
    }

    /// Looks `key` up.
    pub(crate) fn get(&self, key: &[u8]) -> Lookup {
        let mut inner = self.lock();
        match inner.entries.get(key) {
            Some(value) => Lookup::Hit(value.clone()),
            None => Lookup::Miss(inner.generation),
        }
    }

    /// Keeps `value`, read from the database after a [`Lookup::Miss`] at `generation`,
    /// unless the column was written since.
    pub(crate) fn fill(&self, key: &[u8], value: &Cached, generation: u64) {
        let mut inner = self.lock();
        if inner.generation == generation {
            inner.entries.insert(key.to_vec(), value.clone());
        }
    }

    /// Records a write that has reached the database: these keys now hold these values.
    pub(crate) fn wrote(&self, written: impl Iterator<Item = (Vec<u8>, Cached)>) {
        let mut inner = self.lock();
        inner.generation += 1;
        for (key, value) in written {
            inner.entries.insert(key, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_from_before_a_write_is_not_kept() {
        let cache = ColumnCache::new(10);
        let Lookup::Miss(seen) = cache.get(b"k") else {
            panic!("an empty cache holds nothing");
        };
        // The database said "absent", then a write stored a value before the fill.
        cache.wrote([(b"k".to_vec(), Some(b"new".to_vec()))].into_iter());
        cache.fill(b"k", &None, seen);
        assert!(matches!(cache.get(b"k"), Lookup::Hit(Some(v)) if v == b"new"));
    }

    #[test]
    fn fills_deletes_and_evicts_the_least_recently_used() {
        let cache = ColumnCache::new(2);
        for key in [&b"a"[..], b"b"] {
            let Lookup::Miss(seen) = cache.get(key) else {
                panic!("empty")
            };
            cache.fill(key, &Some(key.to_vec()), seen);
        }
        assert!(matches!(cache.get(b"a"), Lookup::Hit(Some(_))));
        cache.wrote([(b"c".to_vec(), None)].into_iter());
        // "b" was used least recently.
        assert!(matches!(cache.get(b"b"), Lookup::Miss(_)));
        assert!(matches!(cache.get(b"a"), Lookup::Hit(Some(_))));
        assert!(matches!(cache.get(b"c"), Lookup::Hit(None)));
    }
}
