//! Listings: posting, taking back, and expiry by the end-of-block hook.
//!
//! An open listing is in [`OPEN_LISTINGS`] (by kind, for `wijk_offers` and `wijk_requests`),
//! in [`LISTING_EXPIRY`] under the height it closes, and counted in its owner's
//! [`OPEN_COUNT`]; closing it (withdrawn, expired, or a request taken) removes all three at
//! once. A request's escrow is reserved when it is posted and released when it closes
//! untaken.

use crate::{
    add_escrow, deals, rules, Error, Event, Listing, ListingId, ListingKind, ListingStatus, Price,
    LISTINGS, LISTING_EXPIRY, MAX_EXPIRIES_PER_BLOCK, MAX_HOURS, MAX_TEAM, MAX_TITLE_BYTES,
    OPEN_COUNT, OPEN_LISTINGS,
};
use wijk_primitives::{AccountId, GeoPoint, Hash, Height};
use wijk_support::{
    check, tri, valid_category, Acting, CallContext, DispatchResult, Escrowed, MembershipError,
    Origin, Role, StateError, StateOverlay, MAX_CATEGORY_BYTES,
};

/// What a `market.post` asks for.
pub(crate) struct NewListing<'a> {
    pub(crate) kind: ListingKind,
    pub(crate) title: &'a str,
    pub(crate) category: &'a str,
    pub(crate) price: Price,
    pub(crate) hours: Option<u32>,
    pub(crate) location: Option<GeoPoint>,
    pub(crate) expires_at: Height,
    pub(crate) text_hash: Hash,
    pub(crate) team: &'a [AccountId],
}

fn refuse<T>(why: impl Into<String>) -> Result<Result<T, Error>, StateError> {
    Ok(Err(Error::BadListing { why: why.into() }))
}

/// The hours a price needs: a price per hour some hours (`what` says who gives them), a
/// fixed price none (it counts as one).
pub(crate) fn hours_for(price: &Price, hours: Option<u32>, what: &str) -> Result<u32, Error> {
    match (price.per_hour, hours) {
        (true, Some(hours)) if (1..=MAX_HOURS).contains(&hours) => Ok(hours),
        (true, Some(hours)) => Err(Error::BadHours {
            why: format!("{hours} hours; 1 to {MAX_HOURS}"),
        }),
        (true, None) => Err(Error::BadHours {
            why: format!("the price is per hour: {what} must say how many hours"),
        }),
        (false, None) => Ok(1),
        (false, Some(_)) => Err(Error::BadHours {
            why: "the price is fixed: no hours are given".into(),
        }),
    }
}

/// A team named by `acting`: only an intermediary, signing themselves, names one; at most
/// [`MAX_TEAM`] distinct members.
pub(crate) fn check_team(
    ctx: &CallContext<'_, '_>,
    acting: &Acting,
    team: &[AccountId],
) -> Result<Result<Vec<AccountId>, Error>, StateError> {
    if acting.guardian.is_some() {
        return refuse("a team is named by an intermediary signing themselves, not for a member");
    }
    if !ctx
        .membership()
        .has_role(&*ctx.state, &acting.member, Role::Intermediary)?
    {
        return Ok(Err(MembershipError::MissingRole {
            account: acting.member,
            role: Role::Intermediary,
        }
        .into()));
    }
    if team.len() > MAX_TEAM {
        return refuse(format!("a team has at most {MAX_TEAM} members"));
    }
    let mut seen = Vec::with_capacity(team.len());
    for member in team {
        if seen.contains(member) {
            return refuse(format!("{member:?} is named twice in the team"));
        }
        if !ctx.membership().is_member(&*ctx.state, member)? {
            return Ok(Err(MembershipError::NotMember { account: *member }.into()));
        }
        seen.push(*member);
    }
    Ok(Ok(seen))
}

/// `market.post`.
pub(crate) fn post(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    new: NewListing<'_>,
) -> DispatchResult<Error> {
    let acting = check!(origin.ensure_signed_or_guardian());
    let owner = acting.member;
    let rules = rules(&*ctx.state)?;
    let height = ctx.block().height;
    if new.title.trim().is_empty() || new.title.len() > MAX_TITLE_BYTES {
        return refuse(format!("a title of 1 to {MAX_TITLE_BYTES} bytes"));
    }
    if !valid_category(new.category) {
        return refuse(format!(
            "category '{}' must be 1 to {MAX_CATEGORY_BYTES} lowercase letters, digits or dashes",
            new.category
        ));
    }
    if new.price.amount == 0 {
        return refuse("a price of more than zero (a gift is `wijk gift`)");
    }
    if let Some(point) = new.location.filter(|point| !point.is_on_globe()) {
        return refuse(format!("{point} is not a place on earth"));
    }
    let latest = height.saturating_add(rules.max_listing_blocks);
    if new.expires_at <= height || new.expires_at > latest {
        return refuse(format!(
            "an expiry after this block ({height}) and at most {} blocks ahead (block {latest})",
            rules.max_listing_blocks
        ));
    }
    let hours = match new.kind {
        ListingKind::Offer if new.hours.is_some() => {
            return Ok(Err(Error::BadHours {
                why: "an offer's buyer says how many hours, when accepting".into(),
            }))
        }
        ListingKind::Offer => 0,
        ListingKind::Request => check!(hours_for(&new.price, new.hours, "a request")),
    };
    let team = match (new.kind, new.team.is_empty()) {
        (_, true) => Vec::new(),
        (ListingKind::Offer, false) => tri!(check_team(ctx, &acting, new.team)),
        (ListingKind::Request, false) => {
            return refuse("a request is paid by its owner; a team may accept one, not post it")
        }
    };
    let open = OPEN_COUNT.get(&*ctx.state, &owner)?.unwrap_or(0);
    if open >= rules.max_open_listings {
        return Ok(Err(Error::TooManyListings {
            owner,
            max: rules.max_open_listings,
        }));
    }
    // A request's price is put into escrow now: whoever accepts it knows it is there.
    let escrow = match new.kind {
        ListingKind::Offer => Escrowed::default(),
        ListingKind::Request => {
            let Some(amount) = new.price.amount.checked_mul(u128::from(hours)) else {
                return Ok(Err(Error::Overflow));
            };
            if let Some(guardian) = &acting.guardian {
                check!(ctx
                    .membership()
                    .charge_guardian(ctx, guardian, &owner, amount)?);
            }
            check!(ctx.currency().reserve(ctx, &owner, amount)?);
            check!(add_escrow(ctx.state, amount)?);
            Escrowed {
                earmarked: Vec::new(),
                free: amount,
            }
        }
    };
    let listing = Listing {
        kind: new.kind,
        owner,
        posted_by: acting.guardian,
        team,
        title: new.title.to_string(),
        category: new.category.to_string(),
        price: new.price,
        hours,
        location: new.location,
        text_hash: new.text_hash,
        posted_at: height,
        expires_at: new.expires_at,
        escrow,
        status: ListingStatus::Open,
        deals: 0,
    };
    let id = LISTINGS.push(ctx.state, &listing)?;
    OPEN_LISTINGS.insert(ctx.state, &(new.kind.tag(), id), &());
    LISTING_EXPIRY.insert(ctx.state, &(new.expires_at, id), &());
    OPEN_COUNT.insert(ctx.state, &owner, &(open + 1));
    ctx.deposit_event(Event::Posted {
        listing: id,
        kind: new.kind,
        owner,
        title: listing.title,
        category: listing.category,
        price: new.price,
    });
    Ok(Ok(()))
}

/// Closes open listing `id` with `status`: out of every index, its owner's count lowered.
/// A request's escrow is the caller's to release or move.
pub(crate) fn close(
    state: &mut StateOverlay<'_>,
    id: ListingId,
    listing: &mut Listing,
    status: ListingStatus,
) -> Result<(), StateError> {
    OPEN_LISTINGS.remove(state, &(listing.kind.tag(), id));
    LISTING_EXPIRY.remove(state, &(listing.expires_at, id));
    match OPEN_COUNT.get(&*state, &listing.owner)?.unwrap_or(0) {
        0 | 1 => OPEN_COUNT.remove(state, &listing.owner),
        open => OPEN_COUNT.insert(state, &listing.owner, &(open - 1)),
    }
    listing.status = status;
    LISTINGS.rewrite(state, id, listing)
}

/// Closes an untaken listing and returns a request's escrow to its owner.
fn close_untaken(
    ctx: &mut CallContext<'_, '_>,
    id: ListingId,
    listing: &mut Listing,
    status: ListingStatus,
) -> DispatchResult<Error> {
    let escrow = std::mem::take(&mut listing.escrow);
    close(ctx.state, id, listing, status)?;
    if escrow.total() > 0 {
        check!(deals::refund(ctx, &listing.owner, &escrow)?);
    }
    Ok(Ok(()))
}

pub(crate) fn existing(
    ctx: &CallContext<'_, '_>,
    id: ListingId,
) -> Result<Result<Listing, Error>, StateError> {
    Ok(LISTINGS
        .get(&*ctx.state, id)?
        .ok_or(Error::NoSuchListing { listing: id }))
}

/// `market.withdraw`.
pub(crate) fn withdraw(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: ListingId,
) -> DispatchResult<Error> {
    let acting = check!(origin.ensure_signed_or_guardian());
    let mut listing = tri!(existing(ctx, id));
    let now = |who: &AccountId| ctx.membership().current_key(&*ctx.state, who);
    let poster_now = listing.posted_by.as_ref().map(now).transpose()?;
    if acting.member != now(&listing.owner)? && poster_now != Some(acting.member) {
        return Ok(Err(Error::NotOwner {
            listing: id,
            signer: acting.member,
        }));
    }
    if listing.status != ListingStatus::Open {
        return Ok(Err(Error::ListingClosed {
            listing: id,
            status: listing.status.name().into(),
        }));
    }
    let at = ctx.block().height;
    check!(close_untaken(
        ctx,
        id,
        &mut listing,
        ListingStatus::Withdrawn { at }
    )?);
    ctx.deposit_event(Event::Withdrawn {
        listing: id,
        owner: listing.owner,
    });
    Ok(Ok(()))
}

/// Closes listings whose expiry has come, oldest first, at most [`MAX_EXPIRIES_PER_BLOCK`].
pub(crate) fn expire_due(ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
    let height = ctx.block().height;
    let due = LISTING_EXPIRY.page(&*ctx.state, None, MAX_EXPIRIES_PER_BLOCK)?;
    for ((at, id), ()) in due.entries {
        if at > height {
            break;
        }
        let Some(mut listing) = LISTINGS.get(&*ctx.state, id)? else {
            return Err(StateError::Corrupt {
                key_hex: format!("market/listing/{id}"),
                reason: "a queued listing is missing".into(),
            });
        };
        // A refund refused here would be a bug (the escrow is reserved on the owner's
        // account): the block is refused rather than a coin lost.
        if let Err(refused) =
            close_untaken(ctx, id, &mut listing, ListingStatus::Expired { at: height })?
        {
            return Err(StateError::Backend {
                reason: format!("listing {id}'s escrow could not be returned: {refused}"),
            });
        }
        ctx.deposit_event(Event::ListingExpired {
            listing: id,
            owner: listing.owner,
        });
    }
    Ok(())
}
