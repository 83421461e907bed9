//! Bounded SCALE decoding for bytes that come from outside (network, RPC, disk).
//!
//! Every decoder that reads untrusted bytes checks the length *before* decoding and limits
//! the nesting depth, so a hostile peer cannot make us allocate or recurse without bound.

use parity_scale_codec::{Decode, DecodeLimit};

/// Nesting depth allowed for any SCALE value we decode; our types nest far less.
pub const MAX_DECODE_DEPTH: u32 = 32;

/// Why bytes could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeLimitError {
    /// The input is larger than the caller allows for this kind of value.
    #[error("{what} is {actual_bytes} bytes, more than the limit of {max_bytes}")]
    TooLarge {
        /// What was being decoded.
        what: &'static str,
        /// Size of the input.
        actual_bytes: usize,
        /// The cap.
        max_bytes: usize,
    },
    /// The bytes are not a valid SCALE encoding of the value, or have trailing bytes.
    #[error("{what} is not valid SCALE: {reason}")]
    Malformed {
        /// What was being decoded.
        what: &'static str,
        /// The codec's explanation.
        reason: String,
    },
}

/// Decodes `bytes` as a whole `T`: size cap first, then a depth-limited decode that must
/// consume every byte.
pub fn decode_bounded<T: Decode>(
    what: &'static str,
    bytes: &[u8],
    max_bytes: usize,
) -> Result<T, DecodeLimitError> {
    if bytes.len() > max_bytes {
        return Err(DecodeLimitError::TooLarge {
            what,
            actual_bytes: bytes.len(),
            max_bytes,
        });
    }
    T::decode_all_with_depth_limit(MAX_DECODE_DEPTH, &mut &bytes[..]).map_err(|error| {
        DecodeLimitError::Malformed {
            what,
            reason: error.to_string(),
        }
    })
}
