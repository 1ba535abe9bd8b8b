//! PyAirbyte (package `airbyte`) drives the binary as a `local_executable`, offline
//! (`AIRBYTE_OFFLINE_MODE=1`, `DO_NOT_TRACK=1`), as its users run it:
//! - a read of two streams into PyAirbyte's default DuckDB cache, checked against the org;
//! - a write from that cache through the destination (field names arrive lower-cased, streams
//!   without `destination_object_name`), checked against a second org.
//!
//! The Python comes from `SF_PYAIRBYTE_PYTHON` (a virtualenv with tests/python/requirements-pyairbyte.txt,
//! which .ci/run creates); without it the tests print SKIPPED, and fail under CI.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::admin_api;
use crate::support::files::{files_under, repo_root};
use crate::support::org::{org_config, runtime, start_emulator};
use crate::support::tools::pyairbyte_python;
use serde_json::{json, Value};
use sf_emulator::{Emulator, EmulatorConfig};

const BINARY: &str = env!("CARGO_BIN_EXE_salesforce-connector");

/// Emulators on one runtime, links named like the connectors, a work folder.
struct Orgs {
    runtime: tokio::runtime::Runtime,
    source_org: Emulator,
    destination_org: Emulator,
    dir: tempfile::TempDir,
}

impl Orgs {
    fn start() -> Orgs {
        let runtime = runtime();
        let source_org = start_emulator(&runtime, EmulatorConfig::default());
        let destination_org = start_emulator(
            &runtime,
            EmulatorConfig {
                seed: 2,
                ..EmulatorConfig::default()
            },
        );
        let dir = tempfile::tempdir().expect("temp dir");
        for name in ["source-salesforce", "destination-salesforce"] {
            std::os::unix::fs::symlink(BINARY, dir.path().join(name)).expect("link");
        }
        Orgs {
            runtime,
            source_org,
            destination_org,
            dir,
        }
    }

    fn config(emulator: &Emulator, extra: Value) -> Value {
        org_config(emulator, json!({}), extra)
    }

    fn write(&self, name: &str, value: &Value) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(value).expect("JSON")).expect("written");
        path
    }

    fn org_records(&self, emulator: &Emulator, object: &str) -> Vec<Value> {
        let http = reqwest::Client::new();
        self.runtime.block_on(admin_api::org_records(
            &http,
            &emulator.base_url(),
            object,
            true,
        ))
    }

    /// Runs a PyAirbyte script in the work folder (its `.cache/` lands there); returns the JSON
    /// the script wrote to `result.json`.
    fn pyairbyte(&self, python: &Path, script: &str, args: &[&str]) -> Value {
        let script = repo_root().join("tests/python").join(script);
        let script = script.to_string_lossy();
        let mut all = vec![script.as_ref()];
        all.extend_from_slice(args);
        let mut command = std::process::Command::new(python);
        command
            .args(&all)
            .current_dir(self.dir.path())
            .env("AIRBYTE_OFFLINE_MODE", "1")
            .env("DO_NOT_TRACK", "1")
            .env("AIRBYTE_LOCAL_REGISTRY", "0")
            .stdin(std::process::Stdio::null());
        let output = command.output().expect("python runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{script} failed ({}):\n{stdout}\n{stderr}",
            output.status
        );
        let result = std::fs::read_to_string(self.dir.path().join("result.json"))
            .unwrap_or_else(|e| panic!("{script} wrote no result.json ({e}):\n{stdout}\n{stderr}"));
        serde_json::from_str(&result).expect("result.json is JSON")
    }
}

#[test]
fn pyairbyte_reads_two_streams_into_its_duckdb_cache_as_the_org_holds_them() {
    let Some(python) = pyairbyte_python("pyairbyte read") else {
        return;
    };
    let orgs = Orgs::start();
    let config = orgs.write(
        "source.json",
        &Orgs::config(
            &orgs.source_org,
            json!({"start_date": "2020-01-01T00:00:00Z"}),
        ),
    );
    let exe = orgs.dir.path().join("source-salesforce");
    let result = orgs.pyairbyte(
        &python,
        "pyairbyte_read.py",
        &[
            &config.to_string_lossy(),
            &exe.to_string_lossy(),
            "Account,Contact",
        ],
    );
    assert!(
        result["cache_path"]
            .as_str()
            .is_some_and(|p| p.contains(".cache")),
        "the default DuckDB cache: {}",
        result["cache_path"]
    );
    for (stream, text_field) in [("Account", "Name"), ("Contact", "LastName")] {
        let org: BTreeMap<String, Value> = orgs
            .org_records(&orgs.source_org, stream)
            .into_iter()
            .map(|r| (r["Id"].as_str().unwrap_or_default().to_string(), r))
            .collect();
        let rows = result["rows"][stream]
            .as_array()
            .unwrap_or_else(|| panic!("no rows for {stream}: {result}"));
        let cached: BTreeMap<String, &Value> = rows
            .iter()
            .map(|r| (r["id"].as_str().unwrap_or_default().to_string(), r))
            .collect();
        assert_eq!(
            cached.keys().collect::<BTreeSet<_>>(),
            org.keys().collect::<BTreeSet<_>>(),
            "{stream}: the cache holds exactly the org's rows"
        );
        let column = text_field.to_ascii_lowercase();
        for (id, row) in &cached {
            assert_eq!(
                row[&column], org[id][text_field],
                "{stream} {id}: {text_field} in the cache (column {column})"
            );
        }
    }
}

#[test]
fn pyairbyte_writes_from_its_cache_through_the_destination_into_another_org() {
    let Some(python) = pyairbyte_python("pyairbyte write") else {
        return;
    };
    let orgs = Orgs::start();
    let source_config = orgs.write(
        "source.json",
        &Orgs::config(
            &orgs.source_org,
            json!({"start_date": "2020-01-01T00:00:00Z"}),
        ),
    );
    let dlq = orgs.dir.path().join("dead-letter");
    let destination_config = orgs.write(
        "destination.json",
        &Orgs::config(
            &orgs.destination_org,
            json!({"dead_letter_folder": dlq.to_string_lossy()}),
        ),
    );
    let before: BTreeSet<String> = orgs
        .org_records(&orgs.destination_org, "Account")
        .into_iter()
        .map(|r| r["Id"].as_str().unwrap_or_default().to_string())
        .collect();
    let source_exe = orgs.dir.path().join("source-salesforce");
    let destination_exe = orgs.dir.path().join("destination-salesforce");
    // Only writable fields travel: the write models Accounts from their Name and size.
    let result = orgs.pyairbyte(
        &python,
        "pyairbyte_write.py",
        &[
            &source_config.to_string_lossy(),
            &source_exe.to_string_lossy(),
            &destination_config.to_string_lossy(),
            &destination_exe.to_string_lossy(),
            "Account",
            "Name,NumberOfEmployees",
        ],
    );
    let source_accounts = orgs.org_records(&orgs.source_org, "Account");
    let after = orgs.org_records(&orgs.destination_org, "Account");
    let new: Vec<&Value> = after
        .iter()
        .filter(|r| !before.contains(r["Id"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(
        new.len(),
        source_accounts.len(),
        "one new Account per cached row (write result: {result})"
    );
    let mut expected: Vec<(Value, Value)> = source_accounts
        .iter()
        .map(|r| (r["Name"].clone(), r["NumberOfEmployees"].clone()))
        .collect();
    let mut written: Vec<(Value, Value)> = new
        .iter()
        .map(|r| (r["Name"].clone(), r["NumberOfEmployees"].clone()))
        .collect();
    let key = |p: &(Value, Value)| p.0.to_string() + &p.1.to_string();
    expected.sort_by_key(key);
    written.sort_by_key(key);
    assert_eq!(written, expected, "names and sizes arrived unchanged");
    assert!(files_under(&dlq).is_empty(), "nothing rejected");
}
