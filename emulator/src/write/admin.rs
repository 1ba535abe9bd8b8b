//! Admin endpoints of the write side, beside the emulator's admin API (no session needed):
//!
//! | call | body | reply |
//! |---|---|---|
//! | `GET /__emulator/write-rules` · `PUT /__emulator/write-rules` | `{"validation_rules":[…],"lock_row_faults":[…],"bulk_api_hard_delete":true}` | the rules in force |
//! | `GET /__emulator/ingest-faults` · `PUT /__emulator/ingest-faults` | `[{"object","interruption":{"after_rows","kind":{"type":"fail","message"}\|{"type":"abort"}}}]` | the faults in force |
//!
//! A validation rule: `{"object","field","condition":{"op":"equals"|"less_than"|"greater_than"|"is_blank","value"},"message","error_field"}`;
//! a lock fault: `{"object","every_nth"}`. PUT replaces what was there (and restarts the row
//! counts of lock faults).

use axum::body::Bytes;
use axum::extract::{FromRef, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::rules::{LockRowFault, ValidationRule, WriteRules};
use super::state::WriteState;
use crate::bulk_ingest::JobFault;

#[derive(Debug, Serialize, Deserialize)]
struct RulesBody {
    #[serde(default)]
    validation_rules: Vec<ValidationRule>,
    #[serde(default)]
    lock_row_faults: Vec<LockRowFault>,
    /// The session user's "Bulk API Hard Delete" permission (absent: granted).
    #[serde(default = "granted")]
    bulk_api_hard_delete: bool,
}

fn granted() -> bool {
    true
}

fn json_reply(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn bad_request(message: String) -> Response {
    json_reply(
        StatusCode::BAD_REQUEST,
        json!({ "error": message }).to_string(),
    )
}

/// The rules in force, as `GET` and `PUT` answer them.
fn rules_reply(rules: &WriteRules) -> Response {
    let body = RulesBody {
        validation_rules: rules.validation_rules.clone(),
        lock_row_faults: rules.lock_faults.clone(),
        bulk_api_hard_delete: !rules.hard_delete_denied,
    };
    json_reply(
        StatusCode::OK,
        serde_json::to_string(&body).unwrap_or_default(),
    )
}

async fn get_rules(State(state): State<WriteState>) -> Response {
    let side = state.side.lock().unwrap_or_else(|p| p.into_inner());
    rules_reply(&side.rules)
}

async fn put_rules(State(state): State<WriteState>, body: Bytes) -> Response {
    let parsed: RulesBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad_request(format!("write-rules body: {e}")),
    };
    let mut side = state.side.lock().unwrap_or_else(|p| p.into_inner());
    side.rules = WriteRules::new(parsed.validation_rules, parsed.lock_row_faults)
        .with_bulk_api_hard_delete(parsed.bulk_api_hard_delete);
    rules_reply(&side.rules)
}

async fn get_faults(State(state): State<WriteState>) -> Response {
    let side = state.side.lock().unwrap_or_else(|p| p.into_inner());
    json_reply(
        StatusCode::OK,
        serde_json::to_string(side.jobs.faults()).unwrap_or_default(),
    )
}

async fn put_faults(State(state): State<WriteState>, body: Bytes) -> Response {
    let faults: Vec<JobFault> = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => {
            return bad_request(format!(
                "ingest-faults body: expected an array of faults: {e}"
            ))
        }
    };
    let mut side = state.side.lock().unwrap_or_else(|p| p.into_inner());
    side.jobs.set_faults(faults);
    json_reply(
        StatusCode::OK,
        serde_json::to_string(side.jobs.faults()).unwrap_or_default(),
    )
}

pub(crate) fn router<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    WriteState: FromRef<S>,
{
    Router::new()
        .route("/__emulator/write-rules", get(get_rules).put(put_rules))
        .route("/__emulator/ingest-faults", get(get_faults).put(put_faults))
}
