//! The one writer of the database: commits final runs of blocks in order, downloads and
//! imports finalized blocks when this node is behind (checking every certificate with the
//! light client and re-executing every block), and announces what it wrote: to RPC
//! subscribers first, then to the pool. It works through its jobs one at a time, so
//! commits and imports never race; the voter goes on voting meanwhile.

use super::resolver::{ask, peers};
use super::voter::Done;
use super::{ConsensusError, Pending};
use crate::protocol::{SyncRequest, SyncResponse, MAX_BLOCKS_PER_ANSWER};
use futures::stream::{FuturesUnordered, StreamExt};
use parity_scale_codec::Encode;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::{broadcast, mpsc};
use wijk_network::NetworkHandle;
use wijk_primitives::{FinalityCertificate, Hash, SigningContext};
use wijk_rpc::NodeStatus;
use wijk_runtime::Block;
use wijk_storage::{CommittedBlock, Storage};
use wijk_txpool::PoolMailbox;

/// Jobs queued for the marshal before the voter holds them back.
pub(super) const MARSHAL_QUEUE: usize = 64;

/// What the voter asks of the marshal.
pub(super) enum Job {
    /// Commit these final blocks (consecutive, ascending) in one synced write.
    Commit {
        run: Vec<Arc<Pending>>,
        certificate: FinalityCertificate,
    },
    /// Download and import finalized blocks up to `target`.
    Sync { target: u64 },
    /// Ask peers how far they are, and sync to the furthest.
    CatchUp,
}

/// The marshal and what it needs.
pub(super) struct Marshal {
    pub(super) storage: Arc<Storage>,
    pub(super) network: Option<NetworkHandle>,
    pub(super) pool: PoolMailbox,
    pub(super) committed: broadcast::Sender<CommittedBlock>,
    pub(super) status: Arc<NodeStatus>,
    pub(super) signing: SigningContext,
    pub(super) jobs: mpsc::Receiver<Job>,
    pub(super) done: mpsc::Sender<Done>,
}

impl Marshal {
    /// Works through jobs until the voter goes away.
    pub(super) async fn run(mut self) {
        while let Some(job) = self.jobs.recv().await {
            let report = match job {
                Job::Commit { run, certificate } => match self.commit(run, certificate).await {
                    Ok(height) => Done::Committed { height },
                    Err(error) => Done::Failed(error),
                },
                Job::Sync { target } => self.sync_to(target).await,
                Job::CatchUp => match self.furthest_peer().await {
                    Some(best) => self.sync_to(best).await,
                    None => self.head_report(),
                },
            };
            if self.done.send(report).await.is_err() {
                return;
            }
        }
    }

    fn head_report(&self) -> Done {
        match self.storage.finalized_height() {
            Ok(head) => Done::Synced {
                head: head.unwrap_or(0),
            },
            Err(error) => Done::Failed(error.into()),
        }
    }

    /// Commits `run` (skipping blocks a sync already imported); returns the new head.
    async fn commit(
        &self,
        run: Vec<Arc<Pending>>,
        certificate: FinalityCertificate,
    ) -> Result<u64, ConsensusError> {
        let head = self.storage.finalized_height()?.unwrap_or(0);
        let run: Vec<Arc<Pending>> = run
            .into_iter()
            .filter(|pending| pending.block.header.height > head)
            .collect();
        if run.is_empty() {
            return Ok(head);
        }
        let storage = self.storage.clone();
        let started = Instant::now();
        let written = run.clone();
        tokio::task::spawn_blocking(move || {
            let blocks: Vec<_> = written
                .iter()
                .map(|p| (p.block.as_ref(), &p.executed))
                .collect();
            storage.commit_blocks(&blocks, &certificate)
        })
        .await??;
        self.status
            .import_micros
            .fetch_add(started.elapsed().as_micros() as u64, Relaxed);
        let blocks: Vec<&Block> = run.iter().map(|p| p.block.as_ref()).collect();
        self.announce(&blocks).await;
        Ok(run
            .last()
            .map_or(head, |pending| pending.block.header.height))
    }

    /// Tells subscribers, then the pool, about committed blocks (ascending). Subscribers
    /// hear of every block before the pool prunes against the new state: a transaction in
    /// the last block of a run must be reported included, not dropped as stale.
    async fn announce(&self, blocks: &[&Block]) {
        let mut included = Vec::new();
        let mut signers = Vec::new();
        for block in blocks {
            signers.extend(block.transactions.iter().map(|tx| tx.signer));
            let header = block.header.clone();
            let tx_hashes: Vec<Hash> = block.transactions.iter().map(|tx| tx.hash()).collect();
            tracing::info!(
                target: "consensus",
                "finalized #{} {} with {} transactions",
                header.height,
                header.hash(),
                tx_hashes.len()
            );
            self.status.blocks_committed.fetch_add(1, Relaxed);
            self.status.best_height.fetch_max(header.height, Relaxed);
            included.extend_from_slice(&tx_hashes);
            let _ = self.committed.send(CommittedBlock { header, tx_hashes });
        }
        if let Some(last) = blocks.last() {
            // A closed pool means we are shutting down; nothing to do.
            let _ = self
                .pool
                .block_committed(last.header.height, included, signers)
                .await;
        }
    }

    /// The finalized height of the furthest peer, if it is ahead of this node.
    async fn furthest_peer(&self) -> Option<u64> {
        let network = self.network.as_ref()?;
        let head = self.storage.finalized_height().ok().flatten().unwrap_or(0);
        let request = SyncRequest::Status.encode();
        let mut answers: FuturesUnordered<_> = peers(network)
            .await
            .into_iter()
            .map(|peer| ask(network, peer, request.clone()))
            .collect();
        let mut best = head;
        while let Some(answer) = answers.next().await {
            if let Some(SyncResponse::Status { height, .. }) = answer {
                best = best.max(height);
            }
        }
        (best > head).then_some(best)
    }

    /// Downloads finalized blocks from peers until the head reaches `target` (or no peer
    /// has more), importing each with full re-execution and certificate checks.
    async fn sync_to(&self, target: u64) -> Done {
        let status = &self.status;
        status.sync_target.fetch_max(target, Relaxed);
        status.syncing.store(true, Relaxed);
        let started = Instant::now();
        let first = self.storage.finalized_height().ok().flatten().unwrap_or(0);
        let result = self.download(target).await;
        status.syncing.store(false, Relaxed);
        let report = self.head_report();
        if let Done::Synced { head } = report {
            if head > first {
                tracing::info!(target: "sync", "synced #{} to #{head} (target #{target}) in {:.1?}", first + 1, started.elapsed());
            }
        }
        match result {
            Ok(()) => report,
            Err(error) => Done::Failed(error),
        }
    }

    async fn download(&self, target: u64) -> Result<(), ConsensusError> {
        let Some(network) = &self.network else {
            return Ok(());
        };
        loop {
            let head = self.storage.finalized_height()?.unwrap_or(0);
            if head >= target {
                return Ok(());
            }
            let request = SyncRequest::Finalized {
                from: head + 1,
                max_blocks: MAX_BLOCKS_PER_ANSWER,
            }
            .encode();
            let mut progressed = false;
            for peer in peers(network).await {
                let Some(SyncResponse::Finalized(blocks)) =
                    ask(network, peer, request.clone()).await
                else {
                    continue;
                };
                if blocks.is_empty() {
                    continue;
                }
                let storage = self.storage.clone();
                let signing = self.signing;
                let (result, imported) = tokio::task::spawn_blocking(move || {
                    let mut imported = Vec::new();
                    let result = crate::import_blocks(
                        &storage,
                        blocks.into_iter().map(Ok),
                        &signing,
                        |block| imported.push(block.clone()),
                    );
                    (result, imported)
                })
                .await?;
                self.announce(&imported.iter().collect::<Vec<_>>()).await;
                match result {
                    Ok(summary) if summary.blocks > 0 => {
                        tracing::info!(target: "sync", "imported {} blocks from {peer}; at #{} of #{target}", summary.blocks, self.storage.finalized_height()?.unwrap_or(0));
                        progressed = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(error) => {
                        tracing::warn!(target: "sync", %peer, %error, "blocks from peer refused")
                    }
                }
            }
            if !progressed {
                tracing::warn!(target: "sync", "no peer could extend the chain past #{head} (target #{target}); will retry");
                return Ok(());
            }
        }
    }
}
