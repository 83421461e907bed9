//! The wijk's democracy: one member, one vote, never weighted by coins.
//!
//! This crate owns the rule that counts votes: when a proposal is decided and which way
//! ([`decide`]). Proposals, tracks in the chain spec, the electorate and enactment build on
//! it (issue 17); it must never read balances, because a vote weighs the same whatever
//! the voter holds.
//!
//! **The rule, stated once.**
//! - Each proposal runs on a [`Track`] frozen when voting opens: quorum, approval
//!   threshold, voting period and the electorate (the number of members who may vote).
//! - Each member of that electorate votes once: yes, no or abstain. A vote, once cast,
//!   stands, so an early decision can be exact.
//! - **Quorum**: votes cast (abstentions included) are at least `quorum_per_mille` of the
//!   electorate.
//! - **Approval**: more yes than no, and yes are at least `approval_per_mille` of yes and
//!   no together (abstentions count for the quorum only). A tie never passes.
//! - A proposal is decided at the end of its period. It is decided earlier only when no
//!   way the remaining members could still vote would change the outcome ([`decide`]).

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// The rules one kind of proposal is decided by, frozen when its voting opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Track {
    /// Votes cast (yes, no and abstain) needed, in per mille of the electorate.
    pub quorum_per_mille: u16,
    /// Yes needed, in per mille of yes and no together.
    pub approval_per_mille: u16,
    /// How many blocks voting stays open.
    pub voting_blocks: u64,
    /// How many blocks after approval the decision takes effect.
    pub enactment_blocks: u64,
}

/// Why a track is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackError {
    /// A per-mille figure above 1000.
    #[error("{what} is {value} per mille; at most 1000")]
    AboveWhole {
        /// Which figure.
        what: &'static str,
        /// Its value.
        value: u16,
    },
    /// Voting would never be open.
    #[error("a voting period of zero blocks decides nothing")]
    NoVotingPeriod,
}

impl Track {
    /// Checks the figures are meaningful.
    pub fn check(&self) -> Result<(), TrackError> {
        for (what, value) in [
            ("the quorum", self.quorum_per_mille),
            ("the approval threshold", self.approval_per_mille),
        ] {
            if value > 1000 {
                return Err(TrackError::AboveWhole { what, value });
            }
        }
        if self.voting_blocks == 0 {
            return Err(TrackError::NoVotingPeriod);
        }
        Ok(())
    }
}

/// The votes cast on one proposal so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode)]
pub struct Tally {
    /// Yes votes.
    pub yes: u32,
    /// No votes.
    pub no: u32,
    /// Abstentions: they count for the quorum, not for approval.
    pub abstain: u32,
}

impl Tally {
    /// Every vote cast.
    pub fn cast(&self) -> u64 {
        u64::from(self.yes) + u64::from(self.no) + u64::from(self.abstain)
    }
}

/// How a proposal was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub enum Outcome {
    /// Quorum reached and enough yes.
    #[codec(index = 0)]
    Approved,
    /// Too few members voted.
    #[codec(index = 1)]
    NoQuorum {
        /// Votes cast.
        cast: u64,
        /// Votes the quorum needs.
        needed: u64,
    },
    /// Quorum reached, but not enough yes.
    #[codec(index = 2)]
    NotApproved,
}

/// Votes the quorum needs in an electorate of `electorate` members (rounded up).
pub fn quorum_votes(track: &Track, electorate: u32) -> u64 {
    (u64::from(electorate) * u64::from(track.quorum_per_mille)).div_ceil(1000)
}

/// The outcome if voting ended with `tally`.
pub fn outcome(track: &Track, electorate: u32, tally: &Tally) -> Outcome {
    let needed = quorum_votes(track, electorate);
    if tally.cast() < needed {
        return Outcome::NoQuorum {
            cast: tally.cast(),
            needed,
        };
    }
    let (yes, no) = (u64::from(tally.yes), u64::from(tally.no));
    if yes > no && yes * 1000 >= u64::from(track.approval_per_mille) * (yes + no) {
        Outcome::Approved
    } else {
        Outcome::NotApproved
    }
}

/// The decision, if there is one yet: at the end of the period (`period_over`) whatever
/// the tally; before it only when every way the members who have not voted could still
/// vote gives the same outcome. Yes votes only help approval and quorum, so if all of them
/// voting yes would not approve, nothing will; abstentions help only the quorum, so
/// approval is certain only if it holds both when nobody else votes and when all of them
/// vote no.
pub fn decide(track: &Track, electorate: u32, tally: &Tally, period_over: bool) -> Option<Outcome> {
    let now = outcome(track, electorate, tally);
    if period_over {
        return Some(now);
    }
    // Votes are cast once, by members of the frozen electorate: the rest may still vote.
    let remaining =
        u32::try_from(u64::from(electorate).saturating_sub(tally.cast())).unwrap_or(u32::MAX);
    let all_yes = Tally {
        yes: tally.yes.saturating_add(remaining),
        ..*tally
    };
    if outcome(track, electorate, &all_yes) != Outcome::Approved {
        // It can no longer pass; say why as things stand at the end if nobody else votes.
        return Some(match now {
            Outcome::Approved => Outcome::NotApproved,
            rejected => rejected,
        });
    }
    let all_no = Tally {
        no: tally.no.saturating_add(remaining),
        ..*tally
    };
    (now == Outcome::Approved && outcome(track, electorate, &all_no) == Outcome::Approved)
        .then_some(Outcome::Approved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn track(quorum_per_mille: u16, approval_per_mille: u16) -> Track {
        Track {
            quorum_per_mille,
            approval_per_mille,
            voting_blocks: 100,
            enactment_blocks: 10,
        }
    }

    fn tally(yes: u32, no: u32, abstain: u32) -> Tally {
        Tally { yes, no, abstain }
    }

    #[test]
    fn quorum_counts_abstentions_and_approval_does_not() {
        let simple = track(300, 500);
        assert_eq!(
            outcome(&simple, 100, &tally(20, 5, 4)),
            Outcome::NoQuorum {
                cast: 29,
                needed: 30
            }
        );
        assert_eq!(outcome(&simple, 100, &tally(20, 5, 5)), Outcome::Approved);
        assert_eq!(
            outcome(&simple, 100, &tally(10, 10, 20)),
            Outcome::NotApproved,
            "a tie never passes"
        );
        let two_thirds = track(0, 667);
        assert_eq!(
            outcome(&two_thirds, 10, &tally(2, 1, 0)),
            Outcome::NotApproved
        );
        assert_eq!(
            outcome(&two_thirds, 10, &tally(4, 2, 0)),
            Outcome::NotApproved
        );
        assert_eq!(outcome(&two_thirds, 10, &tally(7, 3, 0)), Outcome::Approved);
    }

    #[test]
    fn a_proposal_is_decided_early_only_when_nothing_can_change_it() {
        let simple = track(500, 500);
        // 6 of 10 voted yes: the quorum is met and 4 no votes cannot undo the majority.
        assert_eq!(
            decide(&simple, 10, &tally(6, 0, 0), false),
            Some(Outcome::Approved)
        );
        // 5 yes: the 5 left could tie it.
        assert_eq!(decide(&simple, 10, &tally(5, 0, 0), false), None);
        // 5 no of 10: yes can at best tie.
        assert_eq!(
            decide(&simple, 10, &tally(0, 5, 0), false),
            Some(Outcome::NotApproved)
        );
        // One yes of a quorum of 8: the rest can still carry it either way.
        assert_eq!(
            decide(&track(800, 500), 10, &tally(1, 0, 0), false).map(|o| o == Outcome::Approved),
            None
        );
        // At the end of the period the tally decides.
        assert_eq!(
            decide(&simple, 10, &tally(1, 0, 0), true),
            Some(Outcome::NoQuorum { cast: 1, needed: 5 })
        );
        assert_eq!(track(0, 0).check(), Ok(()));
        assert_eq!(
            track(1001, 0).check(),
            Err(TrackError::AboveWhole {
                what: "the quorum",
                value: 1001
            })
        );
    }

    proptest! {
        /// An early decision is exactly "every way the rest could still vote gives this
        /// outcome", checked against every completion of a small electorate.
        #[test]
        fn an_early_decision_holds_for_every_way_the_rest_could_vote(
            electorate in 0u32..9,
            quorum in 0u16..=1000,
            approval in 0u16..=1000,
            votes in proptest::collection::vec(0u8..3, 0..9),
        ) {
            let track = track(quorum, approval);
            let votes = &votes[..votes.len().min(electorate as usize)];
            let mut now = Tally::default();
            for vote in votes {
                match vote { 0 => now.yes += 1, 1 => now.no += 1, _ => now.abstain += 1 }
            }
            let remaining = electorate - now.cast() as u32;
            // Every completion: a yes, b no, c abstain, the rest absent.
            let mut finals = Vec::new();
            for a in 0..=remaining {
                for b in 0..=remaining - a {
                    for c in 0..=remaining - a - b {
                        let done = Tally { yes: now.yes + a, no: now.no + b, abstain: now.abstain + c };
                        finals.push(outcome(&track, electorate, &done) == Outcome::Approved);
                    }
                }
            }
            let always = finals.iter().all(|approved| *approved);
            let never = finals.iter().all(|approved| !approved);
            match decide(&track, electorate, &now, false) {
                Some(Outcome::Approved) => prop_assert!(always),
                Some(_) => prop_assert!(never),
                None => prop_assert!(!always && !never),
            }
        }
    }
}
