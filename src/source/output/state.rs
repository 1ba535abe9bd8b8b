//! Per-stream state: what this source reads back from `--state` and what it emits.
//!
//! **Emitted form** (per-stream STREAM state), chosen so Airbyte's Python source can read it back
//! and users can switch in both directions:
//! - incremental: the CDK's `date-range` form plus our own keys, which the CDK ignores:
//!   `{"state_type":"date-range","slices":[{"start":S,"end":E,"most_recent_cursor_value":M}],
//!   "deletions_checked_until":D}` — every record whose cursor is in `[S, E)` has been emitted;
//!   `D` is how far getDeleted has been checked for hard deletes. A stream followed through
//!   Change Data Capture adds `"cdc":{"topic":T,"replay_id":R}`: every change event of topic `T`
//!   up to replay id `R` (opaque bytes, base64) has been emitted; without CDC the key is absent
//!   and the blob is exactly what it was.
//! - full refresh, mid-stream: `{"full_refresh_after_id":"001…"}` — every row up to that Id (in
//!   Id order) has been emitted; a retry continues after it.
//! - full refresh, done: `{"__ab_full_refresh_sync_complete":true}` (the CDK's marker).
//!
//! **Accepted forms**: the above; Airbyte's older `{"SystemModstamp":"…"}` (any cursor name);
//! the CDK `date-range` form with several slices (the first contiguous range counts: the gaps
//! after it are read again, never skipped); the CDK's full refresh markers and `{}`/`null`
//! (no state). Datetimes in any Salesforce dialect.
//!
//! State never moves backwards: [`IncrementalState::advance`] only moves `end` forward.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use thiserror::Error;

use crate::salesforce::datetime::{datetime_literal, parse_datetime};

#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum StateError {
    #[error("state for stream {stream}: {problem}")]
    Invalid { stream: String, problem: String },
}

/// Progress of an incremental stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IncrementalState {
    /// Start of the covered range (absent in Airbyte's oldest state form).
    pub start: Option<DateTime<Utc>>,
    /// Every record with `start <= cursor < end` has been emitted.
    pub end: DateTime<Utc>,
    /// The greatest cursor value emitted so far, as `…000Z`.
    pub most_recent_cursor_value: Option<String>,
    /// getDeleted has been checked up to here.
    pub deletions_checked_until: Option<DateTime<Utc>>,
    /// Where a Change Data Capture stream's events have been emitted up to.
    pub cdc: Option<CdcPosition>,
}

/// A position in a Change Data Capture topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CdcPosition {
    pub topic: String,
    /// The replay id of the last event whose changes were emitted (or of a keepalive).
    pub replay_id: Vec<u8>,
}

impl CdcPosition {
    fn to_json(&self) -> Value {
        json!({"topic": self.topic, "replay_id": BASE64.encode(&self.replay_id)})
    }

    fn parse(value: &Value) -> Result<Option<CdcPosition>, String> {
        if value.is_null() {
            return Ok(None);
        }
        let topic = value.get("topic").and_then(Value::as_str);
        let replay_id = value
            .get("replay_id")
            .and_then(Value::as_str)
            .map(|text| BASE64.decode(text));
        match (topic, replay_id) {
            (Some(topic), Some(Ok(replay_id))) if !topic.is_empty() && !replay_id.is_empty() => {
                Ok(Some(CdcPosition {
                    topic: topic.to_string(),
                    replay_id,
                }))
            }
            _ => Err(format!(
                "cdc: expected {{\"topic\": \"/data/…ChangeEvent\", \"replay_id\": base64}}, got {}",
                short(value)
            )),
        }
    }
}

/// Progress of a full refresh stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FullRefreshState {
    /// Rows up to and including this Id, in Id order, were emitted.
    AfterId(String),
    /// The previous read finished; a new one starts from the beginning.
    Complete,
}

/// What `--state` held for one stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum StreamState {
    None,
    Incremental(IncrementalState),
    FullRefresh(FullRefreshState),
}

/// Keys Airbyte's source has used as cursors, for the old `{"<cursor>": "…"}` form.
const CURSOR_NAMES: [&str; 4] = [
    "SystemModstamp",
    "LastModifiedDate",
    "CreatedDate",
    "LoginTime",
];

impl StreamState {
    /// Reads one stream's state blob. `cursor_field` is the stream's cursor, if incremental.
    pub(crate) fn parse(
        stream: &str,
        cursor_field: Option<&str>,
        blob: &Value,
    ) -> Result<StreamState, StateError> {
        let invalid = |problem: String| StateError::Invalid {
            stream: stream.to_string(),
            problem,
        };
        let object = match blob {
            Value::Null => return Ok(StreamState::None),
            Value::Object(o) => o,
            other => {
                return Err(invalid(format!(
                    "expected a JSON object, got {}",
                    short(other)
                )))
            }
        };
        if object.is_empty()
            || object.contains_key("__ab_no_cursor_state_message")
            || object.contains_key("__ab_full_refresh_sync_complete")
        {
            if object.contains_key("__ab_full_refresh_sync_complete") {
                return Ok(StreamState::FullRefresh(FullRefreshState::Complete));
            }
            return Ok(StreamState::None);
        }
        if let Some(id) = object.get("full_refresh_after_id") {
            let id = id
                .as_str()
                .ok_or_else(|| invalid("full_refresh_after_id: expected a string Id".into()))?;
            return Ok(StreamState::FullRefresh(FullRefreshState::AfterId(
                id.to_string(),
            )));
        }
        let deletions_checked_until = match object.get("deletions_checked_until") {
            None | Some(Value::Null) => None,
            Some(v) => Some(datetime_value(v).ok_or_else(|| {
                invalid(format!(
                    "deletions_checked_until: expected a datetime, got {}",
                    short(v)
                ))
            })?),
        };
        let cdc = match object.get("cdc") {
            None => None,
            Some(v) => CdcPosition::parse(v).map_err(invalid)?,
        };
        if object.contains_key("state_type") || object.contains_key("slices") {
            return parse_date_range(object, deletions_checked_until, cdc).map_err(invalid);
        }
        let key = cursor_field
            .filter(|c| object.contains_key(*c))
            .or_else(|| CURSOR_NAMES.into_iter().find(|c| object.contains_key(*c)));
        if let Some(key) = key {
            let value = &object[key];
            if value.is_null() {
                return Ok(StreamState::None);
            }
            let end = datetime_value(value).ok_or_else(|| {
                invalid(format!("{key}: expected a datetime, got {}", short(value)))
            })?;
            return Ok(StreamState::Incremental(IncrementalState {
                start: None,
                end,
                most_recent_cursor_value: Some(datetime_literal(end)),
                deletions_checked_until,
                cdc,
            }));
        }
        let keys: Vec<&str> = object.keys().map(|k| k.as_str()).collect();
        Err(invalid(format!(
            "expected the date-range form, a {{\"{}\": datetime}} cursor or a full refresh marker, got keys {keys:?}",
            cursor_field.unwrap_or("SystemModstamp"),
        )))
    }
}

fn datetime_value(value: &Value) -> Option<DateTime<Utc>> {
    value.as_str().and_then(parse_datetime)
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 {
        format!("{}…", text.chars().take(80).collect::<String>())
    } else {
        text
    }
}

fn parse_date_range(
    object: &Map<String, Value>,
    deletions_checked_until: Option<DateTime<Utc>>,
    cdc: Option<CdcPosition>,
) -> Result<StreamState, String> {
    if let Some(kind) = object.get("state_type") {
        if kind.as_str() != Some("date-range") {
            return Err(format!(
                "state_type: expected \"date-range\", got {}",
                short(kind)
            ));
        }
    }
    let slices = match object.get("slices") {
        None | Some(Value::Null) => return Ok(StreamState::None),
        Some(Value::Array(slices)) => slices,
        Some(other) => return Err(format!("slices: expected an array, got {}", short(other))),
    };
    let mut ranges = Vec::with_capacity(slices.len());
    let mut most_recent: Option<String> = None;
    for (i, slice) in slices.iter().enumerate() {
        let get = |key: &str| -> Result<DateTime<Utc>, String> {
            let value = slice.get(key).unwrap_or(&Value::Null);
            datetime_value(value).ok_or_else(|| {
                format!(
                    "slices[{i}].{key}: expected a datetime, got {}",
                    short(value)
                )
            })
        };
        let (start, end) = (get("start")?, get("end")?);
        ranges.push((start, end));
        if let Some(value) = slice
            .get("most_recent_cursor_value")
            .and_then(datetime_value)
        {
            let value = datetime_literal(value);
            if most_recent.as_deref().is_none_or(|m| value.as_str() > m) {
                most_recent = Some(value);
            }
        }
    }
    if ranges.is_empty() {
        return Ok(StreamState::None);
    }
    ranges.sort();
    let (start, mut end) = ranges[0];
    for &(s, e) in &ranges[1..] {
        if s <= end {
            end = end.max(e);
        } else {
            break;
        }
    }
    Ok(StreamState::Incremental(IncrementalState {
        start: Some(start),
        end,
        most_recent_cursor_value: most_recent,
        deletions_checked_until,
        cdc,
    }))
}

impl IncrementalState {
    /// A fresh state covering nothing yet, starting at `start`.
    pub(crate) fn starting_at(start: DateTime<Utc>) -> IncrementalState {
        IncrementalState {
            start: Some(start),
            end: start,
            most_recent_cursor_value: None,
            deletions_checked_until: None,
            cdc: None,
        }
    }

    /// Records with cursor below `end` have all been emitted; the covered range grows to it.
    /// Never moves backwards.
    pub(crate) fn advance(&mut self, end: DateTime<Utc>) {
        if end > self.end {
            self.end = end;
        }
    }

    /// A record with this cursor (`…000Z`) was emitted.
    pub(crate) fn saw_cursor(&mut self, cursor: &str) {
        if !cursor.is_empty()
            && self
                .most_recent_cursor_value
                .as_deref()
                .is_none_or(|m| cursor > m)
        {
            self.most_recent_cursor_value = Some(cursor.to_string());
        }
    }

    /// getDeleted was checked up to `until`. Never moves backwards.
    pub(crate) fn deletions_checked(&mut self, until: DateTime<Utc>) {
        if self.deletions_checked_until.is_none_or(|d| until > d) {
            self.deletions_checked_until = Some(until);
        }
    }

    /// The blob emitted in STATE messages.
    pub(crate) fn to_json(&self) -> Value {
        let mut slice = Map::new();
        slice.insert(
            "start".into(),
            json!(datetime_literal(
                self.start.unwrap_or(self.end).min(self.end)
            )),
        );
        slice.insert("end".into(), json!(datetime_literal(self.end)));
        if let Some(m) = &self.most_recent_cursor_value {
            slice.insert("most_recent_cursor_value".into(), json!(m));
        }
        let mut blob = Map::new();
        blob.insert("state_type".into(), json!("date-range"));
        blob.insert("slices".into(), Value::Array(vec![Value::Object(slice)]));
        if let Some(d) = self.deletions_checked_until {
            blob.insert("deletions_checked_until".into(), json!(datetime_literal(d)));
        }
        if let Some(cdc) = &self.cdc {
            blob.insert("cdc".into(), cdc.to_json());
        }
        Value::Object(blob)
    }
}

impl FullRefreshState {
    /// The blob emitted in STATE messages.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            FullRefreshState::AfterId(id) => json!({ "full_refresh_after_id": id }),
            FullRefreshState::Complete => json!({ "__ab_full_refresh_sync_complete": true }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    fn parse(blob: Value) -> StreamState {
        StreamState::parse("Account", Some("SystemModstamp"), &blob).unwrap()
    }

    /// Why the state `blob` of stream `Account` (cursor `cursor`) is refused.
    fn refusal(cursor: Option<&str>, blob: &Value) -> String {
        StreamState::parse("Account", cursor, blob)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn airbytes_old_cursor_blob_is_accepted() {
        let state = parse(json!({"SystemModstamp": "2024-03-01T10:00:00.000+0000"}));
        let StreamState::Incremental(s) = state else {
            panic!("{state:?}")
        };
        assert_eq!(s.end, Utc.with_ymd_and_hms(2024, 3, 1, 10, 0, 0).unwrap());
        assert_eq!(s.start, None);
    }

    #[test]
    fn old_blob_with_another_cursor_name_is_accepted() {
        let state = StreamState::parse(
            "LoginHistory",
            Some("LoginTime"),
            &json!({"LoginTime": "2024-03-01T10:00:00Z"}),
        )
        .unwrap();
        assert!(matches!(state, StreamState::Incremental(_)));
    }

    #[test]
    fn cdk_date_range_uses_the_first_contiguous_range() {
        let state = parse(json!({"state_type": "date-range", "slices": [
            {"start": "2024-02-01T00:00:00.000Z", "end": "2024-03-01T00:00:00.000Z"},
            {"start": "2024-01-01T00:00:00.000Z", "end": "2024-02-01T00:00:00.000Z",
             "most_recent_cursor_value": "2024-01-20T00:00:00.000Z"},
            {"start": "2024-05-01T00:00:00.000Z", "end": "2024-06-01T00:00:00.000Z"}
        ]}));
        let StreamState::Incremental(s) = state else {
            panic!()
        };
        assert_eq!(s.start, Some(at(2024, 1, 1)));
        assert_eq!(s.end, at(2024, 3, 1), "the gap after March is read again");
        assert_eq!(
            s.most_recent_cursor_value.as_deref(),
            Some("2024-01-20T00:00:00.000Z")
        );
    }

    #[test]
    fn our_state_round_trips() {
        let mut state = IncrementalState::starting_at(at(2024, 1, 1));
        state.advance(at(2024, 2, 1));
        state.saw_cursor("2024-01-31T23:00:00.000Z");
        state.deletions_checked(at(2024, 2, 1));
        let blob = state.to_json();
        assert_eq!(blob["state_type"], "date-range");
        assert_eq!(blob["slices"][0]["end"], "2024-02-01T00:00:00.000Z");
        assert_eq!(parse(blob), StreamState::Incremental(state));
    }

    #[test]
    fn a_cdc_position_round_trips_and_bad_ones_name_the_key() {
        let mut state = IncrementalState::starting_at(at(2024, 1, 1));
        state.advance(at(2024, 2, 1));
        state.cdc = Some(CdcPosition {
            topic: "/data/AccountChangeEvent".into(),
            replay_id: vec![0, 0, 0, 0, 0, 0, 1, 255],
        });
        let blob = state.to_json();
        assert_eq!(blob["cdc"]["replay_id"], "AAAAAAAAAf8=");
        assert_eq!(parse(blob), StreamState::Incremental(state));
        let err = refusal(
            Some("SystemModstamp"),
            &json!({"state_type": "date-range", "slices": [], "cdc": {"topic": "/data/AccountChangeEvent", "replay_id": "%%"}}),
        );
        assert!(err.contains("cdc: expected"), "{err}");
    }

    #[test]
    fn state_never_moves_backwards() {
        let mut state = IncrementalState::starting_at(at(2024, 1, 1));
        state.advance(at(2024, 3, 1));
        state.advance(at(2024, 2, 1));
        assert_eq!(state.end, at(2024, 3, 1));
        state.saw_cursor("2024-02-01T00:00:00.000Z");
        state.saw_cursor("2024-01-01T00:00:00.000Z");
        assert_eq!(
            state.most_recent_cursor_value.as_deref(),
            Some("2024-02-01T00:00:00.000Z")
        );
        state.deletions_checked(at(2024, 3, 1));
        state.deletions_checked(at(2024, 1, 1));
        assert_eq!(state.deletions_checked_until, Some(at(2024, 3, 1)));
    }

    #[test]
    fn empty_and_marker_states_mean_no_state() {
        assert_eq!(parse(Value::Null), StreamState::None);
        assert_eq!(parse(json!({})), StreamState::None);
        assert_eq!(
            parse(json!({"__ab_no_cursor_state_message": true})),
            StreamState::None
        );
        assert_eq!(
            parse(json!({"__ab_full_refresh_sync_complete": true})),
            StreamState::FullRefresh(FullRefreshState::Complete)
        );
        assert_eq!(
            parse(json!({"state_type": "date-range", "slices": []})),
            StreamState::None
        );
    }

    #[test]
    fn full_refresh_progress_round_trips() {
        let state = FullRefreshState::AfterId("001000000000123AAA".into());
        assert_eq!(parse(state.to_json()), StreamState::FullRefresh(state));
    }

    #[test]
    fn bad_state_names_the_stream_and_the_key() {
        let err = refusal(
            Some("SystemModstamp"),
            &json!({"SystemModstamp": "yesterday"}),
        );
        assert_eq!(
            err,
            "state for stream Account: SystemModstamp: expected a datetime, got \"yesterday\""
        );
        let err = refusal(None, &json!({"foo": 1}));
        assert!(err.contains("foo"), "{err}");
        let err = refusal(
            None,
            &json!({"state_type": "date-range", "slices": [{"start": "x"}]}),
        );
        assert!(err.contains("slices[0].start"), "{err}");
    }
}
