//! Secrets never leave the process: every command runs with greppable secret values, through
//! its success and error paths and the panic hook, and none of them may appear on stdout,
//! stderr or in any file the command writes.

use std::path::Path;

use crate::support::run::{connector, message_of, write_file, Run};
use serde_json::json;

const CLIENT_SECRET: &str = "GREPME-client-secret-4b1d9e";
const REFRESH_TOKEN: &str = "GREPME-refresh-token-77a0c3";
const PRIVATE_KEY_MARKER: &str = "GREPME-private-key-5c2f11";
const S3_SECRET: &str = "GREPME-s3-secret-key-0e9d42";
const S3_KEY_ID: &str = "GREPME-s3-key-id-a81b77";
const NUMERIC_SECRET: &str = "918273645546372819";

fn all_secrets() -> [&'static str; 6] {
    [
        CLIENT_SECRET,
        REFRESH_TOKEN,
        PRIVATE_KEY_MARKER,
        S3_SECRET,
        S3_KEY_ID,
        NUMERIC_SECRET,
    ]
}

/// Every file under `dir`, read as text.
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            out.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
    out
}

fn assert_no_secret(case: &str, run: &Run, workdir: &Path) {
    for secret in all_secrets() {
        assert!(
            !run.stdout.contains(secret),
            "{case}: {secret} on stdout: {}",
            run.stdout
        );
        assert!(
            !run.stderr.contains(secret),
            "{case}: {secret} on stderr: {}",
            run.stderr
        );
        for (file, content) in files_under(workdir) {
            assert!(
                !content.contains(secret),
                "{case}: {secret} in written file {file}"
            );
        }
    }
    // The run did produce protocol output to check (not a vacuous pass).
    assert!(!run.stdout.is_empty(), "{case}: no output");
}

struct Inputs {
    source_ok: String,
    source_bad_date: String,
    source_jwt_bad_key: String,
    source_numeric_secret: String,
    destination_ok: String,
    destination_bad_region: String,
    destination_numeric_s3_secret: String,
    catalog: String,
    bad_catalog: String,
    state: String,
}

fn inputs(dir: &Path) -> Inputs {
    let source = json!({"client_id": "id", "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN,
                        "start_date": "2021-07-25", "login_url": "http://127.0.0.1:9"});
    let mut source_bad_date = source.clone();
    source_bad_date["start_date"] = json!("yesterday");
    let source_jwt_bad_key = json!({"auth_type": "jwt_bearer", "client_id": "id", "username": "u@example.com",
        "private_key": format!("-----BEGIN PRIVATE KEY-----\n{PRIVATE_KEY_MARKER}\n-----END PRIVATE KEY-----")});
    let mut source_numeric_secret = source.clone();
    source_numeric_secret["client_secret"] = json!(NUMERIC_SECRET.parse::<u64>().unwrap());
    let destination = json!({"client_id": "id", "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN,
        "object_storage_config": {"storage_type": "S3", "s3_bucket_name": "dlq", "s3_bucket_region": "us-east-1",
            "access_key_id": S3_KEY_ID, "secret_access_key": S3_SECRET}});
    let mut destination_bad_region = destination.clone();
    destination_bad_region["object_storage_config"]["s3_bucket_region"] = json!("moon-1");
    let mut destination_numeric_s3_secret = destination.clone();
    destination_numeric_s3_secret["object_storage_config"]["secret_access_key"] =
        json!(NUMERIC_SECRET.parse::<u64>().unwrap());
    let catalog = r#"{"streams": [{"stream": {"name": "Account", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": "full_refresh", "destination_sync_mode": "append"}]}"#;
    Inputs {
        source_ok: write_file(dir, "source.json", &source.to_string()),
        source_bad_date: write_file(dir, "source-bad-date.json", &source_bad_date.to_string()),
        source_jwt_bad_key: write_file(dir, "source-jwt.json", &source_jwt_bad_key.to_string()),
        source_numeric_secret: write_file(
            dir,
            "source-numeric.json",
            &source_numeric_secret.to_string(),
        ),
        destination_ok: write_file(dir, "destination.json", &destination.to_string()),
        destination_bad_region: write_file(
            dir,
            "destination-bad-region.json",
            &destination_bad_region.to_string(),
        ),
        destination_numeric_s3_secret: write_file(
            dir,
            "destination-numeric.json",
            &destination_numeric_s3_secret.to_string(),
        ),
        catalog: write_file(dir, "catalog.json", catalog),
        bad_catalog: write_file(
            dir,
            "bad-catalog.json",
            &catalog.replace("full_refresh\", \"destination", "INVALID\", \"destination"),
        ),
        state: write_file(
            dir,
            "state.json",
            r#"[{"type": "STREAM", "stream": {"stream_descriptor": {"name": "Account"}, "stream_state": {"SystemModstamp": "2024-01-01T00:00:00.000Z"}}}]"#,
        ),
    }
}

/// One case per command and path. New failure paths (a rejected token exchange once the
/// Salesforce client lands) are one more line here.
fn cases(i: &Inputs) -> Vec<(&'static str, Vec<String>, &'static [u8])> {
    let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let records = br#"{"type":"RECORD","record":{"stream":"Account","data":{"Name":"x"},"emitted_at":1}}
{"type":"STATE","state":{"type":"STREAM","stream":{"stream_descriptor":{"name":"Account"},"stream_state":{}}}}
"#;
    vec![
        ("source spec", args(&["source", "spec"]), b""),
        ("destination spec", args(&["destination", "spec"]), b""),
        (
            "source check",
            args(&["source", "check", "--config", &i.source_ok, "--debug"]),
            b"",
        ),
        (
            "source check, bad start_date",
            args(&["source", "check", "--config", &i.source_bad_date]),
            b"",
        ),
        (
            "source check, bad private key",
            args(&["source", "check", "--config", &i.source_jwt_bad_key]),
            b"",
        ),
        (
            "source check, numeric secret",
            args(&["source", "check", "--config", &i.source_numeric_secret]),
            b"",
        ),
        (
            "source discover",
            args(&["source", "discover", "--config", &i.source_ok]),
            b"",
        ),
        (
            "source discover, bad start_date",
            args(&["source", "discover", "--config", &i.source_bad_date]),
            b"",
        ),
        (
            "source discover, numeric secret",
            args(&["source", "discover", "--config", &i.source_numeric_secret]),
            b"",
        ),
        (
            "source read",
            args(&[
                "source",
                "read",
                "--config",
                &i.source_ok,
                "--catalog",
                &i.catalog,
                "--state",
                &i.state,
                "--debug",
            ]),
            b"",
        ),
        (
            "source read, bad catalog",
            args(&[
                "source",
                "read",
                "--config",
                &i.source_ok,
                "--catalog",
                &i.bad_catalog,
            ]),
            b"",
        ),
        (
            "destination check",
            args(&["destination", "check", "--config", &i.destination_ok]),
            b"",
        ),
        (
            "destination check, bad region",
            args(&[
                "destination",
                "check",
                "--config",
                &i.destination_bad_region,
            ]),
            b"",
        ),
        (
            "destination discover, numeric S3 secret",
            args(&[
                "destination",
                "discover",
                "--config",
                &i.destination_numeric_s3_secret,
            ]),
            b"",
        ),
        (
            "destination discover",
            args(&["destination", "discover", "--config", &i.destination_ok]),
            b"",
        ),
        (
            "destination write",
            args(&[
                "destination",
                "write",
                "--config",
                &i.destination_ok,
                "--catalog",
                &i.catalog,
                "--debug",
            ]),
            records,
        ),
        (
            "destination write, bad catalog",
            args(&[
                "destination",
                "write",
                "--config",
                &i.destination_ok,
                "--catalog",
                &i.bad_catalog,
            ]),
            records,
        ),
    ]
}

#[test]
fn no_command_reveals_a_secret() {
    let inputs_dir = tempfile::tempdir().unwrap();
    let inputs = inputs(inputs_dir.path());
    for (case, args, stdin) in cases(&inputs) {
        let workdir = tempfile::tempdir().unwrap();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        // Commands that log in retry an unreachable host; short pauses keep the test fast.
        let run = connector(&args)
            .stdin(stdin)
            .cwd(workdir.path())
            .env("SALESFORCE_CONNECTOR_BACKOFF_MS", "1")
            .run();
        assert_no_secret(case, &run, workdir.path());
    }
}

#[test]
fn the_panic_hook_reports_a_trace_error_without_secrets() {
    let inputs_dir = tempfile::tempdir().unwrap();
    let inputs = inputs(inputs_dir.path());
    for args in [
        vec!["source", "check", "--config", &inputs.source_ok],
        vec![
            "source",
            "read",
            "--config",
            &inputs.source_ok,
            "--catalog",
            &inputs.catalog,
        ],
        vec![
            "destination",
            "write",
            "--config",
            &inputs.destination_ok,
            "--catalog",
            &inputs.catalog,
        ],
    ] {
        let workdir = tempfile::tempdir().unwrap();
        let run = connector(&args)
            .env("SALESFORCE_CONNECTOR_TEST_PANIC", "1")
            .env("RUST_BACKTRACE", "1")
            .cwd(workdir.path())
            .run();
        let error = run.the_trace_error();
        assert_eq!(error["failure_type"], "system_error");
        assert!(
            message_of(&error)
                .starts_with("salesforce-connector hit an internal error at src/run.rs:"),
            "{error}"
        );
        // The payload quoted the whole config; what is left of it is scrubbed.
        let internal = error["internal_message"].as_str().unwrap();
        assert!(
            internal.contains("forced panic for tests") && internal.contains("**********"),
            "{internal}"
        );
        assert_no_secret("panic", &run, workdir.path());
    }
}
