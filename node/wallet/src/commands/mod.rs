//! The wallet's subcommands, one module per pallet (plus accounts and trusted chains),
//! and what submitting a call looks like to the user.

pub(crate) mod account;
pub(crate) mod activities;
pub(crate) mod chain;
pub(crate) mod coin;
pub(crate) mod geo;
pub(crate) mod governance;
pub(crate) mod membership;
pub(crate) mod system;
pub(crate) mod validators;

use crate::{describe, output, Context};
use std::time::Duration;
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
