//! The authenticated state: a Jellyfish Merkle tree (the `jmt` crate) over blake3.
//!
//! Each state key `k` is a leaf at `blake3(k)`; the tree's version is the block height, so
//! a proof can be served for any committed height. Proofs travel as borsh bytes (jmt's own
//! format) and are checked offline with [`verify_proof`] against a header's state root.

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
    let tree_error = |error: anyhow::Error| StateTreeError::Tree {
        version,
        reason: error.to_string(),
    };
    let has_deletions = changes.values().any(Option::is_none);
    let (roots, batch) = if has_deletions || changes.is_empty() {
        // Key by key: walks and rehashes the path of every key.
        let value_set: Vec<_> = changes
            .iter()
            .map(|(key, value)| (key_hash(key), value.clone()))
            .collect();
        tree.put_value_sets(vec![value_set], version)
            .map_err(tree_error)?
    } else {
        // Sorted batch insertion: every internal node is built and hashed once. jmt's batch
        // path takes no deletions, hence the fallback above; both give the same root
        // because a JMT's shape depends only on its set of keys.
        let value_set: Vec<_> = changes
            .iter()
            .filter_map(|(key, value)| value.clone().map(|v| (key_hash(key), v)))
            .collect();
        tree.batch_put_value_sets(vec![value_set], None, version)
            .map_err(tree_error)?
    };
    let root = roots.first().ok_or_else(|| StateTreeError::Tree {
        version,
        reason: "jmt returned no root".into(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key_by_key(
        tree: &MemoryTree,
        version: Height,
        changes: &StateChanges,
    ) -> (Hash, TreeUpdateBatch) {
        let value_set: Vec<_> = changes
            .iter()
            .map(|(k, v)| (key_hash(k), v.clone()))
            .collect();
        let (roots, batch) = StateTree::new(tree)
            .put_value_sets(vec![value_set], version)
            .unwrap();
        (Hash(roots[0].0), batch)
    }

    proptest! {
        /// The batch path and the key-by-key path agree on the root, version after version.
        #[test]
        fn batch_and_key_by_key_insertion_give_the_same_root(
            blocks in proptest::collection::vec(
                proptest::collection::btree_map(
                    proptest::collection::vec(0u8..8, 1..4),
                    proptest::collection::vec(any::<u8>(), 1..8),
                    1..40,
                ),
                1..5,
            )
        ) {
            let (mut batched, mut sequential) = (MemoryTree::default(), MemoryTree::default());
            for (version, block) in blocks.iter().enumerate() {
                let changes: StateChanges = block.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect();
                let (root_a, batch_a) = apply_changes(&batched, version as Height, &changes).unwrap();
                let (root_b, batch_b) = key_by_key(&sequential, version as Height, &changes);
                prop_assert_eq!(root_a, root_b);
                batched.write(&batch_a);
                sequential.write(&batch_b);
            }
        }
    }

    #[test]
    fn deletions_take_the_key_by_key_path_and_proofs_still_verify() {
        let mut tree = MemoryTree::default();
        let first: StateChanges = (0u8..20).map(|i| (vec![i], Some(vec![i; 3]))).collect();
        let (_, batch) = apply_changes(&tree, 0, &first).unwrap();
        tree.write(&batch);
        let second: StateChanges = [(vec![3u8], None), (vec![4u8], Some(vec![9]))]
            .into_iter()
            .collect();
        let (root, batch) = apply_changes(&tree, 1, &second).unwrap();
        tree.write(&batch);
        let (value, proof) = prove(&tree, 1, &[3]).unwrap();
        assert!(value.is_none());
        verify_proof(root, &[3], None, &proof).unwrap();
        let (value, proof) = prove(&tree, 1, &[4]).unwrap();
        verify_proof(root, &[4], value.as_deref(), &proof).unwrap();
        assert_eq!(value, Some(vec![9]));
    }
}
