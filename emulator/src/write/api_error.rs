//! An API call refused as a whole: an HTTP status and Salesforce's error array
//! `[{"errorCode","message"}]`.

use serde_json::json;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found() -> Self {
        ApiError::new(404, "NOT_FOUND", "The requested resource does not exist")
    }

    /// The body Salesforce sends: a one-element error array.
    pub fn body(&self) -> serde_json::Value {
        json!([{"errorCode": self.code, "message": self.message}])
    }
}
