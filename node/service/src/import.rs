//! Block import (re-execute, check every root and the finality certificate, commit) and
//! the block file format used by `export-blocks` / `import-blocks`.
//!
//! File format: the magic `WIJKBLK1`, the 32-byte genesis hash, then one record per block:
//! a little-endian `u32` length and the SCALE encoding of `(Block, FinalityCertificate)`.

use parity_scale_codec::Encode;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::Arc;
use wijk_light_client::{LightClient, LightClientError, TrustedState, Unproven};
use wijk_primitives::{
    decode_bounded, FinalityCertificate, Hash, Header, KeyCache, SigningContext,
};
use wijk_runtime::{
    check_signatures_serial, execute_checked_state, Block, BlockError, ExecutedBlock,
    ExecutedState, SignaturesChecked, StagedBlock, StagedState, MAX_BLOCK_BYTES,
};
use wijk_storage::{Storage, StorageError};

const MAGIC: &[u8; 8] = b"WIJKBLK1";
/// Largest record in a block file: a block plus a certificate.
const MAX_RECORD_BYTES: usize = MAX_BLOCK_BYTES + (1 << 20);

/// Why a block was not imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The block's parent is not the last committed block.
    #[error("block {height} does not follow the chain: the node is at height {finalized}")]
    NotNext {
        /// The block's height.
        height: u64,
        /// Our finalized height.
        finalized: u64,
    },
    /// The certificate does not finalize this block (under the light client that follows
    /// the chain from this node's head).
    #[error("block {height}: bad finality certificate: {source}")]
    Certificate {
        /// The block's height.
        height: u64,
        /// Why.
        source: LightClientError,
    },
    /// Re-execution disagrees with the block.
    #[error("block {height}: {source}")]
    Invalid {
        /// The block's height.
        height: u64,
        /// Why.
        source: BlockError,
    },
    /// The validator set could not be read.
    #[error("cannot read the validator set: {0}")]
    State(#[from] wijk_support::StateError),
    /// The block file could not be read or written.
    #[error("block file: {0}")]
    Io(#[from] std::io::Error),
    /// The file does not start with the block-file magic.
    #[error("not a wijk block file (bad magic)")]
    NotABlockFile,
    /// A record is larger than any block can be.
    #[error("block file record of {len} bytes exceeds the limit of {max}")]
    RecordTooLarge {
        /// Its declared length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A record does not decode as a block and its certificate.
    #[error("malformed block file record: {0}")]
    MalformedRecord(wijk_primitives::DecodeLimitError),
    /// A block or certificate the database should hold is missing.
    #[error("{what} {height} missing from the database")]
    Missing {
        /// Which record.
        what: &'static str,
        /// At what height.
        height: u64,
    },
    /// The writer thread of the import pipeline stopped (after an error it reported).
    #[error("the block writer stopped")]
    WriterStopped,
    /// A block at a height we have differs from ours.
    #[error("block {height} differs from the block this node finalized at that height")]
    Conflict {
        /// The height.
        height: u64,
    },
    /// A block is not proven final: its certificate is for an earlier block, or names a
    /// later block that does not follow.
    #[error("block {height} is not proven final: {why}")]
    Unjustified {
        /// The block's height.
        height: u64,
        /// Why.
        why: Unproven,
    },
    /// The block file belongs to another chain.
    #[error("block file is for chain {found}, this node runs {expected}")]
    WrongChain {
        /// Ours.
        expected: Hash,
        /// The file's.
        found: Hash,
    },
}

/// Most blocks that may wait, executed, for the certificate of a descendant that
/// finalizes them (consensus finalizes a block's unfinalized ancestors with it). A file or
/// peer that sends more is refused rather than held in memory.
pub const MAX_BLOCKS_PER_CERTIFICATE: usize = 256;

/// A light client that trusts this node's committed head: the set that certifies the
/// next block, and any change scheduled after it, read from the head's state. Import and
/// sync check every certificate through it.
pub fn light_client_at_head(
    storage: &Storage,
    genesis_hash: Hash,
) -> Result<LightClient, ImportError> {
    let head = committed_head(storage)?;
    let (epoch, validators) = wijk_validators::current(storage)?;
    let scheduled = wijk_validators::pending(storage)?.map(|scheduled| scheduled.change);
    Ok(LightClient::new(
        TrustedState {
            genesis_hash,
            epoch,
            validators,
            height: head.height,
            block_hash: head.hash(),
            scheduled,
        }
        .settled(),
    ))
}

/// The header of the last committed block.
fn committed_head(storage: &Storage) -> Result<Header, ImportError> {
    let finalized = storage.finalized_height()?.unwrap_or(0);
    storage.header(finalized)?.ok_or(ImportError::NotNext {
        height: finalized + 1,
        finalized,
    })
}

/// What [`import_blocks`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Blocks imported.
    pub blocks: u64,
    /// Transactions in them.
    pub transactions: u64,
    /// Blocks the node already had (same hash), skipped.
    pub skipped: u64,
}

/// Checked and executed blocks on their way to disk: final through `certificate`, which
/// certifies the last of them.
struct Verified {
    blocks: Vec<(Block, ExecutedBlock)>,
    certificate: FinalityCertificate,
}

/// What the execution stage hands on: a block executed on top of the ones before it,
/// whose state root is still to be computed, or a block the node already had.
enum Executed {
    Block(Box<(Block, FinalityCertificate, ExecutedState)>),
    Skipped,
}

/// The height up to which blocks are on disk, for the execution stage to stop reading
/// them from memory. `u64::MAX` while nothing was written in this import.
struct Written(AtomicU64);

impl Written {
    fn through(&self) -> Option<u64> {
        Some(self.0.load(Ordering::Acquire)).filter(|height| *height != u64::MAX)
    }
}

/// The execution stage: executes each signature-checked block on the state of the
/// blocks before it (committed, or executed and still in memory), without its state root,
/// and hands it on. Blocks the node already has are compared by hash and skipped.
fn execute_stage(
    storage: &Storage,
    checked_blocks: Receiver<Result<(Block, FinalityCertificate, SignaturesChecked), ImportError>>,
    executed: SyncSender<Result<Executed, ImportError>>,
    signing: &SigningContext,
    written: &Written,
) {
    // Executed blocks not yet known to be on disk: what execution reads before the disk.
    let mut window = VecDeque::new();
    for item in checked_blocks {
        let result = item.and_then(|(block, certificate, checked)| {
            execute_next(
                storage,
                &mut window,
                block,
                certificate,
                checked,
                signing,
                written,
            )
        });
        let failed = result.is_err();
        // A closed channel means a later stage stopped on an error: stop too.
        if executed.send(result).is_err() || failed {
            break;
        }
    }
}

/// Executed blocks not yet known to be on disk, oldest first, with their changes.
type Window = VecDeque<(Header, Arc<wijk_support::StateChanges>)>;

/// One step of [`execute_stage`].
fn execute_next(
    storage: &Storage,
    window: &mut Window,
    block: Block,
    certificate: FinalityCertificate,
    checked: SignaturesChecked,
    signing: &SigningContext,
    written: &Written,
) -> Result<Executed, ImportError> {
    if let Some(through) = written.through() {
        while window.front().is_some_and(|(h, _)| h.height <= through) {
            window.pop_front();
        }
    }
    let head = match window.back() {
        Some((header, _)) => header.clone(),
        None => committed_head(storage)?,
    };
    let height = block.header.height;
    if height <= head.height {
        let ours = match window.iter().find(|(h, _)| h.height == height) {
            Some((header, _)) => Some(header.hash()),
            None => storage.header(height)?.map(|h| h.hash()),
        };
        if ours != Some(block.header.hash()) {
            return Err(ImportError::Conflict { height });
        }
        return Ok(Executed::Skipped);
    }
    if height != head.height + 1 {
        return Err(ImportError::NotNext {
            height,
            finalized: head.height,
        });
    }
    let mut state = StagedState::new(storage);
    for (header, changes) in window.iter() {
        state.push(StagedBlock {
            height: header.height,
            changes,
            tree: None,
        });
    }
    let done = execute_checked_state(&state, &head, &block, signing, checked)
        .map_err(|source| ImportError::Invalid { height, source })?;
    window.push_back((block.header.clone(), Arc::clone(&done.changes)));
    Ok(Executed::Block(Box::new((block, certificate, done))))
}

/// Imports a stream of blocks in order, as a four-stage pipeline, each stage a thread:
/// the signatures of upcoming blocks are checked (they need no state); each block is
/// executed on the state of the blocks before it; its state root is computed (over the
/// tree of the blocks before it) while the next block executes; and finished runs are
/// written (synced) while later blocks are checked. Execution and the root read earlier
/// blocks' changes and tree nodes from memory ([`StagedState`]), so neither waits for the
/// disk.
///
/// A block whose certificate names a later block (it was finalized as that block's
/// ancestor) is executed and held until that block arrives and its certificate checks;
/// then the run is written in one synced batch. Nothing is written that is not proven
/// final. `on_imported` is called after each block's synced write, in order. Blocks the
/// node already has are compared by hash and skipped.
pub fn import_blocks<I>(
    storage: &Storage,
    blocks: I,
    signing: &SigningContext,
    mut on_imported: impl FnMut(&Block),
) -> Result<ImportSummary, ImportError>
where
    I: Iterator<Item = Result<(Block, FinalityCertificate), ImportError>> + Send,
{
    let written_through = Written(AtomicU64::new(u64::MAX));
    std::thread::scope(|scope| {
        // Two blocks of look-ahead per stage: enough to keep each busy, bounded memory.
        let (checked_sender, checked_blocks) = std::sync::mpsc::sync_channel(2);
        scope.spawn(move || {
            // Signers recur from block to block; decode each key once. On this thread
            // alone: the other stages keep the other cores busy.
            let keys = KeyCache::default();
            for item in blocks {
                let checked = item.and_then(|(block, certificate)| {
                    let checked = check_signatures_serial(&block, signing, Some(&keys)).map_err(
                        |source| ImportError::Invalid {
                            height: block.header.height,
                            source,
                        },
                    )?;
                    Ok((block, certificate, checked))
                });
                let failed = checked.is_err();
                // A closed channel means the importer stopped on an error: stop too.
                if checked_sender.send(checked).is_err() || failed {
                    break;
                }
            }
        });
        let (executed_sender, executed_blocks) = std::sync::mpsc::sync_channel(2);
        let written = &written_through;
        scope.spawn(move || {
            execute_stage(storage, checked_blocks, executed_sender, signing, written)
        });
        let (write_sender, writes) = std::sync::mpsc::sync_channel::<Arc<Verified>>(1);
        let (written_sender, written_results) = std::sync::mpsc::sync_channel(1);
        scope.spawn(move || {
            for job in writes {
                let run: Vec<_> = job.blocks.iter().map(|(b, e)| (b, e)).collect();
                let result = storage.commit_blocks(&run, &job.certificate);
                if written_sender.send(result).is_err() {
                    break;
                }
            }
        });
        let mut summary = ImportSummary::default();
        let mut client = light_client_at_head(storage, signing.genesis_hash)?;
        // The run being written, if any: executed, not yet on disk.
        let mut in_flight: Option<Arc<Verified>> = None;
        // Executed blocks waiting for the certificate of a later block.
        let mut awaiting: Vec<(Block, ExecutedBlock, FinalityCertificate)> = Vec::new();
        let mut wait_for_write = |in_flight: &mut Option<Arc<Verified>>,
                                  summary: &mut ImportSummary|
         -> Result<(), ImportError> {
            if let Some(job) = in_flight.take() {
                written_results
                    .recv()
                    .map_err(|_| ImportError::WriterStopped)??;
                for (block, _) in &job.blocks {
                    summary.blocks += 1;
                    summary.transactions += block.transactions.len() as u64;
                    on_imported(block);
                }
                if let Some((last, _)) = job.blocks.last() {
                    written_through
                        .0
                        .store(last.header.height, Ordering::Release);
                }
            }
            Ok(())
        };
        let result = (|| {
            for item in executed_blocks {
                let (block, certificate, state) = match item? {
                    Executed::Block(staged) => *staged,
                    Executed::Skipped => {
                        summary.skipped += 1;
                        continue;
                    }
                };
                let height = block.header.height;
                if certificate.height < height {
                    return Err(ImportError::Unjustified {
                        height,
                        why: Unproven::EarlierCertificate {
                            certified: certificate.height,
                        },
                    });
                }
                if awaiting
                    .first()
                    .is_some_and(|(_, _, waiting_for)| *waiting_for != certificate)
                {
                    return Err(ImportError::Unjustified {
                        height: awaiting[0].0.header.height,
                        why: Unproven::CertificateChanged {
                            certified: awaiting[0].2.height,
                        },
                    });
                }
                // The root over the tree of every block before this one: on disk, being
                // written, or waiting for its certificate.
                let mut tree = StagedState::new(storage);
                for (block, executed) in in_flight.iter().flat_map(|job| job.blocks.iter()) {
                    tree.push(StagedBlock::executed(block.header.height, executed));
                }
                for (block, executed, _) in &awaiting {
                    tree.push(StagedBlock::executed(block.header.height, executed));
                }
                let executed = state
                    .with_state_root(&tree)
                    .map_err(|source| ImportError::Invalid { height, source })?;
                drop(tree);
                let run: Vec<Header> = awaiting
                    .iter()
                    .map(|(block, _, _)| block.header.clone())
                    .chain([block.header.clone()])
                    .collect();
                // A block final through a later block's certificate waits for it; the last
                // block of an epoch may be final through a closing block, which is never
                // sent: it ends any run.
                if !client.completes(&run, &certificate) {
                    if awaiting.len() >= MAX_BLOCKS_PER_CERTIFICATE {
                        return Err(ImportError::Unjustified {
                            height: awaiting[0].0.header.height,
                            why: Unproven::NoCertificateWithin {
                                blocks: MAX_BLOCKS_PER_CERTIFICATE,
                            },
                        });
                    }
                    awaiting.push((block, executed, certificate));
                    continue;
                }
                client
                    .advance(&run, &certificate)
                    .map_err(|source| ImportError::Certificate { height, source })?;
                wait_for_write(&mut in_flight, &mut summary)?;
                let mut run: Vec<(Block, ExecutedBlock)> =
                    awaiting.drain(..).map(|(b, e, _)| (b, e)).collect();
                run.push((block, executed));
                let job = Arc::new(Verified {
                    blocks: run,
                    certificate,
                });
                write_sender
                    .send(Arc::clone(&job))
                    .map_err(|_| ImportError::WriterStopped)?;
                in_flight = Some(job);
            }
            match awaiting.first() {
                Some((block, _, certificate)) => Err(ImportError::Unjustified {
                    height: block.header.height,
                    why: Unproven::CertifiedBlockMissing {
                        certified: certificate.height,
                    },
                }),
                None => Ok(()),
            }
        })();
        // (The closure consumed the execution stage's channel: a stage blocked handing
        // on a block stops now.)
        // Whatever happened, the run already handed to the writer is valid: finish it.
        let finished = wait_for_write(&mut in_flight, &mut summary);
        drop(write_sender);
        result.and(finished).map(|()| summary)
    })
}

/// Writes a block file.
pub struct BlockFileWriter<W: Write> {
    out: W,
}

impl<W: Write> BlockFileWriter<W> {
    /// Starts a file for the chain with `genesis_hash`.
    pub fn new(mut out: W, genesis_hash: Hash) -> Result<Self, ImportError> {
        out.write_all(MAGIC)?;
        out.write_all(&genesis_hash.0)?;
        Ok(BlockFileWriter { out })
    }

    /// Appends one block with its certificate.
    pub fn write(
        &mut self,
        block: &Block,
        certificate: &FinalityCertificate,
    ) -> Result<(), ImportError> {
        let record = (block, certificate).encode();
        let len = u32::try_from(record.len()).map_err(|_| ImportError::RecordTooLarge {
            len: record.len(),
            max: MAX_RECORD_BYTES,
        })?;
        self.out.write_all(&len.to_le_bytes())?;
        Ok(self.out.write_all(&record)?)
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> Result<W, ImportError> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Reads a block file, record by record, refusing oversized or malformed records.
pub struct BlockFileReader<R: Read> {
    input: R,
    /// The chain the file is for.
    pub genesis_hash: Hash,
}

impl<R: Read> BlockFileReader<R> {
    /// Reads the file header.
    pub fn new(mut input: R) -> Result<Self, ImportError> {
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic)?;
        if &magic != MAGIC {
            return Err(ImportError::NotABlockFile);
        }
        let mut genesis = [0u8; 32];
        input.read_exact(&mut genesis)?;
        Ok(BlockFileReader {
            input,
            genesis_hash: Hash(genesis),
        })
    }

    /// The next block, or `None` at a clean end of file.
    pub fn next_block(&mut self) -> Result<Option<(Block, FinalityCertificate)>, ImportError> {
        let mut len = [0u8; 4];
        match self.input.read_exact(&mut len) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(error) => return Err(error.into()),
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_RECORD_BYTES {
            return Err(ImportError::RecordTooLarge {
                len,
                max: MAX_RECORD_BYTES,
            });
        }
        let mut record = vec![0u8; len];
        self.input.read_exact(&mut record)?;
        let decoded = decode_bounded("block record", &record, MAX_RECORD_BYTES)
            .map_err(ImportError::MalformedRecord)?;
        Ok(Some(decoded))
    }
}

#[cfg(test)]
mod tests;
