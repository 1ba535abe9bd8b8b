//! The Salesforce source: check, discover, read.

pub mod convert;
pub mod csv_stream;
pub mod field_kind;
pub mod json_write;
pub mod object_filter;
pub mod plan;
pub mod schema;
pub mod soql;
pub mod state;
