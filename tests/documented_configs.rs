//! The configs users already have (Airbyte's and Estuary's documented forms) are accepted by
//! the real binary: each reaches the role instead of failing as a config error.

mod common;

use common::connector;

fn fixture(name: &str) -> String {
    format!(
        "{}/tests/fixtures/configs/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn assert_accepted(role: &str, file: &str) {
    for command in ["check", "discover"] {
        let run = connector(&[role, command, "--config", &fixture(file)]).run();
        assert!(
            run.of_type("CONNECTION_STATUS").is_empty(),
            "{file}: {}",
            run.stdout
        );
        let error = run.the_trace_error();
        assert_eq!(
            error["message"],
            format!("`{role} {command}` is not available in this build: the Salesforce {role} is not implemented yet"),
            "{file} was not accepted"
        );
    }
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

/// The destination is implemented: an accepted config gets as far as logging in (which fails
/// here, with no network), never "Invalid config".
fn assert_destination_accepted(file: &str) {
    let run = connector(&["destination", "check", "--config", &fixture(file)]).run();
    let status = run.of_type("CONNECTION_STATUS");
    assert_eq!(status.len(), 1, "{file}: {}", run.stdout);
    let message = status[0]["connectionStatus"]["message"]
        .as_str()
        .unwrap_or("");
    assert!(
        !message.starts_with("Invalid config"),
        "{file} was not accepted: {message}"
    );
}

#[test]
fn airbyte_destination_configs_are_accepted() {
    assert_destination_accepted("airbyte-destination.json");
    assert_destination_accepted("airbyte-destination-no-storage.json");
}
