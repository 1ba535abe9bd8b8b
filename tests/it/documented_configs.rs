//! The configs users already have (Airbyte's and Estuary's documented forms) are accepted by
//! the real binary: each reaches the role instead of failing as a config error.

use crate::support::run::BINARY;
use crate::support::source::{emulator_config, TestOrg};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/configs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// The documented config, unchanged but for `login_url` (so the token request reaches the
/// in-process emulator instead of login.salesforce.com), gets past config loading: `check`
/// answers with a CONNECTION_STATUS about the credentials, not a config error.
fn assert_accepted(role: &str, file: &str) {
    let org = TestOrg::start(emulator_config());
    let mut config = fixture(file);
    config["login_url"] = Value::String(org.emulator.login_url().clone());
    let path = org.write("config.json", &config);
    let output = std::process::Command::new(BINARY)
        .args([role, "check", "--config", path.to_str().unwrap()])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{file}: {stdout}");
    let statuses: Vec<Value> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|m| m["type"] == "CONNECTION_STATUS")
        .collect();
    assert_eq!(statuses.len(), 1, "{file}: {stdout}");
    let status = &statuses[0]["connectionStatus"];
    // The fixtures carry made-up credentials: the emulator refuses them, and the message says so.
    assert_eq!(status["status"], "FAILED", "{file}: {stdout}");
    let message = status["message"].as_str().unwrap();
    assert!(
        message.to_lowercase().contains("client"),
        "{file} was not accepted: {message}"
    );
}

#[test]
fn airbyte_source_configs_are_accepted() {
    assert_accepted("source", "airbyte-source.json");
    assert_accepted("source", "airbyte-source-full.json");
}

#[test]
fn estuary_source_configs_are_accepted() {
    assert_accepted("source", "estuary-source.json");
    assert_accepted("source", "estuary-source-remapped.json");
}

#[test]
fn airbyte_destination_configs_are_accepted() {
    assert_accepted("destination", "airbyte-destination.json");
    assert_accepted("destination", "airbyte-destination-no-storage.json");
}
