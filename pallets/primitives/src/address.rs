//! Human-readable addresses: base58 of `prefix (2 bytes LE) || public key || checksum`,
//! where the checksum is the first 2 bytes of `blake3("wijk-address" || prefix || key)`.
//!
//! Like SS58, the per-chain prefix keeps a resident from pasting a Rabot address into a
//! Bristol wallet, and the checksum catches typos. A `0x`-hex public key is also accepted.

use crate::keys::AccountId;
use core::fmt;

const CHECKSUM_DOMAIN: &[u8] = b"wijk-address";

/// Why text is not an address of this chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Not base58 or hex of the right length.
    #[error("`{text}` is not an address (expected base58 or 0x-hex of 32 bytes)")]
    Malformed {
        /// The input.
        text: String,
    },
    /// The checksum does not match: most likely a typo.
    #[error("address `{text}` has a wrong checksum (typo?)")]
    BadChecksum {
        /// The input.
        text: String,
    },
    /// A valid address, but of another chain.
    #[error("address is for chain prefix {found}, this chain uses {expected}")]
    WrongChain {
        /// This chain's prefix.
        expected: u16,
        /// The prefix in the address.
        found: u16,
    },
}

/// An account together with the chain prefix it is shown under.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Address {
    /// The chain's address prefix.
    pub prefix: u16,
    /// The account.
    pub account: AccountId,
}

fn checksum(prefix: u16, account: &AccountId) -> [u8; 2] {
    let mut hasher = blake3::Hasher::new();
    hasher.update(CHECKSUM_DOMAIN);
    hasher.update(&prefix.to_le_bytes());
    hasher.update(account.as_bytes());
    let digest = hasher.finalize();
    [digest.as_bytes()[0], digest.as_bytes()[1]]
}

impl Address {
    /// Parses an address and checks it belongs to the chain with `expected_prefix`.
    pub fn parse(text: &str, expected_prefix: u16) -> Result<AccountId, AddressError> {
        let (prefix, account) = decode(text)?;
        match prefix {
            Some(found) if found != expected_prefix => Err(AddressError::WrongChain {
                expected: expected_prefix,
                found,
            }),
            _ => Ok(account),
        }
    }

    /// Parses an address of any chain (a `0x`-hex key gets no prefix of its own and is
    /// returned under prefix 0).
    pub fn parse_any(text: &str) -> Result<Address, AddressError> {
        let (prefix, account) = decode(text)?;
        Ok(Address {
            prefix: prefix.unwrap_or(0),
            account,
        })
    }
}

/// The prefix (none for `0x` hex) and account of an address, checksum checked.
fn decode(text: &str) -> Result<(Option<u16>, AccountId), AddressError> {
    let text = text.trim();
    let malformed = || AddressError::Malformed {
        text: text.to_owned(),
    };
    if let Some(hex_key) = text.strip_prefix("0x") {
        let bytes = hex::decode(hex_key).map_err(|_| malformed())?;
        return <[u8; 32]>::try_from(bytes.as_slice())
            .map(|key| (None, AccountId(key)))
            .map_err(|_| malformed());
    }
    let bytes = bs58::decode(text).into_vec().map_err(|_| malformed())?;
    if bytes.len() != 36 {
        return Err(malformed());
    }
    let prefix = u16::from_le_bytes([bytes[0], bytes[1]]);
    let mut key = [0u8; 32];
    key.copy_from_slice(&bytes[2..34]);
    let account = AccountId(key);
    if bytes[34..36] != checksum(prefix, &account) {
        return Err(AddressError::BadChecksum {
            text: text.to_owned(),
        });
    }
    Ok((Some(prefix), account))
}

impl AccountId {
    /// This account as an address of the chain with `prefix`.
    pub fn address(&self, prefix: u16) -> Address {
        Address {
            prefix,
            account: *self,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = Vec::with_capacity(36);
        bytes.extend_from_slice(&self.prefix.to_le_bytes());
        bytes.extend_from_slice(self.account.as_bytes());
        bytes.extend_from_slice(&checksum(self.prefix, &self.account));
        f.write_str(&bs58::encode(bytes).into_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn display_then_parse_round_trips(key in any::<[u8; 32]>(), prefix in any::<u16>()) {
            let account = AccountId(key);
            let text = Address { prefix, account }.to_string();
            prop_assert_eq!(Address::parse(&text, prefix), Ok(account));
        }
    }

    #[test]
    fn typo_and_wrong_chain_are_caught() {
        let account = AccountId([7u8; 32]);
        let text = Address {
            prefix: 42,
            account,
        }
        .to_string();
        let mut typo: Vec<char> = text.chars().collect();
        typo[10] = if typo[10] == 'A' { 'B' } else { 'A' };
        let typo: String = typo.into_iter().collect();
        assert!(matches!(
            Address::parse(&typo, 42),
            Err(AddressError::BadChecksum { .. } | AddressError::Malformed { .. })
        ));
        assert_eq!(
            Address::parse(&text, 7),
            Err(AddressError::WrongChain {
                expected: 7,
                found: 42
            })
        );
    }
}
