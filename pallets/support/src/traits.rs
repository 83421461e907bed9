//! The interfaces pallets use to talk to each other: a pallet never reads another's
//! storage or depends on its crate; it asks through these traits, which the runtime binds
//! to the pallets that implement them ([`crate::Interfaces`]).

use crate::pallet::{CallContext, DispatchResult};
use crate::state::{StateError, StateRead};
use parity_scale_codec::{Decode, Encode};
use wijk_primitives::{format_cents, AccountId, Cents, Hash};

/// Why the currency refused to move coins.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum CurrencyError {
    /// Not enough coins.
    #[error("insufficient funds: account {account:?} has {} but needs {}", format_cents(*available), format_cents(*needed))]
    #[codec(index = 0)]
    InsufficientBalance {
        /// The account.
        account: AccountId,
        /// What it has (free, not reserved).
        available: Cents,
        /// What the call needs.
        needed: Cents,
    },
    /// Not enough coins reserved (held) for what is asked.
    #[error("account {account:?} has {} reserved but {} is asked", format_cents(*reserved), format_cents(*needed))]
    #[codec(index = 1)]
    InsufficientReserved {
        /// The account.
        account: AccountId,
        /// What it has reserved.
        reserved: Cents,
        /// What the call needs.
        needed: Cents,
    },
    /// Zero amounts are refused: they would only add noise to the history.
    #[error("amount must be more than zero")]
    #[codec(index = 2)]
    ZeroAmount,
    /// An amount would overflow.
    #[error("amount overflows the supply")]
    #[codec(index = 3)]
    Overflow,
    /// Sending to oneself is refused as a likely mistake.
    #[error("sender and recipient are the same account")]
    #[codec(index = 4)]
    SelfTransfer,
    /// This deposit was already minted against.
    #[error("deposit reference was already used (deposit hash {deposit_hash:?})")]
    #[codec(index = 5)]
    DepositAlreadyRecorded {
        /// Hash of the reference.
        deposit_hash: Hash,
    },
    /// The deposit reference is empty or too long.
    #[error("deposit reference must be 1 to {max} bytes, got {len}")]
    #[codec(index = 6)]
    BadDepositRef {
        /// Its length.
        len: u32,
        /// The limit.
        max: u32,
    },
}

/// The wijk's money, as other pallets may use it. Coins are created only by [`Self::mint`]
/// (against a recorded euro deposit) and destroyed only by [`Self::burn`] (a redemption);
/// every other method moves them, so the sum of free and reserved balances is always the
/// total supply. Events for every movement are deposited in the calling context.
pub trait Currency: Sync {
    /// The free (spendable) balance of `who`.
    fn balance(&self, state: &dyn StateRead, who: &AccountId) -> Result<Cents, StateError>;

    /// The coins of `who` reserved (held in escrow) by some pallet.
    fn reserved(&self, state: &dyn StateRead, who: &AccountId) -> Result<Cents, StateError>;

    /// Coins in existence.
    fn total_supply(&self, state: &dyn StateRead) -> Result<Cents, StateError>;

    /// Moves `amount` of free coins from `from` to `to`.
    fn transfer(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        to: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError>;

    /// Creates `amount` for `to` against the euro deposit `deposit_ref`, recorded once.
    fn mint(
        &self,
        ctx: &mut CallContext<'_, '_>,
        to: &AccountId,
        amount: Cents,
        deposit_ref: &[u8],
    ) -> DispatchResult<CurrencyError>;

    /// Destroys `amount` of the free coins of `from` for a euro payout.
    fn burn(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError>;

    /// Moves `amount` of `who`'s free coins into reserve (they stay theirs, but cannot be
    /// spent until unreserved or paid out).
    fn reserve(
        &self,
        ctx: &mut CallContext<'_, '_>,
        who: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError>;

    /// Moves `amount` of `who`'s reserved coins back to their free balance.
    fn unreserve(
        &self,
        ctx: &mut CallContext<'_, '_>,
        who: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError>;

    /// Pays `amount` of `from`'s reserved coins to `to`'s free balance (an escrow settled).
    fn repatriate_reserved(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        to: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError>;
}

/// What a member may do in the wijk; an account can hold several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub enum Role {
    /// Lives in the wijk: earns, spends, gives, votes.
    #[codec(index = 0)]
    Resident,
    /// Accepts the coin.
    #[codec(index = 1)]
    Merchant,
    /// Funds valued activities (municipality, insurer, housing corporation).
    #[codec(index = 2)]
    Organisation,
    /// Records euro deposits, mints, pays out redemptions (*wisselkantoor*).
    #[codec(index = 3)]
    ExchangeOffice,
    /// Takes coins for goods or services and may redeem them (*verzilverloket*).
    #[codec(index = 4)]
    RedemptionPartner,
    /// Registers and helps members (*bemiddelaar*).
    #[codec(index = 5)]
    Intermediary,
    /// Attests that activities were done.
    #[codec(index = 6)]
    Verifier,
    /// Inspects the history.
    #[codec(index = 7)]
    Auditor,
    /// Sits on the cooperative's board.
    #[codec(index = 8)]
    Board,
}

/// Who belongs to the wijk, as other pallets may ask.
pub trait Membership: Sync {
    /// Whether `who` is an active member.
    fn is_member(&self, state: &dyn StateRead, who: &AccountId) -> Result<bool, StateError>;

    /// Whether `who` is an active member holding `role`.
    fn has_role(
        &self,
        state: &dyn StateRead,
        who: &AccountId,
        role: Role,
    ) -> Result<bool, StateError>;
}

/// Membership of a chain open to every account, holding no roles: what a runtime without
/// a membership pallet binds.
pub struct OpenMembership;

impl Membership for OpenMembership {
    fn is_member(&self, _state: &dyn StateRead, _who: &AccountId) -> Result<bool, StateError> {
        Ok(true)
    }

    fn has_role(
        &self,
        _state: &dyn StateRead,
        _who: &AccountId,
        _role: Role,
    ) -> Result<bool, StateError> {
        Ok(false)
    }
}
