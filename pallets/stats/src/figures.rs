//! What the statistics count: the [`Fact`]s a block's events state, and the figures of a
//! period they add up to ([`PeriodFigures`], [`ActivityFigures`], [`DealFigures`]).
//!
//! What counts as the wijk's **GDP** (the value produced in the wijk in a period):
//! - payments to merchants for sales (`coin.MerchantPaid`: a transfer to a member with a
//!   registered place, free and earmarked coins together);
//! - activity payouts (`activities.PaidOut`: the valued work of residents, paid from a budget);
//! - settled market deals (`market.Completed`, and what a dispute's resolution paid the
//!   sellers in `market.Resolved`).
//!
//! What does not: transfers between residents and organisations (moving money is not
//! producing), gifts and gift-pool payouts, the fund's spending by vote, minting, redemption,
//! funding a budget, coins going into or out of escrow, refunds.

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::{AccountId, Cents, Height};

/// An activity's number in the catalogue (the activities pallet's `ActivityId`).
pub type ActivityId = u32;

/// A period's number: block `h` is in period `h / period_blocks`.
pub type PeriodId = u32;

/// One thing a block's events state that the statistics count. The runtime reads them off
/// each transaction's and hook's events ([`crate`] docs); an auditor reads the same off the
/// same events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact<'a> {
    /// A member signed a transaction or received a payment.
    Active(AccountId),
    /// A member was registered.
    NewMember,
    /// Coins were minted.
    Minted(Cents),
    /// Coins were burned for a redemption.
    Redeemed(Cents),
    /// Coins moved from one holder to another (for velocity).
    Payment(Cents),
    /// A merchant was paid for a sale (GDP).
    MerchantSale(Cents),
    /// A valued activity was paid for (GDP).
    ActivityPayout {
        /// The activity.
        activity: ActivityId,
        /// Its category.
        category: &'a str,
        /// How many units.
        units: u32,
        /// Paid.
        amount: Cents,
    },
    /// A market deal paid its sellers (GDP).
    DealSettled {
        /// The listing's category.
        category: &'a str,
        /// Paid to the sellers.
        amount: Cents,
    },
    /// Free coins went under an earmark (or came back under one from escrow).
    EarmarkIn(Cents),
    /// Earmarked coins left their earmark (spent, expired, or put into escrow).
    EarmarkOut(Cents),
    /// Coins were set aside (market escrow, a budget's reserve).
    ReserveIn(Cents),
    /// Set-aside coins were released or paid out.
    ReserveOut(Cents),
}

/// Coins by where they are, at the end of a block.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Encode,
    Decode,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Levels {
    /// Coins in existence (free, earmarked and set aside).
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub circulating: Cents,
    /// Of which earmarked.
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub earmarked: Cents,
    /// Of which set aside: in the market's escrow or a budget's reserve.
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub reserved: Cents,
}

/// Why a fact could not be counted: the events said more coins left a level than were in it
/// (a bug in a pallet's events or in the mapping; the block is refused rather than counted
/// wrong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the statistics' {level} would go below zero: {amount} cents leave {held}")]
pub struct LevelUnderflow {
    /// Which level.
    pub level: &'static str,
    /// What left.
    pub amount: Cents,
    /// What it held.
    pub held: Cents,
}

impl Levels {
    /// Applies `fact` to the levels.
    pub fn apply(&mut self, fact: &Fact<'_>) -> Result<(), LevelUnderflow> {
        let sub = |level: &'static str, held: &mut Cents, amount: Cents| {
            *held = held.checked_sub(amount).ok_or(LevelUnderflow {
                level,
                amount,
                held: *held,
            })?;
            Ok(())
        };
        match *fact {
            Fact::Minted(amount) => self.circulating = self.circulating.saturating_add(amount),
            Fact::Redeemed(amount) => sub("circulating coins", &mut self.circulating, amount)?,
            Fact::EarmarkIn(amount) => self.earmarked = self.earmarked.saturating_add(amount),
            Fact::EarmarkOut(amount) => sub("earmarked coins", &mut self.earmarked, amount)?,
            Fact::ReserveIn(amount) => self.reserved = self.reserved.saturating_add(amount),
            Fact::ReserveOut(amount) => sub("reserved coins", &mut self.reserved, amount)?,
            _ => {}
        }
        Ok(())
    }
}

/// The figures of one period (what `wijk stats` prints).
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
#[serde(rename_all = "camelCase")]
pub struct PeriodFigures {
    /// The period.
    pub period: PeriodId,
    /// Its first block counted.
    pub first_block: Height,
    /// Its last block counted so far.
    pub last_block: Height,
    /// Payments to merchants for sales.
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub merchant_sales: Cents,
    /// Activity payouts.
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub activity_payouts: Cents,
    /// Settled market deals (paid to sellers).
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub market_deals: Cents,
    /// Coins minted.
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub minted: Cents,
    /// Coins burned for redemption.
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub redeemed: Cents,
    /// Coins that moved between holders (every kind of payment).
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub payments: Cents,
    /// How many such moves.
    pub payment_count: u64,
    /// Coins in existence when the period began.
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub circulating_at_start: Cents,
    /// Coins by where they are, after the period's last block so far.
    pub levels: Levels,
    /// The sum over the period's blocks of the coins in existence after each (for the
    /// average).
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub circulating_block_sum: Cents,
    /// How many blocks the period has had.
    pub blocks: u64,
    /// Members who signed a transaction or received a payment in the period.
    pub active_members: u32,
    /// Members registered in the period.
    pub new_members: u32,
    /// Units of activities paid for.
    pub activity_units: u64,
    /// Activity claims paid.
    pub activity_claims: u64,
    /// Market deals settled.
    pub deals: u64,
}

impl PeriodFigures {
    /// A period that starts at block `first_block` with `levels`.
    pub fn starting(period: PeriodId, first_block: Height, levels: Levels) -> PeriodFigures {
        PeriodFigures {
            period,
            first_block,
            last_block: first_block,
            circulating_at_start: levels.circulating,
            levels,
            ..PeriodFigures::default()
        }
    }

    /// The wijk's GDP in the period: merchant sales, activity payouts and market deals.
    pub fn gdp(&self) -> Cents {
        self.merchant_sales
            .saturating_add(self.activity_payouts)
            .saturating_add(self.market_deals)
    }

    /// The average of the coins in existence over the period's blocks.
    pub fn average_circulating(&self) -> Cents {
        self.circulating_block_sum
            .checked_div(Cents::from(self.blocks))
            .unwrap_or(self.levels.circulating)
    }

    /// Velocity in thousandths: payments over the average coins in existence (0 when there
    /// were none).
    pub fn velocity_milli(&self) -> u128 {
        self.payments
            .saturating_mul(1000)
            .checked_div(self.average_circulating())
            .unwrap_or(0)
    }

    /// Adds a fact's flows (levels and active members are counted by the caller).
    pub fn add_flow(&mut self, fact: &Fact<'_>) {
        let add = |figure: &mut Cents, amount: Cents| *figure = figure.saturating_add(amount);
        match *fact {
            Fact::NewMember => self.new_members = self.new_members.saturating_add(1),
            Fact::Minted(amount) => add(&mut self.minted, amount),
            Fact::Redeemed(amount) => add(&mut self.redeemed, amount),
            Fact::Payment(amount) => {
                add(&mut self.payments, amount);
                self.payment_count = self.payment_count.saturating_add(1);
            }
            Fact::MerchantSale(amount) => add(&mut self.merchant_sales, amount),
            Fact::ActivityPayout { units, amount, .. } => {
                add(&mut self.activity_payouts, amount);
                self.activity_units = self.activity_units.saturating_add(u64::from(units));
                self.activity_claims = self.activity_claims.saturating_add(1);
            }
            Fact::DealSettled { amount, .. } => {
                add(&mut self.market_deals, amount);
                self.deals = self.deals.saturating_add(1);
            }
            Fact::Active(_)
            | Fact::EarmarkIn(_)
            | Fact::EarmarkOut(_)
            | Fact::ReserveIn(_)
            | Fact::ReserveOut(_) => {}
        }
    }

    /// Closes a block of the period: its levels after it, counted into the average.
    pub fn close_block(&mut self, height: Height, levels: Levels) {
        self.last_block = height;
        self.levels = levels;
        self.circulating_block_sum = self
            .circulating_block_sum
            .saturating_add(levels.circulating);
        self.blocks = self.blocks.saturating_add(1);
    }
}

/// An activity's (or a category's) figures in a period.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Encode,
    Decode,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct ActivityFigures {
    /// Claims paid.
    pub claims: u64,
    /// Units paid for.
    pub units: u64,
    /// Paid.
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub payouts: Cents,
}

impl ActivityFigures {
    /// Adds one payout.
    pub fn add(&mut self, units: u32, amount: Cents) {
        self.claims = self.claims.saturating_add(1);
        self.units = self.units.saturating_add(u64::from(units));
        self.payouts = self.payouts.saturating_add(amount);
    }

    /// Adds another tally of the same activity or category.
    pub fn merge(&mut self, other: &ActivityFigures) {
        self.claims = self.claims.saturating_add(other.claims);
        self.units = self.units.saturating_add(other.units);
        self.payouts = self.payouts.saturating_add(other.payouts);
    }
}

/// A market category's settled deals in a period.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Encode,
    Decode,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct DealFigures {
    /// Deals settled.
    pub deals: u64,
    /// Paid to the sellers.
    #[serde(with = "wijk_primitives::json::euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub value: Cents,
}

impl DealFigures {
    /// Adds one settled deal.
    pub fn add(&mut self, amount: Cents) {
        self.deals = self.deals.saturating_add(1);
        self.value = self.value.saturating_add(amount);
    }
}
