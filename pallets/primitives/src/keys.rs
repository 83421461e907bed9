//! Accounts are ed25519 public keys. This module holds the key types and the documented
//! way a secret (BIP39 mnemonic, dev seed, raw hex seed) becomes a key pair.
//!
//! # Derivation scheme (stable; wallets outside this repo must follow it)
//! 1. A secret URI is `PHRASE` followed by zero or more hard junctions `//name`.
//!    `//Alice` alone means [`DEV_PHRASE`]`//Alice`. `0x` + 64 hex digits is a raw seed.
//! 2. A BIP39 phrase becomes a 64-byte BIP39 seed (PBKDF2-HMAC-SHA512, 2048 rounds,
//!    salt `"mnemonic"`, empty passphrase); its first 32 bytes are the ed25519 secret seed.
//! 3. Each hard junction replaces the seed with
//!    `blake3::derive_key("wijk-chain ed25519 hard junction v1", seed || utf8(name))`.
//!
//! This is deliberately simpler than Substrate's (which is sr25519-first): one hash, no
//! soft derivation, so a resident's key cannot be derived from a public key.

use core::fmt;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use parity_scale_codec::{Decode, Encode, MaxEncodedLen};
use zeroize::Zeroizing;

/// The well-known development phrase; `//Alice`, `//Bob`, ... are derived from it.
/// Never use it for real funds: everyone knows it.
pub const DEV_PHRASE: &str =
    "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

const HARD_JUNCTION_CONTEXT: &str = "wijk-chain ed25519 hard junction v1";

/// An account: the 32 bytes of an ed25519 public key.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Encode, Decode, MaxEncodedLen,
)]
pub struct AccountId(pub [u8; 32]);

impl AccountId {
    /// The raw public key bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Inside [`crate::json::with_address_prefix`] an account shows as its address of that
/// chain (what its owner recognises); elsewhere (logs) as the first six bytes in hex.
impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match crate::json::address_prefix_in_scope() {
            Some(prefix) => write!(f, "{}", self.address(prefix)),
            None => write!(f, "0x{}", hex::encode(&self.0[..6])),
        }
    }
}

/// An ed25519 signature (R || s).
#[derive(Clone, Copy, PartialEq, Eq, Encode, Decode, MaxEncodedLen)]
pub struct Signature(pub [u8; 64]);

impl fmt::Debug for Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}..", hex::encode(&self.0[..8]))
    }
}

/// Why a secret could not become a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The phrase part is not a valid BIP39 mnemonic (word list or checksum).
    #[error("not a valid BIP39 mnemonic: {reason}")]
    BadMnemonic {
        /// What bip39 said.
        reason: String,
    },
    /// A `0x` seed that is not 32 bytes of hex.
    #[error("a hex seed must be 0x followed by 64 hex digits")]
    BadHexSeed,
    /// A junction with nothing after the `//`.
    #[error("empty derivation junction in the secret")]
    EmptyJunction,
}

/// A signing key pair. The secret seed is zeroized on drop.
#[derive(Clone)]
pub struct Keypair {
    signing_key: SigningKey,
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({:?})", self.account_id())
    }
}

impl Keypair {
    /// A key pair from a 32-byte secret seed.
    pub fn from_seed(seed: &[u8; 32]) -> Keypair {
        Keypair {
            signing_key: SigningKey::from_bytes(seed),
        }
    }

    /// The 12-word mnemonic for 16 bytes of entropy, and its key pair. The caller draws the
    /// entropy (from the operating system): this crate stays free of randomness.
    pub fn mnemonic_from_entropy(entropy: &[u8; 16]) -> Result<(String, Keypair), KeyError> {
        let mnemonic =
            bip39::Mnemonic::from_entropy(entropy).map_err(|error| KeyError::BadMnemonic {
                reason: error.to_string(),
            })?;
        let phrase = mnemonic.to_string();
        let pair = Keypair::from_phrase(&phrase)?;
        Ok((phrase, pair))
    }

    /// A key pair from a secret URI (see the module docs for the scheme).
    pub fn from_secret_uri(uri: &str) -> Result<Keypair, KeyError> {
        let uri = uri.trim();
        let (phrase, junctions) = match uri.find("//") {
            Some(at) => (uri[..at].trim(), &uri[at..]),
            None => (uri, ""),
        };
        let phrase = if phrase.is_empty() {
            DEV_PHRASE
        } else {
            phrase
        };
        let mut seed = Zeroizing::new(if let Some(hex_seed) = phrase.strip_prefix("0x") {
            let bytes = hex::decode(hex_seed).map_err(|_| KeyError::BadHexSeed)?;
            <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::BadHexSeed)?
        } else {
            mnemonic_seed(phrase)?
        });
        for junction in junctions.split("//").skip(1) {
            if junction.is_empty() {
                return Err(KeyError::EmptyJunction);
            }
            let mut input = Zeroizing::new(Vec::with_capacity(32 + junction.len()));
            input.extend_from_slice(seed.as_ref());
            input.extend_from_slice(junction.as_bytes());
            *seed = blake3::derive_key(HARD_JUNCTION_CONTEXT, &input);
        }
        Ok(Keypair::from_seed(&seed))
    }

    fn from_phrase(phrase: &str) -> Result<Keypair, KeyError> {
        Ok(Keypair::from_seed(&mnemonic_seed(phrase)?))
    }

    /// The well-known dev account `//name` (e.g. `Alice`).
    pub fn dev(name: &str) -> Keypair {
        Keypair::from_secret_uri(&format!("//{name}")).expect("dev junctions are valid")
    }

    /// The account (public key) of this pair.
    pub fn account_id(&self) -> AccountId {
        AccountId(self.signing_key.verifying_key().to_bytes())
    }

    /// The secret seed, for writing to a keystore file.
    pub fn secret_seed(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.signing_key.to_bytes())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        Signature(self.signing_key.sign(message).to_bytes())
    }

    /// The dalek verifying key, for crates that need it.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing_key.verifying_key()
    }
}

fn mnemonic_seed(phrase: &str) -> Result<[u8; 32], KeyError> {
    let mnemonic = bip39::Mnemonic::parse(phrase).map_err(|error| KeyError::BadMnemonic {
        reason: error.to_string(),
    })?;
    let full = Zeroizing::new(mnemonic.to_seed(""));
    let mut seed = [0u8; 32];
    seed.copy_from_slice(&full[..32]);
    Ok(seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_accounts_are_distinct_and_stable() {
        let alice = Keypair::dev("Alice").account_id();
        let bob = Keypair::dev("Bob").account_id();
        assert_ne!(alice, bob);
        assert_eq!(
            alice,
            Keypair::from_secret_uri("//Alice").unwrap().account_id()
        );
        assert_eq!(
            alice,
            Keypair::from_secret_uri(&format!("{DEV_PHRASE}//Alice"))
                .unwrap()
                .account_id()
        );
    }

    #[test]
    fn generated_mnemonic_round_trips() {
        let (phrase, pair) = Keypair::mnemonic_from_entropy(&[7u8; 16]).unwrap();
        assert_eq!(phrase.split_whitespace().count(), 12);
        assert_eq!(
            Keypair::from_secret_uri(&phrase).unwrap().account_id(),
            pair.account_id()
        );
    }

    #[test]
    fn bad_secrets_are_typed_errors() {
        assert!(matches!(
            Keypair::from_secret_uri("not a phrase at all"),
            Err(KeyError::BadMnemonic { .. })
        ));
        assert_eq!(
            Keypair::from_secret_uri("0x1234").unwrap_err(),
            KeyError::BadHexSeed
        );
        assert_eq!(
            Keypair::from_secret_uri("//Alice//").unwrap_err(),
            KeyError::EmptyJunction
        );
    }
}
