//! Claims: filed for work done, decided by a verifier, paid once from a budget.

use crate::budgets::{budgets_for_claim, pay_from};
use crate::{
    existing_activity, is_verifier, rules, value_at, Activity, ActivityId, BudgetId, Claim,
    ClaimId, ClaimStatus, Error, Event, VerifierScope, CLAIMS, CLAIMS_OF, DAY_MS, EARNED,
    MAX_REASON_BYTES, MAX_UNITS_PER_CLAIM, OPEN_CLAIMS, PENDING_OF, UNITS,
};
use wijk_primitives::{AccountId, Cents, Hash, TimestampMs};
use wijk_support::{
    check, tri, CallContext, DispatchResult, MembershipError, Origin, Role, StateError,
};

/// The person behind `who`, an active member.
fn person_of(
    ctx: &CallContext<'_, '_>,
    who: &AccountId,
) -> Result<Result<Hash, Error>, StateError> {
    Ok(match ctx.membership().voter(&*ctx.state, who)? {
        Some(voter) => Ok(voter.person),
        None => Err(MembershipError::NotMember { account: *who }.into()),
    })
}

/// Files a claim of the member acting (or their guardian for them).
pub(crate) fn file(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    activity_id: ActivityId,
    units: u32,
    done_at_ms: TimestampMs,
    evidence: Hash,
) -> DispatchResult<Error> {
    let acting = check!(origin.ensure_signed_or_guardian());
    let participant = acting.member;
    let person = tri!(person_of(ctx, &participant));
    let filed_by_person = match &acting.guardian {
        Some(guardian) => Some(tri!(person_of(ctx, guardian))),
        None => None,
    };
    let activity = tri!(existing_activity(&*ctx.state, activity_id));
    if units == 0 {
        return Ok(Err(Error::Zero {
            what: "units".into(),
        }));
    }
    if units > MAX_UNITS_PER_CLAIM {
        return Ok(Err(Error::TooManyUnits {
            max: MAX_UNITS_PER_CLAIM,
            asked: units,
        }));
    }
    let now_ms = ctx.block().timestamp_ms;
    if done_at_ms > now_ms {
        return Ok(Err(Error::DoneInFuture { done_at_ms, now_ms }));
    }
    let rules = rules(&*ctx.state)?;
    if now_ms - done_at_ms > u64::from(rules.claim_window_days) * DAY_MS {
        return Ok(Err(Error::TooLate {
            window_days: rules.claim_window_days,
        }));
    }
    if done_at_ms < activity.added_at_ms {
        return Ok(Err(Error::BeforeActivity {
            activity: activity_id,
            added_at_ms: activity.added_at_ms,
        }));
    }
    if let Some(retired_at_ms) = activity.retired_at_ms.filter(|at| done_at_ms >= *at) {
        return Ok(Err(Error::Retired {
            activity: activity_id,
            retired_at_ms,
        }));
    }
    let Some(value_per_unit) = value_at(&*ctx.state, activity_id, &activity, done_at_ms)? else {
        return Ok(Err(Error::BeforeActivity {
            activity: activity_id,
            added_at_ms: activity.added_at_ms,
        }));
    };
    let Some(amount) = value_per_unit.checked_mul(Cents::from(units)) else {
        return Ok(Err(Error::Overflow));
    };
    let pending = PENDING_OF.get(&*ctx.state, &person)?.unwrap_or(0);
    if pending >= rules.max_open_claims {
        return Ok(Err(Error::TooManyOpenClaims {
            max: rules.max_open_claims,
        }));
    }
    let period = rules.period_of(done_at_ms);
    let units_key = (person, activity_id, period);
    let units_before = UNITS.get(&*ctx.state, &units_key)?.unwrap_or(0);
    let units_after = units_before.saturating_add(units);
    if let Some(cap) = activity
        .max_units_per_period
        .filter(|cap| units_after > *cap)
    {
        return Ok(Err(Error::OverUnitCap {
            activity: activity_id,
            cap,
            already: units_before,
            asked: units,
        }));
    }
    let earned_before = EARNED.get(&*ctx.state, &(person, period))?.unwrap_or(0);
    let Some(earned_after) = earned_before.checked_add(amount) else {
        return Ok(Err(Error::Overflow));
    };
    if let Some(cap) = rules
        .max_earned_per_period
        .filter(|cap| earned_after > *cap)
    {
        return Ok(Err(Error::OverEarnedCap {
            cap,
            already: earned_before,
            asked: amount,
        }));
    }
    let id = CLAIMS.push(
        ctx.state,
        &Claim {
            participant,
            person,
            filed_by: acting.guardian,
            filed_by_person,
            activity: activity_id,
            units,
            done_at_ms,
            period,
            evidence,
            value_per_unit,
            amount,
            filed_at: ctx.block().height,
            status: ClaimStatus::Pending,
        },
    )?;
    UNITS.insert(ctx.state, &units_key, &units_after);
    EARNED.insert(ctx.state, &(person, period), &earned_after);
    PENDING_OF.insert(ctx.state, &person, &(pending + 1));
    OPEN_CLAIMS.insert(ctx.state, &id, &());
    CLAIMS_OF.insert(ctx.state, &(participant, id), &());
    ctx.deposit_event(Event::Claimed {
        claim: id,
        participant,
        filed_by: acting.guardian,
        activity: activity_id,
        units,
        amount,
    });
    Ok(Ok(()))
}

fn existing_claim(
    ctx: &CallContext<'_, '_>,
    id: ClaimId,
) -> Result<Result<Claim, Error>, StateError> {
    Ok(CLAIMS
        .get(&*ctx.state, id)?
        .ok_or(Error::NoSuchClaim { claim: id }))
}

fn wrong_status(id: ClaimId, claim: &Claim, needed: &str) -> Error {
    Error::WrongStatus {
        claim: id,
        status: claim.status.name().to_string(),
        needed: needed.to_string(),
    }
}

/// The signer, checked as a verifier who may decide claim `id`: holding the verifier role,
/// registered for its activity or category, and not deciding their own claim; with the
/// claim's activity, read for the check.
fn deciding_verifier(
    ctx: &CallContext<'_, '_>,
    origin: &Origin,
    id: ClaimId,
    claim: &Claim,
) -> Result<Result<(AccountId, Activity), Error>, StateError> {
    let verifier = check!(origin.ensure_signed());
    // The person, not the key: a participant who moved to a new key is still themselves.
    let Some(voter) = ctx.membership().voter(&*ctx.state, &verifier)? else {
        return Ok(Err(MembershipError::NotMember { account: verifier }.into()));
    };
    if voter.person == claim.person || claim.filed_by_person == Some(voter.person) {
        return Ok(Err(Error::OwnClaim {
            verifier,
            claim: id,
        }));
    }
    if !voter.roles.contains(Role::Verifier) {
        return Ok(Err(MembershipError::MissingRole {
            account: verifier,
            role: Role::Verifier,
        }
        .into()));
    }
    let activity = tri!(existing_activity(&*ctx.state, claim.activity));
    let registered = is_verifier(
        &*ctx.state,
        &verifier,
        &VerifierScope::Activity(claim.activity),
    )? || is_verifier(
        &*ctx.state,
        &verifier,
        &VerifierScope::Category(activity.category.clone()),
    )?;
    if !registered {
        return Ok(Err(Error::NotVerifierFor {
            verifier,
            activity: claim.activity,
            category: activity.category,
        }));
    }
    Ok(Ok((verifier, activity)))
}

/// The claim leaves the verifiers' queue.
fn leave_pending(ctx: &mut CallContext<'_, '_>, claim: &Claim) -> Result<(), StateError> {
    let pending = PENDING_OF.get(&*ctx.state, &claim.person)?.unwrap_or(0);
    match pending.saturating_sub(1) {
        0 => PENDING_OF.remove(ctx.state, &claim.person),
        left => PENDING_OF.insert(ctx.state, &claim.person, &left),
    }
    Ok(())
}

/// A claim no longer counts: its units and coins go back to its person's caps.
fn release_caps(ctx: &mut CallContext<'_, '_>, claim: &Claim) -> Result<(), StateError> {
    let units_key = (claim.person, claim.activity, claim.period);
    match UNITS
        .get(&*ctx.state, &units_key)?
        .unwrap_or(0)
        .saturating_sub(claim.units)
    {
        0 => UNITS.remove(ctx.state, &units_key),
        left => UNITS.insert(ctx.state, &units_key, &left),
    }
    let earned_key = (claim.person, claim.period);
    match EARNED
        .get(&*ctx.state, &earned_key)?
        .unwrap_or(0)
        .saturating_sub(claim.amount)
    {
        0 => EARNED.remove(ctx.state, &earned_key),
        left => EARNED.insert(ctx.state, &earned_key, &left),
    }
    Ok(())
}

/// A verifier attests a pending claim; it is paid now if a budget can pay it, else it waits.
pub(crate) fn attest(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: ClaimId,
) -> DispatchResult<Error> {
    let mut claim = tri!(existing_claim(ctx, id));
    if claim.status != ClaimStatus::Pending {
        return Ok(Err(wrong_status(id, &claim, "pending")));
    }
    let (verifier, activity) = tri!(deciding_verifier(ctx, origin, id, &claim));
    leave_pending(ctx, &claim)?;
    ctx.deposit_event(Event::Attested {
        claim: id,
        verifier,
    });
    match try_pay(ctx, id, &claim, &activity, verifier, None)? {
        Ok(status) => claim.status = status,
        Err(why) => {
            ctx.deposit_event(Event::AwaitingFunds {
                claim: id,
                amount: claim.amount,
                why,
            });
            claim.status = ClaimStatus::AwaitingFunds {
                attested_by: verifier,
                at: ctx.block().height,
            };
        }
    }
    settle(ctx, id, &claim)
}

/// Writes the claim back; a settled one leaves the open claims.
fn settle(ctx: &mut CallContext<'_, '_>, id: ClaimId, claim: &Claim) -> DispatchResult<Error> {
    if !matches!(
        claim.status,
        ClaimStatus::Pending | ClaimStatus::AwaitingFunds { .. }
    ) {
        OPEN_CLAIMS.remove(ctx.state, &id);
    }
    CLAIMS.replace(ctx.state, id, claim)?;
    Ok(Ok(()))
}

/// Pays attested claim `id` from `chosen` if given, else from the first budget the rule
/// lists that can pay it; `Err` says why none could. Changes nothing when it cannot pay.
fn try_pay(
    ctx: &mut CallContext<'_, '_>,
    id: ClaimId,
    claim: &Claim,
    activity: &Activity,
    attested_by: AccountId,
    chosen: Option<BudgetId>,
) -> Result<Result<ClaimStatus, String>, StateError> {
    let candidates = match chosen {
        Some(budget_id) => match crate::budget(&*ctx.state, budget_id)? {
            None => return Ok(Err(format!("there is no budget {budget_id}"))),
            Some(budget) if !budget.pays_for(claim.activity, &activity.category) => {
                return Ok(Err(format!(
                    "budget {budget_id} does not pay for activity {}",
                    claim.activity
                )))
            }
            Some(budget) if budget.remaining < claim.amount => {
                return Ok(Err(format!(
                    "budget {budget_id} holds {}",
                    wijk_primitives::format_cents(budget.remaining)
                )))
            }
            Some(budget) => vec![(budget_id, budget)],
        },
        None => {
            match budgets_for_claim(
                &*ctx.state,
                claim.activity,
                &activity.category,
                claim.amount,
            )? {
                Ok(found) => found,
                Err(why) => return Ok(Err(why)),
            }
        }
    };
    // Coins owed to an old key go to the member's key now.
    let to = ctx
        .membership()
        .current_key(&*ctx.state, &claim.participant)?;
    let mut refusals = Vec::new();
    for (budget_id, budget) in candidates {
        let funder = budget.funder;
        let earmarked = budget.payout_earmark.is_some();
        // A refusal changes nothing: the next budget is tried on the same state.
        if let Err(refused) = pay_from(ctx, budget_id, budget, &to, claim.amount)? {
            refusals.push(format!("budget {budget_id}: {refused}"));
            continue;
        }
        ctx.deposit_event(Event::PaidOut {
            claim: id,
            to,
            budget: budget_id,
            funder,
            amount: claim.amount,
            earmarked,
            activity: claim.activity,
            units: claim.units,
            category: activity.category.clone(),
        });
        return Ok(Ok(ClaimStatus::Paid {
            attested_by,
            budget: budget_id,
            at: ctx.block().height,
        }));
    }
    Ok(Err(refusals.join("; ")))
}

/// A verifier rejects a pending claim.
pub(crate) fn reject(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: ClaimId,
    reason: &str,
) -> DispatchResult<Error> {
    let mut claim = tri!(existing_claim(ctx, id));
    if claim.status != ClaimStatus::Pending {
        return Ok(Err(wrong_status(id, &claim, "pending")));
    }
    let (verifier, _) = tri!(deciding_verifier(ctx, origin, id, &claim));
    if reason.trim().is_empty() || reason.len() > MAX_REASON_BYTES {
        return Ok(Err(Error::BadReason {
            max: MAX_REASON_BYTES as u32,
        }));
    }
    leave_pending(ctx, &claim)?;
    release_caps(ctx, &claim)?;
    claim.status = ClaimStatus::Rejected {
        by: verifier,
        reason: reason.to_string(),
        at: ctx.block().height,
    };
    ctx.deposit_event(Event::Rejected {
        claim: id,
        verifier,
        reason: reason.to_string(),
    });
    settle(ctx, id, &claim)
}

/// The participant (or their guardian) takes a pending claim back.
pub(crate) fn withdraw(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: ClaimId,
) -> DispatchResult<Error> {
    let acting = check!(origin.ensure_signed_or_guardian());
    let mut claim = tri!(existing_claim(ctx, id));
    if tri!(person_of(ctx, &acting.member)) != claim.person {
        return Ok(Err(Error::NotYours {
            claim: id,
            signer: acting.member,
        }));
    }
    if claim.status != ClaimStatus::Pending {
        return Ok(Err(wrong_status(id, &claim, "pending")));
    }
    leave_pending(ctx, &claim)?;
    release_caps(ctx, &claim)?;
    claim.status = ClaimStatus::Withdrawn {
        at: ctx.block().height,
    };
    ctx.deposit_event(Event::ClaimWithdrawn {
        claim: id,
        participant: claim.participant,
    });
    settle(ctx, id, &claim)
}

/// Anyone asks again for the payout of an attested claim waiting for funds.
pub(crate) fn pay_again(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: ClaimId,
    chosen: Option<BudgetId>,
) -> DispatchResult<Error> {
    check!(origin.ensure_signed());
    let mut claim = tri!(existing_claim(ctx, id));
    let ClaimStatus::AwaitingFunds { attested_by, .. } = claim.status else {
        return Ok(Err(wrong_status(id, &claim, "awaitingFunds")));
    };
    let activity = tri!(existing_activity(&*ctx.state, claim.activity));
    match try_pay(ctx, id, &claim, &activity, attested_by, chosen)? {
        Ok(status) => claim.status = status,
        Err(why) if chosen.is_some() => {
            return Ok(Err(Error::BudgetCannotPay {
                budget: chosen.unwrap_or_default(),
                claim: id,
                why,
            }))
        }
        Err(why) => {
            return Ok(Err(Error::NoFundedBudget {
                claim: id,
                activity: claim.activity,
                needed: claim.amount,
                why,
            }))
        }
    }
    settle(ctx, id, &claim)
}
