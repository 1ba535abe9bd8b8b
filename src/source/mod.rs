//! The Salesforce source: `check`, `discover`, `read`.
//!
//! The folders follow a read's data flow: [`discover`] (which objects become streams, their
//! schemas) → [`plan`] (Bulk or REST, cursor windows, the SOQL) → [`fetch`] (Bulk query jobs,
//! REST pages, getDeleted) → [`decode`] (CSV bytes → typed JSON record bytes) → [`output`]
//! (RECORD and STATE lines, checkpoints, per-stream state). [`read`] runs every configured
//! stream through them, concurrently up to `num_workers`, inside the org's API budget; [`cdc`]
//! follows the change events of incremental streams when Change Data Capture is on.
pub(crate) mod cdc;
pub(crate) mod check;
pub(crate) mod connect;
pub(crate) mod context;
pub(crate) mod decode;
pub(crate) mod discover;
pub(crate) mod fetch;
pub(crate) mod output;
pub(crate) mod plan;
pub(crate) mod read;

pub(crate) use check::check;
pub(crate) use discover::discover;
pub(crate) use read::read;
