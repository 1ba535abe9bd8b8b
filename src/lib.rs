//! Salesforce source and destination speaking the Airbyte protocol.
//!
//! The arrows go one way: `main -> source | destination -> salesforce -> protocol / config`.

pub mod cli;
pub mod config;
pub mod destination;
pub mod failure;
pub mod inputs;
pub mod protocol;
pub mod run;
pub mod salesforce;
pub mod source;
