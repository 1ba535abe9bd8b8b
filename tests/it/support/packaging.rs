//! What the packaging tests share (image, acceptance, PyAirbyte): Docker, and the native
//! emulator process with its ready line.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// `docker <args>`: its stdout on success, its stderr (or the spawn error) otherwise.
pub(crate) fn docker(args: &[&str]) -> Result<String, String> {
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

/// Polls `logs` (up to ~30 s) until it holds the emulator's JSON ready line; returns it.
pub(crate) fn wait_for_ready_line(mut logs: impl FnMut() -> String) -> Value {
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
pub(crate) fn native_emulator(binary: &Path) -> (Child, Value) {
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
