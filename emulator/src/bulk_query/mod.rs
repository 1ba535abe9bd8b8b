//! Bulk API 2.0 query jobs (`/services/data/vXX.X/jobs/query`): the jobs the org keeps
//! (`job.rs`) and the routes that create, poll, list, abort, delete and page their results
//! (`routes.rs`).

pub(crate) mod job;
pub(crate) mod routes;

pub(crate) use routes::router;
