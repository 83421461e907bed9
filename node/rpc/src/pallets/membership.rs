//! The membership pallet's methods: `wijk_member`, `wijk_members`, `wijk_merchants`, and
//! the member view `wijk_account` shows.

use crate::context::RpcContext;
use crate::error::{internal, invalid_params};
use crate::render;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::Value;
use wijk_primitives::{format_cents, AccountId, GeoPoint};
use wijk_rpc_types as types;
use wijk_support::{Role, StateError, StateRead};

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Most members per page.
const MAX_MEMBERS_PAGE: usize = 100;
/// Most merchants `wijk_merchants` reads (a wijk has tens to hundreds).
const MAX_MERCHANTS: usize = 2_000;

/// A merchant's place as RPC shows it.
pub(crate) fn place_view(
    place: &wijk_support::Place,
    region: &wijk_geo::Region,
) -> types::MerchantPlace {
    types::MerchantPlace {
        location: place.location.into(),
        degrees: place.location.to_string(),
        category: place.category.clone(),
        inside_region: region.contains(&place.location),
    }
}

/// What the chain keeps of `account` as a member, if it is one.
pub(crate) fn member_view(
    state: &dyn StateRead,
    account: &AccountId,
) -> Result<Option<types::Member>, StateError> {
    let Some(record) = wijk_membership::member(state, account)? else {
        return Ok(None);
    };
    let region = wijk_geo::region(state)?;
    let height = wijk_system::CURRENT_BLOCK
        .get(state)?
        .map_or(0, |block| block.height);
    let day_blocks = wijk_membership::config(state)?.guardian_day_blocks;
    let guardian = wijk_membership::guardianship(state, account)?.map(|record| types::Guardian {
        guardian: record.guardian,
        daily_cap: format_cents(record.daily_cap),
        spent_today: format_cents(wijk_membership::spent_today(&record, height, day_blocks)),
    });
    let pending_rekey =
        wijk_membership::pending_rekey(state, account)?.map(|pending| types::PendingRekey {
            new: pending.new,
            due: pending.due,
            requested_by: pending.requested_by,
        });
    let (status, suspension_reason) = match &record.status {
        wijk_membership::Status::Active => ("active", None),
        wijk_membership::Status::Suspended { reason, .. } => ("suspended", Some(reason.clone())),
    };
    Ok(Some(types::Member {
        address: *account,
        roles: record
            .roles
            .roles()
            .iter()
            .map(|role| role.name().to_string())
            .collect(),
        status: status.into(),
        suspension_reason,
        tag: record.tag,
        registered_by: record.registered_by,
        since: record.since,
        place: record
            .place
            .as_ref()
            .map(|place| place_view(place, &region)),
        guardian,
        pending_rekey,
    }))
}

fn parse_role(text: &str) -> Result<Role, ErrorObjectOwned> {
    Role::parse(text).ok_or_else(|| {
        let names: Vec<&str> = Role::ALL.iter().map(Role::name).collect();
        invalid_params(format!(
            "unknown role `{text}`; roles are {}",
            names.join(", ")
        ))
    })
}

/// Great-circle distance in metres (off chain only: the runtime never uses floats).
pub(crate) fn distance_m(a: &GeoPoint, b: &GeoPoint) -> f64 {
    const EARTH_RADIUS_M: f64 = 6_371_008.8;
    let radians = |micro: i32| f64::from(micro) / 1e6 * std::f64::consts::PI / 180.0;
    let (lat_a, lat_b) = (radians(a.lat), radians(b.lat));
    let d_lat = lat_b - lat_a;
    let d_lon = radians(b.lon) - radians(a.lon);
    let h = (d_lat / 2.0).sin().powi(2) + lat_a.cos() * lat_b.cos() * (d_lon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_blocking_method("wijk_member", |params, ctx, _| -> RpcResult {
        let text: String = params.one()?;
        let account = crate::wijk::parse_address(&ctx, &text)?;
        let member = member_view(ctx.storage.as_ref(), &account).map_err(internal)?;
        render::json(ctx.chain.address_prefix, &member)
    })?;
    module.register_blocking_method("wijk_members", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let role: Option<String> = sequence.optional_next()?;
        let after: Option<String> = sequence.optional_next()?;
        let limit: Option<usize> = sequence.optional_next()?;
        let role = role.as_deref().map(parse_role).transpose()?;
        let after = after
            .as_deref()
            .map(|text| crate::wijk::parse_address(&ctx, text))
            .transpose()?;
        let state = ctx.storage.as_ref();
        let page = wijk_membership::list(
            state,
            after.as_ref(),
            limit.unwrap_or(20).clamp(1, MAX_MEMBERS_PAGE),
            role,
        )
        .map_err(internal)?;
        let mut entries = Vec::with_capacity(page.entries.len());
        for (account, _) in &page.entries {
            if let Some(member) = member_view(state, account).map_err(internal)? {
                entries.push(member);
            }
        }
        render::json(
            ctx.chain.address_prefix,
            &types::MembersPage {
                entries,
                next: page.next,
            },
        )
    })?;
    module.register_blocking_method("wijk_merchants", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let category: Option<String> = sequence.optional_next()?;
        let near: Option<String> = sequence.optional_next()?;
        let radius_m: Option<u64> = sequence.optional_next()?;
        let near = near
            .as_deref()
            .map(GeoPoint::parse_degrees)
            .transpose()
            .map_err(|error| invalid_params(error.to_string()))?;
        if radius_m.is_some() && near.is_none() {
            return Err(invalid_params("radiusM needs near (LAT,LON)"));
        }
        let state = ctx.storage.as_ref();
        let region = wijk_geo::region(state).map_err(internal)?;
        let page = wijk_membership::list(state, None, MAX_MERCHANTS, Some(Role::Merchant))
            .map_err(internal)?;
        let mut merchants: Vec<types::Merchant> = page
            .entries
            .iter()
            .filter(|(_, record)| record.is_active())
            .filter_map(|(account, record)| {
                let place = record.place.as_ref()?;
                if category
                    .as_ref()
                    .is_some_and(|wanted| *wanted != place.category)
                {
                    return None;
                }
                let distance = near.map(|point| distance_m(&point, &place.location));
                if let (Some(distance), Some(radius)) = (distance, radius_m) {
                    if distance > radius as f64 {
                        return None;
                    }
                }
                Some(types::Merchant {
                    address: *account,
                    place: place_view(place, &region),
                    distance_m: distance.map(|metres| metres.round() as u64),
                })
            })
            .collect();
        merchants.sort_by_key(|merchant| merchant.distance_m.unwrap_or(0));
        render::json(ctx.chain.address_prefix, &merchants)
    })?;
    module.register_blocking_method("wijk_region", |_, ctx, _| -> RpcResult {
        let state = ctx.storage.as_ref();
        let region = wijk_geo::region(state).map_err(internal)?;
        let local_only = wijk_coin::config(state).map_err(internal)?.local_only;
        render::json(
            ctx.chain.address_prefix,
            &types::Region {
                borderless: region.polygons.is_empty(),
                name: region.name,
                polygons: region
                    .polygons
                    .iter()
                    .map(|polygon| polygon.iter().map(|corner| (*corner).into()).collect())
                    .collect(),
                local_only,
            },
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_great_circle_metres() {
        // Rabot to Korenmarkt in Ghent: about 1.1 km.
        let rabot = GeoPoint {
            lat: 51_062_100,
            lon: 3_716_500,
        };
        let korenmarkt = GeoPoint {
            lat: 51_054_300,
            lon: 3_721_700,
        };
        let metres = distance_m(&rabot, &korenmarkt);
        assert!((900.0..1_100.0).contains(&metres), "{metres}");
        assert_eq!(distance_m(&rabot, &rabot), 0.0);
    }
}
