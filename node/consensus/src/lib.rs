//! wijk-consensus
