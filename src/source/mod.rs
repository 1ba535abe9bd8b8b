//! The Salesforce source: check, discover, read.

pub mod budget;
pub mod bulk_read;
pub mod checkpoint;
pub mod convert;
pub mod csv_stream;
pub mod emitter;
pub mod field_kind;
pub mod json_write;
pub mod object_filter;
pub mod plan;
pub mod rest_read;
pub mod schema;
pub mod settings;
pub mod sink;
pub mod soql;
pub mod state;
pub mod stream_read;
