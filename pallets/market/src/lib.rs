//! The market pallet: the wijk's offers and requests (*vraag en aanbod*) of goods, services
//! and work, and the deals made on them, paid through escrow.
//!
//! Rules:
//! - **Listings.** A member (or their guardian, for them) posts an *offer* (something they
//!   sell) or a *request* (something they want done), with a title, a category, a price in
//!   coins, fixed or per hour, an optional location, the hash of an off-chain description,
//!   and an expiry at most `maxListingBlocks` ahead. An intermediary may post an offer for a
//!   *team* (say job-seekers the wijk cooperative brought together for tasks in the wijk):
//!   the team's members are paid, in equal shares. A member has at most `maxOpenListings`
//!   open listings. An offer stays open after a deal (a service is sold again); a request is
//!   taken by the first who accepts it.
//! - **Escrow.** Accepting an offer puts its price (times the hours, for a price per hour)
//!   into escrow on the buyer's account: the buyer's earmarked coins the seller may take
//!   first (a single seller who is a merchant whose place the earmark allows), then free
//!   coins ([`wijk_support::Currency::reserve_for_payment`]). A request's price is put into
//!   escrow when it is posted (from free coins), so whoever accepts it knows the money is
//!   there; it returns when the request is withdrawn or expires untaken.
//! - **A deal** runs: accepted, optionally *started* by the seller, then *completed* by the
//!   buyer, which pays the sellers from escrow. The buyer may cancel before the start, a
//!   seller (or the intermediary who organised the team) at any time before completion:
//!   the buyer is refunded. A deal not started within `startWithinBlocks`, or not completed
//!   within `completeWithinBlocks` of its acceptance, **times out** and is refunded, unless
//!   a party disputed it first: a seller whose buyer goes silent disputes in time.
//! - **Disputes.** A party (the buyer, a seller, the organising intermediary) disputes an
//!   open deal with a reason; then an intermediary who is no party to it and guardian of no
//!   party, or the board, *resolves* it: splits the escrow between sellers and buyer, with a
//!   reason. The sellers' part is taken from the earmarked coins first (they were meant
//!   for the seller), the rest returns to the buyer as it came.
//! - **Refunds** return escrow as it came: free coins free, earmarked coins under their
//!   earmark (to the funder, if the buyer could not hold it again), to the buyer's key now.
//! - **Bounded work**: listings and deadlines are queued by height and processed by the
//!   end-of-block hook, at most [`MAX_EXPIRIES_PER_BLOCK`] of each a block; the rest wait.
//! - **Money** moves only through [`wijk_support::Currency`]; no coin is created or
//!   destroyed here, and [`ESCROW_TOTAL`] is always the sum of the open deals' and open
//!   requests' escrow (a property test holds both over random histories).
//!
//! Owns: every key under `market/`.
//! Must never: mint or burn, read another pallet's storage, pay a seller twice, or let a
//! coin in escrow leave except to a seller of its deal or back to its buyer (or, for an
//! earmarked coin the buyer cannot hold again, its funder).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![allow(clippy::result_large_err)]

mod deals;
mod listings;

pub use deals::split_equally;

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::json::euro;
use wijk_primitives::{format_cents, AccountId, Cents, GeoPoint, Hash, Height};
use wijk_support::{
    check, BadOrigin, CallContext, Collective, Cost, CurrencyError, DispatchResult, Escrowed,
    Involves, MembershipError, Origin, StateError, StateOverlay, StateRead, StorageLog, StorageMap,
    StorageValue,
};

/// A listing's number (the order it was posted, from 0).
pub type ListingId = u64;
/// A deal's number (the order it was made, from 0).
pub type DealId = u64;

/// The rules in force.
pub const RULES: StorageValue<Rules> = StorageValue::new(b"market/rules");
/// Every listing, in the order posted.
pub const LISTINGS: StorageLog<Listing> =
    StorageLog::new(b"market/listing/", b"market/listing_count");
/// Open listings by kind: `(kind, listing)`.
pub const OPEN_LISTINGS: StorageMap<(u8, ListingId), ()> = StorageMap::new(b"market/open/");
/// How many open listings each member has.
pub const OPEN_COUNT: StorageMap<AccountId, u32> = StorageMap::new(b"market/open_count/");
/// Open listings by the height they expire, for the end-of-block hook.
pub const LISTING_EXPIRY: StorageMap<(Height, ListingId), ()> =
    StorageMap::new(b"market/listing_expiry/");
/// Every deal, in the order made.
pub const DEALS: StorageLog<Deal> = StorageLog::new(b"market/deal/", b"market/deal_count");
/// Each party's deals: `(party, deal)`.
pub const DEALS_OF: StorageMap<(AccountId, DealId), ()> = StorageMap::new(b"market/deals_of/");
/// Open deals by the height their current deadline passes, for the end-of-block hook.
pub const DEAL_DEADLINES: StorageMap<(Height, DealId), ()> =
    StorageMap::new(b"market/deal_deadline/");
/// Coins in escrow: every open deal's and every open request's.
pub const ESCROW_TOTAL: StorageValue<Cents> = StorageValue::new(b"market/escrow_total");

/// Most members in a team.
pub const MAX_TEAM: usize = 8;
/// Longest title, in bytes.
pub const MAX_TITLE_BYTES: usize = 96;
/// Longest reason for a dispute or a resolution, in bytes.
pub const MAX_REASON_BYTES: usize = 256;
/// Most hours in one deal or request.
pub const MAX_HOURS: u32 = 1_000;
/// Most expired listings and most passed deadlines the hook handles in one block (each).
pub const MAX_EXPIRIES_PER_BLOCK: usize = 32;
/// A day of one-second blocks.
pub const DAY_OF_BLOCKS: Height = 86_400;

/// What calls cost, measured by `scripts/bench-import --calibrate`.
pub mod costs {
    use super::*;
    /// Posting or withdrawing a listing: the listing, its indexes, the member's count, a
    /// request's reserve.
    pub const LIST: Cost = Cost::micros(30);
    /// Accepting: the listing, the escrow (the buyer's earmarks read against the seller's
    /// place), the deal and its indexes.
    pub const ACCEPT: Cost = Cost::micros(50);
    /// Completing, cancelling or resolving: the deal, and a payment or refund to each of up
    /// to [`MAX_TEAM`] sellers.
    pub const SETTLE: Cost = Cost::micros(20).plus(Cost::micros(6).times(MAX_TEAM as u64));
    /// Starting, disputing, a rules change.
    pub const MANAGE: Cost = Cost::micros(15);
    /// One expired listing or passed deadline in the hook (a refund at most).
    pub const EXPIRE: Cost = Cost::micros(25);
}

/// The market's rules, from the chain spec (changed by vote).
#[derive(
    Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Rules {
    /// Most open listings per member (default 16).
    pub max_open_listings: u32,
    /// Longest a listing stays open, in blocks (default 90 days of one-second blocks).
    pub max_listing_blocks: Height,
    /// Blocks after acceptance within which the seller must start (default 7 days).
    pub start_within_blocks: Height,
    /// Blocks after acceptance within which the buyer must confirm (default 30 days).
    pub complete_within_blocks: Height,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            max_open_listings: 16,
            max_listing_blocks: 90 * DAY_OF_BLOCKS,
            start_within_blocks: 7 * DAY_OF_BLOCKS,
            complete_within_blocks: 30 * DAY_OF_BLOCKS,
        }
    }
}

impl Rules {
    fn check(&self) -> Result<(), Error> {
        if self.max_open_listings == 0
            || self.max_listing_blocks == 0
            || self.start_within_blocks == 0
            || self.complete_within_blocks < self.start_within_blocks
        {
            return Err(Error::BadRules {
                why: "open listings, listing and start periods must each be at least 1, and the completion period at least the start period".into(),
            });
        }
        Ok(())
    }
}

/// An offer or a request.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Encode,
    Decode,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum ListingKind {
    /// Something the lister sells (goods, a service, work).
    #[codec(index = 0)]
    Offer,
    /// Something the lister wants and pays for.
    #[codec(index = 1)]
    Request,
}

impl ListingKind {
    /// Its byte in [`OPEN_LISTINGS`].
    pub fn tag(self) -> u8 {
        match self {
            ListingKind::Offer => 0,
            ListingKind::Request => 1,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            ListingKind::Offer => "offer",
            ListingKind::Request => "request",
        }
    }
}

/// A price: fixed, or per hour.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Price {
    /// Coins (cents in SCALE, euros in JSON).
    #[serde(with = "euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub amount: Cents,
    /// Whether it is per hour.
    #[serde(default)]
    pub per_hour: bool,
}

impl core::fmt::Display for Price {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", format_cents(self.amount))?;
        if self.per_hour {
            f.write_str(" per hour")?;
        }
        Ok(())
    }
}

/// A listing.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Listing {
    /// Offer or request.
    pub kind: ListingKind,
    /// The member it is for: the seller of an offer (or the intermediary organising a
    /// team), the buyer of a request.
    pub owner: AccountId,
    /// The guardian who posted it for the owner, if not they.
    pub posted_by: Option<AccountId>,
    /// For an offer by a team: who does the work and is paid (empty: the owner).
    pub team: Vec<AccountId>,
    /// What it is.
    pub title: String,
    /// Its category ("food", "repairs", "gardening").
    pub category: String,
    /// Its price.
    pub price: Price,
    /// A request's hours at a price per hour (1 for a fixed price; offers: 0, the buyer
    /// says how many).
    pub hours: u32,
    /// Where, if it has a place.
    pub location: Option<GeoPoint>,
    /// Hash of the off-chain description.
    pub text_hash: Hash,
    /// When it was posted.
    pub posted_at: Height,
    /// The height from which it is closed.
    pub expires_at: Height,
    /// A request's escrow (what its acceptor will be paid from).
    pub escrow: Escrowed,
    /// Where it stands.
    pub status: ListingStatus,
    /// Deals made on it.
    pub deals: u32,
}

impl Listing {
    /// Who does the work and is paid on an offer.
    pub fn sellers(&self) -> Vec<AccountId> {
        if self.team.is_empty() {
            vec![self.owner]
        } else {
            self.team.clone()
        }
    }
}

/// Where a listing stands.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum ListingStatus {
    /// Open for deals.
    #[codec(index = 0)]
    Open,
    /// Taken back by its owner.
    #[codec(index = 1)]
    Withdrawn {
        /// When.
        at: Height,
    },
    /// Past its expiry.
    #[codec(index = 2)]
    Expired {
        /// When the hook closed it.
        at: Height,
    },
    /// A request someone accepted.
    #[codec(index = 3)]
    Taken {
        /// The deal.
        deal: DealId,
    },
}

impl ListingStatus {
    /// Its name as JSON and the CLI write it.
    pub fn name(&self) -> &'static str {
        match self {
            ListingStatus::Open => "open",
            ListingStatus::Withdrawn { .. } => "withdrawn",
            ListingStatus::Expired { .. } => "expired",
            ListingStatus::Taken { .. } => "taken",
        }
    }
}

/// A deal: a listing accepted, its price in escrow.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Deal {
    /// The listing.
    pub listing: ListingId,
    /// Its kind.
    pub kind: ListingKind,
    /// Its category (for the wijk's statistics).
    pub category: String,
    /// Who pays.
    pub buyer: AccountId,
    /// Who does the work and is paid, in equal shares.
    pub sellers: Vec<AccountId>,
    /// The intermediary who organised the team, if one did.
    pub organiser: Option<AccountId>,
    /// Hours bought (1 for a fixed price).
    pub hours: u32,
    /// The price times the hours: what is in escrow.
    pub amount: Cents,
    /// Where the escrow came from (the buyer's earmarked and free coins).
    pub escrow: Escrowed,
    /// When it was made.
    pub accepted_at: Height,
    /// By when the seller must start.
    pub start_by: Height,
    /// By when the buyer must confirm.
    pub complete_by: Height,
    /// Where it stands.
    pub status: DealStatus,
}

impl Deal {
    /// Whether `who` is the buyer, a seller or the organiser.
    pub fn is_party(&self, who: &AccountId) -> bool {
        self.buyer == *who || self.sellers.contains(who) || self.organiser.as_ref() == Some(who)
    }

    /// Whether `who` may act for the sellers (a seller, or the organiser).
    pub fn is_seller_side(&self, who: &AccountId) -> bool {
        self.sellers.contains(who) || self.organiser.as_ref() == Some(who)
    }

    /// The deadline in force for an open deal.
    pub fn deadline(&self) -> Option<Height> {
        match self.status {
            DealStatus::Accepted => Some(self.start_by),
            DealStatus::Started { .. } => Some(self.complete_by),
            _ => None,
        }
    }
}

/// Where a deal stands.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum DealStatus {
    /// In escrow, not yet started.
    #[codec(index = 0)]
    Accepted,
    /// The seller started.
    #[codec(index = 1)]
    Started {
        /// When.
        at: Height,
    },
    /// A party disputes it; an intermediary or the board resolves it.
    #[codec(index = 2)]
    Disputed {
        /// Who disputed.
        by: AccountId,
        /// Why.
        reason: String,
        /// When.
        at: Height,
    },
    /// The buyer confirmed; the sellers were paid.
    #[codec(index = 3)]
    Completed {
        /// When.
        at: Height,
    },
    /// Cancelled and refunded.
    #[codec(index = 4)]
    Cancelled {
        /// Who cancelled.
        by: AccountId,
        /// When.
        at: Height,
    },
    /// Not started or not completed in time, and refunded.
    #[codec(index = 5)]
    TimedOut {
        /// When.
        at: Height,
    },
    /// Split by an intermediary or the board.
    #[codec(index = 6)]
    Resolved {
        /// The intermediary (none: the board).
        by: Option<AccountId>,
        /// Paid to the sellers.
        to_sellers: Cents,
        /// Returned to the buyer.
        to_buyer: Cents,
        /// Why.
        reason: String,
        /// When.
        at: Height,
    },
}

impl DealStatus {
    /// Its name as JSON and the CLI write it.
    pub fn name(&self) -> &'static str {
        match self {
            DealStatus::Accepted => "accepted",
            DealStatus::Started { .. } => "started",
            DealStatus::Disputed { .. } => "disputed",
            DealStatus::Completed { .. } => "completed",
            DealStatus::Cancelled { .. } => "cancelled",
            DealStatus::TimedOut { .. } => "timedOut",
            DealStatus::Resolved { .. } => "resolved",
        }
    }

    /// Whether its escrow is still held.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            DealStatus::Accepted | DealStatus::Started { .. } | DealStatus::Disputed { .. }
        )
    }
}

/// The calls of this pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// A member (or their guardian) posts an offer or a request; an intermediary may post
    /// an offer for a team.
    #[codec(index = 0)]
    Post {
        /// Offer or request.
        kind: ListingKind,
        /// What it is.
        title: String,
        /// Its category.
        category: String,
        /// Its price.
        price: Price,
        /// For a request at a price per hour: the hours wanted (else left out).
        hours: Option<u32>,
        /// Where, if it has a place.
        location: Option<GeoPoint>,
        /// The height from which it is closed.
        expires_at: Height,
        /// Hash of the off-chain description.
        text_hash: Hash,
        /// For an offer by a team: its members (the signer must be an intermediary).
        team: Vec<AccountId>,
    },
    /// The owner (or their guardian) takes an open listing back; a request's escrow returns.
    #[codec(index = 1)]
    Withdraw {
        /// The listing.
        listing: ListingId,
    },
    /// Accepts an open listing: a buyer accepts an offer (its price into escrow), a seller a
    /// request (an intermediary may accept one for a team).
    #[codec(index = 2)]
    Accept {
        /// The listing.
        listing: ListingId,
        /// For an offer at a price per hour: the hours bought (else left out).
        hours: Option<u32>,
        /// For a request taken by a team: its members (the signer must be an intermediary).
        team: Vec<AccountId>,
    },
    /// A seller (or the organiser) marks the work started: the buyer can no longer cancel.
    #[codec(index = 3)]
    Start {
        /// The deal.
        deal: DealId,
    },
    /// The buyer (or their guardian) confirms the work is done: the sellers are paid.
    #[codec(index = 4)]
    Complete {
        /// The deal.
        deal: DealId,
    },
    /// Cancels an open, undisputed deal and refunds the buyer: the buyer before the start,
    /// a seller or the organiser at any time.
    #[codec(index = 5)]
    Cancel {
        /// The deal.
        deal: DealId,
    },
    /// A party disputes an open deal; its deadlines stop until it is resolved.
    #[codec(index = 6)]
    Dispute {
        /// The deal.
        deal: DealId,
        /// Why, for whoever resolves it.
        reason: String,
    },
    /// An intermediary who is no party (nor a party's guardian), or the board, splits a
    /// disputed deal's escrow.
    #[codec(index = 7)]
    Resolve {
        /// The deal.
        deal: DealId,
        /// Paid to the sellers, the rest returned to the buyer (cents in SCALE, euros in
        /// JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        to_sellers: Cents,
        /// Why, as both parties read it.
        reason: String,
    },
    /// By vote only: sets the market's rules (for listings posted and deals made from now).
    #[codec(index = 8)]
    SetRules {
        /// The rules.
        rules: Rules,
    },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum Event {
    /// A listing was posted.
    #[codec(index = 0)]
    Posted {
        /// Its number.
        listing: ListingId,
        /// Offer or request.
        kind: ListingKind,
        /// For whom.
        owner: AccountId,
        /// What it is.
        title: String,
        /// Its category.
        category: String,
        /// Its price.
        price: Price,
    },
    /// A listing was taken back.
    #[codec(index = 1)]
    Withdrawn {
        /// The listing.
        listing: ListingId,
        /// Its owner.
        owner: AccountId,
    },
    /// A listing passed its expiry.
    #[codec(index = 2)]
    ListingExpired {
        /// The listing.
        listing: ListingId,
        /// Its owner.
        owner: AccountId,
    },
    /// A listing was accepted: a deal, its price in escrow.
    #[codec(index = 3)]
    Accepted {
        /// The deal.
        deal: DealId,
        /// The listing.
        listing: ListingId,
        /// Who pays.
        buyer: AccountId,
        /// Who is paid.
        sellers: Vec<AccountId>,
        /// In escrow.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// Of which earmarked coins.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        earmarked: Cents,
    },
    /// The seller started.
    #[codec(index = 4)]
    Started {
        /// The deal.
        deal: DealId,
        /// Who marked it.
        by: AccountId,
    },
    /// The buyer confirmed; the sellers were paid.
    #[codec(index = 5)]
    Completed {
        /// The deal.
        deal: DealId,
        /// Who paid.
        buyer: AccountId,
        /// Who was paid (their keys now), in equal shares.
        sellers: Vec<AccountId>,
        /// Paid in all.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// The listing's category.
        category: String,
    },
    /// A deal was cancelled and the buyer refunded.
    #[codec(index = 6)]
    Cancelled {
        /// The deal.
        deal: DealId,
        /// Who cancelled.
        by: AccountId,
        /// Refunded.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// A deal was not started or completed in time, and the buyer was refunded.
    #[codec(index = 7)]
    TimedOut {
        /// The deal.
        deal: DealId,
        /// What was late: "start" or "completion".
        late: String,
        /// Refunded.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
    },
    /// A party disputed a deal.
    #[codec(index = 8)]
    Disputed {
        /// The deal.
        deal: DealId,
        /// Who.
        by: AccountId,
        /// Why.
        reason: String,
    },
    /// A disputed deal was split.
    #[codec(index = 9)]
    Resolved {
        /// The deal.
        deal: DealId,
        /// The intermediary (none: the board).
        by: Option<AccountId>,
        /// Paid to the sellers.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        to_sellers: Cents,
        /// Returned to the buyer.
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        to_buyer: Cents,
        /// The listing's category.
        category: String,
        /// Why.
        reason: String,
    },
    /// The market's rules changed.
    #[codec(index = 10)]
    RulesSet {
        /// The rules now.
        rules: Rules,
    },
}

impl Involves for Event {
    fn involved_accounts(&self, accounts: &mut Vec<AccountId>) {
        match self {
            Event::Posted { owner, .. }
            | Event::Withdrawn { owner, .. }
            | Event::ListingExpired { owner, .. } => accounts.push(*owner),
            Event::Accepted { buyer, sellers, .. } | Event::Completed { buyer, sellers, .. } => {
                accounts.push(*buyer);
                accounts.extend(sellers.iter().copied());
            }
            Event::Started { by, .. }
            | Event::Cancelled { by, .. }
            | Event::Disputed { by, .. } => accounts.push(*by),
            Event::Resolved { by, .. } => accounts.extend(*by),
            Event::TimedOut { .. } | Event::RulesSet { .. } => {}
        }
    }
}

/// Why a market call failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// The call came from an origin that may not make it.
    #[error(transparent)]
    #[codec(index = 0)]
    BadOrigin(#[from] BadOrigin),
    /// The caller is no active member, or lacks a role the call needs.
    #[error(transparent)]
    #[codec(index = 1)]
    Membership(#[from] MembershipError),
    /// Moving coins failed.
    #[error(transparent)]
    #[codec(index = 2)]
    Currency(#[from] CurrencyError),
    /// A listing's title, category, price, hours, place, expiry or team is malformed.
    #[error("listing refused: {why}")]
    #[codec(index = 3)]
    BadListing {
        /// What is wrong.
        why: String,
    },
    /// The member has as many open listings as they may.
    #[error("{owner:?} has {max} open listings, the most a member may; withdraw one first")]
    #[codec(index = 4)]
    TooManyListings {
        /// The member.
        owner: AccountId,
        /// The limit.
        max: u32,
    },
    /// No such listing.
    #[error("there is no listing {listing}")]
    #[codec(index = 5)]
    NoSuchListing {
        /// The number given.
        listing: ListingId,
    },
    /// The listing is not open.
    #[error("listing {listing} is {status}; only an open listing can be accepted or withdrawn")]
    #[codec(index = 6)]
    ListingClosed {
        /// The listing.
        listing: ListingId,
        /// Where it stands.
        status: String,
    },
    /// The listing's expiry has passed (the hook closes it shortly).
    #[error("listing {listing} expired at block {expires_at}")]
    #[codec(index = 7)]
    ListingExpired {
        /// The listing.
        listing: ListingId,
        /// Its expiry.
        expires_at: Height,
    },
    /// Nobody deals with themselves (their own listing, or their own team's).
    #[error("{who:?} is on both sides of listing {listing}")]
    #[codec(index = 8)]
    OwnListing {
        /// The listing.
        listing: ListingId,
        /// Who.
        who: AccountId,
    },
    /// Hours were needed and not given, or given and not wanted, or out of range.
    #[error("hours refused: {why}")]
    #[codec(index = 9)]
    BadHours {
        /// What is wrong.
        why: String,
    },
    /// Only the listing's owner (or their guardian, or the poster) takes it back.
    #[error("listing {listing} is not {signer:?}'s")]
    #[codec(index = 10)]
    NotOwner {
        /// The listing.
        listing: ListingId,
        /// Who signed.
        signer: AccountId,
    },
    /// No such deal.
    #[error("there is no deal {deal}")]
    #[codec(index = 11)]
    NoSuchDeal {
        /// The number given.
        deal: DealId,
    },
    /// The deal is not in the state the call needs.
    #[error("deal {deal} is {status}; this needs a deal that is {needed}")]
    #[codec(index = 12)]
    WrongStatus {
        /// The deal.
        deal: DealId,
        /// Where it stands.
        status: String,
        /// Where it must stand.
        needed: String,
    },
    /// The signer has no part in the deal, or not the part this call needs.
    #[error("{signer:?} is not {needed} of deal {deal}")]
    #[codec(index = 13)]
    NotParty {
        /// The deal.
        deal: DealId,
        /// Who signed (or whom their guardian acts for).
        signer: AccountId,
        /// The part needed ("the buyer", "a seller or the organiser", "a party").
        needed: String,
    },
    /// The intermediary resolving a dispute has a stake in it.
    #[error("{resolver:?} is a party to deal {deal} or guardian of one; another intermediary, or the board, must resolve it")]
    #[codec(index = 14)]
    ResolverHasStake {
        /// The deal.
        deal: DealId,
        /// Who tried.
        resolver: AccountId,
    },
    /// More is split than the escrow holds.
    #[error("deal {deal} holds {} in escrow; {} cannot go to the sellers", format_cents(*escrow), format_cents(*asked))]
    #[codec(index = 15)]
    OverEscrow {
        /// The deal.
        deal: DealId,
        /// In escrow.
        escrow: Cents,
        /// Asked.
        asked: Cents,
    },
    /// A dispute or resolution needs a reason.
    #[error("a reason of 1 to {max} bytes is needed")]
    #[codec(index = 16)]
    BadReason {
        /// The limit.
        max: u32,
    },
    /// The market's rules are inconsistent.
    #[error("market rules refused: {why}")]
    #[codec(index = 17)]
    BadRules {
        /// What is wrong.
        why: String,
    },
    /// An amount would overflow.
    #[error("the amount overflows")]
    #[codec(index = 18)]
    Overflow,
}

/// The market pallet's section of a chain spec's genesis.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Genesis {
    /// The rules.
    pub rules: Rules,
}

/// The rules in force.
pub fn rules(state: &dyn StateRead) -> Result<Rules, StateError> {
    Ok(RULES.get(state)?.unwrap_or_default())
}

/// Listing `id`, if posted.
pub fn listing(state: &dyn StateRead, id: ListingId) -> Result<Option<Listing>, StateError> {
    LISTINGS.get(state, id)
}

/// How many listings were ever posted.
pub fn listing_count(state: &dyn StateRead) -> Result<u64, StateError> {
    LISTINGS.len(state)
}

/// Open listings of `kind` after `after`, up to `limit`, oldest first.
pub fn open_listings(
    state: &dyn StateRead,
    kind: ListingKind,
    after: Option<ListingId>,
    limit: usize,
) -> Result<Vec<ListingId>, StateError> {
    let entries: Vec<((u8, ListingId), ())> = match after {
        Some(after) => {
            OPEN_LISTINGS
                .page(state, Some(&(kind.tag(), after)), limit)?
                .entries
        }
        None => OPEN_LISTINGS.page_under(state, &kind.tag(), limit)?,
    };
    Ok(entries
        .into_iter()
        .take_while(|((tag, _), ())| *tag == kind.tag())
        .map(|((_, id), ())| id)
        .collect())
}

/// Deal `id`, if made.
pub fn deal(state: &dyn StateRead, id: DealId) -> Result<Option<Deal>, StateError> {
    DEALS.get(state, id)
}

/// How many deals were ever made.
pub fn deal_count(state: &dyn StateRead) -> Result<u64, StateError> {
    DEALS.len(state)
}

/// The deals `party` has a part in, oldest first, up to `limit`.
pub fn deals_of(
    state: &dyn StateRead,
    party: &AccountId,
    limit: usize,
) -> Result<Vec<DealId>, StateError> {
    Ok(DEALS_OF
        .page_under(state, party, limit)?
        .into_iter()
        .map(|((_, deal), ())| deal)
        .collect())
}

/// Coins in escrow now (open deals and open requests).
pub fn escrow_total(state: &dyn StateRead) -> Result<Cents, StateError> {
    Ok(ESCROW_TOTAL.get(state)?.unwrap_or(0))
}

fn add_escrow(
    state: &mut StateOverlay<'_>,
    amount: Cents,
) -> Result<Result<(), Error>, StateError> {
    let Some(total) = escrow_total(&*state)?.checked_add(amount) else {
        return Ok(Err(Error::Overflow));
    };
    ESCROW_TOTAL.put(state, &total);
    Ok(Ok(()))
}

fn sub_escrow(state: &mut StateOverlay<'_>, amount: Cents) -> Result<(), StateError> {
    let total = escrow_total(&*state)?;
    let Some(left) = total.checked_sub(amount) else {
        return Err(StateError::Corrupt {
            key_hex: "market/escrow_total".into(),
            reason: format!("{amount} cents leave an escrow total of {total}"),
        });
    };
    ESCROW_TOTAL.put(state, &left);
    Ok(())
}

fn check_reason(reason: &str) -> Result<(), Error> {
    if reason.trim().is_empty() || reason.len() > MAX_REASON_BYTES {
        Err(Error::BadReason {
            max: MAX_REASON_BYTES as u32,
        })
    } else {
        Ok(())
    }
}

/// The market pallet.
pub struct Pallet;

impl wijk_support::Pallet for Pallet {
    const NAME: &'static str = "market";
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = Genesis;

    const HOOKS_COST: Cost = costs::EXPIRE.times(2 * MAX_EXPIRIES_PER_BLOCK as u64);

    fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
        check!(config.rules.check());
        RULES.put(state, &config.rules);
        Ok(Ok(()))
    }

    fn dispatch(
        ctx: &mut CallContext<'_, '_>,
        origin: &Origin,
        call: &Call,
    ) -> DispatchResult<Error> {
        match call {
            Call::Post {
                kind,
                title,
                category,
                price,
                hours,
                location,
                expires_at,
                text_hash,
                team,
            } => listings::post(
                ctx,
                origin,
                listings::NewListing {
                    kind: *kind,
                    title,
                    category,
                    price: *price,
                    hours: *hours,
                    location: *location,
                    expires_at: *expires_at,
                    text_hash: *text_hash,
                    team,
                },
            ),
            Call::Withdraw { listing } => listings::withdraw(ctx, origin, *listing),
            Call::Accept {
                listing,
                hours,
                team,
            } => deals::accept(ctx, origin, *listing, *hours, team),
            Call::Start { deal } => deals::start(ctx, origin, *deal),
            Call::Complete { deal } => deals::complete(ctx, origin, *deal),
            Call::Cancel { deal } => deals::cancel(ctx, origin, *deal),
            Call::Dispute { deal, reason } => deals::dispute(ctx, origin, *deal, reason),
            Call::Resolve {
                deal,
                to_sellers,
                reason,
            } => deals::resolve(ctx, origin, *deal, *to_sellers, reason),
            Call::SetRules { rules } => {
                check!(ctx.ensure_decided_by(origin, Collective::Members)?);
                check!(rules.check());
                RULES.put(ctx.state, rules);
                ctx.deposit_event(Event::RulesSet {
                    rules: rules.clone(),
                });
                Ok(Ok(()))
            }
        }
    }

    fn cost(call: &Call) -> Cost {
        match call {
            Call::Post { .. } | Call::Withdraw { .. } => costs::LIST,
            Call::Accept { .. } => costs::ACCEPT,
            Call::Complete { .. } | Call::Cancel { .. } | Call::Resolve { .. } => costs::SETTLE,
            Call::Start { .. } | Call::Dispute { .. } | Call::SetRules { .. } => costs::MANAGE,
        }
    }

    fn end_block(ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
        listings::expire_due(ctx)?;
        deals::time_out_due(ctx)
    }
}

#[cfg(test)]
mod tests;
