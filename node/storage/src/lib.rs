//! Storage of a wijk node in RocksDB.
//!
//! Owns: the on-disk layout (one column family per kind of record, see [`columns`]); the
//! commit rule: **one synced write batch per block**, holding the block, its certificate,
//! receipts, state changes, state-tree nodes and indexes (after a crash the node reopens
//! at the last committed block with nothing half-written); and the read caches in front
//! of the state and the state tree, which never answer differently from the disk.
//! Must never: decide validity (the runtime and consensus do), or write outside a batch.

mod cache;
mod layout;
mod sorted_batch;

pub use layout::columns;

use cache::{ColumnCache, Lookup};
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader};
use jmt::KeyHash;
use layout::{height_key, history_key, tree_node_key, tree_value_key};
use parity_scale_codec::{Decode, Encode};
use rocksdb::{ColumnFamilyDescriptor, Options, WriteBatch, WriteOptions, DB};
use sorted_batch::{CachedWrites, SortedBatch};
use std::path::Path;
use wijk_primitives::{decode_bounded, AccountId, FinalityCertificate, Hash, Header, Height};
use wijk_runtime::{
    Block, ExecutedBlock, Genesis, HookEvents, Receipt, Transaction, MAX_BLOCK_BYTES,
};
use wijk_support::{Entry, StateError, StateRead};

/// Why storage failed.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// RocksDB returned an error.
    #[error("database error: {0}")]
    Db(#[from] rocksdb::Error),
    /// A record does not decode: the database is corrupt or from another version.
    #[error("corrupt {what} in the database: {reason}")]
    Corrupt {
        /// Which record.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// The database belongs to another chain.
    #[error("the database at this base path is for chain {found}, not {expected}; use another --base-path or purge-chain")]
    GenesisMismatch {
        /// This chain's genesis hash.
        expected: Hash,
        /// The database's.
        found: Hash,
    },
    /// The database was written in another storage format (an older node's).
    #[error("the database at this base path is in storage format {found}; this node reads format {expected}. Run purge-chain (the chain starts again from genesis) or use another --base-path")]
    FormatMismatch {
        /// The format this node reads and writes.
        expected: u32,
        /// The database's (1 for databases from before formats were recorded).
        found: u32,
    },
    /// A block was committed out of order.
    #[error("cannot commit block {height}: the next height is {expected}")]
    OutOfOrder {
        /// The block's height.
        height: Height,
        /// The height expected.
        expected: Height,
    },
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct TxLocation {
    /// Block height.
    pub height: Height,
    /// Position in the block.
    pub index: u32,
}

/// One entry of an account's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    /// Where.
    pub location: TxLocation,
    /// Which transaction.
    pub tx_hash: Hash,
}

/// The node's database.
pub struct Storage {
    db: DB,
    /// The state column's hot keys (see [`cache`]).
    state_cache: ColumnCache,
    /// The newest state-tree nodes, which the next blocks' state roots read again.
    node_cache: ColumnCache,
}

/// State keys cached: a neighbourhood's accounts, several keys each.
const STATE_CACHE_KEYS: usize = 262_144;
/// Tree nodes cached: the nodes of the last several thousand blocks' paths (an internal
/// node is under a kilobyte).
const NODE_CACHE_KEYS: usize = 65_536;

const META_GENESIS_HASH: &[u8] = b"genesis_hash";
const META_FORMAT_VERSION: &[u8] = b"format_version";

/// The storage format: what the columns hold and how their keys are encoded. A database
/// in another format is refused rather than misread.
/// - 1: state under per-pallet keys, tree nodes under jmt's own key encoding (unrecorded).
/// - 2: one record per account (spec version 2), tree nodes keyed by version first
///   ([`layout::tree_node_key`]).
/// - 3: the pallet framework (spec version 3): storage-map keys big-endian, a block's
///   receipts stored with its hook events ([`BlockReceipts`]).
pub const FORMAT_VERSION: u32 = 3;
const META_FINALIZED_HEIGHT: &[u8] = b"finalized_height";

fn corrupt(what: &'static str) -> impl Fn(wijk_primitives::DecodeLimitError) -> StorageError {
    move |error| StorageError::Corrupt {
        what,
        reason: error.to_string(),
    }
}

impl Storage {
    /// Opens (creating if needed) the database in `path`.
    pub fn open(path: &Path) -> Result<Storage, StorageError> {
        let mut options = Options::default();
        options.create_if_missing(true);
        options.create_missing_column_families(true);
        options.set_max_open_files(512);
        options.increase_parallelism(2);
        options.set_max_background_jobs(2);
        // Most reads are point lookups of state, tree nodes and indexes: bloom filters spare
        // disk reads for absent keys, and one block cache serves every column family.
        let cache = rocksdb::Cache::new_lru_cache(256 * 1024 * 1024);
        let mut table = rocksdb::BlockBasedOptions::default();
        table.set_block_cache(&cache);
        table.set_bloom_filter(10.0, false);
        table.set_cache_index_and_filter_blocks(true);
        let column_options = || {
            let mut column = Options::default();
            column.set_block_based_table_factory(&table);
            column.set_compression_type(rocksdb::DBCompressionType::Lz4);
            // Blocks arrive as large batches; bigger memtables mean fewer, larger flushes.
            column.set_write_buffer_size(64 * 1024 * 1024);
            column
        };
        let descriptors = columns::ALL
            .iter()
            .map(|name| ColumnFamilyDescriptor::new(*name, column_options()));
        let db = DB::open_cf_descriptors(&options, path, descriptors)?;
        Ok(Storage {
            db,
            state_cache: ColumnCache::new(STATE_CACHE_KEYS),
            node_cache: ColumnCache::new(NODE_CACHE_KEYS),
        })
    }

    fn cf(&self, name: &'static str) -> &rocksdb::ColumnFamily {
        // Every column family in `columns::ALL` is created at open.
        self.db
            .cf_handle(name)
            .unwrap_or_else(|| unreachable!("column family {name} is created at open"))
    }

    fn get_decoded<T: Decode>(
        &self,
        column: &'static str,
        key: &[u8],
        what: &'static str,
        max: usize,
    ) -> Result<Option<T>, StorageError> {
        match self.db.get_pinned_cf(self.cf(column), key)? {
            Some(bytes) => Ok(Some(
                decode_bounded(what, &bytes, max).map_err(corrupt(what))?,
            )),
            None => Ok(None),
        }
    }

    /// The genesis hash this database was initialised with.
    pub fn genesis_hash(&self) -> Result<Option<Hash>, StorageError> {
        self.get_decoded(columns::META, META_GENESIS_HASH, "genesis hash", 32)
    }

    /// Height of the last committed (final) block.
    pub fn finalized_height(&self) -> Result<Option<Height>, StorageError> {
        self.get_decoded(columns::META, META_FINALIZED_HEIGHT, "finalized height", 8)
    }

    /// The storage format of this database, if it holds a chain (1 when it was written
    /// before formats were recorded).
    pub fn format_version(&self) -> Result<Option<u32>, StorageError> {
        if self.genesis_hash()?.is_none() {
            return Ok(None);
        }
        self.recorded_format().map(Some)
    }

    /// The format recorded in a database that holds a chain (1 when none was recorded).
    fn recorded_format(&self) -> Result<u32, StorageError> {
        let recorded = self.get_decoded(columns::META, META_FORMAT_VERSION, "format version", 4)?;
        Ok(recorded.unwrap_or(1))
    }

    /// Writes genesis if the database is empty, or checks it is the same chain, in this
    /// node's storage format.
    pub fn initialize(&self, genesis: &Genesis) -> Result<(), StorageError> {
        let expected = genesis.header.hash();
        if let Some(found) = self.genesis_hash()? {
            let format = self.recorded_format()?;
            if format != FORMAT_VERSION {
                return Err(StorageError::FormatMismatch {
                    expected: FORMAT_VERSION,
                    found: format,
                });
            }
            return if found == expected {
                Ok(())
            } else {
                Err(StorageError::GenesisMismatch { expected, found })
            };
        }
        let mut batch = SortedBatch::default();
        batch.put(columns::META, META_GENESIS_HASH, expected.encode());
        batch.put(columns::META, META_FORMAT_VERSION, FORMAT_VERSION.encode());
        self.put_block_records(
            &mut batch,
            &genesis.header,
            &[],
            (&[], &HookEvents::default()),
            None,
        )?;
        self.put_state(&mut batch, &genesis.changes, &genesis.tree_batch)?;
        let (write, cached) = self.rocksdb_batch(batch);
        self.write_synced(write)?;
        self.cache_written(cached);
        Ok(())
    }

    /// Commits a final block atomically: block, certificate, receipts, state, tree, indexes.
    pub fn commit_block(
        &self,
        block: &Block,
        executed: &ExecutedBlock,
        certificate: &FinalityCertificate,
    ) -> Result<(), StorageError> {
        self.commit_blocks(&[(block, executed)], certificate)
    }

    /// Commits consecutive final blocks in one synced write. `certificate` finalizes the
    /// last; the others are final as its ancestors (consensus may finalize several blocks
    /// with one certificate), and each is stored with it as its justification.
    pub fn commit_blocks(
        &self,
        blocks: &[(&Block, &ExecutedBlock)],
        certificate: &FinalityCertificate,
    ) -> Result<(), StorageError> {
        let next = self.finalized_height()?.map_or(0, |h| h + 1);
        let mut batch = SortedBatch::with_capacity(
            blocks
                .iter()
                .map(|(_, executed)| estimated_writes(executed))
                .sum(),
        );
        for (expected, (block, executed)) in (next..).zip(blocks) {
            if block.header.height != expected {
                return Err(StorageError::OutOfOrder {
                    height: block.header.height,
                    expected,
                });
            }
            self.put_block_records(
                &mut batch,
                &block.header,
                &block.transactions,
                (&executed.receipts, &executed.hook_events),
                Some(certificate),
            )?;
            self.put_state(&mut batch, &executed.changes, &executed.tree_batch)?;
        }
        let (mut write, cached) = self.rocksdb_batch(batch);
        // Votes of views up to the finalizing one can never matter again.
        write.delete_range_cf(
            self.cf(columns::VOTE_LOG),
            0u64.to_be_bytes(),
            certificate.view.saturating_add(1).to_be_bytes(),
        );
        self.write_synced(write)?;
        self.cache_written(cached);
        Ok(())
    }

    /// Records, synced, a vote this validator is about to sign in `view`, before it is
    /// sent: after a crash the node reloads these and refuses to sign anything
    /// conflicting. Entries for views finalized since are pruned with each block.
    pub fn log_vote(&self, view: u64, vote: &[u8]) -> Result<(), StorageError> {
        let mut key = view.to_be_bytes().to_vec();
        key.extend_from_slice(&wijk_primitives::blake3_hash(vote).0[..8]);
        let mut batch = WriteBatch::default();
        batch.put_cf(self.cf(columns::VOTE_LOG), key, vote);
        self.write_synced(batch)
    }

    /// Every vote in the log, in view order.
    pub fn logged_votes(&self) -> Result<Vec<Vec<u8>>, StorageError> {
        self.db
            .iterator_cf(self.cf(columns::VOTE_LOG), rocksdb::IteratorMode::Start)
            .map(|item| {
                item.map(|(_, value)| value.to_vec())
                    .map_err(StorageError::from)
            })
            .collect()
    }

    fn write_synced(&self, batch: WriteBatch) -> Result<(), StorageError> {
        let mut options = WriteOptions::default();
        options.set_sync(true);
        self.db.write_opt(batch, &options)?;
        Ok(())
    }

    fn put_block_records(
        &self,
        batch: &mut SortedBatch,
        header: &Header,
        transactions: &[Transaction],
        // A block's receipts and hook events, stored as one `BlockReceipts` record.
        (receipts, hooks): (&[Receipt], &HookEvents),
        certificate: Option<&FinalityCertificate>,
    ) -> Result<(), StorageError> {
        let height = height_key(header.height);
        let hash = header.hash();
        batch.put(columns::HEADERS, height, header.encode());
        batch.put(columns::BLOCK_HASHES, hash.0, header.height.encode());
        batch.put(columns::BODIES, height, transactions.encode());
        // The same bytes as `BlockReceipts { transactions, hooks }`, without copying them.
        batch.put(columns::RECEIPTS, height, (receipts, hooks).encode());
        if let Some(certificate) = certificate {
            batch.put(columns::CERTIFICATES, height, certificate.encode());
        }
        for (index, receipt) in receipts.iter().enumerate() {
            let location = TxLocation {
                height: header.height,
                index: index as u32,
            };
            batch.put(columns::TX_INDEX, receipt.tx_hash.0, location.encode());
            for account in receipt.involved_accounts() {
                batch.put(
                    columns::ACCOUNT_HISTORY,
                    history_key(&account, &location),
                    receipt.tx_hash.0.to_vec(),
                );
            }
        }
        batch.put(columns::META, META_FINALIZED_HEIGHT, header.height.encode());
        Ok(())
    }

    /// RocksDB's batch for `batch`, and what it writes to the cached columns.
    fn rocksdb_batch(&self, batch: SortedBatch) -> (WriteBatch, CachedWrites) {
        batch.into_write_batch(|name| self.cf(name), &[columns::STATE, columns::TREE_NODES])
    }

    /// Tells the caches what a write that has reached the disk wrote.
    fn cache_written(&self, written: CachedWrites) {
        let (mut state, mut nodes) = (Vec::new(), Vec::new());
        for write in written.0 {
            match write.column {
                columns::STATE => state.push((write.key, write.value)),
                columns::TREE_NODES => nodes.push((write.key, write.value)),
                _ => {}
            }
        }
        self.state_cache.wrote(state.into_iter());
        self.node_cache.wrote(nodes.into_iter());
    }

    fn put_state(
        &self,
        batch: &mut SortedBatch,
        changes: &wijk_support::StateChanges,
        tree_batch: &jmt::storage::TreeUpdateBatch,
    ) -> Result<(), StorageError> {
        for (key, value) in changes {
            match value {
                Some(value) => batch.put(columns::STATE, key.clone(), value.clone()),
                None => batch.delete(columns::STATE, key.clone()),
            }
        }
        for (node_key, node) in tree_batch.node_batch.nodes() {
            let key = tree_node_key(node_key).map_err(|e| StorageError::Corrupt {
                what: "tree node key",
                reason: e.to_string(),
            })?;
            // Sized for the node at once: borsh's own buffer grows from empty by doubling.
            let mut value = Vec::with_capacity(match node {
                Node::Internal(_) => MAX_INTERNAL_NODE_BYTES,
                _ => LEAF_NODE_BYTES,
            });
            borsh::to_writer(&mut value, node).map_err(|e| StorageError::Corrupt {
                what: "tree node",
                reason: e.to_string(),
            })?;
            batch.put(columns::TREE_NODES, key, value);
        }
        for ((version, key_hash), value) in tree_batch.node_batch.values() {
            batch.put(
                columns::TREE_VALUES,
                tree_value_key(key_hash, *version),
                value.encode(),
            );
        }
        Ok(())
    }

    /// Header at `height`.
    pub fn header(&self, height: Height) -> Result<Option<Header>, StorageError> {
        self.get_decoded(columns::HEADERS, &height_key(height), "header", 4096)
    }

    /// Height of the block with `hash`.
    pub fn height_of(&self, hash: &Hash) -> Result<Option<Height>, StorageError> {
        self.get_decoded(columns::BLOCK_HASHES, &hash.0, "block height", 8)
    }

    /// The last committed header.
    pub fn best_header(&self) -> Result<Option<Header>, StorageError> {
        match self.finalized_height()? {
            Some(height) => self.header(height),
            None => Ok(None),
        }
    }

    /// The block at `height`.
    pub fn block(&self, height: Height) -> Result<Option<Block>, StorageError> {
        let Some(header) = self.header(height)? else {
            return Ok(None);
        };
        let transactions: Vec<Transaction> = self
            .get_decoded(
                columns::BODIES,
                &height_key(height),
                "block body",
                MAX_BLOCK_BYTES,
            )?
            .unwrap_or_default();
        Ok(Some(Block {
            header,
            transactions,
        }))
    }

    /// Receipts of the block at `height`, with its hook events: what its receipts root
    /// commits to.
    pub fn receipts(&self, height: Height) -> Result<Option<BlockReceipts>, StorageError> {
        self.get_decoded(
            columns::RECEIPTS,
            &height_key(height),
            "receipts",
            MAX_BLOCK_BYTES,
        )
    }

    /// The stored receipts record of the block at `height`, as SCALE bytes (what
    /// `chain_getReceipts` serves, so a verifier can recompute the receipts root).
    pub fn receipts_bytes(&self, height: Height) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .db
            .get_cf(self.cf(columns::RECEIPTS), height_key(height))?)
    }

    /// The finality certificate that made the block at `height` final: its own, or (for a
    /// block finalized as an ancestor) the certificate of the descendant at
    /// `certificate.height`, which links back to it through parent hashes.
    pub fn certificate(&self, height: Height) -> Result<Option<FinalityCertificate>, StorageError> {
        self.get_decoded(
            columns::CERTIFICATES,
            &height_key(height),
            "certificate",
            1 << 20,
        )
    }

    /// Where the transaction `hash` was included.
    pub fn transaction_location(&self, hash: &Hash) -> Result<Option<TxLocation>, StorageError> {
        self.get_decoded(columns::TX_INDEX, &hash.0, "transaction location", 16)
    }

    /// Up to `limit` history entries of `account`, newest first, strictly older than
    /// `before` when given (for paging).
    pub fn account_history(
        &self,
        account: &AccountId,
        before: Option<TxLocation>,
        limit: usize,
    ) -> Result<Vec<HistoryEntry>, StorageError> {
        let start = match before {
            Some(location) => history_key(account, &location),
            None => history_key(
                account,
                &TxLocation {
                    height: Height::MAX,
                    index: u32::MAX,
                },
            ),
        };
        let mut iter = self.db.raw_iterator_cf(self.cf(columns::ACCOUNT_HISTORY));
        iter.seek_for_prev(start.as_slice());
        let mut entries = Vec::new();
        while iter.valid() && entries.len() < limit {
            let (Some(key), Some(value)) = (iter.key(), iter.value()) else {
                break;
            };
            if !key.starts_with(account.as_bytes()) {
                break;
            }
            if before.is_some() && key == start.as_slice() {
                iter.prev();
                continue;
            }
            let location = layout::parse_history_key(key).ok_or(StorageError::Corrupt {
                what: "history key",
                reason: "wrong length".into(),
            })?;
            let tx_hash = <[u8; 32]>::try_from(value).map_err(|_| StorageError::Corrupt {
                what: "history entry",
                reason: "not 32 bytes".into(),
            })?;
            entries.push(HistoryEntry {
                location,
                tx_hash: Hash(tx_hash),
            });
            iter.prev();
        }
        iter.status()?;
        Ok(entries)
    }
}

impl Storage {
    /// Reads `key` of a cached column through `cache`.
    fn get_cached(
        &self,
        cache: &ColumnCache,
        column: &'static str,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, rocksdb::Error> {
        match cache.get(key) {
            Lookup::Hit(value) => Ok(value),
            Lookup::Miss(generation) => {
                let value = self.db.get_cf(self.cf(column), key)?;
                cache.fill(key, &value, generation);
                Ok(value)
            }
        }
    }
}

/// The encoded size of a jmt internal node with all 16 children (hash, version, kind
/// each), rounded up; a leaf is a key hash, a value hash and a tag.
const MAX_INTERNAL_NODE_BYTES: usize = 16 * 48 + 16;
const LEAF_NODE_BYTES: usize = 72;

/// About how many writes committing `executed` makes: each state change twice (the value
/// and the tree's copy), each tree node, and per receipt its index entry and the history
/// entries of its signer and one other account, with the block's own records.
fn estimated_writes(executed: &ExecutedBlock) -> usize {
    2 * executed.changes.len()
        + executed.tree_batch.node_batch.nodes().len()
        + 3 * executed.receipts.len()
        + 16
}

fn backend_error(error: rocksdb::Error) -> StateError {
    StateError::Backend {
        reason: error.to_string(),
    }
}

impl StateRead for Storage {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.get_cached(&self.state_cache, columns::STATE, key)
            .map_err(backend_error)
    }

    /// Reads the state column in key order (past the cache, which only serves point
    /// reads; listing is for RPC pages and audits, never the hot path).
    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        let mut iter = self.db.raw_iterator_cf(self.cf(columns::STATE));
        match after {
            Some(after) if after >= prefix => {
                iter.seek(after);
                if iter.valid() && iter.key() == Some(after) {
                    iter.next();
                }
            }
            _ => iter.seek(prefix),
        }
        iter.status().map_err(backend_error)?;
        match (iter.key(), iter.value()) {
            (Some(key), Some(value)) if key.starts_with(prefix) => {
                Ok(Some((key.to_vec(), value.to_vec())))
            }
            _ => Ok(None),
        }
    }
}

impl TreeReader for Storage {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = tree_node_key(node_key)?;
        match self.get_cached(&self.node_cache, columns::TREE_NODES, &key)? {
            Some(bytes) => Ok(Some(borsh::from_slice(&bytes)?)),
            None => Ok(None),
        }
    }

    fn get_value_option(
        &self,
        max_version: jmt::Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<jmt::OwnedValue>> {
        let mut iter = self.db.raw_iterator_cf(self.cf(columns::TREE_VALUES));
        iter.seek_for_prev(tree_value_key(&key_hash, max_version));
        if !iter.valid() {
            iter.status()?;
            return Ok(None);
        }
        match (iter.key(), iter.value()) {
            (Some(key), Some(value)) if key.starts_with(&key_hash.0) => {
                let value: Option<Vec<u8>> =
                    decode_bounded("tree value", value, wijk_support::MAX_STATE_VALUE_BYTES + 8)?;
                Ok(value)
            }
            _ => Ok(None),
        }
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("tree restore is not supported")
    }
}

#[cfg(test)]
mod tests;

/// What the receipts column holds for a block: one receipt per transaction and the
/// events of the block's hooks, exactly what its header's receipts root commits to (see
/// [`wijk_runtime::receipts_root`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct BlockReceipts {
    /// One per transaction, in block order.
    pub transactions: Vec<Receipt>,
    /// Events of the block's begin- and end-block hooks.
    pub hooks: HookEvents,
}

/// Announced after a block is committed: what RPC subscribers and the pool learn.
#[derive(Debug, Clone)]
pub struct CommittedBlock {
    /// The block's header.
    pub header: Header,
    /// Hashes of its transactions, in order.
    pub tx_hashes: Vec<Hash>,
}
