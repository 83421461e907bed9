//! The market pallet's subcommands: `wijk offer|request|offers|requests|unlist|accept|start|
//! complete|cancel|dispute|resolve|deal|deals`.

use crate::keys::load_key;
use crate::{output, Context};
use anyhow::Context as _;
use clap::{Args, Subcommand};
use wijk_client::types::market as types;
use wijk_client::Client;
use wijk_market::{Call, ListingKind, Price};
use wijk_primitives::{format_cents, parse_cents, GeoPoint, Hash, Height};
use wijk_runtime::RuntimeCall;

#[derive(Debug, Subcommand)]
pub(crate) enum MarketCommand {
    /// Offer goods, a service or work for sale on the wijk's market.
    Offer(ListingArgs),
    /// Ask for something to be done, at a price you pay: the price goes into escrow now.
    Request(ListingArgs),
    /// Open offers: nearest first with --near, else oldest first.
    Offers(BrowseArgs),
    /// Open requests: nearest first with --near, else oldest first.
    Requests(BrowseArgs),
    /// Take back a listing of yours (a request's escrow returns to you).
    Unlist {
        /// The listing's number.
        listing: u64,
        /// Your secret.
        #[arg(long)]
        from: String,
        /// As a guardian: the member whose listing it is.
        #[arg(long)]
        on_behalf_of: Option<String>,
    },
    /// Accept a listing: buy an offer (its price goes into escrow) or take a request.
    Accept {
        /// The listing's number.
        listing: u64,
        /// For an offer priced per hour: how many hours you buy.
        #[arg(long)]
        hours: Option<u32>,
        /// As an intermediary: take a request for this team (addresses, comma separated).
        #[arg(long, value_delimiter = ',')]
        team: Vec<String>,
        /// Your secret.
        #[arg(long)]
        from: String,
        /// As a guardian: accept for this member.
        #[arg(long)]
        on_behalf_of: Option<String>,
    },
    /// Sellers: mark the work of a deal started (the buyer can then no longer cancel).
    Start(DealArgs),
    /// Buyers: confirm the work is done; the sellers are paid from escrow.
    Complete(DealArgs),
    /// Cancel a deal and refund the buyer (the buyer before the start; the seller until
    /// completion).
    Cancel(DealArgs),
    /// A party disputes a deal; an intermediary or the board then resolves it.
    Dispute {
        /// The deal's number.
        deal: u64,
        /// Why, for whoever resolves it.
        #[arg(long)]
        reason: String,
        /// Your secret.
        #[arg(long)]
        from: String,
        /// As a guardian: for this member.
        #[arg(long)]
        on_behalf_of: Option<String>,
    },
    /// An intermediary without a stake in it, or a board member: split a disputed deal.
    Resolve {
        /// The deal's number.
        deal: u64,
        /// What the sellers get, in euros (the rest returns to the buyer).
        #[arg(long)]
        to_sellers: String,
        /// Why, as both parties read it.
        #[arg(long)]
        reason: String,
        /// Your secret.
        #[arg(long)]
        from: String,
    },
    /// One deal: who, what is in escrow, its deadlines, where it stands.
    Deal {
        /// The deal's number.
        deal: u64,
    },
    /// The deals a member has a part in, newest first.
    Deals {
        /// The member's address.
        member: String,
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

/// What a listing says.
#[derive(Debug, Args)]
pub(crate) struct ListingArgs {
    /// What it is ("Bike repair", "Help moving on Saturday").
    title: String,
    /// Its category (lowercase letters, digits, dashes: repairs, gardening, food, ...).
    #[arg(long)]
    category: String,
    /// The price in euros (coins), e.g. 15 or 12.50.
    #[arg(long)]
    price: String,
    /// The price is per hour.
    #[arg(long)]
    per_hour: bool,
    /// For a request per hour: how many hours.
    #[arg(long)]
    hours: Option<u32>,
    /// Where, LAT,LON in decimal degrees (so "near me" finds it).
    #[arg(long)]
    at: Option<String>,
    /// Days it stays open (at most the market's limit).
    #[arg(long, default_value_t = 30)]
    days: u64,
    /// The full description, a file kept off chain: its blake3 hash goes on chain.
    #[arg(long, conflicts_with = "text_hash")]
    text: Option<std::path::PathBuf>,
    /// Or the description's hash, 0x hex (none: the title says it all).
    #[arg(long)]
    text_hash: Option<String>,
    /// As an intermediary: offer the work of this team (addresses, comma separated); they
    /// are paid in equal shares.
    #[arg(long, value_delimiter = ',')]
    team: Vec<String>,
    /// Your secret.
    #[arg(long)]
    from: String,
    /// As a guardian: post for this member.
    #[arg(long)]
    on_behalf_of: Option<String>,
}

/// How to browse listings.
#[derive(Debug, Args)]
pub(crate) struct BrowseArgs {
    /// LAT,LON in decimal degrees: nearest first.
    #[arg(long)]
    near: Option<String>,
    /// Only this category.
    #[arg(long)]
    category: Option<String>,
    /// Continue after this listing (the `more:` line of the previous page).
    #[arg(long)]
    after: Option<u64>,
    /// How many.
    #[arg(long, default_value_t = 20)]
    limit: usize,
}

/// A deal acted on.
#[derive(Debug, Args)]
pub(crate) struct DealArgs {
    /// The deal's number.
    deal: u64,
    /// Your secret.
    #[arg(long)]
    from: String,
    /// As a guardian: for this member.
    #[arg(long)]
    on_behalf_of: Option<String>,
}

/// The final head's height and the mean block time over up to the last 100 blocks (the
/// genesis, whose time is the spec's, left out; one second while the chain is younger), to
/// turn days into blocks.
async fn height_and_block_ms(client: &Client) -> anyhow::Result<(Height, u64)> {
    let head = client
        .finalized_head()
        .await?
        .context("the node has no final block yet")?;
    let header = client
        .header(&head)
        .await?
        .context("the node does not serve its final header")?;
    let back = header.number.saturating_sub(1).min(100);
    if back == 0 {
        return Ok((header.number, 1_000));
    }
    let earlier = client
        .block_hash(Some(header.number - back))
        .await?
        .context("the node does not serve an earlier block")?;
    let earlier = client
        .header(&earlier)
        .await?
        .context("the node does not serve an earlier header")?;
    let spent = header.timestamp.saturating_sub(earlier.timestamp);
    Ok((header.number, (spent / back).max(1)))
}

fn parse_point(text: &str) -> anyhow::Result<GeoPoint> {
    GeoPoint::parse_degrees(text)
        .map_err(|error| anyhow::anyhow!("`{text}`: {error} (write LAT,LON, e.g. 51.0585,3.7130)"))
}

fn price_text(price: &Price, symbol: &str) -> String {
    let per = if price.per_hour { " an hour" } else { "" };
    format!("{} {symbol}{per}", format_cents(price.amount))
}

fn listing_line(listing: &types::Listing, prefix: u16, symbol: &str) -> String {
    let distance = listing
        .distance_m
        .map(|m| {
            if m >= 1_000 {
                format!(" · {:.1} km away", m as f64 / 1_000.0)
            } else {
                format!(" · {m} m away")
            }
        })
        .unwrap_or_default();
    let team = if listing.team.is_empty() {
        String::new()
    } else {
        format!(" · a team of {}", listing.team.len())
    };
    let escrow = if listing.kind == ListingKind::Request {
        let hours = if listing.price.per_hour {
            format!(" for {} hours", listing.hours)
        } else {
            String::new()
        };
        format!(
            "{hours}, {} {symbol} in escrow",
            format_cents(listing.escrow)
        )
    } else {
        String::new()
    };
    format!(
        "{:>4}  {} — {}{escrow} [{}] by {}{team}{distance} · open until block {}{}",
        listing.id,
        listing.title,
        price_text(&listing.price, symbol),
        listing.category,
        listing.owner.address(prefix),
        listing.expires_at,
        if listing.status == "open" {
            String::new()
        } else {
            format!(" ({})", listing.status)
        },
    )
}

fn deal_text(deal: &types::Deal, prefix: u16, symbol: &str) -> String {
    let sellers: Vec<String> = deal
        .sellers
        .iter()
        .map(|s| s.address(prefix).to_string())
        .collect();
    let earmarked = if deal.earmarked > 0 {
        format!(" ({} of it earmarked)", format_cents(deal.earmarked))
    } else {
        String::new()
    };
    let hours = if deal.hours > 1 {
        format!(", {} hours", deal.hours)
    } else {
        String::new()
    };
    let state = match deal.status.as_str() {
        "accepted" => format!(
            "accepted: the seller starts by block {} (else it is refunded)",
            deal.start_by
        ),
        "started" => format!(
            "started: the buyer confirms by block {} (`wijk complete {}`), else it is refunded unless disputed",
            deal.complete_by, deal.id
        ),
        "disputed" => format!(
            "disputed by {}: {} — an intermediary or the board resolves it",
            deal.by.map(|a| a.address(prefix).to_string()).unwrap_or_default(),
            deal.reason.as_deref().unwrap_or("")
        ),
        "completed" => "completed: the sellers were paid".into(),
        "cancelled" => format!(
            "cancelled by {}: refunded",
            deal.by.map(|a| a.address(prefix).to_string()).unwrap_or_default()
        ),
        "timedOut" => "timed out: refunded".into(),
        "resolved" => format!(
            "resolved by {}: {} to the sellers, {} back to the buyer — {}",
            deal.by
                .map(|a| a.address(prefix).to_string())
                .unwrap_or_else(|| "the board".into()),
            format_cents(deal.to_sellers.unwrap_or(0)),
            format_cents(deal.to_buyer.unwrap_or(0)),
            deal.reason.as_deref().unwrap_or("")
        ),
        other => other.into(),
    };
    format!(
        "deal {}: '{}' (listing {}) — {} {symbol}{earmarked}{hours}\n  buyer {}, seller{} {}\n  {state}",
        deal.id,
        deal.title,
        deal.listing,
        format_cents(deal.amount),
        deal.buyer.address(prefix),
        if sellers.len() > 1 { "s" } else { "" },
        sellers.join(", "),
    )
}

async fn team_of(
    client: &Client,
    team: &[String],
) -> anyhow::Result<Vec<wijk_primitives::AccountId>> {
    team.iter()
        .map(|address| client.parse_address(address).map_err(anyhow::Error::from))
        .collect()
}

async fn post(context: &Context, kind: ListingKind, args: ListingArgs) -> anyhow::Result<()> {
    let client = context.client().await?;
    let amount = parse_cents(&args.price)
        .map_err(|error| anyhow::anyhow!("--price {}: {error}", args.price))?;
    let location = args.at.as_deref().map(parse_point).transpose()?;
    let text_hash = if args.text.is_none() && args.text_hash.is_none() {
        Hash(*blake3::hash(args.title.as_bytes()).as_bytes())
    } else {
        super::hash_of_file_or_hex(args.text.as_deref(), args.text_hash.as_deref(), "text", "")?
    };
    let (height, block_ms) = height_and_block_ms(&client).await?;
    let rules = client.listings(false, None, None, None, 1).await?.rules;
    let wanted = args.days.saturating_mul(86_400_000) / block_ms;
    let blocks = wanted.clamp(1, rules.max_listing_blocks);
    if wanted > rules.max_listing_blocks {
        eprintln!(
            "a listing stays open at most {} blocks (about {} days here): it closes then",
            rules.max_listing_blocks,
            rules.max_listing_blocks * block_ms / 86_400_000
        );
    }
    let call = RuntimeCall::Market(Call::Post {
        kind,
        title: args.title,
        category: args.category,
        price: Price {
            amount,
            per_hour: args.per_hour,
        },
        hours: args.hours,
        location,
        // From the block after the head: the listing lands a block or two later.
        expires_at: height + blocks,
        text_hash,
        team: team_of(&client, &args.team).await?,
    });
    let call = super::coin::as_guardian(context, args.on_behalf_of, call).await?;
    super::submit(context, &load_key(&args.from)?, call, true).await
}

/// The node's client, with the chain's address prefix and coin symbol for display.
async fn connected(context: &Context) -> anyhow::Result<(Client, u16, String)> {
    let client = context.client().await?;
    let (prefix, symbol) = (
        client.chain().address_prefix,
        client.chain().coin_symbol.clone(),
    );
    Ok((client, prefix, symbol))
}

async fn browse(context: &Context, requests: bool, args: BrowseArgs) -> anyhow::Result<()> {
    let (client, prefix, symbol) = connected(context).await?;
    if let Some(near) = &args.near {
        parse_point(near)?;
    }
    let page = client
        .listings(
            requests,
            args.near.as_deref(),
            args.category.as_deref(),
            args.after,
            args.limit,
        )
        .await?;
    output::show(context.json(), &page, |page| {
        let mut lines: Vec<String> = page
            .listings
            .iter()
            .map(|listing| listing_line(listing, prefix, &symbol))
            .collect();
        if lines.is_empty() {
            lines.push(format!(
                "no open {}",
                if requests { "requests" } else { "offers" }
            ));
        }
        if let Some(next) = page.next {
            lines.push(format!("more: --after {next}"));
        }
        lines.join("\n")
    })
}

async fn act(
    context: &Context,
    from: &str,
    on_behalf_of: Option<String>,
    call: Call,
) -> anyhow::Result<()> {
    let call = super::coin::as_guardian(context, on_behalf_of, RuntimeCall::Market(call)).await?;
    super::submit(context, &load_key(from)?, call, true).await
}

pub(crate) async fn run(context: &Context, command: MarketCommand) -> anyhow::Result<()> {
    match command {
        MarketCommand::Offer(args) => post(context, ListingKind::Offer, args).await,
        MarketCommand::Request(args) => post(context, ListingKind::Request, args).await,
        MarketCommand::Offers(args) => browse(context, false, args).await,
        MarketCommand::Requests(args) => browse(context, true, args).await,
        MarketCommand::Unlist {
            listing,
            from,
            on_behalf_of,
        } => act(context, &from, on_behalf_of, Call::Withdraw { listing }).await,
        MarketCommand::Accept {
            listing,
            hours,
            team,
            from,
            on_behalf_of,
        } => {
            let client = context.client().await?;
            let team = team_of(&client, &team).await?;
            act(
                context,
                &from,
                on_behalf_of,
                Call::Accept {
                    listing,
                    hours,
                    team,
                },
            )
            .await
        }
        MarketCommand::Start(args) => {
            act(
                context,
                &args.from,
                args.on_behalf_of,
                Call::Start { deal: args.deal },
            )
            .await
        }
        MarketCommand::Complete(args) => {
            act(
                context,
                &args.from,
                args.on_behalf_of,
                Call::Complete { deal: args.deal },
            )
            .await
        }
        MarketCommand::Cancel(args) => {
            act(
                context,
                &args.from,
                args.on_behalf_of,
                Call::Cancel { deal: args.deal },
            )
            .await
        }
        MarketCommand::Dispute {
            deal,
            reason,
            from,
            on_behalf_of,
        } => act(context, &from, on_behalf_of, Call::Dispute { deal, reason }).await,
        MarketCommand::Resolve {
            deal,
            to_sellers,
            reason,
            from,
        } => {
            let to_sellers = parse_cents(&to_sellers)
                .map_err(|error| anyhow::anyhow!("--to-sellers {to_sellers}: {error}"))?;
            act(
                context,
                &from,
                None,
                Call::Resolve {
                    deal,
                    to_sellers,
                    reason,
                },
            )
            .await
        }
        MarketCommand::Deal { deal } => {
            let (client, prefix, symbol) = connected(context).await?;
            let Some(found) = client.deal(deal).await? else {
                anyhow::bail!("there is no deal {deal}");
            };
            output::show(context.json(), &found, |deal| {
                deal_text(deal, prefix, &symbol)
            })
        }
        MarketCommand::Deals { member, limit } => {
            let (client, prefix, symbol) = connected(context).await?;
            let member = client.parse_address(&member)?;
            let page = client.deals(&member, limit).await?;
            output::show(context.json(), &page, |page| {
                let mut lines: Vec<String> = page
                    .deals
                    .iter()
                    .map(|deal| deal_text(deal, prefix, &symbol))
                    .collect();
                if lines.is_empty() {
                    lines.push("no deals".into());
                }
                lines.push(format!(
                    "the market holds {} {symbol} in escrow",
                    format_cents(page.escrow_total)
                ));
                lines.join("\n")
            })
        }
    }
}
