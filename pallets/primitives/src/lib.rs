//! The types every wijk crate speaks: accounts and keys, hashes, euro-cent amounts,
//! headers, blocks, signed transactions, consensus votes and finality certificates, plus
//! bounded decoding.
//!
//! Owns: the byte-level formats (SCALE on the wire and on disk, blake3 hashes, ed25519
//! signatures with strict verification) and the human formats (addresses, euro amounts).
//! Must never: do I/O, read a clock or draw randomness outside key generation, or
//! contain any chain rule (those live in the pallets and the runtime).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod address;
pub mod amount;
pub mod block;
pub mod codec;
pub mod geo;
pub mod hash;
pub mod json;
pub mod keys;
pub mod transaction;
pub mod verify;
pub mod vote;

pub use address::{Address, AddressError};
pub use amount::{format_cents, parse_cents, AmountError, Cents};
pub use block::{
    merkle_root, quorum, Block, FinalityCertificate, FinalityVote, Header, Height, TimestampMs,
    ValidatorSetChange,
};
pub use codec::{decode_bounded, DecodeLimitError, MAX_DECODE_DEPTH};
pub use geo::{GeoError, GeoPoint};
pub use hash::{blake3_hash, Hash};
pub use keys::{AccountId, KeyError, Keypair, Signature, DEV_PHRASE};
pub use transaction::{SignedTransaction, SigningContext, SpecVersion};
pub use verify::{
    verify_batch_strict, verify_batch_strict_serial, verify_strict, verify_strict_cached, KeyCache,
    SignatureError, SignedMessage, SIGNATURE_BATCH_SIZE,
};
pub use vote::{
    closing_block_hash, epoch_base_view, epoch_of_view, BlockRef, SignedVote, View, Vote,
    VoteError, VoteKind, EPOCH_VIEW_SHIFT,
};
