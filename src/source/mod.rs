//! The Salesforce source: check, discover, read.

pub mod convert;
pub mod csv_stream;
pub mod field_kind;
pub mod json_write;
pub mod plan;
pub mod soql;
pub mod state;
