//! A Salesforce API emulator, faithful to Salesforce's documented behaviour.

pub mod schema;
pub mod soql;
pub mod store;
