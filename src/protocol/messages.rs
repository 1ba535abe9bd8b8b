//! The Airbyte message envelope and every payload except STATE (see `state.rs`) and the
//! catalogs (see `catalog.rs`). Field names and enum values are the protocol's (v0, 0.18).

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::catalog::{AirbyteCatalog, DestinationCatalog, DestinationSyncMode, StreamDescriptor};
use super::state::StateMessage;

/// One protocol message. Serialises as `{"type":"RECORD","record":{...}}` and so on.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    Record(Record),
    State(StateMessage),
    Log(Log),
    Spec(Box<ConnectorSpecification>),
    ConnectionStatus(ConnectionStatus),
    Catalog(AirbyteCatalog),
    Trace(Trace),
    Control(Control),
    DestinationCatalog(DestinationCatalog),
}

impl Message {
    /// The envelope's `type` value.
    pub fn type_name(&self) -> &'static str {
        self.keys().0
    }

    /// (`type` value, payload key).
    fn keys(&self) -> (&'static str, &'static str) {
        match self {
            Message::Record(_) => ("RECORD", "record"),
            Message::State(_) => ("STATE", "state"),
            Message::Log(_) => ("LOG", "log"),
            Message::Spec(_) => ("SPEC", "spec"),
            Message::ConnectionStatus(_) => ("CONNECTION_STATUS", "connectionStatus"),
            Message::Catalog(_) => ("CATALOG", "catalog"),
            Message::Trace(_) => ("TRACE", "trace"),
            Message::Control(_) => ("CONTROL", "control"),
            Message::DestinationCatalog(_) => ("DESTINATION_CATALOG", "destination_catalog"),
        }
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (type_name, key) = self.keys();
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", type_name)?;
        match self {
            Message::Record(m) => map.serialize_entry(key, m)?,
            Message::State(m) => map.serialize_entry(key, m)?,
            Message::Log(m) => map.serialize_entry(key, m)?,
            Message::Spec(m) => map.serialize_entry(key, m)?,
            Message::ConnectionStatus(m) => map.serialize_entry(key, m)?,
            Message::Catalog(m) => map.serialize_entry(key, m)?,
            Message::Trace(m) => map.serialize_entry(key, m)?,
            Message::Control(m) => map.serialize_entry(key, m)?,
            Message::DestinationCatalog(m) => map.serialize_entry(key, m)?,
        }
        map.end()
    }
}

/// Milliseconds since the Unix epoch, wall clock.
pub(crate) fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A RECORD payload. `emitted_at` is an integer in epoch milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub stream: String,
    pub data: Map<String, Value>,
    pub emitted_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<RecordMeta>,
}

/// `record.meta`: what happened to the record on its way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordMeta {
    #[serde(default, deserialize_with = "super::serde_helpers::null_as_default")]
    pub changes: Vec<RecordChange>,
}

/// One entry of `record.meta.changes`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordChange {
    pub field: String,
    pub change: ChangeKind,
    pub reason: ChangeReason,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeKind {
    Nulled,
    Truncated,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeReason {
    SourceRecordSizeLimitation,
    DestinationRecordSizeLimitation,
    PlatformRecordSizeLimitation,
    SourceFieldSizeLimitation,
    DestinationFieldSizeLimitation,
    PlatformFieldSizeLimitation,
    SourceSerializationError,
    DestinationSerializationError,
    PlatformSerializationError,
    SourceRetrievalError,
    DestinationTypecastError,
}

/// A LOG payload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Log {
    pub level: LogLevel,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LogLevel {
    Fatal,
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// The payload of a SPEC message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectorSpecification {
    #[serde(rename = "documentationUrl", skip_serializing_if = "Option::is_none")]
    pub documentation_url: Option<String>,
    #[serde(rename = "changelogUrl", skip_serializing_if = "Option::is_none")]
    pub changelog_url: Option<String>,
    #[serde(rename = "connectionSpecification")]
    pub connection_specification: Value,
    #[serde(
        rename = "supportsIncremental",
        skip_serializing_if = "Option::is_none"
    )]
    pub supports_incremental: Option<bool>,
    #[serde(
        rename = "supportsNormalization",
        skip_serializing_if = "Option::is_none"
    )]
    pub supports_normalization: Option<bool>,
    #[serde(rename = "supportsDBT", skip_serializing_if = "Option::is_none")]
    pub supports_dbt: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_destination_sync_modes: Option<Vec<DestinationSyncMode>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_auth: Option<AdvancedAuth>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol_version: Option<String>,
}

/// `spec.advanced_auth`: how the platform runs the OAuth flow and where its outputs go.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdvancedAuth {
    pub auth_flow_type: AuthFlowType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_key: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_config_specification: Option<Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthFlowType {
    #[serde(rename = "oauth2.0")]
    OAuth2,
    #[serde(rename = "oauth1.0")]
    OAuth1,
}

/// The payload of a CONNECTION_STATUS message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectionStatus {
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Succeeded,
    Failed,
}

/// A TRACE payload. `emitted_at` is a number (epoch milliseconds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    #[serde(rename = "type")]
    pub trace_type: TraceType,
    pub emitted_at: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorTrace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimate: Option<EstimateTrace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_status: Option<StreamStatusTrace>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub analytics: Option<AnalyticsTrace>,
}

impl Trace {
    /// A TRACE ERROR emitted now.
    pub fn error(error: ErrorTrace) -> Self {
        Trace {
            error: Some(error),
            ..Trace::now(TraceType::Error)
        }
    }

    /// A TRACE STREAM_STATUS emitted now.
    pub fn stream_status(stream_status: StreamStatusTrace) -> Self {
        Trace {
            stream_status: Some(stream_status),
            ..Trace::now(TraceType::StreamStatus)
        }
    }

    /// A TRACE ESTIMATE emitted now.
    pub fn estimate(estimate: EstimateTrace) -> Self {
        Trace {
            estimate: Some(estimate),
            ..Trace::now(TraceType::Estimate)
        }
    }

    /// A TRACE of `trace_type` emitted now, its payload still to set.
    fn now(trace_type: TraceType) -> Self {
        Trace {
            trace_type,
            emitted_at: now_ms() as f64,
            error: None,
            estimate: None,
            stream_status: None,
            analytics: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TraceType {
    Error,
    Estimate,
    StreamStatus,
    Analytics,
}

/// `trace.error`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorTrace {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stack_trace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_type: Option<FailureType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_descriptor: Option<StreamDescriptor>,
}

impl ErrorTrace {
    pub fn new(failure_type: FailureType, message: impl Into<String>) -> Self {
        ErrorTrace {
            message: message.into(),
            internal_message: None,
            stack_trace: None,
            failure_type: Some(failure_type),
            stream_descriptor: None,
        }
    }
}

/// Whether retrying can help: `config_error` stops the platform's retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureType {
    SystemError,
    ConfigError,
    TransientError,
}

/// `trace.estimate`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EstimateTrace {
    pub name: String,
    #[serde(rename = "type")]
    pub estimate_type: EstimateType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub row_estimate: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub byte_estimate: Option<i64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum EstimateType {
    Stream,
    Sync,
}

/// `trace.stream_status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamStatusTrace {
    pub stream_descriptor: StreamDescriptor,
    pub status: StreamStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasons: Option<Vec<StreamStatusReason>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StreamStatus {
    Started,
    Running,
    Complete,
    Incomplete,
}

/// Why a stream is in its status; today only rate limiting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamStatusReason {
    #[serde(rename = "type")]
    pub reason_type: StreamStatusReasonType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_limited: Option<RateLimited>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StreamStatusReasonType {
    RateLimited,
}

/// `reasons[].rate_limited`: when the quota resets, epoch milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RateLimited {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quota_reset: Option<i64>,
}

/// `trace.analytics`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnalyticsTrace {
    #[serde(rename = "type")]
    pub analytics_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// A CONTROL payload: today only CONNECTOR_CONFIG, carrying the whole new config.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Control {
    #[serde(rename = "type")]
    pub control_type: ControlType,
    pub emitted_at: f64,
    #[serde(rename = "connectorConfig", skip_serializing_if = "Option::is_none")]
    pub connector_config: Option<ConnectorConfig>,
}

impl Control {
    /// A CONNECTOR_CONFIG control message emitted now; `config` is the full config.
    pub fn connector_config(config: Value) -> Self {
        Control {
            control_type: ControlType::ConnectorConfig,
            emitted_at: now_ms() as f64,
            connector_config: Some(ConnectorConfig { config }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ControlType {
    ConnectorConfig,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConnectorConfig {
    pub config: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn record_serialises_with_integer_emitted_at_and_meta_changes() {
        let record = Message::Record(Record {
            namespace: None,
            stream: "Account".into(),
            data: json!({"Id": "001"}).as_object().unwrap().clone(),
            emitted_at: 1717236000123,
            meta: Some(RecordMeta {
                changes: vec![RecordChange {
                    field: "Description".into(),
                    change: ChangeKind::Truncated,
                    reason: ChangeReason::SourceFieldSizeLimitation,
                }],
            }),
        });
        assert_eq!(
            serde_json::to_string(&record).unwrap(),
            r#"{"type":"RECORD","record":{"stream":"Account","data":{"Id":"001"},"emitted_at":1717236000123,"meta":{"changes":[{"field":"Description","change":"TRUNCATED","reason":"SOURCE_FIELD_SIZE_LIMITATION"}]}}}"#
        );
    }

    #[test]
    fn trace_error_uses_protocol_names() {
        let mut trace = Trace::error(ErrorTrace::new(FailureType::ConfigError, "bad"));
        trace.emitted_at = 1717236000000.0;
        let value = serde_json::to_value(Message::Trace(trace)).unwrap();
        assert_eq!(
            value,
            json!({"type": "TRACE", "trace": {"type": "ERROR", "emitted_at": 1717236000000.0,
                   "error": {"message": "bad", "failure_type": "config_error"}}})
        );
    }

    #[test]
    fn stream_status_rate_limited_reason_serialises() {
        let mut trace = Trace::stream_status(StreamStatusTrace {
            stream_descriptor: StreamDescriptor::new("Account"),
            status: StreamStatus::Running,
            reasons: Some(vec![StreamStatusReason {
                reason_type: StreamStatusReasonType::RateLimited,
                rate_limited: Some(RateLimited {
                    quota_reset: Some(5),
                }),
            }]),
        });
        trace.emitted_at = 1.0;
        assert_eq!(
            serde_json::to_value(Message::Trace(trace)).unwrap()["trace"],
            json!({"type": "STREAM_STATUS", "emitted_at": 1.0, "stream_status": {
                "stream_descriptor": {"name": "Account"}, "status": "RUNNING",
                "reasons": [{"type": "RATE_LIMITED", "rate_limited": {"quota_reset": 5}}]}})
        );
    }

    #[test]
    fn control_carries_the_whole_config() {
        let control = Control::connector_config(json!({"refresh_token": "NEW"}));
        let value = serde_json::to_value(Message::Control(control)).unwrap();
        assert_eq!(value["type"], "CONTROL");
        assert_eq!(value["control"]["type"], "CONNECTOR_CONFIG");
        assert!(value["control"]["emitted_at"].is_f64());
        assert_eq!(
            value["control"]["connectorConfig"]["config"]["refresh_token"],
            "NEW"
        );
    }

    #[test]
    fn spec_uses_camel_case_envelope_fields() {
        let spec = ConnectorSpecification {
            documentation_url: Some("https://example.com".into()),
            changelog_url: None,
            connection_specification: json!({"type": "object"}),
            supports_incremental: Some(true),
            supports_normalization: Some(false),
            supports_dbt: Some(false),
            supported_destination_sync_modes: Some(vec![DestinationSyncMode::Append]),
            advanced_auth: Some(AdvancedAuth {
                auth_flow_type: AuthFlowType::OAuth2,
                predicate_key: Some(vec!["auth_type".into()]),
                predicate_value: Some("Client".into()),
                oauth_config_specification: None,
            }),
            protocol_version: None,
        };
        let value = serde_json::to_value(Message::Spec(Box::new(spec))).unwrap();
        assert_eq!(value["type"], "SPEC");
        let spec = &value["spec"];
        assert_eq!(spec["documentationUrl"], "https://example.com");
        assert_eq!(spec["supportsDBT"], false);
        assert_eq!(spec["supported_destination_sync_modes"], json!(["append"]));
        assert_eq!(spec["advanced_auth"]["auth_flow_type"], "oauth2.0");
    }
}
