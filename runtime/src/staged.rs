//! State as it will be once blocks that are executed but not yet written are committed.
//!
//! An importer can execute block `N + 1` while block `N` is still being written to disk,
//! and consensus can execute a proposal on top of a parent that is not final yet: both
//! need to read "the committed state plus these executed blocks". [`StagedState`] layers
//! the changes and tree nodes of such blocks over a committed backend, newest first.

use crate::ExecutedBlock;
use jmt::storage::{LeafNode, Node, NodeKey, TreeReader, TreeUpdateBatch};
use jmt::{KeyHash, OwnedValue, Version};
use wijk_primitives::Height;
use wijk_support::{next_entry_through, Entry, StateChanges, StateError, StateRead};

/// An executed block not yet in the backend, at its height: its state changes, and its
/// tree nodes once its state root is computed (an importer executes the next block while
/// another thread still computes this one's root; that view reads state, never the tree).
#[derive(Debug, Clone, Copy)]
pub struct StagedBlock<'a> {
    /// The block's height (the tree version its nodes were written at).
    pub height: Height,
    /// Its state changes.
    pub changes: &'a StateChanges,
    /// Its tree nodes, if its root has been computed.
    pub tree: Option<&'a TreeUpdateBatch>,
}

impl<'a> StagedBlock<'a> {
    /// A block executed with its state root.
    pub fn executed(height: Height, executed: &'a ExecutedBlock) -> Self {
        StagedBlock {
            height,
            changes: &executed.changes,
            tree: Some(&executed.tree_batch),
        }
    }

    /// The tree nodes, or why this view cannot read the tree.
    fn tree(&self) -> anyhow::Result<&'a TreeUpdateBatch> {
        self.tree.ok_or_else(|| {
            anyhow::anyhow!(
                "the state root of staged block {} is not computed yet",
                self.height
            )
        })
    }
}

/// The backend's state with `layers` (oldest first, consecutive heights) applied on top.
pub struct StagedState<'a, B> {
    base: &'a B,
    layers: Vec<StagedBlock<'a>>,
}

impl<'a, B> StagedState<'a, B> {
    /// The backend as it is.
    pub fn new(base: &'a B) -> Self {
        StagedState {
            base,
            layers: Vec::new(),
        }
    }

    /// Adds a block executed on top of the current view.
    pub fn push(&mut self, layer: StagedBlock<'a>) {
        self.layers.push(layer);
    }
}

impl<B: StateRead> StateRead for StagedState<'_, B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Layers {
            base: self.base,
            layers: &self.layers,
        }
        .get(key)
    }

    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        Layers {
            base: self.base,
            layers: &self.layers,
        }
        .next_entry(prefix, after)
    }
}

/// The base with `layers` (oldest first) on top: each layer read through the ones under it.
struct Layers<'s, 'a, B> {
    base: &'s B,
    layers: &'s [StagedBlock<'a>],
}

impl<B: StateRead> StateRead for Layers<'_, '_, B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        for layer in self.layers.iter().rev() {
            if let Some(value) = layer.changes.get(key) {
                return Ok(value.clone());
            }
        }
        self.base.get(key)
    }

    fn next_entry(&self, prefix: &[u8], after: Option<&[u8]>) -> Result<Option<Entry>, StateError> {
        match self.layers.split_last() {
            None => self.base.next_entry(prefix, after),
            Some((top, under)) => {
                let below = Layers {
                    base: self.base,
                    layers: under,
                };
                next_entry_through(top.changes, &below, prefix, after)
            }
        }
    }
}

impl<B: TreeReader> TreeReader for StagedState<'_, B> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        for layer in self.layers.iter().rev() {
            if let Some(node) = layer.tree()?.node_batch.get_node(node_key) {
                return Ok(Some(node.clone()));
            }
        }
        self.base.get_node_option(node_key)
    }

    fn get_value_option(
        &self,
        max_version: Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<OwnedValue>> {
        for layer in self.layers.iter().rev() {
            if layer.height > max_version {
                continue;
            }
            if let Some(value) = layer
                .tree()?
                .node_batch
                .values()
                .get(&(layer.height, key_hash))
            {
                return Ok(value.clone());
            }
        }
        self.base.get_value_option(max_version, key_hash)
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        anyhow::bail!("tree restore is not supported")
    }
}
