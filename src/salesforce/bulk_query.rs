//! Bulk API 2.0 query jobs: create, poll, abort, delete, and result pages streamed by locator.

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::Error;
use super::job::{check_job_id, BulkJob, JobState};
use super::job_registry::{query_object, CreateKey, JobKind};
use super::{body_stream, ApiRequest, ByteStream, SalesforceClient};

/// `query` reads live rows; `queryAll` adds soft-deleted and archived ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) enum QueryOperation {
    Query,
    QueryAll,
}

/// A query job's info (`POST jobs/query`, `GET jobs/query/{id}`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct QueryJob {
    pub id: String,
    pub state: JobState,
    #[serde(default)]
    pub operation: Option<QueryOperation>,
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default)]
    pub number_records_processed: Option<u64>,
    #[serde(default)]
    pub retries: Option<u64>,
    #[serde(default)]
    pub total_processing_time: Option<u64>,
    #[serde(default)]
    pub error_message: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateQueryJob<'a> {
    operation: QueryOperation,
    query: &'a str,
}

/// One page of a job's results: a complete CSV (header included), streamed as it arrives.
pub(crate) struct QueryResultPage {
    /// Locator of the next page; `None` on the last page (Salesforce sends the string `null`).
    pub next_locator: Option<String>,
    /// `Sforce-NumberOfRecords`: rows in this page.
    pub number_of_records: Option<u64>,
    /// The CSV bytes.
    pub body: ByteStream,
}

impl BulkJob for QueryJob {
    const KIND: &'static str = "query";

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

impl std::fmt::Debug for QueryResultPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryResultPage")
            .field("next_locator", &self.next_locator)
            .field("number_of_records", &self.number_of_records)
            .finish_non_exhaustive()
    }
}

/// `GET …/resultPages`: result URLs to download concurrently.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResultPages {
    #[serde(default)]
    pub result_pages: Vec<ResultUrl>,
    /// The docs' example spells it `nextRecordsUrl`, their table `nextRecordUrl`.
    #[serde(default, alias = "nextRecordUrl")]
    pub next_records_url: Option<String>,
    #[serde(default)]
    pub done: bool,
}

/// One downloadable result page.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ResultUrl {
    /// `resultUrl` per Salesforce's docs; a third-party schema says `resultLink`.
    #[serde(alias = "resultLink")]
    pub result_url: String,
}

impl SalesforceClient {
    /// Creates a query job (CSV, comma, LF). A refusal ([`Error::is_bulk_refusal`]) means the
    /// query must be read through REST instead.
    pub(crate) async fn create_query_job(
        &self,
        soql: &str,
        operation: QueryOperation,
    ) -> Result<QueryJob, Error> {
        let key = CreateKey {
            kind: JobKind::Query,
            object: query_object(soql),
            operation: match operation {
                QueryOperation::Query => "query",
                QueryOperation::QueryAll => "queryAll",
            }
            .to_string(),
        };
        let request = CreateQueryJob {
            operation,
            query: soql,
        };
        self.post_job(key, &request).await
    }

    /// One page of results: the first when `locator` is `None`, else the page at `locator`.
    /// The body is not read here: the caller streams it.
    pub(crate) async fn query_job_results(
        &self,
        job_id: &str,
        locator: Option<&str>,
        max_records: Option<u64>,
    ) -> Result<QueryResultPage, Error> {
        check_job_id(job_id)?;
        let path = self.data_path(&format!("jobs/query/{job_id}/results"));
        let max_records = max_records.map(|n| n.to_string());
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(n) = &max_records {
            query.push(("maxRecords", n));
        }
        if let Some(locator) = locator {
            query.push(("locator", locator));
        }
        self.result_page(job_id, &path, &query).await
    }

    /// The result page at `url`, one of the `resultUrl`s of [`query_result_pages`]
    /// (Self::query_result_pages): a results URI with its locator.
    pub(crate) async fn query_job_result_url(
        &self,
        job_id: &str,
        url: &str,
    ) -> Result<QueryResultPage, Error> {
        check_job_id(job_id)?;
        let path = self.server_path(url)?;
        self.result_page(job_id, &path, &[]).await
    }

    async fn result_page(
        &self,
        job_id: &str,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<QueryResultPage, Error> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("text/csv"));
        let response = self
            .send(ApiRequest::get(path).query(query).headers(headers))
            .await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
        };
        let locator_header = header("sforce-locator");
        if locator_header.is_none() {
            tracing::warn!(
                "Bulk query job {job_id}: results page without a Sforce-Locator header; treating it as the last page"
            );
        }
        let next_locator = locator_header.filter(|l| !l.is_empty() && l != "null");
        let number_of_records = header("sforce-numberofrecords").and_then(|n| n.parse().ok());
        Ok(QueryResultPage {
            next_locator,
            number_of_records,
            body: body_stream(&Method::GET, response),
        })
    }

    /// `GET …/jobs/query/{id}/resultPages` (API 58.0+; facts §14): up to five result URLs that
    /// can be downloaded at once. `next` is the previous answer's `nextRecordsUrl`.
    pub(crate) async fn query_result_pages(
        &self,
        job_id: &str,
        next: Option<&str>,
    ) -> Result<ResultPages, Error> {
        check_job_id(job_id)?;
        let path = match next {
            Some(url) => self.server_path(url)?,
            None => self.data_path(&format!("jobs/query/{job_id}/resultPages")),
        };
        self.send_json(ApiRequest::get(&path)).await
    }
}
