//! The chains this wallet trusts, kept in its folder beside the keystore files users save
//! there: `chains.json`, one [`Pin`] per chain (genesis hash, and how far the light client
//! has followed its validator sets). Written atomically (a new file renamed over the old).

use anyhow::Context as _;
use std::path::{Path, PathBuf};
use wijk_client::verify::Pin;
use wijk_primitives::Hash;

/// The wallet's trusted chains.
pub(crate) struct Store {
    path: PathBuf,
}

impl Store {
    /// The store in `wallet_dir`.
    pub(crate) fn new(wallet_dir: &Path) -> Store {
        Store {
            path: wallet_dir.join("chains.json"),
        }
    }

    /// Every pinned chain.
    pub(crate) fn pins(&self) -> anyhow::Result<Vec<Pin>> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => serde_json::from_str(&text).with_context(|| {
                format!("{} is not a wijk wallet's chain list", self.path.display())
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(error) => {
                Err(error).with_context(|| format!("cannot read {}", self.path.display()))
            }
        }
    }

    /// The pin of the chain with `genesis_hash`.
    pub(crate) fn pin(&self, genesis_hash: &Hash) -> anyhow::Result<Option<Pin>> {
        Ok(self
            .pins()?
            .into_iter()
            .find(|pin| pin.genesis_hash == *genesis_hash))
    }

    /// Keeps `pin`, replacing any pin of the same chain.
    pub(crate) fn save(&self, pin: &Pin) -> anyhow::Result<()> {
        let mut pins = self.pins()?;
        pins.retain(|kept| kept.genesis_hash != pin.genesis_hash);
        pins.push(pin.clone());
        self.write(&pins)
    }

    /// Forgets the chain with `genesis_hash`; whether it was pinned.
    pub(crate) fn forget(&self, genesis_hash: &Hash) -> anyhow::Result<bool> {
        let mut pins = self.pins()?;
        let before = pins.len();
        pins.retain(|kept| kept.genesis_hash != *genesis_hash);
        self.write(&pins)?;
        Ok(pins.len() != before)
    }

    fn write(&self, pins: &[Pin]) -> anyhow::Result<()> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let temporary = self.path.with_extension("json.new");
        std::fs::write(&temporary, serde_json::to_string_pretty(pins)? + "\n")
            .with_context(|| format!("cannot write {}", temporary.display()))?;
        std::fs::rename(&temporary, &self.path)
            .with_context(|| format!("cannot replace {}", self.path.display()))?;
        Ok(())
    }
}
