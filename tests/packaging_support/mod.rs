//! What the packaging tests share (image, acceptance, PyAirbyte): run a command and keep its
//! output, read protocol messages, start a native emulator process, validate lines with Airbyte's
//! own models.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// The repository root (where Cargo.toml, Dockerfile and metadata.yaml are).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What one command printed and how it ended.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `program args` with `stdin`, in `cwd` if given, and waits for it.
pub fn run_command(
    program: &str,
    args: &[&str],
    stdin: &[u8],
    cwd: Option<&Path>,
) -> CommandOutput {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
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
    CommandOutput {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `docker <args>`: its stdout on success, its stderr (or the spawn error) otherwise.
pub fn docker(args: &[&str]) -> Result<String, String> {
    let output = Command::new("docker")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run docker: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!(
            "docker {} exited with {}: {}",
            args.first().copied().unwrap_or_default(),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// Every stdout line as JSON; panics naming the line when one is not.
pub fn messages(output: &CommandOutput) -> Vec<Value> {
    output
        .stdout
        .lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| {
                panic!(
                    "stdout line {} is not JSON ({e}): {line:?}\nstderr: {}",
                    i + 1,
                    output.stderr
                )
            })
        })
        .collect()
}

/// The messages of one `type`.
pub fn messages_of(output: &CommandOutput, message_type: &str) -> Vec<Value> {
    messages(output)
        .into_iter()
        .filter(|m| m["type"] == message_type)
        .collect()
}

/// RECORD data per stream, each stream's records sorted (by Id when present, else by their
/// JSON) so that streams read concurrently compare equal: `{"Account": [..], ..}`.
pub fn records_by_stream(output: &CommandOutput) -> Value {
    let mut by_stream: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for m in messages_of(output, "RECORD") {
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

/// Writes `value` as `dir/name` (readable by every user: containers run as uid 1000).
pub fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).expect("JSON")).expect("file written");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
            .expect("file permissions");
    }
    path
}

/// Every file under `dir` with its text, sorted by path.
pub fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// Polls `logs` (up to ~30 s) until it holds the emulator's JSON ready line; returns it.
pub fn wait_for_ready_line(mut logs: impl FnMut() -> String) -> Value {
    for _ in 0..600 {
        let text = logs();
        if let Some(ready) = text
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v.get("login_url").is_some())
        {
            return ready;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("the emulator printed no ready line: {}", logs());
}

/// Starts the `sf-emulator` binary at `binary` on a free loopback port, frozen clock, seed 1;
/// returns the child and its ready line.
pub fn native_emulator(binary: &Path) -> (Child, Value) {
    let mut child = Command::new(binary)
        .args(["--listen", "127.0.0.1:0", "--frozen-clock", "--seed", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("the emulator's ready line");
    let ready: Value = serde_json::from_str(&line)
        .unwrap_or_else(|e| panic!("ready line is not JSON ({e}): {line:?}"));
    (child, ready)
}

/// Validates protocol lines with airbyte-protocol-models (tests/python/validate_messages.py,
/// through the interpreter in SF_TEST_PYTHON). Without that interpreter: SKIPPED, except under
/// CI, where it fails.
pub fn validate_messages(test: &str, lines: &str) {
    let python = match std::env::var_os("SF_TEST_PYTHON") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => {
            let reason = "SF_TEST_PYTHON is not set (run .ci/run, or point it at a Python with tests/python/requirements.txt installed)";
            if std::env::var_os("CI").is_some() {
                panic!("{test}: {reason}");
            }
            println!("SKIPPED: {test}: protocol validation: {reason}");
            return;
        }
    };
    let script = repo_root().join("tests/python/validate_messages.py");
    let output = run_command(
        &python.to_string_lossy(),
        &[&script.to_string_lossy()],
        lines.as_bytes(),
        None,
    );
    assert_eq!(
        output.code,
        Some(0),
        "{test}: a message is not a valid AirbyteMessage: {}",
        output.stderr
    );
}
