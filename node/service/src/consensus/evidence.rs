//! Recording a validator's two conflicting votes on chain: this validator signs a report
//! transaction and submits it to its own pool (a full node only logs).

use parity_scale_codec::Encode;
use std::sync::Arc;
use wijk_primitives::{Keypair, SignedVote, SigningContext};
use wijk_storage::Storage;
use wijk_txpool::PoolMailbox;

/// What reporting needs.
pub(super) struct Report {
    pub(super) key: Keypair,
    pub(super) storage: Arc<Storage>,
    pub(super) pool: PoolMailbox,
    pub(super) signing: SigningContext,
    /// The report stays valid until this height.
    pub(super) valid_until: u64,
    pub(super) first: SignedVote,
    pub(super) second: SignedVote,
}

/// Submits the report unless the chain already recorded the offence; `true` if submitted
/// (or already recorded), so it is not reported again.
pub(super) async fn report(job: Report) -> bool {
    let offence = (job.first.signer, job.first.vote.view);
    let cannot = |error: &dyn std::fmt::Display| {
        tracing::error!(target: "consensus", %error, "cannot report equivocation");
        false
    };
    let storage = job.storage.clone();
    let recorded = tokio::task::spawn_blocking(move || {
        wijk_validators::OFFENCE_INDEX.get(storage.as_ref(), &offence)
    })
    .await;
    match recorded {
        Ok(Ok(None)) => {}
        Ok(Ok(Some(_))) => return true,
        Ok(Err(error)) => return cannot(&error),
        Err(error) => return cannot(&error),
    }
    // After this validator's transactions still in the pool (earlier reports).
    let nonce = match job.pool.next_nonce(job.key.account_id()).await {
        Ok(Ok(nonce)) => nonce,
        Ok(Err(error)) => return cannot(&error),
        Err(_) => return false,
    };
    let report = wijk_runtime::Transaction::sign(
        &job.key,
        &job.signing,
        nonce,
        job.valid_until,
        wijk_runtime::RuntimeCall::Validators(wijk_validators::Call::ReportEquivocation {
            first: Box::new(job.first),
            second: Box::new(job.second),
        }),
    );
    match job.pool.submit(report.encode()).await {
        Ok(Ok(hash)) => {
            tracing::warn!(target: "consensus", offender = ?job.first.signer, view = job.first.vote.view, %hash, "equivocation evidence submitted for the chain to record");
            true
        }
        Ok(Err(error)) => cannot(&error),
        Err(_) => {
            tracing::debug!(target: "consensus", "pool stopped; evidence not submitted");
            false
        }
    }
}
