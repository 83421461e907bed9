//! A chain kept entirely in memory: genesis, then blocks built one on another. For tools,
//! benchmarks and tests that need real blocks without a node (a node keeps its chain in
//! RocksDB and builds through the same [`build_block`]).

use crate::state_tree::MemoryTree;
use crate::{
    build_block, build_genesis, execute_block, Block, BlockError, BuiltBlock, ExecutedBlock,
    GenesisError, RuntimeGenesis, VerifiedTransaction, SPEC_VERSION,
};
use std::collections::BTreeMap;
use wijk_primitives::{AccountId, Header, SigningContext, TimestampMs};
use wijk_support::StateChanges;

/// State, state tree and head of an in-memory chain.
pub struct MemoryChain {
    state: BTreeMap<Vec<u8>, Vec<u8>>,
    tree: MemoryTree,
    head: Header,
    signing: SigningContext,
}

impl MemoryChain {
    /// The chain at its genesis.
    pub fn new(config: &RuntimeGenesis) -> Result<MemoryChain, GenesisError> {
        let mut tree = MemoryTree::default();
        let genesis = build_genesis(config, &tree)?;
        tree.write(&genesis.tree_batch);
        let mut chain = MemoryChain {
            state: BTreeMap::new(),
            tree,
            signing: SigningContext {
                genesis_hash: genesis.header.hash(),
                spec_version: SPEC_VERSION,
            },
            head: genesis.header,
        };
        chain.apply(&genesis.changes);
        Ok(chain)
    }

    /// What transactions of this chain sign.
    pub fn signing(&self) -> SigningContext {
        self.signing
    }

    /// The last block's header.
    pub fn head(&self) -> &Header {
        &self.head
    }

    /// The state after the last block.
    pub fn state(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.state
    }

    /// The state tree, for proofs.
    pub fn tree(&self) -> &MemoryTree {
        &self.tree
    }

    /// Builds the next block from `candidates` and makes it the head.
    pub fn build_next(
        &mut self,
        timestamp_ms: TimestampMs,
        proposer: AccountId,
        candidates: impl IntoIterator<Item = VerifiedTransaction>,
    ) -> Result<BuiltBlock, BlockError> {
        let built = build_block(
            &self.state,
            &self.tree,
            &self.head,
            self.signing.genesis_hash,
            timestamp_ms,
            proposer,
            candidates,
        )?;
        self.tree.write(&built.executed.tree_batch);
        self.apply(&built.executed.changes);
        self.head = built.block.header.clone();
        Ok(built)
    }

    /// Imports `block` (built elsewhere, say fetched from a node) as a syncing node does:
    /// every signature checked, every call executed, every header root compared; on
    /// success it becomes the head.
    pub fn import(&mut self, block: &Block) -> Result<ExecutedBlock, BlockError> {
        let executed = execute_block(&self.state, &self.tree, &self.head, block, &self.signing)?;
        self.tree.write(&executed.tree_batch);
        self.apply(&executed.changes);
        self.head = block.header.clone();
        Ok(executed)
    }

    fn apply(&mut self, changes: &StateChanges) {
        for (key, value) in changes {
            match value {
                Some(value) => self.state.insert(key.clone(), value.clone()),
                None => self.state.remove(key),
            };
        }
    }
}
