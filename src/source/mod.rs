//! The Salesforce source: `check`, `discover`, `read`.
//!
//! The read path: `plan` (Bulk or REST, windows) → `soql` → `bulk_read` / `rest_read` →
//! `csv_stream` + `convert` (typed JSON) → `checkpoint` + `emitter` (RECORD, STATE) under
//! `stream_read` and `read`; `state` reads and writes per-stream state; `budget` keeps a read
//! inside the org's API limits.

pub mod budget;
pub mod bulk_read;
pub mod check;
pub mod checkpoint;
pub mod connect;
pub mod convert;
pub mod csv_stream;
pub mod describe_stream;
pub mod discover;
pub mod emitter;
pub mod field_kind;
pub mod hard_deletes;
pub mod json_write;
pub mod object_filter;
pub mod plan;
pub mod query_build;
pub mod read;
pub mod rest_read;
pub mod schema;
pub mod settings;
pub mod sink;
pub mod soql;
pub mod state;
pub mod stream_read;
pub mod window_count;

pub use check::check;
pub use discover::discover;
pub use read::read;
