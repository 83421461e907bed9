//! The BFT replica: one validator's (or full node's) view of the protocol, as a pure state
//! machine. See the crate docs for the protocol and its safety argument.

use crate::messages::{BlockRef, Certificate, Message, SignedVote, View, Vote, VoteKind};
use parity_scale_codec::{Decode, Encode};
use std::collections::{BTreeMap, BTreeSet};
use wijk_primitives::{
    quorum, AccountId, FinalityCertificate, Hash, Height, Keypair, Signature, TimestampMs,
};

/// Votes for views further ahead than this are dropped (bounded memory); certificates
/// for any view are accepted, since they are checked and let a lagging node jump ahead.
pub const MAX_VIEWS_AHEAD: View = 64;

/// How a replica is set up.
#[derive(Clone)]
pub struct Config {
    /// The chain.
    pub genesis_hash: Hash,
    /// The validator set, in leader order.
    pub validators: Vec<AccountId>,
    /// This validator's key; `None` for a full node, which follows but never signs.
    pub key: Option<Keypair>,
    /// How long a view may take before this validator votes to skip it.
    pub view_timeout_ms: u64,
}

/// Where a replica starts: the last finalized block and the view that finalized it, and
/// every vote this validator signed after it (from its synced vote log), so that after a
/// restart it never signs a conflicting vote.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct Restart {
    /// The last finalized block (genesis at first start).
    pub finalized: BlockRef,
    /// The view in which it was finalized (0 for genesis).
    pub finalized_view: View,
    /// Votes this validator signed in later views.
    pub signed_votes: Vec<Vote>,
}

/// What happened, as told by the actor that drives the replica.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A deadline asked for by [`Effect::ScheduleTick`] may have passed (the time itself
    /// comes with every input: see [`Replica::on_input`]).
    Tick,
    /// A message from the network.
    Message(Message),
    /// The block asked for by [`Effect::BuildBlock`] is built (and executed).
    Built {
        /// The view it was asked for.
        view: View,
        /// The block.
        block: BlockRef,
    },
    /// The outcome of [`Effect::VerifyBlock`].
    Verified {
        /// The view of the proposal.
        view: View,
        /// The block.
        block: BlockRef,
        /// Whether it executed and every root matched.
        valid: bool,
    },
    /// Block references learned by sync, answering [`Effect::NeedAncestors`].
    Ancestors(Vec<BlockRef>),
    /// The block asked for by [`Effect::BuildBlock`] cannot be built (this node lacks the
    /// parent's state, say, because it is still syncing): the leader gives up its view at
    /// once rather than letting it time out.
    CannotPropose {
        /// The view it was asked for.
        view: View,
    },
}

/// What the actor must do, in order.
#[must_use]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Make this vote durable (a synced write) before carrying out any later effect: the
    /// double-sign protection across restarts.
    PersistVote(Vote),
    /// Send to every peer.
    Broadcast(Message),
    /// Build and execute a block on `parent` (this validator leads `view`); answer with
    /// [`Input::Built`].
    BuildBlock {
        /// The view.
        view: View,
        /// The block to build on (notarized, maybe not final yet).
        parent: BlockRef,
        /// The view that notarized (or finalized) the parent.
        parent_view: View,
    },
    /// Fetch (if needed) and execute `block` on its parent; answer with
    /// [`Input::Verified`].
    VerifyBlock {
        /// The view of the proposal.
        view: View,
        /// The block.
        block: BlockRef,
    },
    /// These blocks are final, in ascending height; the certificate finalizes the last
    /// (and through the parent links, the others).
    Finalized {
        /// Newly final blocks, ascending.
        blocks: Vec<BlockRef>,
        /// The certificate of the last.
        certificate: FinalityCertificate,
    },
    /// A finalized block's ancestry back to our finalized height is unknown: sync it and
    /// answer with [`Input::Ancestors`].
    NeedAncestors {
        /// The finalized block.
        tip: BlockRef,
        /// Our finalized height.
        finalized_height: Height,
    },
    /// The current view ran out of time: this replica votes to skip it. Only for the
    /// record (metrics, logs); the nullify vote follows as its own effects.
    ViewTimedOut {
        /// The view.
        view: View,
    },
    /// Call back with [`Input::Tick`] at this time.
    ScheduleTick {
        /// When.
        at_ms: TimestampMs,
    },
    /// A validator signed two conflicting votes: proof of misbehaviour.
    Evidence {
        /// One vote.
        first: SignedVote,
        /// The vote conflicting with it.
        second: SignedVote,
    },
    /// A quorum finalized a block conflicting with our finalized chain: more than `f`
    /// validators are faulty. The node must stop and alert its operator.
    Halt {
        /// What conflicted.
        reason: String,
    },
}

/// Votes collected in one view.
#[derive(Default)]
struct ViewVotes {
    notarize: BTreeMap<(BlockRef, View), BTreeMap<AccountId, Signature>>,
    nullify: BTreeMap<AccountId, Signature>,
    finalize: BTreeMap<BlockRef, BTreeMap<AccountId, Signature>>,
    /// Every distinct vote per signer, to detect equivocation.
    by_signer: BTreeMap<AccountId, Vec<SignedVote>>,
    /// Votes seen only inside certificates, per signer. Not counted (the certificate was)
    /// and kept apart from `by_signer`, which also deduplicates the votes that are counted:
    /// a leader's proposal vote that arrives after its certificate must still be taken.
    /// But a later vote that conflicts with one of them is evidence all the same.
    certified: BTreeMap<AccountId, Vec<SignedVote>>,
    /// Signers already reported for equivocation in this view.
    reported: BTreeSet<AccountId>,
    /// The leader's proposal (its first notarize vote).
    proposal: Option<(BlockRef, View)>,
    /// Whether [`Effect::VerifyBlock`] was asked for the proposal.
    verifying: bool,
}

impl ViewVotes {
    /// Evidence against the signer of `signed` if it conflicts with a vote held from the
    /// same signer in this view; each signer is reported once per view.
    fn evidence_against(&mut self, signed: &SignedVote) -> Option<Effect> {
        let held = |votes: &BTreeMap<AccountId, Vec<SignedVote>>| {
            votes
                .get(&signed.signer)
                .into_iter()
                .flatten()
                .find(|v| v.vote.conflicts_with(&signed.vote))
                .copied()
        };
        let first = held(&self.by_signer).or_else(|| held(&self.certified))?;
        self.reported
            .insert(signed.signer)
            .then_some(Effect::Evidence {
                first,
                second: *signed,
            })
    }
}

/// One replica of the protocol.
pub struct Replica {
    genesis_hash: Hash,
    validators: Vec<AccountId>,
    quorum: usize,
    key: Option<Keypair>,
    view_timeout_ms: u64,
    view: View,
    now_ms: TimestampMs,
    deadline_ms: Option<TimestampMs>,
    finalized: BlockRef,
    finalized_view: View,
    /// Blocks whose parent link we know (from votes, certificates and sync).
    refs: BTreeMap<Hash, BlockRef>,
    /// The block notarized in each view (with its parent's view), and the certificate.
    notarized: BTreeMap<View, (BlockRef, View, Certificate)>,
    /// Views skipped by a quorum, with the certificate.
    nullified: BTreeMap<View, Certificate>,
    last_finalization: Option<Certificate>,
    /// A finalization waiting for its ancestry.
    pending_finalization: Option<Certificate>,
    votes: BTreeMap<View, ViewVotes>,
    /// Votes this validator signed, by view (the safety record).
    signed: BTreeMap<View, Vec<SignedVote>>,
    /// The block this leader is building, with its parent's view.
    building: Option<(View, BlockRef, View)>,
    effects: Vec<Effect>,
}

impl Replica {
    /// A replica starting from `restart`. Call [`Replica::on_input`] with an
    /// [`Input::Tick`] to start it.
    pub fn new(config: Config, restart: Restart) -> Replica {
        let quorum = quorum(config.validators.len());
        let mut replica = Replica {
            genesis_hash: config.genesis_hash,
            validators: config.validators,
            quorum,
            key: config.key,
            view_timeout_ms: config.view_timeout_ms.max(1),
            view: restart.finalized_view + 1,
            now_ms: 0,
            deadline_ms: None,
            finalized: restart.finalized,
            finalized_view: restart.finalized_view,
            refs: BTreeMap::new(),
            notarized: BTreeMap::new(),
            nullified: BTreeMap::new(),
            last_finalization: None,
            pending_finalization: None,
            votes: BTreeMap::new(),
            signed: BTreeMap::new(),
            building: None,
            effects: Vec::new(),
        };
        replica
            .refs
            .insert(restart.finalized.hash, restart.finalized);
        if let Some(key) = &replica.key {
            for vote in restart.signed_votes {
                if vote.view > replica.finalized_view {
                    let signed = vote.sign(key, replica.genesis_hash);
                    replica.signed.entry(vote.view).or_default().push(signed);
                    replica.view = replica.view.max(vote.view);
                }
            }
        }
        replica
    }

    /// The current view.
    pub fn view(&self) -> View {
        self.view
    }

    /// The last finalized block.
    pub fn finalized(&self) -> BlockRef {
        self.finalized
    }

    /// The view that finalized it.
    pub fn finalized_view(&self) -> View {
        self.finalized_view
    }

    /// The leader of `view`: round robin over the validator set.
    pub fn leader(&self, view: View) -> AccountId {
        let index = (view % self.validators.len().max(1) as u64) as usize;
        self.validators.get(index).copied().unwrap_or_default()
    }

    /// The certificates that show a proposal in `view` on a parent notarized (or
    /// finalized) in `parent_view` extends the right block: the parent's certificate and
    /// the nullification of every view between. A leader sends them with its proposal so
    /// that a validator which missed those views (it was down, or messages were lost) can
    /// still check the proposal and vote.
    pub fn justification(&self, view: View, parent_view: View) -> Vec<Certificate> {
        let mut certificates = Vec::new();
        if let Some((_, _, certificate)) = self.notarized.get(&parent_view) {
            certificates.push(certificate.clone());
        } else if parent_view == self.finalized_view {
            certificates.extend(self.last_finalization.clone());
        }
        certificates.extend(
            (parent_view + 1..view).filter_map(|skipped| self.nullified.get(&skipped).cloned()),
        );
        certificates
    }

    fn me(&self) -> Option<AccountId> {
        self.key.as_ref().map(Keypair::account_id)
    }

    /// Advances the machine to `now_ms` (the actor's clock when it hands over `input`) and
    /// through `input`; returns what the actor must do, in order.
    ///
    /// Why the time comes with every input and not only with ticks: a view's deadline is
    /// set when the view is entered, which happens on a certificate, not on a tick. With a
    /// clock read only at ticks, a view entered a second after the last tick got a
    /// deadline a second short, and each validator skipped a healthy view about once per
    /// timeout (measured: 6 views in 15 s with four validators at 3,000 tx/s).
    pub fn on_input(&mut self, now_ms: TimestampMs, input: Input) -> Vec<Effect> {
        self.now_ms = self.now_ms.max(now_ms);
        match input {
            Input::Tick => self.on_tick(),
            Input::Message(Message::Vote(vote)) => self.on_vote(vote, false),
            Input::Message(Message::Certificate(certificate)) => self.on_certificate(certificate),
            Input::Built { view, block } => self.on_built(view, block),
            Input::Verified { view, block, valid } => self.on_verified(view, block, valid),
            Input::Ancestors(blocks) => {
                for block in blocks {
                    self.refs.insert(block.hash, block);
                }
                if let Some(certificate) = self.pending_finalization.take() {
                    self.finalize(certificate);
                }
            }
            Input::CannotPropose { view } => self.on_cannot_propose(view),
        }
        std::mem::take(&mut self.effects)
    }

    /// The leader cannot build its block: it votes to skip its own view now (step 6,
    /// "Abdicate", of the crate docs).
    fn on_cannot_propose(&mut self, view: View) {
        if self.building.is_none_or(|(v, _, _)| v != view) || view != self.view {
            return;
        }
        self.building = None;
        self.sign_and_send(Vote {
            view,
            kind: VoteKind::Nullify,
        });
    }

    /// The current view's leader voted to skip it (it cannot propose): follow at once
    /// instead of waiting for the timeout. Safe at any time, as a timeout is: an honest
    /// validator may nullify whenever it likes, it only never finalizes a view it nullified
    /// (which [`Self::sign_and_send`] refuses).
    fn follow_abdication(&mut self) {
        let view = self.view;
        let leader = self.leader(view);
        let abdicated = self
            .votes
            .get(&view)
            .is_some_and(|votes| votes.nullify.contains_key(&leader));
        if abdicated && self.me().is_some_and(|me| me != leader) {
            self.sign_and_send(Vote {
                view,
                kind: VoteKind::Nullify,
            });
        }
    }

    fn on_tick(&mut self) {
        let Some(deadline) = self.deadline_ms else {
            // First tick: start the current view.
            self.enter_view(self.view);
            return;
        };
        if self.now_ms < deadline {
            return;
        }
        // The view took too long: vote to skip it, and repeat what this replica knows so
        // that peers who lost messages catch up (the network may drop anything).
        self.effects.push(Effect::ViewTimedOut { view: self.view });
        self.sign_and_send(Vote {
            view: self.view,
            kind: VoteKind::Nullify,
        });
        self.rebroadcast();
        self.schedule(self.now_ms + self.view_timeout_ms);
    }

    fn rebroadcast(&mut self) {
        let mut messages = Vec::new();
        if let Some(certificate) = &self.last_finalization {
            messages.push(Message::Certificate(certificate.clone()));
        }
        // The certificate that let us into this view.
        let previous = self.view.saturating_sub(1);
        if let Some((_, _, certificate)) = self.notarized.get(&previous) {
            messages.push(Message::Certificate(certificate.clone()));
        } else if let Some(certificate) = self.nullified.get(&previous) {
            messages.push(Message::Certificate(certificate.clone()));
        }
        for vote in self.signed.get(&self.view).into_iter().flatten() {
            messages.push(Message::Vote(*vote));
        }
        // The leader's proposal, so peers that missed it can still vote.
        if let Some(votes) = self.votes.get(&self.view) {
            if let Some((block, parent_view)) = votes.proposal {
                let leader = self.leader(self.view);
                if let Some(vote) = votes.by_signer.get(&leader).and_then(|vs| {
                    vs.iter()
                        .find(|v| v.vote.kind == VoteKind::Notarize { block, parent_view })
                }) {
                    if Some(leader) != self.me() {
                        messages.push(Message::Vote(*vote));
                    }
                }
            }
        }
        self.effects
            .extend(messages.into_iter().map(Effect::Broadcast));
    }

    fn schedule(&mut self, at_ms: TimestampMs) {
        self.deadline_ms = Some(at_ms);
        self.effects.push(Effect::ScheduleTick { at_ms });
    }

    fn enter_view(&mut self, view: View) {
        self.view = view;
        self.schedule(self.now_ms + self.view_timeout_ms);
        if self.me().is_some() && self.me() == Some(self.leader(view)) {
            self.try_propose();
        }
        self.try_vote();
        self.follow_abdication();
    }

    /// The block a proposal in `view` must extend: the block notarized in the latest
    /// earlier view, all views between nullified. `None` while that is not known yet.
    fn parent_for(&self, view: View) -> Option<(BlockRef, View)> {
        let mut w = view.checked_sub(1)?;
        loop {
            if w <= self.finalized_view {
                return Some((self.finalized, self.finalized_view));
            }
            if let Some((block, _, _)) = self.notarized.get(&w) {
                return Some((*block, w));
            }
            if !self.nullified.contains_key(&w) {
                return None;
            }
            w -= 1;
        }
    }

    fn try_propose(&mut self) {
        let view = self.view;
        if self.building.is_some_and(|(v, _, _)| v == view) || self.has_signed_notarize(view) {
            return;
        }
        let Some((parent, parent_view)) = self.parent_for(view) else {
            return;
        };
        self.building = Some((view, parent, parent_view));
        self.effects.push(Effect::BuildBlock {
            view,
            parent,
            parent_view,
        });
    }

    fn on_built(&mut self, view: View, block: BlockRef) {
        let Some((building_view, parent, parent_view)) = self.building else {
            return;
        };
        if building_view != view || view != self.view {
            return;
        }
        self.building = None;
        if block.parent != parent.hash || block.height != parent.height + 1 {
            return;
        }
        self.refs.insert(block.hash, block);
        self.sign_and_send(Vote {
            view,
            kind: VoteKind::Notarize { block, parent_view },
        });
    }

    fn has_signed_notarize(&self, view: View) -> bool {
        self.signed.get(&view).is_some_and(|votes| {
            votes
                .iter()
                .any(|v| matches!(v.vote.kind, VoteKind::Notarize { .. }))
        })
    }

    fn has_signed_nullify(&self, view: View) -> bool {
        self.signed
            .get(&view)
            .is_some_and(|votes| votes.iter().any(|v| v.vote.kind == VoteKind::Nullify))
    }

    /// Asks for the current view's proposal to be verified once it is well formed and its
    /// parent chain is known to be notarized.
    fn try_vote(&mut self) {
        let view = self.view;
        if self.me().is_none() || self.has_signed_notarize(view) || self.has_signed_nullify(view) {
            return;
        }
        let Some((block, parent_view)) = self.votes.get(&view).and_then(|v| v.proposal) else {
            return;
        };
        if self.votes.get(&view).is_some_and(|v| v.verifying) {
            return;
        }
        if parent_view >= view {
            return;
        }
        let Some((expected_parent, expected_view)) = self.parent_chain_ok(view, parent_view) else {
            return;
        };
        if block.parent != expected_parent.hash
            || block.height != expected_parent.height + 1
            || expected_view != parent_view
        {
            return;
        }
        if let Some(votes) = self.votes.get_mut(&view) {
            votes.verifying = true;
        }
        self.effects.push(Effect::VerifyBlock { view, block });
    }

    /// The parent of a proposal in `view` that names `parent_view`: that view's notarized
    /// block (or the finalized block), provided every view between is nullified.
    fn parent_chain_ok(&self, view: View, parent_view: View) -> Option<(BlockRef, View)> {
        if parent_view < self.finalized_view {
            return None;
        }
        if (parent_view + 1..view)
            .any(|w| !self.nullified.contains_key(&w) && w > self.finalized_view)
        {
            return None;
        }
        if parent_view == self.finalized_view {
            return Some((self.finalized, parent_view));
        }
        self.notarized
            .get(&parent_view)
            .map(|(block, _, _)| (*block, parent_view))
    }

    fn on_verified(&mut self, view: View, block: BlockRef, valid: bool) {
        if !valid || view != self.view || self.has_signed_nullify(view) {
            return;
        }
        let Some((proposed, parent_view)) = self.votes.get(&view).and_then(|v| v.proposal) else {
            return;
        };
        if proposed != block {
            return;
        }
        self.sign_and_send(Vote {
            view,
            kind: VoteKind::Notarize { block, parent_view },
        });
    }

    /// Signs, persists, sends and counts our own vote, unless it would conflict with (or
    /// repeat) a vote we signed before: the double-sign protection.
    fn sign_and_send(&mut self, vote: Vote) {
        let Some(key) = &self.key else {
            return;
        };
        if vote.view <= self.finalized_view {
            return;
        }
        let earlier = self.signed.get(&vote.view).into_iter().flatten();
        if earlier
            .clone()
            .any(|v| v.vote == vote || v.vote.conflicts_with(&vote))
        {
            return;
        }
        // Notarize at most one block per view, even where `conflicts_with` would allow it.
        if matches!(vote.kind, VoteKind::Notarize { .. }) && self.has_signed_notarize(vote.view) {
            return;
        }
        let signed = vote.sign(key, self.genesis_hash);
        self.signed.entry(vote.view).or_default().push(signed);
        self.effects.push(Effect::PersistVote(vote));
        self.effects.push(Effect::Broadcast(Message::Vote(signed)));
        self.on_vote(signed, true);
    }

    fn on_vote(&mut self, signed: SignedVote, ours: bool) {
        let view = signed.vote.view;
        if view <= self.finalized_view || view > self.view + MAX_VIEWS_AHEAD {
            return;
        }
        if !ours && signed.verify(self.genesis_hash, &self.validators).is_err() {
            return;
        }
        let leader = self.leader(view);
        let quorum = self.quorum;
        let votes = self.votes.entry(view).or_default();
        let held = votes.by_signer.get(&signed.signer);
        if held.is_some_and(|earlier| earlier.iter().any(|v| v.vote == signed.vote)) {
            return;
        }
        self.effects.extend(votes.evidence_against(&signed));
        votes
            .by_signer
            .entry(signed.signer)
            .or_default()
            .push(signed);
        let mut reached = None;
        match signed.vote.kind {
            VoteKind::Notarize { block, parent_view } => {
                if signed.signer == leader && votes.proposal.is_none() {
                    votes.proposal = Some((block, parent_view));
                }
                let tally = votes.notarize.entry((block, parent_view)).or_default();
                tally.insert(signed.signer, signed.signature);
                if tally.len() >= quorum {
                    reached = Some(Certificate::from_votes(signed.vote, tally));
                }
            }
            VoteKind::Nullify => {
                votes.nullify.insert(signed.signer, signed.signature);
                if votes.nullify.len() >= quorum {
                    reached = Some(Certificate::from_votes(signed.vote, &votes.nullify));
                }
            }
            VoteKind::Finalize { block } => {
                let tally = votes.finalize.entry(block).or_default();
                tally.insert(signed.signer, signed.signature);
                if tally.len() >= quorum {
                    reached = Some(Certificate::from_votes(signed.vote, tally));
                }
            }
        }
        if let VoteKind::Notarize { block, .. } | VoteKind::Finalize { block } = signed.vote.kind {
            self.refs.insert(block.hash, block);
        }
        let leader_skips = signed.vote.kind == VoteKind::Nullify && signed.signer == leader;
        match reached {
            Some(certificate) => self.on_quorum(certificate),
            None => {
                if view == self.view {
                    self.try_vote();
                    if leader_skips {
                        self.follow_abdication();
                    }
                }
            }
        }
    }

    fn on_certificate(&mut self, certificate: Certificate) {
        let view = certificate.vote.view;
        if view <= self.finalized_view {
            return;
        }
        let known = match certificate.vote.kind {
            VoteKind::Notarize { .. } => self.notarized.contains_key(&view),
            VoteKind::Nullify => self.nullified.contains_key(&view),
            VoteKind::Finalize { .. } => false,
        };
        if known
            || certificate
                .verify(self.genesis_hash, &self.validators)
                .is_err()
        {
            return;
        }
        self.report_conflicts_in(&certificate);
        if let VoteKind::Notarize { block, .. } | VoteKind::Finalize { block } =
            certificate.vote.kind
        {
            self.refs.insert(block.hash, block);
        }
        self.on_quorum(certificate);
    }

    /// A certificate is a bundle of signed votes: a signature in it that conflicts with a
    /// vote held here from the same signer is evidence too. Without this, a leader that
    /// sends half the validators one block and half another, and gets the first
    /// notarized, is only caught if a timeout makes someone repeat its proposal. The
    /// certificate's votes are kept, so a conflicting vote that comes after it is caught
    /// as well.
    fn report_conflicts_in(&mut self, certificate: &Certificate) {
        let votes = self.votes.entry(certificate.vote.view).or_default();
        for (signer, signature) in &certificate.signatures {
            let signed = SignedVote {
                vote: certificate.vote,
                signer: *signer,
                signature: *signature,
            };
            self.effects.extend(votes.evidence_against(&signed));
            let kept = votes.certified.entry(*signer).or_default();
            if !kept.iter().any(|v| v.vote == signed.vote) {
                kept.push(signed);
            }
        }
    }

    /// A quorum signed `certificate.vote` (counted here or checked from a peer).
    fn on_quorum(&mut self, certificate: Certificate) {
        let view = certificate.vote.view;
        match certificate.vote.kind {
            VoteKind::Notarize { block, parent_view } => {
                if self.notarized.contains_key(&view) {
                    return;
                }
                self.notarized
                    .insert(view, (block, parent_view, certificate.clone()));
                self.effects
                    .push(Effect::Broadcast(Message::Certificate(certificate)));
                // Finalize only a view we did not vote to skip (checked in sign_and_send).
                if !self.has_signed_nullify(view) {
                    self.sign_and_send(Vote {
                        view,
                        kind: VoteKind::Finalize { block },
                    });
                }
                if view >= self.view && view > self.finalized_view {
                    self.enter_view(view + 1);
                } else {
                    self.try_progress();
                }
            }
            VoteKind::Nullify => {
                if self.nullified.contains_key(&view) {
                    return;
                }
                self.nullified.insert(view, certificate.clone());
                self.effects
                    .push(Effect::Broadcast(Message::Certificate(certificate)));
                if view >= self.view {
                    self.enter_view(view + 1);
                } else {
                    self.try_progress();
                }
            }
            VoteKind::Finalize { .. } => self.finalize(certificate),
        }
    }

    /// New certificates may complete the parent chain a pending proposal or build needs.
    fn try_progress(&mut self) {
        if self.me().is_some() && self.me() == Some(self.leader(self.view)) {
            self.try_propose();
        }
        self.try_vote();
    }

    fn finalize(&mut self, certificate: Certificate) {
        let view = certificate.vote.view;
        let VoteKind::Finalize { block: tip } = certificate.vote.kind else {
            return;
        };
        if view <= self.finalized_view {
            return;
        }
        if tip.height <= self.finalized.height {
            self.effects.push(Effect::Halt {
                reason: format!(
                    "view {view} finalized block {:?} at height {}, but height {} is already final",
                    tip.hash, tip.height, self.finalized.height
                ),
            });
            return;
        }
        // Walk back to our finalized block.
        let mut chain = vec![tip];
        let mut cursor = tip;
        while cursor.height > self.finalized.height + 1 {
            match self.refs.get(&cursor.parent) {
                Some(parent) if parent.height + 1 == cursor.height => {
                    cursor = *parent;
                    chain.push(cursor);
                }
                _ => {
                    self.effects.push(Effect::NeedAncestors {
                        tip,
                        finalized_height: self.finalized.height,
                    });
                    self.pending_finalization = Some(certificate);
                    return;
                }
            }
        }
        if cursor.parent != self.finalized.hash {
            self.effects.push(Effect::Halt {
                reason: format!(
                    "view {view} finalized block {:?}, which does not extend our finalized block {:?}",
                    tip.hash, self.finalized.hash
                ),
            });
            return;
        }
        chain.reverse();
        let Some(finality) = certificate.finality_certificate() else {
            return;
        };
        self.effects
            .push(Effect::Broadcast(Message::Certificate(certificate.clone())));
        self.effects.push(Effect::Finalized {
            blocks: chain,
            certificate: finality,
        });
        self.finalized = tip;
        self.finalized_view = view;
        self.last_finalization = Some(certificate);
        if self
            .pending_finalization
            .as_ref()
            .is_some_and(|p| p.vote.view <= view)
        {
            self.pending_finalization = None;
        }
        // Forget what finality settled.
        self.votes = self.votes.split_off(&(view + 1));
        self.signed = self.signed.split_off(&(view + 1));
        self.notarized = self.notarized.split_off(&(view + 1));
        self.nullified = self.nullified.split_off(&(view + 1));
        let height = tip.height;
        self.refs.retain(|_, block| block.height >= height);
        if self.view <= view {
            self.enter_view(view + 1);
        } else {
            self.try_progress();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS: Hash = Hash([3; 32]);

    fn base() -> Restart {
        Restart {
            finalized: BlockRef {
                hash: GENESIS,
                height: 0,
                parent: Hash::ZERO,
            },
            finalized_view: 0,
            signed_votes: Vec::new(),
        }
    }

    fn child(parent: &BlockRef, tag: u8) -> BlockRef {
        BlockRef {
            hash: Hash([tag; 32]),
            height: parent.height + 1,
            parent: parent.hash,
        }
    }

    #[test]
    fn a_single_validator_finalizes_each_block_at_once() {
        let key = Keypair::dev("Alice");
        let mut replica = Replica::new(
            Config {
                genesis_hash: GENESIS,
                validators: vec![key.account_id()],
                key: Some(key),
                view_timeout_ms: 1_000,
            },
            base(),
        );
        let effects = replica.on_input(0, Input::Tick);
        let genesis = base().finalized;
        assert!(effects.contains(&Effect::BuildBlock {
            view: 1,
            parent: genesis,
            parent_view: 0
        }));
        let block = child(&genesis, 1);
        let effects = replica.on_input(0, Input::Built { view: 1, block });
        // Persisted before sent, notarized, finalized, and on to build the next.
        let persist = effects
            .iter()
            .position(|e| matches!(e, Effect::PersistVote(_)))
            .unwrap();
        let send = effects
            .iter()
            .position(|e| matches!(e, Effect::Broadcast(Message::Vote(_))))
            .unwrap();
        assert!(persist < send);
        let finalized = effects.iter().find_map(|e| match e {
            Effect::Finalized {
                blocks,
                certificate,
            } => Some((blocks.clone(), certificate.clone())),
            _ => None,
        });
        let (blocks, certificate) = finalized.expect("final at once");
        assert_eq!(blocks, vec![block]);
        assert_eq!(certificate.block_hash, block.hash);
        assert_eq!(replica.finalized(), block);
        assert!(effects.contains(&Effect::BuildBlock {
            view: 2,
            parent: block,
            parent_view: 1
        }));
    }

    fn four_validators() -> (Vec<Keypair>, Vec<AccountId>) {
        let keys: Vec<Keypair> = (1..=4u8).map(|i| Keypair::from_seed(&[i; 32])).collect();
        let ids = keys.iter().map(Keypair::account_id).collect();
        (keys, ids)
    }

    #[test]
    fn after_a_restart_a_validator_refuses_a_conflicting_vote() {
        let (keys, validators) = four_validators();
        let genesis = base().finalized;
        let (a, b) = (child(&genesis, 0xa), child(&genesis, 0xb));
        // Validator 2 notarized block A in view 1 before it crashed.
        let mut restart = base();
        restart.signed_votes.push(Vote {
            view: 1,
            kind: VoteKind::Notarize {
                block: a,
                parent_view: 0,
            },
        });
        let mut replica = Replica::new(
            Config {
                genesis_hash: GENESIS,
                validators: validators.clone(),
                key: Some(keys[2].clone()),
                view_timeout_ms: 1_000,
            },
            restart,
        );
        let _ = replica.on_input(0, Input::Tick);
        // The leader of view 1 (validator 1) now proposes B; it executes fine.
        let proposal = Vote {
            view: 1,
            kind: VoteKind::Notarize {
                block: b,
                parent_view: 0,
            },
        }
        .sign(&keys[1], GENESIS);
        let effects = replica.on_input(0, Input::Message(Message::Vote(proposal)));
        assert!(!effects
            .iter()
            .any(|e| matches!(e, Effect::PersistVote(_) | Effect::VerifyBlock { .. })));
        let effects = replica.on_input(
            0,
            Input::Verified {
                view: 1,
                block: b,
                valid: true,
            },
        );
        assert!(
            effects.is_empty(),
            "signed again after restart: {effects:?}"
        );
    }

    /// A replica without a key watching four validators (their keys), in view 1.
    fn observer_of_four() -> (Vec<Keypair>, Replica) {
        let (keys, validators) = four_validators();
        let mut replica = Replica::new(
            Config {
                genesis_hash: GENESIS,
                validators,
                key: None,
                view_timeout_ms: 1_000,
            },
            base(),
        );
        let _ = replica.on_input(0, Input::Tick);
        (keys, replica)
    }

    fn notarize_in_view_1(block: BlockRef) -> Vote {
        Vote {
            view: 1,
            kind: VoteKind::Notarize {
                block,
                parent_view: 0,
            },
        }
    }

    #[test]
    fn forged_and_foreign_votes_are_ignored_and_equivocation_reported() {
        let (keys, mut replica) = observer_of_four();
        let genesis = base().finalized;
        let vote = notarize_in_view_1;
        let mut forged = vote(child(&genesis, 1)).sign(&keys[1], GENESIS);
        forged.signature.0[5] ^= 1;
        assert!(replica
            .on_input(0, Input::Message(Message::Vote(forged)))
            .is_empty());
        let outsider = vote(child(&genesis, 1)).sign(&Keypair::dev("Mallory"), GENESIS);
        assert!(replica
            .on_input(0, Input::Message(Message::Vote(outsider)))
            .is_empty());
        let other_chain = vote(child(&genesis, 1)).sign(&keys[1], Hash([4; 32]));
        assert!(replica
            .on_input(0, Input::Message(Message::Vote(other_chain)))
            .is_empty());
        let first = vote(child(&genesis, 1)).sign(&keys[3], GENESIS);
        let second = vote(child(&genesis, 2)).sign(&keys[3], GENESIS);
        let _ = replica.on_input(0, Input::Message(Message::Vote(first)));
        let effects = replica.on_input(0, Input::Message(Message::Vote(second)));
        assert_eq!(effects, vec![Effect::Evidence { first, second }]);
    }

    #[test]
    fn a_vote_that_conflicts_with_a_certificate_received_earlier_is_reported() {
        let (keys, mut replica) = observer_of_four();
        let genesis = base().finalized;
        let vote = notarize_in_view_1;
        let notarized = vote(child(&genesis, 1));
        let signatures: BTreeMap<AccountId, Signature> = keys[..3]
            .iter()
            .map(|key| (key.account_id(), notarized.sign(key, GENESIS).signature))
            .collect();
        let certificate = Certificate::from_votes(notarized, &signatures);
        let _ = replica.on_input(0, Input::Message(Message::Certificate(certificate)));
        // keys[1] signed block 1 (inside the certificate), and now signs block 2.
        let second = vote(child(&genesis, 2)).sign(&keys[1], GENESIS);
        let effects = replica.on_input(0, Input::Message(Message::Vote(second)));
        let first = notarized.sign(&keys[1], GENESIS);
        assert_eq!(effects, vec![Effect::Evidence { first, second }]);
        // The leader's own vote for the certified block still counts when it comes late.
        let late = notarized.sign(&keys[0], GENESIS);
        let effects = replica.on_input(0, Input::Message(Message::Vote(late)));
        assert!(!effects
            .iter()
            .any(|effect| matches!(effect, Effect::Evidence { .. })));
    }

    /// The nullify votes this replica signed in `effects`, by view.
    fn nullified_views(effects: &[Effect]) -> Vec<View> {
        effects
            .iter()
            .filter_map(|effect| match effect {
                Effect::PersistVote(Vote {
                    view,
                    kind: VoteKind::Nullify,
                }) => Some(*view),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_view_gets_its_full_timeout_from_when_it_is_entered_not_from_the_last_tick() {
        let (keys, validators) = four_validators();
        let mut replica = Replica::new(
            Config {
                genesis_hash: GENESIS,
                validators,
                key: Some(keys[3].clone()),
                view_timeout_ms: 1_000,
            },
            base(),
        );
        let _ = replica.on_input(0, Input::Tick);
        assert_eq!(replica.view(), 1);
        // At 900 ms a quorum skips view 1, so this replica enters view 2 then; no tick
        // comes in between.
        for key in &keys[..3] {
            let nullify = Vote {
                view: 1,
                kind: VoteKind::Nullify,
            }
            .sign(key, GENESIS);
            let _ = replica.on_input(900, Input::Message(Message::Vote(nullify)));
        }
        assert_eq!(replica.view(), 2);
        // The tick scheduled for view 1's deadline must not cut view 2 short ...
        let effects = replica.on_input(1_000, Input::Tick);
        assert_eq!(nullified_views(&effects), Vec::<View>::new());
        // ... which ends a full timeout after it began.
        let effects = replica.on_input(1_900, Input::Tick);
        assert_eq!(nullified_views(&effects), vec![2]);
    }

    #[test]
    fn a_leader_that_cannot_propose_gives_up_its_view_and_the_others_follow_at_once() {
        let (keys, validators) = four_validators();
        let config = |key: &Keypair| Config {
            genesis_hash: GENESIS,
            validators: validators.clone(),
            key: Some(key.clone()),
            view_timeout_ms: 1_000,
        };
        // Validator 1 leads view 1 and cannot build.
        let mut leader = Replica::new(config(&keys[1]), base());
        let effects = leader.on_input(0, Input::Tick);
        assert!(effects
            .iter()
            .any(|e| matches!(e, Effect::BuildBlock { view: 1, .. })));
        let effects = leader.on_input(10, Input::CannotPropose { view: 1 });
        assert_eq!(nullified_views(&effects), vec![1]);
        let abdication = effects
            .iter()
            .find_map(|e| match e {
                Effect::Broadcast(Message::Vote(vote)) => Some(*vote),
                _ => None,
            })
            .unwrap();
        // Another validator skips view 1 on the leader's word, long before its timeout.
        let mut other = Replica::new(config(&keys[2]), base());
        let _ = other.on_input(0, Input::Tick);
        let effects = other.on_input(20, Input::Message(Message::Vote(abdication)));
        assert_eq!(nullified_views(&effects), vec![1]);
        // A nullify from someone who does not lead the view changes nothing early.
        let mut third = Replica::new(config(&keys[3]), base());
        let _ = third.on_input(0, Input::Tick);
        let bystander = Vote {
            view: 1,
            kind: VoteKind::Nullify,
        }
        .sign(&keys[2], GENESIS);
        let effects = third.on_input(20, Input::Message(Message::Vote(bystander)));
        assert!(nullified_views(&effects).is_empty());
        // The leader's word arriving before this validator enters the view counts when it
        // does.
        let mut late = Replica::new(config(&keys[0]), base());
        let ahead = Vote {
            view: 2,
            kind: VoteKind::Nullify,
        }
        .sign(&keys[2], GENESIS);
        let _ = late.on_input(0, Input::Message(Message::Vote(ahead)));
        let _ = late.on_input(0, Input::Tick);
        for key in &keys[1..] {
            let skip_1 = Vote {
                view: 1,
                kind: VoteKind::Nullify,
            }
            .sign(key, GENESIS);
            let effects = late.on_input(30, Input::Message(Message::Vote(skip_1)));
            if late.view() == 2 {
                assert!(nullified_views(&effects).contains(&2), "{effects:?}");
                return;
            }
        }
        panic!("view 1 was never skipped");
    }

    #[test]
    fn a_nullify_signature_is_not_a_finalize_signature() {
        let key = Keypair::dev("Alice");
        let block = child(&base().finalized, 1);
        let nullify = Vote {
            view: 4,
            kind: VoteKind::Nullify,
        }
        .sign(&key, GENESIS);
        let mut as_finalize = nullify;
        as_finalize.vote.kind = VoteKind::Finalize { block };
        assert!(nullify.verify(GENESIS, &[key.account_id()]).is_ok());
        assert!(as_finalize.verify(GENESIS, &[key.account_id()]).is_err());
        assert!(nullify.vote.conflicts_with(&as_finalize.vote));
    }
}
