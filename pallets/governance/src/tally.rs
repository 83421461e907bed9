//! The vote-counting rule, stated once: tracks, tallies and outcomes.
//!
//! - Each proposal runs on a [`Track`] frozen when voting opens: quorum, approval
//!   threshold, voting period, enactment delay, and the electorate (the number of members
//!   who may vote, counted then).
//! - **Quorum**: votes cast (abstentions included) are at least `quorum_per_mille` of the
//!   electorate, rounded up.
//! - **Approval**: more yes than no, and yes at least `approval_per_mille` of yes and no
//!   together (abstentions count for the quorum only). A tie never passes.
//! - **Elections** (approval voting): each ballot approves any number of the candidates;
//!   ballots count for the quorum; a candidate is elected if approved on at least
//!   `approval_per_mille` of the ballots, and the seats go to the most approved of those.
//!   A tie for the last seat goes to the candidate nominated first (the order in the
//!   proposal, which everyone saw before voting).
//! - A proposal is decided at the end of its period. Votes (and delegations) may change
//!   until then, so no earlier moment is certain and none is used.

use parity_scale_codec::{Decode, Encode};
use serde::{Deserialize, Serialize};

/// The rules one kind of proposal is decided by, frozen when its voting opens.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Track {
    /// Votes cast (yes, no and abstain, or election ballots) needed, in per mille of the
    /// electorate.
    pub quorum_per_mille: u16,
    /// Yes needed, in per mille of yes and no together (for an election: approvals a
    /// candidate needs, in per mille of the ballots).
    pub approval_per_mille: u16,
    /// How many blocks voting stays open.
    pub voting_blocks: u64,
    /// How many blocks after the close an approved decision takes effect.
    pub enactment_blocks: u64,
}

/// Why a track is refused.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode, thiserror::Error)]
pub enum TrackError {
    /// A per-mille figure above 1000.
    #[error("{what} is {value} per mille; at most 1000")]
    #[codec(index = 0)]
    AboveWhole {
        /// Which figure.
        what: String,
        /// Its value.
        value: u16,
    },
    /// Voting would never be open.
    #[error("a voting period of zero blocks decides nothing")]
    #[codec(index = 1)]
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
                return Err(TrackError::AboveWhole {
                    what: what.into(),
                    value,
                });
            }
        }
        if self.voting_blocks == 0 {
            return Err(TrackError::NoVotingPeriod);
        }
        Ok(())
    }
}

/// A member's vote on a proposal.
#[derive(
    Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Choice {
    /// For.
    #[codec(index = 0)]
    Yes,
    /// Against.
    #[codec(index = 1)]
    No,
    /// Counts for the quorum, not for approval.
    #[codec(index = 2)]
    Abstain,
    /// An election ballot: the candidates approved, by their place in the proposal's list,
    /// in increasing order (none approved is a blank ballot, which counts for the quorum).
    #[codec(index = 3)]
    Approve(Vec<u8>),
}

impl core::fmt::Display for Choice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Choice::Yes => f.write_str("yes"),
            Choice::No => f.write_str("no"),
            Choice::Abstain => f.write_str("abstain"),
            Choice::Approve(candidates) => write!(f, "approve {candidates:?}"),
        }
    }
}

/// The votes counted on one proposal so far (each member's vote counted once: their own,
/// or their delegate's).
#[derive(
    Debug,
    Clone,
    Default,
    PartialEq,
    Eq,
    Encode,
    Decode,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Yes votes.
    pub yes: u32,
    /// No votes.
    pub no: u32,
    /// Abstentions: they count for the quorum, not for approval.
    pub abstain: u32,
    /// Election ballots cast.
    pub ballots: u32,
    /// An election's approvals per candidate (empty for other proposals).
    pub approvals: Vec<u32>,
}

impl Tally {
    /// An empty tally for a proposal with `candidates` candidates (0 unless an election).
    pub fn new(candidates: usize) -> Tally {
        Tally {
            approvals: vec![0; candidates],
            ..Tally::default()
        }
    }

    /// Every vote cast.
    pub fn cast(&self) -> u64 {
        u64::from(self.yes) + u64::from(self.no) + u64::from(self.abstain) + u64::from(self.ballots)
    }

    /// Counts `choice` `weight` more times (`add`) or fewer (`!add`). The counts cannot
    /// go below zero or above the members (the callers only remove what they added), so
    /// the arithmetic saturates rather than fail.
    pub fn apply(&mut self, choice: &Choice, weight: u32, add: bool) {
        let change = |count: &mut u32| {
            *count = if add {
                count.saturating_add(weight)
            } else {
                count.saturating_sub(weight)
            }
        };
        match choice {
            Choice::Yes => change(&mut self.yes),
            Choice::No => change(&mut self.no),
            Choice::Abstain => change(&mut self.abstain),
            Choice::Approve(candidates) => {
                change(&mut self.ballots);
                for candidate in candidates {
                    if let Some(count) = self.approvals.get_mut(usize::from(*candidate)) {
                        change(count);
                    }
                }
            }
        }
    }
}

/// How a proposal was decided.
#[derive(
    Debug, Clone, PartialEq, Eq, Encode, Decode, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(
    tag = "outcome",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum Outcome {
    /// Quorum reached and enough yes (for an election: these candidates, by place in the
    /// list, most approved first).
    #[codec(index = 0)]
    Approved {
        /// An election's winners (empty for other proposals).
        elected: Vec<u8>,
    },
    /// Too few members voted.
    #[codec(index = 1)]
    NoQuorum {
        /// Votes cast.
        cast: u64,
        /// Votes the quorum needs.
        needed: u64,
    },
    /// Quorum reached, but not enough yes (or, in an election, no candidate approved by
    /// enough ballots).
    #[codec(index = 2)]
    NotApproved,
}

impl Outcome {
    /// Whether the proposal passed.
    pub fn approved(&self) -> bool {
        matches!(self, Outcome::Approved { .. })
    }
}

/// Votes the quorum needs in an electorate of `electorate` members (rounded up).
pub fn quorum_votes(track: &Track, electorate: u32) -> u64 {
    (u64::from(electorate) * u64::from(track.quorum_per_mille)).div_ceil(1000)
}

/// The outcome of a yes/no proposal whose voting ended with `tally`.
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
        Outcome::Approved {
            elected: Vec::new(),
        }
    } else {
        Outcome::NotApproved
    }
}

/// The outcome of an election for `seats` seats whose voting ended with `tally`.
pub fn election_outcome(track: &Track, electorate: u32, tally: &Tally, seats: u8) -> Outcome {
    let needed = quorum_votes(track, electorate);
    if tally.cast() < needed {
        return Outcome::NoQuorum {
            cast: tally.cast(),
            needed,
        };
    }
    let ballots = u64::from(tally.ballots);
    let mut approved: Vec<(u32, u8)> = tally
        .approvals
        .iter()
        .enumerate()
        .filter_map(|(place, count)| Some((*count, u8::try_from(place).ok()?)))
        .filter(|(count, _)| {
            *count > 0 && u64::from(*count) * 1000 >= u64::from(track.approval_per_mille) * ballots
        })
        .collect();
    // Most approvals first; among equals, the one nominated first.
    approved.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    approved.truncate(usize::from(seats));
    if approved.is_empty() {
        return Outcome::NotApproved;
    }
    Outcome::Approved {
        elected: approved.into_iter().map(|(_, place)| place).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(quorum_per_mille: u16, approval_per_mille: u16) -> Track {
        Track {
            quorum_per_mille,
            approval_per_mille,
            voting_blocks: 100,
            enactment_blocks: 10,
        }
    }

    fn tally(yes: u32, no: u32, abstain: u32) -> Tally {
        Tally {
            yes,
            no,
            abstain,
            ..Tally::default()
        }
    }

    const PASSED: Outcome = Outcome::Approved {
        elected: Vec::new(),
    };

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
        assert_eq!(outcome(&simple, 100, &tally(20, 5, 5)), PASSED);
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
        assert_eq!(outcome(&two_thirds, 10, &tally(7, 3, 0)), PASSED);
        assert_eq!(
            outcome(&simple, 0, &tally(0, 0, 0)),
            Outcome::NotApproved,
            "nobody voting passes nothing"
        );
    }

    #[test]
    fn tracks_are_checked() {
        assert_eq!(track(0, 0).check(), Ok(()));
        assert_eq!(
            track(1001, 0).check(),
            Err(TrackError::AboveWhole {
                what: "the quorum".into(),
                value: 1001
            })
        );
        let mut never = track(0, 0);
        never.voting_blocks = 0;
        assert_eq!(never.check(), Err(TrackError::NoVotingPeriod));
    }

    #[test]
    fn an_election_seats_the_most_approved_who_pass_the_threshold() {
        let mut ballots = Tally::new(4);
        // Ten ballots: candidate 0 on 6, candidate 1 on 8, candidate 2 on 6, candidate 3 on 4.
        for (weight, approved) in [
            (4, vec![0, 1, 2, 3]),
            (2, vec![0, 1]),
            (2, vec![1, 2]),
            (2, vec![]),
        ] {
            ballots.apply(&Choice::Approve(approved), weight, true);
        }
        assert_eq!(ballots.ballots, 10);
        assert_eq!(ballots.approvals, vec![6, 8, 6, 4]);
        let majority = track(200, 500);
        // Two seats: 1 (8), then the tie between 0 and 2 goes to 0, nominated first.
        assert_eq!(
            election_outcome(&majority, 40, &ballots, 2),
            Outcome::Approved {
                elected: vec![1, 0]
            }
        );
        // Four seats: candidate 3 (4 of 10) is below the majority and is not seated.
        assert_eq!(
            election_outcome(&majority, 40, &ballots, 4),
            Outcome::Approved {
                elected: vec![1, 0, 2]
            }
        );
        assert_eq!(
            election_outcome(&majority, 60, &ballots, 2),
            Outcome::NoQuorum {
                cast: 10,
                needed: 12
            }
        );
        let unanimous = track(0, 1000);
        assert_eq!(
            election_outcome(&unanimous, 40, &ballots, 2),
            Outcome::NotApproved
        );
        // Taking votes back restores the tally.
        ballots.apply(&Choice::Approve(vec![0, 1]), 2, false);
        assert_eq!(ballots.approvals, vec![4, 6, 6, 4]);
    }
}
