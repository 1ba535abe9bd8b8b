//! Secrets: values that never print ([`Secret`]), and the process-wide list of secret values
//! scrubbed from every LOG and TRACE line ([`redact`]). Config, protocol and the Salesforce client
//! all depend on this module; it depends on none of them.

mod redact;

pub use redact::{redact, register_secret};

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value that must never be printed: its `Debug` and `Display` show `**********`.
///
/// Serialising a `Secret` writes the real value (configs are echoed back to the platform in
/// CONNECTOR_CONFIG), so only code that means to send it somewhere calls [`Secret::expose`] or
/// serialises it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

/// What every secret prints as.
pub const REDACTED: &str = "**********";

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, for the one place that sends it over the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

/// In a spec, a secret is a string the UI masks (`airbyte_secret`).
impl schemars::JsonSchema for Secret {
    fn schema_name() -> String {
        "Secret".to_owned()
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(_: &mut schemars::gen::SchemaGenerator) -> schemars::schema::Schema {
        let mut schema = schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            ..Default::default()
        };
        schema
            .extensions
            .insert("airbyte_secret".to_owned(), serde_json::Value::Bool(true));
        schema.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_value() {
        let s = Secret::new("hunter2-very-secret");
        assert_eq!(format!("{s:?}"), REDACTED);
        assert_eq!(format!("{s}"), REDACTED);
        assert_eq!(format!("{:?}", Some(&s)), format!("Some({REDACTED})"));
        assert_eq!(s.expose(), "hunter2-very-secret");
    }
}
