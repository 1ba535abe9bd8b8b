//! Bulk API 2.0 query jobs (facts §8): create, get, list, abort, delete, and results paged by
//! `maxRecords` / `locator` with `Sforce-Locator` (the string `null` on the last page) and
//! `Sforce-NumberOfRecords`.
//!
//! `resultPages` (API 58.0+, facts §14) lists the same pages as URLs, up to five per answer, so a
//! client can download them at once: each URL is an ordinary `…/results?locator=` page.
//!
//! A job moves UploadComplete → InProgress → JobComplete over the configured time, measured on
//! the org's clock and observed when the job is read; its result (the matching record indexes)
//! is fixed when it completes. Result pages are streamed: a blocking task formats rows into
//! chunks while the previous chunk is on the wire, so a million-row page never sits in memory.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::job::{JobState, QueryJob, QueryJobs};
use crate::auth::ApiVersion;
use crate::bulk_csv::{ColumnDelimiter, CsvWriter, LineEnding};
use crate::error::{json_response, ApiError};
use crate::faults::JobFault;
use crate::format;
use crate::parallel_gzip;
use crate::query_plan;
use crate::schema::FieldType;
use crate::soql::{self, ResolvedQuery};
use crate::state::{lock, AppState, Session};
use crate::store::OrgStore;

/// Rows formatted per chunk of a streamed result page.
const ROWS_PER_CHUNK: usize = 512;
/// Threads formatting one result page.
const PRODUCERS: usize = 2;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/services/data/{version}/jobs/query",
            get(list).post(create),
        )
        .route(
            "/services/data/{version}/jobs/query/{id}",
            get(info).patch(abort).delete(remove),
        )
        .route(
            "/services/data/{version}/jobs/query/{id}/results",
            get(results),
        )
        .route(
            "/services/data/{version}/jobs/query/{id}/resultPages",
            get(result_pages),
        )
}

/// Result URLs per `resultPages` answer (facts §14: up to five).
const RESULT_URLS_PER_ANSWER: usize = 5;
/// The first API version with `resultPages`.
const RESULT_PAGES_SINCE: f64 = 58.0;

fn api_version_number(version: &str) -> Json {
    version.parse::<f64>().map(Json::from).unwrap_or(Json::Null)
}

/// Job info as create answers it (facts §8: up to `columnDelimiter`).
fn base_info(job: &QueryJob) -> serde_json::Map<String, Json> {
    let value = json!({
        "id": job.id,
        "operation": job.operation,
        "object": job.object_name,
        "createdById": job.created_by,
        "createdDate": format::rest_datetime(&job.created),
        "systemModstamp": format::rest_datetime(&job.modstamp),
        "state": job.state.as_str(),
        "concurrencyMode": "Parallel",
        "contentType": "CSV",
        "apiVersion": api_version_number(&job.api_version),
        "jobType": "V2Query",
        "lineEnding": job.line_ending.name(),
        "columnDelimiter": job.delimiter.name(),
    });
    match value {
        Json::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

/// Job info as get answers it: counters and, for a failed job, its message.
fn full_info(job: &QueryJob, processing_ms: i64) -> Json {
    let mut map = base_info(job);
    map.insert(
        "numberRecordsProcessed".into(),
        json!(job.result.as_ref().map(|r| r.len()).unwrap_or(0)),
    );
    map.insert("retries".into(), json!(0));
    map.insert(
        "totalProcessingTime".into(),
        json!(if job.state == JobState::JobComplete {
            processing_ms
        } else {
            0
        }),
    );
    map.insert("isPkChunkingSupported".into(), json!(true));
    if let Some(message) = &job.error_message {
        map.insert("errorMessage".into(), json!(message));
    }
    Json::Object(map)
}

/// Moves the job along the clock: InProgress once seen after creation, then its end state
/// when the processing time is over (the result is computed then).
/// The job `id` advanced to where the clock has brought it; 404 when there is none.
fn advanced_job<'a>(
    state: &AppState,
    jobs: &'a mut QueryJobs,
    id: &str,
) -> Result<&'a mut QueryJob, ApiError> {
    let job = jobs.jobs.get_mut(id).ok_or_else(ApiError::not_found)?;
    advance(state, job);
    Ok(job)
}

fn advance(state: &AppState, job: &mut QueryJob) {
    if job.state.is_terminal() {
        return;
    }
    let now = state.clock.now();
    let time =
        chrono::Duration::from_std(job.processing).unwrap_or_else(|_| chrono::Duration::zero());
    if now < job.created + time {
        if job.state == JobState::UploadComplete {
            job.state = JobState::InProgress;
            job.modstamp = now;
        }
        return;
    }
    job.modstamp = (job.created + time).max(job.modstamp);
    match job.fault.take() {
        Some(JobFault::Failed(message)) => {
            job.state = JobState::Failed;
            job.error_message = Some(message);
        }
        Some(JobFault::Aborted) => job.state = JobState::Aborted,
        None => {
            let org = state.org();
            let indexes = query_plan::run(
                &org,
                job.object,
                &job.query,
                job.operation == "queryAll",
                now,
            );
            job.result = Some(Arc::new(indexes));
            job.state = JobState::JobComplete;
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateRequest {
    operation: Option<String>,
    query: Option<String>,
    content_type: Option<String>,
    column_delimiter: Option<String>,
    line_ending: Option<String>,
}

// Texts of refusals Salesforce documents are exact (facts §8); the ones marked "unconfirmed"
// follow Salesforce's style where no documented text was found.
fn refuse(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::bad_request(code, message)
}

/// A JSON request body, or JSON_PARSER_ERROR.
fn json_body<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        refuse(
            "JSON_PARSER_ERROR",
            format!("Unexpected character in the request body: {e}"),
        )
    })
}

async fn create(
    State(state): State<AppState>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Extension(session): Extension<Session>,
    fault: Option<Extension<JobFault>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CreateRequest = json_body(&body)?;
    // unconfirmed: the INVALIDJOB texts below.
    let operation = match request.operation.as_deref() {
        Some("query") => "query",
        Some("queryAll") => "queryAll",
        Some(other) => {
            return Err(refuse(
                "INVALIDJOB",
                format!("Invalid operation: {other}. Expected query or queryAll"),
            ))
        }
        None => return Err(refuse("INVALIDJOB", "Required field is missing: operation")),
    };
    let text = request
        .query
        .ok_or_else(|| refuse("INVALIDJOB", "Required field is missing: query"))?;
    if let Some(ct) = request.content_type.as_deref() {
        if ct != "CSV" {
            return Err(refuse(
                "INVALIDJOB",
                format!("Invalid contentType: {ct}. Expected CSV"),
            ));
        }
    }
    let delimiter = match request.column_delimiter.as_deref() {
        None => ColumnDelimiter::Comma,
        Some(name) => ColumnDelimiter::parse(name).ok_or_else(|| {
            refuse("INVALIDJOB", format!("Invalid columnDelimiter: {name}. Expected BACKQUOTE, CARET, COMMA, PIPE, SEMICOLON or TAB"))
        })?,
    };
    let line_ending = match request.line_ending.as_deref() {
        None => LineEnding::Lf,
        Some(name) => LineEnding::parse(name).ok_or_else(|| {
            refuse(
                "INVALIDJOB",
                format!("Invalid lineEnding: {name}. Expected LF or CRLF"),
            )
        })?,
    };
    let parsed = soql::parse(&text)?;
    if parsed.has_subquery() {
        return Err(refuse(
            "API_ERROR",
            "Aggregate Relationships not supported in Bulk V2 Query with CSV content type",
        ));
    }
    if parsed.uses_fields_function() {
        return Err(refuse(
            "API_ERROR",
            "Selecting compound data not supported in Bulk Query",
        ));
    }
    let (object, resolved) = {
        let org = state.org();
        if let Some(sobject) = org.sobject(parsed.object_name()) {
            if !sobject.bulk_queryable {
                return Err(refuse(
                    "INVALIDENTITY",
                    format!(
                        "Entity '{}' is not supported by the Bulk API.",
                        sobject.name
                    ),
                ));
            }
        }
        let resolved = soql::resolve(parsed, &|name| org.sobject(name))?;
        let object = org
            .object_index(&resolved.sobject().name)
            .ok_or_else(ApiError::not_found)?;
        (object, resolved)
    };
    let sobject = resolved.sobject().clone();
    for &i in resolved.fields() {
        match sobject.fields[i].field_type {
            FieldType::Address | FieldType::Location => {
                return Err(refuse(
                    "API_ERROR",
                    "Selecting compound data not supported in Bulk Query",
                ));
            }
            // unconfirmed text; Salesforce refuses base64 fields in Bulk queries.
            FieldType::Base64 => {
                return Err(refuse(
                    "API_ERROR",
                    format!(
                        "Binary field {} is not supported in Bulk Query",
                        sobject.fields[i].name
                    ),
                ));
            }
            _ => {}
        }
    }
    if resolved.is_count() {
        // unconfirmed text: aggregates are refused by Bulk query.
        return Err(refuse(
            "API_ERROR",
            "Aggregate queries are not supported in Bulk Query",
        ));
    }
    if resolved.offset().is_some() {
        // unconfirmed text: OFFSET is refused by Bulk query.
        return Err(refuse("API_ERROR", "OFFSET is not supported in Bulk Query"));
    }
    {
        let mut usage = lock(&state.usage);
        if usage.bulk_query_jobs >= state.config.daily_bulk_query_jobs {
            // Text per facts §7; errorCode unconfirmed (Airbyte also handles LIMIT_EXCEEDED).
            return Err(refuse(
                "LIMIT_EXCEEDED",
                format!(
                    "Max bulk v2 query jobs ({}) per 24 hrs has been reached",
                    state.config.daily_bulk_query_jobs
                ),
            ));
        }
        usage.bulk_query_jobs += 1;
    }
    let now = state.clock.now();
    let processing = processing_time(&state, object, &resolved, operation, now);
    let job = QueryJob {
        id: state.next_id("750"),
        operation,
        object,
        object_name: sobject.name.clone(),
        query: resolved,
        created_by: session.user_id.clone(),
        created: now,
        modstamp: now,
        state: JobState::UploadComplete,
        delimiter,
        line_ending,
        api_version: v,
        fault: fault.map(|Extension(f)| f),
        processing,
        result: None,
        error_message: None,
    };
    let body = Json::Object(base_info(&job));
    lock(&state.query_jobs).jobs.insert(job.id.clone(), job);
    Ok(json_response(StatusCode::OK, &body))
}

/// The configured job time, plus the job's rows at `bulk_job_rows_per_second` when set (the
/// rows are counted when the job is created; the result itself is taken when it completes).
fn processing_time(
    state: &AppState,
    object: usize,
    query: &ResolvedQuery,
    operation: &str,
    now: DateTime<Utc>,
) -> Duration {
    let base = state.config.bulk_job_time;
    let rate = state.config.bulk_job_rows_per_second;
    if rate == 0 {
        return base;
    }
    let rows = query_plan::run(&state.org(), object, query, operation == "queryAll", now).len();
    base + Duration::from_secs_f64(rows as f64 / rate as f64)
}

async fn info(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let mut jobs = lock(&state.query_jobs);
    let job = advanced_job(&state, &mut jobs, &id)?;
    let processing_ms = job.processing.as_millis() as i64;
    Ok(json_response(
        StatusCode::OK,
        &full_info(job, processing_ms),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    job_type: Option<String>,
}

async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> Response {
    let mut jobs = lock(&state.query_jobs);
    let mut records = Vec::new();
    for job in jobs.jobs.values_mut() {
        advance(&state, job);
        if q.job_type.as_deref().is_none_or(|t| t == "V2Query") {
            records.push(Json::Object(base_info(job)));
        }
    }
    json_response(
        StatusCode::OK,
        &json!({"done": true, "records": records, "nextRecordsUrl": null}),
    )
}

#[derive(Deserialize)]
struct StateChange {
    state: Option<String>,
}

async fn abort(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let change: StateChange = json_body(&body)?;
    let mut jobs = lock(&state.query_jobs);
    let job = jobs.jobs.get_mut(&id).ok_or_else(ApiError::not_found)?;
    if change.state.as_deref() != Some("Aborted") {
        // unconfirmed text.
        return Err(refuse(
            "INVALIDJOBSTATE",
            format!(
                "Invalid state: {}. A query job can only be set to Aborted",
                change.state.unwrap_or_default()
            ),
        ));
    }
    advance(&state, job);
    if job.state.is_terminal() {
        // unconfirmed text.
        return Err(refuse(
            "INVALIDJOBSTATE",
            format!("Job is already in a terminal state: {}", job.state.as_str()),
        ));
    }
    job.state = JobState::Aborted;
    job.modstamp = state.clock.now();
    Ok(json_response(StatusCode::OK, &Json::Object(base_info(job))))
}

async fn remove(
    State(state): State<AppState>,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let mut jobs = lock(&state.query_jobs);
    if !advanced_job(&state, &mut jobs, &id)?.state.is_terminal() {
        return Err(refuse(
            "API_ERROR",
            "Error encountered when deleting the job because the job is not terminated",
        ));
    }
    jobs.jobs.remove(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResultsQuery {
    locator: Option<String>,
    max_records: Option<String>,
}

/// `MTAwMDA` ⇄ 10000: a locator is the base64 (unpadded) of the row offset it starts at.
fn encode_locator(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(offset.to_string())
}

fn decode_locator(locator: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(locator.trim_end_matches('='))
        .ok()?;
    std::str::from_utf8(&bytes).ok()?.parse().ok()
}

/// What a result download needs of a completed job.
struct CompletedJob {
    object: usize,
    fields: Vec<usize>,
    indexes: Arc<Vec<u64>>,
    delimiter: ColumnDelimiter,
    line_ending: LineEnding,
}

/// The job's result, refused through another API version than the job's (409) and before the
/// job completes.
fn completed_job(state: &AppState, v: &str, id: &str) -> Result<CompletedJob, ApiError> {
    let mut jobs = lock(&state.query_jobs);
    let job = jobs.jobs.get_mut(id).ok_or_else(ApiError::not_found)?;
    if job.api_version != v {
        // Status per facts §8; errorCode and text unconfirmed.
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "INVALIDJOB",
            format!(
                "The job was created with API version {} and must be read with it",
                job.api_version
            ),
        ));
    }
    advance(state, job);
    let Some(result) = job
        .result
        .clone()
        .filter(|_| job.state == JobState::JobComplete)
    else {
        // Code per older docs (facts §8); status unconfirmed.
        return Err(refuse(
            "JOB_NOT_COMPLETE",
            format!(
                "Job {id} is in state {}; results are available when it is JobComplete",
                job.state.as_str()
            ),
        ));
    };
    Ok(CompletedJob {
        object: job.object,
        fields: job.query.fields().to_vec(),
        indexes: result,
        delimiter: job.delimiter,
        line_ending: job.line_ending,
    })
}

async fn results(
    State(state): State<AppState>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<ResultsQuery>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let CompletedJob {
        object,
        fields,
        indexes,
        delimiter,
        line_ending,
    } = completed_job(&state, &v, &id)?;
    let start = match q.locator.as_deref() {
        None | Some("") => 0,
        Some(l) => decode_locator(l)
            .filter(|&o| o <= indexes.len())
            .ok_or_else(|| refuse("INVALID_LOCATOR", format!("Invalid locator: {l}")))?,
    };
    let max_records = match q.max_records.as_deref() {
        None => state.config.bulk_page_records,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => {
                return Err(refuse(
                    "INVALIDJOB",
                    format!("maxRecords: expected a positive integer, got '{text}'"),
                ))
            }
        },
    };
    let end = (start + max_records).min(indexes.len());
    let next = if end < indexes.len() {
        encode_locator(end)
    } else {
        "null".to_string()
    };
    let gzip = accepts_gzip(&request_headers);
    let page = stream_page(
        state.clone(),
        object,
        fields,
        indexes,
        start..end,
        delimiter,
        line_ending,
        gzip,
    );
    let body = match state.config.result_bytes_per_second {
        0 => page,
        rate => throttle(page, rate),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    if gzip {
        // Compressed here, in parallel; the compression layer leaves encoded bodies alone.
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=UTF-8"),
    );
    headers.insert(
        "Sforce-Locator",
        HeaderValue::from_str(&next).unwrap_or(HeaderValue::from_static("null")),
    );
    headers.insert("Sforce-NumberOfRecords", HeaderValue::from(end - start));
    Ok(response)
}

#[derive(Deserialize)]
struct ResultPagesQuery {
    locator: Option<String>,
}

/// `GET …/jobs/query/{id}/resultPages[?locator=]`: up to five result URLs from the page at
/// `locator` on (the first page without one), `nextRecordsUrl` for the next five, and `done`.
/// Each URL is `…/results?locator=…` for one page of the default size; the pages are
/// independent, so they can be fetched concurrently and in any order.
async fn result_pages(
    State(state): State<AppState>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<ResultPagesQuery>,
) -> Result<Response, ApiError> {
    if v.parse::<f64>().is_ok_and(|n| n < RESULT_PAGES_SINCE) {
        return Err(ApiError::not_found());
    }
    let total = completed_job(&state, &v, &id)?.indexes.len();
    let page = state.config.bulk_page_records.max(1);
    let start = match q.locator.as_deref() {
        None | Some("") => 0,
        Some(l) => decode_locator(l)
            .filter(|&o| o <= total)
            .ok_or_else(|| refuse("INVALID_LOCATOR", format!("Invalid locator: {l}")))?,
    };
    let base = format!("/services/data/v{v}/jobs/query/{id}");
    let mut urls = Vec::new();
    let mut offset = start;
    // An empty result still has one page: the CSV header.
    while urls.len() < RESULT_URLS_PER_ANSWER && (offset < total || (total == 0 && urls.is_empty()))
    {
        urls.push(
            json!({"resultUrl": format!("{base}/results?locator={}", encode_locator(offset))}),
        );
        offset += page;
    }
    let done = offset >= total;
    let next = if done {
        Json::Null
    } else {
        json!(format!(
            "{base}/resultPages?locator={}",
            encode_locator(offset)
        ))
    };
    Ok(json_response(
        StatusCode::OK,
        &json!({"resultPages": urls, "nextRecordsUrl": next, "done": done}),
    ))
}

/// Sends `body` no faster than `rate` bytes per second: each chunk leaves when the bytes before
/// and in it would have crossed a link of that rate (`result_bytes_per_second`).
fn throttle(body: Body, rate: u64) -> Body {
    let start = tokio::time::Instant::now();
    let stream = futures::stream::unfold(
        (body.into_data_stream(), 0u64),
        move |(mut inner, sent)| async move {
            use futures::StreamExt;
            let chunk = inner.next().await?;
            let sent = match &chunk {
                Ok(bytes) => {
                    let sent = sent + bytes.len() as u64;
                    let due = start + Duration::from_secs_f64(sent as f64 / rate as f64);
                    tokio::time::sleep_until(due).await;
                    sent
                }
                Err(_) => sent,
            };
            Some((chunk, (inner, sent)))
        },
    );
    Body::from_stream(stream)
}

/// True when the client takes gzip (`Accept-Encoding: gzip`, not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or_default();
            let refused =
                parts.any(|p| p.replace(' ', "") == "q=0" || p.replace(' ', "") == "q=0.0");
            coding.eq_ignore_ascii_case("gzip") && !refused
        })
}

/// A formatted chunk of rows, compressed when the page is gzipped.
struct Piece {
    bytes: Bytes,
    gzip: Option<parallel_gzip::Chunk>,
}

fn piece(text: String, gzip: bool) -> Piece {
    if gzip {
        let mut chunk = parallel_gzip::compress(text.as_bytes());
        let bytes = Bytes::from(std::mem::take(&mut chunk.deflated));
        Piece {
            bytes,
            gzip: Some(chunk),
        }
    } else {
        Piece {
            bytes: Bytes::from(text),
            gzip: None,
        }
    }
}

/// The CSV body of rows `range` of a result. `PRODUCERS` blocking threads format (and, for
/// gzip, compress) alternate chunks (chunk k by thread k mod PRODUCERS) into their own bounded
/// channels; the body reads the channels in turn, so rows keep their order while the work uses
/// more than one core.
#[allow(clippy::too_many_arguments)]
fn stream_page(
    state: AppState,
    object: usize,
    fields: Vec<usize>,
    indexes: Arc<Vec<u64>>,
    range: std::ops::Range<usize>,
    delimiter: ColumnDelimiter,
    line_ending: LineEnding,
    gzip: bool,
) -> Body {
    let sobject = state.org().object(object).sobject.clone();
    let mut header = String::new();
    CsvWriter::new(&sobject, &fields, delimiter, line_ending).header(&mut header);
    let chunk_count = range.len().div_ceil(ROWS_PER_CHUNK);
    let fields = Arc::new(fields);
    let mut receivers = Vec::with_capacity(PRODUCERS);
    for producer in 0..PRODUCERS {
        let (tx, rx) = tokio::sync::mpsc::channel::<Piece>(2);
        receivers.push(rx);
        let (state, sobject, fields, indexes, range) = (
            state.clone(),
            sobject.clone(),
            fields.clone(),
            indexes.clone(),
            range.clone(),
        );
        tokio::task::spawn_blocking(move || {
            let mut writer = CsvWriter::new(&sobject, &fields, delimiter, line_ending);
            for chunk in (producer..chunk_count).step_by(PRODUCERS) {
                let start = range.start + chunk * ROWS_PER_CHUNK;
                let end = (start + ROWS_PER_CHUNK).min(range.end);
                let mut out = String::with_capacity(256 * 1024);
                {
                    let org = state.org();
                    for &index in &indexes[start..end] {
                        if org.is_pristine(object, index) {
                            let row = org.generated_row(object, index);
                            writer.row(&mut out, &mut |f| row.value(f));
                        } else if let Some(record) = org.record(object, index) {
                            writer.row(&mut out, &mut |f| record.values[f].clone());
                        }
                    }
                }
                if tx.blocking_send(piece(out, gzip)).is_err() {
                    return;
                }
            }
        });
    }
    let mut trailer = gzip.then(parallel_gzip::Trailer::default);
    let mut first = Some(piece(header, gzip));
    if let (
        Some(t),
        Some(Piece {
            gzip: Some(chunk), ..
        }),
    ) = (trailer.as_mut(), first.as_ref())
    {
        t.add(chunk);
    }
    let mut opening = Some(if gzip {
        let mut head = parallel_gzip::HEADER.to_vec();
        head.extend_from_slice(&first.take().map(|p| p.bytes).unwrap_or_default());
        Bytes::from(head)
    } else {
        first.take().map(|p| p.bytes).unwrap_or_default()
    });
    let mut next = 0usize;
    // poll_fn keeps answering None after the end (compression layers poll once more).
    let stream = futures::stream::poll_fn(move |cx| {
        use std::task::Poll;
        if let Some(bytes) = opening.take() {
            return Poll::Ready(Some(Ok::<Bytes, std::io::Error>(bytes)));
        }
        if next >= chunk_count {
            return Poll::Ready(trailer.take().map(|t| Ok(Bytes::from(t.finish()))));
        }
        match receivers[next % PRODUCERS].poll_recv(cx) {
            Poll::Ready(Some(piece)) => {
                next += 1;
                if let (Some(t), Some(chunk)) = (trailer.as_mut(), piece.gzip.as_ref()) {
                    t.add(chunk);
                }
                Poll::Ready(Some(Ok(piece.bytes)))
            }
            Poll::Ready(None) => {
                next = chunk_count;
                trailer = None;
                Poll::Ready(Some(Err(std::io::Error::other(
                    "result page producer stopped",
                ))))
            }
            Poll::Pending => Poll::Pending,
        }
    });
    Body::from_stream(stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_are_base64_of_the_offset() {
        assert_eq!(encode_locator(10000), "MTAwMDA");
        assert_eq!(decode_locator("MTAwMDA"), Some(10000));
        assert_eq!(decode_locator("not a locator"), None);
    }
}
