//! The org's ingest jobs and the calls on them, independent of HTTP: create, upload, close or
//! abort, get, list, delete, results.
//!
//! Time comes from the org's clock. A closed job reports `UploadComplete` for the first half of
//! [`IngestConfig::processing_time`] and `InProgress` for the second half; then its rows are
//! applied to the org in steps of [`IngestConfig::rows_per_observation`] rows ([`IngestJobs::observe`]),
//! still `InProgress` with growing counters, until it ends `JobComplete`, `Failed` or `Aborted`.
//! Every call on the jobs advances that work, and the HTTP layer drives it in the background
//! (`routes::drive`), so a job finishes whether or not its client polls. Rows are in the org (and
//! seen by the read side) as soon as their step has run.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value as Json};

use super::dialect::Dialect;
use super::job::{IngestJob, Interruption, InterruptionKind, JobResults, JobState, Operation};
use super::limits::{DailyLimits, DailyUsage};
use super::process::{self, JobRun, Step};
use crate::bulk_csv::{ColumnDelimiter, LineEnding};
use crate::schema::FieldType;
use crate::store::OrgStore;
use crate::write::api_error::ApiError;
use crate::write::id;
use crate::write::rules::WriteRules;

/// How the emulator runs ingest jobs.
#[derive(Clone, Debug)]
pub struct IngestConfig {
    /// From UploadComplete to a terminal state (org clock).
    pub processing_time: Duration,
    /// Largest accepted upload, measured as its base64-encoded size: 150 MB documented, which
    /// is about 100 MB of raw CSV.
    pub max_upload_base64_bytes: u64,
    /// Daily (rolling 24 h) records and batches.
    pub daily_limits: DailyLimits,
    /// Rows a running job processes per API call that observes the jobs (the org's lock is
    /// held for about that many rows at a time).
    pub rows_per_observation: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig {
            processing_time: Duration::seconds(2),
            max_upload_base64_bytes: 150 * 1024 * 1024,
            daily_limits: DailyLimits::default(),
            rows_per_observation: 10_000,
        }
    }
}

/// Stops jobs of `object` (every object when `None`) partway: the fault kinds "job ends Failed
/// with unprocessed records" and "job ends Aborted".
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobFault {
    #[serde(default)]
    pub object: Option<String>,
    pub interruption: Interruption,
}

/// Which result file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResultKind {
    Successful,
    Failed,
    Unprocessed,
}

#[derive(Debug, Default)]
pub struct IngestJobs {
    pub config: IngestConfig,
    jobs: BTreeMap<String, IngestJob>,
    /// Processing under way (jobs InProgress), by job id.
    running: BTreeMap<String, Box<JobRun>>,
    next_job: u64,
    usage: DailyUsage,
    faults: Vec<JobFault>,
}

impl IngestJobs {
    pub fn new(config: IngestConfig) -> Self {
        IngestJobs {
            config,
            jobs: BTreeMap::new(),
            running: BTreeMap::new(),
            next_job: 0,
            usage: DailyUsage::default(),
            faults: Vec::new(),
        }
    }

    pub fn set_faults(&mut self, faults: Vec<JobFault>) {
        self.faults = faults;
    }

    pub fn faults(&self) -> &[JobFault] {
        &self.faults
    }

    /// (records, batches) used in the 24 hours before `now`, for `/limits`.
    pub fn daily_usage(&self, now: DateTime<Utc>) -> (u64, u64) {
        self.usage.used(now)
    }

    /// `POST /jobs/ingest`: the job info of a new `Open` job. `injected` is a fault set on the
    /// create request: the job stops halfway through its rows that way.
    pub fn create<S: OrgStore + ?Sized>(
        &mut self,
        store: &mut S,
        rules: &mut WriteRules,
        api_version: &str,
        body: &[u8],
        injected: Option<InterruptionKind>,
    ) -> Result<Json, ApiError> {
        let now = store.now();
        self.observe(store, rules);
        let request: Json = serde_json::from_slice(body).map_err(|e| {
            ApiError::new(
                400,
                "JSON_PARSER_ERROR",
                format!("Invalid job request body: {e}"),
            )
        })?;
        let text = |key: &str| -> Result<Option<String>, ApiError> {
            match request.get(key) {
                None | Some(Json::Null) => Ok(None),
                Some(Json::String(s)) => Ok(Some(s.clone())),
                Some(other) => Err(invalid_job(format!(
                    "{key}: expected a string, got {other}"
                ))),
            }
        };
        let object_name = text("object")?.ok_or_else(|| invalid_job("object: required"))?;
        let operation_name =
            text("operation")?.ok_or_else(|| invalid_job("operation: required"))?;
        let operation: Operation = serde_json::from_value(Json::String(operation_name.clone())).map_err(|_| {
            invalid_job(format!(
                "operation: expected insert, update, upsert, delete or hardDelete, got {operation_name:?}"
            ))
        })?;
        if operation == Operation::HardDelete && rules.hard_delete_denied {
            // What Salesforce answers a user without "Bulk API Hard Delete" (the code
            // jsforce and the sf CLI match on, the message Data Loader matches on).
            return Err(ApiError::new(
                400,
                "FEATURENOTENABLED",
                "hardDelete operation requires special user profile permission, please contact your system administrator",
            ));
        }
        if let Some(content_type) = text("contentType")? {
            if content_type != "CSV" {
                return Err(invalid_job(format!(
                    "contentType: expected CSV, got {content_type:?}"
                )));
            }
        }
        let delimiter = match text("columnDelimiter")? {
            None => ColumnDelimiter::default(),
            Some(d) => serde_json::from_value(Json::String(d.clone())).map_err(|_| {
                invalid_job(format!(
                    "columnDelimiter: expected BACKQUOTE, CARET, COMMA, PIPE, SEMICOLON or TAB, got {d:?}"
                ))
            })?,
        };
        let line_ending = match text("lineEnding")? {
            None => LineEnding::default(),
            Some(l) => serde_json::from_value(Json::String(l.clone()))
                .map_err(|_| invalid_job(format!("lineEnding: expected LF or CRLF, got {l:?}")))?,
        };
        let sobject = store
            .sobject(&object_name)
            .filter(|o| o.bulk_queryable)
            .ok_or_else(|| {
                ApiError::new(
                    400,
                    "INVALIDENTITY",
                    format!("Entity '{object_name}' is not supported by the Bulk API."),
                )
            })?;
        let external_id_field_name = match (operation, text("externalIdFieldName")?) {
            (Operation::Upsert, None) => {
                // Bulk API's InvalidJob text for an upsert without an external id.
                return Err(invalid_job(format!(
                    "External ID was blank for {}. An External ID must be specified for upsert.",
                    sobject.name
                )));
            }
            (Operation::Upsert, Some(name)) => {
                let field = sobject
                    .field(&name)
                    .map(|(_, f)| f)
                    .filter(|f| f.external_id || f.field_type == FieldType::Id)
                    .ok_or_else(|| {
                        // Text unconfirmed.
                        invalid_job(format!(
                            "externalIdFieldName: {name} is not an external id field of {}",
                            sobject.name
                        ))
                    })?;
                Some(field.name.clone())
            }
            (_, _) => None,
        };
        let left = self.usage.records_left(self.config.daily_limits, now);
        if left == 0 {
            // Status and code unconfirmed; the message is Bulk API's ExceededQuota text.
            return Err(ApiError::new(
                400,
                "LIMIT_EXCEEDED",
                process::quota_message(),
            ));
        }
        self.next_job += 1;
        let job = IngestJob {
            id: id::make("750", "R0", self.next_job),
            operation,
            object: sobject.name.clone(),
            external_id_field_name,
            assignment_rule_id: text("assignmentRuleId")?,
            dialect: Dialect {
                delimiter,
                line_ending,
            },
            api_version: api_version.to_string(),
            created_by_id: store.current_user_id(),
            created_date: now,
            system_modstamp: now,
            state: JobState::Open,
            closed_at: None,
            data: None,
            results: None,
            number_records_processed: 0,
            number_records_failed: 0,
            error_message: None,
            processing_time_ms: 0,
            injected,
            interruption: None,
        };
        let info = job.create_info(JobState::Open);
        self.jobs.insert(job.id.clone(), job);
        Ok(info)
    }

    /// `PUT /jobs/ingest/{id}/batches`: stores the job's one upload.
    pub fn upload(
        &mut self,
        job_id: &str,
        content_type: Option<&str>,
        body: Vec<u8>,
    ) -> Result<(), ApiError> {
        let max = self.config.max_upload_base64_bytes;
        let job = self.jobs.get_mut(job_id).ok_or_else(ApiError::not_found)?;
        if !content_type.is_some_and(|c| c.trim().to_ascii_lowercase().starts_with("text/csv")) {
            // Text unconfirmed.
            return Err(ApiError::new(
                400,
                "INVALIDCONTENTTYPE",
                format!(
                    "Content-Type: expected text/csv, got {}",
                    content_type.unwrap_or("nothing")
                ),
            ));
        }
        if job.state != JobState::Open {
            // Text unconfirmed.
            return Err(ApiError::new(
                409,
                "INVALIDJOBSTATE",
                format!(
                    "Job {job_id} is {}; data can only be uploaded to an Open job",
                    job.state.as_str()
                ),
            ));
        }
        if job.data.is_some() {
            // Salesforce allows one upload per job; text as reported by Salesforce users
            // (unconfirmed in the docs).
            return Err(ApiError::new(
                400,
                "INVALIDJOBSTATE",
                format!(
                    "Found multiple contents for job: <{job_id}>, please 'Close' / 'Abort' / 'Delete' the \
                     current Job then create a new Job and make sure you only do 'PUT' once on a given Job."
                ),
            ));
        }
        let base64_size = (body.len() as u64).div_ceil(3) * 4;
        if base64_size > max {
            // The limit is documented ("Upload Job Data": 150 MB base64-encoded); status, code and
            // text are unconfirmed.
            return Err(ApiError::new(
                413,
                "EXCEEDED_MAX_SIZE_REQUEST",
                format!(
                    "The uploaded data is {base64_size} bytes once base64-encoded; the limit is {max} bytes \
                     (150 MB base64-encoded, about 100 MB of CSV)"
                ),
            ));
        }
        job.data = Some(body);
        Ok(())
    }

    /// `PATCH /jobs/ingest/{id}` with `{"state":"UploadComplete"|"Aborted"}`.
    pub fn set_state<S: OrgStore + ?Sized>(
        &mut self,
        store: &mut S,
        rules: &mut WriteRules,
        job_id: &str,
        body: &[u8],
    ) -> Result<Json, ApiError> {
        self.observe(store, rules);
        let now = store.now();
        let request: Json = serde_json::from_slice(body).map_err(|e| {
            ApiError::new(
                400,
                "JSON_PARSER_ERROR",
                format!("Invalid request body: {e}"),
            )
        })?;
        let wanted = request.get("state").and_then(Json::as_str).unwrap_or("");
        let processing_time = self.config.processing_time;
        let job = self.jobs.get_mut(job_id).ok_or_else(ApiError::not_found)?;
        let current = observed_state(job, now, processing_time);
        let transition_error = || {
            // Text unconfirmed.
            ApiError::new(
                400,
                "INVALIDJOBSTATE",
                format!(
                    "Cannot change the state of job {job_id} from {} to {wanted}",
                    current.as_str()
                ),
            )
        };
        match wanted {
            "UploadComplete" if current == JobState::Open => {
                job.state = JobState::UploadComplete;
                job.closed_at = Some(now);
                job.system_modstamp = now;
                Ok(job.create_info(JobState::UploadComplete))
            }
            "Aborted" if self.running.contains_key(job_id) => {
                // Rows already processed stay in the org; the rest is unprocessed.
                let processed = job.number_records_processed;
                let abort = Interruption {
                    after_rows: processed,
                    kind: InterruptionKind::Abort,
                };
                self.step(store, rules, job_id, u64::MAX, Some(abort));
                let job = self.jobs.get_mut(job_id).ok_or_else(ApiError::not_found)?;
                job.system_modstamp = now;
                Ok(job.create_info(JobState::Aborted))
            }
            "Aborted" if !current.is_terminal() => {
                let pending = pending_results(store, rules, job);
                job.state = JobState::Aborted;
                job.results = Some(pending);
                job.system_modstamp = now;
                Ok(job.create_info(JobState::Aborted))
            }
            "UploadComplete" | "Aborted" => Err(transition_error()),
            other => Err(ApiError::new(
                400,
                "INVALIDJOBSTATE",
                format!("state: expected UploadComplete or Aborted, got {other:?}"),
            )),
        }
    }

    /// `GET /jobs/ingest/{id}`.
    pub fn get<S: OrgStore + ?Sized>(
        &mut self,
        store: &mut S,
        rules: &mut WriteRules,
        job_id: &str,
    ) -> Result<Json, ApiError> {
        self.observe(store, rules);
        let now = store.now();
        let job = self.jobs.get(job_id).ok_or_else(ApiError::not_found)?;
        Ok(job.full_info(observed_state(job, now, self.config.processing_time)))
    }

    /// The state a client would see at `now` and whether rows are being processed; `None` for
    /// an unknown (or deleted) job.
    pub fn progress(&self, job_id: &str, now: DateTime<Utc>) -> Option<(JobState, bool)> {
        let job = self.jobs.get(job_id)?;
        Some((
            observed_state(job, now, self.config.processing_time),
            self.running.contains_key(job_id),
        ))
    }

    /// `GET /jobs/ingest`: every job, oldest first, in one page.
    pub fn list<S: OrgStore + ?Sized>(&mut self, store: &mut S, rules: &mut WriteRules) -> Json {
        self.observe(store, rules);
        let now = store.now();
        let records: Vec<Json> = self
            .jobs
            .values()
            .map(|job| job.list_info(observed_state(job, now, self.config.processing_time)))
            .collect();
        json!({"done": true, "records": records, "nextRecordsUrl": null})
    }

    /// `DELETE /jobs/ingest/{id}`: only once the job is closed or terminal.
    pub fn delete<S: OrgStore + ?Sized>(
        &mut self,
        store: &mut S,
        rules: &mut WriteRules,
        job_id: &str,
    ) -> Result<(), ApiError> {
        self.observe(store, rules);
        let now = store.now();
        let job = self.jobs.get(job_id).ok_or_else(ApiError::not_found)?;
        let state = observed_state(job, now, self.config.processing_time);
        if matches!(state, JobState::Open | JobState::InProgress) {
            // Text as for query jobs (salesforce-facts §8); unconfirmed for ingest.
            return Err(ApiError::new(
                400,
                "API_ERROR",
                "Error encountered when deleting the job because the job is not terminated",
            ));
        }
        self.jobs.remove(job_id);
        self.running.remove(job_id);
        Ok(())
    }

    /// `GET /jobs/ingest/{id}/successfulResults|failedResults|unprocessedrecords`. Before the
    /// job is processed: the headers only, and every uploaded row as unprocessed; while it runs:
    /// the rows processed so far.
    pub fn results<S: OrgStore + ?Sized>(
        &mut self,
        store: &mut S,
        rules: &mut WriteRules,
        job_id: &str,
        kind: ResultKind,
    ) -> Result<Vec<u8>, ApiError> {
        self.observe(store, rules);
        let job = self.jobs.get_mut(job_id).ok_or_else(ApiError::not_found)?;
        let owned;
        let results = match (&job.results, self.running.get_mut(job_id)) {
            (Some(r), _) => r,
            (None, Some(run)) => {
                owned = run.results_so_far();
                &owned
            }
            (None, None) => {
                owned = pending_results(store, rules, job);
                &owned
            }
        };
        Ok(match kind {
            ResultKind::Successful => results.successful.clone(),
            ResultKind::Failed => results.failed.clone(),
            ResultKind::Unprocessed => results.unprocessed.clone(),
        })
    }

    /// Advances processing: closed jobs whose processing time has passed start, and running jobs
    /// process up to [`IngestConfig::rows_per_observation`] rows between them, so that one call
    /// never holds the org for a whole large job (and a poll shows the progress).
    pub fn observe<S: OrgStore + ?Sized>(&mut self, store: &mut S, rules: &mut WriteRules) {
        let now = store.now();
        let due: Vec<String> = self
            .jobs
            .values()
            .filter(|j| j.state == JobState::UploadComplete)
            .filter(|j| {
                j.closed_at
                    .is_some_and(|t| t + self.config.processing_time <= now)
            })
            .map(|j| j.id.clone())
            .collect();
        for job_id in due {
            self.start(store, &job_id);
        }
        let running: Vec<String> = self.running.keys().cloned().collect();
        let mut budget = self.config.rows_per_observation.max(1);
        for job_id in running {
            if budget == 0 {
                break;
            }
            budget = budget.saturating_sub(self.step(store, rules, &job_id, budget, None));
        }
    }

    /// Starts processing a due job: resolves its header (a refusal ends it at once) and fixes
    /// the fault that applies to it.
    fn start<S: OrgStore + ?Sized>(&mut self, store: &mut S, job_id: &str) {
        let now = store.now();
        let records_left = self.usage.records_left(self.config.daily_limits, now);
        let faults = &self.faults;
        let Some(job) = self.jobs.get_mut(job_id) else {
            return;
        };
        let empty = Vec::new();
        let data = job.data.as_ref().unwrap_or(&empty);
        job.interruption = match &job.injected {
            Some(kind) => {
                let rows = job.dialect.reader(data.as_slice()).records().count();
                Some(Interruption {
                    after_rows: rows.saturating_sub(1) as u64 / 2,
                    kind: kind.clone(),
                })
            }
            None => faults
                .iter()
                .find(|f| {
                    f.object
                        .as_deref()
                        .is_none_or(|o| o.eq_ignore_ascii_case(&job.object))
                })
                .map(|f| f.interruption.clone()),
        };
        match JobRun::start(store, job, data, records_left) {
            Step::Continue(run) => {
                job.state = JobState::InProgress;
                self.running.insert(job_id.to_string(), run);
            }
            Step::Done(outcome) => self.finish(job_id, outcome, now),
        }
    }

    /// Runs up to `max_rows` rows of a running job (all of them with an abort); returns how
    /// many it processed.
    fn step<S: OrgStore + ?Sized>(
        &mut self,
        store: &mut S,
        rules: &mut WriteRules,
        job_id: &str,
        max_rows: u64,
        abort: Option<Interruption>,
    ) -> u64 {
        let now = store.now();
        let Some(job) = self.jobs.get_mut(job_id) else {
            return 0;
        };
        let Some(run) = self.running.remove(job_id) else {
            return 0;
        };
        let before = run.processed();
        let empty = Vec::new();
        let data = job.data.as_ref().unwrap_or(&empty);
        let interruption = abort.or_else(|| job.interruption.clone());
        match run.step(store, rules, data, interruption.as_ref(), max_rows) {
            Step::Continue(run) => {
                let done = run.processed() - before;
                job.number_records_processed = run.processed();
                job.number_records_failed = run.failed();
                self.running.insert(job_id.to_string(), run);
                done
            }
            Step::Done(outcome) => {
                let done = outcome.processed - before;
                self.finish(job_id, outcome, now);
                done
            }
        }
    }

    fn finish(&mut self, job_id: &str, outcome: process::RunOutcome, now: DateTime<Utc>) {
        self.usage.record(now, outcome.processed);
        let processing_time = self.config.processing_time;
        let Some(job) = self.jobs.get_mut(job_id) else {
            return;
        };
        let finished = job.closed_at.unwrap_or(now) + processing_time;
        job.state = outcome.state;
        job.error_message = outcome.error_message;
        job.number_records_processed = outcome.processed;
        job.number_records_failed = outcome.failed;
        job.results = Some(outcome.results);
        self.running.remove(job_id);
        job.system_modstamp = finished.min(now).max(job.system_modstamp);
        job.processing_time_ms = processing_time.num_milliseconds().max(0) as u64;
    }
}

fn invalid_job(message: impl Into<String>) -> ApiError {
    ApiError::new(400, "INVALIDJOB", message)
}

/// The state a client sees at `now`.
fn observed_state(job: &IngestJob, now: DateTime<Utc>, processing_time: Duration) -> JobState {
    match (job.state, job.closed_at) {
        (JobState::UploadComplete, Some(closed)) if now >= closed + processing_time / 2 => {
            JobState::InProgress
        }
        (state, _) => state,
    }
}

/// Result files of a job none of whose rows were processed.
fn pending_results<S: OrgStore + ?Sized>(
    store: &mut S,
    rules: &mut WriteRules,
    job: &IngestJob,
) -> JobResults {
    let nothing = Interruption {
        after_rows: 0,
        kind: InterruptionKind::Abort,
    };
    let empty = Vec::new();
    let data = job.data.as_ref().unwrap_or(&empty);
    process::run(store, rules, job, data, Some(&nothing), 0).results
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Value;
    use crate::write::test_org::TestOrg;

    struct Fixture {
        org: TestOrg,
        rules: WriteRules,
        jobs: IngestJobs,
    }

    impl Fixture {
        fn new() -> Self {
            Fixture {
                org: TestOrg::new(),
                rules: WriteRules::default(),
                jobs: IngestJobs::new(IngestConfig {
                    processing_time: Duration::seconds(10),
                    ..IngestConfig::default()
                }),
            }
        }

        fn create(&mut self, body: &str) -> Result<Json, ApiError> {
            self.jobs.create(
                &mut self.org,
                &mut self.rules,
                "62.0",
                body.as_bytes(),
                None,
            )
        }

        fn get(&mut self, id: &str) -> Json {
            self.jobs.get(&mut self.org, &mut self.rules, id).unwrap()
        }

        /// Creates, uploads, closes and waits out the processing time; returns the job id.
        fn run(&mut self, body: &str, csv: &str) -> String {
            let info = self.create(body).unwrap();
            let id = info["id"].as_str().unwrap().to_string();
            self.jobs
                .upload(&id, Some("text/csv"), csv.as_bytes().to_vec())
                .unwrap();
            self.jobs
                .set_state(
                    &mut self.org,
                    &mut self.rules,
                    &id,
                    br#"{"state":"UploadComplete"}"#,
                )
                .unwrap();
            self.org.now += Duration::seconds(10);
            assert!(["JobComplete", "Failed", "Aborted"]
                .contains(&self.get(&id)["state"].as_str().unwrap()));
            id
        }

        /// Asserts the job ended Failed with `message` and this unprocessed-records file.
        fn assert_failed(&mut self, id: &str, message: &str, unprocessed: &str) -> Json {
            let info = self.get(id);
            assert_eq!(info["state"], "Failed");
            assert_eq!(info["errorMessage"], message);
            assert_eq!(self.results(id, ResultKind::Unprocessed), unprocessed);
            info
        }

        fn results(&mut self, id: &str, kind: ResultKind) -> String {
            String::from_utf8(
                self.jobs
                    .results(&mut self.org, &mut self.rules, id, kind)
                    .unwrap(),
            )
            .unwrap()
        }
    }

    const INSERT_ACCOUNTS: &str =
        r#"{"object":"Account","operation":"insert","contentType":"CSV","lineEnding":"LF"}"#;

    #[test]
    fn create_reply_is_open_job_info_without_counters() {
        let mut f = Fixture::new();
        let info = f.create(INSERT_ACCOUNTS).unwrap();
        let keys: Vec<&str> = info
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "id",
                "operation",
                "object",
                "createdById",
                "createdDate",
                "systemModstamp",
                "state",
                "concurrencyMode",
                "contentType",
                "apiVersion",
                "contentUrl",
                "lineEnding",
                "columnDelimiter"
            ]
        );
        assert_eq!(info["state"], "Open");
        assert_eq!(info["apiVersion"], json!(62.0));
        assert_eq!(info["createdDate"], "2026-01-01T00:00:00.000+0000");
        let id = info["id"].as_str().unwrap();
        assert!(id.starts_with("750") && id.len() == 18);
        assert_eq!(
            info["contentUrl"],
            format!("services/data/v62.0/jobs/ingest/{id}/batches")
        );
    }

    #[test]
    fn create_refusals_name_the_problem() {
        let mut f = Fixture::new();
        let err = |f: &mut Fixture, body: &str| f.create(body).unwrap_err();
        assert_eq!(
            err(&mut f, r#"{"object":"Nope__c","operation":"insert"}"#).code,
            "INVALIDENTITY"
        );
        assert_eq!(
            err(&mut f, r#"{"object":"Account","operation":"merge"}"#).message,
            "operation: expected insert, update, upsert, delete or hardDelete, got \"merge\""
        );
        assert_eq!(
            err(&mut f, r#"{"object":"Account","operation":"upsert"}"#).message,
            "External ID was blank for Account. An External ID must be specified for upsert."
        );
        assert_eq!(
            err(
                &mut f,
                r#"{"object":"Account","operation":"upsert","externalIdFieldName":"Name"}"#
            )
            .code,
            "INVALIDJOB"
        );
        assert_eq!(
            err(
                &mut f,
                r#"{"object":"Account","operation":"insert","columnDelimiter":"COLON"}"#
            )
            .code,
            "INVALIDJOB"
        );
        assert_eq!(err(&mut f, "{").code, "JSON_PARSER_ERROR");
    }

    #[test]
    fn states_go_open_uploadcomplete_inprogress_jobcomplete_over_the_processing_time() {
        let mut f = Fixture::new();
        let id = f.create(INSERT_ACCOUNTS).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(f.get(&id)["state"], "Open");
        f.jobs
            .upload(&id, Some("text/csv"), b"Name\nA\n".to_vec())
            .unwrap();
        let closed = f
            .jobs
            .set_state(
                &mut f.org,
                &mut f.rules,
                &id,
                br#"{"state":"UploadComplete"}"#,
            )
            .unwrap();
        assert_eq!(closed["state"], "UploadComplete");
        assert_eq!(f.get(&id)["state"], "UploadComplete");
        assert_eq!(f.org.live_count("Account"), 0);
        f.org.now += Duration::seconds(5);
        assert_eq!(f.get(&id)["state"], "InProgress");
        f.org.now += Duration::seconds(5);
        let done = f.get(&id);
        assert_eq!(done["state"], "JobComplete");
        assert_eq!(done["numberRecordsProcessed"], json!(1));
        assert_eq!(done["numberRecordsFailed"], json!(0));
        assert_eq!(done["jobType"], "V2Ingest");
        assert_eq!(f.org.live_count("Account"), 1);
    }

    #[test]
    fn insert_results_split_rows_into_successful_and_failed_files() {
        let mut f = Fixture::new();
        let id = f.run(
            INSERT_ACCOUNTS,
            "Name,Rating\nGood,Hot\n,Hot\nBad,Lukewarm\n",
        );
        let info = f.get(&id);
        assert_eq!(
            (
                info["numberRecordsProcessed"].as_u64(),
                info["numberRecordsFailed"].as_u64()
            ),
            (Some(3), Some(2))
        );
        let ok = f.results(&id, ResultKind::Successful);
        let lines: Vec<&str> = ok.lines().collect();
        assert_eq!(lines[0], "\"sf__Id\",\"sf__Created\",\"Name\",\"Rating\"");
        assert!(
            lines[1].ends_with("\"true\",\"Good\",\"Hot\""),
            "{}",
            lines[1]
        );
        assert_eq!(
            f.results(&id, ResultKind::Failed),
            "\"sf__Id\",\"sf__Error\",\"Name\",\"Rating\"\n\
             \"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --\",\"\",\"Hot\"\n\
             \"\",\"INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Account Rating: bad value for restricted picklist field: Lukewarm:Rating --\",\"Bad\",\"Lukewarm\"\n"
        );
        assert_eq!(
            f.results(&id, ResultKind::Unprocessed),
            "\"Name\",\"Rating\"\n"
        );
    }

    #[test]
    fn unknown_column_fails_the_job_with_every_row_unprocessed() {
        let mut f = Fixture::new();
        let id = f.run(INSERT_ACCOUNTS, "Name,Bogus__c\nA,1\nB,2\n");
        let info = f.assert_failed(
            &id,
            "InvalidBatch : Field name not found : Bogus__c",
            "\"Name\",\"Bogus__c\"\n\"A\",\"1\"\n\"B\",\"2\"\n",
        );
        assert_eq!(info["numberRecordsProcessed"], json!(0));
        assert_eq!(f.org.live_count("Account"), 0);
    }

    #[test]
    fn upsert_reports_created_and_updated_and_fails_keys_repeated_in_the_file() {
        let mut f = Fixture::new();
        let body =
            r#"{"object":"Account","operation":"upsert","externalIdFieldName":"External_Id__c"}"#;
        f.run(body, "External_Id__c,Name\nK1,One\n");
        let id = f.run(
            body,
            "External_Id__c,Name\nK1,One again\nK2,Two\nk3,Three\nK3,Three bis\n",
        );
        let ok = f.results(&id, ResultKind::Successful);
        assert!(ok.contains("\"false\",\"K1\",\"One again\""), "{ok}");
        assert!(ok.contains("\"true\",\"K2\",\"Two\""), "{ok}");
        let failed = f.results(&id, ResultKind::Failed);
        assert!(failed.contains("\"DUPLICATE_VALUE:Duplicate external id specified: k3:External_Id__c --\",\"k3\",\"Three\""), "{failed}");
        assert!(failed.contains("\"DUPLICATE_VALUE:Duplicate external id specified: K3:External_Id__c --\",\"K3\",\"Three bis\""), "{failed}");
        assert_eq!(f.org.live_count("Account"), 2);
    }

    #[test]
    fn relationship_column_and_na_and_empty_cells_in_update() {
        let mut f = Fixture::new();
        f.run(INSERT_ACCOUNTS, "Name,External_Id__c\nParent,P1\n");
        let contacts = r#"{"object":"Contact","operation":"insert"}"#;
        let id = f.run(
            contacts,
            "LastName,Email,Account.External_Id__c\nDoe,doe@example.com,P1\n",
        );
        let ok = f.results(&id, ResultKind::Successful);
        let contact_id = ok.lines().nth(1).unwrap()[1..19].to_string();
        let account_id =
            f.org
                .find_by_field("Account", "External_Id__c", &Value::Text("P1".into()))[0]
                .clone();
        assert_eq!(
            f.org.value("Contact", &contact_id, "AccountId"),
            Value::Text(account_id)
        );
        let update = r#"{"object":"Contact","operation":"update"}"#;
        f.run(update, &format!("Id,Email,LastName\n{contact_id},#N/A,\n"));
        assert_eq!(f.org.value("Contact", &contact_id, "Email"), Value::Null);
        assert_eq!(
            f.org.value("Contact", &contact_id, "LastName"),
            Value::Text("Doe".into())
        );
    }

    #[test]
    fn delete_and_hard_delete_take_only_the_id_column() {
        let mut f = Fixture::new();
        let created = f.run(INSERT_ACCOUNTS, "Name\nA\nB\n");
        let ids: Vec<String> = f
            .results(&created, ResultKind::Successful)
            .lines()
            .skip(1)
            .map(|l| l[1..19].to_string())
            .collect();
        let bad = f.run(
            r#"{"object":"Account","operation":"delete"}"#,
            &format!("Id,Name\n{},A\n", ids[0]),
        );
        assert_eq!(
            f.get(&bad)["errorMessage"],
            "InvalidBatch : The 'delete' batch must contain only ids"
        );
        let soft = f.run(
            r#"{"object":"Account","operation":"delete"}"#,
            &format!("Id\n{}\n", ids[0]),
        );
        assert!(f
            .results(&soft, ResultKind::Successful)
            .contains(&format!("\"{}\",\"false\"", ids[0])));
        assert!(f.org.get("Account", &ids[0]).unwrap().is_deleted);
        f.run(
            r#"{"object":"Account","operation":"hardDelete"}"#,
            &format!("Id\n{}\n", ids[1]),
        );
        assert!(f.org.get("Account", &ids[1]).is_none());
        assert_eq!(f.org.deletion_log.len(), 1);
    }

    #[test]
    fn fail_fault_stops_partway_and_leaves_the_rest_unprocessed() {
        let mut f = Fixture::new();
        f.jobs.set_faults(vec![JobFault {
            object: Some("Account".into()),
            interruption: Interruption {
                after_rows: 2,
                kind: InterruptionKind::Fail {
                    message: "InternalServerError : batch processing failed".into(),
                },
            },
        }]);
        let id = f.run(INSERT_ACCOUNTS, "Name\nA\nB\nC\nD\n");
        let info = f.assert_failed(
            &id,
            "InternalServerError : batch processing failed",
            "\"Name\"\n\"C\"\n\"D\"\n",
        );
        assert_eq!(info["numberRecordsProcessed"], json!(2));
        assert_eq!(f.org.live_count("Account"), 2);
    }

    #[test]
    fn abort_before_processing_leaves_every_row_unprocessed() {
        let mut f = Fixture::new();
        let id = f.create(INSERT_ACCOUNTS).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        f.jobs
            .upload(&id, Some("text/csv"), b"Name\nA\n".to_vec())
            .unwrap();
        let aborted = f
            .jobs
            .set_state(&mut f.org, &mut f.rules, &id, br#"{"state":"Aborted"}"#)
            .unwrap();
        assert_eq!(aborted["state"], "Aborted");
        f.org.now += Duration::seconds(60);
        assert_eq!(f.get(&id)["state"], "Aborted");
        assert_eq!(f.results(&id, ResultKind::Unprocessed), "\"Name\"\n\"A\"\n");
        assert_eq!(f.org.live_count("Account"), 0);
        let again = f
            .jobs
            .set_state(
                &mut f.org,
                &mut f.rules,
                &id,
                br#"{"state":"UploadComplete"}"#,
            )
            .unwrap_err();
        assert_eq!(again.code, "INVALIDJOBSTATE");
    }

    #[test]
    fn upload_checks_content_type_state_one_put_and_size() {
        let mut f = Fixture::new();
        f.jobs.config.max_upload_base64_bytes = 12;
        let id = f.create(INSERT_ACCOUNTS).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            f.jobs
                .upload(&id, Some("application/json"), b"Name\n".to_vec())
                .unwrap_err()
                .code,
            "INVALIDCONTENTTYPE"
        );
        let too_big = f
            .jobs
            .upload(&id, Some("text/csv"), b"Name\nABCDEF\n".to_vec())
            .unwrap_err();
        assert_eq!(
            (too_big.status, too_big.code),
            (413, "EXCEEDED_MAX_SIZE_REQUEST")
        );
        f.jobs
            .upload(&id, Some("text/csv; charset=UTF-8"), b"Name\nA\n".to_vec())
            .unwrap();
        let second = f
            .jobs
            .upload(&id, Some("text/csv"), b"Name\nA\n".to_vec())
            .unwrap_err();
        assert!(second
            .message
            .starts_with("Found multiple contents for job"));
        assert_eq!(
            f.jobs
                .upload("750R000000000zzAAA", Some("text/csv"), vec![])
                .unwrap_err()
                .status,
            404
        );
    }

    #[test]
    fn delete_is_refused_while_open_and_allowed_when_terminal() {
        let mut f = Fixture::new();
        let id = f.create(INSERT_ACCOUNTS).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            f.jobs
                .delete(&mut f.org, &mut f.rules, &id)
                .unwrap_err()
                .code,
            "API_ERROR"
        );
        let done = f.run(INSERT_ACCOUNTS, "Name\nA\n");
        f.jobs.delete(&mut f.org, &mut f.rules, &done).unwrap();
        assert_eq!(
            f.jobs
                .get(&mut f.org, &mut f.rules, &done)
                .unwrap_err()
                .status,
            404
        );
        assert_eq!(
            f.jobs.list(&mut f.org, &mut f.rules)["records"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
    }

    #[test]
    fn daily_record_allocation_stops_a_job_and_then_refuses_new_ones() {
        let mut f = Fixture::new();
        f.jobs.config.daily_limits = DailyLimits {
            records: 3,
            batches: 100,
        };
        let id = f.run(INSERT_ACCOUNTS, "Name\nA\nB\nC\nD\n");
        f.assert_failed(&id, &process::quota_message(), "\"Name\"\n\"D\"\n");
        assert_eq!(
            f.create(INSERT_ACCOUNTS).unwrap_err().code,
            "LIMIT_EXCEEDED"
        );
        f.org.now += Duration::hours(25);
        assert!(f.create(INSERT_ACCOUNTS).is_ok());
        assert_eq!(f.jobs.daily_usage(f.org.now), (0, 0));
    }

    fn many_rows(n: usize) -> String {
        let mut csv = String::from("Name\n");
        for i in 0..n {
            csv.push_str(&format!("Row {i}\n"));
        }
        csv
    }

    fn close(f: &mut Fixture, csv: &str) -> String {
        let id = f.create(INSERT_ACCOUNTS).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        f.jobs
            .upload(&id, Some("text/csv"), csv.as_bytes().to_vec())
            .unwrap();
        f.jobs
            .set_state(
                &mut f.org,
                &mut f.rules,
                &id,
                br#"{"state":"UploadComplete"}"#,
            )
            .unwrap();
        f.org.now += Duration::seconds(10);
        id
    }

    #[test]
    fn large_job_progresses_batch_by_batch_across_polls() {
        let mut f = Fixture::new();
        f.jobs.config.rows_per_observation = 10_000;
        let id = close(&mut f, &many_rows(25_000));
        let first = f.get(&id);
        assert_eq!(
            (
                first["state"].as_str(),
                first["numberRecordsProcessed"].as_u64()
            ),
            (Some("InProgress"), Some(10_000))
        );
        assert_eq!(
            f.org.live_count("Account"),
            10_000,
            "processed rows are in the org at once"
        );
        // Results of a running job are the rows processed so far (this call ran one more batch).
        assert_eq!(
            f.results(&id, ResultKind::Successful).lines().count(),
            20_001
        );
        assert_eq!(f.jobs.jobs[&id].number_records_processed, 20_000);
        let done = f.get(&id);
        assert_eq!(
            (
                done["state"].as_str(),
                done["numberRecordsProcessed"].as_u64()
            ),
            (Some("JobComplete"), Some(25_000))
        );
        let ok = f.results(&id, ResultKind::Successful);
        assert_eq!(ok.lines().count(), 25_001);
        assert!(ok.ends_with("\"true\",\"Row 24999\"\n"));
    }

    #[test]
    fn abort_while_in_progress_keeps_processed_rows_and_leaves_the_rest_unprocessed() {
        let mut f = Fixture::new();
        f.jobs.config.rows_per_observation = 10_000;
        let id = close(&mut f, &many_rows(25_000));
        assert_eq!(f.get(&id)["state"], "InProgress");
        // The abort call itself observes the job first (processing goes on until it lands).
        let aborted = f
            .jobs
            .set_state(&mut f.org, &mut f.rules, &id, br#"{"state":"Aborted"}"#)
            .unwrap();
        assert_eq!(aborted["state"], "Aborted");
        let info = f.get(&id);
        assert_eq!(
            (
                info["state"].as_str(),
                info["numberRecordsProcessed"].as_u64()
            ),
            (Some("Aborted"), Some(20_000))
        );
        assert_eq!(f.org.live_count("Account"), 20_000);
        let unprocessed = f.results(&id, ResultKind::Unprocessed);
        assert_eq!(unprocessed.lines().count(), 5_001);
        assert!(unprocessed.starts_with("\"Name\"\n\"Row 20000\"\n"));
    }

    #[test]
    fn pipe_crlf_job_reads_and_writes_its_own_dialect() {
        let mut f = Fixture::new();
        let body = r#"{"object":"Account","operation":"insert","columnDelimiter":"PIPE","lineEnding":"CRLF"}"#;
        let id = f.run(body, "Name|Website\r\n\"A|B\"|x.com\r\n|y.com\r\n");
        let ok = f.results(&id, ResultKind::Successful);
        assert!(
            ok.starts_with("\"sf__Id\"|\"sf__Created\"|\"Name\"|\"Website\"\r\n"),
            "{ok}"
        );
        assert!(ok.ends_with("|\"true\"|\"A|B\"|\"x.com\"\r\n"), "{ok}");
        assert!(f.results(&id, ResultKind::Failed).ends_with("\"\"|\"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --\"|\"\"|\"y.com\"\r\n"));
    }

    #[test]
    fn crlf_data_in_an_lf_job_fails_on_the_carriage_return() {
        let mut f = Fixture::new();
        let id = f.run(INSERT_ACCOUNTS, "Name,Website\r\nA,x.com\r\n");
        assert_eq!(
            f.get(&id)["errorMessage"],
            "InvalidBatch : Field name not found : Website\r"
        );
    }

    #[test]
    fn ragged_row_fails_the_job_from_that_row_on() {
        let mut f = Fixture::new();
        let id = f.run(INSERT_ACCOUNTS, "Name,Website\nA,x.com\nB\nC,z.com\n");
        f.assert_failed(
            &id,
            "InvalidBatch : Wrong number of columns in row 3: expected 2, found 1",
            "\"Name\",\"Website\"\n\"B\"\n\"C\",\"z.com\"\n",
        );
    }
}
