//! Consensus of a wijk chain: pure state machines, `on_input(input) -> effects`, driven by
//! a node actor that carries out the effects (build or execute a block, persist a vote,
//! send a message, commit, set a timer).
//!
//! Owns: the decision what to vote for, when a block is final, and when to give up on a
//! view. Must never: do I/O, read a clock (time arrives in inputs), draw randomness, or
//! execute blocks (it asks the actor to).
//!
//! # The BFT protocol ([`Replica`]), after Simplex (Chan and Pass, 2023)
//!
//! `n` validators, at most `f` faulty, `n >= 3f + 1`; a *quorum* is `n - f` (`2f + 1` when
//! `n = 3f + 1`). Time is divided into *views* `1, 2, ...`; view `v` is led by validator
//! `v mod n`. Each validator is in one view at a time and, in view `v`:
//!
//! 1. **Propose.** The leader builds a block on the *parent* of `v`: the block notarized in
//!    the latest view `w < v` such that every view between `w` and `v` is nullified (the
//!    finalized block if none). Its notarize vote for the block is the proposal.
//! 2. **Notarize.** A validator that has not voted to skip `v` checks the proposal's parent
//!    is exactly that (parent notarized, every view between nullified, height one more),
//!    has the block executed, and votes *notarize* for it. It notarizes at most one block
//!    per view.
//! 3. **Skip.** If `v` has not ended within the view timeout, it votes *nullify* `v`.
//! 4. **Advance.** A quorum of notarize votes for a block is its *notarization*; a quorum of
//!    nullify votes is a *nullification*. On either, a validator forwards the certificate
//!    and moves to view `v + 1`. On a notarization, a validator that did *not* vote
//!    nullify in `v` votes *finalize* for the block.
//! 5. **Finalize.** A quorum of finalize votes for a block finalizes it and, through the
//!    parent links, every ancestor. The finalize votes sign exactly the
//!    [`wijk_primitives::FinalityVote`], so they form the block's finality certificate.
//!
//! **Safety** (no two conflicting blocks are ever final, with at most `f` faulty):
//! - *One block notarized per view.* Two notarizations of different blocks in view `v`
//!   need two quorums; any two quorums share at least `f + 1` validators, so at least one
//!   honest validator notarized two blocks in `v`, which honest validators never do.
//! - *A finalized view is never nullified.* If block `b` is finalized in view `v`, a quorum
//!   voted finalize in `v`; a nullification of `v` needs a quorum of nullify votes; the two
//!   share an honest validator, who would have voted both finalize and nullify in `v`,
//!   which honest validators never do (finalize is only sent for a view not nullified
//!   by oneself, and nullify never after finalize).
//! - *Every later notarized block extends `b`.* A block notarized in a view `v' > v` was
//!   voted by at least one honest validator, who checked that its parent is notarized in
//!   some view `w` with every view between `w` and `v'` nullified. Since `v` is not
//!   nullified, `w >= v`; if `w = v` the parent is `b` (the only block notarized in `v`),
//!   and if `w > v` the parent is itself a block notarized after `v`, which by induction
//!   on the view extends `b`. A block finalized in a later view is notarized in it, so it
//!   extends `b`: finalized blocks form one chain.
//!
//! **Liveness** (after the network heals): a view whose leader is honest and whose messages
//! arrive within the timeout gets a notarization from the honest quorum; a view with a
//! silent or faulty leader is nullified by the honest quorum's timeouts. Validators repeat
//! their votes and the certificate that moved them into their view on every timeout, so
//! lost messages are made up for, and certificates let a lagging validator jump ahead.
//!
//! **Double signing across restarts:** the replica emits [`replica::Effect::PersistVote`] before
//! the [`replica::Effect::Broadcast`] of every vote it signs; the actor writes it synced first. On
//! restart the replica is given those votes ([`Restart`]) and refuses any conflicting one.
//! **Equivocation** by others (two conflicting signed votes) is reported as
//! [`replica::Effect::Evidence`] for the node to record.
//!
//! [`SoloAuthority`] is the older single-validator author kept for the dev chain until the
//! node drives [`Replica`] (with `n = 1` it finalizes every block at once).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod messages;
pub mod replica;

pub use messages::{
    BlockRef, Certificate, Message, MessageError, SignedVote, View, Vote, VoteKind,
};
pub use replica::{Config, Effect as ReplicaEffect, Input as ReplicaInput, Replica, Restart};

use wijk_primitives::{Hash, Height, TimestampMs};

/// What happened, as told by the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The slot timer fired at `now_ms`.
    Tick {
        /// Wall-clock time as the actor read it.
        now_ms: TimestampMs,
    },
    /// The block asked for by [`Effect::BuildBlock`] is ready.
    BlockBuilt {
        /// Its height.
        height: Height,
        /// Its hash.
        block_hash: Hash,
    },
    /// Building failed (e.g. storage error); retry at the next slot.
    BuildFailed {
        /// The height that failed.
        height: Height,
    },
    /// The block at `height` is durably committed.
    Committed {
        /// Its height.
        height: Height,
    },
}

/// What the actor must do.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Build the block at `height` with this timestamp from the pool's candidates.
    BuildBlock {
        /// Height to build.
        height: Height,
        /// Timestamp to put in the header.
        timestamp_ms: TimestampMs,
    },
    /// Sign the finality vote for this block and commit it with the certificate.
    FinalizeAndCommit {
        /// Height.
        height: Height,
        /// View of the vote (the height, with one validator there is one view per height).
        view: u64,
        /// The block.
        block_hash: Hash,
    },
    /// Call back with [`Input::Tick`] at this time.
    ScheduleTick {
        /// When.
        at_ms: TimestampMs,
    },
}

/// Where the single validator is in its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Idle,
    Building { height: Height },
    Committing { height: Height },
}

/// The single-validator consensus state machine.
#[derive(Debug, Clone)]
pub struct SoloAuthority {
    block_time_ms: u64,
    finalized: Height,
    phase: Phase,
    next_slot_ms: TimestampMs,
}

impl SoloAuthority {
    /// Starts after `finalized`, producing a block every `block_time_ms`.
    pub fn new(finalized: Height, block_time_ms: u64) -> SoloAuthority {
        SoloAuthority {
            block_time_ms: block_time_ms.max(1),
            finalized,
            phase: Phase::Idle,
            next_slot_ms: 0,
        }
    }

    /// Height of the last final block.
    pub fn finalized(&self) -> Height {
        self.finalized
    }

    /// Advances the state machine.
    pub fn on_input(&mut self, input: Input) -> Vec<Effect> {
        match (self.phase, input) {
            (Phase::Idle, Input::Tick { now_ms }) => {
                if now_ms < self.next_slot_ms {
                    return vec![Effect::ScheduleTick {
                        at_ms: self.next_slot_ms,
                    }];
                }
                let height = self.finalized + 1;
                self.phase = Phase::Building { height };
                self.next_slot_ms = now_ms + self.block_time_ms;
                vec![Effect::BuildBlock {
                    height,
                    timestamp_ms: now_ms,
                }]
            }
            (
                Phase::Building { height },
                Input::BlockBuilt {
                    height: built,
                    block_hash,
                },
            ) if built == height => {
                self.phase = Phase::Committing { height };
                vec![Effect::FinalizeAndCommit {
                    height,
                    view: height,
                    block_hash,
                }]
            }
            (Phase::Building { height }, Input::BuildFailed { height: failed })
                if failed == height =>
            {
                self.phase = Phase::Idle;
                vec![Effect::ScheduleTick {
                    at_ms: self.next_slot_ms,
                }]
            }
            (Phase::Committing { height }, Input::Committed { height: committed })
                if committed == height =>
            {
                self.finalized = height;
                self.phase = Phase::Idle;
                vec![Effect::ScheduleTick {
                    at_ms: self.next_slot_ms,
                }]
            }
            // Anything else is stale or out of order (e.g. a tick while building): ignore.
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_block_per_slot_and_never_two_at_a_height() {
        let mut consensus = SoloAuthority::new(5, 1_000);
        assert_eq!(
            consensus.on_input(Input::Tick { now_ms: 10_000 }),
            vec![Effect::BuildBlock {
                height: 6,
                timestamp_ms: 10_000
            }]
        );
        // A tick while building proposes nothing.
        assert!(consensus
            .on_input(Input::Tick { now_ms: 10_500 })
            .is_empty());
        let hash = Hash([1; 32]);
        assert_eq!(
            consensus.on_input(Input::BlockBuilt {
                height: 6,
                block_hash: hash
            }),
            vec![Effect::FinalizeAndCommit {
                height: 6,
                view: 6,
                block_hash: hash
            }]
        );
        assert_eq!(
            consensus.on_input(Input::Committed { height: 6 }),
            vec![Effect::ScheduleTick { at_ms: 11_000 }]
        );
        assert_eq!(consensus.finalized(), 6);
        // Too early for the next slot: wait.
        assert_eq!(
            consensus.on_input(Input::Tick { now_ms: 10_900 }),
            vec![Effect::ScheduleTick { at_ms: 11_000 }]
        );
        assert!(matches!(
            consensus.on_input(Input::Tick { now_ms: 11_000 })[..],
            [Effect::BuildBlock { height: 7, .. }]
        ));
    }

    #[test]
    fn failed_build_retries_at_next_slot_and_stale_inputs_are_ignored() {
        let mut consensus = SoloAuthority::new(0, 100);
        let _ = consensus.on_input(Input::Tick { now_ms: 1 });
        assert!(consensus
            .on_input(Input::Committed { height: 1 })
            .is_empty());
        assert_eq!(
            consensus.on_input(Input::BuildFailed { height: 1 }),
            vec![Effect::ScheduleTick { at_ms: 101 }]
        );
        assert_eq!(consensus.finalized(), 0);
    }
}
