//! Deals: acceptance into escrow, start, completion, cancellation, dispute and resolution,
//! and the deadlines the end-of-block hook enforces.
//!
//! The escrow of a deal is reserved on the buyer's account (the key they accepted with,
//! or posted the request with) and leaves it only to the sellers ([`pay_sellers`], in equal
//! shares) or back to the buyer ([`refund`], as it came). An open deal that is not
//! disputed is queued in [`DEAL_DEADLINES`] under its current deadline: the start, then,
//! once started, the completion.

use crate::listings::{self, check_team, hours_for};
use crate::{
    add_escrow, check_reason, rules, sub_escrow, Deal, DealId, DealStatus, Error, Event, ListingId,
    ListingKind, ListingStatus, DEALS, DEALS_OF, DEAL_DEADLINES, LISTINGS, MAX_EXPIRIES_PER_BLOCK,
};
use wijk_primitives::{AccountId, Cents};
use wijk_support::{
    check, tri, CallContext, Collective, DispatchResult, Escrowed, Origin, Role, StateError,
};

/// `amount` in `parts` shares as equal as cents allow, the odd cents to the first shares.
pub fn split_equally(amount: Cents, parts: usize) -> Vec<Cents> {
    let parts_wide = parts.max(1) as u128;
    let (share, odd) = (amount / parts_wide, amount % parts_wide);
    (0..parts.max(1) as u128)
        .map(|i| share + u128::from(i < odd))
        .collect()
}

/// Returns `escrow`, reserved on `owner`, to the owner's key now, as it came.
pub(crate) fn refund(
    ctx: &mut CallContext<'_, '_>,
    owner: &AccountId,
    escrow: &Escrowed,
) -> DispatchResult<Error> {
    let to = ctx.membership().current_key(&*ctx.state, owner)?;
    check!(ctx.currency().release_escrowed(ctx, owner, &to, escrow)?);
    sub_escrow(ctx.state, escrow.total())?;
    Ok(Ok(()))
}

/// Pays `amount` of the deal's escrow to its sellers (their keys now) in equal shares;
/// returns who was paid.
fn pay_sellers(
    ctx: &mut CallContext<'_, '_>,
    deal: &Deal,
    amount: Cents,
) -> Result<Result<Vec<AccountId>, Error>, StateError> {
    let mut paid = Vec::with_capacity(deal.sellers.len());
    for (seller, share) in deal
        .sellers
        .iter()
        .zip(split_equally(amount, deal.sellers.len()))
    {
        let to = ctx.membership().current_key(&*ctx.state, seller)?;
        if share > 0 {
            check!(ctx
                .currency()
                .repatriate_reserved(ctx, &deal.buyer, &to, share)?);
        }
        paid.push(to);
    }
    sub_escrow(ctx.state, amount)?;
    Ok(Ok(paid))
}

/// The deal's parties under the keys they sign with now (a member who moved to a new key
/// acts, and is refused, as the party they are).
struct PartiesNow {
    buyer: AccountId,
    sellers: Vec<AccountId>,
    organiser: Option<AccountId>,
}

impl PartiesNow {
    fn of(ctx: &CallContext<'_, '_>, deal: &Deal) -> Result<PartiesNow, StateError> {
        let now = |who: &AccountId| ctx.membership().current_key(&*ctx.state, who);
        Ok(PartiesNow {
            buyer: now(&deal.buyer)?,
            sellers: deal.sellers.iter().map(now).collect::<Result<_, _>>()?,
            organiser: deal.organiser.as_ref().map(now).transpose()?,
        })
    }

    fn is_seller_side(&self, who: &AccountId) -> bool {
        self.sellers.contains(who) || self.organiser.as_ref() == Some(who)
    }

    fn is_party(&self, who: &AccountId) -> bool {
        self.buyer == *who || self.is_seller_side(who)
    }
}

fn existing(ctx: &CallContext<'_, '_>, id: DealId) -> Result<Result<Deal, Error>, StateError> {
    Ok(DEALS
        .get(&*ctx.state, id)?
        .ok_or(Error::NoSuchDeal { deal: id }))
}

fn wrong_status(id: DealId, deal: &Deal, needed: &str) -> Error {
    Error::WrongStatus {
        deal: id,
        status: deal.status.name().into(),
        needed: needed.into(),
    }
}

fn not_party(id: DealId, signer: AccountId, needed: &str) -> Error {
    Error::NotParty {
        deal: id,
        signer,
        needed: needed.into(),
    }
}

/// Takes an open deal off the deadline queue.
fn unqueue(ctx: &mut CallContext<'_, '_>, id: DealId, deal: &Deal) {
    if let Some(at) = deal.deadline() {
        DEAL_DEADLINES.remove(ctx.state, &(at, id));
    }
}

/// `market.accept`.
pub(crate) fn accept(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    listing_id: ListingId,
    hours: Option<u32>,
    team: &[AccountId],
) -> DispatchResult<Error> {
    let acting = check!(origin.ensure_signed_or_guardian());
    let mut listing = tri!(listings::existing(ctx, listing_id));
    let height = ctx.block().height;
    if listing.status != ListingStatus::Open {
        return Ok(Err(Error::ListingClosed {
            listing: listing_id,
            status: listing.status.name().into(),
        }));
    }
    if height >= listing.expires_at {
        return Ok(Err(Error::ListingExpired {
            listing: listing_id,
            expires_at: listing.expires_at,
        }));
    }
    let rules = rules(&*ctx.state)?;
    let deal_id = DEALS.len(&*ctx.state)?;
    let (buyer, sellers, organiser, hours, amount, escrow) = match listing.kind {
        ListingKind::Offer => {
            if !team.is_empty() {
                return Ok(Err(Error::BadListing {
                    why: "a team takes requests; an offer's buyer buys alone".into(),
                }));
            }
            let buyer = acting.member;
            let sellers = listing.sellers();
            let now = |who: &AccountId| ctx.membership().current_key(&*ctx.state, who);
            let mut seller_side = vec![now(&listing.owner)?];
            for seller in &sellers {
                seller_side.push(now(seller)?);
            }
            if seller_side.contains(&buyer) {
                return Ok(Err(Error::OwnListing {
                    listing: listing_id,
                    who: buyer,
                }));
            }
            let hours = check!(hours_for(&listing.price, hours, "the buyer"));
            let Some(amount) = listing.price.amount.checked_mul(u128::from(hours)) else {
                return Ok(Err(Error::Overflow));
            };
            if let Some(guardian) = &acting.guardian {
                check!(ctx
                    .membership()
                    .charge_guardian(ctx, guardian, &buyer, amount)?);
            }
            // Earmarked coins may pay a single seller whose shop their rule allows.
            let payee = match sellers.as_slice() {
                [seller] => Some(ctx.membership().current_key(&*ctx.state, seller)?),
                _ => None,
            };
            let escrow =
                check!(ctx
                    .currency()
                    .reserve_for_payment(ctx, &buyer, payee.as_ref(), amount)?);
            check!(add_escrow(ctx.state, amount)?);
            let organiser = (!listing.team.is_empty()).then_some(listing.owner);
            listing.deals += 1;
            LISTINGS.rewrite(ctx.state, listing_id, &listing)?;
            (buyer, sellers, organiser, hours, amount, escrow)
        }
        ListingKind::Request => {
            if hours.is_some() {
                return Ok(Err(Error::BadHours {
                    why: "a request states its hours; its acceptor gives none".into(),
                }));
            }
            let (sellers, organiser) = if team.is_empty() {
                (vec![acting.member], None)
            } else {
                (tri!(check_team(ctx, &acting, team)), Some(acting.member))
            };
            let buyer = listing.owner;
            let buyer_now = ctx.membership().current_key(&*ctx.state, &buyer)?;
            if sellers.contains(&buyer_now) || organiser == Some(buyer_now) {
                return Ok(Err(Error::OwnListing {
                    listing: listing_id,
                    who: buyer,
                }));
            }
            // The request's escrow becomes the deal's: reserved on the buyer already.
            let escrow = std::mem::take(&mut listing.escrow);
            let hours = listing.hours;
            listings::close(
                ctx.state,
                listing_id,
                &mut listing,
                ListingStatus::Taken { deal: deal_id },
            )?;
            (buyer, sellers, organiser, hours, escrow.total(), escrow)
        }
    };
    let deal = Deal {
        listing: listing_id,
        kind: listing.kind,
        category: listing.category.clone(),
        buyer,
        sellers: sellers.clone(),
        organiser,
        hours,
        amount,
        escrow: escrow.clone(),
        accepted_at: height,
        start_by: height.saturating_add(rules.start_within_blocks),
        complete_by: height.saturating_add(rules.complete_within_blocks),
        status: DealStatus::Accepted,
    };
    let id = DEALS.push(ctx.state, &deal)?;
    DEAL_DEADLINES.insert(ctx.state, &(deal.start_by, id), &());
    for party in std::iter::once(buyer)
        .chain(sellers.iter().copied())
        .chain(organiser)
    {
        DEALS_OF.insert(ctx.state, &(party, id), &());
    }
    ctx.deposit_event(Event::Accepted {
        deal: id,
        listing: listing_id,
        buyer,
        sellers,
        amount,
        earmarked: escrow.earmarked_total(),
    });
    Ok(Ok(()))
}

/// `market.start`.
pub(crate) fn start(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: DealId,
) -> DispatchResult<Error> {
    let acting = check!(origin.ensure_signed_or_guardian());
    let mut deal = tri!(existing(ctx, id));
    if !PartiesNow::of(ctx, &deal)?.is_seller_side(&acting.member) {
        return Ok(Err(not_party(
            id,
            acting.member,
            "a seller or the organiser",
        )));
    }
    if deal.status != DealStatus::Accepted {
        return Ok(Err(wrong_status(id, &deal, "accepted (not yet started)")));
    }
    unqueue(ctx, id, &deal);
    deal.status = DealStatus::Started {
        at: ctx.block().height,
    };
    DEAL_DEADLINES.insert(ctx.state, &(deal.complete_by, id), &());
    DEALS.rewrite(ctx.state, id, &deal)?;
    ctx.deposit_event(Event::Started {
        deal: id,
        by: acting.member,
    });
    Ok(Ok(()))
}

/// `market.complete`: the buyer confirms (a disputed deal too: the buyer concedes).
pub(crate) fn complete(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: DealId,
) -> DispatchResult<Error> {
    let acting = check!(origin.ensure_signed_or_guardian());
    let mut deal = tri!(existing(ctx, id));
    if acting.member != PartiesNow::of(ctx, &deal)?.buyer {
        return Ok(Err(not_party(id, acting.member, "the buyer")));
    }
    if !deal.status.is_open() {
        return Ok(Err(wrong_status(id, &deal, "open")));
    }
    unqueue(ctx, id, &deal);
    let sellers = tri!(pay_sellers(ctx, &deal, deal.amount));
    deal.status = DealStatus::Completed {
        at: ctx.block().height,
    };
    DEALS.rewrite(ctx.state, id, &deal)?;
    ctx.deposit_event(Event::Completed {
        deal: id,
        buyer: deal.buyer,
        sellers,
        amount: deal.amount,
        category: deal.category,
    });
    Ok(Ok(()))
}

/// `market.cancel`: the buyer before the start, the seller side until completion; never a
/// disputed deal (it is resolved).
pub(crate) fn cancel(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: DealId,
) -> DispatchResult<Error> {
    let acting = check!(origin.ensure_signed_or_guardian());
    let mut deal = tri!(existing(ctx, id));
    let who = acting.member;
    let parties = PartiesNow::of(ctx, &deal)?;
    let may = match deal.status {
        DealStatus::Accepted => parties.is_party(&who),
        DealStatus::Started { .. } => parties.is_seller_side(&who),
        _ => return Ok(Err(wrong_status(id, &deal, "accepted or started"))),
    };
    if !may {
        let needed = if parties.buyer == who {
            "a seller or the organiser (the work has started: the buyer disputes instead)"
        } else {
            "a party"
        };
        return Ok(Err(not_party(id, who, needed)));
    }
    unqueue(ctx, id, &deal);
    check!(refund(ctx, &deal.buyer, &deal.escrow)?);
    deal.status = DealStatus::Cancelled {
        by: who,
        at: ctx.block().height,
    };
    DEALS.rewrite(ctx.state, id, &deal)?;
    ctx.deposit_event(Event::Cancelled {
        deal: id,
        by: who,
        amount: deal.amount,
    });
    Ok(Ok(()))
}

/// `market.dispute`.
pub(crate) fn dispute(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: DealId,
    reason: &str,
) -> DispatchResult<Error> {
    let acting = check!(origin.ensure_signed_or_guardian());
    check!(check_reason(reason));
    let mut deal = tri!(existing(ctx, id));
    if !PartiesNow::of(ctx, &deal)?.is_party(&acting.member) {
        return Ok(Err(not_party(id, acting.member, "a party")));
    }
    if !matches!(
        deal.status,
        DealStatus::Accepted | DealStatus::Started { .. }
    ) {
        return Ok(Err(wrong_status(id, &deal, "accepted or started")));
    }
    unqueue(ctx, id, &deal);
    deal.status = DealStatus::Disputed {
        by: acting.member,
        reason: reason.to_string(),
        at: ctx.block().height,
    };
    DEALS.rewrite(ctx.state, id, &deal)?;
    ctx.deposit_event(Event::Disputed {
        deal: id,
        by: acting.member,
        reason: reason.to_string(),
    });
    Ok(Ok(()))
}

/// Whether `who` has a stake in `deal`: a party (under any key, old or new), or the
/// guardian of one (buyer, seller or organiser).
fn has_stake(ctx: &CallContext<'_, '_>, deal: &Deal, who: &AccountId) -> Result<bool, StateError> {
    let parties = PartiesNow::of(ctx, deal)?;
    if deal.is_party(who) || parties.is_party(who) {
        return Ok(true);
    }
    for party in std::iter::once(&parties.buyer)
        .chain(&parties.sellers)
        .chain(&parties.organiser)
    {
        if ctx
            .membership()
            .check_guardian(&*ctx.state, who, party)?
            .is_ok()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `market.resolve`.
pub(crate) fn resolve(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: DealId,
    to_sellers: Cents,
    reason: &str,
) -> DispatchResult<Error> {
    check!(check_reason(reason));
    let mut deal = tri!(existing(ctx, id));
    // The board (a decision, or a board member signing) or an intermediary signing; a
    // signer with a stake in the deal never.
    let by = match origin {
        Origin::Signed(resolver) => {
            let on_board = ctx.ensure_decided_by(origin, Collective::Board)?.is_ok();
            if !on_board
                && !ctx
                    .membership()
                    .has_role(&*ctx.state, resolver, Role::Intermediary)?
            {
                return Ok(Err(wijk_support::MembershipError::MissingRole {
                    account: *resolver,
                    role: Role::Intermediary,
                }
                .into()));
            }
            if has_stake(ctx, &deal, resolver)? {
                return Ok(Err(Error::ResolverHasStake {
                    deal: id,
                    resolver: *resolver,
                }));
            }
            Some(*resolver)
        }
        _ => {
            check!(ctx.ensure_decided_by(origin, Collective::Board)?);
            None
        }
    };
    if !matches!(deal.status, DealStatus::Disputed { .. }) {
        return Ok(Err(wrong_status(id, &deal, "disputed")));
    }
    if to_sellers > deal.amount {
        return Ok(Err(Error::OverEscrow {
            deal: id,
            escrow: deal.amount,
            asked: to_sellers,
        }));
    }
    // The sellers' part from the earmarked coins first: they were meant for the seller.
    let (_, rest) = deal.escrow.split_paying(to_sellers);
    let to_buyer = rest.total();
    if to_sellers > 0 {
        tri!(pay_sellers(ctx, &deal, to_sellers));
    }
    if to_buyer > 0 {
        check!(refund(ctx, &deal.buyer, &rest)?);
    }
    deal.status = DealStatus::Resolved {
        by,
        to_sellers,
        to_buyer,
        reason: reason.to_string(),
        at: ctx.block().height,
    };
    DEALS.rewrite(ctx.state, id, &deal)?;
    ctx.deposit_event(Event::Resolved {
        deal: id,
        by,
        to_sellers,
        to_buyer,
        category: deal.category,
        reason: reason.to_string(),
    });
    Ok(Ok(()))
}

/// Refunds deals whose deadline has passed, oldest first, at most
/// [`MAX_EXPIRIES_PER_BLOCK`].
pub(crate) fn time_out_due(ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
    let height = ctx.block().height;
    let due = DEAL_DEADLINES.page(&*ctx.state, None, MAX_EXPIRIES_PER_BLOCK)?;
    for ((at, id), ()) in due.entries {
        if at >= height {
            break;
        }
        DEAL_DEADLINES.remove(ctx.state, &(at, id));
        let Some(mut deal) = DEALS.get(&*ctx.state, id)? else {
            return Err(StateError::Corrupt {
                key_hex: format!("market/deal/{id}"),
                reason: "a queued deal is missing".into(),
            });
        };
        let late = match deal.status {
            DealStatus::Accepted => "start",
            DealStatus::Started { .. } => "completion",
            // Not queued in any other state.
            _ => continue,
        };
        if let Err(refused) = refund(ctx, &deal.buyer, &deal.escrow)? {
            return Err(StateError::Backend {
                reason: format!("deal {id}'s escrow could not be refunded: {refused}"),
            });
        }
        deal.status = DealStatus::TimedOut { at: height };
        DEALS.rewrite(ctx.state, id, &deal)?;
        ctx.deposit_event(Event::TimedOut {
            deal: id,
            late: late.into(),
            amount: deal.amount,
        });
    }
    Ok(())
}
