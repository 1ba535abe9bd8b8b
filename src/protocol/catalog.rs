//! Catalogs: what a source offers (`CATALOG`), what the platform asks for (the configured
//! catalog passed with `--catalog`), and what a data-activation destination accepts
//! (`DESTINATION_CATALOG`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Names a stream; the key of per-stream state.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreamDescriptor {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl StreamDescriptor {
    pub fn new(name: impl Into<String>) -> Self {
        StreamDescriptor {
            name: name.into(),
            namespace: None,
        }
    }
}

impl std::fmt::Display for StreamDescriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{ns}.{}", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// How a source reads a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    FullRefresh,
    Incremental,
}

/// How a destination writes a stream. `update` and `soft_delete` exist for data activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DestinationSyncMode {
    Append,
    Overwrite,
    AppendDedup,
    Update,
    SoftDelete,
}

/// One stream of a source's `CATALOG`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AirbyteStream {
    pub name: String,
    pub json_schema: Value,
    pub supported_sync_modes: Vec<SyncMode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_defined_cursor: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_cursor_field: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_defined_primary_key: Option<Vec<Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_resumable: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_file_based: Option<bool>,
}

impl AirbyteStream {
    pub fn descriptor(&self) -> StreamDescriptor {
        StreamDescriptor {
            name: self.name.clone(),
            namespace: self.namespace.clone(),
        }
    }
}

/// The payload of a `CATALOG` message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AirbyteCatalog {
    pub streams: Vec<AirbyteStream>,
}

/// One entry of the configured catalog (`--catalog`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ConfiguredAirbyteStream {
    pub stream: AirbyteStream,
    pub sync_mode: SyncMode,
    pub destination_sync_mode: DestinationSyncMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor_field: Option<Vec<String>>,
    /// For an `append_dedup` data-activation stream, the matching (external id) key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Vec<Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generation_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_generation_id: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sync_id: Option<i64>,
    /// Data activation: the Salesforce object the records go to (falls back to the stream name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_object_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_files: Option<bool>,
}

impl ConfiguredAirbyteStream {
    pub(crate) fn descriptor(&self) -> StreamDescriptor {
        self.stream.descriptor()
    }
}

/// The configured catalog passed with `--catalog`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ConfiguredAirbyteCatalog {
    pub streams: Vec<ConfiguredAirbyteStream>,
}

/// One operation a data-activation destination accepts on one object.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DestinationOperation {
    pub object_name: String,
    pub sync_mode: DestinationSyncMode,
    pub json_schema: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matching_keys: Option<Vec<Vec<String>>>,
}

/// The payload of a `DESTINATION_CATALOG` message (a data-activation destination's `discover`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DestinationCatalog {
    pub operations: Vec<DestinationOperation>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn configured_stream_accepts_explicit_nulls_and_unknown_fields() {
        let stream: ConfiguredAirbyteStream = serde_json::from_value(json!({
            "stream": {"name": "Account", "json_schema": {}, "supported_sync_modes": ["full_refresh"],
                       "namespace": null, "source_defined_cursor": null, "x-unknown": 1},
            "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
            "cursor_field": null, "primary_key": [["Id"]], "destination_object_name": null,
            "projections": {"a": 1}, "estuary.dev/range": {}
        }))
        .unwrap();
        assert_eq!(stream.sync_mode, SyncMode::Incremental);
        assert_eq!(
            stream.destination_sync_mode,
            DestinationSyncMode::AppendDedup
        );
    }

    #[test]
    fn optional_fields_are_omitted_when_absent() {
        let stream = AirbyteStream {
            name: "Account".into(),
            json_schema: json!({"type": "object"}),
            supported_sync_modes: vec![SyncMode::FullRefresh, SyncMode::Incremental],
            source_defined_cursor: None,
            default_cursor_field: None,
            source_defined_primary_key: None,
            namespace: None,
            is_resumable: None,
            is_file_based: None,
        };
        assert_eq!(
            serde_json::to_string(&stream).unwrap(),
            r#"{"name":"Account","json_schema":{"type":"object"},"supported_sync_modes":["full_refresh","incremental"]}"#
        );
    }
}
