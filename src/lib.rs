//! Salesforce source and destination speaking the Airbyte protocol.
//!
//! The arrows go one way: `main -> run -> source | destination -> salesforce -> protocol /
//! config -> secret`; source and destination never import each other (see
//! docs/architecture.md). The public surface is what `main.rs` and the integration tests use;
//! everything else is `pub(crate)`.

pub mod cli;
pub mod config;
mod destination;
pub mod failure;
mod inputs;
pub mod protocol;
pub mod run;
mod salesforce;
pub mod secret;
mod source;

/// The dead-letter queue, public for its tests against a real S3-compatible server.
pub use destination::outcome::dlq;
