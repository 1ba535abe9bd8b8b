//! The Salesforce destination: `check`, `discover` (data-activation operations) and `write`.

pub mod batch;
pub mod cell;
pub mod discover;
pub mod dlq;
pub mod gate;
pub mod load;
pub mod mapping;
pub mod operation;
pub mod reconcile;
pub mod row;
pub mod sobject;
