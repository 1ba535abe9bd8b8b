//! What became of each record once its batch was loaded: the job's results matched row by row
//! ([`reconcile`]), rejected records kept in the dead-letter queue ([`dlq`]), and STATE released
//! only when every record before it is committed or kept ([`gate`]).

pub mod dlq;
pub(crate) mod gate;
pub(crate) mod reconcile;
pub(crate) mod report;
