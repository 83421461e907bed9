//! Block import (re-execute, check every root and the finality certificate, commit) and
//! the block file format used by `export-blocks` / `import-blocks`.
//!
//! File format: the magic `WIJKBLK1`, the 32-byte genesis hash, then one record per block:
//! a little-endian `u32` length and the SCALE encoding of `(Block, FinalityCertificate)`.

use parity_scale_codec::Encode;
use std::io::{Read, Write};
use wijk_primitives::{
    decode_bounded, CertificateError, FinalityCertificate, Hash, SigningContext,
};
use wijk_runtime::{
    check_signatures, execute_checked_block, Block, BlockError, ExecutedBlock, SignaturesChecked,
    MAX_BLOCK_BYTES,
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
    /// The certificate does not finalize this block.
    #[error("block {height}: bad finality certificate: {source}")]
    Certificate {
        /// The block's height.
        height: u64,
        /// Why.
        source: CertificateError,
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
    /// The block file is unreadable.
    #[error("block file: {reason}")]
    File {
        /// Why.
        reason: String,
    },
    /// A block at a height we have differs from ours.
    #[error("block {height} differs from the block this node finalized at that height")]
    Conflict {
        /// The height.
        height: u64,
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

/// Checks and commits one block on top of the last committed block.
pub fn import_block(
    storage: &Storage,
    block: &Block,
    certificate: &FinalityCertificate,
    signing: &SigningContext,
) -> Result<ExecutedBlock, ImportError> {
    let checked = check_signatures(block, signing).map_err(|source| ImportError::Invalid {
        height: block.header.height,
        source,
    })?;
    import_checked_block(storage, block, certificate, signing, checked)
}

fn import_checked_block(
    storage: &Storage,
    block: &Block,
    certificate: &FinalityCertificate,
    signing: &SigningContext,
    checked: SignaturesChecked,
) -> Result<ExecutedBlock, ImportError> {
    let height = block.header.height;
    let finalized = storage.finalized_height()?.unwrap_or(0);
    let parent = match storage.header(finalized)? {
        Some(parent) if height == finalized + 1 => parent,
        _ => return Err(ImportError::NotNext { height, finalized }),
    };
    let validators = wijk_system::validators(storage)?;
    certificate
        .verify(signing.genesis_hash, &block.header, &validators)
        .map_err(|source| ImportError::Certificate { height, source })?;
    let executed = execute_checked_block(storage, storage, &parent, block, signing, checked)
        .map_err(|source| ImportError::Invalid { height, source })?;
    storage.commit_block(block, &executed, certificate)?;
    Ok(executed)
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

/// Imports a stream of blocks in order. The signatures of upcoming blocks are checked on
/// another thread while the current block executes and commits (they need no state), so
/// the two overlap. Blocks the node already has are compared by hash and skipped.
/// `on_imported` is called after each commit.
pub fn import_blocks<I>(
    storage: &Storage,
    blocks: I,
    signing: &SigningContext,
    mut on_imported: impl FnMut(&Block),
) -> Result<ImportSummary, ImportError>
where
    I: Iterator<Item = Result<(Block, FinalityCertificate), ImportError>> + Send,
{
    std::thread::scope(|scope| {
        // Two blocks of look-ahead: enough to keep the checker busy, bounded memory.
        let (sender, receiver) = std::sync::mpsc::sync_channel(2);
        scope.spawn(move || {
            for item in blocks {
                let checked = item.and_then(|(block, certificate)| {
                    let checked = check_signatures(&block, signing).map_err(|source| {
                        ImportError::Invalid {
                            height: block.header.height,
                            source,
                        }
                    })?;
                    Ok((block, certificate, checked))
                });
                let failed = checked.is_err();
                // A closed channel means the importer stopped on an error: stop too.
                if sender.send(checked).is_err() || failed {
                    break;
                }
            }
        });
        let mut summary = ImportSummary::default();
        for item in receiver {
            let (block, certificate, checked) = item?;
            let height = block.header.height;
            if height <= storage.finalized_height()?.unwrap_or(0) {
                if storage.header(height)?.map(|h| h.hash()) != Some(block.header.hash()) {
                    return Err(ImportError::Conflict { height });
                }
                summary.skipped += 1;
                continue;
            }
            import_checked_block(storage, &block, &certificate, signing, checked)?;
            summary.blocks += 1;
            summary.transactions += block.transactions.len() as u64;
            on_imported(&block);
        }
        Ok(summary)
    })
}

fn io_error(error: std::io::Error) -> ImportError {
    ImportError::File {
        reason: error.to_string(),
    }
}

/// Writes a block file.
pub struct BlockFileWriter<W: Write> {
    out: W,
}

impl<W: Write> BlockFileWriter<W> {
    /// Starts a file for the chain with `genesis_hash`.
    pub fn new(mut out: W, genesis_hash: Hash) -> Result<Self, ImportError> {
        out.write_all(MAGIC).map_err(io_error)?;
        out.write_all(&genesis_hash.0).map_err(io_error)?;
        Ok(BlockFileWriter { out })
    }

    /// Appends one block with its certificate.
    pub fn write(
        &mut self,
        block: &Block,
        certificate: &FinalityCertificate,
    ) -> Result<(), ImportError> {
        let record = (block, certificate).encode();
        let len = u32::try_from(record.len()).map_err(|_| ImportError::File {
            reason: "block too large".into(),
        })?;
        self.out.write_all(&len.to_le_bytes()).map_err(io_error)?;
        self.out.write_all(&record).map_err(io_error)
    }

    /// Flushes and returns the writer.
    pub fn finish(mut self) -> Result<W, ImportError> {
        self.out.flush().map_err(io_error)?;
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
        input.read_exact(&mut magic).map_err(io_error)?;
        if &magic != MAGIC {
            return Err(ImportError::File {
                reason: "not a wijk block file (bad magic)".into(),
            });
        }
        let mut genesis = [0u8; 32];
        input.read_exact(&mut genesis).map_err(io_error)?;
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
            Err(error) => return Err(io_error(error)),
        }
        let len = u32::from_le_bytes(len) as usize;
        if len > MAX_RECORD_BYTES {
            return Err(ImportError::File {
                reason: format!("record of {len} bytes exceeds the limit of {MAX_RECORD_BYTES}"),
            });
        }
        let mut record = vec![0u8; len];
        self.input.read_exact(&mut record).map_err(io_error)?;
        let decoded =
            decode_bounded("block record", &record, MAX_RECORD_BYTES).map_err(|error| {
                ImportError::File {
                    reason: error.to_string(),
                }
            })?;
        Ok(Some(decoded))
    }
}
