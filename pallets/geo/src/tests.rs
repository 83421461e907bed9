use super::*;
use proptest::prelude::*;
use wijk_support::testing::TestChain;
use wijk_support::{Interfaces, OpenMembership, Pallet as _};

const INTERFACES: Interfaces = Interfaces {
    currency: &wijk_coin::Pallet,
    membership: &OpenMembership,
    collectives: &wijk_system::SpecBoard,
    geography: &Pallet,
    enactment: &wijk_support::NoEnactment,
};

fn point(lat: i32, lon: i32) -> GeoPoint {
    GeoPoint { lat, lon }
}

/// The Rabot demo polygon (`../shared/examples/rabot.md`), in microdegrees.
fn rabot() -> Vec<GeoPoint> {
    [
        (51_056_600, 3_708_500),
        (51_058_500, 3_713_000),
        (51_060_300, 3_716_500),
        (51_062_000, 3_721_000),
        (51_063_300, 3_725_000),
        (51_065_500, 3_722_500),
        (51_067_200, 3_716_000),
        (51_068_800, 3_709_000),
        (51_066_000, 3_706_000),
        (51_061_000, 3_706_500),
    ]
    .into_iter()
    .map(|(lat, lon)| point(lat, lon))
    .collect()
}

fn square() -> Vec<GeoPoint> {
    vec![point(0, 0), point(0, 10), point(10, 10), point(10, 0)]
}

#[test]
fn the_boundary_counts_as_inside() {
    let square = square();
    for (lat, lon, inside) in [
        (5, 5, true),
        (0, 0, true),   // a corner
        (0, 5, true),   // an edge
        (10, 10, true), // the opposite corner
        (5, 10, true),  // the east edge, on the ray's side
        (5, 11, false),
        (-1, 5, false),
        (10, 11, false), // on the line of the top edge, beyond it
        (0, -1, false),  // on the line of the bottom edge, before it
    ] {
        assert_eq!(
            polygon_contains(&square, &point(lat, lon)),
            inside,
            "({lat}, {lon})"
        );
    }
}

#[test]
fn rabot_holds_its_centre_and_not_the_city_centre() {
    let region = Region {
        name: "Rabot-Blaisantvest".into(),
        polygons: vec![rabot()],
    };
    assert_eq!(region.check(), Ok(()));
    assert!(region.contains(&point(51_063_000, 3_714_000)));
    // Korenmarkt, the city centre.
    assert!(!region.contains(&point(51_054_300, 3_721_700)));
    // Every corner is on the boundary.
    for corner in rabot() {
        assert!(region.contains(&corner));
    }
}

#[test]
fn a_region_of_several_polygons_is_their_union_and_no_region_is_borderless() {
    let far = vec![point(100, 100), point(100, 110), point(110, 105)];
    let region = Region {
        name: "two parts".into(),
        polygons: vec![square(), far],
    };
    assert!(region.contains(&point(5, 5)));
    assert!(region.contains(&point(105, 105)));
    assert!(!region.contains(&point(50, 50)));
    assert!(Region::default().contains(&point(50, 50)));
}

#[test]
fn shapes_without_a_single_inside_are_refused() {
    assert_eq!(
        check_polygon(&[point(0, 0), point(1, 1)]),
        Err(PolygonError::TooFewCorners { corners: 2 })
    );
    assert_eq!(
        check_polygon(&[point(0, 0), point(1, 1), point(2, 2)]),
        Err(PolygonError::NoArea)
    );
    assert_eq!(
        check_polygon(&[point(0, 0), point(0, 0), point(2, 2)]),
        Err(PolygonError::RepeatedCorner { corner: 1 })
    );
    // A bow tie: edge 0 (0,0)-(0,10) ... edge 1 crosses edge 3.
    let bow_tie = [point(0, 0), point(10, 10), point(10, 0), point(0, 10)];
    assert_eq!(
        check_polygon(&bow_tie),
        Err(PolygonError::EdgesCross {
            first: 0,
            second: 2
        })
    );
    // An edge that doubles back over its neighbour.
    let spike = [point(0, 0), point(0, 10), point(0, 5), point(5, 5)];
    assert!(matches!(
        check_polygon(&spike),
        Err(PolygonError::EdgesCross { .. })
    ));
    // A corner touching a non-neighbouring edge.
    let pinched = [
        point(0, 0),
        point(0, 10),
        point(5, 5),
        point(10, 10),
        point(10, 0),
        point(0, 5),
    ];
    assert!(matches!(
        check_polygon(&pinched),
        Err(PolygonError::EdgesCross { .. })
    ));
    let off = [point(0, 0), point(0, 10), point(95_000_000, 0)];
    assert_eq!(
        check_polygon(&off),
        Err(PolygonError::OffTheGlobe { corner: 2 })
    );
}

#[test]
fn too_many_corners_or_a_long_name_are_refused() {
    let many: Vec<GeoPoint> = (0..=MAX_REGION_VERTICES as i32)
        .map(|i| point(i, i * i))
        .collect();
    let region = Region {
        name: String::new(),
        polygons: vec![many],
    };
    assert_eq!(
        region.check(),
        Err(RegionError::TooManyCorners {
            corners: MAX_REGION_VERTICES as u32 + 1,
            max: MAX_REGION_VERTICES as u32
        })
    );
    let named = Region {
        name: "x".repeat(MAX_REGION_NAME_BYTES + 1),
        polygons: vec![],
    };
    assert!(matches!(
        named.check(),
        Err(RegionError::NameTooLong { .. })
    ));
}

#[test]
fn genesis_refuses_a_bad_region_and_the_board_alone_may_change_it() {
    let board = AccountId([1; 32]);
    let mut chain = TestChain::new(INTERFACES);
    chain.genesis::<wijk_system::Pallet>(&wijk_system::Genesis {
        board: vec![board],
        ..Default::default()
    });
    let mut overlay = StateOverlay::new(chain.reader());
    let bad = Genesis {
        region: Region {
            name: "bad".into(),
            polygons: vec![vec![point(0, 0), point(1, 1)]],
        },
    };
    assert!(matches!(
        Pallet::build_genesis(&mut overlay, &bad),
        Ok(Err(Error::Region(RegionError::BadPolygon {
            polygon: 0,
            ..
        })))
    ));
    drop(overlay);
    chain.genesis::<Pallet>(&Genesis::default());
    assert!(Geography::in_region(&Pallet, chain.reader(), &point(40, 40)).unwrap());

    let new = Region {
        name: "square".into(),
        polygons: vec![square()],
    };
    let call = Call::SetRegion {
        region: new.clone(),
    };
    let stranger = AccountId([2; 32]);
    assert!(matches!(
        chain.dispatch::<Pallet>(Origin::Signed(stranger), &call),
        Err(Error::BadOrigin(_))
    ));
    let events = chain
        .dispatch::<Pallet>(Origin::Signed(board), &call)
        .unwrap();
    assert_eq!(
        events.of::<Event>(),
        vec![Event::RegionSet {
            name: "square".into(),
            polygons: 1,
            corners: 4
        }]
    );
    assert_eq!(region(chain.reader()), Ok(new));
    assert!(!Geography::in_region(&Pallet, chain.reader(), &point(40, 40)).unwrap());
    assert_eq!(
        Geography::region_name(&Pallet, chain.reader()).unwrap(),
        "square"
    );
    let bow_tie = Call::SetRegion {
        region: Region {
            name: "bow tie".into(),
            polygons: vec![vec![point(0, 0), point(10, 10), point(10, 0), point(0, 10)]],
        },
    };
    assert!(matches!(
        chain.dispatch::<Pallet>(Origin::Signed(board), &bow_tie),
        Err(Error::Region(_))
    ));
}

// ---- the reference: a different algorithm for the same question ----

/// On the segment: on its line, and between its ends by the dot product (not by the
/// bounding box, as the implementation tests).
fn reference_on_segment(p: &GeoPoint, a: &GeoPoint, b: &GeoPoint) -> bool {
    let (px, py) = (i128::from(p.lon), i128::from(p.lat));
    let (ax, ay) = (i128::from(a.lon), i128::from(a.lat));
    let (bx, by) = (i128::from(b.lon), i128::from(b.lat));
    let cross = (bx - ax) * (py - ay) - (by - ay) * (px - ax);
    let dot = (ax - px) * (bx - px) + (ay - py) * (by - py);
    cross == 0 && dot <= 0
}

/// The winding number (Sunday's algorithm): non-zero means inside. For a simple polygon
/// that is the same set as the crossing rule's.
fn reference_contains(polygon: &[GeoPoint], p: &GeoPoint) -> bool {
    let n = polygon.len();
    let mut winding = 0i32;
    for i in 0..n {
        let (a, b) = (&polygon[i], &polygon[(i + 1) % n]);
        if reference_on_segment(p, a, b) {
            return true;
        }
        let is_left = (i128::from(b.lon) - i128::from(a.lon))
            * (i128::from(p.lat) - i128::from(a.lat))
            - (i128::from(p.lon) - i128::from(a.lon)) * (i128::from(b.lat) - i128::from(a.lat));
        if a.lat <= p.lat {
            if b.lat > p.lat && is_left > 0 {
                winding += 1;
            }
        } else if b.lat <= p.lat && is_left < 0 {
            winding -= 1;
        }
    }
    winding != 0
}

/// A random simple polygon: offsets around a centre, sorted by angle (exactly, by
/// half-plane and cross product), one per direction; `None` unless every turn around the
/// centre is strictly less than half a circle (then the centre is inside and the polygon,
/// star-shaped around it, is simple).
fn star_polygon(centre: GeoPoint, scale: i32, offsets: &[(i32, i32)]) -> Option<Vec<GeoPoint>> {
    let half = |(dx, dy): (i32, i32)| dy < 0 || (dy == 0 && dx < 0);
    let cross = |(ax, ay): (i32, i32), (bx, by): (i32, i32)| {
        i64::from(ax) * i64::from(by) - i64::from(ay) * i64::from(bx)
    };
    let mut directions: Vec<(i32, i32)> = offsets
        .iter()
        .copied()
        .filter(|offset| *offset != (0, 0))
        .collect();
    directions.sort_by(|a, b| half(*a).cmp(&half(*b)).then_with(|| 0.cmp(&cross(*a, *b))));
    // One point per direction: drop a point in the same direction as the one before.
    directions.dedup_by(|b, a| {
        cross(*a, *b) == 0 && i64::from(a.0) * i64::from(b.0) + i64::from(a.1) * i64::from(b.1) > 0
    });
    let n = directions.len();
    if n < 3 || (0..n).any(|i| cross(directions[i], directions[(i + 1) % n]) <= 0) {
        return None;
    }
    Some(
        directions
            .into_iter()
            .map(|(dx, dy)| point(centre.lat + dy * scale, centre.lon + dx * scale))
            .collect(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// On a small grid, where points fall on edges and corners often, the implementation and
    /// the reference agree on every grid point, and the polygon passes the simplicity check.
    #[test]
    fn agrees_with_the_winding_number_on_random_simple_polygons(
        offsets in proptest::collection::vec((-8i32..=8, -8i32..=8), 3..14),
    ) {
        let centre = point(51_000_000, 3_700_000);
        let Some(polygon) = star_polygon(centre, 1, &offsets) else {
            return Ok(());
        };
        prop_assert_eq!(check_polygon(&polygon), Ok(()));
        for dy in -9..=9 {
            for dx in -9..=9 {
                let p = point(centre.lat + dy, centre.lon + dx);
                prop_assert_eq!(
                    polygon_contains(&polygon, &p),
                    reference_contains(&polygon, &p),
                    "point {:?} polygon {:?}", p, polygon
                );
            }
        }
    }

    /// Across the globe, with coordinates near the limits, nothing overflows and the two
    /// still agree.
    #[test]
    fn agrees_at_any_scale(
        offsets in proptest::collection::vec((-8i32..=8, -8i32..=8), 3..10),
        scale in 1i32..=10_000_000,
        probes in proptest::collection::vec((-90_000_000i32..=90_000_000, -180_000_000i32..=180_000_000), 32),
    ) {
        let Some(polygon) = star_polygon(point(0, 0), scale, &offsets) else {
            return Ok(());
        };
        prop_assume!(polygon.iter().all(GeoPoint::is_on_globe));
        for (lat, lon) in probes {
            let p = point(lat, lon);
            prop_assert_eq!(polygon_contains(&polygon, &p), reference_contains(&polygon, &p));
        }
        for corner in &polygon {
            prop_assert!(polygon_contains(&polygon, corner));
        }
    }

    /// Reversing a polygon's direction changes nothing.
    #[test]
    fn direction_does_not_matter(
        offsets in proptest::collection::vec((-8i32..=8, -8i32..=8), 3..14),
        dy in -9i32..=9, dx in -9i32..=9,
    ) {
        let Some(polygon) = star_polygon(point(0, 0), 1, &offsets) else {
            return Ok(());
        };
        let mut reversed = polygon.clone();
        reversed.reverse();
        prop_assert_eq!(check_polygon(&reversed), Ok(()));
        prop_assert_eq!(polygon_contains(&polygon, &point(dy, dx)), polygon_contains(&reversed, &point(dy, dx)));
    }
}

/// The property tests above skip offsets that do not make a star polygon; make sure most
/// do, so the tests are not vacuous.
#[test]
fn the_polygon_generator_mostly_succeeds() {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 17) as i32 - 8
    };
    let mut made = 0;
    for round in 0..1_000 {
        let count = 3 + round % 11;
        let offsets: Vec<(i32, i32)> = (0..count).map(|_| (next(), next())).collect();
        if let Some(polygon) = star_polygon(point(0, 0), 1, &offsets) {
            assert_eq!(check_polygon(&polygon), Ok(()));
            made += 1;
        }
    }
    assert!(made > 300, "only {made} of 1000 offset sets made a polygon");
}
