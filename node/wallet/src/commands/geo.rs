//! The geo pallet's subcommands: `wijk merchants [--near LAT,LON --radius-m N --category C]`
//! and `wijk region`.

use crate::{output, Context};

/// `wijk merchants`: merchants with their places, nearest first from `--near`.
pub(crate) async fn merchants(
    context: &Context,
    near: Option<String>,
    radius_m: Option<u64>,
    category: Option<String>,
) -> anyhow::Result<()> {
    anyhow::ensure!(
        radius_m.is_none() || near.is_some(),
        "--radius-m needs --near LAT,LON"
    );
    if let Some(near) = &near {
        // Checked here so a typo gets the wallet's message, not the node's.
        wijk_primitives::GeoPoint::parse_degrees(near)?;
    }
    let client = context.client().await?;
    let merchants = client
        .merchants(category.as_deref(), near.as_deref(), radius_m)
        .await?;
    let prefix = client.chain().address_prefix;
    wijk_primitives::json::with_address_prefix(prefix, || {
        output::show(context.json(), &merchants, |merchants| {
            if merchants.is_empty() {
                return "no merchants found".into();
            }
            merchants
                .iter()
                .map(|merchant| {
                    format!(
                        "{:?}  {}  at {}{}{}",
                        merchant.address,
                        merchant.place.category,
                        merchant.place.degrees,
                        merchant
                            .distance_m
                            .map(|metres| format!("  {metres} m away"))
                            .unwrap_or_default(),
                        if merchant.place.inside_region {
                            ""
                        } else {
                            "  (outside the region)"
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
    })
}

/// `wijk region`: the wijk's borders and whether the coin is local-only.
pub(crate) async fn region(context: &Context) -> anyhow::Result<()> {
    let region = context.client().await?.region().await?;
    output::show(context.json(), &region, |region| {
        if region.borderless {
            return "borderless: the chain spec gives no region".into();
        }
        let corners: usize = region.polygons.iter().map(Vec::len).sum();
        format!(
            "{}: {} polygon(s), {corners} corners; the coin is {}",
            region.name,
            region.polygons.len(),
            if region.local_only {
                "local-only (payments stay in the wijk)"
            } else {
                "not local-only (earmarks may still keep coins local)"
            }
        )
    })
}
