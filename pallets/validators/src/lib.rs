//! The validators pallet: who finalizes blocks, from which height, and who was caught
//! signing two conflicting votes.
//!
//! Rules:
//! - **The set** comes from the chain spec at genesis (epoch 0). It changes by an enacted
//!   vote of the members ([`wijk_support::Collective::Members`], through the one origin
//!   check), or by the board within the chain spec's `boardChangeLimit`: the most validators
//!   one board change may add and remove together (default 2, so the board can swap out a
//!   broken validator; anything larger is the members' decision), so consensus stays under
//!   the members. A change takes effect at least [`MIN_CHANGE_DELAY`] blocks ahead, one
//!   change at a time. The block that schedules it announces it in its header (checked by
//!   execution), so a light client following certified headers learns the new set from the
//!   chain itself. At the activation height the next epoch begins: every block from that
//!   height on is certified by the new set, every block before it by the old. Each epoch's
//!   set is kept with the height it starts at and the height of the block that announced
//!   it ([`EpochInfo`]), so a light client knows which headers to follow.
//! - **Equivocation evidence**: anyone may submit two conflicting votes (see
//!   [`wijk_primitives::Vote::conflicts_with`]) signed by one validator of the epoch the
//!   votes belong to. The chain checks both signatures and records the offence once, with
//!   an event, so an auditor can list every offence ([`offences`]).
//!
//! Owns: `validators/epoch`, `validators/current`, `validators/epoch_info/<epoch>`,
//! `validators/pending`, `validators/board_change_limit`, `validators/offence/<offender, view>`, `validators/offence_log/<n>`,
//! `validators/offence_count`.
//! Must never: move money, touch nonces, or decide what consensus votes for (it only
//! records who may vote and who misbehaved).
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::{
    epoch_of_view, AccountId, Height, SignedVote, ValidatorSetChange, View, VoteError,
};
use wijk_support::{
    check, tri, BadOrigin, CallContext, Collective, Cost, DispatchResult, Involves, Origin,
    StateError, StateOverlay, StateRead, StorageLog, StorageMap, StorageValue,
};

/// The current epoch: how many set changes have taken effect.
pub const EPOCH: StorageValue<u64> = StorageValue::new(b"validators/epoch");
/// The set certifying blocks now (also in [`EPOCHS`] under [`EPOCH`]; kept apart so a light
/// client proves one key).
pub const CURRENT: StorageValue<Vec<AccountId>> = StorageValue::new(b"validators/current");
/// Every epoch's set, where it starts and what announced it, so evidence from an earlier
/// epoch can still be checked and a light client can follow every change.
pub const EPOCHS: StorageMap<u64, EpochInfo> = StorageMap::new(b"validators/epoch_info/");
/// The most validators one change by the board may add and remove together.
pub const BOARD_CHANGE_LIMIT: StorageValue<u32> =
    StorageValue::new(b"validators/board_change_limit");
/// The change scheduled and not yet in effect.
pub const PENDING: StorageValue<ScheduledChange> = StorageValue::new(b"validators/pending");
/// Recorded offences, by offender and view (at most one per pair): the index in [`OFFENCES`].
pub const OFFENCE_INDEX: StorageMap<(AccountId, View), u64> =
    StorageMap::new(b"validators/offence/");
/// Recorded offences, oldest first.
pub const OFFENCES: StorageLog<Offence> =
    StorageLog::new(b"validators/offence_log/", b"validators/offence_count");

/// One epoch of the validator set.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct EpochInfo {
    /// Its validators, in leader order.
    pub validators: Vec<AccountId>,
    /// The first height it certifies (1 for epoch 0).
    pub starts_at: Height,
    /// The block whose header announced it (`None` for epoch 0, set at genesis).
    pub announced_at: Option<Height>,
}

/// A change scheduled and not yet in effect.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct ScheduledChange {
    /// The change, as the announcing header carries it.
    pub change: ValidatorSetChange,
    /// The block that scheduled (and announced) it.
    pub announced_at: Height,
}

/// What executing a call costs: `scripts/bench-import --calibrate` measured 5.0 µs for a change to 100 validators and
/// 84 µs for equivocation evidence on the reference machine (2026-12-01).
pub mod costs {
    use wijk_support::Cost;
    /// Scheduling a change, per validator in the new set (a duplicate check and a write).
    pub const SCHEDULE_PER_VALIDATOR: Cost = Cost::nanos(500);
    /// Scheduling a change, besides its validators.
    pub const SCHEDULE: Cost = Cost::nanos(5_000);
    /// Checking equivocation evidence: two strict signature checks and a few records.
    pub const REPORT_EQUIVOCATION: Cost = Cost::nanos(120_000);
    /// The begin-block hook: one read, and at an activation height a few writes.
    pub const HOOKS: Cost = Cost::nanos(5_000);
}

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
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// The members by vote (or the board, within its limit): from height `activates_at` on,
    /// blocks are certified by `validators` (in leader order).
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
    /// The members by vote (or the board, within its limit): `validators` certify blocks
    /// from the soonest height a change may take effect ([`MIN_CHANGE_DELAY`] blocks on).
    /// What a proposal uses, since when it will be enacted is not the proposer's to know to
    /// the block.
    #[codec(index = 2)]
    ChangeSet {
        /// The new set, in leader order.
        validators: Vec<AccountId>,
    },
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
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

impl Involves for Event {
    fn involved_accounts(&self, accounts: &mut Vec<AccountId>) {
        match self {
            Event::ChangeScheduled { validators, .. } => accounts.extend(validators),
            Event::EquivocationRecorded { offender, .. } => accounts.push(*offender),
        }
    }
}

/// Why a call of this pallet failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// The call came from an origin that may not make it (the members change the set, the
    /// board only within its limit).
    #[error(transparent)]
    #[codec(index = 0)]
    BadOrigin(#[from] BadOrigin),
    /// A change is already scheduled.
    #[error("a change is already scheduled for height {activates_at}")]
    #[codec(index = 1)]
    ChangeAlreadyPending {
        /// When it takes effect.
        activates_at: Height,
    },
    /// Too soon: consensus needs time to see the change coming.
    #[error("the change must take effect at height {earliest} or later, not {requested}")]
    #[codec(index = 2)]
    TooSoon {
        /// The earliest allowed height.
        earliest: Height,
        /// The height asked for.
        requested: Height,
    },
    /// The new set is empty or too large.
    #[error("a validator set needs 1 to {max} members, not {count}")]
    #[codec(index = 3)]
    BadSetSize {
        /// Members given.
        count: u32,
        /// The limit.
        max: u32,
    },
    /// A validator appears twice.
    #[error("validator {validator:?} appears twice in the new set")]
    #[codec(index = 4)]
    DuplicateValidator {
        /// The duplicate.
        validator: AccountId,
    },
    /// The two votes are by different validators.
    #[error("the two votes are signed by different accounts")]
    #[codec(index = 5)]
    DifferentSigners,
    /// The two votes do not conflict (an honest validator could sign both).
    #[error("the two votes in views {first_view} and {second_view} do not conflict")]
    #[codec(index = 6)]
    NotConflicting {
        /// The first vote's view.
        first_view: View,
        /// The second's.
        second_view: View,
    },
    /// The signer was not a validator in the votes' epoch (or the epoch has not begun).
    #[error("{signer:?} was not a validator in epoch {epoch}")]
    #[codec(index = 7)]
    NotAValidator {
        /// The signer.
        signer: AccountId,
        /// The votes' epoch.
        epoch: u64,
    },
    /// A vote's signature does not verify.
    #[error("a vote's signature does not verify")]
    #[codec(index = 8)]
    BadSignature,
    /// This offence is already recorded.
    #[error("equivocation by {offender:?} in view {view} is already recorded")]
    #[codec(index = 9)]
    AlreadyRecorded {
        /// The offender.
        offender: AccountId,
        /// The view.
        view: View,
    },
    /// The board alone may change only so many validators at once.
    #[error("this change adds and removes {changed} validators; the board alone may change at most {limit}, more needs a vote of the members")]
    #[codec(index = 10)]
    BeyondBoardLimit {
        /// Validators added plus removed.
        changed: u32,
        /// The board's limit.
        limit: u32,
    },
}

/// The board's default limit: one validator swapped for another.
pub const DEFAULT_BOARD_CHANGE_LIMIT: u32 = 2;

fn default_board_change_limit() -> u32 {
    DEFAULT_BOARD_CHANGE_LIMIT
}

/// The validators' section of a chain spec's genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Genesis {
    /// The validators of epoch 0, in leader order.
    pub set: Vec<AccountId>,
    /// The most validators one change by the board alone may add and remove together
    /// (default 2: one swapped for another; 0: only the members change the set).
    #[serde(default = "default_board_change_limit")]
    pub board_change_limit: u32,
}

/// The validators pallet.
pub struct Pallet;

impl wijk_support::Pallet for Pallet {
    const NAME: &'static str = "validators";
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = Genesis;
    const HOOKS_COST: Cost = costs::HOOKS;

    fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
        check!(check_set(&config.set));
        BOARD_CHANGE_LIMIT.put(state, &config.board_change_limit);
        EPOCH.put(state, &0);
        CURRENT.put(state, &config.set);
        EPOCHS.insert(
            state,
            &0,
            &EpochInfo {
                validators: config.set.clone(),
                starts_at: 1,
                announced_at: None,
            },
        );
        Ok(Ok(()))
    }

    fn dispatch(
        ctx: &mut CallContext<'_, '_>,
        origin: &Origin,
        call: &Call,
    ) -> DispatchResult<Error> {
        match call {
            Call::ScheduleChange {
                validators,
                activates_at,
            } => {
                tri!(may_change_to(ctx, origin, validators));
                schedule_change(ctx, validators, *activates_at)
            }
            Call::ChangeSet { validators } => {
                tri!(may_change_to(ctx, origin, validators));
                let soonest = ctx.block().height.saturating_add(MIN_CHANGE_DELAY);
                schedule_change(ctx, validators, soonest)
            }
            Call::ReportEquivocation { first, second } => {
                let reporter = check!(origin.ensure_signed());
                report_equivocation(ctx, reporter, first, second)
            }
        }
    }

    fn cost(call: &Call) -> Cost {
        match call {
            Call::ScheduleChange { validators, .. } | Call::ChangeSet { validators } => {
                costs::SCHEDULE.plus(costs::SCHEDULE_PER_VALIDATOR.times(validators.len() as u64))
            }
            Call::ReportEquivocation { .. } => costs::REPORT_EQUIVOCATION,
        }
    }

    /// At the activation height, the next epoch begins.
    fn begin_block(ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
        let height = ctx.block().height;
        let Some(pending) = PENDING.get(&*ctx.state)? else {
            return Ok(());
        };
        if pending.change.activates_at != height {
            return Ok(());
        }
        let epoch = EPOCH.get(&*ctx.state)?.unwrap_or(0).saturating_add(1);
        EPOCH.put(ctx.state, &epoch);
        CURRENT.put(ctx.state, &pending.change.validators);
        EPOCHS.insert(
            ctx.state,
            &epoch,
            &EpochInfo {
                validators: pending.change.validators,
                starts_at: height,
                announced_at: Some(pending.announced_at),
            },
        );
        PENDING.remove(ctx.state);
        Ok(())
    }
}

impl Default for Genesis {
    fn default() -> Self {
        Genesis {
            set: Vec::new(),
            board_change_limit: DEFAULT_BOARD_CHANGE_LIMIT,
        }
    }
}

/// Whether `origin` may change the set to `validators`: the members always, the board
/// within its limit.
fn may_change_to(
    ctx: &CallContext<'_, '_>,
    origin: &Origin,
    validators: &[AccountId],
) -> DispatchResult<Error> {
    if ctx.ensure_decided_by(origin, Collective::Members)?.is_ok() {
        return Ok(Ok(()));
    }
    if ctx.ensure_decided_by(origin, Collective::Board)?.is_err() {
        return Ok(Err(origin
            .refused(wijk_support::Requirement::DecidedBy(Collective::Members))
            .into()));
    }
    // A malformed set is refused as such before it is measured against the limit.
    check!(check_set(validators));
    let current = CURRENT.get(&*ctx.state)?.unwrap_or_default();
    let added = validators.iter().filter(|v| !current.contains(v)).count();
    let removed = current.iter().filter(|v| !validators.contains(v)).count();
    let changed = u32::try_from(added + removed).unwrap_or(u32::MAX);
    let limit = BOARD_CHANGE_LIMIT
        .get(&*ctx.state)?
        .unwrap_or(DEFAULT_BOARD_CHANGE_LIMIT);
    if changed > limit {
        return Ok(Err(Error::BeyondBoardLimit { changed, limit }));
    }
    Ok(Ok(()))
}

/// Checks a set's size and that no validator appears twice.
fn check_set(validators: &[AccountId]) -> Result<(), Error> {
    if validators.is_empty() || validators.len() > MAX_VALIDATORS {
        return Err(Error::BadSetSize {
            count: u32::try_from(validators.len()).unwrap_or(u32::MAX),
            max: MAX_VALIDATORS as u32,
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for validator in validators {
        if !seen.insert(*validator) {
            return Err(Error::DuplicateValidator {
                validator: *validator,
            });
        }
    }
    Ok(())
}

fn schedule_change(
    ctx: &mut CallContext<'_, '_>,
    validators: &[AccountId],
    activates_at: Height,
) -> DispatchResult<Error> {
    if let Some(pending) = PENDING.get(&*ctx.state)? {
        return Ok(Err(Error::ChangeAlreadyPending {
            activates_at: pending.change.activates_at,
        }));
    }
    let height = ctx.block().height;
    let earliest = height.saturating_add(MIN_CHANGE_DELAY);
    if activates_at < earliest {
        return Ok(Err(Error::TooSoon {
            earliest,
            requested: activates_at,
        }));
    }
    check!(check_set(validators));
    let change = ValidatorSetChange {
        activates_at,
        validators: validators.to_vec(),
    };
    PENDING.put(
        ctx.state,
        &ScheduledChange {
            change,
            announced_at: height,
        },
    );
    ctx.deposit_event(Event::ChangeScheduled {
        activates_at,
        validators: validators.to_vec(),
    });
    Ok(Ok(()))
}

fn report_equivocation(
    ctx: &mut CallContext<'_, '_>,
    reporter: AccountId,
    first: &SignedVote,
    second: &SignedVote,
) -> DispatchResult<Error> {
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
    let set = EPOCHS
        .get(&*ctx.state, &epoch)?
        .map(|info| info.validators)
        .unwrap_or_default();
    let genesis_hash = ctx.block().genesis_hash;
    for vote in [first, second] {
        match vote.verify(genesis_hash, &set) {
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
    if OFFENCE_INDEX.contains(&*ctx.state, &(offender, view))? {
        return Ok(Err(Error::AlreadyRecorded { offender, view }));
    }
    let recorded_at = ctx.block().height;
    let index = OFFENCES.push(
        ctx.state,
        &Offence {
            offender,
            view,
            epoch,
            reporter,
            recorded_at,
            first: *first,
            second: *second,
        },
    )?;
    OFFENCE_INDEX.insert(ctx.state, &(offender, view), &index);
    ctx.deposit_event(Event::EquivocationRecorded {
        offender,
        view,
        reporter,
    });
    Ok(Ok(()))
}

/// The change this block scheduled, if any: what its header must announce. `before` is
/// the state the block started from.
pub fn scheduled_in_block(
    state: &dyn StateRead,
    before: &dyn StateRead,
) -> Result<Option<ValidatorSetChange>, StateError> {
    let now = PENDING.get(state)?;
    if now.is_some() && now != PENDING.get(before)? {
        return Ok(now.map(|scheduled| scheduled.change));
    }
    Ok(None)
}

/// Which epoch a block at `height` belongs to, and the set that certifies it, read from the
/// state after its parent.
pub fn set_for_height(
    parent_state: &dyn StateRead,
    height: Height,
) -> Result<(u64, Vec<AccountId>), StateError> {
    let epoch = EPOCH.get(parent_state)?.unwrap_or(0);
    if let Some(pending) = PENDING.get(parent_state)? {
        if pending.change.activates_at <= height {
            return Ok((epoch.saturating_add(1), pending.change.validators));
        }
    }
    Ok((epoch, CURRENT.get(parent_state)?.unwrap_or_default()))
}

/// Whether the block at `height` (whose post-state is `state`) is the last of its epoch.
pub fn ends_epoch(state: &dyn StateRead, height: Height) -> Result<bool, StateError> {
    Ok(PENDING
        .get(state)?
        .is_some_and(|pending| pending.change.activates_at == height.saturating_add(1)))
}

/// The current epoch and set.
pub fn current(state: &dyn StateRead) -> Result<(u64, Vec<AccountId>), StateError> {
    Ok((
        EPOCH.get(state)?.unwrap_or(0),
        CURRENT.get(state)?.unwrap_or_default(),
    ))
}

/// The scheduled change, if any.
pub fn pending(state: &dyn StateRead) -> Result<Option<ScheduledChange>, StateError> {
    PENDING.get(state)
}

/// Epochs `from..from + limit`, with their sets and where they start.
pub fn epochs(
    state: &dyn StateRead,
    from: u64,
    limit: usize,
) -> Result<Vec<(u64, EpochInfo)>, StateError> {
    Ok(EPOCHS
        .page(state, from.checked_sub(1).as_ref(), limit)?
        .entries)
}

/// Recorded offences `from..from + limit`, oldest first, and how many there are in all.
pub fn offences(
    state: &dyn StateRead,
    from: u64,
    limit: usize,
) -> Result<(Vec<Offence>, u64), StateError> {
    let found = OFFENCES
        .page(state, from, limit)?
        .into_iter()
        .map(|(_, offence)| offence)
        .collect();
    Ok((found, OFFENCES.len(state)?))
}

#[cfg(test)]
mod tests;
