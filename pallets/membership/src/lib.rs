//! The membership pallet: who belongs to the wijk, in which roles, and who may act for whom.
//!
//! Rules:
//! - **Only members transact.** The runtime refuses a transaction whose signer is not an
//!   active member, and the coin refuses to pay an account that is not one
//!   ([`wijk_support::Membership::check_signer`], `check_recipient`), unless the chain spec
//!   opens the chain to every account (`openAccounts`, on for `--dev`). A suspended member
//!   is refused on an open chain too.
//! - **Registration by intermediaries.** An intermediary registers a person with roles and a
//!   *registration tag*: a keyed hash of the person's normalised identity
//!   ([`registration_tag`]), computed off chain by the intermediary's wallet with the
//!   cooperative's secret. A tag registers one account, ever at a time: the same person
//!   registered twice, by the same or another intermediary, is refused, yet someone who
//!   guesses a person's details cannot test them against the chain without the secret. No
//!   personal data goes on chain. Intermediaries grant the everyday roles (resident,
//!   merchant, organisation, redemption partner); the roles that carry power (exchange
//!   office, intermediary, verifier, auditor, board) only the board grants. A merchant is
//!   registered with a [`Place`]: a location and a category.
//! - **Lost phone.** An intermediary may move a member to a new key ([`Call::Rekey`]). It
//!   takes effect only `rekeyDelayBlocks` later (a day by default), in the begin-block hook
//!   (at most [`MAX_REKEYS_PER_BLOCK`] a block; the rest wait for the next), and the old key,
//!   the intermediary or the board may cancel it meanwhile: an intermediary alone can never
//!   take a member's coins at once. The membership, roles, tag, guardian and coins (free
//!   and earmarked) move; coins held in escrow stay with their escrow, and the
//!   guardianships the old key held *for others* (an intermediary's own rekey) are not
//!   moved: the members or the board appoint the new key again.
//! - **Guardians.** A member (or the board) appoints an intermediary as guardian with a daily
//!   cap; the guardian signs transactions *on behalf of* the member (the runtime's
//!   `onBehalfOf` envelope), and every coin they move for the member counts against the cap
//!   of the current day (`guardianDayBlocks` blocks). The member, the guardian or the board
//!   revokes it.
//! - **Suspension and removal** by the board (through the one collective-origin check), with
//!   a reason in the event. Removing a member frees their tag; their coins stay on the
//!   account.
//!
//! Owns: `membership/config`, `membership/member/<account>`, `membership/tag/<tag>`,
//! `membership/rekey/<old>`, `membership/rekey_due/<due height><old>`,
//! `membership/rekey_to/<new>`, `membership/moved_to/<old>`, `membership/guardian/<member>`,
//! `membership/active_roles/<role set>`.
//! Must never: move coins except through [`wijk_support::Currency`], hold personal data, or
//! read another pallet's storage.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
// A call's error is built only when the call fails, and then goes into its receipt: its size
// (named accounts and amounts, so a resident reads why) costs nothing on the success path.
#![allow(clippy::result_large_err)]

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};
use wijk_primitives::json::euro;
use wijk_primitives::{AccountId, Cents, Hash, Height};
use wijk_support::{
    check, valid_category, BadOrigin, CallContext, Collective, Cost, DispatchResult,
    GuardianCapExceeded, Involves, Membership, MembershipError, Origin, Page, Place, Role, RoleSet,
    StateError, StateOverlay, StateRead, StorageMap, StorageValue, Voter,
};

/// The rules in force.
pub const CONFIG: StorageValue<Config> = StorageValue::new(b"membership/config");
/// Every member, by account.
pub const MEMBERS: StorageMap<AccountId, Member> = StorageMap::new(b"membership/member/");
/// Which account each registration tag registered.
pub const TAGS: StorageMap<Hash, AccountId> = StorageMap::new(b"membership/tag/");
/// Rekeys waiting for their delay, by the old account.
pub const PENDING_REKEYS: StorageMap<AccountId, PendingRekey> =
    StorageMap::new(b"membership/rekey/");
/// The same rekeys by the height they take effect, for the begin-block hook.
pub const REKEYS_DUE: StorageMap<(Height, AccountId), ()> =
    StorageMap::new(b"membership/rekey_due/");
/// The same rekeys by the new account, so two cannot aim at one key.
pub const REKEY_TARGETS: StorageMap<AccountId, AccountId> =
    StorageMap::new(b"membership/rekey_to/");
/// Where each key a member left by a rekey moved to, so coins owed to the old key (an
/// earmark that expires back to its funder) reach the member, not a key nobody uses.
pub const MOVED_TO: StorageMap<AccountId, AccountId> = StorageMap::new(b"membership/moved_to/");
/// How many active members hold each exact set of roles (a handful of entries: the role
/// sets in use), so the electorate of a vote is counted without walking the members.
pub const ACTIVE_ROLE_SETS: StorageMap<u16, u32> = StorageMap::new(b"membership/active_roles/");
/// Most rekeys [`Membership::current_key`] follows from one key.
pub const MAX_KEY_MOVES_FOLLOWED: usize = 16;
/// Each member's guardian, if they have one.
pub const GUARDIANS: StorageMap<AccountId, Guardianship> = StorageMap::new(b"membership/guardian/");

/// Most rekeys the begin-block hook completes in one block.
pub const MAX_REKEYS_PER_BLOCK: usize = 16;
/// Longest reason for a suspension or a removal, in bytes.
pub const MAX_REASON_BYTES: usize = 256;

/// What the calls cost. Each reads and writes a handful of records; the declared figures
/// keep several times the measured cost (`scripts/bench-import --calibrate`).
pub mod costs {
    use wijk_support::Cost;
    /// Registering: the member record and the tag.
    pub const REGISTER: Cost = Cost::micros(12);
    /// Any other call: one to three records.
    pub const MANAGE: Cost = Cost::micros(10);
    /// Completing one rekey in the hook: member, tag, guardian, and the coins.
    pub const COMPLETE_REKEY: Cost = Cost::micros(30);
}

/// The rules of membership, from the chain spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Config {
    /// Whether every account may transact (a chain without registration, such as `--dev`).
    pub open_accounts: bool,
    /// Blocks between an intermediary's rekey and its effect.
    pub rekey_delay_blocks: Height,
    /// Blocks in a guardian's day.
    pub guardian_day_blocks: Height,
}

/// Whether a member may act.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(
    tag = "status",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Status {
    /// May sign and receive.
    #[codec(index = 0)]
    Active,
    /// May neither sign nor receive, until reinstated.
    #[codec(index = 1)]
    Suspended {
        /// Why, as the board recorded it.
        reason: String,
        /// Since when.
        since: Height,
    },
}

/// What the chain keeps of a member.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// The roles held.
    pub roles: RoleSet,
    /// Active or suspended.
    pub status: Status,
    /// The registration tag (see [`registration_tag`]).
    pub tag: Hash,
    /// The intermediary who registered them; none for genesis members and the board's
    /// registrations.
    pub registered_by: Option<AccountId>,
    /// When (0 for genesis).
    pub since: Height,
    /// A merchant's place.
    pub place: Option<Place>,
}

impl Member {
    /// Whether the member may act.
    pub fn is_active(&self) -> bool {
        matches!(self.status, Status::Active)
    }
}

/// A rekey waiting for its delay.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingRekey {
    /// The member's new key.
    pub new: AccountId,
    /// Who asked for it (none for the board).
    pub requested_by: Option<AccountId>,
    /// The height at which it takes effect.
    pub due: Height,
}

/// A member's guardian and what they spent for them today.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Guardianship {
    /// The intermediary acting for the member.
    pub guardian: AccountId,
    /// Most they may move for the member in a day (euros in JSON).
    #[serde(with = "euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub daily_cap: Cents,
    /// The day `spent` counts (height / guardian day).
    pub day: u64,
    /// Moved for the member that day (euros in JSON).
    #[serde(with = "euro")]
    #[schemars(with = "wijk_primitives::json::EuroAmount")]
    pub spent: Cents,
}

/// The context string of the key derivation for registration tags (blake3 `derive_key`).
pub const TAG_KEY_CONTEXT: &str = "wijk-chain 2026-12 registration tag key v1";

/// An identity as the tag hashes it: letters and digits only, lowercase. So
/// `85.07.30-033.28` and `85073003328` are one identity, and so are `Jan  Peeters` and
/// `jan peeters`. Intermediaries should use the national register number (rijksregister /
/// BSN), which has one spelling; names differ in accents and order.
pub fn normalise_identity(identity: &str) -> String {
    identity
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The registration tag of a person: blake3 keyed with a key derived from the
/// cooperative's secret (which only intermediaries hold), over the normalised identity.
/// One person gives one tag whoever computes it, so a second registration is refused; and
/// without the secret, guessing a person's identity tells nothing about which tag is theirs.
pub fn registration_tag(cooperative_secret: &[u8], identity: &str) -> Hash {
    let key = blake3::derive_key(TAG_KEY_CONTEXT, cooperative_secret);
    Hash(*blake3::keyed_hash(&key, normalise_identity(identity).as_bytes()).as_bytes())
}

/// The tag of a genesis member listed without one (an organisation): derived from the
/// account, so it cannot collide with a person's.
pub fn genesis_tag(account: &AccountId) -> Hash {
    let mut input = b"wijk genesis member ".to_vec();
    input.extend_from_slice(account.as_bytes());
    Hash(*blake3::hash(&input).as_bytes())
}

/// Roles an intermediary may grant; the others carry power and only the board grants them.
pub const EVERYDAY_ROLES: [Role; 4] = [
    Role::Resident,
    Role::Merchant,
    Role::Organisation,
    Role::RedemptionPartner,
];

/// The calls of this pallet.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(
    tag = "call",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Call {
    /// An intermediary (or the board) registers `who` with `roles` under `tag`.
    #[codec(index = 0)]
    Register {
        /// The new member's account.
        who: AccountId,
        /// Their roles.
        roles: RoleSet,
        /// Their registration tag ([`registration_tag`]).
        tag: Hash,
        /// A merchant's place (required for merchants, refused for others).
        place: Option<Place>,
    },
    /// The board sets a member's roles (and place).
    #[codec(index = 1)]
    SetRoles {
        /// The member.
        who: AccountId,
        /// Their roles from now on.
        roles: RoleSet,
        /// A merchant's place.
        place: Option<Place>,
    },
    /// An intermediary (or the board) moves `who` to the key `new` after the delay.
    #[codec(index = 2)]
    Rekey {
        /// The member's current account.
        who: AccountId,
        /// Their new key.
        new: AccountId,
    },
    /// The member's old key, the intermediary who asked, or the board cancels a rekey.
    #[codec(index = 3)]
    CancelRekey {
        /// The member's current account.
        who: AccountId,
    },
    /// The member (or the board) appoints an intermediary as guardian.
    #[codec(index = 4)]
    AppointGuardian {
        /// The member.
        member: AccountId,
        /// The intermediary.
        guardian: AccountId,
        /// Most the guardian may move for the member in a day (euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        daily_cap: Cents,
    },
    /// The member, the guardian, or the board ends a guardianship.
    #[codec(index = 5)]
    RevokeGuardian {
        /// The member.
        member: AccountId,
    },
    /// The board suspends a member.
    #[codec(index = 6)]
    Suspend {
        /// The member.
        who: AccountId,
        /// Why (recorded in the event, at most [`MAX_REASON_BYTES`]).
        reason: String,
    },
    /// The board lifts a suspension.
    #[codec(index = 7)]
    Reinstate {
        /// The member.
        who: AccountId,
    },
    /// The board removes a member; their tag is freed, their coins stay on the account.
    #[codec(index = 8)]
    Remove {
        /// The member.
        who: AccountId,
        /// Why.
        reason: String,
    },
}

/// What happened. `by` is the account that signed, or none for a collective decision.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, schemars::JsonSchema)]
#[serde(tag = "event", rename_all_fields = "camelCase")]
pub enum Event {
    /// A member was registered.
    #[codec(index = 0)]
    Registered {
        /// The member.
        who: AccountId,
        /// Their roles.
        roles: RoleSet,
        /// Who registered them.
        by: Option<AccountId>,
    },
    /// A member's roles changed.
    #[codec(index = 1)]
    RolesSet {
        /// The member.
        who: AccountId,
        /// Their roles from now on.
        roles: RoleSet,
        /// Who decided.
        by: Option<AccountId>,
    },
    /// A rekey was asked for; it takes effect at `due` unless cancelled.
    #[codec(index = 2)]
    RekeyRequested {
        /// The member's current key.
        old: AccountId,
        /// Their new key.
        new: AccountId,
        /// When it takes effect.
        due: Height,
        /// Who asked.
        by: Option<AccountId>,
    },
    /// A rekey was cancelled.
    #[codec(index = 3)]
    RekeyCancelled {
        /// The member's key.
        old: AccountId,
        /// The key that was asked for.
        new: AccountId,
        /// Who cancelled.
        by: Option<AccountId>,
    },
    /// A member moved to a new key with their roles, tag, guardian and `moved` coins.
    #[codec(index = 4)]
    Rekeyed {
        /// The old key.
        old: AccountId,
        /// The new key.
        new: AccountId,
        /// Coins moved (euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        moved: Cents,
    },
    /// A rekey fell through when due (the member was removed, or the new key was taken).
    #[codec(index = 5)]
    RekeyLapsed {
        /// The old key.
        old: AccountId,
        /// The new key.
        new: AccountId,
        /// Why.
        why: String,
    },
    /// A guardian was appointed.
    #[codec(index = 6)]
    GuardianAppointed {
        /// The member.
        member: AccountId,
        /// The intermediary.
        guardian: AccountId,
        /// Their cap per day (euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        daily_cap: Cents,
        /// Who appointed them.
        by: Option<AccountId>,
    },
    /// A guardianship ended.
    #[codec(index = 7)]
    GuardianRevoked {
        /// The member.
        member: AccountId,
        /// The former guardian.
        guardian: AccountId,
        /// Who ended it.
        by: Option<AccountId>,
    },
    /// A guardian moved a member's coins.
    #[codec(index = 8)]
    GuardianSpent {
        /// The guardian who signed.
        guardian: AccountId,
        /// The member whose coins moved.
        member: AccountId,
        /// How much (euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        amount: Cents,
        /// Spent today, this included (euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        spent_today: Cents,
        /// The cap per day (euros in JSON).
        #[serde(with = "euro")]
        #[schemars(with = "wijk_primitives::json::EuroAmount")]
        daily_cap: Cents,
    },
    /// A member was suspended.
    #[codec(index = 9)]
    Suspended {
        /// The member.
        who: AccountId,
        /// Why.
        reason: String,
        /// Who decided.
        by: Option<AccountId>,
    },
    /// A suspension was lifted.
    #[codec(index = 10)]
    Reinstated {
        /// The member.
        who: AccountId,
        /// Who decided.
        by: Option<AccountId>,
    },
    /// A member was removed.
    #[codec(index = 11)]
    Removed {
        /// The former member.
        who: AccountId,
        /// Why.
        reason: String,
        /// Who decided.
        by: Option<AccountId>,
    },
}

impl Involves for Event {
    fn involved_accounts(&self, accounts: &mut Vec<AccountId>) {
        let by = |accounts: &mut Vec<AccountId>, by: &Option<AccountId>| accounts.extend(*by);
        match self {
            Event::Registered { who, by: b, .. }
            | Event::RolesSet { who, by: b, .. }
            | Event::Suspended { who, by: b, .. }
            | Event::Reinstated { who, by: b }
            | Event::Removed { who, by: b, .. } => {
                accounts.push(*who);
                by(accounts, b);
            }
            Event::RekeyRequested {
                old, new, by: b, ..
            }
            | Event::RekeyCancelled { old, new, by: b } => {
                accounts.extend([*old, *new]);
                by(accounts, b);
            }
            Event::Rekeyed { old, new, .. } | Event::RekeyLapsed { old, new, .. } => {
                accounts.extend([*old, *new])
            }
            Event::GuardianAppointed {
                member,
                guardian,
                by: b,
                ..
            }
            | Event::GuardianRevoked {
                member,
                guardian,
                by: b,
            } => {
                accounts.extend([*member, *guardian]);
                by(accounts, b);
            }
            Event::GuardianSpent {
                guardian, member, ..
            } => accounts.extend([*guardian, *member]),
        }
    }
}

/// Why a membership call failed.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum Error {
    /// The caller may not make this call.
    #[error(transparent)]
    #[codec(index = 0)]
    BadOrigin(#[from] BadOrigin),
    /// Only an intermediary or the board registers and rekeys members.
    #[error(
        "{caller} is neither an intermediary nor the board: only they register or rekey members"
    )]
    #[codec(index = 1)]
    NotRegistrar {
        /// Who called.
        caller: Origin,
    },
    /// The account is a member already.
    #[error("{who:?} is already a member")]
    #[codec(index = 2)]
    AlreadyMember {
        /// The account.
        who: AccountId,
    },
    /// The tag registered someone already: the same person cannot register twice.
    #[error("this person is already registered (tag {tag:?} belongs to {member:?}); to move them to a new key, use rekey")]
    #[codec(index = 3)]
    TagInUse {
        /// The tag.
        tag: Hash,
        /// Whom it registered.
        member: AccountId,
    },
    /// A member needs at least one role.
    #[error("a member needs at least one role")]
    #[codec(index = 4)]
    NoRoles,
    /// An intermediary tried to grant a role only the board grants.
    #[error("only the board may grant the role '{role}'")]
    #[codec(index = 5)]
    RoleNeedsBoard {
        /// The role.
        role: Role,
    },
    /// A merchant needs a place.
    #[error("a merchant is registered with a place: a location and a category")]
    #[codec(index = 6)]
    MerchantNeedsPlace,
    /// Only merchants have a place.
    #[error("only merchants are registered with a place")]
    #[codec(index = 7)]
    PlaceNeedsMerchant,
    /// The category is not a well-formed name.
    #[error("category '{category}' must be 1 to 32 lowercase letters, digits or dashes")]
    #[codec(index = 8)]
    BadCategory {
        /// What was given.
        category: String,
    },
    /// The location is off the globe.
    #[error("the location is off the globe")]
    #[codec(index = 9)]
    BadLocation,
    /// The account is not a member (or not one who may act).
    #[error(transparent)]
    #[codec(index = 10)]
    Membership(#[from] MembershipError),
    /// A rekey of this member is waiting already.
    #[error("{who:?} is already being moved to {new:?} at height {due}; cancel that first")]
    #[codec(index = 11)]
    RekeyPending {
        /// The member.
        who: AccountId,
        /// The key asked for.
        new: AccountId,
        /// When it takes effect.
        due: Height,
    },
    /// No rekey of this member is waiting.
    #[error("no rekey of {who:?} is waiting")]
    #[codec(index = 12)]
    NoRekeyPending {
        /// The member.
        who: AccountId,
    },
    /// The new key is a member already or the target of another rekey.
    #[error("the new key {new:?} is already a member or the target of another rekey")]
    #[codec(index = 13)]
    NewKeyInUse {
        /// The key.
        new: AccountId,
    },
    /// The new key is the old one.
    #[error("the new key is the member's current key")]
    #[codec(index = 14)]
    SameKey,
    /// Only the old key, the intermediary who asked, or the board may cancel a rekey.
    #[error("{caller} may not cancel the rekey of {who:?}: only its old key, the intermediary who asked for it, or the board")]
    #[codec(index = 15)]
    MayNotCancel {
        /// The member.
        who: AccountId,
        /// Who tried.
        caller: Origin,
    },
    /// A guardian's cap must be more than zero.
    #[error("a guardian's daily cap must be more than zero")]
    #[codec(index = 16)]
    ZeroCap,
    /// A member cannot be their own guardian.
    #[error("a member cannot be their own guardian")]
    #[codec(index = 17)]
    OwnGuardian,
    /// The member has no guardian.
    #[error("{member:?} has no guardian")]
    #[codec(index = 18)]
    NoGuardian {
        /// The member.
        member: AccountId,
    },
    /// Only the member, their guardian or the board may do this.
    #[error("{caller} may not change the guardian of {member:?}: only the member, their guardian (to step down) or the board")]
    #[codec(index = 19)]
    NotTheMember {
        /// The member.
        member: AccountId,
        /// Who tried.
        caller: Origin,
    },
    /// The member is not suspended.
    #[error("{who:?} is not suspended")]
    #[codec(index = 20)]
    NotSuspended {
        /// The member.
        who: AccountId,
    },
    /// The reason is too long.
    #[error("the reason is {len} bytes; at most {max} are allowed")]
    #[codec(index = 21)]
    ReasonTooLong {
        /// Its length.
        len: u32,
        /// The limit.
        max: u32,
    },
    /// The reason is empty.
    #[error("give a reason: it is recorded for the member and the auditors")]
    #[codec(index = 22)]
    NoReason,
}

/// A member listed in the chain spec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenesisMember {
    /// The account.
    pub account: AccountId,
    /// Its roles.
    pub roles: RoleSet,
    /// Its registration tag; organisations may leave it out ([`genesis_tag`]).
    #[serde(default)]
    pub tag: Option<Hash>,
    /// A merchant's place.
    #[serde(default)]
    pub place: Option<Place>,
}

/// The membership pallet's section of a chain spec's genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Genesis {
    /// Whether every account may transact without registration (default: no).
    pub open_accounts: bool,
    /// Blocks between an intermediary's rekey and its effect (default: 86,400, a day of
    /// one-second blocks).
    pub rekey_delay_blocks: Height,
    /// Blocks in a guardian's day (default 86,400).
    pub guardian_day_blocks: Height,
    /// The members at genesis.
    pub members: Vec<GenesisMember>,
}

/// A day of one-second blocks.
pub const DAY_OF_BLOCKS: Height = 86_400;

impl Default for Genesis {
    fn default() -> Self {
        Genesis {
            open_accounts: false,
            rekey_delay_blocks: DAY_OF_BLOCKS,
            guardian_day_blocks: DAY_OF_BLOCKS,
            members: Vec::new(),
        }
    }
}

/// The rules in force (a chain without a membership section in state is closed, with the
/// default delays).
pub fn config(state: &dyn StateRead) -> Result<Config, StateError> {
    Ok(CONFIG.get(state)?.unwrap_or(Config {
        open_accounts: false,
        rekey_delay_blocks: DAY_OF_BLOCKS,
        guardian_day_blocks: DAY_OF_BLOCKS,
    }))
}

/// The record of `who`, if a member (active or suspended).
pub fn member(state: &dyn StateRead, who: &AccountId) -> Result<Option<Member>, StateError> {
    MEMBERS.get(state, who)
}

/// The rekey of `who` waiting, if any.
pub fn pending_rekey(
    state: &dyn StateRead,
    who: &AccountId,
) -> Result<Option<PendingRekey>, StateError> {
    PENDING_REKEYS.get(state, who)
}

/// The guardian of `member`, if any.
pub fn guardianship(
    state: &dyn StateRead,
    member: &AccountId,
) -> Result<Option<Guardianship>, StateError> {
    GUARDIANS.get(state, member)
}

/// Up to `limit` members after `after` in account order, holding `role` if given. Reads at
/// most `16 * limit` records, so a rare role may return fewer than `limit` with a `next`
/// to continue from.
pub fn list(
    state: &dyn StateRead,
    after: Option<&AccountId>,
    limit: usize,
    role: Option<Role>,
) -> Result<Page<AccountId, Member>, StateError> {
    let Some(role) = role else {
        return MEMBERS.page(state, after, limit);
    };
    let mut cursor = after.copied();
    let mut entries = Vec::new();
    let mut budget = limit.saturating_mul(16).max(16);
    loop {
        let page = MEMBERS.page(state, cursor.as_ref(), budget.min(256))?;
        budget = budget.saturating_sub(page.entries.len());
        for (account, record) in page.entries {
            cursor = Some(account);
            if record.roles.contains(role) {
                entries.push((account, record));
                if entries.len() == limit {
                    return Ok(Page {
                        entries,
                        next: cursor,
                    });
                }
            }
        }
        match page.next {
            Some(_) if budget > 0 => {}
            Some(_) => {
                return Ok(Page {
                    entries,
                    next: cursor,
                })
            }
            None => {
                return Ok(Page {
                    entries,
                    next: None,
                })
            }
        }
    }
}

/// The account that signed, for events (none for a collective decision or the chain).
fn actor(origin: &Origin) -> Option<AccountId> {
    match origin {
        Origin::Signed(account) => Some(*account),
        Origin::Guardian { guardian, .. } => Some(*guardian),
        Origin::Collective(_) | Origin::Root => None,
    }
}

/// Who may register and rekey: the board (any role) or an intermediary (everyday roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Registrar {
    Board,
    Intermediary(AccountId),
}

fn registrar(
    ctx: &CallContext<'_, '_>,
    origin: &Origin,
) -> Result<Result<Registrar, Error>, StateError> {
    if ctx.ensure_decided_by(origin, Collective::Board)?.is_ok() {
        return Ok(Ok(Registrar::Board));
    }
    if let Origin::Signed(account) = origin {
        if Pallet.has_role(&*ctx.state, account, Role::Intermediary)? {
            return Ok(Ok(Registrar::Intermediary(*account)));
        }
    }
    Ok(Err(Error::NotRegistrar { caller: *origin }))
}

fn check_reason(reason: &str) -> Result<(), Error> {
    if reason.trim().is_empty() {
        return Err(Error::NoReason);
    }
    if reason.len() > MAX_REASON_BYTES {
        return Err(Error::ReasonTooLong {
            len: reason.len() as u32,
            max: MAX_REASON_BYTES as u32,
        });
    }
    Ok(())
}

/// Checks roles and place together: some role, a place exactly for merchants, well formed.
fn check_roles_and_place(roles: RoleSet, place: &Option<Place>) -> Result<(), Error> {
    if roles.is_empty() {
        return Err(Error::NoRoles);
    }
    match (roles.contains(Role::Merchant), place) {
        (true, None) => Err(Error::MerchantNeedsPlace),
        (false, Some(_)) => Err(Error::PlaceNeedsMerchant),
        (_, Some(place)) if !valid_category(&place.category) => Err(Error::BadCategory {
            category: place.category.clone(),
        }),
        (_, Some(place)) if !place.location.is_on_globe() => Err(Error::BadLocation),
        _ => Ok(()),
    }
}

fn active_member(
    state: &dyn StateRead,
    who: &AccountId,
) -> Result<Result<Member, Error>, StateError> {
    Ok(match MEMBERS.get(state, who)? {
        Some(record) if record.is_active() => Ok(record),
        Some(record) => Err(suspended(who, &record).into()),
        None => Err(MembershipError::NotMember { account: *who }.into()),
    })
}

fn suspended(who: &AccountId, record: &Member) -> MembershipError {
    match &record.status {
        Status::Suspended { reason, .. } => MembershipError::Suspended {
            account: *who,
            reason: reason.clone(),
        },
        Status::Active => MembershipError::NotMember { account: *who },
    }
}

/// Writes (or, with `None`, removes) the record of `who`, keeping the count of active
/// members per role set in step. Every change to a member record goes through here.
fn write_member(
    state: &mut StateOverlay<'_>,
    who: &AccountId,
    record: Option<&Member>,
) -> Result<(), StateError> {
    let before = MEMBERS.get(&*state, who)?;
    let counted = |record: Option<&Member>| {
        record
            .filter(|record| record.is_active())
            .map(|record| record.roles.0)
    };
    let (old, new) = (counted(before.as_ref()), counted(record));
    if old != new {
        if let Some(set) = old {
            let count = ACTIVE_ROLE_SETS.get(&*state, &set)?.unwrap_or(0);
            match count.saturating_sub(1) {
                0 => ACTIVE_ROLE_SETS.remove(state, &set),
                left => ACTIVE_ROLE_SETS.insert(state, &set, &left),
            }
        }
        if let Some(set) = new {
            let count = ACTIVE_ROLE_SETS.get(&*state, &set)?.unwrap_or(0);
            ACTIVE_ROLE_SETS.insert(state, &set, &count.saturating_add(1));
        }
    }
    match record {
        Some(record) => MEMBERS.insert(state, who, record),
        None => MEMBERS.remove(state, who),
    }
    Ok(())
}

fn forget_rekey(state: &mut StateOverlay<'_>, old: &AccountId, pending: &PendingRekey) {
    PENDING_REKEYS.remove(state, old);
    REKEYS_DUE.remove(state, &(pending.due, *old));
    REKEY_TARGETS.remove(state, &pending.new);
}

/// The membership pallet (and, as [`Membership`], who belongs for every other pallet).
pub struct Pallet;

impl wijk_support::Pallet for Pallet {
    const NAME: &'static str = "membership";
    type Call = Call;
    type Event = Event;
    type Error = Error;
    type Genesis = Genesis;

    const HOOKS_COST: Cost = costs::COMPLETE_REKEY.times(MAX_REKEYS_PER_BLOCK as u64);

    fn build_genesis(state: &mut StateOverlay<'_>, config: &Genesis) -> DispatchResult<Error> {
        CONFIG.put(
            state,
            &Config {
                open_accounts: config.open_accounts,
                rekey_delay_blocks: config.rekey_delay_blocks,
                guardian_day_blocks: config.guardian_day_blocks.max(1),
            },
        );
        for listed in &config.members {
            check!(check_roles_and_place(listed.roles, &listed.place));
            if MEMBERS.contains(&*state, &listed.account)? {
                return Ok(Err(Error::AlreadyMember {
                    who: listed.account,
                }));
            }
            let tag = listed.tag.unwrap_or_else(|| genesis_tag(&listed.account));
            if let Some(member) = TAGS.get(&*state, &tag)? {
                return Ok(Err(Error::TagInUse { tag, member }));
            }
            TAGS.insert(state, &tag, &listed.account);
            write_member(
                state,
                &listed.account,
                Some(&Member {
                    roles: listed.roles,
                    status: Status::Active,
                    tag,
                    registered_by: None,
                    since: 0,
                    place: listed.place.clone(),
                }),
            )?;
        }
        Ok(Ok(()))
    }

    fn dispatch(
        ctx: &mut CallContext<'_, '_>,
        origin: &Origin,
        call: &Call,
    ) -> DispatchResult<Error> {
        let by = actor(origin);
        let height = ctx.block().height;
        match call {
            Call::Register {
                who,
                roles,
                tag,
                place,
            } => {
                let registrar = check!(registrar(ctx, origin)?);
                check!(check_roles_and_place(*roles, place));
                if let Registrar::Intermediary(_) = registrar {
                    if let Some(role) = roles
                        .roles()
                        .into_iter()
                        .find(|role| !EVERYDAY_ROLES.contains(role))
                    {
                        return Ok(Err(Error::RoleNeedsBoard { role }));
                    }
                }
                if MEMBERS.contains(&*ctx.state, who)?
                    || REKEY_TARGETS.contains(&*ctx.state, who)?
                {
                    return Ok(Err(Error::AlreadyMember { who: *who }));
                }
                if let Some(member) = TAGS.get(&*ctx.state, tag)? {
                    return Ok(Err(Error::TagInUse { tag: *tag, member }));
                }
                TAGS.insert(ctx.state, tag, who);
                // A key registered anew is its own member's key again.
                MOVED_TO.remove(ctx.state, who);
                write_member(
                    ctx.state,
                    who,
                    Some(&Member {
                        roles: *roles,
                        status: Status::Active,
                        tag: *tag,
                        registered_by: match registrar {
                            Registrar::Intermediary(account) => Some(account),
                            Registrar::Board => None,
                        },
                        since: height,
                        place: place.clone(),
                    }),
                )?;
                ctx.deposit_event(Event::Registered {
                    who: *who,
                    roles: *roles,
                    by,
                });
                Ok(Ok(()))
            }
            Call::SetRoles { who, roles, place } => {
                check!(ctx.ensure_decided_by(origin, Collective::Board)?);
                check!(check_roles_and_place(*roles, place));
                let Some(mut record) = MEMBERS.get(&*ctx.state, who)? else {
                    return Ok(Err(MembershipError::NotMember { account: *who }.into()));
                };
                record.roles = *roles;
                record.place = place.clone();
                write_member(ctx.state, who, Some(&record))?;
                ctx.deposit_event(Event::RolesSet {
                    who: *who,
                    roles: *roles,
                    by,
                });
                Ok(Ok(()))
            }
            Call::Rekey { who, new } => {
                let registrar = check!(registrar(ctx, origin)?);
                if who == new {
                    return Ok(Err(Error::SameKey));
                }
                let record = match registrar {
                    // The board may move a suspended member too: a stolen key, suspended,
                    // cannot then cancel its owner's recovery.
                    Registrar::Board => match MEMBERS.get(&*ctx.state, who)? {
                        Some(record) => record,
                        None => {
                            return Ok(Err(MembershipError::NotMember { account: *who }.into()))
                        }
                    },
                    Registrar::Intermediary(_) => check!(active_member(&*ctx.state, who)?),
                };
                // An intermediary moves only everyday members: moving a key that holds
                // power (an exchange office, the board) is the board's decision.
                if let Registrar::Intermediary(_) = registrar {
                    if let Some(role) = record
                        .roles
                        .roles()
                        .into_iter()
                        .find(|role| !EVERYDAY_ROLES.contains(role))
                    {
                        return Ok(Err(Error::RoleNeedsBoard { role }));
                    }
                }
                if let Some(pending) = PENDING_REKEYS.get(&*ctx.state, who)? {
                    return Ok(Err(Error::RekeyPending {
                        who: *who,
                        new: pending.new,
                        due: pending.due,
                    }));
                }
                if MEMBERS.contains(&*ctx.state, new)?
                    || REKEY_TARGETS.contains(&*ctx.state, new)?
                {
                    return Ok(Err(Error::NewKeyInUse { new: *new }));
                }
                let delay = config(&*ctx.state)?.rekey_delay_blocks;
                let due = height.saturating_add(delay.max(1));
                let pending = PendingRekey {
                    new: *new,
                    requested_by: match registrar {
                        Registrar::Intermediary(account) => Some(account),
                        Registrar::Board => None,
                    },
                    due,
                };
                PENDING_REKEYS.insert(ctx.state, who, &pending);
                REKEYS_DUE.insert(ctx.state, &(due, *who), &());
                REKEY_TARGETS.insert(ctx.state, new, who);
                ctx.deposit_event(Event::RekeyRequested {
                    old: *who,
                    new: *new,
                    due,
                    by,
                });
                Ok(Ok(()))
            }
            Call::CancelRekey { who } => {
                let Some(pending) = PENDING_REKEYS.get(&*ctx.state, who)? else {
                    return Ok(Err(Error::NoRekeyPending { who: *who }));
                };
                // The old key may cancel (the protection against anyone taking a member's
                // coins). A stolen key cannot block its owner's recovery: the board
                // suspends it first, and a suspended key signs nothing.
                let allowed = match origin {
                    Origin::Signed(caller) => {
                        caller == who
                            || Some(*caller) == pending.requested_by
                            || ctx.ensure_decided_by(origin, Collective::Board)?.is_ok()
                    }
                    _ => ctx.ensure_decided_by(origin, Collective::Board)?.is_ok(),
                };
                if !allowed {
                    return Ok(Err(Error::MayNotCancel {
                        who: *who,
                        caller: *origin,
                    }));
                }
                forget_rekey(ctx.state, who, &pending);
                ctx.deposit_event(Event::RekeyCancelled {
                    old: *who,
                    new: pending.new,
                    by,
                });
                Ok(Ok(()))
            }
            Call::AppointGuardian {
                member,
                guardian,
                daily_cap,
            } => {
                let own = matches!(origin, Origin::Signed(caller) if caller == member);
                if !own && ctx.ensure_decided_by(origin, Collective::Board)?.is_err() {
                    return Ok(Err(Error::NotTheMember {
                        member: *member,
                        caller: *origin,
                    }));
                }
                if member == guardian {
                    return Ok(Err(Error::OwnGuardian));
                }
                if *daily_cap == 0 {
                    return Ok(Err(Error::ZeroCap));
                }
                check!(active_member(&*ctx.state, member)?);
                if !Pallet.has_role(&*ctx.state, guardian, Role::Intermediary)? {
                    return Ok(Err(MembershipError::MissingRole {
                        account: *guardian,
                        role: Role::Intermediary,
                    }
                    .into()));
                }
                GUARDIANS.insert(
                    ctx.state,
                    member,
                    &Guardianship {
                        guardian: *guardian,
                        daily_cap: *daily_cap,
                        day: 0,
                        spent: 0,
                    },
                );
                ctx.deposit_event(Event::GuardianAppointed {
                    member: *member,
                    guardian: *guardian,
                    daily_cap: *daily_cap,
                    by,
                });
                Ok(Ok(()))
            }
            Call::RevokeGuardian { member } => {
                let Some(current) = GUARDIANS.get(&*ctx.state, member)? else {
                    return Ok(Err(Error::NoGuardian { member: *member }));
                };
                let allowed = match origin {
                    Origin::Signed(caller) if caller == member || *caller == current.guardian => {
                        true
                    }
                    _ => ctx.ensure_decided_by(origin, Collective::Board)?.is_ok(),
                };
                if !allowed {
                    return Ok(Err(Error::NotTheMember {
                        member: *member,
                        caller: *origin,
                    }));
                }
                GUARDIANS.remove(ctx.state, member);
                ctx.deposit_event(Event::GuardianRevoked {
                    member: *member,
                    guardian: current.guardian,
                    by,
                });
                Ok(Ok(()))
            }
            Call::Suspend { who, reason } => {
                check!(ctx.ensure_decided_by(origin, Collective::Board)?);
                check!(check_reason(reason));
                let mut record = check!(active_member(&*ctx.state, who)?);
                record.status = Status::Suspended {
                    reason: reason.clone(),
                    since: height,
                };
                write_member(ctx.state, who, Some(&record))?;
                ctx.deposit_event(Event::Suspended {
                    who: *who,
                    reason: reason.clone(),
                    by,
                });
                Ok(Ok(()))
            }
            Call::Reinstate { who } => {
                check!(ctx.ensure_decided_by(origin, Collective::Board)?);
                let Some(mut record) = MEMBERS.get(&*ctx.state, who)? else {
                    return Ok(Err(MembershipError::NotMember { account: *who }.into()));
                };
                if record.is_active() {
                    return Ok(Err(Error::NotSuspended { who: *who }));
                }
                record.status = Status::Active;
                write_member(ctx.state, who, Some(&record))?;
                ctx.deposit_event(Event::Reinstated { who: *who, by });
                Ok(Ok(()))
            }
            Call::Remove { who, reason } => {
                check!(ctx.ensure_decided_by(origin, Collective::Board)?);
                check!(check_reason(reason));
                let Some(record) = MEMBERS.get(&*ctx.state, who)? else {
                    return Ok(Err(MembershipError::NotMember { account: *who }.into()));
                };
                write_member(ctx.state, who, None)?;
                TAGS.remove(ctx.state, &record.tag);
                GUARDIANS.remove(ctx.state, who);
                if let Some(pending) = PENDING_REKEYS.get(&*ctx.state, who)? {
                    forget_rekey(ctx.state, who, &pending);
                }
                ctx.deposit_event(Event::Removed {
                    who: *who,
                    reason: reason.clone(),
                    by,
                });
                Ok(Ok(()))
            }
        }
    }

    fn cost(call: &Call) -> Cost {
        match call {
            Call::Register { .. } => costs::REGISTER,
            _ => costs::MANAGE,
        }
    }

    /// Completes the rekeys whose delay ended, oldest first, at most
    /// [`MAX_REKEYS_PER_BLOCK`] a block.
    fn begin_block(ctx: &mut CallContext<'_, '_>) -> Result<(), StateError> {
        let height = ctx.block().height;
        let due = REKEYS_DUE.page(&*ctx.state, None, MAX_REKEYS_PER_BLOCK)?;
        for ((due_at, old), ()) in due.entries {
            if due_at > height {
                break;
            }
            // Removed whatever happens next, so a stale entry cannot block the queue.
            REKEYS_DUE.remove(ctx.state, &(due_at, old));
            complete_rekey(ctx, &old)?;
        }
        Ok(())
    }
}

fn complete_rekey(ctx: &mut CallContext<'_, '_>, old: &AccountId) -> Result<(), StateError> {
    let Some(pending) = PENDING_REKEYS.get(&*ctx.state, old)? else {
        return Ok(());
    };
    forget_rekey(ctx.state, old, &pending);
    let new = pending.new;
    let lapsed = |ctx: &mut CallContext<'_, '_>, why: &str| {
        ctx.deposit_event(Event::RekeyLapsed {
            old: *old,
            new,
            why: why.to_string(),
        })
    };
    let Some(record) = MEMBERS.get(&*ctx.state, old)? else {
        lapsed(ctx, "the member was removed");
        return Ok(());
    };
    if MEMBERS.contains(&*ctx.state, &new)? {
        lapsed(ctx, "the new key became a member meanwhile");
        return Ok(());
    }
    let moved = match ctx.currency().move_holdings(ctx, old, &new)? {
        Ok(moved) => moved,
        Err(error) => {
            lapsed(ctx, &format!("the coins could not move: {error}"));
            return Ok(());
        }
    };
    write_member(ctx.state, old, None)?;
    write_member(ctx.state, &new, Some(&record))?;
    TAGS.insert(ctx.state, &record.tag, &new);
    MOVED_TO.insert(ctx.state, old, &new);
    MOVED_TO.remove(ctx.state, &new);
    if let Some(guardianship) = GUARDIANS.get(&*ctx.state, old)? {
        GUARDIANS.remove(ctx.state, old);
        GUARDIANS.insert(ctx.state, &new, &guardianship);
    }
    ctx.deposit_event(Event::Rekeyed {
        old: *old,
        new,
        moved,
    });
    Ok(())
}

impl Membership for Pallet {
    fn current_key(&self, state: &dyn StateRead, who: &AccountId) -> Result<AccountId, StateError> {
        let mut key = *who;
        for _ in 0..MAX_KEY_MOVES_FOLLOWED {
            match MOVED_TO.get(state, &key)? {
                Some(next) if next != *who => key = next,
                _ => break,
            }
        }
        Ok(key)
    }

    fn voter(&self, state: &dyn StateRead, who: &AccountId) -> Result<Option<Voter>, StateError> {
        Ok(MEMBERS
            .get(state, who)?
            .filter(Member::is_active)
            .map(|record| Voter {
                person: record.tag,
                since: record.since,
                roles: record.roles,
            }))
    }

    fn account_of_person(
        &self,
        state: &dyn StateRead,
        person: &Hash,
    ) -> Result<Option<AccountId>, StateError> {
        TAGS.get(state, person)
    }

    fn count_holding_any(&self, state: &dyn StateRead, roles: RoleSet) -> Result<u32, StateError> {
        let mut count = 0u32;
        ACTIVE_ROLE_SETS.for_each(state, |set, members| {
            if set & roles.0 != 0 {
                count = count.saturating_add(members);
            }
        })?;
        Ok(count)
    }

    fn is_member(&self, state: &dyn StateRead, who: &AccountId) -> Result<bool, StateError> {
        Ok(MEMBERS
            .get(state, who)?
            .is_some_and(|record| record.is_active()))
    }

    fn has_role(
        &self,
        state: &dyn StateRead,
        who: &AccountId,
        role: Role,
    ) -> Result<bool, StateError> {
        Ok(MEMBERS
            .get(state, who)?
            .is_some_and(|record| record.is_active() && record.roles.contains(role)))
    }

    fn check_signer(
        &self,
        state: &dyn StateRead,
        who: &AccountId,
    ) -> Result<Result<(), MembershipError>, StateError> {
        Ok(match MEMBERS.get(state, who)? {
            Some(record) if record.is_active() => Ok(()),
            Some(record) => Err(suspended(who, &record)),
            None if config(state)?.open_accounts => Ok(()),
            None => Err(MembershipError::NotMember { account: *who }),
        })
    }

    fn check_recipient(
        &self,
        state: &dyn StateRead,
        who: &AccountId,
    ) -> Result<Result<Option<Place>, MembershipError>, StateError> {
        Ok(match MEMBERS.get(state, who)? {
            Some(record) if record.is_active() => Ok(record
                .place
                .filter(|_| record.roles.contains(Role::Merchant))),
            Some(record) => Err(suspended(who, &record)),
            None if config(state)?.open_accounts => Ok(None),
            None => Err(MembershipError::NotMember { account: *who }),
        })
    }

    fn place(&self, state: &dyn StateRead, who: &AccountId) -> Result<Option<Place>, StateError> {
        Ok(MEMBERS
            .get(state, who)?
            .filter(|record| record.is_active() && record.roles.contains(Role::Merchant))
            .and_then(|record| record.place))
    }

    fn check_guardian(
        &self,
        state: &dyn StateRead,
        guardian: &AccountId,
        member: &AccountId,
    ) -> Result<Result<(), MembershipError>, StateError> {
        if GUARDIANS
            .get(state, member)?
            .is_none_or(|record| record.guardian != *guardian)
        {
            return Ok(Err(MembershipError::NotGuardian {
                guardian: *guardian,
                member: *member,
            }));
        }
        // A guardian acts only while an active intermediary: the board withdrawing the role
        // (or suspending them) ends every guardianship they hold at once.
        if !self.has_role(state, guardian, Role::Intermediary)? {
            return Ok(Err(MembershipError::MissingRole {
                account: *guardian,
                role: Role::Intermediary,
            }));
        }
        self.check_signer(state, member)
    }

    fn charge_guardian(
        &self,
        ctx: &mut CallContext<'_, '_>,
        guardian: &AccountId,
        member: &AccountId,
        amount: Cents,
    ) -> DispatchResult<MembershipError> {
        let not_guardian = MembershipError::NotGuardian {
            guardian: *guardian,
            member: *member,
        };
        let Some(mut record) = GUARDIANS.get(&*ctx.state, member)? else {
            return Ok(Err(not_guardian));
        };
        if record.guardian != *guardian {
            return Ok(Err(not_guardian));
        }
        let day_blocks = config(&*ctx.state)?.guardian_day_blocks.max(1);
        let day = ctx.block().height / day_blocks;
        let spent_today = spent_today(&record, ctx.block().height, day_blocks);
        let total = spent_today.checked_add(amount);
        if total.is_none_or(|total| total > record.daily_cap) {
            return Ok(Err(MembershipError::OverGuardianCap(Box::new(
                GuardianCapExceeded {
                    guardian: *guardian,
                    member: *member,
                    daily_cap: record.daily_cap,
                    spent_today,
                    asked: amount,
                    renews_at: day.saturating_add(1).saturating_mul(day_blocks),
                },
            ))));
        }
        let spent = total.unwrap_or(record.daily_cap);
        record.day = day;
        record.spent = spent;
        let daily_cap = record.daily_cap;
        GUARDIANS.insert(ctx.state, member, &record);
        ctx.deposit_event(Event::GuardianSpent {
            guardian: *guardian,
            member: *member,
            amount,
            spent_today: spent,
            daily_cap,
        });
        Ok(Ok(()))
    }
}

/// What `record`'s guardian has moved for the member in the day of `height` (a new day
/// starts at zero), with days of `day_blocks` blocks.
pub fn spent_today(record: &Guardianship, height: Height, day_blocks: Height) -> Cents {
    if record.day == height / day_blocks.max(1) {
        record.spent
    } else {
        0
    }
}

#[cfg(test)]
mod tests;
