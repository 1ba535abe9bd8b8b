//! Bulk API 2.0 ingest jobs (`/services/data/vXX.X/jobs/ingest`): create, upload one CSV, close
//! or abort, poll, list, delete, and the successful / failed / unprocessed result files.
//!
//! The rows of a job are checked and applied by [`crate::write`], the same code REST writes use.

pub(crate) mod dialect;
pub(crate) mod job;
pub(crate) mod limits;
pub(crate) mod process;
pub(crate) mod registry;
pub(crate) mod routes;

pub(crate) use registry::JobFault;
