//! Earmarked coins: a funder's coins that only merchants may take, under the funder's rule.
//!
//! An [`Earmark`] names its funder and what the coins may pay: merchants inside the region
//! (`regionOnly`), in some categories (`categories`, empty for any), until an expiry height
//! after which what is left returns to the funder. Coins under one earmark are a holding of
//! the account, apart from its free balance. An account's holdings ([`Holdings`], at most
//! [`MAX_EARMARKS_PER_ACCOUNT`]) live in its account record beside its free coins and nonce
//! (`wijk_system::AccountInfo`), so a payment from earmarked coins reads one record and
//! changes one leaf of the state tree, as a plain payment does.
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
/// Holdings by the height their earmark expires, for the end-of-block hook.
pub const EXPIRIES: StorageMap<(Height, AccountId, EarmarkId), ()> =
    StorageMap::new(b"coin/earmark_expiry/");

/// What one account holds under earmarks: (earmark, amount) in earmark-id order, each
/// amount above zero, at most [`MAX_EARMARKS_PER_ACCOUNT`] entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings(Vec<(EarmarkId, Cents)>);

impl Holdings {
    /// The account's holdings (none when it holds no earmarked coins).
    pub fn of(
        state: &dyn wijk_support::StateRead,
        account: &AccountId,
    ) -> Result<Holdings, StateError> {
        Ok(Holdings(wijk_system::account(state, account)?.earmarked))
    }

    /// Writes them back into the record of `account`.
    fn store(
        self,
        state: &mut wijk_support::StateOverlay<'_>,
        account: &AccountId,
    ) -> Result<(), StateError> {
        wijk_system::set_earmarked(state, account, self.0)
    }

    /// Each earmark with its amount, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (EarmarkId, Cents)> + '_ {
        self.0.iter().copied()
    }

    /// What is held under `id`.
    pub fn amount(&self, id: &EarmarkId) -> Option<Cents> {
        self.position(id).ok().map(|at| self.0[at].1)
    }

    fn position(&self, id: &EarmarkId) -> Result<usize, usize> {
        self.0.binary_search_by(|(held, _)| held.cmp(id))
    }

    /// Sets the amount under `id` (zero removes it). Refused, changing nothing, when it
    /// would be one earmark more than an account may hold.
    fn set(&mut self, id: EarmarkId, amount: Cents) -> Result<(), ()> {
        match (self.position(&id), amount) {
            (Ok(at), 0) => {
                self.0.remove(at);
            }
            (Ok(at), _) => self.0[at].1 = amount,
            (Err(_), 0) => {}
            (Err(_), _) if self.0.len() >= MAX_EARMARKS_PER_ACCOUNT => return Err(()),
            (Err(at), _) => self.0.insert(at, (id, amount)),
        }
        Ok(())
    }
}

/// Most earmarks one account holds at once.
pub const MAX_EARMARKS_PER_ACCOUNT: usize = 8;
/// Most categories in one earmark.
pub const MAX_CATEGORIES: usize = wijk_support::MAX_EARMARK_CATEGORIES;
/// Longest earmark label, in bytes.
pub const MAX_LABEL_BYTES: usize = wijk_support::MAX_EARMARK_LABEL_BYTES;
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
    for (id, amount) in Holdings::of(state, account)?.iter() {
        if let Some(rule) = RULES.get(state, &id)? {
            out.push((rule, amount));
        }
    }
    Ok(out)
}

fn region_name(ctx: &CallContext<'_, '_>) -> Result<String, StateError> {
    ctx.geography().region_name(&*ctx.state)
}

/// Whether `to` can take `amount` more under earmark `id` (no overflow, and no earmark more
/// than an account may hold): what [`put_under`] refuses, checked without writing.
pub(crate) fn check_room(
    state: &dyn wijk_support::StateRead,
    to: &AccountId,
    amount: Cents,
    id: &EarmarkId,
) -> Result<Result<(), CurrencyError>, StateError> {
    let mut holdings = Holdings::of(state, to)?;
    let Some(total) = holdings.amount(id).unwrap_or(0).checked_add(amount) else {
        return Ok(Err(CurrencyError::Overflow));
    };
    Ok(holdings
        .set(*id, total)
        .map_err(|()| CurrencyError::TooManyEarmarks {
            account: *to,
            max: MAX_EARMARKS_PER_ACCOUNT as u32,
        }))
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
    let id = tri!(hold_under(ctx, to, amount, earmark));
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

/// Adds `amount` to `to`'s holding under `earmark`, recording the rule and queueing its
/// expiry for a new holding; deposits no event (the caller says where the coins came from).
fn hold_under(
    ctx: &mut CallContext<'_, '_>,
    to: &AccountId,
    amount: Cents,
    earmark: &Earmark,
) -> Result<Result<EarmarkId, Error>, StateError> {
    let id = earmark.id();
    let mut holdings = Holdings::of(&*ctx.state, to)?;
    let held = holdings.amount(&id);
    let Some(total) = held.unwrap_or(0).checked_add(amount) else {
        return Ok(Err(CurrencyError::Overflow.into()));
    };
    if holdings.set(id, total).is_err() {
        return Ok(Err(EarmarkError::TooManyEarmarks {
            account: *to,
            max: MAX_EARMARKS_PER_ACCOUNT as u32,
        }
        .into()));
    }
    if !RULES.contains(&*ctx.state, &id)? {
        RULES.insert(ctx.state, &id, earmark);
    }
    holdings.store(ctx.state, to)?;
    if let (Some(at), None) = (earmark.expires_at, held) {
        EXPIRIES.insert(ctx.state, &(at, *to, id), &());
    }
    Ok(Ok(id))
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
    let mut holdings = Holdings::of(&*ctx.state, payer)?;
    let mut paid: Cents = 0;
    for (id, held) in holdings.clone().iter() {
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
        let left = held - used;
        // Lowering an amount never adds an earmark, so it cannot be refused.
        let _ = holdings.set(id, left);
        if let (0, Some(at)) = (left, rule.expires_at) {
            EXPIRIES.remove(ctx.state, &(at, *payer, id));
        }
        paid += used;
        ctx.deposit_event(Event::EarmarkSpent {
            who: *payer,
            merchant: *merchant,
            earmark: id,
            amount: used,
        });
    }
    if paid > 0 {
        holdings.store(ctx.state, payer)?;
        let received = tri!(add_free(&*ctx.state, merchant, paid));
        wijk_system::set_balance(ctx.state, merchant, received)?;
    }
    Ok(Ok(paid))
}

/// The earmarked coins of `payer` that a payment to the merchant at `place` may use, up to
/// `amount`, in earmark-id order (as [`spend_at_merchant`] would use them). Writes nothing.
pub(crate) fn usable_at(
    ctx: &CallContext<'_, '_>,
    payer: &AccountId,
    place: &Place,
    amount: Cents,
) -> Result<Vec<(EarmarkId, Cents)>, StateError> {
    let mut usable = Vec::new();
    let mut found: Cents = 0;
    for (id, held) in Holdings::of(&*ctx.state, payer)?.iter() {
        if found == amount {
            break;
        }
        let Some(rule) = RULES.get(&*ctx.state, &id)? else {
            continue;
        };
        if rule.refuses(ctx, place)?.is_some() {
            continue;
        }
        let used = held.min(amount - found);
        found += used;
        usable.push((id, used));
    }
    Ok(usable)
}

/// Takes `parts` (from [`usable_at`] on this state) out of `payer`'s holdings into escrow
/// for `payee`; the caller adds them to the payer's reserve.
pub(crate) fn take_for_escrow(
    ctx: &mut CallContext<'_, '_>,
    payer: &AccountId,
    payee: &AccountId,
    parts: &[(EarmarkId, Cents)],
) -> Result<(), StateError> {
    let mut holdings = Holdings::of(&*ctx.state, payer)?;
    for (id, used) in parts {
        let left = holdings.amount(id).unwrap_or(0).saturating_sub(*used);
        // Lowering an amount never adds an earmark, so it cannot be refused.
        let _ = holdings.set(*id, left);
        if left == 0 {
            if let Some(at) = RULES.get(&*ctx.state, id)?.and_then(|rule| rule.expires_at) {
                EXPIRIES.remove(ctx.state, &(at, *payer, *id));
            }
        }
        ctx.deposit_event(Event::EarmarkReserved {
            who: *payer,
            payee: *payee,
            earmark: *id,
            amount: *used,
        });
    }
    holdings.store(ctx.state, payer)
}

/// Puts `amount` of escrowed coins of earmark `id` (already taken from `owner`'s reserve)
/// back under the earmark on `to`; if `to` holds as many earmarks as an account may, to
/// the earmark's funder (its key now) instead, so the funder's rule still holds. An earmark
/// that expired meanwhile returns to its funder through the expiry queue, as any does.
pub(crate) fn return_from_escrow(
    ctx: &mut CallContext<'_, '_>,
    owner: &AccountId,
    to: &AccountId,
    id: &EarmarkId,
    amount: Cents,
) -> Result<Result<(), CurrencyError>, StateError> {
    let Some(rule) = RULES.get(&*ctx.state, id)? else {
        return Err(StateError::Corrupt {
            key_hex: format!("coin/earmark/{id}"),
            reason: "escrowed coins name an earmark that is not recorded".into(),
        });
    };
    match check_room(&*ctx.state, to, amount, id)? {
        Ok(()) => match hold_under(ctx, to, amount, &rule)? {
            Ok(_) => {
                ctx.deposit_event(Event::EarmarkUnreserved {
                    who: *owner,
                    to: *to,
                    earmark: *id,
                    amount,
                });
                Ok(Ok(()))
            }
            Err(refused) => Err(StateError::Backend {
                reason: format!("an escrow return checked to fit did not: {refused}"),
            }),
        },
        Err(CurrencyError::TooManyEarmarks { .. }) => {
            let funder = ctx.membership().current_key(&*ctx.state, &rule.funder)?;
            let returned = tri!(add_free(&*ctx.state, &funder, amount));
            wijk_system::set_balance(ctx.state, &funder, returned)?;
            ctx.deposit_event(Event::EarmarkReturned {
                who: *owner,
                funder,
                earmark: *id,
                amount,
            });
            Ok(Ok(()))
        }
        Err(refused) => Ok(Err(refused)),
    }
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
    for (id, _) in Holdings::of(&*ctx.state, payer)?.iter() {
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
        let mut holdings = Holdings::of(&*ctx.state, &account)?;
        let (Some(amount), Some(rule)) = (holdings.amount(&id), RULES.get(&*ctx.state, &id)?)
        else {
            continue;
        };
        // To the funder's key now: a funder moved to a new key since gets its coins there.
        let funder = ctx.membership().current_key(&*ctx.state, &rule.funder)?;
        // The funder's balance cannot overflow while supply fits in Cents; if it would,
        // the state is corrupt, and keeping the holding (and its queue entry) loses nothing.
        let Some(returned) = crate::balance(&*ctx.state, &funder)?.checked_add(amount) else {
            EXPIRIES.insert(ctx.state, &(at, account, id), &());
            continue;
        };
        let _ = holdings.set(id, 0);
        holdings.store(ctx.state, &account)?;
        wijk_system::set_balance(ctx.state, &funder, returned)?;
        ctx.deposit_event(Event::EarmarkExpired {
            who: account,
            funder,
            earmark: id,
            amount,
        });
    }
    Ok(())
}

/// What moving every earmarked holding of `from` to `to` (a member moved to a new key)
/// would leave `to` holding, checked before anything moves: the merged holdings and the
/// amount moved, or why they cannot merge.
pub(crate) struct Move {
    from_holdings: Holdings,
    to_before: Holdings,
    merged: Holdings,
    moved: Cents,
}

impl Move {
    /// The earmarked coins that will move.
    pub(crate) fn moved(&self) -> Cents {
        self.moved
    }
}

/// Plans [`move_all`]: refuses when `to` would hold more earmarks than an account may, or
/// an amount would overflow.
pub(crate) fn plan_move(
    state: &dyn wijk_support::StateRead,
    from: &AccountId,
    to: &AccountId,
) -> Result<Result<Move, CurrencyError>, StateError> {
    let from_holdings = Holdings::of(state, from)?;
    let to_before = Holdings::of(state, to)?;
    let mut merged = to_before.clone();
    let mut moved: Cents = 0;
    for (id, amount) in from_holdings.iter() {
        let (Some(total), Some(sum)) = (
            merged.amount(&id).unwrap_or(0).checked_add(amount),
            moved.checked_add(amount),
        ) else {
            return Ok(Err(CurrencyError::Overflow));
        };
        if merged.set(id, total).is_err() {
            return Ok(Err(CurrencyError::TooManyEarmarks {
                account: *to,
                max: MAX_EARMARKS_PER_ACCOUNT as u32,
            }));
        }
        moved = sum;
    }
    Ok(Ok(Move {
        from_holdings,
        to_before,
        merged,
        moved,
    }))
}

/// Carries out a [`plan_move`] made on the current state (only free coins may have moved
/// since, which the plan does not touch); returns the amount moved.
pub(crate) fn move_all(
    ctx: &mut CallContext<'_, '_>,
    from: &AccountId,
    to: &AccountId,
    planned: Move,
) -> Result<Cents, StateError> {
    for (id, amount) in planned.from_holdings.iter() {
        if let Some(at) = RULES
            .get(&*ctx.state, &id)?
            .and_then(|rule| rule.expires_at)
        {
            EXPIRIES.remove(ctx.state, &(at, *from, id));
            if planned.to_before.amount(&id).is_none() {
                EXPIRIES.insert(ctx.state, &(at, *to, id), &());
            }
        }
        ctx.deposit_event(Event::EarmarkMoved {
            from: *from,
            to: *to,
            earmark: id,
            amount,
        });
    }
    Holdings::default().store(ctx.state, from)?;
    planned.merged.store(ctx.state, to)?;
    Ok(planned.moved)
}
