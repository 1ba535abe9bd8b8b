//! Salesforce's REST / Bulk error responses: a JSON array of `{"message","errorCode","fields"}`
//! with the status Salesforce uses for that code (facts §2).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered as `[{"message": …, "errorCode": …}]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub error_code: String,
    pub message: String,
    /// Field names the error is about (`fields` key), when Salesforce sends it.
    pub fields: Option<Vec<String>>,
}

impl ApiError {
    pub(crate) fn new(
        status: StatusCode,
        error_code: &str,
        message: impl Into<String>,
    ) -> ApiError {
        ApiError {
            status,
            error_code: error_code.to_string(),
            message: message.into(),
            fields: None,
        }
    }

    pub(crate) fn invalid_session() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
        )
    }

    pub(crate) fn not_found() -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "The requested resource does not exist",
        )
    }

    pub(crate) fn request_limit_exceeded() -> ApiError {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
        )
    }

    pub(crate) fn bad_request(error_code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, error_code, message)
    }

    /// The status Salesforce answers for `error_code` when it is injected as a fault.
    pub(crate) fn status_for(error_code: &str) -> StatusCode {
        match error_code {
            "INVALID_SESSION_ID" => StatusCode::UNAUTHORIZED,
            "REQUEST_LIMIT_EXCEEDED"
            | "API_DISABLED_FOR_ORG"
            | "INSUFFICIENT_ACCESS"
            | "INSUFFICIENT_ACCESS_OR_READONLY" => StatusCode::FORBIDDEN,
            "NOT_FOUND" => StatusCode::NOT_FOUND,
            "SERVER_UNAVAILABLE" => StatusCode::SERVICE_UNAVAILABLE,
            "UNKNOWN_EXCEPTION" => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The message Salesforce sends with `error_code` (for faults given only a code).
    pub(crate) fn default_message(error_code: &str) -> &'static str {
        match error_code {
            "INVALID_SESSION_ID" => "Session expired or invalid",
            "REQUEST_LIMIT_EXCEEDED" => "TotalRequests Limit exceeded.",
            "API_DISABLED_FOR_ORG" => "API is not enabled for this Organization or Partner",
            "INSUFFICIENT_ACCESS" => "insufficient access rights on object id",
            "QUERY_TIMEOUT" => "Your query request was running for too long.",
            "INVALID_QUERY_LOCATOR" => "invalid query locator",
            "SERVER_UNAVAILABLE" => "Server temporarily unavailable.",
            "UNKNOWN_EXCEPTION" => {
                "An unexpected error occurred. Please include this ErrorId if you contact support."
            }
            "NOT_FOUND" => "The requested resource does not exist",
            _ => "An error occurred.",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut entry = json!({"message": self.message, "errorCode": self.error_code});
        if let Some(fields) = self.fields {
            entry["fields"] = json!(fields);
        }
        let body = serde_json::to_vec(&json!([entry])).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json;charset=UTF-8"),
        );
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
        }
        response
    }
}

/// A JSON response with Salesforce's content type.
pub(crate) fn json_response(status: StatusCode, body: &serde_json::Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    json_bytes(status, bytes)
}

pub(crate) fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    response
}

impl From<crate::soql::SoqlError> for ApiError {
    fn from(e: crate::soql::SoqlError) -> ApiError {
        ApiError::bad_request(e.error_code, e.message)
    }
}
