//! A place on earth in integer microdegrees (millionths of a degree, about 11 cm of
//! latitude), so that every rule about places is exact integer arithmetic: no node rounds a
//! boundary case differently from another.
//!
//! In JSON (chain specs, RPC) a point is `[latitude, longitude]` in microdegrees, integers,
//! as the region polygons are; people type and read decimal degrees (`51.0585,3.7130`),
//! which [`GeoPoint::parse_degrees`] reads exactly, without floating point.

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// Microdegrees in a degree.
pub const MICRODEGREES_PER_DEGREE: i32 = 1_000_000;
/// The largest latitude, ±90°, in microdegrees.
pub const MAX_LATITUDE_MICRO: i32 = 90 * MICRODEGREES_PER_DEGREE;
/// The largest longitude, ±180°, in microdegrees.
pub const MAX_LONGITUDE_MICRO: i32 = 180 * MICRODEGREES_PER_DEGREE;

/// A point: latitude and longitude in microdegrees (north and east positive).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(try_from = "(i32, i32)", into = "(i32, i32)")]
pub struct GeoPoint {
    /// Latitude, microdegrees, -90,000,000 ..= 90,000,000.
    pub lat: i32,
    /// Longitude, microdegrees, -180,000,000 ..= 180,000,000.
    pub lon: i32,
}

/// Why a point was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeoError {
    /// Outside ±90° latitude or ±180° longitude.
    #[error("point ({lat}, {lon}) microdegrees is off the globe (latitude within ±90°, longitude within ±180°)")]
    OffTheGlobe {
        /// Latitude given.
        lat: i64,
        /// Longitude given.
        lon: i64,
    },
    /// Not `LAT,LON` in decimal degrees.
    #[error("'{text}' is not a place: write latitude,longitude in decimal degrees, e.g. 51.0585,3.7130 ({why})")]
    Malformed {
        /// What was given.
        text: String,
        /// What is wrong.
        why: &'static str,
    },
}

impl GeoPoint {
    /// A point, checked to lie on the globe.
    pub fn new(lat: i32, lon: i32) -> Result<GeoPoint, GeoError> {
        // unsigned_abs: i32::MIN has no positive i32, and a decoded point may hold it.
        if lat.unsigned_abs() > MAX_LATITUDE_MICRO as u32
            || lon.unsigned_abs() > MAX_LONGITUDE_MICRO as u32
        {
            return Err(GeoError::OffTheGlobe {
                lat: i64::from(lat),
                lon: i64::from(lon),
            });
        }
        Ok(GeoPoint { lat, lon })
    }

    /// Whether the point lies on the globe (a decoded point may not).
    pub fn is_on_globe(&self) -> bool {
        GeoPoint::new(self.lat, self.lon).is_ok()
    }

    /// Reads `LAT,LON` in decimal degrees with at most six decimals, exactly.
    pub fn parse_degrees(text: &str) -> Result<GeoPoint, GeoError> {
        let malformed = |why| GeoError::Malformed {
            text: text.to_string(),
            why,
        };
        let (lat, lon) = text
            .split_once(',')
            .ok_or_else(|| malformed("no comma between latitude and longitude"))?;
        let lat = parse_microdegrees(lat.trim()).ok_or_else(|| malformed("bad latitude"))?;
        let lon = parse_microdegrees(lon.trim()).ok_or_else(|| malformed("bad longitude"))?;
        let (Ok(lat32), Ok(lon32)) = (i32::try_from(lat), i32::try_from(lon)) else {
            return Err(GeoError::OffTheGlobe { lat, lon });
        };
        GeoPoint::new(lat32, lon32)
    }
}

/// Decimal degrees (`-3.7`, `51.058512`) as microdegrees; `None` if malformed or with more
/// than six decimals.
fn parse_microdegrees(text: &str) -> Option<i64> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty()
        || whole.len() > 3
        || fraction.len() > 6
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = if fraction.is_empty() {
        0
    } else {
        let scale = 10i64.pow(6 - fraction.len() as u32);
        fraction.parse::<i64>().ok()? * scale
    };
    let micro = whole * i64::from(MICRODEGREES_PER_DEGREE) + fraction;
    Some(if negative { -micro } else { micro })
}

fn degrees(micro: i32) -> String {
    let sign = if micro < 0 { "-" } else { "" };
    let abs = micro.unsigned_abs();
    format!(
        "{sign}{}.{:06}",
        abs / MICRODEGREES_PER_DEGREE as u32,
        abs % MICRODEGREES_PER_DEGREE as u32
    )
}

impl core::fmt::Display for GeoPoint {
    /// Decimal degrees, `51.058500,3.713000`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{},{}", degrees(self.lat), degrees(self.lon))
    }
}

impl TryFrom<(i32, i32)> for GeoPoint {
    type Error = GeoError;
    fn try_from((lat, lon): (i32, i32)) -> Result<Self, GeoError> {
        GeoPoint::new(lat, lon)
    }
}

impl From<GeoPoint> for (i32, i32) {
    fn from(point: GeoPoint) -> (i32, i32) {
        (point.lat, point.lon)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimal_degrees_read_exactly() {
        assert_eq!(
            GeoPoint::parse_degrees("51.0585,3.7130"),
            Ok(GeoPoint {
                lat: 51_058_500,
                lon: 3_713_000
            })
        );
        assert_eq!(
            GeoPoint::parse_degrees(" -33.9 , -70.123456 "),
            Ok(GeoPoint {
                lat: -33_900_000,
                lon: -70_123_456
            })
        );
        assert!(GeoPoint::parse_degrees("51.0585").is_err());
        assert!(GeoPoint::parse_degrees("51.1234567,3").is_err());
        assert!(GeoPoint::parse_degrees("91,3").is_err());
        assert!(GeoPoint::parse_degrees("1e3,3").is_err());
        assert!(GeoPoint::parse_degrees("abc,3").is_err());
    }

    #[test]
    fn json_is_microdegrees_and_refuses_points_off_the_globe() {
        let point = GeoPoint::new(51_058_500, 3_713_000).unwrap();
        assert_eq!(serde_json::to_string(&point).unwrap(), "[51058500,3713000]");
        assert_eq!(
            serde_json::from_str::<GeoPoint>("[51058500,3713000]").unwrap(),
            point
        );
        assert!(serde_json::from_str::<GeoPoint>("[95000000,0]").is_err());
        // The most negative i32 is off the globe, not an overflow.
        assert!(GeoPoint::new(i32::MIN, 0).is_err());
        assert!(!GeoPoint {
            lat: 0,
            lon: i32::MIN
        }
        .is_on_globe());
    }

    proptest! {
        #[test]
        fn display_reads_back(lat in -MAX_LATITUDE_MICRO..=MAX_LATITUDE_MICRO,
                              lon in -MAX_LONGITUDE_MICRO..=MAX_LONGITUDE_MICRO) {
            let point = GeoPoint::new(lat, lon).unwrap();
            prop_assert_eq!(GeoPoint::parse_degrees(&point.to_string()), Ok(point));
        }
    }
}
