//! Turning config JSON into the raw config structs, with errors that name the key.

use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::Deserialize;
use serde_json::Value;

use super::ConfigError;

/// Keys whose values are secrets: an error about them never shows the value.
pub(crate) const SECRET_KEYS: [&str; 5] = [
    "client_secret",
    "refresh_token",
    "private_key",
    "access_key_id",
    "secret_access_key",
];

/// `value` when `range` holds it, else an error naming `key`: "expected an integer from 1 to
/// 100, got 0".
pub(crate) fn integer_in<T>(
    key: &str,
    value: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: PartialOrd + std::fmt::Display,
{
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(ConfigError::new(
            key,
            format!(
                "expected an integer from {} to {}, got {value}",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// Deserialises `value` into `T`, and the top-level keys `T` has no use for (sorted), reported
/// by `serde_ignored` as the config is read. A failure names the dotted key path
/// (`object_storage_config.s3_bucket_name`, `streams_criteria[0].criteria`).
pub(crate) fn from_json_and_unknown_keys<T: DeserializeOwned>(
    value: &Value,
) -> Result<(T, Vec<String>), ConfigError> {
    let mut unknown = Vec::new();
    let parsed = from_json_reporting(value, |path| {
        if let serde_ignored::Path::Map {
            parent: serde_ignored::Path::Root,
            key,
        } = path
        {
            unknown.push(key);
        }
    })?;
    unknown.sort();
    Ok((parsed, unknown))
}

fn from_json_reporting<T: DeserializeOwned>(
    value: &Value,
    mut ignored: impl FnMut(serde_ignored::Path<'_>),
) -> Result<T, ConfigError> {
    if !value.is_object() {
        return Err(ConfigError::new(
            "config",
            format!("expected a JSON object, got {}", json_kind(value)),
        ));
    }
    serde_path_to_error::deserialize(serde_ignored::Deserializer::new(value, &mut ignored)).map_err(
        |error| {
            let key = error.path().to_string();
            let key = if key == "." { "config".to_owned() } else { key };
            let last = key.rsplit(['.', '[']).next().unwrap_or("");
            let mut problem = error.inner().to_string();
            if SECRET_KEYS.contains(&last) || mentions_a_secret(value, &problem) {
                problem = "expected a string (the value is secret and not shown)".to_owned();
            }
            ConfigError::new(key, problem)
        },
    )
}

/// Whether `text` quotes the value of any secret key anywhere in `config` (a last line of
/// defence for serde messages whose path could not be tracked).
fn mentions_a_secret(config: &Value, text: &str) -> bool {
    match config {
        Value::Object(map) => map.iter().any(|(key, value)| {
            let is_secret = SECRET_KEYS.contains(&key.as_str());
            let rendered = match value {
                Value::String(s) => s.clone(),
                Value::Null | Value::Object(_) | Value::Array(_) => String::new(),
                other => other.to_string(),
            };
            (is_secret && rendered.len() >= 3 && text.contains(&rendered))
                || mentions_a_secret(value, text)
        }),
        Value::Array(items) => items.iter().any(|v| mentions_a_secret(v, text)),
        _ => false,
    }
}

/// "a string", "a number"... for messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A boolean that may also be written `"true"` / `"false"` (Airbyte's `is_sandbox`).
pub(crate) fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s.is_empty() => Ok(false),
        Some(other) => Err(D::Error::custom(format!(
            "expected true or false, got {}",
            serde_json::to_string(&other).unwrap_or_default()
        ))),
    }
}

/// `Some(s)` unless the string is absent or empty (UIs send `""` for untouched fields).
pub(crate) fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `Some(N)`: the serde default of an optional `u32` setting whose default is `N`
/// (`#[serde(default = "some_u32::<DEFAULT_X>")]`; schemars writes it as the spec's default).
pub(crate) fn some_u32<const N: u32>() -> Option<u32> {
    Some(N)
}

/// `Some(N)` for an optional `u64` setting, as [`some_u32`].
pub(crate) fn some_u64<const N: u64>() -> Option<u64> {
    Some(N)
}
