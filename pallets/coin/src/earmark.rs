//! Earmarked coins: a funder's coins that only merchants may take, under the funder's rule.
//!
//! An [`Earmark`] names its funder and what the coins may pay: merchants inside the region
//! (`regionOnly`), in some categories (`categories`, empty for any), until an expiry height
//! after which what is left returns to the funder. Coins under one earmark are a holding of
//! the account (`coin/earmarked/<account><earmark id>`), apart from its free balance; an
//! account holds at most [`MAX_EARMARKS_PER_ACCOUNT`] earmarks, so a payment reads a bounded
//! number of them.
//!
//! **Spending.** A payment to a merchant (a member with a registered place) uses the payer's
//! earmarked coins that the merchant's place and category satisfy first, in earmark-id
//! order, then free coins; the merchant receives free coins. A payment to anyone else uses
//! free coins only. When a payment fails for want of usable coins and the payer holds
//! earmarked ones, the error names the earmark's rule and why it does not fit
//! ([`EarmarkError::CannotPay`]).
//!
//! **Expiry** is processed in the end-of-block hook from a queue ordered by height
//! (`coin/earmark_expiry/<height><account><earmark id>`), at most
//! [`MAX_EXPIRIES_PER_BLOCK`] a block; the rest wait for the next block. Coins past their
//! expiry cannot be spent even while they wait. Each holding returns exactly what was left,
//! so no coin is created or lost.

use crate::{add_free, Error, Event};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::{blake3_hash, AccountId, Cents, Hash, Height};
use wijk_support::{
    tri, valid_category, CallContext, CurrencyError, Place, StateError, StorageMap,
};

/// An earmark's id: blake3 of its SCALE encoding, so one funder's same rule is one earmark.
pub type EarmarkId = Hash;

/// Every earmark that coins were put under, by id.
pub const RULES: StorageMap<EarmarkId, Earmark> = StorageMap::new(b"coin/earmark/");
/// Earmarked coins per account and earmark.
pub const HOLDINGS: StorageMap<(AccountId, EarmarkId), Cents> = StorageMap::new(b"coin/earmarked/");
/// Holdings by the height their earmark expires, for the end-of-block hook.
pub const EXPIRIES: StorageMap<(Height, AccountId, EarmarkId), ()> =
    StorageMap::new(b"coin/earmark_expiry/");

/// Most earmarks one account holds at once.
pub const MAX_EARMARKS_PER_ACCOUNT: usize = 8;
/// Most categories in one earmark.
pub const MAX_CATEGORIES: usize = 8;
/// Longest earmark label, in bytes.
pub const MAX_LABEL_BYTES: usize = 64;
/// Most expired holdings the hook returns in one block.
pub const MAX_EXPIRIES_PER_BLOCK: usize = 64;

/// What the hook's work costs.
pub mod costs {
    use wijk_support::Cost;
    /// Returning one expired holding: the holding, the rule, the funder's record.
    pub const EXPIRE: Cost = Cost::micros(8);
}

/// A funder's rule for coins.
#[derive(
    Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Earmark {
    /// The funder, to whom expired coins return.
    pub funder: AccountId,
    /// A name people recognise ("Stad Gent food budget"); may be empty.
    #[serde(default)]
    pub label: String,
    /// Merchant categories the coins may pay; empty for any category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Only merchants inside the wijk's region.
    #[serde(default)]
    pub region_only: bool,
    /// The height from which what is left returns to the funder.
    #[serde(default)]
    pub expires_at: Option<Height>,
}

/// Why an earmark refused, or is malformed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum EarmarkError {
    /// The earmark's rule does not let it pay this merchant.
    #[error("earmark '{earmark}' cannot pay merchant {merchant:?}: {why}")]
    #[codec(index = 0)]
    CannotPay {
        /// The rule, in words.
        earmark: String,
        /// The merchant.
        merchant: AccountId,
        /// What does not fit.
        why: String,
    },
    /// Earmarked coins pay merchants only.
    #[error("earmarked coins ('{earmark}') pay only merchants, and {to:?} is not one; free coins are short")]
    #[codec(index = 1)]
    OnlyAtMerchants {
        /// The rule, in words.
        earmark: String,
        /// The recipient.
        to: AccountId,
    },
    /// A funder earmarks only their own coins.
    #[error("the earmark names funder {funder:?}, but {signer:?} signed: a funder earmarks only their own coins")]
    #[codec(index = 2)]
    NotYourEarmark {
        /// The funder named.
        funder: AccountId,
        /// Who signed.
        signer: AccountId,
    },
    /// A category is malformed.
    #[error("category '{category}' must be 1 to 32 lowercase letters, digits or dashes")]
    #[codec(index = 3)]
    BadCategory {
        /// What was given.
        category: String,
    },
    /// Too many categories or too long a label.
    #[error("an earmark has at most {max_categories} categories and a label of at most {max_label} bytes")]
    #[codec(index = 4)]
    TooLarge {
        /// The category limit.
        max_categories: u32,
        /// The label limit.
        max_label: u32,
    },
    /// The expiry is not in the future.
    #[error(
        "the earmark expires at height {expires_at}, which is not after the current block {height}"
    )]
    #[codec(index = 5)]
    ExpiryPassed {
        /// The expiry given.
        expires_at: Height,
        /// The block.
        height: Height,
    },
    /// The recipient holds as many earmarks as an account may.
    #[error("{account:?} already holds {max} earmarks, the most an account may")]
    #[codec(index = 6)]
    TooManyEarmarks {
        /// The account.
        account: AccountId,
        /// The limit.
        max: u32,
    },
}

impl Earmark {
    /// Its id.
    pub fn id(&self) -> EarmarkId {
        blake3_hash(&self.encode())
    }

    /// Checks it can be used in a block at `height`.
    pub fn check(&self, height: Height) -> Result<(), EarmarkError> {
        if self.categories.len() > MAX_CATEGORIES || self.label.len() > MAX_LABEL_BYTES {
            return Err(EarmarkError::TooLarge {
                max_categories: MAX_CATEGORIES as u32,
                max_label: MAX_LABEL_BYTES as u32,
            });
        }
        if let Some(category) = self.categories.iter().find(|c| !valid_category(c)) {
            return Err(EarmarkError::BadCategory {
                category: category.clone(),
            });
        }
        if let Some(expires_at) = self.expires_at.filter(|at| *at <= height) {
            return Err(EarmarkError::ExpiryPassed { expires_at, height });
        }
        Ok(())
    }

    /// The rule in words, as a resident reads it: `food, sport; Rabot-Blaisantvest only;
    /// until block 90000`, after the label if there is one.
    pub fn describe(&self, region_name: &str) -> String {
        let mut parts = Vec::new();
        parts.push(if self.categories.is_empty() {
            "any shop".to_string()
        } else {
            self.categories.join(", ")
        });
        if self.region_only {
            parts.push(if region_name.is_empty() {
                "the wijk only".to_string()
            } else {
                format!("{region_name} only")
            });
        }
        if let Some(at) = self.expires_at {
            parts.push(format!("until block {at}"));
        }
        let rule = parts.join("; ");
        if self.label.is_empty() {
            rule
        } else {
            format!("{}: {rule}", self.label)
        }
    }

    /// Why these coins may not pay a merchant at `place` in a block at `height`, if they
    /// may not.
    fn refuses(
        &self,
        ctx: &CallContext<'_, '_>,
        place: &Place,
    ) -> Result<Option<String>, StateError> {
        if let Some(at) = self.expires_at.filter(|at| *at <= ctx.block().height) {
            return Ok(Some(format!("it expired at block {at}")));
        }
        if !self.categories.is_empty() && !self.categories.contains(&place.category) {
            return Ok(Some(format!("category '{}'", place.category)));
        }
        if self.region_only && !ctx.geography().in_region(&*ctx.state, &place.location)? {
            return Ok(Some(format!(
                "the shop at {} is outside the region",
                place.location
            )));
        }
        Ok(None)
    }
}

/// The earmarked coins `account` holds: each earmark with its amount, in id order.
pub fn holdings_of(
    state: &dyn wijk_support::StateRead,
    account: &AccountId,
) -> Result<Vec<(Earmark, Cents)>, StateError> {
    let mut out = Vec::new();
    for ((_, id), amount) in HOLDINGS.page_under(state, account, MAX_EARMARKS_PER_ACCOUNT)? {
        if let Some(rule) = RULES.get(state, &id)? {
            out.push((rule, amount));
        }
    }
    Ok(out)
}

fn region_name(ctx: &CallContext<'_, '_>) -> Result<String, StateError> {
    ctx.geography().region_name(&*ctx.state)
}

/// Adds `amount` (already taken from someone's free coins or minted) to `to`'s holding
/// under `earmark`; `from` is where it came from, for the event.
pub(crate) fn put_under(
    ctx: &mut CallContext<'_, '_>,
    from: &AccountId,
    to: &AccountId,
    amount: Cents,
    earmark: &Earmark,
) -> Result<Result<EarmarkId, Error>, StateError> {
    let id = earmark.id();
    let held = HOLDINGS.get(&*ctx.state, &(*to, id))?;
    if held.is_none()
        && HOLDINGS
            .page_under(&*ctx.state, to, MAX_EARMARKS_PER_ACCOUNT)?
            .len()
            >= MAX_EARMARKS_PER_ACCOUNT
    {
        return Ok(Err(EarmarkError::TooManyEarmarks {
            account: *to,
            max: MAX_EARMARKS_PER_ACCOUNT as u32,
        }
        .into()));
    }
    let Some(total) = held.unwrap_or(0).checked_add(amount) else {
        return Ok(Err(CurrencyError::Overflow.into()));
    };
    if !RULES.contains(&*ctx.state, &id)? {
        RULES.insert(ctx.state, &id, earmark);
    }
    HOLDINGS.insert(ctx.state, &(*to, id), &total);
    if let (Some(at), None) = (earmark.expires_at, held) {
        EXPIRIES.insert(ctx.state, &(at, *to, id), &());
    }
    let rule = earmark.describe(&region_name(ctx)?);
    ctx.deposit_event(Event::Earmarked {
        from: *from,
        to: *to,
        amount,
        earmark: id,
        rule,
    });
    Ok(Ok(id))
}

fn set_holding(
    ctx: &mut CallContext<'_, '_>,
    account: &AccountId,
    id: EarmarkId,
    rule: &Earmark,
    amount: Cents,
) {
    if amount == 0 {
        HOLDINGS.remove(ctx.state, &(*account, id));
        if let Some(at) = rule.expires_at {
            EXPIRIES.remove(ctx.state, &(at, *account, id));
        }
    } else {
        HOLDINGS.insert(ctx.state, &(*account, id), &amount);
    }
}

/// Pays up to `amount` to `merchant` from `payer`'s earmarked coins the merchant's place
/// satisfies; returns how much was paid that way (the rest is the payer's free coins' to
/// pay).
pub(crate) fn spend_at_merchant(
    ctx: &mut CallContext<'_, '_>,
    payer: &AccountId,
    merchant: &AccountId,
    place: &Place,
    amount: Cents,
) -> Result<Result<Cents, Error>, StateError> {
    let mut paid: Cents = 0;
    for ((_, id), held) in HOLDINGS.page_under(&*ctx.state, payer, MAX_EARMARKS_PER_ACCOUNT)? {
        if paid == amount {
            break;
        }
        let Some(rule) = RULES.get(&*ctx.state, &id)? else {
            continue;
        };
        if rule.refuses(ctx, place)?.is_some() {
            continue;
        }
        let used = held.min(amount - paid);
        set_holding(ctx, payer, id, &rule, held - used);
        paid += used;
        ctx.deposit_event(Event::EarmarkSpent {
            who: *payer,
            merchant: *merchant,
            earmark: id,
            amount: used,
        });
    }
    if paid > 0 {
        let received = tri!(add_free(&*ctx.state, merchant, paid));
        wijk_system::set_balance(ctx.state, merchant, received)?;
    }
    Ok(Ok(paid))
}

/// Why the payer's earmarked coins could not pay `to`, if the payer holds any: the first
/// earmark's rule and what does not fit.
pub(crate) fn why_not_usable(
    ctx: &CallContext<'_, '_>,
    payer: &AccountId,
    to: &AccountId,
    place: Option<&Place>,
) -> Result<Option<EarmarkError>, StateError> {
    let region = region_name(ctx)?;
    for ((_, id), _) in HOLDINGS.page_under(&*ctx.state, payer, MAX_EARMARKS_PER_ACCOUNT)? {
        let Some(rule) = RULES.get(&*ctx.state, &id)? else {
            continue;
        };
        let earmark = rule.describe(&region);
        return Ok(Some(match place {
            None => EarmarkError::OnlyAtMerchants { earmark, to: *to },
            Some(place) => match rule.refuses(ctx, place)? {
                Some(why) => EarmarkError::CannotPay {
                    earmark,
                    merchant: *to,
                    why,
                },
                // This one fits but was not enough: keep looking for one that does not.
                None => continue,
            },
        }));
    }
    Ok(None)
}

/// Returns expired holdings to their funders, oldest expiry first, at most
/// [`MAX_EXPIRIES_PER_BLOCK`].
pub(crate) fn expire_due(ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
    let height = ctx.block().height;
    let due = EXPIRIES.page(&*ctx.state, None, MAX_EXPIRIES_PER_BLOCK)?;
    for ((at, account, id), ()) in due.entries {
        if at > height {
            break;
        }
        EXPIRIES.remove(ctx.state, &(at, account, id));
        let (Some(amount), Some(rule)) = (
            HOLDINGS.get(&*ctx.state, &(account, id))?,
            RULES.get(&*ctx.state, &id)?,
        ) else {
            continue;
        };
        HOLDINGS.remove(ctx.state, &(account, id));
        // The funder's balance cannot overflow while supply fits in Cents; if it would,
        // the state is corrupt, and keeping the holding loses nothing.
        let Some(returned) = crate::balance(&*ctx.state, &rule.funder)?.checked_add(amount) else {
            HOLDINGS.insert(ctx.state, &(account, id), &amount);
            EXPIRIES.insert(ctx.state, &(at, account, id), &());
            continue;
        };
        wijk_system::set_balance(ctx.state, &rule.funder, returned)?;
        ctx.deposit_event(Event::EarmarkExpired {
            who: account,
            funder: rule.funder,
            earmark: id,
            amount,
        });
    }
    Ok(())
}

/// Moves every earmarked holding of `from` to `to` (a member moved to a new key); returns
/// the amount moved.
pub(crate) fn move_all(
    ctx: &mut CallContext<'_, '_>,
    from: &AccountId,
    to: &AccountId,
) -> Result<Result<Cents, CurrencyError>, StateError> {
    let mut moved: Cents = 0;
    for ((_, id), amount) in HOLDINGS.page_under(&*ctx.state, from, MAX_EARMARKS_PER_ACCOUNT)? {
        let Some(rule) = RULES.get(&*ctx.state, &id)? else {
            continue;
        };
        let existing = HOLDINGS.get(&*ctx.state, &(*to, id))?;
        let Some(total) = existing.unwrap_or(0).checked_add(amount) else {
            return Ok(Err(CurrencyError::Overflow));
        };
        set_holding(ctx, from, id, &rule, 0);
        HOLDINGS.insert(ctx.state, &(*to, id), &total);
        if let (Some(at), None) = (rule.expires_at, existing) {
            EXPIRIES.insert(ctx.state, &(at, *to, id), &());
        }
        moved = moved.saturating_add(amount);
        ctx.deposit_event(Event::EarmarkMoved {
            from: *from,
            to: *to,
            earmark: id,
            amount,
        });
    }
    Ok(Ok(moved))
}
