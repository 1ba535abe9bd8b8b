//! The admin API's Pub/Sub part (no session needed):
//!
//! | call | body / query | reply |
//! |---|---|---|
//! | `GET /__emulator/pubsub/events` | `?topic=/data/AccountChangeEvent` (default: all) | `[{"replay_id" (base64), "topic", "event_id", "schema_id", "entityName", "recordIds", "changeType", "transactionKey", "sequenceNumber", "commitTimestamp", "commitNumber", "commitUser", "changedFields", "nulledFields", "diffFields", "payload_bytes"}]`, oldest first, retained events only |
//! | `GET /__emulator/pubsub/cdc-objects` | | `{"objects": […]}` (the objects whose changes publish) |
//! | `PUT /__emulator/pubsub/cdc-objects` | `{"objects": ["Account", …]}` (`null`: every object that has change events) | `{"objects": […]}` |

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/__emulator/pubsub/events", get(events))
        .route(
            "/__emulator/pubsub/cdc-objects",
            get(cdc_objects).put(set_cdc_objects),
        )
}

#[derive(Deserialize)]
struct EventsQuery {
    topic: Option<String>,
}

async fn events(State(state): State<AppState>, Query(query): Query<EventsQuery>) -> Response {
    Json(json!(state.pubsub.list(query.topic.as_deref()))).into_response()
}

async fn cdc_objects(State(state): State<AppState>) -> Response {
    Json(json!({"objects": state.pubsub.enabled()})).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CdcObjects {
    objects: Option<Vec<String>>,
}

async fn set_cdc_objects(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let request: CdcObjects = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": format!("expected {{\"objects\": [names] or null}}: {e}")})),
            )
                .into_response()
        }
    };
    match state.pubsub.set_enabled(request.objects) {
        Ok(()) => cdc_objects(State(state)).await,
        Err(e) => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": format!("objects: {e}")})),
        )
            .into_response(),
    }
}
