use super::*;
use proptest::prelude::*;
use wijk_membership::GenesisMember;
use wijk_support::testing::TestChain;
use wijk_support::{Enactment, Interfaces, Pallet as _, Proposable};

/// The enactment of these tests: governance's own calls are proposable (the runtime's
/// classification, in small), carried out by dispatching them as the members' decision.
struct OwnCalls;

impl Enactment for OwnCalls {
    fn proposable(&self, encoded: &[u8]) -> Result<Proposable, NotProposable> {
        let call = Call::decode(&mut &encoded[..]).map_err(|error| NotProposable::Malformed {
            reason: error.to_string(),
        })?;
        let kind = match call {
            Call::SetTrack { .. } | Call::SetRules { .. } => ProposalKind::Parameter,
            Call::RemoveBoardMember { .. } => ProposalKind::Board,
            _ => {
                return Err(NotProposable::NotADecision {
                    pallet: "governance".into(),
                    call: "vote".into(),
                })
            }
        };
        Ok(Proposable {
            kind,
            cost: Pallet::cost(&call),
        })
    }

    fn enact(
        &self,
        ctx: &mut CallContext<'_, '_>,
        encoded: &[u8],
    ) -> Result<Result<(), String>, StateError> {
        let Ok(call) = Call::decode(&mut &encoded[..]) else {
            return Ok(Err("does not decode".into()));
        };
        Ok(
            Pallet::dispatch(ctx, &Origin::Collective(Collective::Members), &call)?
                .map_err(|error| error.to_string()),
        )
    }
}

const INTERFACES: Interfaces = Interfaces {
    currency: &wijk_coin::Pallet,
    membership: &wijk_membership::Pallet,
    collectives: &wijk_system::SpecBoard,
    geography: &wijk_support::Borderless,
    enactment: &OwnCalls,
};

fn account(n: u8) -> AccountId {
    AccountId([n; 32])
}

const BOARD: u8 = 1;
const SHOP: u8 = 2; // a merchant: proposes, does not vote
/// Residents are 10 ..= 29.
const RESIDENTS: std::ops::RangeInclusive<u8> = 10..=29;

fn quick(quorum_per_mille: u16, approval_per_mille: u16) -> Track {
    Track {
        quorum_per_mille,
        approval_per_mille,
        voting_blocks: 10,
        enactment_blocks: 2,
    }
}

fn chain_with(tracks: Tracks, depth: u8) -> TestChain {
    let mut chain = TestChain::new(INTERFACES);
    chain.genesis::<wijk_system::Pallet>(&wijk_system::Genesis {
        board: vec![account(BOARD)],
        ..Default::default()
    });
    let mut members = vec![
        GenesisMember {
            account: account(BOARD),
            roles: RoleSet::of(&[Role::Board, Role::Resident]),
            tag: None,
            place: None,
        },
        GenesisMember {
            account: account(SHOP),
            roles: RoleSet::of(&[Role::Merchant]),
            tag: None,
            place: Some(wijk_support::Place {
                location: wijk_primitives::GeoPoint {
                    lat: 51_063_000,
                    lon: 3_714_000,
                },
                category: "food".into(),
            }),
        },
    ];
    members.extend(RESIDENTS.map(|n| GenesisMember {
        account: account(n),
        roles: RoleSet::of(&[Role::Resident]),
        tag: None,
        place: None,
    }));
    chain.genesis::<wijk_membership::Pallet>(&wijk_membership::Genesis {
        members,
        ..Default::default()
    });
    chain.genesis::<Pallet>(&Genesis {
        tracks,
        delegation_depth: depth,
        ..Default::default()
    });
    chain
}

fn all_tracks(track: Track) -> Tracks {
    Tracks {
        activity_value: track,
        activity_catalogue: track,
        parameter: track,
        board: track,
        validator_set: track,
        spend: track,
        goal: track,
    }
}

fn chain() -> TestChain {
    chain_with(all_tracks(quick(200, 500)), 3)
}

fn signed(n: u8) -> Origin {
    Origin::Signed(account(n))
}

fn set_track_call(voting_blocks: u64) -> Vec<u8> {
    Call::SetTrack {
        kind: ProposalKind::Goal,
        track: Track {
            voting_blocks,
            ..quick(0, 0)
        },
    }
    .encode()
}

/// Proposes a parameter change (the goal track's period) and returns its id.
fn propose(chain: &mut TestChain, by: u8) -> u64 {
    let id = NEXT_ID.get(chain.reader()).unwrap().unwrap_or(0);
    chain
        .dispatch::<Pallet>(
            signed(by),
            &Call::Propose {
                title: "a shorter goal vote".into(),
                text_hash: Hash([9; 32]),
                encoded_call: set_track_call(5),
            },
        )
        .expect("proposes");
    id
}

fn vote(chain: &mut TestChain, by: u8, id: u64, choice: Choice) -> Result<(), Error> {
    chain
        .dispatch::<Pallet>(signed(by), &Call::Vote { id, choice })
        .map(|_| ())
}

fn delegate(chain: &mut TestChain, from: u8, to: u8, scope: Scope) -> Result<(), Error> {
    chain
        .dispatch::<Pallet>(
            signed(from),
            &Call::Delegate {
                to: account(to),
                scope,
            },
        )
        .map(|_| ())
}

fn tally_of(chain: &TestChain, id: u64) -> Tally {
    let tally = proposal(chain.reader(), id).unwrap().unwrap().tally;
    assert_eq!(
        recount(chain.reader(), id).unwrap(),
        Some(tally.clone()),
        "the running tally equals a recount"
    );
    tally
}

fn yes_no_abstain(yes: u32, no: u32, abstain: u32) -> Tally {
    Tally {
        yes,
        no,
        abstain,
        ..Tally::default()
    }
}

/// Runs end-block hooks from the current height through `until`.
fn run_to(chain: &mut TestChain, until: Height) -> Vec<Event> {
    let mut events = Vec::new();
    while chain.block.height < until {
        events.extend(chain.end_block::<Pallet>().of::<Event>());
        let next = chain.block.height + 1;
        chain.begin_block::<Pallet>(next);
    }
    events.extend(chain.end_block::<Pallet>().of::<Event>());
    events
}

fn status(chain: &TestChain, id: u64) -> Status {
    proposal(chain.reader(), id).unwrap().unwrap().status
}

#[test]
fn a_proposal_opens_with_its_kind_track_and_electorate_frozen() {
    let mut chain = chain();
    let id = propose(&mut chain, SHOP);
    let opened = proposal(chain.reader(), id).unwrap().unwrap();
    assert_eq!(opened.kind, ProposalKind::Parameter);
    assert_eq!(opened.track, quick(200, 500));
    // The board member and 20 residents vote; the merchant does not.
    assert_eq!(opened.electorate, 21);
    assert_eq!(opened.closes_at, 11);
    assert_eq!(
        vote(&mut chain, SHOP, id, Choice::Yes),
        Err(Error::NotAVoter {
            account: account(SHOP),
            voter_roles: RoleSet::of(&[Role::Resident])
        }),
        "a merchant proposes but does not vote"
    );
    // Not a decision of the members: a vote is not proposable.
    let refused = chain.dispatch::<Pallet>(
        signed(10),
        &Call::Propose {
            title: "vote for me".into(),
            text_hash: Hash([0; 32]),
            encoded_call: Call::Vote {
                id: 0,
                choice: Choice::Yes,
            }
            .encode(),
        },
    );
    assert!(
        matches!(refused, Err(Error::NotProposable(_))),
        "{:?}",
        refused.err()
    );
    let garbage = chain.dispatch::<Pallet>(
        signed(10),
        &Call::Propose {
            title: "garbage".into(),
            text_hash: Hash([0; 32]),
            encoded_call: vec![0xff, 0xff],
        },
    );
    assert!(
        matches!(
            garbage,
            Err(Error::NotProposable(NotProposable::Malformed { .. }))
        ),
        "{:?}",
        garbage.err()
    );
    let untitled = chain.dispatch::<Pallet>(
        signed(10),
        &Call::Propose {
            title: String::new(),
            text_hash: Hash([0; 32]),
            encoded_call: set_track_call(5),
        },
    );
    assert_eq!(untitled.err(), Some(Error::BadTitle { len: 0, max: 160 }));
}

#[test]
fn voting_twice_counts_once_and_the_later_vote_stands() {
    let mut chain = chain();
    let id = propose(&mut chain, 10);
    vote(&mut chain, 10, id, Choice::Yes).unwrap();
    vote(&mut chain, 10, id, Choice::Yes).unwrap();
    assert_eq!(tally_of(&chain, id), yes_no_abstain(1, 0, 0));
    vote(&mut chain, 10, id, Choice::No).unwrap();
    assert_eq!(tally_of(&chain, id), yes_no_abstain(0, 1, 0));
    let ballot = vote(&mut chain, 11, id, Choice::Approve(vec![0]));
    assert!(
        matches!(ballot, Err(Error::WrongChoice { .. })),
        "{ballot:?}"
    );
}

#[test]
fn a_proposal_closes_at_the_end_of_its_period_and_votes_after_are_refused() {
    let mut chain = chain();
    let id = propose(&mut chain, 10);
    // 5 of 21 vote (quorum 20 % needs 5): 4 yes, 1 no.
    for n in 10..14 {
        vote(&mut chain, n, id, Choice::Yes).unwrap();
    }
    vote(&mut chain, 14, id, Choice::No).unwrap();
    let events = run_to(&mut chain, 10);
    assert!(events.is_empty(), "still open at height 10: {events:?}");
    assert_eq!(status(&chain, id), Status::Voting);
    let events = run_to(&mut chain, 11);
    assert!(
        events.contains(&Event::Closed {
            id,
            outcome: Outcome::Approved { elected: vec![] },
            tally: yes_no_abstain(4, 1, 0)
        }),
        "{events:?}"
    );
    assert_eq!(
        status(&chain, id),
        Status::Approved {
            enacts_at: 13,
            elected: vec![]
        }
    );
    assert_eq!(
        vote(&mut chain, 15, id, Choice::No),
        Err(Error::VotingClosed { id })
    );
    // Enacted at 13, with the members' origin: the goal track is now 5 blocks.
    let events = run_to(&mut chain, 13);
    assert!(
        events.contains(&Event::Enacted { id, failed: None }),
        "{events:?}"
    );
    assert_eq!(
        config(chain.reader())
            .unwrap()
            .track(ProposalKind::Goal)
            .voting_blocks,
        5
    );
}

#[test]
fn without_quorum_or_enough_yes_a_proposal_is_rejected() {
    let mut chain = chain();
    let few = propose(&mut chain, 10);
    for n in 10..14 {
        vote(&mut chain, n, few, Choice::Yes).unwrap();
    }
    let split = propose(&mut chain, 11);
    for n in 10..13 {
        vote(&mut chain, n, split, Choice::Yes).unwrap();
    }
    for n in 13..16 {
        vote(&mut chain, n, split, Choice::No).unwrap();
    }
    vote(&mut chain, 16, split, Choice::Abstain).unwrap();
    run_to(&mut chain, 11);
    assert_eq!(
        status(&chain, few),
        Status::Rejected {
            outcome: Outcome::NoQuorum { cast: 4, needed: 5 }
        }
    );
    assert_eq!(
        status(&chain, split),
        Status::Rejected {
            outcome: Outcome::NotApproved
        },
        "a tie never passes"
    );
    // Nothing is enacted.
    let events = run_to(&mut chain, 20);
    assert!(events
        .iter()
        .all(|event| !matches!(event, Event::Enacted { .. })));
}

#[test]
fn rules_changed_mid_vote_apply_only_to_later_proposals() {
    let mut chain = chain();
    // Proposal 0 makes parameter votes need 90 % quorum; proposal 1 opens meanwhile.
    let strict = chain
        .dispatch::<Pallet>(
            signed(10),
            &Call::Propose {
                title: "strict parameters".into(),
                text_hash: Hash([1; 32]),
                encoded_call: Call::SetTrack {
                    kind: ProposalKind::Parameter,
                    track: quick(900, 500),
                }
                .encode(),
            },
        )
        .map(|_| 0u64)
        .unwrap();
    for n in 10..20 {
        vote(&mut chain, n, strict, Choice::Yes).unwrap();
    }
    run_to(&mut chain, 5);
    let during = propose(&mut chain, 11);
    run_to(&mut chain, 13);
    assert_eq!(
        config(chain.reader())
            .unwrap()
            .track(ProposalKind::Parameter),
        quick(900, 500)
    );
    // The proposal opened before the change keeps its 20 % quorum.
    for n in 10..15 {
        vote(&mut chain, n, during, Choice::Yes).unwrap();
    }
    assert_eq!(
        proposal(chain.reader(), during).unwrap().unwrap().track,
        quick(200, 500)
    );
    run_to(&mut chain, 15);
    assert!(matches!(status(&chain, during), Status::Approved { .. }));
    // One made now needs 90 %.
    let after = propose(&mut chain, 12);
    assert_eq!(
        proposal(chain.reader(), after).unwrap().unwrap().track,
        quick(900, 500)
    );
}

#[test]
fn a_delegate_votes_for_their_delegators_until_one_votes_themselves() {
    let mut chain = chain();
    let id = propose(&mut chain, 10);
    // 11 and 12 delegate to 10 (for everything), 13 to 11 (transitively to 10).
    delegate(&mut chain, 11, 10, Scope::All).unwrap();
    delegate(&mut chain, 12, 10, Scope::All).unwrap();
    delegate(&mut chain, 13, 11, Scope::All).unwrap();
    vote(&mut chain, 10, id, Choice::Yes).unwrap();
    assert_eq!(tally_of(&chain, id), yes_no_abstain(4, 0, 0));
    // 11 overrides for this proposal: they and 13 (below them) now count no.
    vote(&mut chain, 11, id, Choice::No).unwrap();
    assert_eq!(tally_of(&chain, id), yes_no_abstain(2, 2, 0));
    // 13 takes the delegation back: only 11's own vote is no now.
    chain
        .dispatch::<Pallet>(signed(13), &Call::Undelegate { scope: Scope::All })
        .unwrap();
    assert_eq!(tally_of(&chain, id), yes_no_abstain(2, 1, 0));
    // 13 delegates again, straight to 10.
    delegate(&mut chain, 13, 10, Scope::All).unwrap();
    assert_eq!(tally_of(&chain, id), yes_no_abstain(3, 1, 0));
    // 10 changes their vote: their delegators' votes follow.
    vote(&mut chain, 10, id, Choice::Abstain).unwrap();
    assert_eq!(tally_of(&chain, id), yes_no_abstain(0, 1, 3));
}

#[test]
fn a_delegation_loop_is_refused_and_chains_stay_within_the_depth() {
    let mut chain = chain();
    delegate(&mut chain, 10, 11, Scope::All).unwrap();
    delegate(&mut chain, 11, 12, Scope::All).unwrap();
    assert_eq!(
        delegate(&mut chain, 12, 10, Scope::All),
        Err(Error::DelegationLoop {
            to: account(10),
            kind: ProposalKind::ActivityValue
        })
    );
    assert_eq!(
        delegate(&mut chain, 12, 12, Scope::All),
        Err(Error::SelfDelegation)
    );
    // A loop through a per-kind delegation is refused too.
    assert_eq!(
        delegate(&mut chain, 12, 10, Scope::Kind(ProposalKind::Goal)),
        Err(Error::DelegationLoop {
            to: account(10),
            kind: ProposalKind::Goal
        })
    );
    // 10 -> 11 -> 12 -> 13 is three delegations, the depth; a fourth is refused.
    delegate(&mut chain, 12, 13, Scope::All).unwrap();
    assert_eq!(
        delegate(&mut chain, 13, 14, Scope::All),
        Err(Error::DelegationTooDeep {
            to: account(14),
            kind: ProposalKind::ActivityValue,
            length: 4,
            max: 3
        })
    );
    assert_eq!(
        delegate(&mut chain, 15, 10, Scope::All),
        Err(Error::DelegationTooDeep {
            to: account(10),
            kind: ProposalKind::ActivityValue,
            length: 4,
            max: 3
        })
    );
    assert_eq!(
        delegate(&mut chain, 15, SHOP, Scope::All),
        Err(Error::NotAVoter {
            account: account(SHOP),
            voter_roles: RoleSet::of(&[Role::Resident])
        })
    );
    assert_eq!(
        chain
            .dispatch::<Pallet>(signed(15), &Call::Undelegate { scope: Scope::All })
            .err(),
        Some(Error::NotDelegating { scope: Scope::All })
    );
}

#[test]
fn a_delegation_for_one_kind_overrides_the_general_one_there() {
    let mut chain = chain();
    delegate(&mut chain, 11, 10, Scope::All).unwrap();
    delegate(&mut chain, 11, 12, Scope::Kind(ProposalKind::Parameter)).unwrap();
    let id = propose(&mut chain, 13);
    vote(&mut chain, 10, id, Choice::Yes).unwrap();
    vote(&mut chain, 12, id, Choice::No).unwrap();
    // On a parameter proposal 11 follows 12.
    assert_eq!(tally_of(&chain, id), yes_no_abstain(1, 2, 0));
    // Taking the parameter delegation back lets the general one apply again.
    chain
        .dispatch::<Pallet>(
            signed(11),
            &Call::Undelegate {
                scope: Scope::Kind(ProposalKind::Parameter),
            },
        )
        .unwrap();
    assert_eq!(tally_of(&chain, id), yes_no_abstain(2, 1, 0));
}

#[test]
fn a_member_registered_after_a_proposal_opened_is_outside_its_electorate() {
    let mut chain = chain();
    chain.begin_block::<Pallet>(5);
    let id = propose(&mut chain, 10);
    chain.begin_block::<Pallet>(6);
    let newcomer = account(40);
    chain
        .dispatch::<wijk_membership::Pallet>(
            signed(BOARD),
            &wijk_membership::Call::Register {
                who: newcomer,
                roles: RoleSet::of(&[Role::Resident]),
                tag: Hash([40; 32]),
                place: None,
            },
        )
        .unwrap();
    assert_eq!(
        chain
            .dispatch::<Pallet>(
                Origin::Signed(newcomer),
                &Call::Vote {
                    id,
                    choice: Choice::Yes
                }
            )
            .err(),
        Some(Error::NotInElectorate {
            account: newcomer,
            id,
            since: 6,
            opened_at: 5
        })
    );
    // Their delegation does not carry their own vote into it either, but one delegated
    // through them does.
    vote(&mut chain, 10, id, Choice::Yes).unwrap();
    chain
        .dispatch::<Pallet>(
            Origin::Signed(newcomer),
            &Call::Delegate {
                to: account(10),
                scope: Scope::All,
            },
        )
        .unwrap();
    assert_eq!(tally_of(&chain, id), yes_no_abstain(1, 0, 0));
    delegate(&mut chain, 11, 40, Scope::All).unwrap();
    assert_eq!(tally_of(&chain, id), yes_no_abstain(2, 0, 0));
    // A later proposal counts the newcomer.
    let later = propose(&mut chain, 12);
    vote(&mut chain, 10, later, Choice::No).unwrap();
    assert_eq!(tally_of(&chain, later), yes_no_abstain(0, 3, 0));
}

#[test]
fn each_person_has_a_proposal_budget_per_window() {
    let mut chain = chain();
    for _ in 0..3 {
        propose(&mut chain, 10);
    }
    let refused = chain.dispatch::<Pallet>(
        signed(10),
        &Call::Propose {
            title: "a fourth".into(),
            text_hash: Hash([0; 32]),
            encoded_call: set_track_call(5),
        },
    );
    assert_eq!(
        refused.err(),
        Some(Error::ProposalBudgetSpent {
            per_window: 3,
            renews_at: WEEK_OF_BLOCKS
        })
    );
    chain.begin_block::<Pallet>(WEEK_OF_BLOCKS);
    propose(&mut chain, 10);
}

#[test]
fn the_board_can_stop_a_proposal_before_it_is_carried_out() {
    let mut chain = chain();
    let id = propose(&mut chain, 10);
    for n in 10..20 {
        vote(&mut chain, n, id, Choice::Yes).unwrap();
    }
    assert!(matches!(
        chain.dispatch::<Pallet>(
            signed(10),
            &Call::Cancel {
                id,
                reason: "no".into()
            }
        ),
        Err(Error::BadOrigin(_))
    ));
    run_to(&mut chain, 11);
    let events = chain
        .dispatch::<Pallet>(
            signed(BOARD),
            &Call::Cancel {
                id,
                reason: "the text hash names the wrong document".into(),
            },
        )
        .unwrap()
        .of::<Event>();
    assert_eq!(
        events,
        vec![Event::Cancelled {
            id,
            reason: "the text hash names the wrong document".into(),
            by: Some(account(BOARD))
        }]
    );
    let events = run_to(&mut chain, 20);
    assert!(events.is_empty(), "{events:?}");
    assert!(matches!(status(&chain, id), Status::Cancelled { .. }));
    assert_eq!(
        chain
            .dispatch::<Pallet>(
                signed(BOARD),
                &Call::Cancel {
                    id,
                    reason: "again".into()
                }
            )
            .err(),
        Some(Error::NotCancellable { id })
    );
}

#[test]
fn a_call_that_fails_when_enacted_changes_nothing_and_is_recorded() {
    let mut chain = chain();
    let id = chain
        .dispatch::<Pallet>(
            signed(10),
            &Call::Propose {
                title: "remove someone not on the board".into(),
                text_hash: Hash([2; 32]),
                encoded_call: Call::RemoveBoardMember {
                    member: account(12),
                }
                .encode(),
            },
        )
        .map(|_| 0u64)
        .unwrap();
    for n in 10..20 {
        vote(&mut chain, n, id, Choice::Yes).unwrap();
    }
    let events = run_to(&mut chain, 13);
    let failed = format!(
        "{}",
        Error::NotOnBoard {
            member: account(12)
        }
    );
    assert!(
        events.contains(&Event::Enacted {
            id,
            failed: Some(failed.clone())
        }),
        "{events:?}"
    );
    assert_eq!(
        status(&chain, id),
        Status::Enacted {
            at: 13,
            failed: Some(failed)
        }
    );
    assert_eq!(
        wijk_system::board(chain.reader()).unwrap(),
        vec![account(BOARD)]
    );
    // Calls only the members may make are refused to anyone else.
    assert!(matches!(
        chain.dispatch::<Pallet>(
            signed(BOARD),
            &Call::RemoveBoardMember {
                member: account(BOARD)
            }
        ),
        Err(Error::BadOrigin(_))
    ));
}

#[test]
fn members_elect_the_board_by_approval() {
    let mut chain = chain();
    let candidates = vec![account(20), account(21), account(22)];
    chain
        .dispatch::<Pallet>(
            signed(10),
            &Call::ProposeElection {
                title: "board 2027".into(),
                text_hash: Hash([3; 32]),
                seats: 2,
                candidates: candidates.clone(),
            },
        )
        .unwrap();
    let id = 0;
    assert_eq!(
        proposal(chain.reader(), id).unwrap().unwrap().kind,
        ProposalKind::Board
    );
    // 22 gets most approvals, then 20; 21 gets one.
    delegate(&mut chain, 11, 10, Scope::Kind(ProposalKind::Board)).unwrap();
    vote(&mut chain, 10, id, Choice::Approve(vec![0, 2])).unwrap();
    vote(&mut chain, 12, id, Choice::Approve(vec![2])).unwrap();
    vote(&mut chain, 13, id, Choice::Approve(vec![1, 2])).unwrap();
    vote(&mut chain, 14, id, Choice::Approve(vec![])).unwrap();
    let tally = tally_of(&chain, id);
    assert_eq!((tally.ballots, tally.approvals.clone()), (5, vec![2, 1, 4]));
    assert!(matches!(
        vote(&mut chain, 15, id, Choice::Approve(vec![2, 0])),
        Err(Error::WrongChoice { .. })
    ));
    assert!(matches!(
        vote(&mut chain, 15, id, Choice::Yes),
        Err(Error::WrongChoice { .. })
    ));
    let events = run_to(&mut chain, 13);
    assert!(
        events.contains(&Event::BoardElected {
            id,
            board: vec![account(22)]
        }),
        "20 has 2 of 5 ballots, below the majority the board track asks: {events:?}"
    );
    assert_eq!(
        wijk_system::board(chain.reader()).unwrap(),
        vec![account(22)]
    );
    let bad = chain.dispatch::<Pallet>(
        signed(10),
        &Call::ProposeElection {
            title: "bad".into(),
            text_hash: Hash([3; 32]),
            seats: 3,
            candidates: vec![account(20), account(20)],
        },
    );
    assert!(
        matches!(bad, Err(Error::BadElection { .. })),
        "{:?}",
        bad.err()
    );
}

#[test]
fn the_electorate_counts_active_voters_only() {
    let mut chain = chain();
    chain
        .dispatch::<wijk_membership::Pallet>(
            signed(BOARD),
            &wijk_membership::Call::Suspend {
                who: account(10),
                reason: "test".into(),
            },
        )
        .unwrap();
    let id = propose(&mut chain, 11);
    assert_eq!(
        proposal(chain.reader(), id).unwrap().unwrap().electorate,
        20
    );
}

/// One step of a random history of votes and delegations.
#[derive(Debug, Clone)]
enum Step {
    Vote { voter: u8, proposal: u8, choice: u8 },
    Delegate { from: u8, to: u8, scope: u8 },
    Undelegate { from: u8, scope: u8 },
    Propose { kind: u8 },
    Register { who: u8 },
    Close,
}

fn step() -> impl Strategy<Value = Step> {
    // Eight residents (10..18), so chains grow long, and three newcomers (40..43).
    let member = prop_oneof![4 => 10u8..18, 1 => 40u8..43];
    prop_oneof![
        6 => (member.clone(), 0u8..3, 0u8..3).prop_map(|(voter, proposal, choice)| Step::Vote { voter, proposal, choice }),
        6 => (member.clone(), member.clone(), 0u8..3).prop_map(|(from, to, scope)| Step::Delegate { from, to, scope }),
        2 => (member, 0u8..3).prop_map(|(from, scope)| Step::Undelegate { from, scope }),
        2 => (0u8..2).prop_map(|kind| Step::Propose { kind }),
        1 => (40u8..43).prop_map(|who| Step::Register { who }),
        1 => Just(Step::Close),
    ]
}

fn scope_of(code: u8) -> Scope {
    match code {
        0 => Scope::All,
        1 => Scope::Kind(ProposalKind::Parameter),
        _ => Scope::Kind(ProposalKind::Board),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever members vote, delegate, override and take back, and whoever joins
    /// meanwhile, every proposal's running tally equals a recount from scratch.
    #[test]
    fn the_running_tally_always_equals_a_recount(steps in proptest::collection::vec(step(), 1..100)) {
        let mut chain = chain_with(all_tracks(quick(0, 0)), 3);
        let mut proposals: Vec<u64> = Vec::new();
        let mut height = 1;
        for step in steps {
            match step {
                Step::Vote { voter, proposal, choice } => {
                    // The latest proposals, most likely still open.
                    let index = proposals.len().checked_sub(1 + usize::from(proposal));
                    if let Some(id) = index.and_then(|index| proposals.get(index)) {
                        let election = matches!(
                            crate::proposal(chain.reader(), *id).unwrap().unwrap().action,
                            Action::Election { .. }
                        );
                        let choice = match (election, choice) {
                            (true, n) => Choice::Approve((0..n).collect()),
                            (false, 0) => Choice::Yes,
                            (false, 1) => Choice::No,
                            (false, _) => Choice::Abstain,
                        };
                        let _ = vote(&mut chain, voter, *id, choice);
                    }
                }
                Step::Delegate { from, to, scope } => {
                    let _ = delegate(&mut chain, from, to, scope_of(scope));
                }
                Step::Undelegate { from, scope } => {
                    let _ = chain.dispatch::<Pallet>(signed(from), &Call::Undelegate { scope: scope_of(scope) });
                }
                Step::Propose { kind } => {
                    let id = NEXT_ID.get(chain.reader()).unwrap().unwrap_or(0);
                    let call = if kind == 0 {
                        Call::Propose { title: "p".into(), text_hash: Hash([0; 32]), encoded_call: set_track_call(5) }
                    } else {
                        Call::ProposeElection { title: "e".into(), text_hash: Hash([0; 32]), seats: 1, candidates: vec![account(10), account(11)] }
                    };
                    // Proposers rotate so the budget does not bind.
                    let by = 10 + (id % 12) as u8;
                    if chain.dispatch::<Pallet>(signed(by), &call).is_ok() {
                        proposals.push(id);
                    }
                }
                Step::Register { who } => {
                    let _ = chain.dispatch::<wijk_membership::Pallet>(
                        signed(BOARD),
                        &wijk_membership::Call::Register {
                            who: account(who),
                            roles: RoleSet::of(&[Role::Resident]),
                            tag: Hash([who; 32]),
                            place: None,
                        },
                    );
                }
                Step::Close => {
                    height += 11;
                    run_to(&mut chain, height);
                }
            }
            height += 1;
            chain.begin_block::<Pallet>(height);
            for id in &proposals {
                let stored = crate::proposal(chain.reader(), *id).unwrap().unwrap();
                if stored.status == Status::Voting {
                    prop_assert_eq!(recount(chain.reader(), *id).unwrap(), Some(stored.tally));
                }
            }
        }
    }
}
