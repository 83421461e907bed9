//! The validators pallet: who finalizes blocks, from which height, and who was caught
//! signing two conflicting votes.
//!
//! Rules:
//! - **The set** comes from the chain spec at genesis (epoch 0). Only the *validator admin*
//!   (the cooperative's board account in the spec; the democratic-governance work will put
//!   this under a members' vote) may schedule a change, at least [`MIN_CHANGE_DELAY`] blocks
//!   ahead, one change at a time. The block that schedules it announces it in its header
//!   (checked by execution), so a light client following certified headers learns the new
//!   set from the chain itself. At the activation height the next epoch begins: every block
//!   from that height on is certified by the new set, every block before it by the old.
//! - **Equivocation evidence**: anyone may submit two conflicting votes (see
//!   [`wijk_primitives::Vote::conflicts_with`]) signed by one validator of the epoch the
//!   votes belong to. The chain checks both signatures and records the offence once, with
//!   an event, so an auditor can list every offence ([`offences`]).
//!
//! Owns: `validators/admin`, `validators/epoch`, `validators/current`,
//! `validators/set/<epoch>`, `validators/pending`, `validators/offence/<offender, view>`,
//! `validators/offence_count`, `validators/offence_at/<index>`.
//! Must never: move money, touch nonces, or decide what consensus votes for (it only
//! records who may vote and who misbehaved).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

use parity_scale_codec::{Decode, Encode};
use wijk_primitives::{
    epoch_of_view, AccountId, Height, SignedVote, ValidatorSetChange, View, VoteError,
};
use wijk_support::{
    BlockContext, Origin, StateError, StateOverlay, StateRead, StorageMap, StorageValue,
};

/// Who may schedule validator-set changes.
pub const ADMIN: StorageValue<AccountId> = StorageValue::new(b"validators/admin");
/// The current epoch: how many set changes have taken effect.
pub const EPOCH: StorageValue<u64> = StorageValue::new(b"validators/epoch");
/// The set certifying blocks now (also in [`SETS`] under [`EPOCH`]; kept apart so a light
/// client proves one key).
pub const CURRENT: StorageValue<Vec<AccountId>> = StorageValue::new(b"validators/current");
/// Every epoch's set, so evidence from an earlier epoch can still be checked.
pub const SETS: StorageMap<u64, Vec<AccountId>> = StorageMap::new(b"validators/set/");
/// The change scheduled and not yet in effect.
pub const PENDING: StorageValue<ValidatorSetChange> = StorageValue::new(b"validators/pending");
/// Recorded offences, by offender and view (at most one per pair).
pub const OFFENCES: StorageMap<(AccountId, View), Offence> =
    StorageMap::new(b"validators/offence/");
/// How many offences are recorded.
pub const OFFENCE_COUNT: StorageValue<u64> = StorageValue::new(b"validators/offence_count");
/// The n-th recorded offence's key in [`OFFENCES`], for listing them in order.
pub const OFFENCE_AT: StorageMap<u64, (AccountId, View)> =
    StorageMap::new(b"validators/offence_at/");

/// Fewest blocks between the block scheduling a change and the change taking effect.
pub const MIN_CHANGE_DELAY: Height = 2;
/// Most validators in a set (each vote is checked by every node).
pub const MAX_VALIDATORS: usize = 100;

/// A validator caught signing two conflicting votes.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Offence {
    /// Who signed both votes.
    pub offender: AccountId,
    /// The view both votes are in.
    pub view: View,
    /// The epoch of that view.
    pub epoch: u64,
    /// Who submitted the evidence.
    pub reporter: AccountId,
    /// The block that recorded it.
    pub recorded_at: Height,
    /// One vote.
    pub first: SignedVote,
    /// The vote conflicting with it.
    pub second: SignedVote,
}

/// The calls of this pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Call {
    /// Validator admin only: from height `activates_at` on, blocks are certified by
    /// `validators` (in leader order).
    #[codec(index = 0)]
    ScheduleChange {
        /// The new set.
        validators: Vec<AccountId>,
        /// Its first height.
        activates_at: Height,
    },
    /// Anyone: two conflicting votes signed by one validator.
    #[codec(index = 1)]
    ReportEquivocation {
        /// One vote.
        first: Box<SignedVote>,
        /// The vote conflicting with it.
        second: Box<SignedVote>,
    },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum Event {
    /// A validator-set change is scheduled (and announced in this block's header).
    #[codec(index = 0)]
    ChangeScheduled {
        /// Its first height.
        activates_at: Height,
        /// The new set.
        validators: Vec<AccountId>,
    },
    /// Equivocation evidence is recorded.
    #[codec(index = 1)]
    EquivocationRecorded {
        /// Who signed both votes.
        offender: AccountId,
        /// In which view.
        view: View,
        /// Who reported it.
        reporter: AccountId,
    },
}

/// Why a call of this pallet failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// Only the validator admin may change the set.
    #[error("only the validator admin {admin:?} may change the validator set")]
    NotAdmin {
        /// The admin.
        admin: AccountId,
    },
    /// A change is already scheduled.
    #[error("a change is already scheduled for height {activates_at}")]
    ChangeAlreadyPending {
        /// When it takes effect.
        activates_at: Height,
    },
    /// Too soon: consensus needs time to see the change coming.
    #[error("the change must take effect at height {earliest} or later, not {requested}")]
    TooSoon {
        /// The earliest allowed height.
        earliest: Height,
        /// The height asked for.
        requested: Height,
    },
    /// The new set is empty or too large.
    #[error("a validator set needs 1 to {max} members, not {count}")]
    BadSetSize {
        /// Members given.
        count: u32,
        /// The limit.
        max: u32,
    },
    /// A validator appears twice.
    #[error("validator {validator:?} appears twice in the new set")]
    DuplicateValidator {
        /// The duplicate.
        validator: AccountId,
    },
    /// The two votes are by different validators.
    #[error("the two votes are signed by different accounts")]
    DifferentSigners,
    /// The two votes do not conflict (an honest validator could sign both).
    #[error("the two votes in views {first_view} and {second_view} do not conflict")]
    NotConflicting {
        /// The first vote's view.
        first_view: View,
        /// The second's.
        second_view: View,
    },
    /// The signer was not a validator in the votes' epoch (or the epoch has not begun).
    #[error("{signer:?} was not a validator in epoch {epoch}")]
    NotAValidator {
        /// The signer.
        signer: AccountId,
        /// The votes' epoch.
        epoch: u64,
    },
    /// A vote's signature does not verify.
    #[error("a vote's signature does not verify")]
    BadSignature,
    /// This offence is already recorded.
    #[error("equivocation by {offender:?} in view {view} is already recorded")]
    AlreadyRecorded {
        /// The offender.
        offender: AccountId,
        /// The view.
        view: View,
    },
}

/// The pallet's result type: a state read failure aborts the block, an [`Error`] fails only
/// the transaction.
pub type DispatchResult = Result<Result<Event, Error>, StateError>;

/// Writes the genesis state: epoch 0 with `validators`, and the admin.
pub fn genesis(state: &mut StateOverlay<'_>, validators: &[AccountId], admin: AccountId) {
    ADMIN.put(state, &admin);
    EPOCH.put(state, &0);
    CURRENT.put(state, &validators.to_vec());
    SETS.insert(state, &0, &validators.to_vec());
}

/// Executes `call` from `origin`.
pub fn dispatch(
    state: &mut StateOverlay<'_>,
    context: &BlockContext,
    origin: Origin,
    call: &Call,
) -> DispatchResult {
    let signer = origin.signer();
    match call {
        Call::ScheduleChange {
            validators,
            activates_at,
        } => schedule_change(state, context, signer, validators, *activates_at),
        Call::ReportEquivocation { first, second } => {
            report_equivocation(state, context, signer, first, second)
        }
    }
}

fn schedule_change(
    state: &mut StateOverlay<'_>,
    context: &BlockContext,
    signer: AccountId,
    validators: &[AccountId],
    activates_at: Height,
) -> DispatchResult {
    let admin = ADMIN.get(state)?.unwrap_or_default();
    if signer != admin {
        return Ok(Err(Error::NotAdmin { admin }));
    }
    if let Some(pending) = PENDING.get(state)? {
        return Ok(Err(Error::ChangeAlreadyPending {
            activates_at: pending.activates_at,
        }));
    }
    let earliest = context.height.saturating_add(MIN_CHANGE_DELAY);
    if activates_at < earliest {
        return Ok(Err(Error::TooSoon {
            earliest,
            requested: activates_at,
        }));
    }
    if validators.is_empty() || validators.len() > MAX_VALIDATORS {
        return Ok(Err(Error::BadSetSize {
            count: u32::try_from(validators.len()).unwrap_or(u32::MAX),
            max: MAX_VALIDATORS as u32,
        }));
    }
    let mut seen = std::collections::BTreeSet::new();
    for validator in validators {
        if !seen.insert(*validator) {
            return Ok(Err(Error::DuplicateValidator {
                validator: *validator,
            }));
        }
    }
    PENDING.put(
        state,
        &ValidatorSetChange {
            activates_at,
            validators: validators.to_vec(),
        },
    );
    Ok(Ok(Event::ChangeScheduled {
        activates_at,
        validators: validators.to_vec(),
    }))
}

fn report_equivocation(
    state: &mut StateOverlay<'_>,
    context: &BlockContext,
    reporter: AccountId,
    first: &SignedVote,
    second: &SignedVote,
) -> DispatchResult {
    if first.signer != second.signer {
        return Ok(Err(Error::DifferentSigners));
    }
    if !first.vote.conflicts_with(&second.vote) {
        return Ok(Err(Error::NotConflicting {
            first_view: first.vote.view,
            second_view: second.vote.view,
        }));
    }
    let offender = first.signer;
    let view = first.vote.view;
    let epoch = epoch_of_view(view);
    let set = SETS.get(state, &epoch)?.unwrap_or_default();
    for vote in [first, second] {
        match vote.verify(context.genesis_hash, &set) {
            Ok(()) => {}
            Err(VoteError::UnknownSigner { .. }) => {
                return Ok(Err(Error::NotAValidator {
                    signer: offender,
                    epoch,
                }))
            }
            Err(_) => return Ok(Err(Error::BadSignature)),
        }
    }
    if OFFENCES.get(state, &(offender, view))?.is_some() {
        return Ok(Err(Error::AlreadyRecorded { offender, view }));
    }
    OFFENCES.insert(
        state,
        &(offender, view),
        &Offence {
            offender,
            view,
            epoch,
            reporter,
            recorded_at: context.height,
            first: *first,
            second: *second,
        },
    );
    let index = OFFENCE_COUNT.get(state)?.unwrap_or(0);
    OFFENCE_AT.insert(state, &index, &(offender, view));
    OFFENCE_COUNT.put(state, &index.saturating_add(1));
    Ok(Ok(Event::EquivocationRecorded {
        offender,
        view,
        reporter,
    }))
}

/// Called first in every block: at the activation height, the next epoch begins.
pub fn begin_block(state: &mut StateOverlay<'_>, height: Height) -> Result<(), StateError> {
    let Some(pending) = PENDING.get(state)? else {
        return Ok(());
    };
    if pending.activates_at != height {
        return Ok(());
    }
    let epoch = EPOCH.get(state)?.unwrap_or(0).saturating_add(1);
    EPOCH.put(state, &epoch);
    CURRENT.put(state, &pending.validators);
    SETS.insert(state, &epoch, &pending.validators);
    state.remove(PENDING.key());
    Ok(())
}

/// The change this block scheduled, if any: what its header must announce. `before` is
/// the state the block started from.
pub fn scheduled_in_block(
    state: &StateOverlay<'_>,
    before: &dyn StateRead,
) -> Result<Option<ValidatorSetChange>, StateError> {
    let now = PENDING.get(state)?;
    if now.is_some() && now != PENDING.get_committed(before)? {
        return Ok(now);
    }
    Ok(None)
}

/// Which epoch a block at `height` belongs to, and the set that certifies it, read from the
/// state after its parent.
pub fn set_for_height(
    parent_state: &dyn StateRead,
    height: Height,
) -> Result<(u64, Vec<AccountId>), StateError> {
    let epoch = EPOCH.get_committed(parent_state)?.unwrap_or(0);
    if let Some(pending) = PENDING.get_committed(parent_state)? {
        if pending.activates_at <= height {
            return Ok((epoch.saturating_add(1), pending.validators));
        }
    }
    Ok((
        epoch,
        CURRENT.get_committed(parent_state)?.unwrap_or_default(),
    ))
}

/// Whether the block at `height` (whose post-state is `state`) is the last of its epoch.
pub fn ends_epoch(state: &dyn StateRead, height: Height) -> Result<bool, StateError> {
    Ok(PENDING
        .get_committed(state)?
        .is_some_and(|pending| pending.activates_at == height.saturating_add(1)))
}

/// The current epoch and set in committed state.
pub fn current(state: &dyn StateRead) -> Result<(u64, Vec<AccountId>), StateError> {
    Ok((
        EPOCH.get_committed(state)?.unwrap_or(0),
        CURRENT.get_committed(state)?.unwrap_or_default(),
    ))
}

/// The scheduled change, if any, in committed state.
pub fn pending(state: &dyn StateRead) -> Result<Option<ValidatorSetChange>, StateError> {
    PENDING.get_committed(state)
}

/// The validator admin in committed state.
pub fn admin(state: &dyn StateRead) -> Result<AccountId, StateError> {
    Ok(ADMIN.get_committed(state)?.unwrap_or_default())
}

/// Recorded offences `from..from + limit`, oldest first, and how many there are in all.
pub fn offences(
    state: &dyn StateRead,
    from: u64,
    limit: u64,
) -> Result<(Vec<Offence>, u64), StateError> {
    let count = OFFENCE_COUNT.get_committed(state)?.unwrap_or(0);
    let mut found = Vec::new();
    for index in from..count.min(from.saturating_add(limit)) {
        if let Some(key) = OFFENCE_AT.get_committed(state, &index)? {
            if let Some(offence) = OFFENCES.get_committed(state, &key)? {
                found.push(offence);
            }
        }
    }
    Ok((found, count))
}

#[cfg(test)]
mod tests;
