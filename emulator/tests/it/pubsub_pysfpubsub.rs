//! pysfpubsub, a Pub/Sub API client from PyPI we did not write, subscribes to the emulator's
//! change events over TLS and decodes them with its own Avro handling
//! (`tests/python/pubsub_subscribe.py`); what it prints is checked against what the org did.
//! The script expands the header's bitmaps the way Salesforce's Python sample does and rebuilds
//! a long text field sent as a unified diff (`diffFields`) from the value it saw before.
//!
//! Runs with `SF_TEST_PYTHON=/path/to/python` (a venv with `tests/python/requirements.txt`).
//! Without it the test prints SKIPPED, unless `CI` is set: then it fails.

use serde_json::{json, Value};
use sf_emulator::{Emulator, EmulatorConfig};

/// A TLS emulator and an admin API client trusting its CA.
async fn tls_emulator() -> (Emulator, reqwest::Client) {
    let emulator = Emulator::start(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let ca = emulator.ca_certificate_path().unwrap().to_path_buf();
    let admin = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .build()
        .unwrap();
    (emulator, admin)
}

/// Calls the admin API (`/__emulator{path}`); a failure fails the test.
async fn call(
    emulator: &Emulator,
    admin: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Value {
    let mut request = admin.request(method, format!("{}/__emulator{path}", emulator.base_url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json::<Value>().await.unwrap_or(Value::Null)
}

/// Runs pysfpubsub on `topic` from EARLIEST until it decoded `count` events; its output lines.
async fn pysfpubsub(python: &str, emulator: &Emulator, topic: &str, count: usize) -> Vec<Value> {
    let ca = emulator.ca_certificate_path().unwrap();
    let output = tokio::process::Command::new(python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/python/pubsub_subscribe.py"
        ))
        .args([
            &emulator.base_url(),
            &emulator.pubsub_url(),
            ca.to_str().unwrap(),
            &emulator.access_token(),
            &emulator.org_id(),
            topic,
            &count.to_string(),
        ])
        .output();
    let output = tokio::time::timeout(std::time::Duration::from_secs(60), output)
        .await
        .expect("pysfpubsub finishes within 60 s")
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "pysfpubsub failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pysfpubsub_subscribes_and_decodes_change_events() {
    let Some(python) = crate::support::require_python() else {
        return;
    };
    let (emulator, admin) = tls_emulator().await;
    let created = call(
        &emulator,
        &admin,
        reqwest::Method::POST,
        "/records/Account",
        Some(json!({"Name": "Python Co", "BillingCity": "Porto"})),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    call(
        &emulator,
        &admin,
        reqwest::Method::PATCH,
        &format!("/records/Account/{id}"),
        Some(json!({"Name": "Python Co 2", "BillingCity": null})),
    )
    .await;
    call(
        &emulator,
        &admin,
        reqwest::Method::DELETE,
        &format!("/records/Account/{id}"),
        None,
    )
    .await;

    let lines = pysfpubsub(&python, &emulator, "/data/AccountChangeEvent", 3).await;
    assert_eq!(lines[0]["topic"], "/data/AccountChangeEvent");
    assert_eq!(lines[0]["tenant"], emulator.org_id());
    let events = &lines[1..];
    let types: Vec<&str> = events
        .iter()
        .map(|e| e["header"]["changeType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["CREATE", "UPDATE", "DELETE"]);
    for e in events {
        assert_eq!(e["header"]["recordIds"], json!([id]));
        assert_eq!(e["header"]["entityName"], "Account");
    }
    assert_eq!(events[0]["fields"]["Name"], "Python Co");
    assert_eq!(events[0]["fields"]["BillingAddress"]["City"], "Porto");
    assert_eq!(events[0]["changed"], json!([]));
    assert_eq!(events[1]["fields"]["Name"], "Python Co 2");
    // The nulled city: its compound's record is present with every part null, and the
    // bitmaps (expanded by the client's code) name it as changed and nulled.
    assert_eq!(
        events[1]["changed"],
        json!(["Name", "LastModifiedDate", "BillingAddress.City"])
    );
    assert_eq!(events[1]["nulled"], json!(["BillingAddress.City"]));
    assert_eq!(events[1]["diffed"], json!([]));
    assert_eq!(events[2]["fields"], json!({}));
    // The events the client decoded are the ones the emulator lists as published.
    let listed = call(
        &emulator,
        &admin,
        reqwest::Method::GET,
        "/pubsub/events",
        None,
    )
    .await;
    let listed_types: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["changeType"].as_str().unwrap())
        .collect();
    assert_eq!(listed_types, types);
    let log = call(&emulator, &admin, reqwest::Method::GET, "/requests", None).await;
    let subscribes = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "GRPC" && r["path"] == "/eventbus.v1.PubSub/Subscribe")
        .count();
    assert_eq!(subscribes, 1);
}

/// `lines` lines of 100 characters, joined by `newline`.
fn long_text(lines: usize, newline: &str) -> String {
    (1..=lines)
        .map(|i| {
            format!(
                "{:.<100}",
                format!("Paragraph {i:02}: business applications are moving to the cloud")
            )
        })
        .collect::<Vec<_>>()
        .join(newline)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pysfpubsub_rebuilds_a_long_text_field_from_its_diff() {
    let Some(python) = crate::support::require_python() else {
        return;
    };
    let (emulator, admin) = tls_emulator().await;
    // CRLF line breaks, as a browser stores them: the client must rejoin with them.
    let original = long_text(20, "\r\n");
    let edited = format!(
        "{}\r\nAnd keep in mind: hardware you buy and manage yourself is not a cloud.",
        original.replace(
            "Paragraph 02: business applications",
            "Paragraph 02: business apps"
        )
    );
    let rewritten = edited.replace("Paragraph", "Section");
    let created = call(
        &emulator,
        &admin,
        reqwest::Method::POST,
        "/records/Account",
        Some(json!({"Name": "Diff Co", "Description": original})),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    for description in [&edited, &rewritten] {
        call(
            &emulator,
            &admin,
            reqwest::Method::PATCH,
            &format!("/records/Account/{id}"),
            Some(json!({"Description": description})),
        )
        .await;
    }

    let lines = pysfpubsub(&python, &emulator, "/data/AccountChangeEvent", 3).await;
    let events = &lines[1..];
    assert_eq!(events[0]["header"]["changeType"], "CREATE");
    assert_eq!(events[0]["fields"]["Description"], original.as_str());
    assert_eq!(events[0]["diffed"], json!([]));

    // One changed line and one appended: a diff, listed in diffFields (and changedFields).
    let update = &events[1];
    assert_eq!(update["header"]["changeType"], "UPDATE");
    assert_eq!(update["diffed"], json!(["Description"]));
    assert_eq!(
        update["changed"],
        json!(["Description", "LastModifiedDate"])
    );
    let diff = update["fields"]["Description"].as_str().unwrap();
    assert!(diff.starts_with("--- \n+++ "), "{diff}");
    assert!(
        diff.len() < edited.len(),
        "the diff is smaller than the value"
    );
    assert!(
        diff.contains("\n@@ -2,1 +2,1 @@\n-Paragraph 02: business applications"),
        "{diff}"
    );
    assert!(
        diff.contains("\n@@ -21,0 +21,1 @@\n+And keep in mind"),
        "{diff}"
    );
    assert_eq!(update["rebuilt"]["Description"]["value"], edited.as_str());
    assert_eq!(update["rebuilt"]["Description"]["sha256_matches"], true);

    // Every line rewritten: more than 25% of the lines changed, so the full value is sent.
    let update = &events[2];
    assert_eq!(update["diffed"], json!([]));
    assert_eq!(update["fields"]["Description"], rewritten.as_str());

    // The admin API's list of published events shows the same header.
    let listed = call(
        &emulator,
        &admin,
        reqwest::Method::GET,
        "/pubsub/events",
        None,
    )
    .await;
    let listed = listed.as_array().unwrap();
    assert_eq!(listed[1]["diffFields"], events[1]["header"]["diffFields"]);
    assert_eq!(listed[2]["diffFields"], json!([]));
}
