//! wijk-service
