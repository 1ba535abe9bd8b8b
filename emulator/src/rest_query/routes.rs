//! `GET …/query/?q=` and `…/queryAll/?q=` with `nextRecordsUrl` paging (facts §5).
//!
//! A query is answered once, when it arrives: the matching record indexes are kept in a
//! cursor (`01g…`), and each page reads the current values of its slice. The locator in
//! `nextRecordsUrl` is `<cursor id>-<rows returned so far>`, always under `/query/` (queryAll's
//! too); both `/query/{locator}` and `/queryAll/{locator}` resolve it. Cursors idle for 15
//! minutes of the org's clock expire, and a user keeps at most 10 (the oldest is dropped), as
//! Salesforce documents; an expired or unknown locator gets INVALID_QUERY_LOCATOR.

use std::sync::Arc;

use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::Duration;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::cursor::Cursor;
use crate::auth::ApiVersion;
use crate::error::{json_response, ApiError};
use crate::query_plan;
use crate::rest::record_json;
use crate::soql;
use crate::state::{lock, AppState};
use crate::store::OrgStore;

/// Open cursors at most per user.
const MAX_CURSORS: usize = 10;
const CURSOR_IDLE_MINUTES: i64 = 15;
/// `Sforce-Query-Options: batchSize=` bounds.
const MIN_BATCH: usize = 200;
const MAX_BATCH: usize = 2000;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/services/data/{version}/query", get(query::<false>))
        .route("/services/data/{version}/queryAll", get(query::<true>))
        .route("/services/data/{version}/query/{locator}", get(more))
        .route("/services/data/{version}/queryAll/{locator}", get(more))
}

#[derive(Deserialize)]
struct Q {
    q: Option<String>,
}

/// `batchSize=N` of `Sforce-Query-Options`, clamped to what Salesforce honours.
fn batch_size(state: &AppState, headers: &HeaderMap) -> usize {
    let asked = headers
        .get("Sforce-Query-Options")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split([',', ';']).find_map(|part| {
                let (k, v) = part.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("batchSize")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
        });
    match asked {
        Some(n) => n.clamp(MIN_BATCH, MAX_BATCH),
        None => state.config.query_batch_size,
    }
}

/// `query` (`ALL` false) and `queryAll` (`ALL` true: deleted records too).
async fn query<const ALL: bool>(
    state: State<AppState>,
    version: Extension<ApiVersion>,
    headers: HeaderMap,
    Query(q): Query<Q>,
) -> Result<Response, ApiError> {
    answer(state, version, headers, q, ALL)
}

fn answer(
    State(state): State<AppState>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    headers: HeaderMap,
    q: Q,
    include_deleted: bool,
) -> Result<Response, ApiError> {
    let text = q.q.filter(|t| !t.trim().is_empty()).ok_or_else(|| {
        ApiError::bad_request("MALFORMED_QUERY", "A query string has to be specified")
    })?;
    let org = state.org();
    let resolved = soql::resolve(soql::parse(&text)?, &|name| org.sobject(name))?;
    let object = org.object_index(&resolved.sobject().name).ok_or_else(|| {
        ApiError::bad_request(
            "INVALID_TYPE",
            format!(
                "sObject type '{}' is not supported.",
                resolved.sobject().name
            ),
        )
    })?;
    let now = state.clock.now();
    let indexes = query_plan::run(&org, object, &resolved, include_deleted, now);
    if resolved.is_count() {
        return Ok(json_response(
            StatusCode::OK,
            &json!({"totalSize": indexes.len(), "done": true, "records": []}),
        ));
    }
    drop(org);
    let cursor = Cursor {
        object,
        fields: resolved.fields().to_vec(),
        indexes: Arc::new(indexes),
        batch_size: batch_size(&state, &headers),
        last_used: now,
        opened: 0,
    };
    let id = state.next_id("01g");
    page(&state, &v, id, cursor, 0)
}

/// Serves rows `[position, position + batch)` of the cursor and keeps it open if more remain.
fn page(
    state: &AppState,
    version: &str,
    id: String,
    mut cursor: Cursor,
    position: usize,
) -> Result<Response, ApiError> {
    let total = cursor.indexes.len();
    let end = (position + cursor.batch_size).min(total);
    let records: Vec<Json> = {
        let org = state.org();
        cursor.indexes[position.min(end)..end]
            .iter()
            .filter_map(|&i| {
                org.record(cursor.object, i).map(|r| {
                    record_json(
                        &org,
                        cursor.object,
                        &r.values,
                        Some(&cursor.fields),
                        version,
                    )
                })
            })
            .collect()
    };
    let done = end >= total;
    let mut body = json!({"totalSize": total, "done": done});
    if !done {
        body["nextRecordsUrl"] =
            Json::String(format!("/services/data/v{version}/query/{id}-{end}"));
    }
    body["records"] = Json::Array(records);
    let mut cursors = lock(&state.cursors);
    cursor.last_used = state.clock.now();
    if cursor.opened == 0 {
        cursors.opened += 1;
        cursor.opened = cursors.opened;
    }
    cursors.open.insert(id, cursor);
    while cursors.open.len() > MAX_CURSORS {
        let oldest = cursors
            .open
            .iter()
            .min_by_key(|(_, c)| c.opened)
            .map(|(k, _)| k.clone());
        match oldest {
            Some(k) => {
                cursors.open.remove(&k);
            }
            None => break,
        }
    }
    Ok(json_response(StatusCode::OK, &body))
}

async fn more(
    State(state): State<AppState>,
    Extension(ApiVersion(v)): Extension<ApiVersion>,
    Path((_, locator)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let invalid = || ApiError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator");
    let (id, position) = locator.rsplit_once('-').ok_or_else(invalid)?;
    let position: usize = position.parse().map_err(|_| invalid())?;
    let now = state.clock.now();
    let cursor = {
        let mut cursors = lock(&state.cursors);
        let expired = cursors
            .open
            .get(id)
            .is_some_and(|c| now - c.last_used > Duration::minutes(CURSOR_IDLE_MINUTES));
        if expired {
            cursors.open.remove(id);
        }
        let c = cursors.open.get(id).ok_or_else(invalid)?;
        if position > c.indexes.len() {
            return Err(invalid());
        }
        Cursor {
            object: c.object,
            fields: c.fields.clone(),
            indexes: c.indexes.clone(),
            batch_size: c.batch_size,
            last_used: now,
            opened: c.opened,
        }
    };
    page(&state, &v, id.to_string(), cursor, position)
}
