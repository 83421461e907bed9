//! The market methods' types: `wijk_offers`, `wijk_requests`, `wijk_deal`, `wijk_deals`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use wijk_market::{ListingKind, Price, Rules};
use wijk_primitives::json::{euro, EuroAmount};
use wijk_primitives::{AccountId, Cents, GeoPoint, Hash, Height};

/// `wijk_offers` and `wijk_requests`: open listings of one kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Listings {
    /// Open listings: oldest first, or nearest first when a place was given.
    pub listings: Vec<Listing>,
    /// Ask again with `after` = this to see more (oldest-first pages only).
    pub next: Option<u64>,
    /// The market's rules in force.
    pub rules: Rules,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}

/// A listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Listing {
    /// Its number.
    pub id: u64,
    /// Offer or request.
    pub kind: ListingKind,
    /// For whom: the seller of an offer (or its team's organiser), the buyer of a request.
    pub owner: AccountId,
    /// The guardian who posted it, if not the owner.
    pub posted_by: Option<AccountId>,
    /// An offer's team (who does the work and is paid), if a team's.
    pub team: Vec<AccountId>,
    /// What it is.
    pub title: String,
    /// Its category.
    pub category: String,
    /// Its price.
    pub price: Price,
    /// A request's hours (1 for a fixed price; 0 for an offer: its buyer says).
    pub hours: u32,
    /// A request's escrow: what its acceptor is paid.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub escrow: Cents,
    /// Where, if it has a place.
    pub location: Option<GeoPoint>,
    /// Metres from the place asked about, if both have one.
    pub distance_m: Option<u64>,
    /// Hash of the off-chain description.
    pub text_hash: Hash,
    /// When it was posted.
    pub posted_at: Height,
    /// The height from which it is closed.
    pub expires_at: Height,
    /// `open`, `withdrawn`, `expired` or `taken`.
    pub status: String,
    /// Deals made on it.
    pub deals: u32,
}

/// `wijk_deal`: one deal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deal {
    /// Its number.
    pub id: u64,
    /// The listing it was made on.
    pub listing: u64,
    /// The listing's kind.
    pub kind: ListingKind,
    /// The listing's title.
    pub title: String,
    /// The listing's category.
    pub category: String,
    /// Who pays.
    pub buyer: AccountId,
    /// Who does the work and is paid, in equal shares.
    pub sellers: Vec<AccountId>,
    /// The intermediary who organised the team, if one did.
    pub organiser: Option<AccountId>,
    /// Hours bought (1 for a fixed price).
    pub hours: u32,
    /// In escrow (or, once settled, what was).
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub amount: Cents,
    /// Of which earmarked coins.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub earmarked: Cents,
    /// When it was made.
    pub accepted_at: Height,
    /// By when the seller must start (else it is refunded).
    pub start_by: Height,
    /// By when the buyer must confirm (else it is refunded, unless disputed).
    pub complete_by: Height,
    /// `accepted`, `started`, `disputed`, `completed`, `cancelled`, `timedOut` or `resolved`.
    pub status: String,
    /// When it reached that status (none while accepted).
    pub status_at: Option<Height>,
    /// Who disputed, cancelled or resolved it, if someone did.
    pub by: Option<AccountId>,
    /// A dispute's or resolution's reason.
    pub reason: Option<String>,
    /// A resolution's split: paid to the sellers.
    #[serde(with = "wijk_primitives::json::euro_or_none")]
    #[schemars(with = "Option<EuroAmount>")]
    pub to_sellers: Option<Cents>,
    /// A resolution's split: returned to the buyer.
    #[serde(with = "wijk_primitives::json::euro_or_none")]
    #[schemars(with = "Option<EuroAmount>")]
    pub to_buyer: Option<Cents>,
}

/// `wijk_deals`: the deals one member has a part in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Deals {
    /// Their deals, newest first.
    pub deals: Vec<Deal>,
    /// Coins in escrow on the whole market now.
    #[serde(with = "euro")]
    #[schemars(with = "EuroAmount")]
    pub escrow_total: Cents,
    /// The final block this is read at.
    pub at_block: Option<Height>,
}
