//! The on-disk layout: column families and key encodings.
//!
//! Heights are big-endian in keys so RocksDB's byte order is height order, which makes
//! "newest first" a reverse scan.

use crate::TxLocation;
use jmt::storage::NodeKey;
use jmt::KeyHash;
use wijk_primitives::{AccountId, Height};

/// Column family names.
pub mod columns {
    /// Genesis hash, finalized height.
    pub const META: &str = "meta";
    /// height -> header.
    pub const HEADERS: &str = "headers";
    /// block hash -> height.
    pub const BLOCK_HASHES: &str = "block_hashes";
    /// height -> transactions.
    pub const BODIES: &str = "bodies";
    /// height -> receipts.
    pub const RECEIPTS: &str = "receipts";
    /// height -> finality certificate.
    pub const CERTIFICATES: &str = "certificates";
    /// state key -> latest value (what the runtime reads).
    pub const STATE: &str = "state";
    /// version (big-endian) || nibble path -> jmt node (see [`super::tree_node_key`]).
    pub const TREE_NODES: &str = "tree_nodes";
    /// key hash || version -> value at that version (for proofs at any height).
    pub const TREE_VALUES: &str = "tree_values";
    /// tx hash -> location.
    pub const TX_INDEX: &str = "tx_index";
    /// account || height || index -> tx hash.
    pub const ACCOUNT_HISTORY: &str = "account_history";
    /// view || blake3(vote)[..8] -> a vote this validator signed (its double-sign guard).
    pub const VOTE_LOG: &str = "vote_log";

    /// All of them, created at open.
    pub const ALL: [&str; 12] = [
        META,
        HEADERS,
        BLOCK_HASHES,
        BODIES,
        RECEIPTS,
        CERTIFICATES,
        STATE,
        TREE_NODES,
        TREE_VALUES,
        TX_INDEX,
        ACCOUNT_HISTORY,
        VOTE_LOG,
    ];
}

pub(crate) fn height_key(height: Height) -> [u8; 8] {
    height.to_be_bytes()
}

/// The key of a state-tree node: its version (the block height) big-endian first, then
/// its nibble path (borsh, as jmt writes it).
///
/// Why version first: a block writes a few thousand new nodes, all at its own version,
/// and RocksDB inserts each into a skip list. Under jmt's own encoding (version
/// little-endian first) they landed scattered among the older nodes, and each insert
/// searched the list afresh; in version order a block's nodes follow the newest ones, so
/// each insert starts where the previous one ended. Sorted files of successive blocks
/// also cover disjoint key ranges, which compaction can move without rewriting.
pub(crate) fn tree_node_key(node_key: &NodeKey) -> std::io::Result<Vec<u8>> {
    let mut key = node_key.version().to_be_bytes().to_vec();
    borsh::to_writer(&mut key, node_key.nibble_path())?;
    Ok(key)
}

pub(crate) fn tree_value_key(key_hash: &KeyHash, version: Height) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..32].copy_from_slice(&key_hash.0);
    key[32..].copy_from_slice(&version.to_be_bytes());
    key
}

pub(crate) fn history_key(account: &AccountId, location: &TxLocation) -> [u8; 44] {
    let mut key = [0u8; 44];
    key[..32].copy_from_slice(account.as_bytes());
    key[32..40].copy_from_slice(&location.height.to_be_bytes());
    key[40..].copy_from_slice(&location.index.to_be_bytes());
    key
}

pub(crate) fn parse_history_key(key: &[u8]) -> Option<TxLocation> {
    if key.len() != 44 {
        return None;
    }
    let height = Height::from_be_bytes(key[32..40].try_into().ok()?);
    let index = u32::from_be_bytes(key[40..44].try_into().ok()?);
    Some(TxLocation { height, index })
}
