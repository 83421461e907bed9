//! The validators pallet's methods: `wijk_validators`, `wijk_epochs`, `wijk_offences`.

use crate::context::RpcContext;
use crate::error::internal;
use crate::render;
use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::Value;
use wijk_primitives::json::with_address_prefix;
use wijk_rpc_types as types;

type RpcResult = Result<Value, ErrorObjectOwned>;

/// Most offences per page.
const MAX_OFFENCES_PAGE: usize = 100;
/// Most epochs per page.
const MAX_EPOCHS_PAGE: usize = 100;

pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    module.register_blocking_method("wijk_validators", |_, ctx, _| -> RpcResult {
        let state = ctx.storage.as_ref();
        let (epoch, validators) = wijk_validators::current(state).map_err(internal)?;
        let scheduled = wijk_validators::pending(state)
            .map_err(internal)?
            .map(|scheduled| types::SetChange::from(&scheduled.change));
        let (_, offences) = wijk_validators::offences(state, 0, 0).map_err(internal)?;
        render::json(
            ctx.chain.address_prefix,
            &types::Validators {
                epoch,
                quorum: wijk_primitives::quorum(validators.len()),
                validators,
                board: wijk_system::board(state).map_err(internal)?,
                scheduled,
                offences,
                at_block: render::at_block(&ctx)?,
            },
        )
    })?;
    module.register_blocking_method("wijk_epochs", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let from: Option<u64> = sequence.optional_next()?;
        let limit: Option<usize> = sequence.optional_next()?;
        let epochs = wijk_validators::epochs(
            ctx.storage.as_ref(),
            from.unwrap_or(0),
            limit.unwrap_or(MAX_EPOCHS_PAGE).clamp(1, MAX_EPOCHS_PAGE),
        )
        .map_err(internal)?;
        let epochs: Vec<types::Epoch> = epochs
            .into_iter()
            .map(|(epoch, info)| types::Epoch {
                epoch,
                validators: info.validators,
                starts_at: info.starts_at,
                announced_at: info.announced_at,
            })
            .collect();
        render::json(ctx.chain.address_prefix, &epochs)
    })?;
    module.register_blocking_method("wijk_offences", |params, ctx, _| -> RpcResult {
        let mut sequence = params.sequence();
        let from: Option<u64> = sequence.optional_next()?;
        let limit: Option<usize> = sequence.optional_next()?;
        let (offences, count) = wijk_validators::offences(
            ctx.storage.as_ref(),
            from.unwrap_or(0),
            limit.unwrap_or(20).clamp(1, MAX_OFFENCES_PAGE),
        )
        .map_err(internal)?;
        let prefix = ctx.chain.address_prefix;
        let vote = |vote: &wijk_primitives::SignedVote| {
            with_address_prefix(prefix, || serde_json::to_value(vote)).unwrap_or_default()
        };
        let offences: Vec<types::Offence> = offences
            .iter()
            .map(|offence| types::Offence {
                offender: offence.offender,
                view: offence.view,
                epoch: offence.epoch,
                reporter: offence.reporter,
                recorded_at: offence.recorded_at,
                first: vote(&offence.first),
                second: vote(&offence.second),
            })
            .collect();
        render::json(prefix, &types::OffencesPage { offences, count })
    })?;
    Ok(())
}
