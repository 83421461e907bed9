//! The system pallet's subcommands: `wijk balance|history|tx|proof` (an account's record,
//! its transactions, and its record proven against the pinned chain).

use crate::{describe, output, Context};
use anyhow::Context as _;
use clap::Subcommand;
use parity_scale_codec::Decode;
use serde_json::json;
use wijk_client::verify::{pin_on_first_use, verified_head, verified_values};
use wijk_primitives::Hash;

#[derive(Debug, Subcommand)]
pub(crate) enum SystemCommand {
    /// Show the free balance, earmarked coins, nonce and membership of an address.
    Balance {
        /// The address.
        address: String,
    },
    /// An address's transactions, newest first.
    History {
        /// The address.
        address: String,
        /// Entries per page.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// Continue from this cursor (printed at the end of a page).
        #[arg(long)]
        before: Option<String>,
    },
    /// Show one transaction.
    Tx {
        /// Its hash.
        hash: String,
    },
    /// Check an address's balance here, without trusting the node: a Merkle proof against
    /// the finalized state root, whose certificate is checked against the validator set
    /// this wallet trusts (pinned from the chain spec, or on first use).
    Proof {
        /// The address.
        address: String,
    },
}

pub(crate) async fn run(context: &Context, command: SystemCommand) -> anyhow::Result<()> {
    let client = context.client().await?;
    let prefix = client.chain().address_prefix;
    match command {
        SystemCommand::Balance { address } => {
            let account = client.account(&client.parse_address(&address)?).await?;
            wijk_primitives::json::with_address_prefix(prefix, || {
                output::show(context.json(), &account, |a| {
                    let mut lines = vec![format!(
                        "{}  balance {} ({} transactions sent)",
                        a.address.address(prefix),
                        a.balance,
                        a.nonce
                    )];
                    for held in &a.earmarked {
                        lines.push(format!(
                            "  earmarked {} from {:?}: {}",
                            held.amount, held.funder, held.rule
                        ));
                    }
                    if !a.earmarked.is_empty() {
                        lines.push(format!("  total {}", a.total));
                    }
                    if let Some(member) = &a.member {
                        lines.push(format!(
                            "  member: {}",
                            super::membership::describe(member).replace('\n', "\n  ")
                        ));
                    }
                    lines.join("\n")
                })
            })
        }
        SystemCommand::History {
            address,
            limit,
            before,
        } => {
            let account = client.parse_address(&address)?;
            let page = client.history(&account, limit, before.as_deref()).await?;
            output::show(context.json(), &page, |page| {
                let mut lines: Vec<String> = page
                    .entries
                    .iter()
                    .map(|tx| describe::transaction(tx, prefix))
                    .collect();
                if lines.is_empty() {
                    lines.push("no transactions".into());
                }
                if let Some(next) = &page.next {
                    lines.push(format!("more: --before {next}"));
                }
                lines.join("\n")
            })
        }
        SystemCommand::Tx { hash } => {
            let hash =
                Hash::from_hex(&hash).context("a transaction hash is 0x and 64 hex digits")?;
            let Some(tx) = client.transaction(&hash).await? else {
                anyhow::bail!("no final transaction with hash {hash} (it may still be pending)");
            };
            output::show(context.json(), &tx, |tx| {
                let mut text = describe::transaction(tx, prefix);
                for event in tx.outcome.events.iter().flatten() {
                    text.push_str(&format!("\n  {}", describe::tagged(event, "event")));
                }
                text
            })
        }
        SystemCommand::Proof { address } => prove(context, &client, &address).await,
    }
}

/// Proves an account's record against the pinned chain, following its validator sets.
async fn prove(
    context: &Context,
    client: &wijk_client::Client,
    address: &str,
) -> anyhow::Result<()> {
    let account = client.parse_address(address)?;
    let store = context.store();
    let node_chain = client.chain().genesis_hash;
    let mut pin = match store.pin(&node_chain)? {
        Some(pin) => pin,
        None => {
            if let Some(other) = store.pins()?.first() {
                anyhow::bail!(
                    "the node serves chain {node_chain}, but this wallet trusts {} ({}); use a node of that chain, or pin this one with `wijk chain pin --spec FILE`",
                    other.genesis_hash,
                    other.name
                );
            }
            let pin = pin_on_first_use(client).await?;
            eprintln!(
                "trusting chain {} ({}) on first use of {}: its genesis header and first validator set check out, but for certainty pin it from its chain spec (wijk chain pin --spec FILE)",
                pin.genesis_hash,
                pin.name,
                client.url()
            );
            pin
        }
    };
    let head = verified_head(client, &mut pin).await?;
    // What the light client learned (new epochs) is kept for next time.
    store.save(&pin)?;
    let key = wijk_system::ACCOUNTS.key(&account);
    let value = verified_values(client, &head, std::slice::from_ref(&key))
        .await?
        .into_iter()
        .next()
        .flatten();
    let record: wijk_system::AccountInfo = match value {
        Some(bytes) => Decode::decode(&mut bytes.as_slice())
            .context("the proven account record does not decode")?,
        None => wijk_system::AccountInfo::default(),
    };
    let balance = wijk_primitives::format_cents(record.balance_cents);
    let result = json!({
        "address": account.address(pin.address_prefix).to_string(),
        "balance": balance,
        "nonce": record.nonce,
        "block": head.header.height,
        "blockHash": head.hash,
        "stateRoot": head.header.state_root,
        "certificateSigners": head.signers,
        "validators": head.validators,
        "epoch": pin.epoch,
        "trustedFrom": pin.source,
        "verified": true,
    });
    output::show(context.json(), &result, |_| {
        format!(
            "balance {balance} at block #{} - verified here: Merkle proof against state root {}, block finalized by {} of {} validators of epoch {} of the chain trusted from {}",
            head.header.height, head.header.state_root, head.signers, head.validators, pin.epoch, pin.source
        )
    })
}
