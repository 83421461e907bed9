//! wijk-rpc
