//! The wallet's subcommands, one module per pallet (plus accounts and trusted chains),
//! and what submitting a call looks like to the user.

pub(crate) mod account;
pub(crate) mod activities;
pub(crate) mod chain;
pub(crate) mod coin;
pub(crate) mod geo;
pub(crate) mod governance;
pub(crate) mod market;
pub(crate) mod membership;
pub(crate) mod stats;
pub(crate) mod system;
pub(crate) mod validators;

use crate::{describe, output, Context};
use anyhow::Context as _;
use std::time::Duration;
use wijk_primitives::Hash;
use wijk_primitives::Keypair;
use wijk_runtime::RuntimeCall;

/// How long a command waits for its transaction to be final before giving up (the
/// transaction may still land: `wijk tx HASH` tells).
const FINALITY_TIMEOUT: Duration = Duration::from_secs(120);

/// Signs `call` with `key`, submits it, and (unless `wait` is false) waits until it is
/// final and shows the outcome; a final transaction whose call failed is an error.
pub(crate) async fn submit(
    context: &Context,
    key: &Keypair,
    call: RuntimeCall,
    wait: bool,
) -> anyhow::Result<()> {
    let client = context.client().await?;
    // The nonce counts this account's transactions still in the pool: one sent with
    // --no-wait may not be final yet, and signing its nonce again would be refused.
    let transaction = client.sign_next(key, call).await?;
    if !wait {
        let hash = client.submit(&transaction).await?;
        return output::line(format!("accepted {hash}"));
    }
    let block = client
        .submit_and_wait(&transaction, FINALITY_TIMEOUT, || {
            eprintln!("accepted by the node; waiting for finality ...");
        })
        .await?;
    let Some(final_tx) = client.transaction(&transaction.hash()).await? else {
        anyhow::bail!("the node reported the transaction final but does not serve it");
    };
    let prefix = client.chain().address_prefix;
    output::show(context.json(), &final_tx, |tx| {
        format!(
            "final in block #{} ({block})\n{}",
            tx.block_number,
            describe::transaction(tx, prefix)
        )
    })?;
    if !final_tx.outcome.success {
        anyhow::bail!(
            "the transaction is final but its call failed: {}",
            final_tx
                .outcome
                .error
                .as_deref()
                .unwrap_or("no reason given")
        );
    }
    Ok(())
}

/// The blake3 hash of `file`, or `hex` (0x, 32 bytes) as given: how a proposal's text or a
/// claim's evidence, kept off chain, is named on chain. `what` names it in errors ("text",
/// "evidence"); `missing` says what to give when neither is.
pub(crate) fn hash_of_file_or_hex(
    file: Option<&std::path::Path>,
    hex: Option<&str>,
    what: &str,
    missing: &str,
) -> anyhow::Result<Hash> {
    match (file, hex) {
        (Some(path), _) => {
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            Ok(Hash(*blake3::hash(&bytes).as_bytes()))
        }
        (None, Some(text)) => {
            let bytes = hex::decode(text.trim_start_matches("0x"))
                .with_context(|| format!("the {what} hash must be 0x hex"))?;
            Ok(Hash(bytes.try_into().map_err(|_| {
                anyhow::anyhow!("the {what} hash must be 32 bytes")
            })?))
        }
        (None, None) => anyhow::bail!("{missing}"),
    }
}
