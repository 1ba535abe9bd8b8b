//! Running the connector binary (or any program) as a process and reading what it printed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

/// The connector binary cargo built for these tests.
pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_salesforce-connector");

/// What one run of a program produced.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// `stdout` parsed, once, on first use: a test asks for records, states and logs of the same
    /// run, and a large read's output should not be parsed for each.
    parsed: OnceLock<Vec<Value>>,
}

impl Run {
    pub(crate) fn from_output(output: std::process::Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            parsed: OnceLock::new(),
        }
    }

    /// Every stdout line parsed as JSON (parsed once per run); panics (naming the line) on
    /// anything else.
    pub(crate) fn messages(&self) -> &[Value] {
        self.parsed.get_or_init(|| {
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
        })
    }

    /// The messages of one `type`, borrowed from the parsed output.
    fn of_type_ref<'a>(&'a self, message_type: &'a str) -> impl Iterator<Item = &'a Value> {
        self.messages()
            .iter()
            .filter(move |m| m["type"] == message_type)
    }

    /// The messages of one `type`.
    pub(crate) fn of_type(&self, message_type: &str) -> Vec<Value> {
        self.of_type_ref(message_type).cloned().collect()
    }

    /// RECORD data of `stream`, in emission order.
    pub(crate) fn records(&self, stream: &str) -> Vec<Value> {
        self.of_type_ref("RECORD")
            .filter(|m| m["record"]["stream"] == stream)
            .map(|m| m["record"]["data"].clone())
            .collect()
    }

    /// RECORD data per stream, each stream's records sorted (by Id when present, else by their
    /// JSON) so that streams read concurrently compare equal: `{"Account": [..], ..}`.
    pub(crate) fn records_by_stream(&self) -> Value {
        let mut by_stream: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
        for m in self.of_type_ref("RECORD") {
            let stream = m["record"]["stream"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            by_stream
                .entry(stream)
                .or_default()
                .push(m["record"]["data"].clone());
        }
        let mut out = serde_json::Map::new();
        for (stream, mut records) in by_stream {
            records.sort_by_key(|r| match r["Id"].as_str() {
                Some(id) => id.to_string(),
                None => r.to_string(),
            });
            out.insert(stream, Value::Array(records));
        }
        Value::Object(out)
    }

    /// The `state` objects of every STATE message, in order.
    pub(crate) fn all_states(&self) -> Vec<Value> {
        self.of_type_ref("STATE")
            .map(|m| m["state"].clone())
            .collect()
    }

    /// The `id` of every STATE message, in order (the destination's tests number their states).
    pub(crate) fn state_ids(&self) -> Vec<u64> {
        self.all_states()
            .iter()
            .map(|s| s["id"].as_u64().expect("a numbered state"))
            .collect()
    }

    /// The `state` objects of `stream`'s STATE messages.
    pub(crate) fn states(&self, stream: &str) -> Vec<Value> {
        self.all_states()
            .into_iter()
            .filter(|s| s["stream"]["stream_descriptor"]["name"] == stream)
            .collect()
    }

    /// The last STATE blob of `stream`.
    pub(crate) fn last_state(&self, stream: &str) -> Value {
        self.states(stream)
            .last()
            .unwrap_or_else(|| panic!("no STATE for {stream}; stderr: {}", self.stderr))["stream"]
            ["stream_state"]
            .clone()
    }

    /// STREAM_STATUS values of `stream`, in order.
    pub(crate) fn statuses(&self, stream: &str) -> Vec<String> {
        self.of_type_ref("TRACE")
            .filter(|m| {
                m["trace"]["type"] == "STREAM_STATUS"
                    && m["trace"]["stream_status"]["stream_descriptor"]["name"] == stream
            })
            .map(|m| {
                m["trace"]["stream_status"]["status"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    /// The `error` objects of the TRACE ERROR messages.
    pub(crate) fn trace_errors(&self) -> Vec<Value> {
        self.of_type_ref("TRACE")
            .filter(|m| m["trace"]["type"] == "ERROR")
            .map(|m| m["trace"]["error"].clone())
            .collect()
    }

    /// The LOG messages' texts, in order.
    pub(crate) fn logs(&self) -> Vec<String> {
        self.of_type_ref("LOG")
            .map(|m| m["log"]["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Panics with the output's tail when the run did not exit 0.
    pub(crate) fn assert_success(&self) -> &Self {
        assert_eq!(
            self.code,
            Some(0),
            "exit code; stdout:\n{}\nstderr:\n{}",
            tail(&self.stdout),
            self.stderr
        );
        self
    }

    /// Asserts the run failed the protocol way (exit 1, exactly one TRACE ERROR) and returns
    /// that error object.
    pub(crate) fn the_trace_error(&self) -> Value {
        assert_eq!(
            self.code,
            Some(1),
            "exit code; stdout: {}\nstderr: {}",
            self.stdout,
            self.stderr
        );
        let errors = self.trace_errors();
        assert_eq!(
            errors.len(),
            1,
            "exactly one TRACE ERROR in {}",
            self.stdout
        );
        errors[0].clone()
    }
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(40);
    lines[start..].join("\n")
}

/// The `message` of a TRACE error or a connection status (panics when it has none).
pub(crate) fn message_of(value: &Value) -> &str {
    value["message"].as_str().expect("a message")
}

/// Spawns `command` with piped stdio, feeds it `stdin`, waits for it.
pub(crate) fn run_to_end(mut command: Command, stdin: &[u8]) -> Run {
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let program = command.get_program().to_string_lossy().into_owned();
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let mut pipe = child.stdin.take().expect("stdin is piped");
    let input = stdin.to_vec();
    // From a thread: the child may exit before reading all of it.
    let writer = std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{program} did not finish: {e}"));
    let _ = writer.join();
    Run::from_output(output)
}

/// Runs `program args` with `stdin`, in `cwd` if given, and waits for it.
pub(crate) fn run_command(program: &str, args: &[&str], stdin: &[u8], cwd: Option<&Path>) -> Run {
    let mut command = Command::new(program);
    command.args(args);
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    run_to_end(command, stdin)
}

/// A command to run: the binary (or a link to it), arguments, stdin, environment, cwd.
pub(crate) struct Invocation {
    program: PathBuf,
    args: Vec<String>,
    stdin: Vec<u8>,
    env: Vec<(String, String)>,
    cwd: Option<PathBuf>,
}

/// The connector binary with `args`.
pub(crate) fn connector(args: &[&str]) -> Invocation {
    Invocation {
        program: PathBuf::from(BINARY),
        args: args.iter().map(|s| s.to_string()).collect(),
        stdin: Vec::new(),
        env: Vec::new(),
        cwd: None,
    }
}

impl Invocation {
    pub(crate) fn program(mut self, program: &Path) -> Self {
        self.program = program.to_path_buf();
        self
    }

    pub(crate) fn stdin(mut self, bytes: &[u8]) -> Self {
        self.stdin = bytes.to_vec();
        self
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub(crate) fn cwd(mut self, dir: &Path) -> Self {
        self.cwd = Some(dir.to_path_buf());
        self
    }

    pub(crate) fn run(self) -> Run {
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .env_remove("SALESFORCE_CONNECTOR_TEST_PANIC")
            .env_remove("RUST_BACKTRACE");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        if let Some(cwd) = &self.cwd {
            command.current_dir(cwd);
        }
        run_to_end(command, &self.stdin)
    }
}

/// Writes `content` to `dir/name` and returns the path as a string.
pub(crate) fn write_file(dir: &Path, name: &str, content: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content).expect("test file written");
    path.to_string_lossy().into_owned()
}

/// A link to the binary named `name` (e.g. `source-salesforce`) inside `dir`.
pub(crate) fn linked_as(dir: &Path, name: &str) -> PathBuf {
    let link = dir.join(name);
    #[cfg(unix)]
    std::os::unix::fs::symlink(BINARY, &link).expect("symlink created");
    #[cfg(not(unix))]
    std::fs::copy(BINARY, &link).expect("binary copied");
    link
}
