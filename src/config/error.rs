//! The one config error: which key, and what was expected.

/// A config problem, e.g. `start_date: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got
/// "yesterday"`. Never carries a secret value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {problem}")]
pub struct ConfigError {
    /// The config key, dotted for nested keys (`object_storage_config.s3_bucket_name`).
    pub key: String,
    /// What was wrong and what was expected.
    pub problem: String,
}

impl ConfigError {
    pub fn new(key: impl Into<String>, problem: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            problem: problem.into(),
        }
    }

    /// A required key that is absent, null or empty.
    pub fn missing(key: impl Into<String>, expected: &str) -> Self {
        ConfigError::new(key, format!("missing; expected {expected}"))
    }
}
