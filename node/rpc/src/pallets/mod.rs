//! Each pallet's own RPC methods, one module per pallet (a new pallet with methods adds a
//! module here and one line to [`register`]).

mod activities;
mod coin;
mod governance;
mod market;
mod membership;
mod stats;
mod system;
mod validators;

use crate::context::RpcContext;
use jsonrpsee::RpcModule;

/// Registers every pallet's methods.
pub(crate) fn register(
    module: &mut RpcModule<RpcContext>,
) -> Result<(), jsonrpsee::core::RegisterMethodError> {
    system::register(module)?;
    coin::register(module)?;
    membership::register(module)?;
    validators::register(module)?;
    governance::register(module)?;
    activities::register(module)?;
    market::register(module)?;
    stats::register(module)?;
    Ok(())
}
