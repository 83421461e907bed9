//! `wijk account new|inspect`: keys.

use crate::keys::{load_key, write_keystore};
use crate::{output, Context};
use clap::Subcommand;
use std::path::PathBuf;
use wijk_primitives::{Address, Keypair};

#[derive(Debug, Subcommand)]
pub(crate) enum AccountCommand {
    /// Create a new account: prints its recovery phrase and address.
    New {
        /// Also save the key to this keystore file (readable by you only).
        #[arg(long)]
        save: Option<PathBuf>,
        /// Address prefix (default: ask the node; 42 when offline).
        #[arg(long)]
        prefix: Option<u16>,
    },
    /// Show the address of a secret.
    Inspect {
        /// Phrase, //Name, 0x seed or file:PATH.
        secret: String,
        /// Address prefix (default: ask the node; 42 when offline).
        #[arg(long)]
        prefix: Option<u16>,
    },
}

/// The prefix given, else the node's, else the dev chain's.
async fn prefix(context: &Context, given: Option<u16>) -> u16 {
    match given {
        Some(prefix) => prefix,
        None => match context.client().await {
            Ok(client) => client.chain().address_prefix,
            Err(_) => 42,
        },
    }
}

pub(crate) async fn run(context: &Context, command: AccountCommand) -> anyhow::Result<()> {
    match command {
        AccountCommand::New {
            save,
            prefix: given,
        } => {
            let prefix = prefix(context, given).await;
            let mut entropy = [0u8; 16];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut entropy);
            let (phrase, pair) = Keypair::mnemonic_from_entropy(&entropy)?;
            let address = Address {
                prefix,
                account: pair.account_id(),
            }
            .to_string();
            if let Some(path) = save {
                write_keystore(&path, &phrase, &address)?;
                output::line(format!(
                    "Saved to:       {} (use --from file:{})",
                    path.display(),
                    path.display()
                ))?;
            }
            output::line(format!("Secret phrase:  {phrase}"))?;
            output::line(format!("Address:        {address}"))?;
            output::line("Write the phrase down and keep it private: it is the only way to recover the account.")
        }
        AccountCommand::Inspect {
            secret,
            prefix: given,
        } => {
            let pair = load_key(&secret)?;
            let prefix = prefix(context, given).await;
            output::line(format!(
                "Address:        {}",
                pair.account_id().address(prefix)
            ))?;
            output::line(format!(
                "Public key:     0x{}",
                hex::encode(pair.account_id().0)
            ))
        }
    }
}
