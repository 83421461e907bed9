//! How the members' decisions are carried out: which runtime calls a proposal may carry,
//! under which kind (and so which track), and their dispatch, once approved, as the
//! members' decision.
//!
//! A proposal's kind follows from its call, never from what its proposer says: a proposal
//! to change the validators runs on the validator track whatever its title. Only calls that
//! are decisions of the wijk are proposable; payments, votes and a guardian's envelope are
//! not (a vote cannot spend a member's coins or vote in their name).

use crate::{decode_call, RuntimeCall};
use wijk_support::{
    CallContext, Collective, Enactment, NotProposable, Origin, Proposable, ProposalKind, StateError,
};

/// The runtime's [`Enactment`].
pub struct RuntimeEnactment;

/// The kind of proposal `call` makes, if it is a decision the members may take.
pub fn kind_of(call: &RuntimeCall) -> Option<ProposalKind> {
    use wijk_activities::Call as Activities;
    use wijk_governance::Call as Governance;
    use wijk_validators::Call as Validators;
    Some(match call {
        RuntimeCall::Validators(
            Validators::ScheduleChange { .. } | Validators::ChangeSet { .. },
        ) => ProposalKind::ValidatorSet,
        RuntimeCall::Governance(Governance::SetTrack { .. } | Governance::SetRules { .. }) => {
            ProposalKind::Parameter
        }
        RuntimeCall::Governance(Governance::RemoveBoardMember { .. }) => ProposalKind::Board,
        RuntimeCall::Geo(wijk_geo::Call::SetRegion { .. }) => ProposalKind::Parameter,
        RuntimeCall::Coin(
            wijk_coin::Call::CreatePool { .. } | wijk_coin::Call::SpendFromFund { .. },
        ) => ProposalKind::Spend,
        RuntimeCall::Activities(Activities::SetValue { .. }) => ProposalKind::ActivityValue,
        RuntimeCall::Activities(
            Activities::AddActivity { .. }
            | Activities::RetireActivity { .. }
            | Activities::SetUnitCap { .. },
        ) => ProposalKind::ActivityCatalogue,
        RuntimeCall::Activities(
            Activities::SetRules { .. }
            | Activities::AddVerifier { .. }
            | Activities::RemoveVerifier { .. },
        ) => ProposalKind::Parameter,
        RuntimeCall::Market(wijk_market::Call::SetRules { .. }) => ProposalKind::Parameter,
        RuntimeCall::Stats(_) => ProposalKind::Goal,
        _ => return None,
    })
}

impl Enactment for RuntimeEnactment {
    fn proposable(&self, encoded: &[u8]) -> Result<Proposable, NotProposable> {
        let call = decode_call(encoded).map_err(|error| NotProposable::Malformed {
            reason: error.to_string(),
        })?;
        let Some(kind) = kind_of(&call) else {
            let json = call.to_json();
            let name = |field: &str| {
                json.get(field)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or("onBehalfOf")
                    .to_string()
            };
            return Err(NotProposable::NotADecision {
                pallet: call.pallet_name().to_string(),
                call: name("call"),
            });
        };
        Ok(Proposable {
            kind,
            cost: call.cost(),
        })
    }

    fn enact(
        &self,
        ctx: &mut CallContext<'_, '_>,
        encoded: &[u8],
    ) -> Result<Result<(), String>, StateError> {
        // It decoded when proposed; the runtime that decodes it now may be newer, so a call
        // that no longer decodes fails as itself, not the block.
        let call = match decode_call(encoded) {
            Ok(call) => call,
            Err(error) => return Ok(Err(format!("the call no longer decodes: {error}"))),
        };
        Ok(call
            .dispatch(ctx, &Origin::Collective(Collective::Members))?
            .map_err(|error| error.to_string()))
    }
}
