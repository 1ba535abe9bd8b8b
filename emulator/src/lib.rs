//! A Salesforce API emulator, faithful to Salesforce's documented behaviour.

pub mod bulk_ingest;
pub mod rest_write;
pub mod schema;
pub mod store;
pub mod write;
