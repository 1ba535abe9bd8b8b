//! How a command fails: one TRACE ERROR with a failure type, then exit code 1.

use crate::config::ConfigError;
use crate::protocol::{ErrorTrace, FailureType, StreamDescriptor, Trace};

/// A command's failure, as the platform will show it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub failure_type: FailureType,
    /// What the user sees: what went wrong and what to change.
    pub message: String,
    /// Detail for support (never secrets).
    pub internal_message: Option<String>,
    /// The stream that failed, when one did.
    pub stream: Option<StreamDescriptor>,
}

impl Failure {
    pub fn new(failure_type: FailureType, message: impl Into<String>) -> Self {
        Failure {
            failure_type,
            message: message.into(),
            internal_message: None,
            stream: None,
        }
    }

    /// The user must change the config, catalog or state; retrying will not help.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(FailureType::ConfigError, message)
    }

    /// A bug or an unexpected condition.
    pub fn system(message: impl Into<String>) -> Self {
        Self::new(FailureType::SystemError, message)
    }

    /// Retrying later may succeed.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::new(FailureType::TransientError, message)
    }

    pub fn with_internal_message(mut self, internal: impl Into<String>) -> Self {
        self.internal_message = Some(internal.into());
        self
    }

    pub fn with_stream(mut self, stream: StreamDescriptor) -> Self {
        self.stream = Some(stream);
        self
    }

    /// The TRACE ERROR payload for this failure.
    pub fn to_trace(&self) -> Trace {
        Trace::error(ErrorTrace {
            message: self.message.clone(),
            internal_message: self.internal_message.clone(),
            stack_trace: None,
            failure_type: Some(self.failure_type),
            stream_descriptor: self.stream.clone(),
        })
    }
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Failure::config(error.to_string())
    }
}
