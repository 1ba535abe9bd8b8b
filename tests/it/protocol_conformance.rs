//! Every message type this crate writes validates against Airbyte's own pydantic models
//! (airbyte-protocol-models, via tests/python/validate_messages.py).

use crate::support::protocol::validate_with_python;
use crate::support::tools::python;
use salesforce_connector::protocol::{
    AirbyteCatalog, AirbyteStream, ChangeKind, ChangeReason, ConnectionStatus, Control,
    DestinationCatalog, DestinationOperation, DestinationSyncMode, ErrorTrace, EstimateTrace,
    EstimateType, FailureType, GlobalState, Log, LogLevel, MemoryOutput, Message, RateLimited,
    Record, RecordChange, RecordMeta, StateMessage, StateStats, StateType, Status,
    StreamDescriptor, StreamState, StreamStatus, StreamStatusReason, StreamStatusReasonType,
    StreamStatusTrace, SyncMode, Trace,
};
use serde_json::{json, Map};

fn every_message() -> Vec<Message> {
    let account = StreamDescriptor::new("Account");
    let data = json!({"Id": "001", "Name": "Acme"})
        .as_object()
        .unwrap()
        .clone();
    vec![
        Message::Record(Record {
            namespace: None,
            stream: "Account".into(),
            data: data.clone(),
            emitted_at: 1_717_236_000_123,
            meta: Some(RecordMeta {
                changes: vec![RecordChange {
                    field: "Description".into(),
                    change: ChangeKind::Nulled,
                    reason: ChangeReason::SourceFieldSizeLimitation,
                }],
            }),
        }),
        Message::State(StateMessage::stream(
            account.clone(),
            json!({"SystemModstamp": "2024-05-01T10:00:00.000Z"}),
            12,
        )),
        Message::State(StateMessage {
            state_type: Some(StateType::Global),
            stream: None,
            global: Some(GlobalState {
                shared_state: Some(json!({"cursor": 1})),
                stream_states: vec![StreamState {
                    stream_descriptor: account.clone(),
                    stream_state: Some(json!({})),
                }],
            }),
            data: None,
            source_stats: Some(StateStats {
                record_count: Some(3.0),
                rejected_record_count: None,
            }),
            destination_stats: Some(StateStats {
                record_count: Some(2.0),
                rejected_record_count: Some(1.0),
            }),
            extra: Map::new(),
        }),
        Message::Log(Log {
            level: LogLevel::Warn,
            message: "careful".into(),
            stack_trace: None,
        }),
        Message::Trace(Trace::error(ErrorTrace {
            message: "Refresh token rejected".into(),
            internal_message: Some("invalid_grant".into()),
            stack_trace: None,
            failure_type: Some(FailureType::ConfigError),
            stream_descriptor: Some(account.clone()),
        })),
        Message::Trace(Trace::estimate(EstimateTrace {
            name: "Account".into(),
            estimate_type: EstimateType::Stream,
            namespace: None,
            row_estimate: Some(1000),
            byte_estimate: None,
        })),
        Message::Trace(Trace::stream_status(StreamStatusTrace {
            stream_descriptor: account.clone(),
            status: StreamStatus::Running,
            reasons: Some(vec![StreamStatusReason {
                reason_type: StreamStatusReasonType::RateLimited,
                rate_limited: Some(RateLimited {
                    quota_reset: Some(1_717_236_060_000),
                }),
            }]),
        })),
        Message::Control(Control::connector_config(
            json!({"client_id": "id", "refresh_token": "new"}),
        )),
        Message::ConnectionStatus(ConnectionStatus {
            status: Status::Failed,
            message: Some("bad".into()),
        }),
        Message::Catalog(AirbyteCatalog {
            streams: vec![AirbyteStream {
                name: "Account".into(),
                json_schema: json!({"type": "object", "properties": {"Id": {"type": "string"}}}),
                supported_sync_modes: vec![SyncMode::FullRefresh, SyncMode::Incremental],
                source_defined_cursor: Some(true),
                default_cursor_field: Some(vec!["SystemModstamp".into()]),
                source_defined_primary_key: Some(vec![vec!["Id".into()]]),
                namespace: None,
                is_resumable: Some(true),
                is_file_based: None,
            }],
        }),
        Message::DestinationCatalog(DestinationCatalog {
            operations: vec![DestinationOperation {
                object_name: "Contact".into(),
                sync_mode: DestinationSyncMode::AppendDedup,
                json_schema: json!({"type": "object", "additionalProperties": false}),
                matching_keys: Some(vec![vec!["External_Id__c".into()]]),
            }],
        }),
        Message::Spec(Box::new(salesforce_connector::config::source_spec())),
        Message::Spec(Box::new(salesforce_connector::config::destination_spec())),
    ]
}

#[test]
fn every_message_type_validates_with_airbyte_protocol_models() {
    let Some(python) = python("every_message_type_validates_with_airbyte_protocol_models") else {
        return;
    };
    let (sink, output) = MemoryOutput::with_output();
    for message in every_message() {
        output.write(&message).unwrap();
    }
    output.flush().unwrap();
    let text = sink.text();
    assert_eq!(text.lines().count(), every_message().len());
    validate_with_python(&python, &text).unwrap();
}

#[test]
fn the_validator_rejects_an_invalid_message() {
    let Some(python) = python("the_validator_rejects_an_invalid_message") else {
        return;
    };
    let error = validate_with_python(&python, "{\"type\":\"LOG\",\"log\":{\"level\":\"INFO\",\"message\":\"ok\"}}\n{\"type\":\"RECORD\",\"record\":{\"stream\":\"A\"}}\n")
        .unwrap_err();
    assert!(
        error.starts_with("line 2: not a valid AirbyteMessage"),
        "{error}"
    );
}
