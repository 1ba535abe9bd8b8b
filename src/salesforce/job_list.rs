//! The org's job lists ("Get All Jobs"): finding the job a lost create made, and the sweep that
//! leaves no job of this run open.

use bytes::Bytes;
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::act_once::Found;
use super::error::{Error, RequestLine};
use super::http::Payload;
use super::job::{BulkJob, JobState};
use super::job_registry::{parse_created_date, same_id, CreateKey, JobKind, Unfinished};
use super::{ApiRequest, IngestJob, QueryJob, SalesforceClient};

/// Pages of "Get All Jobs" followed at most (1,000 jobs a page).
const MAX_LIST_PAGES: usize = 100;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JobListPage {
    #[serde(default)]
    done: bool,
    #[serde(default)]
    records: Vec<Value>,
    #[serde(default)]
    next_records_url: Option<String>,
}

/// The fields of a listed or fetched job that the sweep needs.
#[derive(Deserialize)]
struct JobStateOnly {
    state: JobState,
}

/// A create's JSON body: what the job does, then the one CSV form this client reads and writes
/// (comma-separated, LF line endings).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateJob<'a, R> {
    #[serde(flatten)]
    request: &'a R,
    content_type: &'static str,
    column_delimiter: &'static str,
    line_ending: &'static str,
}

impl SalesforceClient {
    /// Every job of `kind` in the org, through `nextRecordsUrl`.
    async fn list_jobs(&self, kind: JobKind) -> Result<Vec<Value>, Error> {
        let mut path = self.data_path(kind.resource());
        let mut query = vec![("jobType", kind.job_type())];
        let mut records = Vec::new();
        for _ in 0..MAX_LIST_PAGES {
            let page: JobListPage = self.send_json(ApiRequest::get(&path).query(&query)).await?;
            records.extend(page.records);
            match page.next_records_url.filter(|_| !page.done) {
                Some(next) => {
                    path = next;
                    query.clear();
                }
                None => break,
            }
        }
        Ok(records)
    }

    /// The jobs in the org that `key`'s create could have made and this client does not know:
    /// same object and operation, created by our user, not before our latest known create (or
    /// our login).
    async fn unknown_jobs_like(&self, key: &CreateKey) -> Result<Vec<Value>, Error> {
        let since = self
            .inner
            .logged_in_at
            .max(self.inner.jobs.latest_created());
        let user = self.inner.user_id.as_deref();
        let jobs = self.list_jobs(key.kind).await?;
        Ok(jobs
            .into_iter()
            .filter(|job| {
                let field = |name: &str| job.get(name).and_then(Value::as_str);
                let Some(id) = field("id") else {
                    return false;
                };
                !self.inner.jobs.is_known(id)
                    && field("operation") == Some(key.operation.as_str())
                    && key.object.as_deref().is_none_or(|object| {
                        field("object").is_some_and(|o| o.eq_ignore_ascii_case(object))
                    })
                    && user.is_none_or(|user| field("createdById").is_none_or(|c| same_id(c, user)))
                    && since.is_none_or(|since| {
                        field("createdDate")
                            .and_then(parse_created_date)
                            .is_none_or(|created| created >= since)
                    })
            })
            .collect())
    }

    /// Resolves a create whose answer was lost. One unknown job that matches is the one it made;
    /// none means it made none; several (another process of the same user creating the same
    /// kind of job at the same moment) cannot be told apart, so all are aborted — Salesforce runs
    /// nothing of an `Open` ingest job, and a query job only reads — and the create is sent again.
    pub(crate) async fn find_created_job<T: DeserializeOwned>(
        &self,
        key: &CreateKey,
    ) -> Result<Found<T>, Error> {
        let mut found = self.unknown_jobs_like(key).await?;
        match found.len() {
            0 => Ok(Found::NotTaken),
            1 => {
                let job = found.pop().expect("one job");
                let id = job.get("id").and_then(Value::as_str).unwrap_or_default();
                tracing::info!(
                    "found the {} the lost create made: {id} ({} {})",
                    key.kind.noun(),
                    key.operation,
                    key.object.as_deref().unwrap_or("?")
                );
                serde_json::from_value(job)
                    .map(Found::TookEffect)
                    .map_err(|e| Error::Decode {
                        request: Box::new(RequestLine {
                            method: "GET".into(),
                            host: String::new(),
                            path: self.data_path(key.kind.resource()),
                        }),
                        detail: e.to_string(),
                    })
            }
            n => {
                let ids: Vec<String> = found
                    .iter()
                    .filter_map(|j| j.get("id").and_then(Value::as_str).map(str::to_string))
                    .collect();
                tracing::warn!(
                    "{n} unknown {}s ({}) match the create whose answer was lost; aborting them all and creating a new one",
                    key.kind.noun(),
                    ids.join(", ")
                );
                for (id, job) in ids.iter().zip(&found) {
                    let state = serde_json::from_value::<JobStateOnly>(job.clone())
                        .map(|j| j.state)
                        .unwrap_or(JobState::Open);
                    self.inner.jobs.created(key.kind, id, state.clone(), job);
                    self.finish_job(&Unfinished {
                        id: id.clone(),
                        kind: key.kind,
                        state,
                    })
                    .await;
                }
                Ok(Found::NotTaken)
            }
        }
    }

    /// `POST jobs/{KIND}` with `request` and the CSV form as its JSON body, through
    /// [`create_job`](Self::create_job): one create at a time, the job found in the org's list
    /// when the answer is lost.
    pub(crate) async fn post_job<J: BulkJob>(
        &self,
        key: CreateKey,
        request: &impl Serialize,
    ) -> Result<J, Error> {
        let jobs = format!("jobs/{}", J::KIND);
        let body = CreateJob {
            request,
            content_type: "CSV",
            column_delimiter: "COMMA",
            line_ending: "LF",
        };
        let body = serde_json::to_vec(&body).map_err(|e| Error::Decode {
            request: Box::new(RequestLine {
                method: "POST".into(),
                host: String::new(),
                path: jobs.clone(),
            }),
            detail: e.to_string(),
        })?;
        let body = Bytes::from(body);
        let path = self.data_path(&jobs);
        self.create_job(key, || {
            let payload = Payload::Json(body.clone());
            let path = &path;
            async move {
                self.send_json(ApiRequest::new(Method::POST, path).payload(&payload))
                    .await
            }
        })
        .await
    }

    /// Creates a job (`call` sends the create) one at a time, finding the job in the org's list
    /// when the create's answer is lost, and registers it. After [`finish_jobs`](Self::finish_jobs)
    /// no job is created.
    pub(crate) async fn create_job<T, C, CF>(&self, key: CreateKey, call: C) -> Result<T, Error>
    where
        T: BulkJob,
        C: Fn() -> CF,
        CF: std::future::Future<Output = Result<T, Error>>,
    {
        let _one_at_a_time = self.inner.jobs.create_lock.lock().await;
        if self.inner.jobs.is_closed() {
            return Err(Error::Invalid {
                setting: "Bulk job".into(),
                value: key.kind.noun().into(),
                reason: "the run is ending: its jobs were swept and no new one may be created"
                    .into(),
            });
        }
        let what = format!(
            "creating a {} ({} {})",
            key.kind.noun(),
            key.operation,
            key.object.as_deref().unwrap_or("?")
        );
        let pending = self.inner.jobs.pending(key.clone());
        let result = self
            .act_once(&what, call, || self.find_created_job(&key))
            .await;
        match &result {
            Ok(job) => {
                let info = serde_json::to_value(job).unwrap_or(Value::Null);
                self.inner
                    .jobs
                    .created(key.kind, job.id(), job.state().clone(), &info);
                pending.done();
            }
            // The job may exist: the sweep looks for it.
            Err(e) if e.is_unanswered() => drop(pending),
            Err(_) => pending.done(),
        }
        result
    }

    /// Leaves no Bulk job of this client open: every job it created (or lost the answer of)
    /// that is not `JobComplete`, `Failed` or `Aborted` is aborted, and every query job not yet
    /// deleted is deleted. Finished ingest jobs are kept: their result files are what the
    /// dead-letter queue's `job_id` points at (Salesforce deletes them after 7 days). No job can
    /// be created afterwards. Failures are logged, not returned: this runs after the outcome of
    /// the run is known.
    pub(crate) async fn finish_jobs(&self) {
        let (orphans, mut todo) = self.inner.jobs.close();
        for key in orphans {
            match self.unknown_jobs_like(&key).await {
                Ok(jobs) => {
                    for job in jobs {
                        let Some(id) = job.get("id").and_then(Value::as_str) else {
                            continue;
                        };
                        let state = serde_json::from_value::<JobStateOnly>(job.clone())
                            .map(|j| j.state)
                            .unwrap_or(JobState::Open);
                        tracing::info!(
                            "found {} {id}, made by a create whose answer never arrived",
                            key.kind.noun()
                        );
                        self.inner.jobs.created(key.kind, id, state.clone(), &job);
                        todo.push(Unfinished {
                            id: id.to_string(),
                            kind: key.kind,
                            state,
                        });
                    }
                }
                Err(e) => tracing::warn!(
                    "cannot list the org's {}s to find one whose create lost its answer: {e}",
                    key.kind.noun()
                ),
            }
        }
        for job in &todo {
            self.finish_job(job).await;
        }
    }

    /// Aborts `job` unless it is finished, then deletes it if it is a query job.
    async fn finish_job(&self, job: &Unfinished) {
        let state = match job.kind {
            JobKind::Ingest => self.get_job::<IngestJob>(&job.id).await.map(|j| j.state),
            JobKind::Query => self.get_job::<QueryJob>(&job.id).await.map(|j| j.state),
        };
        let state = match state {
            Ok(state) => state,
            Err(e) => {
                tracing::warn!("cannot read {} {}: {e}", job.kind.noun(), job.id);
                return;
            }
        };
        if !state.is_terminal() {
            let aborted = match job.kind {
                JobKind::Ingest => self.abort_job::<IngestJob>(&job.id).await.map(drop),
                JobKind::Query => self.abort_job::<QueryJob>(&job.id).await.map(drop),
            };
            match aborted {
                Ok(()) => tracing::info!(
                    "aborted {} {} (it was {} when the run ended)",
                    job.kind.noun(),
                    job.id,
                    state.as_str()
                ),
                Err(e) => {
                    tracing::warn!("cannot abort {} {}: {e}", job.kind.noun(), job.id);
                    return;
                }
            }
        }
        if job.kind == JobKind::Query {
            match self.delete_job::<QueryJob>(&job.id).await {
                Ok(()) => tracing::info!("deleted query job {}", job.id),
                Err(e) => tracing::warn!("cannot delete query job {}: {e}", job.id),
            }
        }
    }
}
