//! The geo pallet: where the wijk is.
//!
//! The chain spec holds the wijk's **region** as one or more polygons of [`GeoPoint`]s in
//! integer microdegrees; the region is their union (holes are not supported: a wijk that
//! surrounds a place it excludes lists the parts around it as separate polygons). Other
//! pallets ask whether a point lies in the region through [`wijk_support::Geography`], which
//! this pallet implements; earmarked coins and a local-only coin use it to decide where a
//! payment may go.
//!
//! **Exact.** [`polygon_contains`] is the crossing-number rule computed in 128-bit integers:
//! no floating point, so every validator decides every point the same way. A point **on the
//! boundary** (on an edge or a vertex) **counts as inside**: a shop on the street that marks
//! the border belongs to the wijk. Polygons must be simple (no edge crosses another, at least
//! three corners, not all on one line): [`check_polygon`] refuses others at genesis and when
//! the region is changed, because "inside" has no single meaning for a self-crossing shape.
//! Work is bounded: at most [`MAX_REGION_VERTICES`] corners in all, so a check costs at most
//! that many edge tests.
//!
//! A chain whose spec gives no region is **borderless**: every point is inside.
//!
//! Owns: `geo/region` (the name and polygons in force).
//! Must never: use floating point, or read another pallet's storage.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::{AccountId, GeoPoint};
use wijk_support::{
    check, BadOrigin, CallContext, Collective, Cost, DispatchResult, Geography, Involves, Origin,
    StateError, StateOverlay, StateRead, StorageValue,
};

/// The region in force; absent means borderless.
pub const REGION: StorageValue<Region> = StorageValue::new(b"geo/region");

/// Most corners of all the region's polygons together.
pub const MAX_REGION_VERTICES: usize = 1_000;
/// Longest region name, in bytes.
pub const MAX_REGION_NAME_BYTES: usize = 64;

/// What a call costs. Deciding a point against the region reads and decodes the region
/// (at most [`MAX_REGION_VERTICES`] corners) and tests each edge; changing the region also
/// checks every pair of edges for crossings.
pub mod costs {
    use wijk_support::Cost;
    /// Replacing the region: the crossing check is quadratic in the corners.
    pub const SET_REGION: Cost = Cost::micros(50_000);
}

/// The wijk's region: a name and the polygons whose union it is.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Encode,
    Decode,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Region {
    /// What the wijk is called ("Rabot-Blaisantvest").
    pub name: String,
    /// Each polygon's corners in order (either direction), the last joined to the first;
    /// `[latitude, longitude]` in microdegrees.
    pub polygons: Vec<Vec<GeoPoint>>,
}

impl Region {
    /// Whether `point` lies in the region: inside or on the boundary of any polygon. A
    /// region without polygons contains every point (borderless).
    pub fn contains(&self, point: &GeoPoint) -> bool {
        self.polygons.is_empty()
            || self
                .polygons
                .iter()
                .any(|polygon| polygon_contains(polygon, point))
    }

    /// Checks the region can be put in force.
    pub fn check(&self) -> Result<(), RegionError> {
        if self.name.len() > MAX_REGION_NAME_BYTES {
            return Err(RegionError::NameTooLong {
                len: self.name.len() as u32,
                max: MAX_REGION_NAME_BYTES as u32,
            });
        }
        let corners: usize = self.polygons.iter().map(Vec::len).sum();
        if corners > MAX_REGION_VERTICES {
            return Err(RegionError::TooManyCorners {
                corners: corners as u32,
                max: MAX_REGION_VERTICES as u32,
            });
        }
        for (index, polygon) in self.polygons.iter().enumerate() {
            check_polygon(polygon).map_err(|why| RegionError::BadPolygon {
                polygon: index as u32,
                why,
            })?;
        }
        Ok(())
    }
}

/// Why a region was refused.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum RegionError {
    /// Too many corners in all.
    #[error("the region has {corners} corners; at most {max} are allowed")]
    #[codec(index = 0)]
    TooManyCorners {
        /// Corners given.
        corners: u32,
        /// The limit.
        max: u32,
    },
    /// A polygon is not a simple shape.
    #[error("polygon {polygon} of the region: {why}")]
    #[codec(index = 1)]
    BadPolygon {
        /// Which polygon (from 0).
        polygon: u32,
        /// What is wrong with it.
        why: PolygonError,
    },
    /// The name is too long.
    #[error("the region's name is {len} bytes; at most {max} are allowed")]
    #[codec(index = 2)]
    NameTooLong {
        /// Its length.
        len: u32,
        /// The limit.
        max: u32,
    },
}

/// Why a polygon is not a simple shape.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum PolygonError {
    /// Fewer than three corners.
    #[error("it has {corners} corners; a polygon needs at least 3")]
    #[codec(index = 0)]
    TooFewCorners {
        /// Corners given.
        corners: u32,
    },
    /// A corner is off the globe.
    #[error("corner {corner} is off the globe")]
    #[codec(index = 1)]
    OffTheGlobe {
        /// Which corner (from 0).
        corner: u32,
    },
    /// A corner repeats the one before it.
    #[error("corner {corner} repeats the corner before it")]
    #[codec(index = 2)]
    RepeatedCorner {
        /// Which corner (from 0).
        corner: u32,
    },
    /// All corners lie on one line: the shape has no inside.
    #[error("all its corners lie on one line")]
    #[codec(index = 3)]
    NoArea,
    /// Two edges cross or overlap.
    #[error("edge {first} and edge {second} cross or touch (edge i joins corner i to the next)")]
    #[codec(index = 4)]
    EdgesCross {
        /// One edge (from corner `first`).
        first: u32,
        /// The other.
        second: u32,
    },
}

/// Twice the signed area of triangle `a, b, c`: positive if `c` is left of `a -> b`,
/// negative if right, zero if the three lie on one line. Exact: microdegree coordinates
/// differ by less than 2^30, so the products fit in an `i128` with room to spare.
fn orientation(a: &GeoPoint, b: &GeoPoint, c: &GeoPoint) -> i128 {
    let (ax, ay) = (i128::from(a.lon), i128::from(a.lat));
    let (bx, by) = (i128::from(b.lon), i128::from(b.lat));
    let (cx, cy) = (i128::from(c.lon), i128::from(c.lat));
    (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
}

/// Whether `p` lies on the segment `a -> b` (its ends included).
fn on_segment(p: &GeoPoint, a: &GeoPoint, b: &GeoPoint) -> bool {
    orientation(a, b, p) == 0
        && a.lon.min(b.lon) <= p.lon
        && p.lon <= a.lon.max(b.lon)
        && a.lat.min(b.lat) <= p.lat
        && p.lat <= a.lat.max(b.lat)
}

/// Whether segments `a1 -> a2` and `b1 -> b2` share any point.
fn segments_touch(a1: &GeoPoint, a2: &GeoPoint, b1: &GeoPoint, b2: &GeoPoint) -> bool {
    let d1 = orientation(b1, b2, a1).signum();
    let d2 = orientation(b1, b2, a2).signum();
    let d3 = orientation(a1, a2, b1).signum();
    let d4 = orientation(a1, a2, b2).signum();
    if d1 * d2 < 0 && d3 * d4 < 0 {
        return true;
    }
    on_segment(a1, b1, b2)
        || on_segment(a2, b1, b2)
        || on_segment(b1, a1, a2)
        || on_segment(b2, a1, a2)
}

/// Whether `point` lies inside `polygon` or on its boundary: the crossing-number rule (a ray
/// from the point eastwards crosses the boundary an odd number of times) in exact integer
/// arithmetic, after testing the boundary itself. `polygon` is assumed simple
/// ([`check_polygon`]).
pub fn polygon_contains(polygon: &[GeoPoint], point: &GeoPoint) -> bool {
    let mut inside = false;
    let Some(last) = polygon.last() else {
        return false;
    };
    let mut previous = last;
    for corner in polygon {
        let (a, b) = (previous, corner);
        previous = corner;
        if on_segment(point, a, b) {
            return true;
        }
        // Edges crossing the point's latitude, counting an edge's lower end but not its
        // upper one, so a ray through a corner counts once.
        if (a.lat > point.lat) != (b.lat > point.lat) {
            // The ray crosses if the point is left of where the edge meets its latitude:
            // point.lon < a.lon + (point.lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat),
            // multiplied out by (b.lat - a.lat), whose sign flips the comparison.
            let rise = i128::from(b.lat) - i128::from(a.lat);
            let left = (i128::from(point.lon) - i128::from(a.lon)) * rise;
            let right = (i128::from(point.lat) - i128::from(a.lat))
                * (i128::from(b.lon) - i128::from(a.lon));
            if (rise > 0 && left < right) || (rise < 0 && left > right) {
                inside = !inside;
            }
        }
    }
    inside
}

/// Checks that `polygon` is a simple shape: at least three corners on the globe, no corner
/// repeating the one before, not all on one line, and no two edges touching except
/// neighbours at their shared corner. Quadratic in the corners (bounded by
/// [`MAX_REGION_VERTICES`]).
pub fn check_polygon(polygon: &[GeoPoint]) -> Result<(), PolygonError> {
    let n = polygon.len();
    if n < 3 {
        return Err(PolygonError::TooFewCorners { corners: n as u32 });
    }
    for (index, corner) in polygon.iter().enumerate() {
        if !corner.is_on_globe() {
            return Err(PolygonError::OffTheGlobe {
                corner: index as u32,
            });
        }
        if *corner == polygon[(index + n - 1) % n] {
            return Err(PolygonError::RepeatedCorner {
                corner: index as u32,
            });
        }
    }
    let first = &polygon[0];
    let second = &polygon[1];
    if polygon
        .iter()
        .all(|corner| orientation(first, second, corner) == 0)
    {
        return Err(PolygonError::NoArea);
    }
    let edge = |i: usize| (&polygon[i], &polygon[(i + 1) % n]);
    for i in 0..n {
        let (a1, a2) = edge(i);
        for j in i + 1..n {
            let (b1, b2) = edge(j);
            let crossed = if j == i + 1 {
                // Neighbours share a2 == b1: they may meet only there.
                on_segment(b2, a1, a2) || on_segment(a1, b1, b2)
            } else if i == 0 && j == n - 1 {
                // The last edge ends where the first begins: a1 == b2.
                on_segment(b1, a1, a2) || on_segment(a2, b1, b2)
            } else {
                segments_touch(a1, a2, b1, b2)
            };
            if crossed {
                return Err(PolygonError::EdgesCross {
                    first: i as u32,
                    second: j as u32,
                });
            }
        }
    }
    Ok(())
}

/// The region in force (empty, thus borderless, if the spec gave none).
pub fn region(state: &dyn StateRead) -> Result<Region, StateError> {
    Ok(REGION.get(state)?.unwrap_or_default())
}

/// The calls of this pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// The board (or an enacted vote) puts a new region in force; payments decided after
    /// it follow the new borders.
    #[codec(index = 0)]
    SetRegion {
        /// The new region.
        region: Region,
    },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum Event {
    /// A new region is in force.
    #[codec(index = 0)]
    RegionSet {
        /// Its name.
        name: String,
        /// How many polygons.
        polygons: u32,
        /// How many corners in all.
        corners: u32,
    },
}

impl Involves for Event {
    fn involved_accounts(&self, _accounts: &mut Vec<AccountId>) {}
}

/// Why a geo call failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// The region is not acceptable.
    #[error(transparent)]
    #[codec(index = 0)]
    Region(#[from] RegionError),
    /// The caller may not change the region.
    #[error(transparent)]
    #[codec(index = 1)]
    BadOrigin(#[from] BadOrigin),
}

/// The geo pallet's section of a chain spec's genesis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Genesis {
    /// The wijk's region; leave out for a borderless coin.
    pub region: Region,
}

/// The geo pallet (and, as [`Geography`], where other pallets ask about places).
pub struct Pallet;

impl wijk_support::Pallet for Pallet {
    const NAME: &'static str = "geo";
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = Genesis;

    fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
        check!(config.region.check());
        if config.region != Region::default() {
            REGION.put(state, &config.region);
        }
        Ok(Ok(()))
    }

    fn dispatch(
        ctx: &mut CallContext<'_, '_>,
        origin: &Origin,
        call: &Call,
    ) -> DispatchResult<Error> {
        match call {
            Call::SetRegion { region } => {
                check!(ctx.ensure_decided_by(origin, Collective::Board)?);
                check!(region.check());
                REGION.put(ctx.state, region);
                ctx.deposit_event(Event::RegionSet {
                    name: region.name.clone(),
                    polygons: region.polygons.len() as u32,
                    corners: region.polygons.iter().map(Vec::len).sum::<usize>() as u32,
                });
                Ok(Ok(()))
            }
        }
    }

    fn cost(call: &Call) -> Cost {
        match call {
            Call::SetRegion { .. } => costs::SET_REGION,
        }
    }
}

impl Geography for Pallet {
    fn in_region(&self, state: &dyn StateRead, point: &GeoPoint) -> Result<bool, StateError> {
        Ok(region(state)?.contains(point))
    }

    fn region_name(&self, state: &dyn StateRead) -> Result<String, StateError> {
        Ok(region(state)?.name)
    }
}

#[cfg(test)]
mod tests;
