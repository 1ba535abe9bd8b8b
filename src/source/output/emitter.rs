//! One stream's protocol output: RECORD lines serialised by hand, STATE with the count of records
//! since the previous one, STREAM_STATUS, ESTIMATE, and progress LOG lines at a sane rate.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::protocol::{
    now_ms, ErrorTrace, EstimateTrace, EstimateType, Message, Output, OutputError, StateMessage,
    StreamDescriptor, StreamStatus, StreamStatusTrace, Trace,
};

use crate::source::decode::json_write::write_str;

/// How often a stream logs its progress.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);

/// Writes one stream's messages.
pub(crate) struct StreamEmitter {
    output: Output,
    descriptor: StreamDescriptor,
    /// `{"type":"RECORD","record":{"stream":"X","data":`
    prefix: Vec<u8>,
    line: Vec<u8>,
    since_state: u64,
    total: u64,
    running: bool,
    started: Instant,
    last_log: Instant,
    logged_total: u64,
    /// `,"emitted_at":<ms>}}`, refreshed every [`EMITTED_AT_EVERY`] records.
    suffix: Vec<u8>,
}

/// Records that share one `emitted_at` reading of the clock (a few milliseconds' worth).
const EMITTED_AT_EVERY: u64 = 256;

impl StreamEmitter {
    pub(crate) fn new(output: Output, descriptor: StreamDescriptor) -> StreamEmitter {
        let mut prefix = Vec::with_capacity(64);
        prefix.extend_from_slice(br#"{"type":"RECORD","record":{"stream":"#);
        write_str(&mut prefix, &descriptor.name);
        if let Some(namespace) = &descriptor.namespace {
            prefix.extend_from_slice(br#","namespace":"#);
            write_str(&mut prefix, namespace);
        }
        prefix.extend_from_slice(br#","data":"#);
        let now = Instant::now();
        StreamEmitter {
            output,
            descriptor,
            line: Vec::with_capacity(4096),
            prefix,
            since_state: 0,
            total: 0,
            running: false,
            started: now,
            last_log: now,
            logged_total: 0,
            suffix: Vec::with_capacity(32),
        }
    }

    /// Records emitted so far.
    #[cfg(test)]
    pub(crate) fn total(&self) -> u64 {
        self.total
    }

    /// Records emitted since the last STATE.
    pub(crate) fn since_state(&self) -> u64 {
        self.since_state
    }

    /// A buffer holding the RECORD prefix; append the data object, then call
    /// [`StreamEmitter::emit_record`].
    pub(crate) fn begin_record(&mut self) -> &mut Vec<u8> {
        self.line.clear();
        self.line.extend_from_slice(&self.prefix);
        &mut self.line
    }

    /// Writes the record begun with [`StreamEmitter::begin_record`].
    pub(crate) fn emit_record(&mut self) -> Result<(), OutputError> {
        if !self.running {
            self.status(StreamStatus::Running)?;
            self.running = true;
        }
        if self.total % EMITTED_AT_EVERY == 0 {
            self.suffix.clear();
            self.suffix.extend_from_slice(br#","emitted_at":"#);
            self.suffix
                .extend_from_slice(now_ms().to_string().as_bytes());
            self.suffix.extend_from_slice(b"}}");
        }
        self.line.extend_from_slice(&self.suffix);
        self.output.write_record_line(&self.line)?;
        self.since_state += 1;
        self.total += 1;
        if self.total % 4096 == 0 {
            self.maybe_log_progress();
        }
        Ok(())
    }

    /// Emits a STATE for this stream with the records since the previous one.
    pub(crate) fn state(&mut self, blob: Value) -> Result<(), OutputError> {
        let message = StateMessage::stream(self.descriptor.clone(), blob, self.since_state);
        self.output.write(&Message::State(message))?;
        self.since_state = 0;
        Ok(())
    }

    /// Writes out what is buffered (a stream following change events hands each batch over at
    /// once instead of when the buffer fills).
    pub(crate) fn flush(&self) -> Result<(), OutputError> {
        self.output.flush()
    }

    pub(crate) fn status(&mut self, status: StreamStatus) -> Result<(), OutputError> {
        if status == StreamStatus::Running {
            self.running = true;
        }
        self.output
            .write(&Message::Trace(Trace::stream_status(StreamStatusTrace {
                stream_descriptor: self.descriptor.clone(),
                status,
                reasons: None,
            })))
    }

    /// A TRACE ESTIMATE of the rows this stream will emit.
    pub(crate) fn estimate(&self, rows: u64) -> Result<(), OutputError> {
        self.output
            .write(&Message::Trace(Trace::estimate(EstimateTrace {
                name: self.descriptor.name.clone(),
                estimate_type: EstimateType::Stream,
                namespace: self.descriptor.namespace.clone(),
                row_estimate: Some(rows.min(i64::MAX as u64) as i64),
                byte_estimate: None,
            })))
    }

    /// A TRACE ERROR naming this stream.
    pub(crate) fn error(&self, mut error: ErrorTrace) -> Result<(), OutputError> {
        error.stream_descriptor = Some(self.descriptor.clone());
        self.output.write(&Message::Trace(Trace::error(error)))
    }

    fn maybe_log_progress(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.last_log) >= PROGRESS_EVERY {
            let window = now.duration_since(self.last_log).as_secs_f64();
            let rate = (self.total - self.logged_total) as f64 / window;
            tracing::info!(
                "{}: {} records so far, {:.0} records/s",
                self.descriptor,
                self.total,
                rate
            );
            self.last_log = now;
            self.logged_total = self.total;
        }
    }

    /// Logs the stream's total and overall rate.
    pub(crate) fn log_summary(&self) {
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        tracing::info!(
            "{}: {} records in {:.1} s ({:.0} records/s)",
            self.descriptor,
            self.total,
            secs,
            self.total as f64 / secs
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::MemoryOutput;

    #[test]
    fn records_are_valid_messages_and_states_count_them() {
        let (memory, output) = MemoryOutput::with_output();
        let mut emitter = StreamEmitter::new(output.clone(), StreamDescriptor::new("Acc\"ount"));
        for i in 0..3 {
            emitter
                .begin_record()
                .extend_from_slice(format!("{{\"Id\":\"{i}\"}}").as_bytes());
            emitter.emit_record().unwrap();
        }
        emitter.state(serde_json::json!({"x": 1})).unwrap();
        output.flush().unwrap();
        let lines = memory.json_lines();
        assert_eq!(lines[0]["trace"]["stream_status"]["status"], "RUNNING");
        assert_eq!(lines[1]["type"], "RECORD");
        assert_eq!(lines[1]["record"]["stream"], "Acc\"ount");
        assert_eq!(lines[1]["record"]["data"]["Id"], "0");
        assert!(lines[1]["record"]["emitted_at"].as_i64().unwrap() > 0);
        assert_eq!(lines[4]["type"], "STATE");
        assert_eq!(lines[4]["state"]["sourceStats"]["recordCount"], 3.0);
        assert_eq!(emitter.since_state(), 0);
        assert_eq!(emitter.total(), 3);
    }
}
