//! The Salesforce source: `check`, `discover`, `read`.
//!
//! The folders follow a read's data flow: [`discover`] (which objects become streams, their
//! schemas) → [`plan`] (Bulk or REST, cursor windows, the SOQL) → [`fetch`] (Bulk query jobs,
//! REST pages, getDeleted) → [`decode`] (CSV bytes → typed JSON record bytes) → [`output`]
//! (RECORD and STATE lines, checkpoints, per-stream state). [`read`] runs every configured
//! stream through them, concurrently up to `num_workers`, inside the org's API budget.
pub mod check;
pub mod connect;
pub mod decode;
pub mod discover;
pub mod fetch;
pub mod output;
pub mod plan;
pub mod read;

pub use check::check;
pub use discover::discover;
pub use read::read;
