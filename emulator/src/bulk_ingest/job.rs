//! An ingest job as Salesforce reports it: operation, state, counters and the job info JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value as Json};

use super::dialect::Dialect;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum Operation {
    Insert,
    Update,
    Upsert,
    Delete,
    HardDelete,
}

impl Operation {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Upsert => "upsert",
            Operation::Delete => "delete",
            Operation::HardDelete => "hardDelete",
        }
    }
}

/// A Bulk API 2.0 job's `state`, for ingest and query jobs alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    Open,
    UploadComplete,
    InProgress,
    JobComplete,
    Failed,
    Aborted,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Open => "Open",
            JobState::UploadComplete => "UploadComplete",
            JobState::InProgress => "InProgress",
            JobState::JobComplete => "JobComplete",
            JobState::Failed => "Failed",
            JobState::Aborted => "Aborted",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobState::JobComplete | JobState::Failed | JobState::Aborted
        )
    }
}

/// The three result files of a processed job, as CSV in the job's dialect.
#[derive(Clone, Debug, Default)]
pub(crate) struct JobResults {
    pub successful: Vec<u8>,
    pub failed: Vec<u8>,
    pub unprocessed: Vec<u8>,
}

#[derive(Debug)]
pub(crate) struct IngestJob {
    pub id: String,
    pub operation: Operation,
    /// The object's API name as describe spells it.
    pub object: String,
    pub external_id_field_name: Option<String>,
    pub assignment_rule_id: Option<String>,
    pub dialect: Dialect,
    /// The version of the URL the job was created through (`62.0`).
    pub api_version: String,
    pub created_by_id: String,
    pub created_date: DateTime<Utc>,
    pub system_modstamp: DateTime<Utc>,
    /// The state as last recorded; [`super::registry`] derives UploadComplete → InProgress →
    /// terminal from `closed_at` and the processing time.
    pub state: JobState,
    pub closed_at: Option<DateTime<Utc>>,
    /// The uploaded CSV, kept until the job is deleted.
    pub data: Option<Vec<u8>>,
    pub results: Option<JobResults>,
    pub number_records_processed: u64,
    pub number_records_failed: u64,
    pub error_message: Option<String>,
    pub processing_time_ms: u64,
    /// A fault injected on the create request: the job stops halfway through its rows.
    pub injected: Option<InterruptionKind>,
    /// The interruption that applies once processing starts (injected or configured).
    pub interruption: Option<Interruption>,
}

/// An injected interruption: after `after_rows` rows the job stops, the rest is unprocessed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Interruption {
    pub after_rows: u64,
    pub kind: InterruptionKind,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InterruptionKind {
    /// The job ends `Failed` with this `errorMessage`.
    Fail { message: String },
    /// The job ends `Aborted`.
    Abort,
}

/// `2024-01-01T10:00:00.000+0000`, the REST datetime form.
pub(crate) fn rest_datetime(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

impl IngestJob {
    fn api_version_number(&self) -> Json {
        self.api_version
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Json::Number)
            .unwrap_or(Json::Null)
    }

    fn content_url(&self) -> String {
        format!(
            "services/data/v{}/jobs/ingest/{}/batches",
            self.api_version, self.id
        )
    }

    fn common(&self, state: JobState) -> Map<String, Json> {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("operation".into(), json!(self.operation.as_str()));
        m.insert("object".into(), json!(self.object));
        m.insert("createdById".into(), json!(self.created_by_id));
        m.insert(
            "createdDate".into(),
            json!(rest_datetime(self.created_date)),
        );
        m.insert(
            "systemModstamp".into(),
            json!(rest_datetime(self.system_modstamp)),
        );
        m.insert("state".into(), json!(state.as_str()));
        if let Some(ext) = &self.external_id_field_name {
            m.insert("externalIdFieldName".into(), json!(ext));
        }
        if let Some(rule) = &self.assignment_rule_id {
            m.insert("assignmentRuleId".into(), json!(rule));
        }
        m.insert("concurrencyMode".into(), json!("Parallel"));
        m.insert("contentType".into(), json!("CSV"));
        m.insert("apiVersion".into(), self.api_version_number());
        m
    }

    /// The reply to job creation and to a state change: no counters.
    pub(crate) fn create_info(&self, state: JobState) -> Json {
        let mut m = self.common(state);
        m.insert("contentUrl".into(), json!(self.content_url()));
        m.insert("lineEnding".into(), json!(self.dialect.line_ending.name()));
        m.insert(
            "columnDelimiter".into(),
            json!(self.dialect.delimiter.name()),
        );
        Json::Object(m)
    }

    /// The reply to "Get Job Info": with `jobType`, counters and `errorMessage` when failed.
    pub(crate) fn full_info(&self, state: JobState) -> Json {
        let mut m = self.common(state);
        m.insert("jobType".into(), json!("V2Ingest"));
        if state == JobState::Open {
            m.insert("contentUrl".into(), json!(self.content_url()));
        }
        m.insert("lineEnding".into(), json!(self.dialect.line_ending.name()));
        m.insert(
            "columnDelimiter".into(),
            json!(self.dialect.delimiter.name()),
        );
        m.insert(
            "numberRecordsProcessed".into(),
            json!(self.number_records_processed),
        );
        m.insert(
            "numberRecordsFailed".into(),
            json!(self.number_records_failed),
        );
        m.insert("retries".into(), json!(0));
        m.insert("totalProcessingTime".into(), json!(self.processing_time_ms));
        m.insert(
            "apiActiveProcessingTime".into(),
            json!(self.processing_time_ms),
        );
        m.insert("apexProcessingTime".into(), json!(0));
        if let Some(message) = &self.error_message {
            m.insert("errorMessage".into(), json!(message));
        }
        Json::Object(m)
    }

    /// An entry of "Get All Jobs".
    pub(crate) fn list_info(&self, state: JobState) -> Json {
        let mut m = self.common(state);
        m.insert("jobType".into(), json!("V2Ingest"));
        m.insert("lineEnding".into(), json!(self.dialect.line_ending.name()));
        m.insert(
            "columnDelimiter".into(),
            json!(self.dialect.delimiter.name()),
        );
        Json::Object(m)
    }
}
