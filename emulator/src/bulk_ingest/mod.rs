//! Bulk API 2.0 ingest jobs (`/services/data/vXX.X/jobs/ingest`): create, upload one CSV, close
//! or abort, poll, list, delete, and the successful / failed / unprocessed result files.
//!
//! The rows of a job are checked and applied by [`crate::write`], the same code REST writes use.

pub mod dialect;
pub mod job;
pub mod limits;
pub mod process;
pub mod registry;
pub mod routes;

pub use dialect::{ColumnDelimiter, Dialect, LineEnding};
pub use job::{IngestJob, Interruption, InterruptionKind, JobState, Operation};
pub use limits::DailyLimits;
pub use registry::{IngestConfig, IngestJobs, JobFault, ResultKind};
