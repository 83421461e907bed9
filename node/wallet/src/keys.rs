//! Secrets: a BIP39 phrase, a dev name like `//Bob`, a `0x` seed, or `file:PATH` of a
//! keystore file written by `wijk account new --save` (mode 0600).

use anyhow::Context as _;
use serde_json::{json, Value};
use wijk_primitives::Keypair;

/// Reads a secret: a keystore file (`file:PATH`) or a secret URI.
pub(crate) fn load_key(secret: &str) -> anyhow::Result<Keypair> {
    if let Some(path) = secret.strip_prefix("file:") {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read keystore {path}"))?;
        let stored: Value = serde_json::from_str(&text)
            .with_context(|| format!("{path} is not a keystore file"))?;
        let phrase = stored["secretPhrase"]
            .as_str()
            .with_context(|| format!("{path} has no secretPhrase"))?;
        return Ok(Keypair::from_secret_uri(phrase)?);
    }
    Ok(Keypair::from_secret_uri(secret)?)
}

/// Writes a keystore file readable by its owner only; refuses to overwrite one.
pub(crate) fn write_keystore(
    path: &std::path::Path,
    phrase: &str,
    address: &str,
) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create {} (does it exist already?)", path.display()))?;
    let stored = json!({ "address": address, "secretPhrase": phrase, "scheme": "bip39+blake3-hard-junctions/ed25519" });
    writeln!(file, "{}", serde_json::to_string_pretty(&stored)?)?;
    Ok(())
}
