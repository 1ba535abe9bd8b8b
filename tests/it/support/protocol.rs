//! Protocol conformance: stdout lines validated with Airbyte's own models (airbyte-protocol-models'
//! `AirbyteMessage`, through tests/python/validate_messages.py and the interpreter in
//! `SF_TEST_PYTHON`).
//!
//! The validator runs as a server (`--serve`): importing the models takes about half a second,
//! paid once per validator process instead of once per connector run. Idle validators wait in a
//! pool, so tests running at once each get their own; a validator that breaks is dropped and the
//! batch checked by a one-shot run instead.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use serde_json::Value;

use super::run::run_command;
use super::tools::python;

/// RECORD lines checked per run: records come from one code path, and a million-row read need
/// not cost a million pydantic parses.
const RECORDS_CHECKED: usize = 1_000;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/validate_messages.py")
}

/// A validator started with `--serve`, its pipes, and the Python it runs on.
struct Server {
    python: PathBuf,
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// Validators waiting for a batch (each exits when its stdin closes, at the latest when the test
/// binary ends).
static IDLE: Mutex<Vec<Server>> = Mutex::new(Vec::new());

impl Server {
    fn start(python: &Path) -> Option<Server> {
        let mut child = Command::new(python)
            .arg(script())
            .arg("--serve")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let stdin = child.stdin.take()?;
        let stdout = BufReader::new(child.stdout.take()?);
        Some(Server {
            python: python.to_path_buf(),
            child,
            stdin,
            stdout,
        })
    }

    /// An idle validator for `python`, or a new one.
    fn take(python: &Path) -> Option<Server> {
        let mut idle = IDLE.lock().unwrap_or_else(|e| e.into_inner());
        match idle.iter().position(|s| s.python == python) {
            Some(i) => Some(idle.swap_remove(i)),
            None => {
                drop(idle);
                Server::start(python)
            }
        }
    }

    /// The validator's answer for `lines` (each ending in a newline), or `None` when the
    /// validator broke (it is then dropped, not put back).
    fn check(mut self, lines: &str) -> Option<Result<(), String>> {
        let count = lines.matches('\n').count();
        let sent = writeln!(self.stdin, "{count}")
            .and_then(|()| self.stdin.write_all(lines.as_bytes()))
            .and_then(|()| self.stdin.flush());
        let mut answer = String::new();
        let read = sent.and_then(|()| self.stdout.read_line(&mut answer));
        let answer: Option<Value> = match read {
            Ok(n) if n > 0 => serde_json::from_str(&answer).ok(),
            _ => None,
        };
        let Some(answer) = answer else {
            let _ = self.child.kill();
            let _ = self.child.wait();
            return None;
        };
        let result = match answer["error"].as_str() {
            Some(problem) => Err(problem.to_string()),
            None if answer["ok"].as_u64() == Some(count as u64) => Ok(()),
            None => Err(format!("the validator answered {answer} for {count} lines")),
        };
        IDLE.lock().unwrap_or_else(|e| e.into_inner()).push(self);
        Some(result)
    }
}

/// Validates `lines` (one message per line) with `python`; `Err` names the first invalid line.
pub(crate) fn validate_with_python(python: &Path, lines: &str) -> Result<(), String> {
    let mut lines = lines.to_string();
    if !lines.is_empty() && !lines.ends_with('\n') {
        lines.push('\n');
    }
    if let Some(result) = Server::take(python).and_then(|server| server.check(&lines)) {
        return result;
    }
    validate_once(python, &lines)
}

/// Validates `lines` with a validator started for them alone.
fn validate_once(python: &Path, lines: &str) -> Result<(), String> {
    let output = run_command(
        &python.to_string_lossy(),
        &[&script().to_string_lossy()],
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
