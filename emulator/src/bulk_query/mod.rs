//! Bulk API 2.0 query jobs (`/services/data/vXX.X/jobs/query`): the jobs the org keeps
//! (`job.rs`) and the routes that create, poll, list, abort, delete and page their results
//! (`routes.rs`).

pub mod job;
pub mod routes;

pub use job::QueryJobs;
pub use routes::router;
