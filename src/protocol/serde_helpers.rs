//! Serde helpers the message types share: how the protocol's JSON is read leniently where
//! real platforms send something other than the schema says.

use serde::Deserialize;

/// Accepts `null` where a collection is expected (PyAirbyte writes explicit nulls).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
