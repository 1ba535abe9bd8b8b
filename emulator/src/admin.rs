//! The admin API under `/__emulator/` (never a Salesforce path), for tests, the demo and the
//! benchmarks. No session needed. Errors are `{"error": "…"}` naming what was wrong.
//!
//! | call | body / query | reply |
//! |---|---|---|
//! | `POST /__emulator/records/{object}` | `{"Field": value, …}` | `{"id"}` |
//! | `GET /__emulator/records/{object}` | `?include_deleted=true&offset=&limit=` (limit ≤ 10,000, default 1,000) | `{"totalSize","records":[…]}` |
//! | `GET /__emulator/records/{object}/{id}` | | record (with `IsDeleted`) |
//! | `PATCH /__emulator/records/{object}/{id}` | `{"Field": value}` | 204 |
//! | `DELETE /__emulator/records/{object}/{id}` | `?hard=true` for a hard delete | 204 |
//! | `POST /__emulator/records/{object}/{id}/undelete` | | 204 |
//! | `POST /__emulator/transaction` | `[{"op":"create"\|"update"\|"delete"\|"undelete", "object", "id"?, "fields"?, "hard"?}, …]`: applied in order as one transaction (one `transactionKey` in the change events); the first failing operation stops it (400 naming its index; those before it stay applied) | `{"ids":[…]}` |
//! | `GET /__emulator/pubsub/events` · `GET/PUT /__emulator/pubsub/cdc-objects` | see `pubsub/admin.rs` | |
//! | `GET /__emulator/clock` · `POST /__emulator/clock` | `{"now": "2025-01-01T00:00:00Z"}` or `{"advance_seconds": 60}` | `{"now"}` |
//! | `GET/POST/DELETE /__emulator/faults`, `DELETE /__emulator/faults/{id}` | a rule (see `faults.rs`) | `{"id"}` / list |
//! | `GET /__emulator/requests` · `DELETE /__emulator/requests` | | `[{"method","path","status","bytes","faults"?}]` in arrival order (admin calls left out; `status` 0 = no answer sent; `faults` = types of the fault rules that fired) |
//! | `POST /__emulator/reset` | | 204 |
//!
//! Values are given and returned in REST JSON form (datetimes `…T10:00:00.000+0000`).

use std::sync::atomic::Ordering;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Map, Value as JsonValue};

use crate::faults::FaultRule;
use crate::format;
use crate::ids;
use crate::rest::record_json;
use crate::state::{lock, AppState, LoggedRequest};
use crate::store::{OrgStore, StoreError};

const ADMIN_VERSION: &str = "62.0";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/__emulator/records/{object}", post(create).get(list))
        .route(
            "/__emulator/records/{object}/{id}",
            get(read).patch(update).delete(remove),
        )
        .route("/__emulator/records/{object}/{id}/undelete", post(undelete))
        .route("/__emulator/transaction", post(transaction))
        .route("/__emulator/clock", get(clock).post(set_clock))
        .route(
            "/__emulator/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route("/__emulator/faults/{id}", delete(remove_fault))
        .route("/__emulator/requests", get(requests).delete(clear_requests))
        .route("/__emulator/reset", post(reset))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

/// 204 when a change to record `id` of `object` took effect, else the store's error.
fn no_content(object: &str, id: &str, result: Result<(), StoreError>) -> Response {
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => store_error(object, id, e),
    }
}

fn store_error(object: &str, id: &str, e: StoreError) -> Response {
    match e {
        StoreError::NotFound => error(
            StatusCode::NOT_FOUND,
            format!("{object} {id}: no such record"),
        ),
        StoreError::EntityIsDeleted => error(
            StatusCode::BAD_REQUEST,
            format!("{object} {id}: entity is deleted"),
        ),
        StoreError::UnknownObject(o) => error(StatusCode::NOT_FOUND, format!("unknown object {o}")),
    }
}

/// `{"Field": json}` → (field index, value), naming the field that does not fit.
pub(crate) fn values_from(
    state: &AppState,
    object: &str,
    body: &Map<String, JsonValue>,
) -> Result<Vec<(usize, crate::schema::Value)>, (StatusCode, String)> {
    let sobject = state
        .org()
        .sobject(object)
        .ok_or_else(|| (StatusCode::NOT_FOUND, format!("unknown object {object}")))?;
    let mut values = Vec::new();
    for (name, json) in body {
        let (index, field) = sobject.field(name).ok_or_else(|| {
            (
                StatusCode::BAD_REQUEST,
                format!("{object}: no field named {name}"),
            )
        })?;
        let value = format::value_from_json(field, json)
            .map_err(|e| (StatusCode::BAD_REQUEST, format!("{object}.{e}")))?;
        values.push((index, value));
    }
    Ok(values)
}

async fn create(
    State(state): State<AppState>,
    Path(object): Path<String>,
    Json(body): Json<Map<String, JsonValue>>,
) -> Response {
    let values = match values_from(&state, &object, &body) {
        Ok(v) => v,
        Err((status, message)) => return error(status, message),
    };
    match state.org_mut().insert(&object, values) {
        Ok(id) => (StatusCode::CREATED, Json(json!({"id": id}))).into_response(),
        Err(e) => store_error(&object, "", e),
    }
}

async fn update(
    State(state): State<AppState>,
    Path((object, id)): Path<(String, String)>,
    Json(body): Json<Map<String, JsonValue>>,
) -> Response {
    let values = match values_from(&state, &object, &body) {
        Ok(v) => v,
        Err((status, message)) => return error(status, message),
    };
    no_content(&object, &id, state.org_mut().update(&object, &id, values))
}

/// One operation of `POST /__emulator/transaction`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Operation {
    op: String,
    object: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    fields: Map<String, JsonValue>,
    #[serde(default)]
    hard: bool,
}

async fn transaction(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let operations: Vec<Operation> = match serde_json::from_slice(&body) {
        Ok(ops) => ops,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("expected an array of {{\"op\", \"object\", \"id\", \"fields\"}}: {e}"),
            )
        }
    };
    let mut prepared = Vec::with_capacity(operations.len());
    for (i, op) in operations.iter().enumerate() {
        match values_from(&state, &op.object, &op.fields) {
            Ok(values) => prepared.push(values),
            Err((status, message)) => return error(status, format!("operation {i}: {message}")),
        }
    }
    let mut org = state.org_mut();
    org.begin_transaction();
    let mut ids = Vec::new();
    let mut failure = None;
    for (i, (op, values)) in operations.iter().zip(prepared).enumerate() {
        let id = op.id.clone().unwrap_or_default();
        let result = match op.op.as_str() {
            "create" => org.insert(&op.object, values).map(|new| ids.push(new)),
            "update" => org
                .update(&op.object, &id, values)
                .map(|_| ids.push(id.clone())),
            "delete" => org
                .delete(&op.object, &id, op.hard)
                .map(|_| ids.push(id.clone())),
            "undelete" => org.undelete(&op.object, &id).map(|_| ids.push(id.clone())),
            other => {
                failure = Some(error(
                    StatusCode::BAD_REQUEST,
                    format!("operation {i}: op: expected create, update, delete or undelete, got {other:?}"),
                ));
                break;
            }
        };
        if let Err(e) = result {
            let response = store_error(&op.object, &id, e);
            failure = Some(error(
                response.status(),
                format!("operation {i}: {} {id} failed", op.object),
            ));
            break;
        }
    }
    org.commit_transaction();
    drop(org);
    failure.unwrap_or_else(|| Json(json!({"ids": ids})).into_response())
}

#[derive(Deserialize)]
struct DeleteOptions {
    #[serde(default)]
    hard: bool,
}

async fn remove(
    State(state): State<AppState>,
    Path((object, id)): Path<(String, String)>,
    Query(options): Query<DeleteOptions>,
) -> Response {
    no_content(
        &object,
        &id,
        state.org_mut().delete(&object, &id, options.hard),
    )
}

async fn undelete(
    State(state): State<AppState>,
    Path((object, id)): Path<(String, String)>,
) -> Response {
    no_content(&object, &id, state.org_mut().undelete(&object, &id))
}

async fn read(
    State(state): State<AppState>,
    Path((object, id)): Path<(String, String)>,
) -> Response {
    let org = state.org();
    let Some(o) = org.object_index(&object) else {
        return error(StatusCode::NOT_FOUND, format!("unknown object {object}"));
    };
    let Some(index) = ids::decode(org.object(o).prefix(), &id) else {
        return error(
            StatusCode::NOT_FOUND,
            format!("{object} {id}: no such record"),
        );
    };
    match org.record(o, index) {
        Some(r) => Json(record_json(&org, o, &r.values, None, ADMIN_VERSION)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            format!("{object} {id}: no such record"),
        ),
    }
}

#[derive(Deserialize)]
struct ListOptions {
    #[serde(default)]
    include_deleted: bool,
    #[serde(default)]
    offset: u64,
    limit: Option<u64>,
    /// Comma-separated field names: only these fields of each record (all when absent).
    fields: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Path(object): Path<String>,
    Query(options): Query<ListOptions>,
) -> Response {
    let limit = options.limit.unwrap_or(1000);
    if limit > 10_000 {
        return error(
            StatusCode::BAD_REQUEST,
            format!("limit: at most 10000, got {limit}"),
        );
    }
    let org = state.org();
    let Some(o) = org.object_index(&object) else {
        return error(StatusCode::NOT_FOUND, format!("unknown object {object}"));
    };
    let fields = match &options.fields {
        None => None,
        Some(names) => {
            let sobject = &org.object(o).sobject;
            let mut picked = Vec::new();
            for name in names.split(',').map(str::trim) {
                match sobject.field(name) {
                    Some((i, _)) => picked.push(i),
                    None => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            format!("fields: {object} has no field {name:?}"),
                        )
                    }
                }
            }
            Some(picked)
        }
    };
    let generated = org.object(o).generated;
    let indexes = org.candidate_indexes(
        o,
        options.include_deleted,
        0..generated,
        |_| true,
        |_, _, _| true,
    );
    let records: Vec<JsonValue> = indexes
        .iter()
        .skip(options.offset as usize)
        .take(limit as usize)
        .filter_map(|&i| {
            org.record(o, i)
                .map(|r| record_json(&org, o, &r.values, fields.as_deref(), ADMIN_VERSION))
        })
        .collect();
    Json(json!({"totalSize": indexes.len(), "records": records})).into_response()
}

async fn clock(State(state): State<AppState>) -> Response {
    Json(json!({"now": format::rest_datetime(&state.clock.now())})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    now: Option<String>,
    advance_seconds: Option<i64>,
}

async fn set_clock(State(state): State<AppState>, Json(change): Json<ClockChange>) -> Response {
    match (change.now, change.advance_seconds) {
        (Some(text), None) => match format::parse_datetime(&text) {
            Some(at) => state.clock.set(at),
            None => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("now: expected an ISO-8601 datetime with offset, got {text:?}"),
                )
            }
        },
        (None, Some(seconds)) => state.clock.advance(chrono::Duration::seconds(seconds)),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "expected exactly one of \"now\" or \"advance_seconds\"",
            )
        }
    }
    clock(State(state)).await
}

async fn faults(State(state): State<AppState>) -> Response {
    Json(json!(lock(&state.faults).list())).into_response()
}

async fn add_fault(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<FaultRule>(&body) {
        Ok(rule) => {
            let id = lock(&state.faults).add(rule);
            (StatusCode::CREATED, Json(json!({"id": id}))).into_response()
        }
        Err(e) => error(StatusCode::BAD_REQUEST, format!("fault rule: {e}")),
    }
}

async fn clear_faults(State(state): State<AppState>) -> Response {
    lock(&state.faults).clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn remove_fault(State(state): State<AppState>, Path(id): Path<u64>) -> Response {
    if lock(&state.faults).remove(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, format!("no fault with id {id}"))
    }
}

async fn requests(State(state): State<AppState>) -> Response {
    let log = lock(&state.log);
    let entries: Vec<LoggedRequest> = log
        .iter()
        .filter(|e| !e.path.starts_with("/__emulator/"))
        .map(|e| LoggedRequest {
            method: e.method.clone(),
            path: e.path.clone(),
            status: e.status.load(Ordering::Relaxed),
            bytes: e.bytes.load(Ordering::Relaxed),
            faults: lock(&e.faults.0).clone(),
            finished: e.finished.load(Ordering::Relaxed),
            grpc_status: e.grpc_status.as_ref().map(|s| {
                let code = s.load(Ordering::Relaxed);
                (code != crate::state::GRPC_OPEN).then_some(code)
            }),
        })
        .collect();
    Json(json!(entries)).into_response()
}

async fn clear_requests(State(state): State<AppState>) -> Response {
    lock(&state.log).clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn reset(State(state): State<AppState>) -> Response {
    state.reset();
    StatusCode::NO_CONTENT.into_response()
}
