//! 32-byte blake3 hashes.

use core::fmt;
use parity_scale_codec::{Decode, Encode, MaxEncodedLen};

/// A blake3 digest. Block hashes, transaction hashes and state roots are all of this type.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Encode, Decode, MaxEncodedLen,
)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// The all-zero hash: the parent of genesis and the root of nothing.
    pub const ZERO: Hash = Hash([0u8; 32]);

    /// The bytes of the digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// `0x`-prefixed lowercase hex, the JSON-RPC form.
    pub fn to_hex(&self) -> String {
        format!("0x{}", hex::encode(self.0))
    }

    /// Parses `0x`-prefixed (or bare) hex of exactly 32 bytes.
    pub fn from_hex(text: &str) -> Option<Hash> {
        let bytes = hex::decode(text.strip_prefix("0x").unwrap_or(text)).ok()?;
        <[u8; 32]>::try_from(bytes.as_slice()).ok().map(Hash)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(&self.0[..8]))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// blake3 over `data`.
pub fn blake3_hash(data: &[u8]) -> Hash {
    Hash(*blake3::hash(data).as_bytes())
}
