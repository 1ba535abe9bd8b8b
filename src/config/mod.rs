//! Source and destination configuration: Airbyte's (and Estuary's) JSON forms in, validated
//! typed settings out, every error naming its key. The specs are generated from these types.

mod auth;
mod connection;
mod datetime;
mod destination;
mod duration;
mod error;
mod parse;
mod source;
mod spec;
mod trust;
mod url;

pub(crate) use connection::{Connection, Credentials};
pub use destination::DestinationConfig;
pub(crate) use destination::{Compression, DeadLetterQueue, OutputFormat};
pub(crate) use duration::IsoDuration;
pub use error::ConfigError;
pub(crate) use parse::json_kind;
pub use source::{ChangeDataCapture, SourceConfig};
pub use spec::{destination_spec, source_spec};
pub use trust::CaCertificates;

/// Registers every secret value in a config JSON (at any depth) for scrubbing from LOG and
/// TRACE output, before the config is even validated.
pub(crate) fn register_config_secrets(config: &serde_json::Value) {
    use serde_json::Value;
    match config {
        Value::Object(map) => {
            for (key, value) in map {
                match value {
                    Value::String(s) if parse::SECRET_KEYS.contains(&key.as_str()) => {
                        crate::secret::register_secret(s);
                    }
                    Value::Number(n) if parse::SECRET_KEYS.contains(&key.as_str()) => {
                        crate::secret::register_secret(&n.to_string());
                    }
                    other => register_config_secrets(other),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(register_config_secrets),
        _ => {}
    }
}
