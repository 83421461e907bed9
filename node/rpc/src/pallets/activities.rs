//! The activities pallet's methods: `wijk_activities`, `wijk_claims`, `wijk_budgets`.

use crate::context::RpcContext;
use crate::error::internal;
use crate::render;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::Value;
use wijk_activities::{ClaimStatus, VerifierScope};
use wijk_primitives::{AccountId, Cents};
use wijk_rpc_types::activities as types;
use wijk_support::{StateError, StateRead};

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Most claims per page.
const MAX_CLAIMS_PAGE: usize = 200;
/// Most claims one page request reads while filtering (so a filter matching little stays
/// cheap; the page then ends early with `next` set).
const MAX_CLAIMS_SCANNED: u64 = 10_000;
/// Most open claims read to find those waiting for a budget's funds.
const MAX_OPEN_SCANNED: usize = 5_000;

fn claim_view(
    state: &dyn StateRead,
    id: u64,
    claim: wijk_activities::Claim,
) -> Result<types::Claim, StateError> {
    let activity = wijk_activities::activity(state, claim.activity)?;
    let (decided_by, decided_at, reason, budget) = match &claim.status {
        ClaimStatus::Pending => (None, None, None, None),
        ClaimStatus::Rejected { by, reason, at } => {
            (Some(*by), Some(*at), Some(reason.clone()), None)
        }
        ClaimStatus::Withdrawn { at } => (None, Some(*at), None, None),
        ClaimStatus::AwaitingFunds { attested_by, at } => {
            (Some(*attested_by), Some(*at), None, None)
        }
        ClaimStatus::Paid {
            attested_by,
            budget,
            at,
        } => (Some(*attested_by), Some(*at), None, Some(*budget)),
    };
    Ok(types::Claim {
        id,
        participant: claim.participant,
        filed_by: claim.filed_by,
        activity: claim.activity,
        activity_name: activity
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        units: claim.units,
        unit: activity.map(|a| a.unit).unwrap_or_default(),
        done_at_ms: claim.done_at_ms,
        evidence: claim.evidence,
        value_per_unit: claim.value_per_unit,
        amount: claim.amount,
        filed_at: claim.filed_at,
        status: claim.status.name().into(),
        decided_by,
        decided_at,
        reason,
        budget,
    })
}

/// Claims numbered below `before`, newest first, that `keep` accepts: up to `limit`, reading
/// at most [`MAX_CLAIMS_SCANNED`].
fn claims_page(
    state: &dyn StateRead,
    candidates: impl Iterator<Item = u64>,
    limit: usize,
    keep: impl Fn(&wijk_activities::Claim) -> bool,
) -> Result<(Vec<types::Claim>, Option<u64>), StateError> {
    let mut page = Vec::new();
    let mut next = None;
    for (read, id) in candidates.enumerate() {
        if page.len() == limit || read as u64 == MAX_CLAIMS_SCANNED {
            next = Some(id + 1);
            break;
        }
        if let Some(claim) = wijk_activities::claim(state, id)? {
            if keep(&claim) {
                page.push(claim_view(state, id, claim)?);
            }
        }
    }
    Ok((page, next))
}

/// The attested claims waiting for funds: (activity, its category, amount) each.
fn waiting_claims(state: &dyn StateRead) -> Result<Vec<(u32, String, Cents)>, StateError> {
    let mut waiting = Vec::new();
    let open = wijk_activities::open_claims(state, None, MAX_OPEN_SCANNED)?;
    for (id, ()) in open.entries {
        let Some(claim) = wijk_activities::claim(state, id)? else {
            continue;
        };
        if !matches!(claim.status, ClaimStatus::AwaitingFunds { .. }) {
            continue;
        }
        if let Some(activity) = wijk_activities::activity(state, claim.activity)? {
            waiting.push((claim.activity, activity.category, claim.amount));
        }
    }
    Ok(waiting)
}

fn optional_address(
    ctx: &RpcContext,
    text: Option<String>,
) -> Result<Option<AccountId>, ErrorObjectOwned> {
    text.as_deref()
        .map(|text| crate::wijk::parse_address(ctx, text))
        .transpose()
}

pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_blocking_method("wijk_activities", |_, ctx, _| -> RpcResult {
        let state = ctx.storage.as_ref();
        let count = wijk_activities::activity_count(state).map_err(internal)?;
        let mut activities = Vec::new();
        for id in 0..count {
            let Some(activity) = wijk_activities::activity(state, id).map_err(internal)? else {
                continue;
            };
            let mut verifiers = wijk_activities::verifiers_of(state, &VerifierScope::Activity(id))
                .map_err(internal)?;
            verifiers.extend(
                wijk_activities::verifiers_of(
                    state,
                    &VerifierScope::Category(activity.category.clone()),
                )
                .map_err(internal)?,
            );
            verifiers.sort();
            verifiers.dedup();
            let values = wijk_activities::value_history(state, id)
                .map_err(internal)?
                .into_iter()
                .map(|change| types::ValueChange {
                    since_ms: change.since_ms,
                    height: change.height,
                    value: change.value,
                })
                .collect();
            activities.push(types::Activity {
                id,
                name: activity.name,
                unit: activity.unit,
                category: activity.category,
                value: activity.value,
                max_units_per_period: activity.max_units_per_period,
                added_at_ms: activity.added_at_ms,
                retired_at_ms: activity.retired_at_ms,
                values,
                verifiers,
            });
        }
        render::json(
            ctx.chain.address_prefix,
            &types::Catalogue {
                activities,
                rules: wijk_activities::rules(state).map_err(internal)?,
                at_block: render::at_block(&ctx)?,
            },
        )
    })?;
    module.register_blocking_method("wijk_claims", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let participant: Option<String> = sequence.optional_next()?;
        let open: Option<bool> = sequence.optional_next()?;
        let before: Option<u64> = sequence.optional_next()?;
        let limit: Option<usize> = sequence.optional_next()?;
        let participant = optional_address(&ctx, participant)?;
        let only_open = open.unwrap_or(false);
        let limit = limit.unwrap_or(50).clamp(1, MAX_CLAIMS_PAGE);
        let state = ctx.storage.as_ref();
        let count = wijk_activities::claim_count(state).map_err(internal)?;
        let below = before.unwrap_or(count).min(count);
        // Newest first: a member's own claims from their index, else the whole log.
        let candidates: Box<dyn Iterator<Item = u64>> = match &participant {
            Some(account) => {
                let mut ids =
                    wijk_activities::claims_of(state, account, usize::MAX).map_err(internal)?;
                ids.retain(|id| *id < below);
                Box::new(ids.into_iter().rev())
            }
            None => Box::new((0..below).rev()),
        };
        let (claims, next) = claims_page(state, candidates, limit, |claim| {
            !only_open
                || matches!(
                    claim.status,
                    ClaimStatus::Pending | ClaimStatus::AwaitingFunds { .. }
                )
        })
        .map_err(internal)?;
        render::json(
            ctx.chain.address_prefix,
            &types::Claims {
                claims,
                next,
                at_block: render::at_block(&ctx)?,
            },
        )
    })?;
    module.register_blocking_method("wijk_budgets", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let funder: Option<String> = sequence.optional_next()?;
        let funder = optional_address(&ctx, funder)?;
        let state = ctx.storage.as_ref();
        let found = wijk_activities::budgets(state, funder.as_ref(), None, usize::MAX)
            .map_err(internal)?
            .entries;
        let waiting = waiting_claims(state).map_err(internal)?;
        let mut budgets = Vec::new();
        for (id, budget) in found {
            let (mut waiting_claims, mut waiting_amount) = (0u32, 0 as Cents);
            for (activity, category, amount) in &waiting {
                if budget.pays_for(*activity, category) {
                    waiting_claims += 1;
                    waiting_amount = waiting_amount.saturating_add(*amount);
                }
            }
            budgets.push(types::Budget {
                id,
                funder: budget.funder,
                name: budget.name,
                activities: budget.activities,
                categories: budget.categories,
                payout_earmark: budget.payout_earmark,
                remaining: budget.remaining,
                funded: budget.funded,
                paid_out: budget.paid_out,
                withdrawn: budget.withdrawn,
                opened_at: budget.opened_at,
                waiting_claims,
                waiting_amount,
            });
        }
        render::json(
            ctx.chain.address_prefix,
            &types::Budgets {
                budgets,
                at_block: render::at_block(&ctx)?,
            },
        )
    })?;
    Ok(())
}
