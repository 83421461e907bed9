//! The human forms of chain data in serde (JSON-RPC results, chain specs, rendered calls
//! and events): accounts as addresses of *this* chain, amounts as euros (`"12.50"`), hashes
//! and bytes as `0x` hex.
//!
//! **The address prefix is scoped, not global.** An address names its chain (see
//! [`crate::address`]), so an account can only be shown or read knowing which chain it
//! belongs to. A node serves one chain, but a relayer or a test speaks to several, so the
//! prefix is set around the code that renders or parses ([`with_address_prefix`]) instead of
//! once per process (as Substrate's default SS58 version is). Outside such a scope an
//! account is written as the `0x` hex of its public key, which is still exact, and an
//! address of any chain is read.
//!
//! The same scope makes `{account:?}` in error messages an address, so a refusal names the
//! account the way its owner's wallet shows it (`insufficient funds: account KVvG...uhu has
//! 87.50`), not as a fragment of hex.

use crate::address::{Address, AddressError};
use crate::amount::{format_cents, parse_cents, Cents};
use crate::hash::Hash;
use crate::keys::{AccountId, Signature};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::Cell;

thread_local! {
    static ADDRESS_PREFIX: Cell<Option<u16>> = const { Cell::new(None) };
}

/// Restores the previous prefix when a scope ends, also when it ends by unwinding.
struct PrefixGuard(Option<u16>);

impl Drop for PrefixGuard {
    fn drop(&mut self) {
        ADDRESS_PREFIX.with(|cell| cell.set(self.0));
    }
}

/// Runs `f` with accounts shown and read as addresses of the chain with `prefix`.
pub fn with_address_prefix<R>(prefix: u16, f: impl FnOnce() -> R) -> R {
    let _restore = PrefixGuard(ADDRESS_PREFIX.with(|cell| cell.replace(Some(prefix))));
    f()
}

/// The address prefix of the innermost [`with_address_prefix`] scope on this thread.
pub fn address_prefix_in_scope() -> Option<u16> {
    ADDRESS_PREFIX.with(Cell::get)
}

/// Parses an address: of the chain in scope if there is one, else of any chain.
pub fn parse_account(text: &str) -> Result<AccountId, AddressError> {
    match address_prefix_in_scope() {
        Some(prefix) => Address::parse(text, prefix),
        None => Address::parse_any(text).map(|address| address.account),
    }
}

impl Serialize for AccountId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match address_prefix_in_scope() {
            Some(prefix) => serializer.collect_str(&self.address(prefix)),
            None => serializer.serialize_str(&format!("0x{}", hex::encode(self.0))),
        }
    }
}

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_account(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Hash {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Hash::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not 0x hex of 32 bytes")))
    }
}

impl Serialize for Signature {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("0x{}", hex::encode(self.0)))
    }
}

/// `#[serde(with = "wijk_primitives::json::euro")]`: cents as a euro string, `"12.50"`.
pub mod euro {
    use super::*;

    /// Writes cents as euros with two decimals.
    pub fn serialize<S: Serializer>(cents: &Cents, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_cents(*cents))
    }

    /// Reads euros (`"12.50"`, `"12,5"`, `"12"`) as cents.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Cents, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_cents(&text).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "wijk_primitives::json::euro_or_none")]`: an optional amount, a euro
/// string or `null` (absent with `#[serde(default)]`).
pub mod euro_or_none {
    use super::*;

    /// Writes cents as euros with two decimals, or `null`.
    pub fn serialize<S: Serializer>(
        cents: &Option<Cents>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match cents {
            Some(cents) => serializer.serialize_some(&format_cents(*cents)),
            None => serializer.serialize_none(),
        }
    }

    /// Reads euros (`"12.50"`) as cents, or `null` as none.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Cents>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(|text| parse_cents(&text).map_err(serde::de::Error::custom))
            .transpose()
    }
}

/// `#[serde(with = "wijk_primitives::json::hex_bytes")]`: bytes as `0x` hex.
pub mod hex_bytes {
    use super::*;

    /// Writes `0x` hex.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("0x{}", hex::encode(bytes)))
    }

    /// Reads `0x` hex (or bare hex).
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        hex::decode(text.strip_prefix("0x").unwrap_or(&text)).map_err(serde::de::Error::custom)
    }
}

/// `#[serde(with = "wijk_primitives::json::text_bytes")]`: bytes that people type (a
/// deposit reference, a bank transfer id) as text; bytes that are not UTF-8 are shown
/// with replacement characters, and the transaction's `encoded` bytes stay exact.
pub mod text_bytes {
    use super::*;

    /// Writes the bytes as text.
    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&String::from_utf8_lossy(bytes))
    }

    /// Reads text as its UTF-8 bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        Ok(String::deserialize(deserializer)?.into_bytes())
    }
}

/// `#[serde(with = "wijk_primitives::json::decimal")]`: a `u128` as a decimal string (JSON
/// numbers lose precision past 2^53 in most readers).
pub mod decimal {
    use super::*;

    /// Writes the number as a string.
    pub fn serialize<S: Serializer>(value: &u128, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    /// Reads a number written as a string.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u128, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// JSON schemas of the human forms, for the node's OpenRPC document.
mod schema {
    use super::*;
    use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
    use std::borrow::Cow;

    impl JsonSchema for AccountId {
        fn schema_name() -> Cow<'static, str> {
            "Address".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "type": "string",
                "description": "An account: base58 of prefix (u16 LE) || ed25519 public key || blake3 checksum (2 bytes), under this chain's address prefix",
            })
        }
    }

    impl JsonSchema for Hash {
        fn schema_name() -> Cow<'static, str> {
            "Hash".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "type": "string",
                "pattern": "^0x[0-9a-f]{64}$",
                "description": "A blake3 hash (block, transaction, state root), 0x hex",
            })
        }
    }

    impl JsonSchema for Signature {
        fn schema_name() -> Cow<'static, str> {
            "Signature".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "type": "string",
                "pattern": "^0x[0-9a-f]{128}$",
                "description": "An ed25519 signature (R || s), 0x hex",
            })
        }
    }

    impl JsonSchema for crate::vote::SignedVote {
        fn schema_name() -> Cow<'static, str> {
            "SignedVote".into()
        }
        fn json_schema(generator: &mut SchemaGenerator) -> Schema {
            let address = generator.subschema_for::<AccountId>();
            let hash = generator.subschema_for::<Option<Hash>>();
            json_schema!({
                "type": "object",
                "description": "A consensus vote with its signer; `encoded` is its SCALE encoding, so anyone can check the signature again",
                "properties": {
                    "signer": address,
                    "view": { "type": "integer", "minimum": 0 },
                    "kind": { "enum": ["notarize", "nullify", "finalize"] },
                    "blockHash": hash,
                    "blockNumber": { "type": ["integer", "null"], "minimum": 0 },
                    "encoded": { "type": "string", "pattern": "^0x[0-9a-f]*$" },
                },
                "required": ["signer", "view", "kind", "blockHash", "blockNumber", "encoded"],
            })
        }
    }

    /// The schema of an amount in euros, `"12.50"` ([`super::euro`]).
    pub struct EuroAmount;

    impl JsonSchema for EuroAmount {
        fn schema_name() -> Cow<'static, str> {
            "Euros".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({
                "type": "string",
                "pattern": "^[0-9]+\\.[0-9]{2}$",
                "description": "An amount of coin in euros with two decimals (1 coin = 1 euro)",
            })
        }
    }

    /// The schema of bytes as `0x` hex ([`super::hex_bytes`]).
    pub struct HexBytes;

    impl JsonSchema for HexBytes {
        fn schema_name() -> Cow<'static, str> {
            "Hex".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({ "type": "string", "pattern": "^0x([0-9a-f]{2})*$", "description": "Bytes, 0x hex" })
        }
    }

    /// The schema of bytes shown as text ([`super::text_bytes`]).
    pub struct TextBytes;

    impl JsonSchema for TextBytes {
        fn schema_name() -> Cow<'static, str> {
            "Text".into()
        }
        fn json_schema(_: &mut SchemaGenerator) -> Schema {
            json_schema!({ "type": "string", "description": "Bytes a person typed (a reference), as text" })
        }
    }
}

pub use schema::{EuroAmount, HexBytes, TextBytes};

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct Payment {
        to: AccountId,
        #[serde(with = "euro")]
        amount: Cents,
    }

    #[test]
    fn accounts_are_addresses_of_the_chain_in_scope() {
        let payment = Payment {
            to: AccountId([7; 32]),
            amount: 1_250,
        };
        let text = with_address_prefix(42, || serde_json::to_string(&payment).unwrap());
        let address = AccountId([7; 32]).address(42).to_string();
        assert_eq!(text, format!(r#"{{"to":"{address}","amount":"12.50"}}"#));
        let back: Payment = with_address_prefix(42, || serde_json::from_str(&text).unwrap());
        assert_eq!(back, payment);
        // Another chain's scope refuses the address, and names why.
        let refused = with_address_prefix(7, || serde_json::from_str::<Payment>(&text));
        assert!(refused.unwrap_err().to_string().contains("prefix 42"));
        // Outside any scope: exact hex, and the scope ends with its closure.
        let outside = serde_json::to_string(&payment).unwrap();
        assert!(outside.contains(&format!("0x{}", hex::encode([7u8; 32]))));
        assert_eq!(address_prefix_in_scope(), None);
    }

    #[test]
    fn a_debug_account_in_scope_is_its_address() {
        let account = AccountId([9; 32]);
        let shown = with_address_prefix(42, || format!("{account:?}"));
        assert_eq!(shown, account.address(42).to_string());
        assert_eq!(format!("{account:?}"), "0x090909090909");
    }
}
