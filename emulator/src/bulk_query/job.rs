//! A Bulk API 2.0 query job as the org keeps it (the routes in `routes.rs` create, advance and
//! read it): what it reads, its state, and its result once complete.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::bulk_csv::{ColumnDelimiter, LineEnding};
use crate::faults::JobFault;
use crate::soql::ResolvedQuery;

/// A query job's `state`: the Bulk API 2.0 job states ingest jobs have (a query job is
/// created UploadComplete, never Open).
pub(crate) use crate::bulk_ingest::job::JobState;

/// A Bulk API 2.0 query job: what it reads, its state, and (once complete) the matching
/// record indexes.
pub(crate) struct QueryJob {
    pub(crate) id: String,
    pub(crate) operation: &'static str,
    pub(crate) object: usize,
    pub(crate) object_name: String,
    pub(crate) query: ResolvedQuery,
    pub(crate) created_by: String,
    pub(crate) created: DateTime<Utc>,
    pub(crate) modstamp: DateTime<Utc>,
    pub(crate) state: JobState,
    pub(crate) delimiter: ColumnDelimiter,
    pub(crate) line_ending: LineEnding,
    pub(crate) api_version: String,
    pub(crate) fault: Option<JobFault>,
    /// How long the job stays InProgress: the configured time, plus its rows at the configured
    /// rate (`bulk_job_rows_per_second`).
    pub(crate) processing: Duration,
    pub(crate) result: Option<Arc<Vec<u64>>>,
    pub(crate) error_message: Option<String>,
}

/// The org's query jobs, by id.
#[derive(Default)]
pub struct QueryJobs {
    pub(crate) jobs: BTreeMap<String, QueryJob>,
}
