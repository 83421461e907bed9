//! The authenticated state: a Jellyfish Merkle tree (the `jmt` crate) over blake3.
//!
//! Each state key `k` is a leaf at `blake3(k)`; the tree's version is the block height, so
//! a proof can be served for any committed height. Proofs travel as borsh bytes (jmt's own
//! format) and are checked offline with [`verify_proof`] against a header's state root.

use crate::genesis::GenesisError;
use jmt::storage::{TreeReader, TreeUpdateBatch};
use jmt::{JellyfishMerkleTree, KeyHash, SimpleHasher};
use wijk_primitives::{Hash, Height};
use wijk_support::StateChanges;

/// blake3 as jmt's hasher.
#[derive(Clone)]
pub struct Blake3Hasher(blake3::Hasher);

impl SimpleHasher for Blake3Hasher {
    fn new() -> Self {
        Blake3Hasher(blake3::Hasher::new())
    }
    fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    fn finalize(self) -> [u8; 32] {
        *self.0.finalize().as_bytes()
    }
}

/// The tree type of wijk state.
pub type StateTree<'a, R> = JellyfishMerkleTree<'a, R, Blake3Hasher>;

/// Why the tree could not be read or updated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateTreeError {
    /// The tree storage failed or is inconsistent.
    #[error("state tree at version {version}: {reason}")]
    Tree {
        /// The version being read or written.
        version: Height,
        /// What jmt said.
        reason: String,
    },
    /// The proof bytes do not decode.
    #[error("malformed state proof: {reason}")]
    MalformedProof {
        /// Why.
        reason: String,
    },
    /// The proof does not show the claimed value under the root.
    #[error("state proof does not verify: {reason}")]
    ProofMismatch {
        /// Why.
        reason: String,
    },
}

impl From<StateTreeError> for GenesisError {
    fn from(error: StateTreeError) -> Self {
        GenesisError::StateTree {
            reason: error.to_string(),
        }
    }
}

/// The leaf position of a state key.
pub fn key_hash(key: &[u8]) -> KeyHash {
    KeyHash::with::<Blake3Hasher>(key)
}

/// Applies `changes` on top of the tree at `version - 1` (empty for version 0) and returns
/// the new root and the nodes to persist.
pub fn apply_changes<R: TreeReader>(
    reader: &R,
    version: Height,
    changes: &StateChanges,
) -> Result<(Hash, TreeUpdateBatch), StateTreeError> {
    let tree = StateTree::new(reader);
    let value_set = changes
        .iter()
        .map(|(key, value)| (key_hash(key), value.clone()));
    let (root, batch) =
        tree.put_value_set(value_set, version)
            .map_err(|error| StateTreeError::Tree {
                version,
                reason: error.to_string(),
            })?;
    Ok((Hash(root.0), batch))
}

/// A value (or its absence) under `key` at `version`, with a proof against that version's
/// state root, as borsh bytes.
pub fn prove<R: TreeReader>(
    reader: &R,
    version: Height,
    key: &[u8],
) -> Result<(Option<Vec<u8>>, Vec<u8>), StateTreeError> {
    let tree = StateTree::new(reader);
    let (value, proof) = tree
        .get_with_proof(key_hash(key), version)
        .map_err(|error| StateTreeError::Tree {
            version,
            reason: error.to_string(),
        })?;
    let proof_bytes = borsh::to_vec(&proof).map_err(|error| StateTreeError::Tree {
        version,
        reason: error.to_string(),
    })?;
    Ok((value, proof_bytes))
}

/// Checks offline that under `state_root`, `key` holds `value` (or is absent when `None`).
pub fn verify_proof(
    state_root: Hash,
    key: &[u8],
    value: Option<&[u8]>,
    proof_bytes: &[u8],
) -> Result<(), StateTreeError> {
    let proof: jmt::proof::SparseMerkleProof<Blake3Hasher> = borsh::from_slice(proof_bytes)
        .map_err(|error| StateTreeError::MalformedProof {
            reason: error.to_string(),
        })?;
    proof
        .verify(jmt::RootHash(state_root.0), key_hash(key), value)
        .map_err(|error| StateTreeError::ProofMismatch {
            reason: error.to_string(),
        })
}

/// An in-memory tree store, for tests, tools and simulations (the node uses RocksDB).
#[derive(Default)]
pub struct MemoryTree {
    nodes: std::collections::HashMap<jmt::storage::NodeKey, jmt::storage::Node>,
    values: std::collections::BTreeMap<(KeyHash, Height), Option<Vec<u8>>>,
}

impl MemoryTree {
    /// Keeps the nodes and values of `batch`.
    pub fn write(&mut self, batch: &TreeUpdateBatch) {
        for (key, node) in batch.node_batch.nodes() {
            self.nodes.insert(key.clone(), node.clone());
        }
        for ((version, key_hash), value) in batch.node_batch.values() {
            self.values.insert((*key_hash, *version), value.clone());
        }
    }
}

impl TreeReader for MemoryTree {
    fn get_node_option(
        &self,
        node_key: &jmt::storage::NodeKey,
    ) -> anyhow::Result<Option<jmt::storage::Node>> {
        Ok(self.nodes.get(node_key).cloned())
    }

    fn get_value_option(
        &self,
        max_version: jmt::Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<jmt::OwnedValue>> {
        Ok(self
            .values
            .range((key_hash, 0)..=(key_hash, max_version))
            .next_back()
            .and_then(|(_, value)| value.clone()))
    }

    fn get_rightmost_leaf(
        &self,
    ) -> anyhow::Result<Option<(jmt::storage::NodeKey, jmt::storage::LeafNode)>> {
        anyhow::bail!("tree restore is not supported")
    }
}
