//! REST read resources under `/services/data/`: versions, the resource map, describeGlobal,
//! describe, basic info, record and blob retrieval, getDeleted / getUpdated and limits.

use axum::body::Body;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value as Json};

use crate::auth::ApiVersion;
use crate::describe;
use crate::error::{json_response, ApiError};
use crate::format;
use crate::ids;
use crate::org::{Org, RECYCLE_BIN_DAYS};
use crate::schema::{FieldType, Value};
use crate::state::{lock, AppState};
use crate::versions;

/// Routes that need no session (`/services/data`).
pub(crate) fn public_router() -> Router<AppState> {
    Router::new().route(
        "/services/data",
        get(|| async { json_response(StatusCode::OK, &versions::list()) }),
    )
}

/// Routes behind the session gate.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/services/data/{version}", get(resources))
        .route("/services/data/{version}/sobjects", get(describe_global))
        .route(
            "/services/data/{version}/sobjects/{object}",
            get(object_info::<false>),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/describe",
            get(object_info::<true>),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/deleted",
            get(replication::<true>),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/updated",
            get(replication::<false>),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/{id}",
            get(retrieve),
        )
        .route(
            "/services/data/{version}/sobjects/{object}/{id}/{field}",
            get(blob),
        )
        .route("/services/data/{version}/limits", get(limits))
}

async fn resources(Extension(ApiVersion(v)): Extension<ApiVersion>) -> Response {
    let base = format!("/services/data/v{v}");
    let mut map = Map::new();
    for name in [
        "tooling",
        "metadata",
        "eclair",
        "folders",
        "prechatForms",
        "jsonxform",
        "chatter",
        "tabs",
        "appMenu",
        "quickActions",
        "queryAll",
        "commerce",
        "wave",
        "iot",
        "analytics",
        "search",
        "identity",
        "composite",
        "parameterizedSearch",
        "theme",
        "nouns",
        "event",
        "serviceTemplates",
        "recent",
        "connect",
        "licensing",
        "limits",
        "process",
        "async-queries",
        "query",
        "match",
        "emailConnect",
        "compactLayouts",
        "knowledgeManagement",
        "sobjects",
        "actions",
        "support",
    ] {
        let path = if name == "identity" {
            "/id/".to_string()
        } else {
            format!("{base}/{name}")
        };
        map.insert(name.to_string(), Json::String(path));
    }
    json_response(StatusCode::OK, &Json::Object(map))
}

async fn describe_global(
    State(state): State<AppState>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
) -> Response {
    let org = state.org();
    let all: Vec<_> = org.objects().iter().map(|o| o.sobject.as_ref()).collect();
    json_response(StatusCode::OK, &describe::global(&all, &v))
}

fn object_or_404(org: &Org, name: &str) -> Result<usize, ApiError> {
    org.object_index(name).ok_or_else(ApiError::not_found)
}

/// `sobjects/{object}` (basic info) and `sobjects/{object}/describe` (`FULL`).
async fn object_info<const FULL: bool>(
    State(state): State<AppState>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path((_, object)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let org = state.org();
    let o = object_or_404(&org, &object)?;
    let sobject = &org.object(o).sobject;
    let body = if FULL {
        let all: Vec<_> = org.objects().iter().map(|o| o.sobject.as_ref()).collect();
        describe::describe(sobject, &all, &v)
    } else {
        describe::basic(sobject, &v)
    };
    Ok(json_response(StatusCode::OK, &body))
}

/// The REST JSON of a record: `attributes` then the fields given (all when `None`).
pub(crate) fn record_json(
    org: &Org,
    object: usize,
    values: &[Value],
    fields: Option<&[usize]>,
    version: &str,
) -> Json {
    let obj = org.object(object);
    let sobject = &obj.sobject;
    let id = sobject.field("Id").and_then(|(i, _)| match &values[i] {
        Value::Text(s) => Some(s.clone()),
        _ => None,
    });
    let url = format!(
        "/services/data/v{version}/sobjects/{}/{}",
        sobject.name,
        id.clone().unwrap_or_default()
    );
    let mut map = Map::new();
    map.insert(
        "attributes".into(),
        json!({"type": sobject.name, "url": url}),
    );
    let get = |i: usize| values.get(i).cloned().unwrap_or(Value::Null);
    let all: Vec<usize>;
    let fields = match fields {
        Some(f) => f,
        None => {
            all = (0..sobject.fields.len()).collect();
            &all
        }
    };
    for &i in fields {
        let f = &sobject.fields[i];
        let blob = (f.field_type == FieldType::Base64).then(|| format!("{url}/{}", f.name));
        map.insert(f.name.clone(), format::rest_value(sobject, i, &get, blob));
    }
    Json::Object(map)
}

async fn retrieve(
    State(state): State<AppState>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path((_, object, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let org = state.org();
    let o = object_or_404(&org, &object)?;
    let obj = org.object(o);
    let index = ids::decode(obj.prefix(), &id).ok_or_else(ApiError::not_found)?;
    let record = org
        .record(o, index)
        .filter(|r| !r.is_deleted)
        .ok_or_else(ApiError::not_found)?;
    Ok(json_response(
        StatusCode::OK,
        &record_json(&org, o, &record.values, None, &v),
    ))
}

async fn blob(
    State(state): State<AppState>,
    Path((_, object, id, field)): Path<(String, String, String, String)>,
) -> Result<Response, ApiError> {
    let org = state.org();
    let o = object_or_404(&org, &object)?;
    let obj = org.object(o);
    let (fi, f) = obj.sobject.field(&field).ok_or_else(ApiError::not_found)?;
    if f.field_type != FieldType::Base64 {
        return Err(ApiError::not_found());
    }
    let index = ids::decode(obj.prefix(), &id).ok_or_else(ApiError::not_found)?;
    let record = org
        .record(o, index)
        .filter(|r| !r.is_deleted)
        .ok_or_else(ApiError::not_found)?;
    match &record.values[fi] {
        Value::Base64(bytes) => {
            let mut response = Body::from(bytes.clone()).into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octetstream"),
            );
            Ok(response)
        }
        _ => Err(ApiError::not_found()),
    }
}

#[derive(Deserialize)]
struct Window {
    start: Option<String>,
    end: Option<String>,
}

/// `start`/`end` of getDeleted / getUpdated, truncated to the minute as Salesforce does.
fn window(w: &Window) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let parse = |name: &str, v: &Option<String>| -> Result<DateTime<Utc>, ApiError> {
        let text = v.as_deref().ok_or_else(|| {
            ApiError::bad_request("MISSING_ARGUMENT", format!("{name} is required"))
        })?;
        let d = format::parse_datetime(text).ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_DATETIME",
                format!("{name}: expected an ISO-8601 datetime with offset, got '{text}'"),
            )
        })?;
        Ok(d.duration_trunc(Duration::minutes(1)).unwrap_or(d))
    };
    let start = parse("start", &w.start)?;
    let end = parse("end", &w.end)?;
    if start >= end {
        return Err(ApiError::bad_request(
            "INVALID_REPLICATION_DATE",
            "startDate must chronologically precede endDate by more than one minute",
        ));
    }
    Ok((start, end))
}

/// getDeleted (`DELETED` true) and getUpdated: both check the window, then the object, on the
/// org's clock.
async fn replication<const DELETED: bool>(
    State(state): State<AppState>,
    Path((_, object)): Path<(String, String)>,
    Query(w): Query<Window>,
) -> Result<Response, ApiError> {
    let (start, end) = window(&w)?;
    let org = state.org();
    let o = object_or_404(&org, &object)?;
    let now = state.clock.now();
    if DELETED {
        get_deleted(&org, o, start, end, now)
    } else {
        get_updated(&org, o, start, end, now)
    }
}

fn get_deleted(
    org: &Org,
    o: usize,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Response, ApiError> {
    let earliest = (now - Duration::days(RECYCLE_BIN_DAYS))
        .duration_trunc(Duration::minutes(1))
        .unwrap_or(now);
    if start < earliest {
        return Err(ApiError::bad_request(
            "INVALID_REPLICATION_DATE",
            format!(
                "startDate cannot be before {}",
                format::rest_datetime(&earliest)
            ),
        ));
    }
    let latest = end.min(now.duration_trunc(Duration::minutes(1)).unwrap_or(now));
    let deleted: Vec<Json> = org
        .deletions(o, start, latest)
        .into_iter()
        .map(|d| json!({"deletedDate": format::rest_datetime(&d.at), "id": d.id}))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"deletedRecords": deleted, "earliestDateAvailable": format::rest_datetime(&earliest), "latestDateCovered": format::rest_datetime(&latest)}),
    ))
}

fn get_updated(
    org: &Org,
    o: usize,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Response, ApiError> {
    if start < now - Duration::days(30) {
        return Err(ApiError::bad_request(
            "INVALID_REPLICATION_DATE",
            "startDate cannot be more than 30 days ago",
        ));
    }
    let latest = end.min(now.duration_trunc(Duration::minutes(1)).unwrap_or(now));
    let obj = org.object(o);
    let Some((fi, _)) = obj
        .sobject
        .field("SystemModstamp")
        .or_else(|| obj.sobject.field("LastModifiedDate"))
    else {
        return Err(ApiError::bad_request(
            "INVALID_TYPE",
            format!("{} does not support replication", obj.sobject.name),
        ));
    };
    let in_window = |v: &Value| matches!(v, Value::DateTime(d) if *d >= start && *d <= latest);
    let range = org.generated_range(
        o,
        fi,
        &std::ops::Bound::Included(Value::DateTime(start)),
        &std::ops::Bound::Included(Value::DateTime(latest)),
    );
    let indexes = org.candidate_indexes(
        o,
        false,
        range,
        |i| in_window(&org.generated_value(o, i, fi)),
        |_, values, _| in_window(&values[fi]),
    );
    let ids: Vec<String> = indexes
        .into_iter()
        .map(|i| ids::encode(obj.prefix(), i))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"ids": ids, "latestDateCovered": format::rest_datetime(&latest)}),
    ))
}

async fn limits(State(state): State<AppState>) -> Response {
    let usage = lock(&state.usage);
    let max = state.config.daily_api_requests;
    let remaining = if usage.exhausted {
        0
    } else {
        max.saturating_sub(usage.api_requests)
    };
    let jobs_max = state.config.daily_bulk_query_jobs;
    let batches_max = state.config.write.daily_bulk_batches;
    let (_, batches_used) = lock(&state.write_side).jobs.daily_usage(state.clock.now());
    let body = json!({
        "ConcurrentAsyncGetReportInstances": {"Max": 200, "Remaining": 200},
        "ConcurrentSyncReportRuns": {"Max": 20, "Remaining": 20},
        "DailyApiRequests": {"Max": max, "Remaining": remaining},
        "DailyAsyncApexExecutions": {"Max": 250000, "Remaining": 250000},
        "DailyBulkApiBatches": {"Max": batches_max, "Remaining": batches_max.saturating_sub(batches_used)},
        "DailyBulkV2QueryFileStorageMB": {"Max": 976562, "Remaining": 976562},
        "DailyBulkV2QueryJobs": {"Max": jobs_max, "Remaining": jobs_max.saturating_sub(usage.bulk_query_jobs)},
        "DataStorageMB": {"Max": 5120, "Remaining": 5100},
        "FileStorageMB": {"Max": 20480, "Remaining": 20400},
        "HourlyODataCallout": {"Max": 10000, "Remaining": 10000},
        "SingleEmail": {"Max": 5000, "Remaining": 5000},
    });
    json_response(StatusCode::OK, &body)
}
