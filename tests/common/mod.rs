//! Helpers the end-to-end tests share: run the real binary, read its protocol messages,
//! validate them with Airbyte's own Python models.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

pub const BINARY: &str = env!("CARGO_BIN_EXE_salesforce-connector");

/// What one run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Every stdout line parsed as JSON; panics (naming the line) on anything else.
    pub fn messages(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .enumerate()
            .map(|(i, line)| {
                serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!(
                        "stdout line {} is not JSON ({e}): {line:?}\nstderr: {}",
                        i + 1,
                        self.stderr
                    )
                })
            })
            .collect()
    }

    /// The messages of one `type`.
    pub fn of_type(&self, message_type: &str) -> Vec<Value> {
        self.messages()
            .into_iter()
            .filter(|m| m["type"] == message_type)
            .collect()
    }

    /// Asserts the run failed the protocol way (exit 1, exactly one TRACE ERROR) and returns
    /// that error object.
    pub fn the_trace_error(&self) -> Value {
        assert_eq!(
            self.code,
            Some(1),
            "exit code; stdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        let errors: Vec<Value> = self
            .of_type("TRACE")
            .into_iter()
            .filter(|m| m["trace"]["type"] == "ERROR")
            .collect();
        assert_eq!(
            errors.len(),
            1,
            "exactly one TRACE ERROR in {}",
            self.stdout
        );
        errors[0]["trace"]["error"].clone()
    }
}

/// A command to run: the binary (or a link to it), arguments, stdin, environment, cwd.
pub struct Invocation {
    program: PathBuf,
    args: Vec<String>,
    stdin: Vec<u8>,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
}

pub fn connector(args: &[&str]) -> Invocation {
    Invocation {
        program: PathBuf::from(BINARY),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: Vec::new(),
        env: Vec::new(),
        cwd: None,
    }
}

impl Invocation {
    pub fn program(mut self, program: &Path) -> Self {
        self.program = program.to_path_buf();
        self
    }

    pub fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = bytes.to_vec();
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    pub fn run(self) -> Run {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env_remove("SALESFORCE_CONNECTOR_TEST_PANIC")
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        let mut child = command.spawn().expect("the connector binary starts");
        let mut stdin = child.stdin.take().expect("stdin is piped");
        let input = self.stdin.clone();
        // Write stdin from a thread: the child may exit without reading it all.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&input);
        });
        let output = child
            .wait_with_output()
            .expect("the connector binary finishes");
        let _ = writer.join();
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Writes `content` to `dir/name` and returns the path as a string.
pub fn write_file(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("test file written");
    path.to_string_lossy().into_owned()
}

/// A link to the binary named `name` (e.g. `source-salesforce`) inside `dir`.
pub fn linked_as(dir: &Path, name: &str) -> PathBuf {
    let link = dir.join(name);
    #[cfg(unix)]
    std::os::unix::fs::symlink(BINARY, &link).expect("symlink created");
    #[cfg(not(unix))]
    std::fs::copy(BINARY, &link).expect("binary copied");
    link
}

/// The Python interpreter of the test virtualenv (`SF_TEST_PYTHON`, which `.ci/run` sets).
/// Without it a test prints `SKIPPED: <reason>` and returns `None`, except under `CI`, where
/// a missing interpreter is a failure.
pub fn python(test: &str) -> Option<PathBuf> {
    match std::env::var_os("SF_TEST_PYTHON") {
        Some(path) if !path.is_empty() => Some(PathBuf::from(path)),
        _ => {
            let reason = "SF_TEST_PYTHON is not set (run .ci/run, or point it at a Python with tests/python/requirements.txt installed)";
            if std::env::var_os("CI").is_some() {
                panic!("{test}: {reason}");
            }
            println!("SKIPPED: {test}: {reason}");
            None
        }
    }
}

/// Validates protocol lines with airbyte-protocol-models' `AirbyteMessage`
/// (`tests/python/validate_messages.py`). `Err` names the first invalid line.
pub fn validate_with_python(python: &Path, lines: &str) -> Result<(), String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/validate_messages.py");
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(lines.as_bytes())
        .map_err(|e| format!("cannot feed the validator: {e}"))?;
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}
