//! Emitting one query's records and the STATE messages between them.
//!
//! A STATE inside a query is only ever emitted where it is exact:
//! - incremental, rows ordered by cursor: when the cursor value changes, every row with a smaller
//!   cursor has been emitted, so the state's end moves to the new value (rows sharing it are read
//!   again after a resume, never lost);
//! - full refresh, rows ordered by Id: after a row, every row up to its Id has been emitted.
//!
//! Unordered queries get a STATE only when they complete (the window's end).

use crate::protocol::OutputError;

use crate::salesforce::datetime::parse_datetime;
use crate::source::decode::convert::RecordKeys;
use crate::source::output::emitter::StreamEmitter;
use crate::source::output::sink::RecordSink;
use crate::source::output::state::{FullRefreshState, IncrementalState};

/// What a query's records advance.
pub(crate) enum Progress<'s> {
    Incremental {
        state: &'s mut IncrementalState,
        /// Rows arrive in cursor order.
        ordered: bool,
        last_cursor: String,
    },
    FullRefresh {
        /// Rows arrive in Id order.
        ordered: bool,
    },
}

/// A [`RecordSink`] that emits records and exact mid-query STATEs.
pub(crate) struct CheckpointSink<'e, 's> {
    pub emitter: &'e mut StreamEmitter,
    pub progress: Progress<'s>,
    pub checkpoint_every: u64,
    /// Rows announced by ESTIMATEs of earlier queries of this stream.
    pub estimated_before: u64,
}

impl RecordSink for CheckpointSink<'_, '_> {
    type Error = OutputError;

    fn record(&mut self, data: &[u8], keys: &RecordKeys) -> Result<(), OutputError> {
        let due = self.emitter.since_state() >= self.checkpoint_every;
        match &mut self.progress {
            Progress::Incremental {
                state,
                ordered,
                last_cursor,
            } => {
                if keys.cursor.as_str() != last_cursor.as_str() {
                    if *ordered && due && !last_cursor.is_empty() && keys.cursor > *last_cursor {
                        if let Some(at) = parse_datetime(&keys.cursor) {
                            state.advance(at);
                            self.emitter.state(state.to_json())?;
                        }
                    }
                    last_cursor.clear();
                    last_cursor.push_str(&keys.cursor);
                }
                self.emitter.begin_record().extend_from_slice(data);
                self.emitter.emit_record()?;
                state.saw_cursor(&keys.cursor);
            }
            Progress::FullRefresh { ordered } => {
                self.emitter.begin_record().extend_from_slice(data);
                self.emitter.emit_record()?;
                let due = self.emitter.since_state() >= self.checkpoint_every;
                if *ordered && due && !keys.id.is_empty() {
                    self.emitter
                        .state(FullRefreshState::AfterId(keys.id.clone()).to_json())?;
                }
            }
        }
        Ok(())
    }

    fn estimate(&mut self, rows: u64) -> Result<(), OutputError> {
        self.emitter.estimate(self.estimated_before + rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{MemoryOutput, StreamDescriptor};
    use chrono::{TimeZone, Utc};

    fn keys(id: &str, cursor: &str) -> RecordKeys {
        RecordKeys {
            id: id.into(),
            cursor: cursor.into(),
        }
    }

    #[test]
    fn ordered_incremental_states_never_pass_an_unemitted_row() {
        let (memory, output) = MemoryOutput::with_output();
        let mut emitter = StreamEmitter::new(output.clone(), StreamDescriptor::new("Account"));
        let start = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let mut state = IncrementalState::starting_at(start);
        let rows = [
            ("1", "2024-01-02T00:00:00.000Z"),
            ("2", "2024-01-02T00:00:00.000Z"),
            ("3", "2024-01-03T00:00:00.000Z"),
            ("4", "2024-01-03T00:00:00.000Z"),
            ("5", "2024-01-04T00:00:00.000Z"),
        ];
        {
            let mut sink = CheckpointSink {
                emitter: &mut emitter,
                progress: Progress::Incremental {
                    state: &mut state,
                    ordered: true,
                    last_cursor: String::new(),
                },
                checkpoint_every: 1,
                estimated_before: 0,
            };
            for (id, cursor) in rows {
                sink.record(format!("{{\"Id\":\"{id}\"}}").as_bytes(), &keys(id, cursor))
                    .unwrap();
            }
        }
        output.flush().unwrap();
        // Walk the output: at every STATE, each emitted row's cursor is below the state's end,
        // and every row not yet emitted has a cursor at or above it.
        let lines = memory.json_lines();
        let mut emitted = 0;
        let mut states = 0;
        for line in &lines {
            match line["type"].as_str() {
                Some("RECORD") => emitted += 1,
                Some("STATE") => {
                    states += 1;
                    let end = line["state"]["stream"]["stream_state"]["slices"][0]["end"]
                        .as_str()
                        .unwrap()
                        .to_string();
                    for (i, (_, cursor)) in rows.iter().enumerate() {
                        if i < emitted {
                            assert!(*cursor < end.as_str(), "emitted row {i} not below {end}");
                        } else {
                            assert!(*cursor >= end.as_str(), "unemitted row {i} below {end}");
                        }
                    }
                }
                _ => {}
            }
        }
        assert_eq!(emitted, 5);
        assert_eq!(
            states, 2,
            "a STATE where the cursor moved to 01-03 and to 01-04"
        );
        assert_eq!(
            state.most_recent_cursor_value.as_deref(),
            Some("2024-01-04T00:00:00.000Z")
        );
    }

    #[test]
    fn unordered_rows_get_no_state_inside_the_query() {
        let (memory, output) = MemoryOutput::with_output();
        let mut emitter = StreamEmitter::new(output.clone(), StreamDescriptor::new("Account"));
        let mut state =
            IncrementalState::starting_at(Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap());
        let mut sink = CheckpointSink {
            emitter: &mut emitter,
            progress: Progress::Incremental {
                state: &mut state,
                ordered: false,
                last_cursor: String::new(),
            },
            checkpoint_every: 1,
            estimated_before: 0,
        };
        for (id, cursor) in [
            ("1", "2024-01-03T00:00:00.000Z"),
            ("2", "2024-01-02T00:00:00.000Z"),
        ] {
            sink.record(b"{}", &keys(id, cursor)).unwrap();
        }
        output.flush().unwrap();
        assert!(memory.json_lines().iter().all(|l| l["type"] != "STATE"));
    }

    #[test]
    fn ordered_full_refresh_states_name_the_last_emitted_id() {
        let (memory, output) = MemoryOutput::with_output();
        let mut emitter = StreamEmitter::new(output.clone(), StreamDescriptor::new("Account"));
        let mut sink = CheckpointSink {
            emitter: &mut emitter,
            progress: Progress::FullRefresh { ordered: true },
            checkpoint_every: 2,
            estimated_before: 0,
        };
        for id in ["a", "b", "c", "d"] {
            sink.record(b"{}", &keys(id, "")).unwrap();
        }
        output.flush().unwrap();
        let states: Vec<String> = memory
            .json_lines()
            .iter()
            .filter(|l| l["type"] == "STATE")
            .map(|l| {
                l["state"]["stream"]["stream_state"]["full_refresh_after_id"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(states, vec!["b", "d"]);
    }
}
