//! The governance pallet's methods: `wijk_proposals`, `wijk_proposal`, `wijk_delegations`,
//! `wijk_board`.

use crate::context::RpcContext;
use crate::error::internal;
use crate::render;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use wijk_governance::{Action, Scope};
use wijk_primitives::json::with_address_prefix;
use wijk_primitives::{AccountId, Hash};
use wijk_rpc_types::governance as types;
use wijk_support::{Membership as _, ProposalKind, StateError, StateRead};

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Most proposals per page.
const MAX_PROPOSALS_PAGE: usize = 100;
/// Most votes per page.
const MAX_VOTES_PAGE: usize = 500;
/// Most delegators listed.
const MAX_DELEGATORS: usize = 500;

fn scope_name(scope: Scope) -> String {
    match scope {
        Scope::All => "all".into(),
        Scope::Kind(kind) => kind.name().into(),
    }
}

/// The key `person` signs with now, if they are a member.
fn account_of(state: &dyn StateRead, person: &Hash) -> Result<Option<AccountId>, StateError> {
    wijk_membership::Pallet.account_of_person(state, person)
}

fn proposal_view(proposal: &wijk_governance::Proposal, prefix: u16) -> types::Proposal {
    let action = match &proposal.action {
        Action::Call(encoded) => match wijk_runtime::decode_call(encoded) {
            Ok(call) => json!({ "call": with_address_prefix(prefix, || call.to_json()) }),
            Err(error) => json!({ "undecodable": error.to_string() }),
        },
        Action::Election { seats, candidates } => json!({
            "election": {
                "seats": seats,
                "candidates": with_address_prefix(prefix, || serde_json::to_value(candidates)).unwrap_or_default(),
            }
        }),
    };
    types::Proposal {
        id: proposal.id,
        proposer: proposal.proposer,
        kind: proposal.kind.name().into(),
        title: proposal.title.clone(),
        text_hash: proposal.text_hash,
        action,
        track: proposal.track,
        voter_roles: proposal
            .voter_roles
            .roles()
            .iter()
            .map(|role| role.name().to_string())
            .collect(),
        electorate: proposal.electorate,
        quorum_votes: wijk_governance::tally::quorum_votes(&proposal.track, proposal.electorate),
        opened_at: proposal.opened_at,
        closes_at: proposal.closes_at,
        tally: proposal.tally.clone(),
        status: proposal.status.clone(),
    }
}

pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_blocking_method("wijk_proposals", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let before: Option<u64> = sequence.optional_next()?;
        let limit: Option<usize> = sequence.optional_next()?;
        let state = ctx.storage.as_ref();
        let next = wijk_governance::NEXT_ID
            .get(state)
            .map_err(internal)?
            .unwrap_or(0);
        let limit = limit.unwrap_or(20).clamp(1, MAX_PROPOSALS_PAGE);
        let mut id = before.unwrap_or(next).min(next);
        let mut page = Vec::new();
        while id > 0 && page.len() < limit {
            id -= 1;
            if let Some(proposal) = wijk_governance::proposal(state, id).map_err(internal)? {
                page.push(proposal_view(&proposal, ctx.chain.address_prefix));
            }
        }
        render::json(ctx.chain.address_prefix, &page)
    })?;
    module.register_blocking_method("wijk_proposal", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let id: u64 = sequence.next()?;
        let member: Option<String> = sequence.optional_next()?;
        let votes_from: Option<usize> = sequence.optional_next()?;
        let member = member
            .as_deref()
            .map(|text| crate::wijk::parse_address(&ctx, text))
            .transpose()?;
        let state = ctx.storage.as_ref();
        let prefix = ctx.chain.address_prefix;
        let Some(proposal) = wijk_governance::proposal(state, id).map_err(internal)? else {
            return Ok(Value::Null);
        };
        let recount = wijk_governance::recount(state, id)
            .map_err(internal)?
            .unwrap_or_default();
        let (records, more_votes) =
            wijk_governance::votes(state, id, votes_from.unwrap_or(0), MAX_VOTES_PAGE)
                .map_err(internal)?;
        let votes = records
            .into_iter()
            .map(|record| types::CastVote {
                member: record.vote.member,
                guardian: (record.vote.signer != record.vote.member).then_some(record.vote.signer),
                choice: record.vote.choice,
                at: record.vote.at,
                counts_for: record.counts_for,
            })
            .collect();
        let member = match member {
            None => None,
            Some(account) => {
                let voter = wijk_membership::Pallet
                    .voter(state, &account)
                    .map_err(internal)?;
                match voter {
                    None => Some(types::MemberVote {
                        member: account,
                        in_electorate: false,
                        counted: None,
                        direct: false,
                        through: Vec::new(),
                    }),
                    Some(voter) => {
                        let effective =
                            wijk_governance::effective_vote(state, id, &voter.person, voter.since)
                                .map_err(internal)?;
                        match effective {
                            None => None,
                            Some(effective) => {
                                let mut through = Vec::new();
                                for person in &effective.through {
                                    if let Some(account) =
                                        account_of(state, person).map_err(internal)?
                                    {
                                        through.push(account);
                                    }
                                }
                                Some(types::MemberVote {
                                    member: account,
                                    in_electorate: effective.in_electorate,
                                    counted: effective.counted,
                                    direct: effective.direct,
                                    through,
                                })
                            }
                        }
                    }
                }
            }
        };
        render::json(
            prefix,
            &types::ProposalDetail {
                proposal: proposal_view(&proposal, prefix),
                recount,
                votes,
                more_votes,
                member,
                at_block: render::at_block(&ctx)?,
            },
        )
    })?;
    module.register_blocking_method("wijk_delegations", |params, ctx, _| -> RpcResult {
        let text: String = params.one()?;
        let account = crate::wijk::parse_address(&ctx, &text)?;
        let state = ctx.storage.as_ref();
        let Some(voter) = wijk_membership::Pallet
            .voter(state, &account)
            .map_err(internal)?
        else {
            return Ok(Value::Null);
        };
        let person = voter.person;
        let mut delegations = Vec::new();
        for scope in std::iter::once(Scope::All).chain(ProposalKind::ALL.map(Scope::Kind)) {
            if let Some(delegation) =
                wijk_governance::delegation(state, &person, scope).map_err(internal)?
            {
                let now = account_of(state, &delegation.to).map_err(internal)?;
                delegations.push(types::Delegation {
                    scope: scope_name(scope),
                    to: delegation.to_account,
                    to_now: now.filter(|now| *now != delegation.to_account),
                    at: delegation.at,
                });
            }
        }
        let node = wijk_governance::graph::node(state, &person).map_err(internal)?;
        let mut by_kind = Vec::new();
        for kind in ProposalKind::ALL {
            let delegate = match node.as_ref().and_then(|node| node.parent[kind.index()]) {
                Some(delegate) => account_of(state, &delegate).map_err(internal)?,
                None => None,
            };
            by_kind.push(types::KindDelegation {
                kind: kind.name().into(),
                delegate,
                weight: node.as_ref().map_or(1, |node| node.weight(kind)),
            });
        }
        let mut delegators = Vec::new();
        for (from, scope) in
            wijk_governance::delegators(state, &person, MAX_DELEGATORS).map_err(internal)?
        {
            delegators.push(types::Delegator {
                member: account_of(state, &from).map_err(internal)?,
                scope: scope_name(scope),
            });
        }
        render::json(
            ctx.chain.address_prefix,
            &types::Delegations {
                member: account,
                delegations,
                by_kind,
                delegators,
                at_block: render::at_block(&ctx)?,
            },
        )
    })?;
    module.register_blocking_method("wijk_board", |_, ctx, _| -> RpcResult {
        let state = ctx.storage.as_ref();
        render::json(
            ctx.chain.address_prefix,
            &types::Board {
                board: wijk_system::board(state).map_err(internal)?,
                powers: wijk_governance::BOARD_POWERS
                    .iter()
                    .map(|power| power.to_string())
                    .collect(),
                validator_change_limit: wijk_validators::BOARD_CHANGE_LIMIT
                    .get(state)
                    .map_err(internal)?
                    .unwrap_or(wijk_validators::DEFAULT_BOARD_CHANGE_LIMIT),
                at_block: render::at_block(&ctx)?,
            },
        )
    })?;
    Ok(())
}
