//! Consensus of a wijk chain: a pure state machine, `on_input(input) -> effects`, driven
//! by the node's author actor, which carries out the effects (build a block, sign,
//! commit, set a timer).
//!
//! Protocol (single validator, the dev chain): at each slot of `block_time_ms` the sole
//! validator proposes the block at `finalized + 1`; once built, it signs the
//! [`wijk_primitives::FinalityVote`] for it, which with one validator is a quorum, so the
//! block is final at once and committed with that one-signature certificate. A new
//! proposal starts only after the previous block is committed, so there is never more
//! than one block per height: no forks, and nothing to double-sign.
//!
//! The multi-validator BFT protocol replaces [`SoloAuthority`] behind the same shape of
//! inputs and effects.
//!
//! Owns: the decision when to propose and when a block is final.
//! Must never: do I/O, read a clock (time arrives in [`Input::Tick`]), or execute blocks.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

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
