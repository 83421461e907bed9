//! The coin pallet's subcommands: `wijk send|mint|redeem|supply`.

use crate::keys::load_key;
use crate::{output, Context};
use clap::Subcommand;
use wijk_coin::Call;
use wijk_primitives::parse_cents;
use wijk_runtime::RuntimeCall;

#[derive(Debug, Subcommand)]
pub(crate) enum CoinCommand {
    /// Pay (or give) coins to someone; waits until the payment is final.
    Send {
        /// Your secret: recovery phrase, //Name (dev), 0x seed, or file:PATH of a keystore file.
        #[arg(long)]
        from: String,
        /// The recipient's address.
        #[arg(long)]
        to: String,
        /// Amount in euros, e.g. 12.50.
        #[arg(long)]
        amount: String,
        /// Return once the node accepted it instead of waiting for finality. Payments sent
        /// one after another this way get consecutive nonces (the node counts the ones in
        /// its pool).
        #[arg(long)]
        no_wait: bool,
    },
    /// Issuer only: mint coins against a euro deposit.
    Mint {
        /// The issuer's secret.
        #[arg(long)]
        from: String,
        /// Who receives the coins.
        #[arg(long)]
        to: String,
        /// Amount in euros deposited.
        #[arg(long)]
        amount: String,
        /// The deposit's reference (bank transfer id); each can be used once.
        #[arg(long)]
        deposit_ref: String,
    },
    /// Redeem coins for euros (they are burned; the receipt is the transaction).
    Redeem {
        /// Your secret.
        #[arg(long)]
        from: String,
        /// Amount in euros.
        #[arg(long)]
        amount: String,
    },
    /// Total supply and the euro reserve (they must be equal).
    Supply,
}

pub(crate) async fn run(context: &Context, command: CoinCommand) -> anyhow::Result<()> {
    match command {
        CoinCommand::Send {
            from,
            to,
            amount,
            no_wait,
        } => {
            let to = context.client().await?.parse_address(&to)?;
            let call = RuntimeCall::Coin(Call::Transfer {
                to,
                amount: parse_cents(&amount)?,
            });
            super::submit(context, &load_key(&from)?, call, !no_wait).await
        }
        CoinCommand::Mint {
            from,
            to,
            amount,
            deposit_ref,
        } => {
            let to = context.client().await?.parse_address(&to)?;
            let call = RuntimeCall::Coin(Call::Mint {
                to,
                amount: parse_cents(&amount)?,
                deposit_ref: deposit_ref.into_bytes(),
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        CoinCommand::Redeem { from, amount } => {
            let call = RuntimeCall::Coin(Call::Redeem {
                amount: parse_cents(&amount)?,
            });
            super::submit(context, &load_key(&from)?, call, true).await
        }
        CoinCommand::Supply => {
            let supply = context.client().await?.supply().await?;
            output::show(context.json(), &supply, |s| {
                format!(
                    "total supply {}  euro reserve {}  {}",
                    s.total_supply,
                    s.euro_reserve,
                    if s.balanced {
                        "(balanced)"
                    } else {
                        "(NOT BALANCED: report this)"
                    }
                )
            })
        }
    }
}
