//! The market pallet's methods: `wijk_offers`, `wijk_requests`, `wijk_deal`, `wijk_deals`.

use crate::context::RpcContext;
use crate::error::{internal, invalid_params};
use crate::render;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::Value;
use wijk_market::{DealStatus, ListingKind};
use wijk_primitives::GeoPoint;
use wijk_rpc_types::market as types;
use wijk_support::{StateError, StateRead};

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Most listings per page.
const MAX_LISTINGS_PAGE: usize = 200;
/// Most open listings read to sort by distance (the nearest among them are shown).
const MAX_LISTINGS_SCANNED: usize = 5_000;
/// Most deals shown for one member.
const MAX_DEALS_PAGE: usize = 200;

/// Metres between two points, on a sphere, near enough for "offers near me" (an
/// equirectangular approximation: exact to well under a percent across a city).
fn distance_m(a: &GeoPoint, b: &GeoPoint) -> u64 {
    const METRES_PER_MICRODEGREE: f64 = 0.111_195;
    let mean_lat = (f64::from(a.lat) + f64::from(b.lat)) / 2e6;
    let dy = f64::from(a.lat - b.lat) * METRES_PER_MICRODEGREE;
    let dx = f64::from(a.lon - b.lon) * METRES_PER_MICRODEGREE * mean_lat.to_radians().cos();
    (dx * dx + dy * dy).sqrt().round() as u64
}

fn listing_view(id: u64, listing: wijk_market::Listing, near: Option<&GeoPoint>) -> types::Listing {
    types::Listing {
        id,
        kind: listing.kind,
        owner: listing.owner,
        posted_by: listing.posted_by,
        team: listing.team,
        title: listing.title,
        category: listing.category,
        price: listing.price,
        hours: listing.hours,
        escrow: listing.escrow.total(),
        location: listing.location,
        distance_m: near
            .zip(listing.location.as_ref())
            .map(|(a, b)| distance_m(a, b)),
        text_hash: listing.text_hash,
        posted_at: listing.posted_at,
        expires_at: listing.expires_at,
        status: listing.status.name().into(),
        deals: listing.deals,
    }
}

fn deal_view(
    state: &dyn StateRead,
    id: u64,
    deal: wijk_market::Deal,
) -> Result<types::Deal, StateError> {
    let title = wijk_market::listing(state, deal.listing)?
        .map(|listing| listing.title)
        .unwrap_or_default();
    let (status_at, by, reason, to_sellers, to_buyer) = match &deal.status {
        DealStatus::Accepted => (None, None, None, None, None),
        DealStatus::Started { at } | DealStatus::Completed { at } | DealStatus::TimedOut { at } => {
            (Some(*at), None, None, None, None)
        }
        DealStatus::Disputed { by, reason, at } => {
            (Some(*at), Some(*by), Some(reason.clone()), None, None)
        }
        DealStatus::Cancelled { by, at } => (Some(*at), Some(*by), None, None, None),
        DealStatus::Resolved {
            by,
            to_sellers,
            to_buyer,
            reason,
            at,
        } => (
            Some(*at),
            *by,
            Some(reason.clone()),
            Some(*to_sellers),
            Some(*to_buyer),
        ),
    };
    Ok(types::Deal {
        id,
        listing: deal.listing,
        kind: deal.kind,
        title,
        category: deal.category,
        buyer: deal.buyer,
        sellers: deal.sellers,
        organiser: deal.organiser,
        hours: deal.hours,
        amount: deal.amount,
        earmarked: deal.escrow.earmarked_total(),
        accepted_at: deal.accepted_at,
        start_by: deal.start_by,
        complete_by: deal.complete_by,
        status: deal.status.name().into(),
        status_at,
        by,
        reason,
        to_sellers,
        to_buyer,
    })
}

/// `wijk_offers` or `wijk_requests`: open listings of `kind`, in a category if given;
/// nearest first when `near` is given (among the first [`MAX_LISTINGS_SCANNED`]), else
/// oldest first after `after`.
fn listings(
    ctx: &RpcContext,
    kind: ListingKind,
    params: jsonrpsee::types::Params<'_>,
) -> RpcResult {
    let mut sequence = params.sequence();
    let near: Option<String> = sequence.optional_next()?;
    let category: Option<String> = sequence.optional_next()?;
    let after: Option<u64> = sequence.optional_next()?;
    let limit: Option<usize> = sequence.optional_next()?;
    let limit = limit.unwrap_or(50).clamp(1, MAX_LISTINGS_PAGE);
    let near = near
        .as_deref()
        .map(GeoPoint::parse_degrees)
        .transpose()
        .map_err(|error| invalid_params(format!("near: {error} (write it as 51.0585,3.7130)")))?;
    let state = ctx.storage.as_ref();
    let scan = if near.is_some() {
        MAX_LISTINGS_SCANNED
    } else {
        limit + 1
    };
    let mut found = Vec::new();
    let mut cursor = after;
    let mut read = 0;
    // Pages of ids, filtered by category, until enough are found or the scan bound is hit.
    'pages: loop {
        let ids = wijk_market::open_listings(state, kind, cursor, 256).map_err(internal)?;
        if ids.is_empty() {
            break;
        }
        for id in ids {
            if read >= MAX_LISTINGS_SCANNED {
                break 'pages;
            }
            cursor = Some(id);
            read += 1;
            let Some(listing) = wijk_market::listing(state, id).map_err(internal)? else {
                continue;
            };
            if category.as_ref().is_some_and(|c| *c != listing.category) {
                continue;
            }
            found.push(listing_view(id, listing, near.as_ref()));
            if found.len() == scan {
                break 'pages;
            }
        }
    }
    let next = if near.is_some() {
        found.sort_by_key(|listing| (listing.distance_m.unwrap_or(u64::MAX), listing.id));
        found.truncate(limit);
        None
    } else if found.len() > limit {
        found.truncate(limit);
        found.last().map(|listing| listing.id)
    } else {
        None
    };
    render::json(
        ctx.chain.address_prefix,
        &types::Listings {
            listings: found,
            next,
            rules: wijk_market::rules(state).map_err(internal)?,
            at_block: render::at_block(ctx)?,
        },
    )
}

pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_blocking_method("wijk_offers", |params, ctx, _| -> RpcResult {
        listings(&ctx, ListingKind::Offer, params)
    })?;
    module.register_blocking_method("wijk_requests", |params, ctx, _| -> RpcResult {
        listings(&ctx, ListingKind::Request, params)
    })?;
    module.register_blocking_method("wijk_listing", |params, ctx, _| -> RpcResult {
        let id: u64 = params.one()?;
        let state = ctx.storage.as_ref();
        match wijk_market::listing(state, id).map_err(internal)? {
            Some(listing) => {
                render::json(ctx.chain.address_prefix, &listing_view(id, listing, None))
            }
            None => Ok(Value::Null),
        }
    })?;
    module.register_blocking_method("wijk_deal", |params, ctx, _| -> RpcResult {
        let id: u64 = params.one()?;
        let state = ctx.storage.as_ref();
        match wijk_market::deal(state, id).map_err(internal)? {
            Some(deal) => render::json(
                ctx.chain.address_prefix,
                &deal_view(state, id, deal).map_err(internal)?,
            ),
            None => Ok(Value::Null),
        }
    })?;
    module.register_blocking_method("wijk_deals", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let party: String = sequence.next()?;
        let limit: Option<usize> = sequence.optional_next()?;
        let party = crate::wijk::parse_address(&ctx, &party)?;
        let limit = limit.unwrap_or(50).clamp(1, MAX_DEALS_PAGE);
        let state = ctx.storage.as_ref();
        // A member's deals, oldest first in the index; the newest `limit` shown (the index
        // read is bounded by how many deals one member ever had).
        let ids = wijk_market::deals_of(state, &party, usize::MAX).map_err(internal)?;
        let mut deals = Vec::new();
        for id in ids.into_iter().rev().take(limit) {
            if let Some(deal) = wijk_market::deal(state, id).map_err(internal)? {
                deals.push(deal_view(state, id, deal).map_err(internal)?);
            }
        }
        render::json(
            ctx.chain.address_prefix,
            &types::Deals {
                deals,
                escrow_total: wijk_market::escrow_total(state).map_err(internal)?,
                at_block: render::at_block(&ctx)?,
            },
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_across_a_city_are_near_enough() {
        // Gent: Sint-Baafs to the Rabot, about 1.4 km as the crow flies.
        let cathedral = GeoPoint {
            lat: 51_053_100,
            lon: 3_727_300,
        };
        let rabot = GeoPoint {
            lat: 51_061_500,
            lon: 3_712_000,
        };
        let metres = distance_m(&cathedral, &rabot);
        assert!((1_300..1_500).contains(&metres), "{metres}");
        assert_eq!(distance_m(&rabot, &rabot), 0);
    }
}
