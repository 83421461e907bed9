//! The interfaces pallets use to talk to each other: a pallet never reads another's
//! storage or depends on its crate; it asks through these traits, which the runtime binds
//! to the pallets that implement them ([`crate::Interfaces`]).

use crate::pallet::{CallContext, DispatchResult};
use crate::state::{StateError, StateRead};
use parity_scale_codec::{Decode, Encode};
use wijk_primitives::{format_cents, AccountId, Cents, GeoPoint, Hash, Height};

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
    /// Moving coins would leave the account under more earmarks than an account may hold.
    #[error("{account:?} would hold more than {max} earmarks, the most an account may")]
    #[codec(index = 7)]
    TooManyEarmarks {
        /// The account.
        account: AccountId,
        /// The limit.
        max: u32,
    },
    /// The terms of an earmark are malformed.
    #[error("earmark terms refused: {why}")]
    #[codec(index = 8)]
    BadEarmark {
        /// What is wrong, in words.
        why: String,
    },
    /// Free coins are short and the earmarked coins held cannot pay this payee.
    #[error("{why}")]
    #[codec(index = 9)]
    EarmarkNotUsable {
        /// The earmark's rule and what does not fit, in words.
        why: String,
    },
}

/// Coins held in escrow for a payment, by where they came from, so that a refund returns
/// them as they came: earmarked coins under their earmark, free coins free.
#[derive(Debug, Clone, Default, PartialEq, Eq, Encode, Decode)]
pub struct Escrowed {
    /// From earmarked holdings: (earmark id, amount), in earmark-id order, each above zero.
    pub earmarked: Vec<(Hash, Cents)>,
    /// From free coins.
    pub free: Cents,
}

impl Escrowed {
    /// All of it.
    pub fn total(&self) -> Cents {
        self.free.saturating_add(self.earmarked_total())
    }

    /// The earmarked part.
    pub fn earmarked_total(&self) -> Cents {
        self.earmarked
            .iter()
            .fold(0, |sum, (_, amount)| sum.saturating_add(*amount))
    }

    /// Splits off `amount` (at most [`Self::total`]) to pay, earmarked coins first (they
    /// were reserved for the payee): `(paid, rest)`.
    pub fn split_paying(&self, amount: Cents) -> (Escrowed, Escrowed) {
        let mut left = amount;
        let (mut paid, mut rest) = (Escrowed::default(), Escrowed::default());
        for (id, held) in &self.earmarked {
            let used = (*held).min(left);
            left -= used;
            if used > 0 {
                paid.earmarked.push((*id, used));
            }
            if *held > used {
                rest.earmarked.push((*id, *held - used));
            }
        }
        let used = self.free.min(left);
        paid.free = used;
        rest.free = self.free - used;
        (paid, rest)
    }
}

/// Most merchant categories one earmark names.
pub const MAX_EARMARK_CATEGORIES: usize = 8;
/// Longest earmark label, in bytes.
pub const MAX_EARMARK_LABEL_BYTES: usize = 64;

/// What coins paid out under an earmark may pay, as another pallet names it (the funder is
/// whoever pays them; such coins never expire): a budget's payouts that must be spent at
/// merchants, inside the wijk, in some categories.
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Encode,
    Decode,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EarmarkTerms {
    /// A name people recognise ("Stad Gent neighbourhood help"); may be empty.
    #[serde(default)]
    pub label: String,
    /// Merchant categories the coins may pay; empty for any category.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Only merchants inside the wijk's region.
    #[serde(default)]
    pub region_only: bool,
}

impl EarmarkTerms {
    /// Checks the terms are well formed (at most [`MAX_EARMARK_CATEGORIES`] categories,
    /// each a valid category name, a label of at most [`MAX_EARMARK_LABEL_BYTES`] bytes).
    pub fn check(&self) -> Result<(), CurrencyError> {
        if self.categories.len() > MAX_EARMARK_CATEGORIES {
            return Err(CurrencyError::BadEarmark {
                why: format!(
                    "{} categories; at most {MAX_EARMARK_CATEGORIES}",
                    self.categories.len()
                ),
            });
        }
        if self.label.len() > MAX_EARMARK_LABEL_BYTES {
            return Err(CurrencyError::BadEarmark {
                why: format!("a label of at most {MAX_EARMARK_LABEL_BYTES} bytes"),
            });
        }
        if let Some(category) = self.categories.iter().find(|c| !valid_category(c)) {
            return Err(CurrencyError::BadEarmark {
                why: format!(
                    "category '{category}' must be 1 to {MAX_CATEGORY_BYTES} lowercase letters, digits or dashes"
                ),
            });
        }
        Ok(())
    }
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

    /// Destroys `amount` of the free coins of `from` for a euro payout to the bank account
    /// whose reference hashes to `payout_to`; the payout is owed until an exchange office
    /// pays it.
    fn burn(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        amount: Cents,
        payout_to: Hash,
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

    /// Moves all that `from` holds and may move (its free coins, including earmarked ones)
    /// to `to`: a member moved to a new key. Returns how much moved. Reserved coins stay
    /// with the escrow that holds them.
    fn move_holdings(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        to: &AccountId,
    ) -> Result<Result<Cents, CurrencyError>, StateError>;

    /// Pays `amount` of `from`'s reserved coins to `to`'s free balance (an escrow settled).
    /// A refusal changes nothing, so a caller may record it and go on.
    fn repatriate_reserved(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        to: &AccountId,
        amount: Cents,
    ) -> DispatchResult<CurrencyError>;

    /// Pays `amount` of `from`'s reserved coins to `to`, who holds them under an earmark
    /// of funder `from` with these `terms` (spendable only at the merchants they allow).
    /// A refusal (malformed terms, `to` holding as many earmarks as an account may)
    /// changes nothing.
    fn repatriate_reserved_earmarked(
        &self,
        ctx: &mut CallContext<'_, '_>,
        from: &AccountId,
        to: &AccountId,
        amount: Cents,
        terms: &EarmarkTerms,
    ) -> DispatchResult<CurrencyError>;

    /// Reserves `amount` of `payer`'s coins for a payment to `payee` held in escrow: first
    /// the earmarked coins a payment to `payee` would use (a merchant whose place their
    /// rule allows; none when `payee` is `None`), then free coins. Returns where they came
    /// from, for [`Self::release_escrowed`]; the payee is later paid with
    /// [`Self::repatriate_reserved`]. A refusal changes nothing; when free coins are short
    /// and earmarked ones do not fit, it names the earmark and why.
    fn reserve_for_payment(
        &self,
        ctx: &mut CallContext<'_, '_>,
        payer: &AccountId,
        payee: Option<&AccountId>,
        amount: Cents,
    ) -> Result<Result<Escrowed, CurrencyError>, StateError>;

    /// Returns `escrowed`, reserved on `owner`, to `to` (the owner, or their key now) as it
    /// came: free coins free, earmarked coins under their earmark (or to its funder when
    /// `to` holds as many earmarks as an account may). A refusal changes nothing.
    fn release_escrowed(
        &self,
        ctx: &mut CallContext<'_, '_>,
        owner: &AccountId,
        to: &AccountId,
        escrowed: &Escrowed,
    ) -> DispatchResult<CurrencyError>;
}

/// What a member may do in the wijk; an account can hold several.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// Lives in the wijk: earns, spends, gives, votes.
    #[codec(index = 0)]
    Resident,
    /// Accepts the coin, at a registered place.
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

impl Role {
    /// Every role, in code order.
    pub const ALL: [Role; 9] = [
        Role::Resident,
        Role::Merchant,
        Role::Organisation,
        Role::ExchangeOffice,
        Role::RedemptionPartner,
        Role::Intermediary,
        Role::Verifier,
        Role::Auditor,
        Role::Board,
    ];

    /// The role's name as JSON and the CLI write it (`exchangeOffice`).
    pub fn name(&self) -> &'static str {
        match self {
            Role::Resident => "resident",
            Role::Merchant => "merchant",
            Role::Organisation => "organisation",
            Role::ExchangeOffice => "exchangeOffice",
            Role::RedemptionPartner => "redemptionPartner",
            Role::Intermediary => "intermediary",
            Role::Verifier => "verifier",
            Role::Auditor => "auditor",
            Role::Board => "board",
        }
    }

    /// The role named `name` (as [`Self::name`] writes it, or with dashes:
    /// `exchange-office`).
    pub fn parse(name: &str) -> Option<Role> {
        by_name(Role::ALL, Role::name, name)
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl core::fmt::Display for Role {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// The one of `all` whose camelCase `name` is `text`, ignoring case, dashes and underscores
/// (`exchange-office` finds `exchangeOffice`).
fn by_name<T: Copy, const N: usize>(
    all: [T; N],
    name: fn(&T) -> &'static str,
    text: &str,
) -> Option<T> {
    let wanted: String = text.chars().filter(|c| *c != '-' && *c != '_').collect();
    all.into_iter()
        .find(|item| name(item).eq_ignore_ascii_case(&wanted))
}

/// A set of roles (SCALE: a bit per role; JSON: the list of role names).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Encode, Decode)]
pub struct RoleSet(pub u16);

impl RoleSet {
    /// No role.
    pub const EMPTY: RoleSet = RoleSet(0);

    /// The set of `roles`.
    pub fn of(roles: &[Role]) -> RoleSet {
        RoleSet(roles.iter().fold(0, |bits, role| bits | role.bit()))
    }

    /// Whether `role` is in the set.
    pub fn contains(&self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// The roles, in code order.
    pub fn roles(&self) -> Vec<Role> {
        Role::ALL
            .into_iter()
            .filter(|role| self.contains(*role))
            .collect()
    }

    /// Whether the set holds no role.
    pub fn is_empty(&self) -> bool {
        self.roles().is_empty()
    }

    /// Whether every role of `self` is in `other`.
    pub fn is_subset_of(&self, other: RoleSet) -> bool {
        self.roles().iter().all(|role| other.contains(*role))
    }
}

impl core::fmt::Display for RoleSet {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let names: Vec<&str> = self.roles().iter().map(Role::name).collect();
        if names.is_empty() {
            f.write_str("no role")
        } else {
            f.write_str(&names.join(", "))
        }
    }
}

impl serde::Serialize for RoleSet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.roles().serialize(serializer)
    }
}

impl<'de> serde::Deserialize<'de> for RoleSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(RoleSet::of(&Vec::<Role>::deserialize(deserializer)?))
    }
}

impl schemars::JsonSchema for RoleSet {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RoleSet".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <Vec<Role>>::json_schema(generator)
    }
}

/// Longest merchant category, in bytes.
pub const MAX_CATEGORY_BYTES: usize = 32;

/// Where a merchant trades and what they sell: the point of their shop and a category
/// ("food", "sport", "culture", "bicycles"); earmarks name categories they may pay.
#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    Encode,
    Decode,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Place {
    /// The shop's location, `[latitude, longitude]` in microdegrees.
    pub location: GeoPoint,
    /// Lowercase letters, digits and dashes, 1 to [`MAX_CATEGORY_BYTES`] bytes.
    pub category: String,
}

/// Whether `category` is a well-formed category name.
pub fn valid_category(category: &str) -> bool {
    !category.is_empty()
        && category.len() <= MAX_CATEGORY_BYTES
        && category
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Why membership refused an account or a guardian.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum MembershipError {
    /// Only registered members may sign or receive on this chain.
    #[error(
        "{account:?} is not a registered member of this wijk; an intermediary can register them"
    )]
    #[codec(index = 0)]
    NotMember {
        /// The account.
        account: AccountId,
    },
    /// A suspended member may neither sign nor receive.
    #[error("{account:?} is suspended ({reason}); the board can reinstate them")]
    #[codec(index = 1)]
    Suspended {
        /// The account.
        account: AccountId,
        /// Why, as the board recorded it.
        reason: String,
    },
    /// The signer is not the member's guardian.
    #[error("{guardian:?} is not the guardian of {member:?}")]
    #[codec(index = 2)]
    NotGuardian {
        /// Who signed.
        guardian: AccountId,
        /// On whose behalf.
        member: AccountId,
    },
    /// The guardian's payments today would exceed the member's daily cap.
    #[error(transparent)]
    #[codec(index = 3)]
    OverGuardianCap(Box<GuardianCapExceeded>),
    /// The account lacks a role the call needs.
    #[error("{account:?} does not hold the role '{role}'")]
    #[codec(index = 4)]
    MissingRole {
        /// The account.
        account: AccountId,
        /// The role needed.
        role: Role,
    },
}

/// A guardian's payment over the member's daily cap (boxed in [`MembershipError`]: it is
/// the largest refusal, and errors travel by value).
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
#[error("guardian {guardian:?} may pay {} a day for {member:?}; {} is spent today, so {} more is refused (the cap renews at height {renews_at})", format_cents(*daily_cap), format_cents(*spent_today), format_cents(*asked))]
pub struct GuardianCapExceeded {
    /// The guardian.
    pub guardian: AccountId,
    /// The member.
    pub member: AccountId,
    /// The cap per day.
    pub daily_cap: Cents,
    /// Spent by the guardian today.
    pub spent_today: Cents,
    /// What this payment asks.
    pub asked: Cents,
    /// The first height of the next day.
    pub renews_at: u64,
}

/// Who belongs to the wijk, as other pallets (and the runtime's transaction checks) may ask.
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

    /// The key `who`'s member uses now: `who` itself, or the key a rekey (or a chain of
    /// them) moved the member to. Coins owed to a member's old key go there.
    fn current_key(
        &self,
        _state: &dyn StateRead,
        who: &AccountId,
    ) -> Result<AccountId, StateError> {
        Ok(*who)
    }

    /// `who` as a voter: the person behind the key, since when they are a member and their
    /// roles; `None` unless `who` is an active member.
    fn voter(&self, _state: &dyn StateRead, _who: &AccountId) -> Result<Option<Voter>, StateError> {
        Ok(None)
    }

    /// The key the person with registration tag `person` signs with now, if a member.
    fn account_of_person(
        &self,
        _state: &dyn StateRead,
        _person: &Hash,
    ) -> Result<Option<AccountId>, StateError> {
        Ok(None)
    }

    /// How many active members hold at least one of `roles` (the electorate of a vote).
    fn count_holding_any(
        &self,
        _state: &dyn StateRead,
        _roles: RoleSet,
    ) -> Result<u32, StateError> {
        Ok(0)
    }

    /// Whether `who` may sign a transaction now (an active member, or anyone on a chain open
    /// to every account).
    fn check_signer(
        &self,
        state: &dyn StateRead,
        who: &AccountId,
    ) -> Result<Result<(), MembershipError>, StateError>;

    /// Whether `who` may receive coins now (the same rule as signing); if so, the place of
    /// a merchant (read with the same record, as a payment needs both).
    fn check_recipient(
        &self,
        state: &dyn StateRead,
        who: &AccountId,
    ) -> Result<Result<Option<Place>, MembershipError>, StateError>;

    /// The registered place of merchant `who` (none for other accounts).
    fn place(&self, state: &dyn StateRead, who: &AccountId) -> Result<Option<Place>, StateError>;

    /// Whether `guardian` is the guardian of `member` (who must be able to sign).
    fn check_guardian(
        &self,
        state: &dyn StateRead,
        guardian: &AccountId,
        member: &AccountId,
    ) -> Result<Result<(), MembershipError>, StateError>;

    /// Counts `amount` of `member`'s coins, paid by their guardian, against the day's cap;
    /// refuses if the cap would be exceeded.
    fn charge_guardian(
        &self,
        ctx: &mut CallContext<'_, '_>,
        guardian: &AccountId,
        member: &AccountId,
        amount: Cents,
    ) -> DispatchResult<MembershipError>;
}

/// Membership of a chain open to every account, holding no roles and appointing no
/// guardians: what a runtime without a membership pallet binds.
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

    fn check_signer(
        &self,
        _state: &dyn StateRead,
        _who: &AccountId,
    ) -> Result<Result<(), MembershipError>, StateError> {
        Ok(Ok(()))
    }

    fn check_recipient(
        &self,
        _state: &dyn StateRead,
        _who: &AccountId,
    ) -> Result<Result<Option<Place>, MembershipError>, StateError> {
        Ok(Ok(None))
    }

    fn place(&self, _state: &dyn StateRead, _who: &AccountId) -> Result<Option<Place>, StateError> {
        Ok(None)
    }

    fn check_guardian(
        &self,
        _state: &dyn StateRead,
        guardian: &AccountId,
        member: &AccountId,
    ) -> Result<Result<(), MembershipError>, StateError> {
        Ok(Err(MembershipError::NotGuardian {
            guardian: *guardian,
            member: *member,
        }))
    }

    fn charge_guardian(
        &self,
        _ctx: &mut CallContext<'_, '_>,
        guardian: &AccountId,
        member: &AccountId,
        _amount: Cents,
    ) -> DispatchResult<MembershipError> {
        Ok(Err(MembershipError::NotGuardian {
            guardian: *guardian,
            member: *member,
        }))
    }
}

/// Where the wijk is, as other pallets may ask.
pub trait Geography: Sync {
    /// Whether `point` lies in the wijk's region (on its boundary counts as inside). A chain
    /// without a region is borderless: every point is inside.
    fn in_region(&self, state: &dyn StateRead, point: &GeoPoint) -> Result<bool, StateError>;

    /// The region's name, for messages ("Rabot-Blaisantvest"); empty if none was given.
    fn region_name(&self, state: &dyn StateRead) -> Result<String, StateError>;
}

/// The geography of a borderless chain: every point is inside. What a runtime without a
/// geo pallet binds.
pub struct Borderless;

impl Geography for Borderless {
    fn in_region(&self, _state: &dyn StateRead, _point: &GeoPoint) -> Result<bool, StateError> {
        Ok(true)
    }

    fn region_name(&self, _state: &dyn StateRead) -> Result<String, StateError> {
        Ok(String::new())
    }
}

/// A member as the wijk's democracy sees them: the person behind the key (their
/// registration tag, which a rekey keeps), since when they are registered, and their roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Voter {
    /// The registration tag: one per person, kept when the member moves to a new key, so a
    /// person has one vote whatever key they sign with.
    pub person: Hash,
    /// The height of their registration (0 at genesis).
    pub since: Height,
    /// The roles they hold now.
    pub roles: RoleSet,
}

/// What members vote on: each kind of proposal has its own track (quorum, threshold,
/// voting period, enactment delay) in the chain spec.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum ProposalKind {
    /// Set or change what an activity is worth.
    #[codec(index = 0)]
    ActivityValue,
    /// Add an activity to the catalogue, or retire one.
    #[codec(index = 1)]
    ActivityCatalogue,
    /// Change a rule of the runtime: rate limits, the redemption fee, the tracks themselves,
    /// earmark rules.
    #[codec(index = 2)]
    Parameter,
    /// Elect the board, or remove a board member.
    #[codec(index = 3)]
    Board,
    /// Change who validates.
    #[codec(index = 4)]
    ValidatorSet,
    /// Spend from the cooperative's fund.
    #[codec(index = 5)]
    Spend,
    /// Set one of the wijk's goals.
    #[codec(index = 6)]
    Goal,
}

impl ProposalKind {
    /// Every kind, in code order.
    pub const ALL: [ProposalKind; 7] = [
        ProposalKind::ActivityValue,
        ProposalKind::ActivityCatalogue,
        ProposalKind::Parameter,
        ProposalKind::Board,
        ProposalKind::ValidatorSet,
        ProposalKind::Spend,
        ProposalKind::Goal,
    ];

    /// Its place in [`Self::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The kind's name as JSON and the CLI write it (`activityValue`).
    pub fn name(&self) -> &'static str {
        match self {
            ProposalKind::ActivityValue => "activityValue",
            ProposalKind::ActivityCatalogue => "activityCatalogue",
            ProposalKind::Parameter => "parameter",
            ProposalKind::Board => "board",
            ProposalKind::ValidatorSet => "validatorSet",
            ProposalKind::Spend => "spend",
            ProposalKind::Goal => "goal",
        }
    }

    /// The kind named `name` (as [`Self::name`] writes it, or with dashes).
    pub fn parse(name: &str) -> Option<ProposalKind> {
        by_name(ProposalKind::ALL, ProposalKind::name, name)
    }
}

impl core::fmt::Display for ProposalKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a call cannot be proposed to the members.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum NotProposable {
    /// The bytes are no call of this runtime.
    #[error("the proposed call does not decode: {reason}")]
    #[codec(index = 0)]
    Malformed {
        /// What the decoder said.
        reason: String,
    },
    /// The call is no decision of the members (a payment, a vote, an envelope).
    #[error("{pallet}.{call} is not something the members decide by vote")]
    #[codec(index = 1)]
    NotADecision {
        /// The call's pallet.
        pallet: String,
        /// The call.
        call: String,
    },
}

/// A call the members may vote on: its kind (which picks the track) and what carrying it out
/// costs (enactment runs in a block hook, so the cost is bounded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposable {
    /// The kind of proposal it makes.
    pub kind: ProposalKind,
    /// What enacting it costs.
    pub cost: crate::Cost,
}

/// How the members' decisions are carried out: the runtime classifies a proposed call (so a
/// proposal's track follows from what it does, never from what its proposer says) and
/// dispatches it, once approved, with the origin [`crate::Origin::Collective`] of the
/// members, through the same origin checks as every other call.
pub trait Enactment: Sync {
    /// Whether the SCALE-encoded runtime call `encoded` may be proposed, and as what.
    fn proposable(&self, encoded: &[u8]) -> Result<Proposable, NotProposable>;

    /// Carries out an approved call; `Err` holds why the call failed, as a resident reads it.
    fn enact(
        &self,
        ctx: &mut CallContext<'_, '_>,
        encoded: &[u8],
    ) -> Result<Result<(), String>, StateError>;
}

/// The enactment of a runtime without governance: nothing is proposable.
pub struct NoEnactment;

impl Enactment for NoEnactment {
    fn proposable(&self, _encoded: &[u8]) -> Result<Proposable, NotProposable> {
        Err(NotProposable::NotADecision {
            pallet: "any".into(),
            call: "call".into(),
        })
    }

    fn enact(
        &self,
        _ctx: &mut CallContext<'_, '_>,
        _encoded: &[u8],
    ) -> Result<Result<(), String>, StateError> {
        Ok(Err("this runtime enacts nothing".into()))
    }
}
