//! Reads protocol messages from stdin, one JSON object per line.
//!
//! Errors name the line number and what was wrong. Message types this connector does not know
//! are skipped and unknown fields ignored, as the protocol asks; each is logged once.
//! STATE payloads keep their raw bytes so a destination can echo them verbatim.

use std::collections::HashSet;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::messages::{Message, Record};
use super::state::StateMessage;

/// What a destination receives on stdin.
#[derive(Debug)]
pub(crate) enum InputMessage {
    Record(Record),
    State(InputStateMessage),
    /// Any other known message (TRACE STREAM_STATUS, LOG, CONTROL...): validated, then ignored
    /// by the destination (the tests look inside).
    Other(#[allow(dead_code)] Message),
}

/// A STATE as it arrived: typed for reading, raw for echoing.
#[derive(Debug)]
pub(crate) struct InputStateMessage {
    pub message: StateMessage,
    pub raw: Box<RawValue>,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("stdin line {line}: {problem}")]
    Line { line: u64, problem: String },
}

/// Parses lines and remembers which unknown types it already logged.
#[derive(Debug, Default)]
pub(crate) struct MessageParser {
    line: u64,
    unknown_types_logged: HashSet<String>,
    unknown_fields_logged: HashSet<String>,
    /// What was logged, in order: the unit tests read it here, because tracing's subscriber and
    /// its callsite cache are global and shared with every other test thread.
    #[cfg(test)]
    logged: Vec<String>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", default)]
    message_type: Option<String>,
    #[serde(borrow, default)]
    record: Option<&'a RawValue>,
    #[serde(borrow, default)]
    state: Option<&'a RawValue>,
    #[serde(borrow, default)]
    log: Option<&'a RawValue>,
    #[serde(borrow, default)]
    spec: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "connectionStatus")]
    connection_status: Option<&'a RawValue>,
    #[serde(borrow, default)]
    catalog: Option<&'a RawValue>,
    #[serde(borrow, default)]
    trace: Option<&'a RawValue>,
    #[serde(borrow, default)]
    control: Option<&'a RawValue>,
    #[serde(borrow, default)]
    destination_catalog: Option<&'a RawValue>,
}

impl MessageParser {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Parses the next line. `Ok(None)` for a blank line or a message type to skip.
    pub(crate) fn parse_line(&mut self, bytes: &[u8]) -> Result<Option<InputMessage>, ReadError> {
        self.line += 1;
        let line = self.line;
        let fail = |problem: String| ReadError::Line { line, problem };
        let text = std::str::from_utf8(bytes)
            .map_err(|e| fail(format!("not UTF-8 ({e})")))?
            .trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            return Ok(None);
        }
        let envelope: Envelope = serde_json::from_str(text).map_err(|e| {
            fail(format!(
                "expected one JSON object per line ({})",
                describe_json_error(&e, 0)
            ))
        })?;
        let Some(message_type) = envelope.message_type.as_deref() else {
            return Err(fail("message has no \"type\"".into()));
        };
        // Fields the types do not know are collected (to log once) and otherwise ignored.
        let mut payloads = Payloads {
            line,
            text,
            message_type,
            unknown_fields: Vec::new(),
        };
        let parsed = match message_type {
            "RECORD" => InputMessage::Record(payloads.read(envelope.record, "record")?),
            "STATE" => {
                let raw = payloads.raw(envelope.state, "state")?;
                InputMessage::State(InputStateMessage {
                    message: payloads.typed(raw)?,
                    raw: raw.to_owned(),
                })
            }
            "LOG" => InputMessage::Other(Message::Log(payloads.read(envelope.log, "log")?)),
            "SPEC" => InputMessage::Other(Message::Spec(Box::new(
                payloads.read(envelope.spec, "spec")?,
            ))),
            "CONNECTION_STATUS" => InputMessage::Other(Message::ConnectionStatus(
                payloads.read(envelope.connection_status, "connectionStatus")?,
            )),
            "CATALOG" => InputMessage::Other(Message::Catalog(
                payloads.read(envelope.catalog, "catalog")?,
            )),
            "TRACE" => InputMessage::Other(Message::Trace(payloads.read(envelope.trace, "trace")?)),
            "CONTROL" => InputMessage::Other(Message::Control(
                payloads.read(envelope.control, "control")?,
            )),
            "DESTINATION_CATALOG" => InputMessage::Other(Message::DestinationCatalog(
                payloads.read(envelope.destination_catalog, "destination_catalog")?,
            )),
            unknown => {
                if self.unknown_types_logged.insert(unknown.to_owned()) {
                    let message = format!(
                        "stdin line {line}: skipping messages of unknown type {unknown:?} \
                         (logged once per type)"
                    );
                    tracing::warn!("{message}");
                    #[cfg(test)]
                    self.logged.push(message);
                }
                return Ok(None);
            }
        };
        for field in payloads.unknown_fields {
            let key = format!("{message_type}.{field}");
            if self.unknown_fields_logged.insert(key.clone()) {
                let message = format!(
                    "stdin line {line}: ignoring field {key} this connector does not know \
                     (logged once per field)"
                );
                tracing::info!("{message}");
                #[cfg(test)]
                self.logged.push(message);
            }
        }
        Ok(Some(parsed))
    }
}

/// The payload objects of one line's message, and the fields of them its types do not know.
struct Payloads<'a> {
    line: u64,
    text: &'a str,
    message_type: &'a str,
    unknown_fields: Vec<String>,
}

impl<'a> Payloads<'a> {
    /// The payload object under `key`, deserialised.
    fn read<T: Deserialize<'a>>(
        &mut self,
        value: Option<&'a RawValue>,
        key: &str,
    ) -> Result<T, ReadError> {
        let raw = self.raw(value, key)?;
        self.typed(raw)
    }

    /// The payload object under `key`, or what is missing.
    fn raw(&self, value: Option<&'a RawValue>, key: &str) -> Result<&'a RawValue, ReadError> {
        value.ok_or_else(|| {
            self.fail(format!(
                "{} message has no \"{key}\" object",
                self.message_type
            ))
        })
    }

    /// Deserialises a payload, collecting the paths of fields `T` does not know. Error columns
    /// count from the start of the line, not of the payload.
    fn typed<T: Deserialize<'a>>(&mut self, raw: &'a RawValue) -> Result<T, ReadError> {
        let mut deserializer = serde_json::Deserializer::from_str(raw.get());
        let unknown_fields = &mut self.unknown_fields;
        serde_ignored::deserialize(&mut deserializer, |path| {
            unknown_fields.push(path.to_string());
        })
        .map_err(|e| {
            let offset = (raw.get().as_ptr() as usize).saturating_sub(self.text.as_ptr() as usize);
            self.fail(format!(
                "invalid {}: {}",
                self.message_type,
                describe_json_error(&e, offset)
            ))
        })
    }

    fn fail(&self, problem: String) -> ReadError {
        ReadError::Line {
            line: self.line,
            problem,
        }
    }
}

/// serde_json's message without its "at line 1 column N" suffix plus the column, which is
/// all that matters on a one-line message.
fn describe_json_error(error: &serde_json::Error, offset: usize) -> String {
    let text = error.to_string();
    let text = match text.rfind(" at line ") {
        Some(at) => &text[..at],
        None => &text,
    };
    format!("{text} at column {}", error.column() + offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::BufRead;

    /// Reads messages from a blocking reader: the parser fed line by line, as the destination does.
    struct MessageReader<R> {
        input: R,
        parser: MessageParser,
        buffer: Vec<u8>,
    }

    impl<R: BufRead> MessageReader<R> {
        fn new(input: R) -> Self {
            MessageReader {
                input,
                parser: MessageParser::new(),
                buffer: Vec::new(),
            }
        }
    }

    impl<R: BufRead> Iterator for MessageReader<R> {
        type Item = Result<InputMessage, ReadError>;

        fn next(&mut self) -> Option<Self::Item> {
            loop {
                self.buffer.clear();
                match self.input.read_until(b'\n', &mut self.buffer) {
                    Ok(0) => return None,
                    Ok(_) => match self.parser.parse_line(&self.buffer) {
                        Ok(Some(message)) => return Some(Ok(message)),
                        Ok(None) => continue,
                        Err(e) => return Some(Err(e)),
                    },
                    Err(e) => panic!("test input cannot be read: {e}"),
                }
            }
        }
    }

    fn read_all(input: &str) -> Vec<Result<InputMessage, ReadError>> {
        MessageReader::new(input.as_bytes()).collect()
    }

    #[test]
    fn records_states_and_traces_are_parsed() {
        let input = concat!(
            r#"{"type":"RECORD","record":{"stream":"Account","data":{"Id":"1"},"emitted_at":5,"namespace":null,"meta":null}}"#,
            "\n\n",
            r#"{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"Account"},"stream_state":{"a":1}},"id":3}}"#,
            "\n",
            r#"{"type":"TRACE","trace":{"type":"STREAM_STATUS","emitted_at":1.5,"stream_status":{"stream_descriptor":{"name":"Account"},"status":"COMPLETE"}}}"#,
            "\n"
        );
        let messages: Vec<_> = read_all(input).into_iter().map(Result::unwrap).collect();
        assert_eq!(messages.len(), 3);
        assert!(matches!(&messages[0], InputMessage::Record(r) if r.stream == "Account"));
        let InputMessage::State(state) = &messages[1] else {
            panic!("expected a state")
        };
        assert_eq!(state.message.extra["id"], 3);
        assert_eq!(
            state.raw.get(),
            r#"{"type":"STREAM","stream":{"stream_descriptor":{"name":"Account"},"stream_state":{"a":1}},"id":3}"#
        );
        assert!(matches!(
            &messages[2],
            InputMessage::Other(Message::Trace(_))
        ));
    }

    #[test]
    fn unknown_types_and_fields_are_skipped() {
        let input = "{\"type\":\"FUTURE_THING\",\"future\":{}}\n\
                     {\"type\":\"RECORD\",\"surprise\":1,\"record\":{\"stream\":\"A\",\"data\":{},\"emitted_at\":1,\"new_field\":2}}\n";
        let messages = read_all(input);
        assert_eq!(messages.len(), 1);
        assert!(matches!(&messages[0], Ok(InputMessage::Record(_))));
    }

    #[test]
    fn unknown_fields_and_types_are_logged_once() {
        let record = "{\"type\":\"RECORD\",\"record\":{\"stream\":\"A\",\"data\":{},\"emitted_at\":1,\"file_reference\":{}}}";
        let mut parser = MessageParser::new();
        let parsed: Vec<bool> = [record, record, "{\"type\":\"NEW\"}", "{\"type\":\"NEW\"}"]
            .iter()
            .map(|line| parser.parse_line(line.as_bytes()).unwrap().is_some())
            .collect();
        assert_eq!(parsed, [true, true, false, false]);
        assert_eq!(
            parser.logged,
            vec![
                "stdin line 1: ignoring field RECORD.file_reference this connector does not know (logged once per field)",
                "stdin line 3: skipping messages of unknown type \"NEW\" (logged once per type)",
            ]
        );
    }

    /// The error of each message line of `input`, in order (every line must be refused).
    fn errors(input: &[u8]) -> Vec<String> {
        MessageReader::new(input)
            .map(|m| m.unwrap_err().to_string())
            .collect()
    }

    #[test]
    fn invalid_json_names_the_line_and_column() {
        assert_eq!(
            errors(b"\n{\"type\":\"RECORD\",\n"),
            ["stdin line 2: expected one JSON object per line (EOF while parsing a value at column 17)"]
        );
    }

    #[test]
    fn missing_type_and_missing_payload_are_named() {
        assert_eq!(
            errors(b"{\"record\":{}}\n{\"type\":\"RECORD\"}\n"),
            [
                "stdin line 1: message has no \"type\"",
                "stdin line 2: RECORD message has no \"record\" object",
            ]
        );
    }

    #[test]
    fn invalid_payload_says_what_was_wrong() {
        assert_eq!(
            errors(b"{\"type\":\"RECORD\",\"record\":{\"stream\":\"A\",\"data\":{},\"emitted_at\":\"soon\"}}\n"),
            ["stdin line 1: invalid RECORD: invalid type: string \"soon\", expected i64 at column 69"]
        );
    }

    #[test]
    fn non_utf8_line_is_an_error_not_a_panic() {
        let errors = errors(b"\xff\xfe\n");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("stdin line 1: not UTF-8"),
            "{errors:?}"
        );
    }
}
