//! Layers every request passes before routing: the request log, the URI length limit (414),
//! trailing-slash normalisation (`/queryAll/?q=` and `/queryAll?q=` are one resource) and fault
//! injection, and the latency profile's wait before each answer.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;

use crate::error::ApiError;
use crate::faults::FaultKind;
use crate::state::{lock, AppState, FiredFaults, LogEntry};

/// Records method, path, status and body bytes of every request (the admin API lists all but
/// its own).
///
/// The entry is logged when the request arrives, so a request whose answer is never sent (the
/// client gave up during a `delay` fault) is still listed, with status 0.
pub(crate) async fn record_request(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let method = req.method().to_string();
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let bytes = Arc::new(AtomicU64::new(0));
    let status = Arc::new(AtomicU16::new(0));
    let faults = FiredFaults::default();
    req.extensions_mut().insert(faults.clone());
    let finished = Arc::new(AtomicU64::new(0));
    lock(&state.log).push(LogEntry {
        method,
        path,
        status: status.clone(),
        bytes: bytes.clone(),
        faults,
        finished: finished.clone(),
        grpc_status: None,
    });
    let response = next.run(req).await;
    status.store(response.status().as_u16(), Ordering::Relaxed);
    let (parts, body) = response.into_parts();
    let order = state.answers_finished.clone();
    let finish = move || {
        finished.store(order.fetch_add(1, Ordering::Relaxed) + 1, Ordering::Relaxed);
    };
    let body = match body.size_hint().exact() {
        Some(n) => {
            bytes.store(n, Ordering::Relaxed);
            finish();
            body
        }
        None => {
            let counter = bytes.clone();
            let counted = body.into_data_stream().map(move |chunk| {
                if let Ok(data) = &chunk {
                    counter.fetch_add(data.len() as u64, Ordering::Relaxed);
                }
                chunk
            });
            // Marks the answer finished once its last chunk has been taken.
            let end = futures::stream::once(async move {
                finish();
            })
            .filter_map(|()| async { None });
            Body::from_stream(counted.chain(end))
        }
    };
    Response::from_parts(parts, body)
}

/// Waits `request_latency` before answering (the latency profile); the emulator's own admin
/// API answers at once.
pub(crate) async fn add_latency(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let latency = state.config.request_latency;
    if !latency.is_zero() && !req.uri().path().starts_with("/__emulator") {
        tokio::time::sleep(latency).await;
    }
    next.run(req).await
}

/// 414 for a request URI longer than the configured limit (Salesforce: 16,384 bytes).
pub(crate) async fn limit_uri(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let length = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().len())
        .unwrap_or(0);
    if length > state.config.max_uri_bytes {
        return (StatusCode::URI_TOO_LONG, "URI Too Long").into_response();
    }
    next.run(req).await
}

/// Strips one trailing slash from the path, so routes need only one form.
pub(crate) async fn normalize_path(mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let rebuilt = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = rebuilt.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    next.run(req).await
}

/// Applies the faults whose rules match this request.
pub(crate) async fn inject_faults(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let fired = lock(&state.faults).fire_request(
        req.method().as_str(),
        req.uri().path(),
        req.uri().query().unwrap_or_default(),
    );
    if let Some(log) = req.extensions().get::<FiredFaults>() {
        lock(&log.0).extend(fired.iter().map(|f| f.type_name().to_string()));
    }
    let mut cut = None;
    let mut truncate = None;
    let mut answer_delay = None;
    for fault in fired {
        match fault {
            FaultKind::Status {
                status,
                error_code,
                message,
            } => {
                let status = status
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .unwrap_or_else(|| match &error_code {
                        Some(code) => ApiError::status_for(code),
                        None => StatusCode::INTERNAL_SERVER_ERROR,
                    });
                return match error_code {
                    Some(code) => {
                        let message =
                            message.unwrap_or_else(|| ApiError::default_message(&code).to_string());
                        ApiError::new(status, &code, message).into_response()
                    }
                    None => (status, message.unwrap_or_default()).into_response(),
                };
            }
            FaultKind::Delay {
                millis,
                after_handler: false,
            } => tokio::time::sleep(Duration::from_millis(millis)).await,
            FaultKind::Delay {
                millis,
                after_handler: true,
            } => answer_delay = Some(Duration::from_millis(millis)),
            FaultKind::CommitRecord {
                object,
                fields,
                began_seconds_ago,
            } => {
                if let Err(e) = commit_record(&state, &object, &fields, began_seconds_ago) {
                    tracing::warn!("commit_record fault on {object}: {e}");
                }
            }
            FaultKind::CutConnection { after_bytes } => cut = Some(after_bytes),
            FaultKind::TruncateBody { keep_percent } => truncate = Some(keep_percent.min(100)),
            FaultKind::JobFailed { message } => {
                req.extensions_mut()
                    .insert(crate::faults::JobFault::Failed(message));
            }
            FaultKind::JobAborted => {
                req.extensions_mut()
                    .insert(crate::faults::JobFault::Aborted);
            }
            FaultKind::ExpireTokens => state.expire_sessions(),
            FaultKind::ExhaustLimit => lock(&state.usage).exhausted = true,
            // Pub/Sub API and change event faults: never matched by HTTP requests' methods.
            FaultKind::GrpcStatus { .. }
            | FaultKind::CutStream { .. }
            | FaultKind::ExpireTokensAfterEvents { .. }
            | FaultKind::Gap => {}
        }
    }
    let response = next.run(req).await;
    if let Some(delay) = answer_delay {
        // The request has been acted on; its answer is late (a client that gives up first
        // never sees it).
        tokio::time::sleep(delay).await;
    }
    if let Some(after) = cut {
        return cut_body(response, after);
    }
    if let Some(percent) = truncate {
        return truncate_body(response, percent).await;
    }
    response
}

/// Commits a record whose transaction began `began_seconds_ago` seconds ago: its audit dates
/// are that old, as Salesforce stamps a row with its transaction's start.
fn commit_record(
    state: &AppState,
    object: &str,
    fields: &serde_json::Map<String, serde_json::Value>,
    began_seconds_ago: i64,
) -> Result<String, String> {
    let values = crate::admin::values_from(state, object, fields).map_err(|(_, m)| m)?;
    let began = state.clock.now() - chrono::Duration::seconds(began_seconds_ago);
    state
        .org_mut()
        .insert_stamped(object, values, began)
        .map_err(|e| format!("{e:?}"))
}

/// Sends `after` bytes of the body, then fails the stream so the server drops the connection.
fn cut_body(response: Response, after: usize) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let mut remaining = after;
    let stream = body
        .into_data_stream()
        .map(move |chunk| -> Result<Bytes, std::io::Error> {
            let data = chunk.map_err(std::io::Error::other)?;
            if remaining == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "fault: connection cut",
                ));
            }
            if data.len() > remaining {
                let head = data.slice(..remaining);
                remaining = 0;
                return Ok(head);
            }
            remaining -= data.len();
            Ok(data)
        });
    // After a cut chunk the next poll errors; a stream that ended exactly at the cut point
    // still needs an error to drop the connection.
    let tail = futures::stream::once(async {
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault: connection cut",
        ))
    });
    Response::from_parts(parts, Body::from_stream(stream.chain(tail)))
}

async fn truncate_body(response: Response, percent: u8) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(_) => Bytes::new(),
    };
    let keep = bytes.len() * percent as usize / 100;
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..keep)))
}
