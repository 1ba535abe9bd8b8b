//! The gate in front of every `/services/data/vNN.0/…` resource: a served API version, a live
//! bearer token (401 INVALID_SESSION_ID otherwise), the daily API request limit (403
//! REQUEST_LIMIT_EXCEEDED), and the `Sforce-Limit-Info` header on the reply.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::{lock, AppState};
use crate::versions;

/// The API version of the request, as `62.0`, for handlers that echo it.
#[derive(Clone, Debug)]
pub(crate) struct ApiVersion(pub String);

/// The bearer token of `Authorization: Bearer …` (or the older `OAuth …`).
pub(crate) fn bearer_token(req: &Request) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("Bearer") || scheme.eq_ignore_ascii_case("OAuth"))
        .then(|| token.trim())
}

/// Middleware for the data routes; see the module docs.
pub(crate) async fn require_session(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let version = req
        .uri()
        .path()
        .strip_prefix("/services/data/")
        .and_then(|rest| rest.split('/').next())
        .and_then(versions::parse);
    let Some(version) = version else {
        return ApiError::not_found().into_response();
    };
    let Some(session) = bearer_token(&req).and_then(|t| state.session(t)) else {
        return ApiError::invalid_session().into_response();
    };
    {
        let mut usage = lock(&state.usage);
        if usage.exhausted || usage.api_requests >= state.config.daily_api_requests {
            drop(usage);
            let mut response = ApiError::request_limit_exceeded().into_response();
            add_limit_info(&state, &mut response);
            return response;
        }
        usage.api_requests += 1;
    }
    req.extensions_mut().insert(session);
    req.extensions_mut()
        .insert(ApiVersion(format!("{version}.0")));
    let mut response = next.run(req).await;
    add_limit_info(&state, &mut response);
    response
}

fn add_limit_info(state: &AppState, response: &mut Response) {
    if let Ok(value) = HeaderValue::from_str(&state.limit_info()) {
        response.headers_mut().insert("Sforce-Limit-Info", value);
    }
}
