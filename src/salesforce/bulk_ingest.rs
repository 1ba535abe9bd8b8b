//! Bulk API 2.0 ingest jobs: create, upload a CSV streamed from a file, close, abort, poll,
//! delete, and the three result files streamed.

use std::path::Path;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::bulk_query::check_job_id;
use super::error::Error;
use super::http::Payload;
use super::job::JobState;
use super::{body_stream, wait_for_job, ByteStream, SalesforceClient};

/// What an ingest job does with each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum IngestOperation {
    Insert,
    Update,
    Upsert,
    Delete,
    HardDelete,
}

/// What to create.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IngestJobRequest {
    pub object: String,
    pub operation: IngestOperation,
    /// Required for upsert: the external id field rows are matched on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id_field_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignment_rule_id: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateIngestJob<'a> {
    #[serde(flatten)]
    request: &'a IngestJobRequest,
    content_type: &'static str,
    column_delimiter: &'static str,
    line_ending: &'static str,
}

/// An ingest job's info.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct IngestJob {
    pub id: String,
    pub state: JobState,
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub operation: Option<IngestOperation>,
    #[serde(default)]
    pub external_id_field_name: Option<String>,
    /// Rows processed, failures included.
    #[serde(default)]
    pub number_records_processed: Option<u64>,
    #[serde(default)]
    pub number_records_failed: Option<u64>,
    #[serde(default)]
    pub retries: Option<u64>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Which result file of a finished ingest job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IngestResultKind {
    /// `sf__Id,sf__Created,<original columns>`.
    Successful,
    /// `sf__Id,sf__Error,<original columns>`.
    Failed,
    /// `<original columns>` of rows never processed.
    Unprocessed,
}

impl IngestResultKind {
    fn path_segment(self) -> &'static str {
        match self {
            IngestResultKind::Successful => "successfulResults/",
            IngestResultKind::Failed => "failedResults/",
            IngestResultKind::Unprocessed => "unprocessedrecords/",
        }
    }
}

impl SalesforceClient {
    /// Creates an ingest job (CSV, comma, LF) in state `Open`.
    pub(crate) async fn create_ingest_job(
        &self,
        request: &IngestJobRequest,
    ) -> Result<IngestJob, Error> {
        if request.operation == IngestOperation::Upsert && request.external_id_field_name.is_none()
        {
            return Err(Error::Invalid {
                setting: "externalIdFieldName".into(),
                value: request.object.clone(),
                reason: "an upsert job needs the external id field rows are matched on".into(),
            });
        }
        let body = serde_json::to_vec(&CreateIngestJob {
            request,
            content_type: "CSV",
            column_delimiter: "COMMA",
            line_ending: "LF",
        })
        .map_err(|e| Error::Decode {
            request: Box::new(super::RequestLine {
                method: "POST".into(),
                host: String::new(),
                path: "jobs/ingest".into(),
            }),
            detail: e.to_string(),
        })?;
        let path = self.data_path("jobs/ingest");
        self.send_json(
            Method::POST,
            &path,
            &[],
            &HeaderMap::new(),
            &Payload::Json(body.into()),
        )
        .await
    }

    /// Uploads the job's CSV from a file, streamed in chunks (never held in memory whole);
    /// a retry reopens the file.
    pub(crate) async fn upload_ingest_file(
        &self,
        job_id: &str,
        csv_file: &Path,
    ) -> Result<(), Error> {
        check_job_id(job_id)?;
        let path = self.data_path(&format!("jobs/ingest/{job_id}/batches"));
        let payload = Payload::File {
            path: csv_file.to_path_buf(),
            content_type: "text/csv",
        };
        self.send_empty(Method::PUT, &path, &payload).await
    }

    /// Marks the upload finished (`UploadComplete`); Salesforce then processes the rows.
    pub(crate) async fn close_ingest_job(&self, job_id: &str) -> Result<IngestJob, Error> {
        self.set_ingest_state(job_id, "UploadComplete").await
    }

    /// Aborts the job.
    pub(crate) async fn abort_ingest_job(&self, job_id: &str) -> Result<IngestJob, Error> {
        self.set_ingest_state(job_id, "Aborted").await
    }

    async fn set_ingest_state(&self, job_id: &str, state: &str) -> Result<IngestJob, Error> {
        check_job_id(job_id)?;
        let path = self.data_path(&format!("jobs/ingest/{job_id}"));
        let body = serde_json::json!({ "state": state }).to_string();
        self.send_json(
            Method::PATCH,
            &path,
            &[],
            &HeaderMap::new(),
            &Payload::Json(Bytes::from(body)),
        )
        .await
    }

    /// The job's current info.
    pub(crate) async fn get_ingest_job(&self, job_id: &str) -> Result<IngestJob, Error> {
        check_job_id(job_id)?;
        let path = self.data_path(&format!("jobs/ingest/{job_id}"));
        self.send_json(Method::GET, &path, &[], &HeaderMap::new(), &Payload::Empty)
            .await
    }

    /// Polls until `JobComplete`; a `Failed` job returns its `errorMessage` as
    /// [`Error::JobFailed`] (its processed rows still have results to download).
    pub(crate) async fn wait_for_ingest_job(&self, job_id: &str) -> Result<IngestJob, Error> {
        wait_for_job(
            self,
            job_id,
            || self.get_ingest_job(job_id),
            |job: &IngestJob| &job.state,
            |job: &IngestJob| job.error_message.as_deref(),
        )
        .await
    }

    /// One of the job's result CSVs, streamed.
    pub(crate) async fn ingest_results(
        &self,
        job_id: &str,
        kind: IngestResultKind,
    ) -> Result<ByteStream, Error> {
        check_job_id(job_id)?;
        let path = self.data_path(&format!("jobs/ingest/{job_id}/{}", kind.path_segment()));
        let response = self
            .send(Method::GET, &path, &[], &HeaderMap::new(), &Payload::Empty)
            .await?;
        Ok(body_stream(&Method::GET, response))
    }
}
