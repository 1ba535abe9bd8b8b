//! Protocol conformance of every run an end-to-end test makes: its stdout is validated with
//! Airbyte's own models (airbyte-protocol-models' `AirbyteMessage`, through
//! tests/python/validate_messages.py and the interpreter in `SF_TEST_PYTHON`). Every line that is
//! not a RECORD is checked, and the first 1,000 RECORD lines (records come from one code path; a
//! million-row read need not cost a million pydantic parses). Without `SF_TEST_PYTHON` this does
//! nothing, except under `CI`, where it fails.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const RECORDS_CHECKED: usize = 1_000;

/// Panics naming the first line of `stdout` that is not a valid AirbyteMessage.
pub fn assert_conforms(what: &str, stdout: &str) {
    let python = match std::env::var_os("SF_TEST_PYTHON") {
        Some(p) if !p.is_empty() => p,
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!("{what}: SF_TEST_PYTHON is not set, so its messages cannot be validated (run .ci/run)");
            }
            return;
        }
    };
    let mut records = 0usize;
    let mut lines = String::new();
    for line in stdout.lines() {
        if line.starts_with("{\"type\":\"RECORD\"") {
            records += 1;
            if records > RECORDS_CHECKED {
                continue;
            }
        }
        lines.push_str(line);
        lines.push('\n');
    }
    if lines.is_empty() {
        return;
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/validate_messages.py");
    let mut child = Command::new(&python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot run the protocol validator: {e}"));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(lines.as_bytes());
    });
    let output = child
        .wait_with_output()
        .expect("the protocol validator finishes");
    let _ = writer.join();
    assert!(
        output.status.success(),
        "{what}: a message is not a valid AirbyteMessage: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
