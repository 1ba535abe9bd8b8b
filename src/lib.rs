//! Salesforce source and destination speaking the Airbyte protocol.
//!
//! The arrows go one way: `main -> source | destination -> salesforce -> protocol / config`.

pub mod config;
pub mod destination;
pub mod protocol;
pub mod salesforce;
