//! Consensus of a wijk chain: pure state machines, `on_input(now, input) -> effects`, driven by
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
//! 6. **Abdicate.** A leader that cannot build its block (it is still syncing and lacks
//!    its parent's state) votes nullify for its own view at once, and a validator that sees
//!    the leader of its current view vote nullify does the same, instead of each waiting for
//!    the timeout. A view whose leader cannot propose then costs a message round, not a
//!    timeout: a validator catching up after a long absence does not stall the others every
//!    time its turn to lead comes round.
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
//! Step 6 changes no safety argument: when an honest validator votes nullify is a matter
//! of local timing (a timeout) in Simplex, and the arguments above hold whatever that
//! timing is; what they need is only that an honest validator never finalizes a view it
//! nullified, which the replica refuses to sign. A Byzantine leader can abdicate only its
//! own view.
//!
//! **Liveness** (after the network heals): a view whose leader is honest and whose messages
//! arrive within the timeout gets a notarization from the honest quorum; a view with a
//! silent or faulty leader is nullified by the honest quorum's timeouts. Validators repeat
//! their votes and the certificate that moved them into their view on every timeout, so
//! lost messages are made up for, and certificates let a lagging validator jump ahead.
//!
//! **Double signing across restarts:** the replica emits [`Effect::PersistVote`] before
//! the [`Effect::Broadcast`] of every vote it signs; the actor writes it synced first. On
//! restart the replica is given those votes ([`Restart`]) and refuses any conflicting one.
//! **Equivocation** by others (two conflicting signed votes) is reported as
//! [`Effect::Evidence`] for the node to record.
//!
//! **Validator-set changes (epochs).** A replica runs one validator set. A change takes
//! effect at a height fixed on chain; the node runs the old set's replica until the
//! block before that height is final, then a new replica for the new set whose base is
//! that block, at the base view `epoch << 40` that every node derives alike (see
//! `wijk_primitives::vote`). Past the old epoch's last block, the old set may only propose
//! *closing blocks*, whose hash is derived from that block and the height. To the replica
//! they are ordinary blocks, so the safety argument above holds unchanged. They let the
//! old set finalize its last block through a descendant when that block was notarized
//! but not finalized in its own view. They are never committed. Safety across the boundary
//! follows because both epochs build on the same finalized block, and the new epoch's
//! views and signatures cannot be confused with the old one's.
//!
//! The dev chain is the same protocol with `n = 1`: its one validator is every view's
//! leader and a quorum by itself, so each block is final as soon as it is built.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod messages;
pub mod replica;

pub use messages::{
    BlockRef, Certificate, Message, MessageError, SignedVote, View, Vote, VoteKind,
};
pub use replica::{Config, Effect, Input, Replica, Restart, MAX_VIEWS_AHEAD};
