//! pysfpubsub, a Pub/Sub API client from PyPI we did not write, subscribes to the emulator's
//! change events over TLS and decodes them with its own Avro handling
//! (`tests/python/pubsub_subscribe.py`); what it prints is checked against what the org did.
//!
//! Runs with `SF_TEST_PYTHON=/path/to/python` (a venv with `tests/python/requirements.txt`).
//! Without it the test prints SKIPPED, unless `CI` is set: then it fails.

use serde_json::{json, Value};
use sf_emulator::{Emulator, EmulatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pysfpubsub_subscribes_and_decodes_change_events() {
    let Some(python) = crate::support::require_python() else {
        return;
    };
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
    let base = emulator.base_url();
    let call = |method: reqwest::Method, path: String, body: Option<Value>| {
        let mut request = admin.request(method, format!("{base}/__emulator{path}"));
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let r = request.send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            r.json::<Value>().await.unwrap_or(Value::Null)
        }
    };
    let created = call(
        reqwest::Method::POST,
        "/records/Account".into(),
        Some(json!({"Name": "Python Co", "BillingCity": "Porto"})),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    call(
        reqwest::Method::PATCH,
        format!("/records/Account/{id}"),
        Some(json!({"Name": "Python Co 2"})),
    )
    .await;
    call(
        reqwest::Method::DELETE,
        format!("/records/Account/{id}"),
        None,
    )
    .await;

    let output = tokio::process::Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/python/pubsub_subscribe.py"
        ))
        .args([
            &base,
            &emulator.pubsub_url(),
            ca.to_str().unwrap(),
            &emulator.access_token(),
            &emulator.org_id(),
            "/data/AccountChangeEvent",
            "3",
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
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
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
    assert_eq!(events[1]["fields"]["Name"], "Python Co 2");
    assert!(events[1]["fields"].get("BillingAddress").is_none());
    assert_eq!(events[2]["fields"], json!({}));
    // The events the client decoded are the ones the emulator lists as published.
    let listed = call(reqwest::Method::GET, "/pubsub/events".into(), None).await;
    let listed_types: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["changeType"].as_str().unwrap())
        .collect();
    assert_eq!(listed_types, types);
    let log = call(reqwest::Method::GET, "/requests".into(), None).await;
    let subscribes = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["method"] == "GRPC" && r["path"] == "/eventbus.v1.PubSub/Subscribe")
        .count();
    assert_eq!(subscribes, 1);
}
