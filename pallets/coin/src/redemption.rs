//! Redemption as a flow: a holder asks for a payout (coins burned, euros owed), an exchange
//! office pays it (euros leave the reserve). Between the two, `redemptions owed` carries the
//! debt, so `total supply + owed == euro reserve` holds at every step.

use crate::{
    require_role, roles_in_words, supply, take_free, Error, Event, Pallet, EURO_RESERVE,
    REDEMPTIONS, REDEMPTIONS_OWED, TOTAL_SUPPLY,
};
use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::{AccountId, Cents, Hash, Height};
use wijk_support::{
    check, tri, CallContext, Currency, CurrencyError, DispatchResult, Origin, Role, RoleSet,
    StateError,
};

/// Who may ask for a payout, and what it costs them.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct RedemptionPolicy {
    /// Every holder may redeem (a borderless coin, the dev chain).
    pub any_holder: bool,
    /// Otherwise, members holding one of these roles (default: merchants, redemption
    /// partners and organisations; residents spend their coins in the wijk).
    pub allowed_roles: RoleSet,
    /// Part of each redemption, per mille, paid to the fund instead of burned (Chiemgauer
    /// charges 50, the Bristol Pound charged 30); rounded down to the cent.
    pub fee_per_mille: u16,
    /// The cooperative's fund, which receives the fees (needed when the fee is not zero).
    pub fund: Option<AccountId>,
}

impl Default for RedemptionPolicy {
    fn default() -> Self {
        RedemptionPolicy {
            any_holder: false,
            allowed_roles: RoleSet::of(&[
                Role::Merchant,
                Role::RedemptionPartner,
                Role::Organisation,
            ]),
            fee_per_mille: 0,
            fund: None,
        }
    }
}

impl RedemptionPolicy {
    /// Checks the policy can be put in force.
    pub fn check(&self) -> Result<(), Error> {
        if self.fee_per_mille > 1_000 || (self.fee_per_mille > 0 && self.fund.is_none()) {
            return Err(Error::BadPolicy {
                why: "the redemption fee must be at most 1000 per mille and name the fund that receives it".into(),
            });
        }
        Ok(())
    }

    /// The fee on `amount`, rounded down.
    pub fn fee(&self, amount: Cents) -> Cents {
        amount.saturating_mul(Cents::from(self.fee_per_mille)) / 1_000
    }

    fn who_may(&self) -> String {
        if self.any_holder {
            "every holder".into()
        } else {
            roles_in_words(self.allowed_roles)
        }
    }
}

/// A recorded redemption: coins burned for a payout, owed until paid.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct RedemptionRecord {
    /// The holder paid out.
    pub who: AccountId,
    /// Burned, and owed in euros.
    pub amount: Cents,
    /// Paid to the fund besides.
    pub fee: Cents,
    /// blake3 of the bank account reference the euros go to.
    pub payout_to: Hash,
    /// When it was asked for.
    pub height: Height,
    /// The payout, once made.
    pub paid: Option<Payout>,
}

/// An exchange office's payout of a redemption.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Payout {
    /// The exchange office.
    pub by: AccountId,
    /// blake3 of the bank transfer's reference.
    pub bank_ref: Hash,
    /// When.
    pub height: Height,
}

pub(crate) fn request(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    amount: Cents,
    payout_to: Hash,
) -> DispatchResult<Error> {
    let who = check!(origin.ensure_signed());
    let policy = crate::config(&*ctx.state)?.redemption;
    if !policy.any_holder {
        let mut allowed = false;
        for role in policy.allowed_roles.roles() {
            allowed = allowed || ctx.membership().has_role(&*ctx.state, &who, role)?;
        }
        if !allowed {
            return Ok(Err(Error::MayNotRedeem {
                who,
                allowed: policy.who_may(),
            }));
        }
    }
    let fee = policy.fee(amount);
    let burned = amount - fee;
    if burned == 0 {
        return Ok(Err(CurrencyError::ZeroAmount.into()));
    }
    // Check the whole amount first, so a refusal names what the holder asked for.
    check!(take_free(&*ctx.state, &who, amount)?);
    if let (Some(fund), true) = (policy.fund, fee > 0) {
        tri!(Pallet.transfer(ctx, &who, &fund, fee));
    }
    tri!(burn(ctx, &who, burned, fee, payout_to));
    Ok(Ok(()))
}

/// Burns `amount` of `from`'s free coins and records the redemption owed; returns its id.
pub(crate) fn burn(
    ctx: &mut CallContext<'_, '_>,
    from: &AccountId,
    amount: Cents,
    fee: Cents,
    payout_to: Hash,
) -> Result<Result<u64, CurrencyError>, StateError> {
    if amount == 0 {
        return Ok(Err(CurrencyError::ZeroAmount));
    }
    let remaining = tri!(take_free(&*ctx.state, from, amount));
    let figures = supply(&*ctx.state)?;
    // Supply is at least any single balance while the invariant holds, so this cannot
    // underflow; if it would, the state is corrupt and we refuse.
    let (Some(total), Some(owed)) = (
        figures.total_supply.checked_sub(amount),
        figures.owed.checked_add(amount),
    ) else {
        return Ok(Err(CurrencyError::Overflow));
    };
    TOTAL_SUPPLY.put(ctx.state, &total);
    REDEMPTIONS_OWED.put(ctx.state, &owed);
    wijk_system::set_balance(ctx.state, from, remaining)?;
    let height = ctx.block().height;
    let id = REDEMPTIONS.push(
        ctx.state,
        &RedemptionRecord {
            who: *from,
            amount,
            fee,
            payout_to,
            height,
            paid: None,
        },
    )?;
    ctx.deposit_event(Event::RedemptionRequested {
        id,
        who: *from,
        amount,
        fee,
    });
    Ok(Ok(id))
}

pub(crate) fn pay(
    ctx: &mut CallContext<'_, '_>,
    origin: &Origin,
    id: u64,
    bank_ref: Hash,
) -> DispatchResult<Error> {
    let office = check!(origin.ensure_signed());
    check!(require_role(
        ctx,
        &office,
        Role::ExchangeOffice,
        "allowed to pay out redemptions"
    )?);
    let Some(mut record) = REDEMPTIONS.get(&*ctx.state, id)? else {
        return Ok(Err(Error::NoSuchRedemption { id }));
    };
    if let Some(payout) = &record.paid {
        return Ok(Err(Error::AlreadyPaid {
            id,
            height: payout.height,
        }));
    }
    if let Some(paid) = crate::PAYOUT_REFS.get(&*ctx.state, &bank_ref)? {
        return Ok(Err(Error::PayoutRefUsed { bank_ref, paid }));
    }
    crate::PAYOUT_REFS.insert(ctx.state, &bank_ref, &id);
    let figures = supply(&*ctx.state)?;
    let (Some(reserve), Some(owed)) = (
        figures.euro_reserve.checked_sub(record.amount),
        figures.owed.checked_sub(record.amount),
    ) else {
        return Ok(Err(CurrencyError::Overflow.into()));
    };
    EURO_RESERVE.put(ctx.state, &reserve);
    REDEMPTIONS_OWED.put(ctx.state, &owed);
    record.paid = Some(Payout {
        by: office,
        bank_ref,
        height: ctx.block().height,
    });
    REDEMPTIONS.replace(ctx.state, id, &record)?;
    ctx.deposit_event(Event::RedemptionPaid {
        id,
        who: record.who,
        amount: record.amount,
        by: office,
    });
    Ok(Ok(()))
}
