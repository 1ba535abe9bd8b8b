//! simple-salesforce (PyPI), unmodified, against the emulator over https: query and query_all
//! with paging, describe, restful('limits'), and a Bulk 2.0 query of several pages.
//! Runs `$SF_TEST_PYTHON tests/python/sfclient_read.py <instance_url> <session>`; without
//! SF_TEST_PYTHON it says SKIPPED (and fails when CI is set).

use std::path::PathBuf;
use std::process::Command;

use sf_emulator::{Emulator, EmulatorConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_salesforce_reads_through_rest_and_bulk() {
    let Some(python) = crate::support::require_python() else {
        return;
    };
    let emulator = Emulator::start(EmulatorConfig {
        scale: 6,
        tls: true,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let token = emulator.access_token();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/python/sfclient_read.py");
    let ca = emulator.ca_certificate_path().unwrap().to_path_buf();
    let base = emulator.base_url();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .arg(script)
            .arg(base)
            .arg(token)
            .env("REQUESTS_CA_BUNDLE", ca)
            .output()
            .expect("python runs")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "sfclient_read.py failed\nstdout: {stdout}\nstderr: {stderr}"
    );
    let figures: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    assert_eq!(figures["query_all_records"], 2400);
    assert!(figures["bulk_pages"].as_u64().unwrap() > 1);
    println!("simple-salesforce figures: {figures}");
}
