//! Where a stream's records go: the configured stream mapped to an object, an operation and the
//! object's fields ([`mapping`]), the operations ([`operation`]), lookups set through a parent's
//! external id ([`relationship`]), and the object's describe as the destination needs it
//! ([`sobject`]).

pub mod mapping;
pub mod operation;
pub mod relationship;
pub mod sobject;
