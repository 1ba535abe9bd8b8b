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
    if role == "source" {
        return assert_source_accepted(file);
    }
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

/// The source is implemented: an accepted config gets as far as logging in (which fails here,
/// without network), never to "Invalid config".
fn assert_source_accepted(file: &str) {
    let backoff = ("SALESFORCE_CONNECTOR_BACKOFF_MS", "1");
    let check = connector(&["source", "check", "--config", &fixture(file)])
        .env(backoff.0, backoff.1)
        .run();
    let statuses = check.of_type("CONNECTION_STATUS");
    assert_eq!(statuses.len(), 1, "{file}: {}", check.stdout);
    let message = statuses[0]["connectionStatus"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Cannot log in to Salesforce: "),
        "{file} was not accepted: {message}"
    );
    let discover = connector(&["source", "discover", "--config", &fixture(file)])
        .env(backoff.0, backoff.1)
        .run();
    let error = discover.the_trace_error();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("Cannot log in to Salesforce: "),
        "{file} was not accepted: {error}"
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
