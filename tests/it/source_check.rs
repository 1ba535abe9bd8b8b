//! `source check` through the real binary against the in-process emulator: every auth type
//! succeeds; each kind of bad connection is a FAILED status that says what to fix, exit 0.

use crate::support::run::message_of;
use crate::support::source::{emulator_config, TestOrg};
use crate::support::tools::free_port;
use serde_json::{json, Value};

fn status(org: &TestOrg, config: &Value) -> Value {
    let run = org.check(config);
    run.assert_success();
    let statuses = run.of_type("CONNECTION_STATUS");
    assert_eq!(statuses.len(), 1, "one CONNECTION_STATUS: {}", run.stdout);
    statuses[0]["connectionStatus"].clone()
}

/// The message of a check that must fail, with the org's config changed by `changes`; it must
/// mention each of `mentions`.
fn failure(org: &TestOrg, changes: Value, mentions: &[&str]) -> String {
    let status = status(org, &org.config(changes));
    assert_eq!(status["status"], "FAILED", "{status}");
    let message = message_of(&status);
    for needle in mentions {
        assert!(message.contains(needle), "{needle}: {message}");
    }
    message.to_owned()
}

#[test]
fn refresh_token_client_credentials_and_jwt_bearer_all_succeed() {
    let org = TestOrg::start(emulator_config());
    let c = org.emulator.credentials();
    assert_eq!(status(&org, &org.config(json!({})))["status"], "SUCCEEDED");
    let client_credentials = org.config(json!({
        "auth_type": "client_credentials", "refresh_token": null,
    }));
    assert_eq!(status(&org, &client_credentials)["status"], "SUCCEEDED");
    let jwt = org.config(json!({
        "auth_type": "jwt_bearer", "refresh_token": null, "client_secret": null,
        "username": c.username, "private_key": c.jwt_private_key_pem,
    }));
    assert_eq!(status(&org, &jwt)["status"], "SUCCEEDED", "{jwt}");
}

#[test]
fn a_wrong_client_secret_fails_with_a_message_naming_the_credentials() {
    let org = TestOrg::start(emulator_config());
    let message = failure(&org, json!({"client_secret": "wrong"}), &[]);
    assert!(
        message.contains("invalid_client") || message.to_lowercase().contains("client"),
        "{message}"
    );
    assert!(
        !message.contains("wrong"),
        "the secret is not echoed: {message}"
    );
}

#[test]
fn an_expired_refresh_token_fails_with_a_message_to_reauthenticate() {
    let org = TestOrg::start(emulator_config());
    failure(
        &org,
        json!({"refresh_token": "5Aep861expired"}),
        &["invalid_grant"],
    );
}

#[test]
fn an_unreachable_login_host_fails_with_a_message_naming_it() {
    let org = TestOrg::start(emulator_config());
    // A loopback port nothing listens on.
    let port = free_port();
    failure(
        &org,
        json!({"login_url": format!("http://127.0.0.1:{port}")}),
        &["login_url", "127.0.0.1"],
    );
}

#[test]
fn api_disabled_for_the_org_fails_with_a_message_saying_so() {
    let org = TestOrg::start(emulator_config());
    org.fault(
        json!({"path": "/services/data/*/limits*", "type": "status", "status": 403,
                     "error_code": "API_DISABLED_FOR_ORG", "when": "always"}),
    );
    failure(&org, json!({}), &["API_DISABLED_FOR_ORG", "API Enabled"]);
}

#[test]
fn a_bad_start_date_fails_naming_the_setting() {
    let org = TestOrg::start(emulator_config());
    failure(&org, json!({"start_date": "yesterday"}), &["start_date"]);
}

/// The refresh token in the CONNECTOR_CONFIG control messages of `run`; exactly one expected.
fn rotated_config(run: &crate::support::run::Run, old: &Value) -> Value {
    let controls = run.of_type("CONTROL");
    assert_eq!(controls.len(), 1, "one CONTROL message: {}", run.stdout);
    assert_eq!(controls[0]["control"]["type"], "CONNECTOR_CONFIG");
    let config = controls[0]["control"]["connectorConfig"]["config"].clone();
    assert_ne!(config["refresh_token"], old["refresh_token"], "a new token");
    for key in ["client_id", "client_secret", "login_url", "start_date"] {
        assert_eq!(config[key], old[key], "{key} is kept as given");
    }
    config
}

#[test]
fn a_rotated_refresh_token_is_handed_back_in_a_connector_config_message() {
    let org = TestOrg::start(sf_emulator::EmulatorConfig {
        rotate_refresh_token: true,
        ..emulator_config()
    });
    let original = org.config(json!({}));
    let run = org.check(&original);
    run.assert_success();
    let first = rotated_config(&run, &original);
    // Salesforce invalidates the token that was used: the old config now fails.
    assert_eq!(status(&org, &original)["status"], "FAILED");
    // A read with the new config rotates again and says so; its records arrive.
    let catalog = org.catalog(
        &org.config(json!({"auth_type": "client_credentials", "refresh_token": null})),
        &["Account"],
        false,
    );
    let read = org.read(&first, &catalog, None);
    read.assert_success();
    let second = rotated_config(&read, &first);
    assert_eq!(
        read.records("Account").len(),
        org.org_records("Account", true).len()
    );
    assert_eq!(status(&org, &first)["status"], "FAILED");
    assert_eq!(status(&org, &second)["status"], "SUCCEEDED");
}
