//! The one way anything reaches stdout: compact JSON messages, one per line, through a
//! shared buffer.
//!
//! Cheap to clone and safe to use from many tokio tasks: every write takes a short mutex
//! around an in-memory buffer, so lines never interleave. STATE messages flush the buffer, so
//! a state reaches the platform no later than the records it covers. Records can be handed in
//! pre-serialised ([`Output::write_record_line`]) so a source emitting millions of them
//! serialises each once, into its own buffer, outside the lock ([`serialize_record_line`]).
//! Writes are synchronous: when the platform stops reading stdout, the writing task blocks,
//! which is the back-pressure the source wants (it stops pulling from Salesforce).

use std::io::{self, BufWriter, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::value::RawValue;

use super::messages::Message;
use crate::secret::redact;

/// Size of the stdout buffer; large enough that a record-heavy read makes few syscalls.
const BUFFER_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write to stdout: {0}")]
    Io(#[from] io::Error),
    #[error("cannot serialise a {message_type} message: {source}")]
    Serialize {
        message_type: &'static str,
        source: serde_json::Error,
    },
    #[error("a pre-serialised line must be one JSON object without a newline")]
    NotOneLine,
}

/// Shared, buffered protocol output.
#[derive(Clone)]
pub struct Output {
    inner: Arc<Mutex<BufWriter<Box<dyn Write + Send>>>>,
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Output")
    }
}

impl Output {
    /// Output to the process's stdout.
    pub fn stdout() -> Self {
        Output::new(io::stdout())
    }

    /// Output to any writer (tests use a [`MemoryOutput`]).
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        Output {
            inner: Arc::new(Mutex::new(BufWriter::with_capacity(
                BUFFER_BYTES,
                Box::new(writer),
            ))),
        }
    }

    /// Writes one message. STATE and TRACE ERROR messages are flushed at once.
    pub fn write(&self, message: &Message) -> Result<(), OutputError> {
        let mut line = serialize(message).map_err(|source| OutputError::Serialize {
            message_type: message.type_name(),
            source,
        })?;
        line.push(b'\n');
        let flush = matches!(message, Message::State(_))
            || matches!(message, Message::Trace(t) if t.error.is_some());
        let mut out = self.lock();
        out.write_all(&line)?;
        if flush {
            out.flush()?;
        }
        Ok(())
    }

    /// Writes a RECORD message its caller serialised itself (`{"type":"RECORD",...}`, no
    /// trailing newline). Not flushed: records ride in the buffer until a STATE or the end.
    pub fn write_record_line(&self, line: &[u8]) -> Result<(), OutputError> {
        if line.first() != Some(&b'{') || line.contains(&b'\n') {
            return Err(OutputError::NotOneLine);
        }
        let mut out = self.lock();
        out.write_all(line)?;
        out.write_all(b"\n")?;
        Ok(())
    }

    /// Echoes a STATE payload byte for byte (`{"type":"STATE","state":<raw>}`) and flushes.
    /// The destination uses this so the platform's `id` and unknown fields come back intact.
    pub fn write_state_raw(&self, state: &RawValue) -> Result<(), OutputError> {
        let mut out = self.lock();
        out.write_all(br#"{"type":"STATE","state":"#)?;
        out.write_all(state.get().as_bytes())?;
        out.write_all(b"}\n")?;
        out.flush()?;
        Ok(())
    }

    /// Pushes everything buffered to stdout.
    pub fn flush(&self) -> Result<(), OutputError> {
        self.lock().flush()?;
        Ok(())
    }

    /// Best effort for the panic hook: never blocks on a lock another thread holds, never
    /// panics. Returns whether the message was written through the shared buffer.
    pub fn write_for_panic(&self, message: &Message) -> bool {
        let Ok(mut line) = serialize(message) else {
            return false;
        };
        line.push(b'\n');
        let mut guard = match self.inner.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return false,
        };
        // Holding the lock means no write is half done: every line goes in with one
        // `write_all` under the lock, and nothing in there panics.
        guard.write_all(&line).and_then(|_| guard.flush()).is_ok()
    }

    fn lock(&self) -> MutexGuard<'_, BufWriter<Box<dyn Write + Send>>> {
        // A panic elsewhere while holding the lock leaves whole lines behind (each line is
        // one write_all into the buffer), so the buffer is still usable.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Serialises a RECORD message line (no newline) into `buffer`, straight from borrowed data:
/// the cheap path for a source that emits millions of records, paired with
/// [`Output::write_record_line`].
#[cfg(test)]
pub(crate) fn serialize_record_line<T: serde::Serialize + ?Sized>(
    buffer: &mut Vec<u8>,
    namespace: Option<&str>,
    stream: &str,
    data: &T,
    emitted_at: i64,
) -> Result<(), serde_json::Error> {
    #[derive(serde::Serialize)]
    struct RecordRef<'a, T: ?Sized> {
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<&'a str>,
        stream: &'a str,
        data: &'a T,
        emitted_at: i64,
    }
    #[derive(serde::Serialize)]
    struct Envelope<'a, T: ?Sized> {
        #[serde(rename = "type")]
        message_type: &'static str,
        record: RecordRef<'a, T>,
    }
    serde_json::to_writer(
        &mut *buffer,
        &Envelope {
            message_type: "RECORD",
            record: RecordRef {
                namespace,
                stream,
                data,
                emitted_at,
            },
        },
    )
}

/// One message as JSON; LOG and TRACE lines are scrubbed of registered secrets (CONTROL is
/// not: it carries the config on purpose).
fn serialize(message: &Message) -> Result<Vec<u8>, serde_json::Error> {
    let line = serde_json::to_vec(message)?;
    if !matches!(message, Message::Log(_) | Message::Trace(_)) {
        return Ok(line);
    }
    let text = String::from_utf8_lossy(&line);
    Ok(match redact(&text) {
        std::borrow::Cow::Borrowed(_) => line,
        std::borrow::Cow::Owned(scrubbed) => scrubbed.into_bytes(),
    })
}

/// An in-memory sink for tests: clone it, give one clone to [`Output::new`], read the other.
#[derive(Clone, Default, Debug)]
pub struct MemoryOutput(Arc<Mutex<Vec<u8>>>);

impl MemoryOutput {
    pub fn new() -> Self {
        Self::default()
    }

    /// A new sink and an [`Output`] writing into it.
    pub fn with_output() -> (Self, Output) {
        let sink = Self::new();
        let output = Output::new(sink.clone());
        (sink, output)
    }

    /// Everything written (and flushed) so far, as text.
    pub fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner());
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Every line parsed as JSON. Panics on a non-JSON line (test helper).
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).expect("every output line is JSON"))
            .collect()
    }
}

impl Write for MemoryOutput {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::{
        ConnectionStatus, ErrorTrace, FailureType, Log, LogLevel, StateMessage, Status,
        StreamDescriptor, Trace,
    };
    use serde_json::json;

    fn log(text: &str) -> Message {
        Message::Log(Log {
            level: LogLevel::Info,
            message: text.into(),
            stack_trace: None,
        })
    }

    #[test]
    fn messages_are_compact_single_lines() {
        let (sink, output) = MemoryOutput::with_output();
        output.write(&log("line one\nline two")).unwrap();
        output
            .write(&Message::ConnectionStatus(ConnectionStatus {
                status: Status::Succeeded,
                message: None,
            }))
            .unwrap();
        output.flush().unwrap();
        assert_eq!(
            sink.text(),
            "{\"type\":\"LOG\",\"log\":{\"level\":\"INFO\",\"message\":\"line one\\nline two\"}}\n\
             {\"type\":\"CONNECTION_STATUS\",\"connectionStatus\":{\"status\":\"SUCCEEDED\"}}\n"
        );
    }

    #[test]
    fn records_stay_buffered_until_a_state_flushes_them() {
        let (sink, output) = MemoryOutput::with_output();
        output
            .write_record_line(
                br#"{"type":"RECORD","record":{"stream":"A","data":{"x":1},"emitted_at":1}}"#,
            )
            .unwrap();
        assert_eq!(sink.text(), "", "records are buffered");
        output
            .write(&Message::State(StateMessage::stream(
                StreamDescriptor::new("A"),
                json!({"x": 1}),
                1,
            )))
            .unwrap();
        let lines = sink.json_lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["type"], "RECORD");
        assert_eq!(lines[1]["type"], "STATE");
    }

    #[test]
    fn trace_error_is_flushed_at_once() {
        let (sink, output) = MemoryOutput::with_output();
        output
            .write(&Message::Trace(Trace::error(ErrorTrace::new(
                FailureType::SystemError,
                "boom",
            ))))
            .unwrap();
        assert_eq!(sink.json_lines()[0]["trace"]["error"]["message"], "boom");
    }

    #[test]
    fn borrowed_records_serialise_like_owned_ones() {
        let data = json!({"Id": "001", "Name": "line\nbreak"});
        let mut line = Vec::new();
        serialize_record_line(&mut line, None, "Account", &data, 1717236000123).unwrap();
        let owned = Message::Record(crate::protocol::Record {
            namespace: None,
            stream: "Account".into(),
            data: data.as_object().unwrap().clone(),
            emitted_at: 1717236000123,
            meta: None,
        });
        assert_eq!(line, serde_json::to_vec(&owned).unwrap());
        let (sink, output) = MemoryOutput::with_output();
        output.write_record_line(&line).unwrap();
        output.flush().unwrap();
        assert_eq!(sink.json_lines().len(), 1);
    }

    #[test]
    fn pre_serialised_line_must_be_one_object() {
        let output = Output::new(MemoryOutput::new());
        assert!(matches!(
            output.write_record_line(b"{\"a\":1}\n{\"b\":2}"),
            Err(OutputError::NotOneLine)
        ));
        assert!(matches!(
            output.write_record_line(b"not json"),
            Err(OutputError::NotOneLine)
        ));
    }

    #[test]
    fn raw_state_is_echoed_byte_for_byte() {
        let (sink, output) = MemoryOutput::with_output();
        let raw = r#"{"type":"STREAM","stream":{"stream_descriptor":{"name":"A"},"stream_state":{"c":1.50}},"id":9,"sourceStats":{"recordCount":3.0}}"#;
        let state: Box<RawValue> = serde_json::from_str(raw).unwrap();
        output.write_state_raw(&state).unwrap();
        assert_eq!(
            sink.text(),
            format!("{{\"type\":\"STATE\",\"state\":{raw}}}\n")
        );
    }

    #[test]
    fn logs_and_traces_are_scrubbed_of_registered_secrets() {
        crate::secret::register_secret("writer-test-secret-9f3a");
        let (sink, output) = MemoryOutput::with_output();
        output
            .write(&log("got writer-test-secret-9f3a back"))
            .unwrap();
        output
            .write(&Message::Trace(Trace::error(ErrorTrace::new(
                FailureType::ConfigError,
                "bad token writer-test-secret-9f3a",
            ))))
            .unwrap();
        let text = sink.text();
        assert!(!text.contains("writer-test-secret-9f3a"), "{text}");
        assert_eq!(text.matches("**********").count(), 2);
    }

    #[test]
    fn concurrent_writers_never_interleave_lines() {
        let (sink, output) = MemoryOutput::with_output();
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let output = output.clone();
                std::thread::spawn(move || {
                    for i in 0..500 {
                        output
                            .write(&log(&format!("thread {t} message {i}")))
                            .unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        output.flush().unwrap();
        let lines = sink.json_lines();
        assert_eq!(lines.len(), 2000);
    }
}
