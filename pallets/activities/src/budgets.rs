//! Budgets: funders' coins for activities, reserved on the funder's account until paid out
//! or taken back, and the rule that picks the budget that pays a claim.
//!
//! A budget holding coins is listed in [`FUNDED`] under each key it pays for: one per
//! activity it names, one per category, or the key "every activity". Paying a claim looks
//! under the claim's activity, then its category, then "every activity" (most specific
//! first: a funder who named the activity meant it), at most [`MAX_BUDGETS_SCANNED`]
//! budgets under each, oldest first, and takes the first that holds the whole amount. An
//! empty budget leaves the listing and returns when funded, so the look never wades
//! through empty ones.

use crate::{
    check_category, check_text, ActivityId, Budget, BudgetId, Error, Event, BUDGETS, BUDGET_COUNT,
    FUNDED, MAX_BUDGETS, MAX_BUDGETS_SCANNED, MAX_BUDGET_SCOPE, MAX_NAME_BYTES,
};
use parity_scale_codec::Encode;
use wijk_primitives::{blake3_hash, AccountId, Cents, Hash, Height};
use wijk_support::{
    check, tri, CallContext, CurrencyError, DispatchResult, EarmarkTerms, Origin, Page, StateError,
    StateOverlay, StateRead,
};

/// The listing key of budgets for `activity`.
fn activity_key(activity: ActivityId) -> Hash {
    blake3_hash(&(b"budgets for activity", activity).encode())
}

/// The listing key of budgets for `category`.
fn category_key(category: &str) -> Hash {
    blake3_hash(&(b"budgets for category", category).encode())
}

/// The listing key of budgets for every activity.
fn every_activity_key() -> Hash {
    blake3_hash(b"budgets for every activity")
}

/// The listing keys `budget` pays for.
fn keys_of(budget: &Budget) -> Vec<Hash> {
    if budget.activities.is_empty() && budget.categories.is_empty() {
        return vec![every_activity_key()];
    }
    let mut keys: Vec<Hash> = budget.activities.iter().map(|a| activity_key(*a)).collect();
    keys.extend(budget.categories.iter().map(|c| category_key(c)));
    keys
}

fn list(state: &mut StateOverlay<'_>, id: BudgetId, budget: &Budget) {
    for key in keys_of(budget) {
        FUNDED.insert(state, &(key, id), &());
    }
}

fn unlist(state: &mut StateOverlay<'_>, id: BudgetId, budget: &Budget) {
    for key in keys_of(budget) {
        FUNDED.remove(state, &(key, id));
    }
}

/// Opens an empty budget of `funder`; returns its number.
pub(crate) fn open(
    state: &mut StateOverlay<'_>,
    funder: &AccountId,
    name: &str,
    activities: &[ActivityId],
    categories: &[String],
    payout_earmark: Option<&EarmarkTerms>,
    height: Height,
) -> Result<Result<BudgetId, Error>, StateError> {
    let refuse = |why: String| Ok(Err(Error::BadBudget { why }));
    if let Err(why) = check_text(name, MAX_NAME_BYTES, "a budget's name") {
        return refuse(why);
    }
    if activities.len() > MAX_BUDGET_SCOPE || categories.len() > MAX_BUDGET_SCOPE {
        return refuse(format!(
            "at most {MAX_BUDGET_SCOPE} activities and {MAX_BUDGET_SCOPE} categories"
        ));
    }
    if let Some(why) = categories.iter().find_map(|c| check_category(c).err()) {
        return refuse(why);
    }
    let mut sorted = activities.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != activities.len() {
        return refuse("an activity is named twice".into());
    }
    if let Some(terms) = payout_earmark {
        check!(terms.check());
    }
    let id = BUDGET_COUNT.get(&*state)?.unwrap_or(0);
    if id >= MAX_BUDGETS {
        return refuse(format!(
            "{MAX_BUDGETS} budgets were opened, the most a chain may"
        ));
    }
    BUDGETS.insert(
        state,
        &id,
        &Budget {
            funder: *funder,
            name: name.to_string(),
            activities: activities.to_vec(),
            categories: categories.to_vec(),
            payout_earmark: payout_earmark.cloned(),
            remaining: 0,
            funded: 0,
            paid_out: 0,
            withdrawn: 0,
            opened_at: height,
        },
    );
    BUDGET_COUNT.put(state, &(id + 1));
    Ok(Ok(id))
}

/// The budget `id` of the signer.
fn own_budget(
    state: &dyn StateRead,
    origin: &Origin,
    id: BudgetId,
) -> Result<Result<(AccountId, Budget), Error>, StateError> {
    let signer = match origin.ensure_signed() {
        Ok(signer) => signer,
        Err(refused) => return Ok(Err(refused.into())),
    };
    let Some(budget) = BUDGETS.get(state, &id)? else {
        return Ok(Err(Error::NoSuchBudget { budget: id }));
    };
    if budget.funder != signer {
        return Ok(Err(Error::NotFunder {
            budget: id,
            funder: budget.funder,
            signer,
        }));
    }
    Ok(Ok((signer, budget)))
}

/// The funder puts `amount` of their free coins into budget `id`.
pub(crate) fn fund(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: BudgetId,
    amount: Cents,
) -> DispatchResult<Error> {
    let (funder, mut budget) = tri!(own_budget(&*ctx.state, origin, id));
    let (Some(remaining), Some(funded)) = (
        budget.remaining.checked_add(amount),
        budget.funded.checked_add(amount),
    ) else {
        return Ok(Err(Error::Overflow));
    };
    tri!(ctx.currency().reserve(ctx, &funder, amount));
    if budget.remaining == 0 {
        list(ctx.state, id, &budget);
    }
    budget.remaining = remaining;
    budget.funded = funded;
    BUDGETS.insert(ctx.state, &id, &budget);
    ctx.deposit_event(Event::BudgetFunded {
        budget: id,
        funder,
        amount,
        remaining,
    });
    Ok(Ok(()))
}

/// The funder takes `amount` of what is left in budget `id` back.
pub(crate) fn defund(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: BudgetId,
    amount: Cents,
) -> DispatchResult<Error> {
    let (funder, mut budget) = tri!(own_budget(&*ctx.state, origin, id));
    let Some(remaining) = budget.remaining.checked_sub(amount) else {
        return Ok(Err(Error::OverBudget {
            budget: id,
            remaining: budget.remaining,
            asked: amount,
        }));
    };
    tri!(ctx.currency().unreserve(ctx, &funder, amount));
    budget.remaining = remaining;
    budget.withdrawn = budget.withdrawn.saturating_add(amount);
    if remaining == 0 {
        unlist(ctx.state, id, &budget);
    }
    BUDGETS.insert(ctx.state, &id, &budget);
    ctx.deposit_event(Event::BudgetDefunded {
        budget: id,
        funder,
        amount,
        remaining,
    });
    Ok(Ok(()))
}

/// The budgets that may pay `amount` for `activity` of `category`, in the order the rule
/// tries them; when there are none, what was found instead, in words.
pub fn budgets_for_claim(
    state: &dyn StateRead,
    activity: ActivityId,
    category: &str,
    amount: Cents,
) -> Result<Result<Vec<(BudgetId, Budget)>, String>, StateError> {
    let mut considered = 0usize;
    let mut largest: Cents = 0;
    let mut able = Vec::new();
    for key in [
        activity_key(activity),
        category_key(category),
        every_activity_key(),
    ] {
        for ((_, id), ()) in FUNDED.page_under(state, &key, MAX_BUDGETS_SCANNED)? {
            let Some(budget) = BUDGETS.get(state, &id)? else {
                continue;
            };
            considered += 1;
            if budget.remaining >= amount {
                // A budget listed under two keys (an activity and its category) once.
                if !able.iter().any(|(seen, _)| *seen == id) {
                    able.push((id, budget));
                }
            } else {
                largest = largest.max(budget.remaining);
            }
        }
    }
    if !able.is_empty() {
        return Ok(Ok(able));
    }
    Ok(Err(if considered == 0 {
        "no funded budget pays for it".to_string()
    } else {
        format!(
            "{considered} funded budget(s) pay for it, the fullest holding {}",
            wijk_primitives::format_cents(largest)
        )
    }))
}

/// Pays `amount` to `to` from budget `id` (which holds it), earmarked if the budget says so.
/// A refusal of the currency changes nothing.
pub(crate) fn pay_from(
    ctx: &mut CallContext<'_, '_>,
    id: BudgetId,
    mut budget: Budget,
    to: &AccountId,
    amount: Cents,
) -> Result<Result<Budget, CurrencyError>, StateError> {
    let funder = budget.funder;
    match &budget.payout_earmark {
        Some(terms) => tri!(ctx
            .currency()
            .repatriate_reserved_earmarked(ctx, &funder, to, amount, terms)),
        None => tri!(ctx.currency().repatriate_reserved(ctx, &funder, to, amount)),
    }
    budget.remaining = budget.remaining.saturating_sub(amount);
    budget.paid_out = budget.paid_out.saturating_add(amount);
    if budget.remaining == 0 {
        unlist(ctx.state, id, &budget);
    }
    BUDGETS.insert(ctx.state, &id, &budget);
    Ok(Ok(budget))
}

/// Every budget, in number order, after `after`, up to `limit`; of one funder if named.
pub fn budgets(
    state: &dyn StateRead,
    funder: Option<&AccountId>,
    after: Option<BudgetId>,
    limit: usize,
) -> Result<Page<BudgetId, Budget>, StateError> {
    let mut out = Vec::new();
    let mut cursor = after;
    loop {
        let page = BUDGETS.page(state, cursor.as_ref(), 256)?;
        for (id, budget) in page.entries {
            if funder.is_none_or(|f| *f == budget.funder) {
                out.push((id, budget));
                if out.len() == limit {
                    return Ok(Page {
                        entries: out,
                        next: Some(id),
                    });
                }
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => {
                return Ok(Page {
                    entries: out,
                    next: None,
                })
            }
        }
    }
}
