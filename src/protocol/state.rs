//! STATE messages, and the `--state` file in every form users hand us.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::catalog::StreamDescriptor;

/// `state.type`. Absent means LEGACY.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum StateType {
    Global,
    Stream,
    Legacy,
}

/// A STATE payload. Fields this type does not know (the platform's `id`, anything newer) are
/// kept in `extra` and written back out, so a typed round trip keeps them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateMessage {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub state_type: Option<StateType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global: Option<GlobalState>,
    /// The deprecated LEGACY blob.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(rename = "sourceStats", skip_serializing_if = "Option::is_none")]
    pub source_stats: Option<StateStats>,
    #[serde(rename = "destinationStats", skip_serializing_if = "Option::is_none")]
    pub destination_stats: Option<StateStats>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl StateMessage {
    /// A per-stream STATE with `sourceStats.recordCount` = `record_count`.
    pub fn stream(descriptor: StreamDescriptor, state: Value, record_count: u64) -> Self {
        StateMessage {
            state_type: Some(StateType::Stream),
            stream: Some(StreamState {
                stream_descriptor: descriptor,
                stream_state: Some(state),
            }),
            global: None,
            data: None,
            source_stats: Some(StateStats {
                record_count: Some(record_count as f64),
                rejected_record_count: None,
            }),
            destination_stats: None,
            extra: Map::new(),
        }
    }

    /// The state's type as the protocol reads it: STREAM / GLOBAL by payload, else LEGACY.
    pub fn effective_type(&self) -> StateType {
        match self.state_type {
            Some(t) => t,
            None if self.stream.is_some() => StateType::Stream,
            None if self.global.is_some() => StateType::Global,
            None => StateType::Legacy,
        }
    }
}

/// `state.stream`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamState {
    pub stream_descriptor: StreamDescriptor,
    /// `None` (or JSON `null`) means "no state": the stream starts over.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_state: Option<Value>,
}

/// `state.global`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GlobalState {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_state: Option<Value>,
    #[serde(default, deserialize_with = "super::serde_helpers::null_as_default")]
    pub stream_states: Vec<StreamState>,
}

/// `sourceStats` / `destinationStats`. Counts are doubles on the wire (`12.0`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateStats {
    #[serde(rename = "recordCount", skip_serializing_if = "Option::is_none")]
    pub record_count: Option<f64>,
    #[serde(
        rename = "rejectedRecordCount",
        skip_serializing_if = "Option::is_none"
    )]
    pub rejected_record_count: Option<f64>,
}

/// The `--state` input, normalised to one blob per stream.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct InputState {
    /// Per-stream blobs. A stream whose state was `null` is absent (it starts over).
    pub streams: HashMap<StreamDescriptor, Value>,
    /// A GLOBAL state's `shared_state`, if one was given.
    pub shared_state: Option<Value>,
}

/// Why a `--state` file could not be understood. The CLI prefixes the file name.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum StateInputError {
    #[error("entry {index}: {problem}")]
    Entry { index: usize, problem: String },
    #[error("expected a JSON array of state messages or an object of per-stream states, got {0}")]
    WrongShape(&'static str),
}

const STATE_TYPES: [&str; 3] = ["STREAM", "GLOBAL", "LEGACY"];

impl InputState {
    /// Reads every form of `--state` users have: a JSON array of STATE payloads (STREAM,
    /// GLOBAL, LEGACY), `[]`, `null`, one bare STATE payload, or Estuary's
    /// `{"<stream>": blob}` object. The blobs themselves are not interpreted here.
    pub(crate) fn from_value(value: Value) -> Result<Self, StateInputError> {
        let mut state = InputState::default();
        match value {
            Value::Null => {}
            Value::Array(entries) => {
                for (index, entry) in entries.into_iter().enumerate() {
                    state.add_entry(index, entry)?;
                }
            }
            Value::Object(map) if looks_like_state_message(&map) => {
                state.add_entry(0, Value::Object(map))?;
            }
            Value::Object(map) => state.add_per_stream_object(map),
            Value::Bool(_) => return Err(StateInputError::WrongShape("a boolean")),
            Value::Number(_) => return Err(StateInputError::WrongShape("a number")),
            Value::String(_) => return Err(StateInputError::WrongShape("a string")),
        }
        Ok(state)
    }

    /// The blob for `stream`, if the state had one.
    pub(crate) fn get(&self, stream: &StreamDescriptor) -> Option<&Value> {
        self.streams.get(stream)
    }

    fn add_entry(&mut self, index: usize, entry: Value) -> Result<(), StateInputError> {
        // Some tools save whole messages ({"type":"STATE","state":{...}}): unwrap them.
        let entry = match entry {
            Value::Object(mut map)
                if map.get("type").and_then(Value::as_str) == Some("STATE")
                    && map.contains_key("state") =>
            {
                map.remove("state").unwrap_or(Value::Null)
            }
            other => other,
        };
        let message: StateMessage =
            serde_json::from_value(entry).map_err(|e| StateInputError::Entry {
                index,
                problem: format!("not a state message: {e}"),
            })?;
        match message.effective_type() {
            StateType::Stream => {
                let stream = message.stream.ok_or_else(|| StateInputError::Entry {
                    index,
                    problem: "type STREAM needs a \"stream\" object".into(),
                })?;
                self.add_stream(stream);
            }
            StateType::Global => {
                let global = message.global.ok_or_else(|| StateInputError::Entry {
                    index,
                    problem: "type GLOBAL needs a \"global\" object".into(),
                })?;
                self.shared_state = global.shared_state.filter(|s| !s.is_null());
                for stream in global.stream_states {
                    self.add_stream(stream);
                }
            }
            StateType::Legacy => match message.data {
                Some(Value::Object(map)) => self.add_per_stream_object(map),
                None | Some(Value::Null) => {}
                Some(_) => {
                    return Err(StateInputError::Entry {
                        index,
                        problem: "LEGACY \"data\" must be an object of per-stream states".into(),
                    })
                }
            },
        }
        Ok(())
    }

    fn add_stream(&mut self, stream: StreamState) {
        let descriptor = stream.stream_descriptor;
        match stream.stream_state {
            Some(blob) if !blob.is_null() => {
                self.streams.insert(descriptor, blob);
            }
            _ => {
                self.streams.remove(&descriptor);
            }
        }
    }

    fn add_per_stream_object(&mut self, map: Map<String, Value>) {
        for (name, blob) in map {
            if !blob.is_null() {
                self.streams.insert(StreamDescriptor::new(name), blob);
            }
        }
    }
}

/// A bare state payload, as opposed to Estuary's per-stream object (whose keys are stream
/// names, and a stream is never called `type`+`stream`).
fn looks_like_state_message(map: &Map<String, Value>) -> bool {
    let typed = map
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| STATE_TYPES.contains(&t) || t == "STATE");
    typed
        && (map.contains_key("stream")
            || map.contains_key("global")
            || map.contains_key("data")
            || map.contains_key("state"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn account() -> StreamDescriptor {
        StreamDescriptor::new("Account")
    }

    #[test]
    fn stream_state_array_is_normalised_per_stream() {
        let state = InputState::from_value(json!([
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": "Account"},
                                          "stream_state": {"SystemModstamp": "2024-01-01T00:00:00.000Z"}}},
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": "Lead", "namespace": null},
                                          "stream_state": {"LastModifiedDate": "x"}}, "id": 7}
        ]))
        .unwrap();
        assert_eq!(state.streams.len(), 2);
        assert_eq!(
            state.get(&account()).unwrap()["SystemModstamp"],
            "2024-01-01T00:00:00.000Z"
        );
        assert!(state.get(&StreamDescriptor::new("Lead")).is_some());
    }

    #[test]
    fn null_stream_state_means_start_over() {
        let state = InputState::from_value(json!([
            {"type": "STREAM", "stream": {"stream_descriptor": {"name": "Account"}, "stream_state": null}}
        ]))
        .unwrap();
        assert!(state.streams.is_empty());
    }

    #[test]
    fn empty_array_and_null_are_no_state() {
        assert_eq!(
            InputState::from_value(json!([])).unwrap(),
            InputState::default()
        );
        assert_eq!(
            InputState::from_value(Value::Null).unwrap(),
            InputState::default()
        );
    }

    #[test]
    fn estuary_per_stream_object_is_accepted() {
        let state = InputState::from_value(json!({
            "Account": {"SystemModstamp": "2024-01-01T00:00:00.000Z"},
            "WorkOrder": null
        }))
        .unwrap();
        assert_eq!(state.streams.len(), 1);
        assert!(state.get(&account()).is_some());
    }

    #[test]
    fn legacy_data_blob_is_split_per_stream() {
        let state = InputState::from_value(json!([
            {"type": "LEGACY", "data": {"Account": {"LastModifiedDate": "2023-01-01"}}}
        ]))
        .unwrap();
        assert_eq!(
            state.get(&account()).unwrap()["LastModifiedDate"],
            "2023-01-01"
        );
        // No `type` at all is LEGACY too.
        let state = InputState::from_value(json!([{"data": {"Account": {"a": 1}}}])).unwrap();
        assert!(state.get(&account()).is_some());
    }

    #[test]
    fn global_state_yields_stream_states_and_shared_state() {
        let state = InputState::from_value(json!([{"type": "GLOBAL", "global": {
            "shared_state": {"cursor": 1},
            "stream_states": [{"stream_descriptor": {"name": "Account"}, "stream_state": {"a": 1}}]
        }}]))
        .unwrap();
        assert_eq!(state.shared_state, Some(json!({"cursor": 1})));
        assert_eq!(state.get(&account()), Some(&json!({"a": 1})));
    }

    #[test]
    fn bare_state_message_object_is_accepted() {
        let state = InputState::from_value(json!({"type": "STREAM", "stream": {
            "stream_descriptor": {"name": "Account"}, "stream_state": {"a": 1}}}))
        .unwrap();
        assert_eq!(state.get(&account()), Some(&json!({"a": 1})));
    }

    #[test]
    fn malformed_entry_names_its_index() {
        let err = InputState::from_value(json!([{}, {"type": "STREAM"}])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "entry 1: type STREAM needs a \"stream\" object"
        );
        let err = InputState::from_value(json!([{"type": "SIDEWAYS"}])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("entry 0: not a state message: unknown variant `SIDEWAYS`"),
            "{err}"
        );
        let err = InputState::from_value(json!("yesterday")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected a JSON array of state messages or an object of per-stream states, got a string"
        );
    }

    #[test]
    fn unknown_fields_and_platform_id_survive_a_typed_round_trip() {
        let input = json!({"type": "STREAM", "stream": {"stream_descriptor": {"name": "Account"},
            "stream_state": {"a": 1}}, "sourceStats": {"recordCount": 12.0}, "id": 42, "future": "x"});
        let message: StateMessage = serde_json::from_value(input.clone()).unwrap();
        assert_eq!(message.extra["id"], 42);
        assert_eq!(serde_json::to_value(&message).unwrap(), input);
    }

    #[test]
    fn stats_counts_serialise_as_doubles() {
        let message = StateMessage::stream(account(), json!({"a": 1}), 12);
        let text = serde_json::to_string(&message).unwrap();
        assert!(
            text.contains(r#""sourceStats":{"recordCount":12.0}"#),
            "{text}"
        );
    }
}
