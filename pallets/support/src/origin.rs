//! Who is calling, and the one place that decides whether they may.
//!
//! A call comes from an [`Origin`]: an account that signed it, a guardian signing on behalf
//! of a member, a collective that decided it (the board, or the members by an enacted
//! vote), or the chain itself (genesis, or a rule carried out by the runtime). Pallets never
//! look inside a collective decision themselves: they ask [`crate::CallContext::ensure_decided_by`],
//! which asks the runtime's [`Collectives`] rules. So when governance moves a decision from
//! "the board decides" to "the members decided", the rule changes in one place and no
//! pallet is touched.

use crate::state::{StateError, StateRead};
use parity_scale_codec::{Decode, Encode};
use wijk_primitives::AccountId;

/// A group that decides together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Encode, Decode)]
pub enum Collective {
    /// The cooperative's board.
    #[codec(index = 0)]
    Board,
    /// The members, by an enacted vote.
    #[codec(index = 1)]
    Members,
}

impl core::fmt::Display for Collective {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Collective::Board => "the board",
            Collective::Members => "the members (by an enacted vote)",
        })
    }
}

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum Origin {
    /// A transaction signed by this account.
    #[codec(index = 0)]
    Signed(AccountId),
    /// A guardian (an intermediary appointed by a member) signing on the member's behalf:
    /// the member's coins move, and the receipt names both.
    #[codec(index = 1)]
    Guardian {
        /// Who signed.
        guardian: AccountId,
        /// On whose behalf.
        member: AccountId,
    },
    /// A collective's decision, carried out by the runtime.
    #[codec(index = 2)]
    Collective(Collective),
    /// The chain itself: genesis, or a rule of the runtime.
    #[codec(index = 3)]
    Root,
}

/// The caller may not do this.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
#[error("{required}; the call came from {origin}")]
pub struct BadOrigin {
    /// What the call needs, in words.
    pub required: Requirement,
    /// Who called.
    pub origin: Origin,
}

/// What a call requires of its origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum Requirement {
    /// A signed transaction.
    #[codec(index = 0)]
    Signed,
    /// A member's own transaction, or their guardian's on their behalf.
    #[codec(index = 1)]
    SignedOrGuardian,
    /// A decision of this collective.
    #[codec(index = 2)]
    DecidedBy(Collective),
    /// The chain itself.
    #[codec(index = 3)]
    Root,
}

impl core::fmt::Display for Requirement {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Requirement::Signed => f.write_str("this needs a signed transaction"),
            Requirement::SignedOrGuardian => {
                f.write_str("this needs the member's own signature or their guardian's")
            }
            Requirement::DecidedBy(collective) => write!(f, "only {collective} may do this"),
            Requirement::Root => f.write_str("only the chain itself may do this"),
        }
    }
}

impl core::fmt::Display for Origin {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Origin::Signed(account) => write!(f, "account {account:?}"),
            Origin::Guardian { guardian, member } => {
                write!(f, "guardian {guardian:?} on behalf of {member:?}")
            }
            Origin::Collective(collective) => write!(f, "a decision of {collective}"),
            Origin::Root => f.write_str("the chain itself"),
        }
    }
}

/// The account acting, and whose coins and rights are used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acting {
    /// The member whose account is used.
    pub member: AccountId,
    /// The guardian who signed for them, if it was not the member.
    pub guardian: Option<AccountId>,
}

impl Origin {
    /// The signing account, for calls only an account's own signature may make.
    pub fn ensure_signed(&self) -> Result<AccountId, BadOrigin> {
        match self {
            Origin::Signed(account) => Ok(*account),
            _ => Err(self.refused(Requirement::Signed)),
        }
    }

    /// The member acting, signing themselves or through their guardian.
    pub fn ensure_signed_or_guardian(&self) -> Result<Acting, BadOrigin> {
        match self {
            Origin::Signed(member) => Ok(Acting {
                member: *member,
                guardian: None,
            }),
            Origin::Guardian { guardian, member } => Ok(Acting {
                member: *member,
                guardian: Some(*guardian),
            }),
            _ => Err(self.refused(Requirement::SignedOrGuardian)),
        }
    }

    /// Succeeds only for the chain itself.
    pub fn ensure_root(&self) -> Result<(), BadOrigin> {
        match self {
            Origin::Root => Ok(()),
            _ => Err(self.refused(Requirement::Root)),
        }
    }

    /// The error for this origin not meeting `required`.
    pub fn refused(&self, required: Requirement) -> BadOrigin {
        BadOrigin {
            required,
            origin: *self,
        }
    }
}

/// The runtime's rules for collective decisions: which origins count as a decision of which
/// collective. One implementation per runtime, consulted by every pallet through
/// [`crate::CallContext::ensure_decided_by`].
pub trait Collectives: Sync {
    /// Whether `origin` counts as a decision of `collective`.
    fn decides(
        &self,
        state: &dyn StateRead,
        origin: &Origin,
        collective: Collective,
    ) -> Result<bool, StateError>;
}
