//! Protocol conformance: stdout lines validated with Airbyte's own models (airbyte-protocol-models'
//! `AirbyteMessage`, through tests/python/validate_messages.py and the interpreter in
//! `SF_TEST_PYTHON`).

use std::path::Path;

use super::run::run_command;
use super::tools::python;

/// RECORD lines checked per run: records come from one code path, and a million-row read need
/// not cost a million pydantic parses.
const RECORDS_CHECKED: usize = 1_000;

/// Validates `lines` with `python`; `Err` names the first invalid line.
pub(crate) fn validate_with_python(python: &Path, lines: &str) -> Result<(), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/validate_messages.py");
    let output = run_command(
        &python.to_string_lossy(),
        &[&script.to_string_lossy()],
        lines.as_bytes(),
        None,
    );
    if output.code == Some(0) {
        Ok(())
    } else {
        Err(output.stderr)
    }
}

/// Panics naming the first line of `stdout` that is not a valid AirbyteMessage. Every line that
/// is not a RECORD is checked, and the first 1,000 RECORD lines. Without the test Python: see
/// [`super::tools::require_tool`].
pub(crate) fn assert_conforms(what: &str, stdout: &str) {
    let Some(python) = python(what) else {
        return;
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
    if let Err(e) = validate_with_python(&python, &lines) {
        panic!("{what}: a message is not a valid AirbyteMessage: {e}");
    }
}
