//! Error codes and constructors. Every error carries a plain-language message.

use jsonrpsee::types::ErrorObjectOwned;

/// JSON-RPC error codes of this node.
pub mod codes {
    /// A parameter is malformed (bad hex, bad address, wrong type).
    pub const INVALID_PARAMS: i32 = -32602;
    /// The node failed internally (storage error); the request may be retried.
    pub const INTERNAL: i32 = -32603;
    /// The transaction was refused by the pool; the message says why.
    pub const TRANSACTION_REFUSED: i32 = 1010;
    /// The pool is full; try again shortly.
    pub const POOL_FULL: i32 = 1011;
    /// The node is shutting down.
    pub const UNAVAILABLE: i32 = 1020;
}

pub(crate) fn invalid_params(message: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(codes::INVALID_PARAMS, message, None::<()>)
}

pub(crate) fn internal(message: impl std::fmt::Display) -> ErrorObjectOwned {
    tracing::error!(target: "rpc", %message, "internal error serving a request");
    ErrorObjectOwned::owned(
        codes::INTERNAL,
        format!("internal error: {message}"),
        None::<()>,
    )
}

pub(crate) fn unavailable() -> ErrorObjectOwned {
    ErrorObjectOwned::owned(codes::UNAVAILABLE, "the node is shutting down", None::<()>)
}

/// A refusal in words, accounts named by their addresses on the chain with `prefix`.
pub(crate) fn refused(error: &wijk_txpool::SubmitError, prefix: u16) -> ErrorObjectOwned {
    let code = match error {
        wijk_txpool::SubmitError::PoolFull { .. } => codes::POOL_FULL,
        wijk_txpool::SubmitError::State(_) | wijk_txpool::SubmitError::Runtime(_) => {
            codes::INTERNAL
        }
        _ => codes::TRANSACTION_REFUSED,
    };
    let message = wijk_primitives::json::with_address_prefix(prefix, || {
        format!("transaction refused: {error}")
    });
    ErrorObjectOwned::owned(code, message, None::<()>)
}
