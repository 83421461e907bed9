//! `wijk chain pin|show|forget`: the chains this wallet trusts. A chain is pinned from the
//! chain spec its cooperative publishes (its genesis is built here from the spec, so no
//! node is trusted), or on first use of a node (`wijk proof` does that, and says so).

use crate::{output, Context};
use anyhow::Context as _;
use clap::Subcommand;
use std::path::PathBuf;
use wijk_client::verify::{pin_on_first_use, Pin};

#[derive(Debug, Subcommand)]
pub(crate) enum ChainCommand {
    /// Trust a chain: from its chain spec file (best), or else the node's, on first use.
    Pin {
        /// The chain spec JSON the cooperative publishes.
        #[arg(long)]
        spec: Option<PathBuf>,
    },
    /// Show the chains this wallet trusts and how far it has verified each.
    Show,
    /// Stop trusting a chain (by its genesis hash).
    Forget {
        /// The genesis hash (0x hex), as `wijk chain show` prints it.
        genesis_hash: String,
    },
}

/// The pin of a chain spec file: genesis built here from the spec.
pub(crate) fn pin_from_spec(path: &std::path::Path) -> anyhow::Result<Pin> {
    let spec = wijk_chain_spec::ChainSpec::load_file(&path.to_string_lossy())?;
    let genesis = spec.build_genesis()?;
    Ok(Pin::from_genesis(
        &spec.name,
        spec.address_prefix,
        &format!("chain spec {}", path.display()),
        &genesis.header,
        spec.validators().to_vec(),
    ))
}

fn describe(pin: &Pin) -> String {
    format!(
        "{}  genesis {}\n  trusted from: {}\n  verified up to block #{} in epoch {} ({} validators{})",
        pin.name,
        pin.genesis_hash,
        pin.source,
        pin.height,
        pin.epoch,
        pin.validators.len(),
        match &pin.scheduled {
            Some(change) => format!(
                "; a set of {} takes over at #{}",
                change.validators.len(),
                change.activates_at
            ),
            None => String::new(),
        }
    )
}

pub(crate) async fn run(context: &Context, command: ChainCommand) -> anyhow::Result<()> {
    let store = context.store();
    match command {
        ChainCommand::Pin { spec } => {
            let pin = match &spec {
                Some(path) => pin_from_spec(path)?,
                None => pin_on_first_use(&context.client().await?).await?,
            };
            store.save(&pin)?;
            output::line(format!("trusting {}", describe(&pin)))
        }
        ChainCommand::Show => {
            let pins = store.pins()?;
            if context.json() {
                return output::line(serde_json::to_string_pretty(&pins)?);
            }
            if pins.is_empty() {
                return output::line("no chain pinned yet (wijk chain pin --spec FILE)");
            }
            for pin in &pins {
                output::line(describe(pin))?;
            }
            Ok(())
        }
        ChainCommand::Forget { genesis_hash } => {
            let hash = wijk_primitives::Hash::from_hex(&genesis_hash)
                .context("a genesis hash is 0x followed by 64 hex digits")?;
            if store.forget(&hash)? {
                output::line(format!("forgot chain {hash}"))
            } else {
                anyhow::bail!("no pinned chain has genesis {hash}")
            }
        }
    }
}
