//! Bulk API 2.0 ingest jobs: create, upload a CSV streamed from a file, close, abort, poll,
//! delete, and the three result files streamed.

use std::path::Path;

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::act_once::Found;
use super::error::Error;
use super::http::Payload;
use super::job::check_job_id;
use super::job::{BulkJob, JobState};
use super::job_registry::{CreateKey, JobKind};
use super::{body_stream, ApiRequest, ByteStream, SalesforceClient};

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

impl BulkJob for IngestJob {
    const KIND: &'static str = "ingest";

    fn id(&self) -> &str {
        &self.id
    }

    fn state(&self) -> &JobState {
        &self.state
    }

    fn error_message(&self) -> Option<&str> {
        self.error_message.as_deref()
    }
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

/// `insert`, `hardDelete`... as Salesforce spells it in job info.
fn operation_name(operation: IngestOperation) -> String {
    serde_json::to_value(operation)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
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
        let key = CreateKey {
            kind: JobKind::Ingest,
            object: Some(request.object.clone()),
            operation: operation_name(request.operation),
        };
        self.post_job(key, request).await
    }

    /// Creates a job, uploads `csv_file` into it and closes it; Salesforce then runs it.
    ///
    /// An upload whose answer was lost cannot be checked (an `Open` job shows nothing of what
    /// was uploaded), so that job is aborted — Salesforce runs nothing before the close — and
    /// the batch goes into a new job, up to the client's `max_retries` times. Any other failure
    /// after the create aborts the job too.
    pub(crate) async fn submit_ingest_job(
        &self,
        request: &IngestJobRequest,
        csv_file: &Path,
    ) -> Result<IngestJob, Error> {
        let mut lost_uploads = 0u32;
        loop {
            let job = self.create_ingest_job(request).await?;
            let (result, upload_lost) = match self.upload_ingest_file(&job.id, csv_file).await {
                Ok(()) => (self.close_ingest_job(&job.id).await, false),
                Err(e) => {
                    let lost = e.is_unanswered();
                    (Err(e), lost)
                }
            };
            let error = match result {
                Ok(closed) => return Ok(closed),
                Err(error) => error,
            };
            if let Err(abort) = self.abort_job::<IngestJob>(&job.id).await {
                tracing::warn!(
                    "could not abort ingest job {} after {error}: {abort}",
                    job.id
                );
            }
            if upload_lost && lost_uploads < self.inner.http.retry().max_retries {
                lost_uploads += 1;
                tracing::warn!(
                    "ingest job {}: the upload's answer was lost and Salesforce does not show whether it stored the data; the job was aborted (nothing of it ran) and the batch goes into a new job",
                    job.id
                );
                continue;
            }
            return Err(error);
        }
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
        self.act_once(
            &format!("uploading the CSV of ingest job {job_id}"),
            || self.send_empty(ApiRequest::new(Method::PUT, &path).payload(&payload)),
            // An `Open` job's info shows nothing of what was uploaded; the caller aborts it.
            || async { Ok(Found::Unknown) },
        )
        .await
    }

    /// Marks the upload finished (`UploadComplete`); Salesforce then processes the rows. When
    /// the answer is lost, the job's state tells: still `Open` means the close did not take
    /// effect and it is sent again; any later state means it did.
    pub(crate) async fn close_ingest_job(&self, job_id: &str) -> Result<IngestJob, Error> {
        self.act_once(
            &format!("closing ingest job {job_id}"),
            || self.set_job_state(job_id, "UploadComplete"),
            || async {
                let job = self.get_job::<IngestJob>(job_id).await?;
                Ok(match job.state {
                    JobState::Open => Found::NotTaken,
                    _ => Found::TookEffect(job),
                })
            },
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
        let response = self.send(ApiRequest::get(&path)).await?;
        Ok(body_stream(&Method::GET, response))
    }
}
