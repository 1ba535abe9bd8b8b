//! Every bad input ends the protocol way: exactly one TRACE ERROR (config_error) whose message
//! names the flag, file or key and what was expected, then exit code 1. `check` reports a
//! config whose content is wrong as CONNECTION_STATUS FAILED, exit 0. Nothing panics.

use crate::support::run::{connector, linked_as, write_file};
use crate::support::source::{emulator_config, TestOrg};
use serde_json::{json, Value};

const VALID_SOURCE_CONFIG: &str = r#"{"client_id": "id", "client_secret": "secret", "refresh_token": "token", "start_date": "2021-07-25"}"#;
const VALID_CATALOG: &str = r#"{"streams": [{"stream": {"name": "Account", "json_schema": {}, "supported_sync_modes": ["full_refresh"]}, "sync_mode": "full_refresh", "destination_sync_mode": "append"}]}"#;

fn config_error(args: &[&str]) -> String {
    let error = connector(args).run().the_trace_error();
    assert_eq!(error["failure_type"], "config_error", "{error}");
    error["message"].as_str().unwrap().to_owned()
}

#[test]
fn unknown_command_names_it() {
    assert_eq!(
        config_error(&["source", "sync"]),
        "command line: unrecognized subcommand 'sync' (usage: salesforce-connector source [OPTIONS] <COMMAND>)"
    );
    assert_eq!(
        config_error(&["warehouse", "spec"]),
        "command line: unrecognized subcommand 'warehouse' (usage: salesforce-connector [OPTIONS] <COMMAND>)"
    );
    let dir = tempfile::tempdir().unwrap();
    let error = connector(&["read", "--config", "c.json", "--catalog", "k.json"])
        .program(&linked_as(dir.path(), "destination-salesforce"))
        .run()
        .the_trace_error();
    assert_eq!(
        error["message"],
        "command line: unrecognized subcommand 'read' (usage: destination-salesforce [OPTIONS] <COMMAND>)"
    );
}

#[test]
fn missing_flag_names_it() {
    assert_eq!(
        config_error(&["destination", "write", "--config", "c.json"]),
        "command line: the following required arguments were not provided: --catalog <CATALOG> (usage: salesforce-connector destination write --config <CONFIG> --catalog <CATALOG>)"
    );
}

#[test]
fn missing_config_file_names_the_flag_and_file() {
    for role in ["source", "destination"] {
        assert_eq!(
            config_error(&[role, "discover", "--config", "/nonexistent/config.json"]),
            "--config /nonexistent/config.json: cannot read the file (No such file or directory (os error 2))"
        );
    }
}

#[test]
fn invalid_json_names_the_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(dir.path(), "config.json", "{\"client_id\": \"id\",\n}");
    assert_eq!(
        config_error(&["source", "check", "--config", &config]),
        format!("--config {config}: expected a JSON document, got invalid JSON (trailing comma at line 2 column 1)")
    );
}

#[test]
fn wrong_type_in_config_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "source",
            r#""is_sandbox": 5"#,
            "is_sandbox: expected true or false, got 5",
        ),
        (
            "source",
            r#""start_date": "yesterday""#,
            "start_date: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got \"yesterday\"",
        ),
        (
            "destination",
            r#""batch_size_bytes": "big""#,
            "batch_size_bytes: invalid type: string \"big\", expected u64",
        ),
    ];
    for (i, (role, key, expected)) in cases.into_iter().enumerate() {
        let config = write_file(
            dir.path(),
            &format!("config{i}.json"),
            &format!(r#"{{"client_id": "id", "client_secret": "s", "refresh_token": "r", {key}}}"#),
        );
        assert_eq!(
            config_error(&[role, "discover", "--config", &config]),
            format!("{expected} (in --config {config})")
        );
    }
}

#[test]
fn check_reports_a_bad_config_as_a_failed_connection() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(
        dir.path(),
        "config.json",
        r#"{"client_id": "id", "client_secret": "s"}"#,
    );
    for role in ["source", "destination"] {
        let run = connector(&[role, "check", "--config", &config]).run();
        assert_eq!(run.code, Some(0), "{}", run.stdout);
        let statuses = run.of_type("CONNECTION_STATUS");
        assert_eq!(statuses.len(), 1);
        assert_eq!(
            statuses[0]["connectionStatus"],
            json!({"status": "FAILED", "message": format!(
                "Invalid config: refresh_token: missing; expected a non-empty string (at the top level or under \"credentials\") (in --config {config})")})
        );
        assert!(run.of_type("TRACE").is_empty());
    }
}

#[test]
fn invalid_catalog_names_the_stream_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(dir.path(), "config.json", VALID_SOURCE_CONFIG);
    let catalog = write_file(
        dir.path(),
        "catalog.json",
        &VALID_CATALOG.replace(
            "\"sync_mode\": \"full_refresh\"",
            "\"sync_mode\": \"INVALID\"",
        ),
    );
    assert_eq!(
        config_error(&["source", "read", "--config", &config, "--catalog", &catalog]),
        format!("--catalog {catalog}: streams[0].sync_mode: unknown variant `INVALID`, expected `full_refresh` or `incremental`")
    );
}

#[test]
fn invalid_state_names_the_file_and_entry() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_file(dir.path(), "config.json", VALID_SOURCE_CONFIG);
    let catalog = write_file(dir.path(), "catalog.json", VALID_CATALOG);
    let state = write_file(
        dir.path(),
        "state.json",
        r#"[{"type": "STREAM", "stream": {"stream_state": {}}}]"#,
    );
    assert_eq!(
        config_error(&[
            "source",
            "read",
            "--config",
            &config,
            "--catalog",
            &catalog,
            "--state",
            &state
        ]),
        format!("--state {state}: entry 0: not a state message: missing field `stream_descriptor`")
    );
}

#[test]
fn valid_inputs_reach_the_role() {
    let org = TestOrg::start(emulator_config());
    let config = org.write("config.json", &org.config(json!({})));
    let catalog = org.write(
        "catalog.json",
        &serde_json::from_str::<Value>(VALID_CATALOG).unwrap(),
    );
    let state = org.write(
        "state.json",
        &json!({"Account": {"SystemModstamp": "2024-01-01T00:00:00.000Z"}}),
    );
    let run = org.run(&[
        "read",
        "--config",
        config.to_str().unwrap(),
        "--catalog",
        catalog.to_str().unwrap(),
        "--state",
        state.to_str().unwrap(),
    ]);
    run.assert_success();
    assert!(run.trace_errors().is_empty(), "{}", run.stdout);
    assert!(!run.states("Account").is_empty(), "{}", run.stdout);
}

#[test]
fn unknown_config_keys_are_accepted_and_logged_once() {
    let org = TestOrg::start(emulator_config());
    let config = org.write(
        "config.json",
        &org.config(json!({"api_type": "BULK", "wait_timeout": 5})),
    );
    let run = org.run(&["discover", "--config", config.to_str().unwrap()]);
    // The config was accepted: discover ran to the end.
    run.assert_success();
    let ignored: Vec<String> = run
        .logs()
        .into_iter()
        .filter(|m| m.starts_with("config: ignoring keys"))
        .collect();
    assert_eq!(
        ignored,
        vec![r#"config: ignoring keys this connector does not use: ["api_type", "wait_timeout"]"#]
    );
}

/// A deterministic byte generator (xorshift), so the garbage is the same on every run.
struct Garbage(u64);

impl Garbage {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        const PIECES: [&[u8]; 12] = [
            b"{",
            b"}",
            b"[",
            b"]",
            b"\"",
            b":",
            b",",
            b"null",
            b"\"client_id\"",
            b"\"streams\"",
            b"\xff",
            b"1e999",
        ];
        let mut out = Vec::new();
        while out.len() < len {
            match self.next() % 3 {
                0 => out.extend_from_slice(PIECES[(self.next() % 12) as usize]),
                _ => out.push((self.next() % 256) as u8),
            }
        }
        out
    }
}

#[test]
fn garbage_inputs_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut garbage = Garbage(0x5eed_1234_abcd_ef01);
    let mut cases: Vec<Vec<u8>> = (0..30).map(|i| garbage.bytes(1 + i * 7)).collect();
    cases.extend(
        [
            &b""[..],
            b"null",
            b"[]",
            b"\"text\"",
            b"42",
            b"{\"credentials\": 7}",
            b"{\"credentials\": {\"client_id\": []}}",
            b"{\"object_storage_config\": {\"storage_type\": \"S3\", \"format\": 5}}",
            b"{\"streams\": null}",
            b"{\"streams_criteria\": {}}",
            b"{\"start_date\": \"2021-99-99\"}",
            b"{\"stream_slice_step\": \"P99999999999Y\"}",
        ]
        .iter()
        .map(|b| b.to_vec()),
    );
    let valid_config = write_file(dir.path(), "valid.json", VALID_SOURCE_CONFIG);
    for (i, bytes) in cases.iter().enumerate() {
        let path = dir.path().join(format!("garbage-{i}.json"));
        std::fs::write(&path, bytes).unwrap();
        let file = path.to_string_lossy().into_owned();
        let argv_garbage = String::from_utf8_lossy(&bytes[..bytes.len().min(20)]).replace('\0', "");
        let read_with = |more: &[&str]| {
            let mut args = vec![
                "source",
                "read",
                "--config",
                &valid_config,
                "--catalog",
                &file,
            ];
            args.extend_from_slice(more);
            connector(&args).run()
        };
        let runs = [
            connector(&["source", "check", "--config", &file]).run(),
            connector(&["destination", "discover", "--config", &file]).run(),
            read_with(&[]),
            read_with(&["--state", &file]),
            connector(&[
                "destination",
                "write",
                "--config",
                &file,
                "--catalog",
                &file,
            ])
            .stdin(bytes)
            .run(),
            connector(&["source", &argv_garbage]).run(),
        ];
        for run in runs {
            assert!(!run.stderr.contains("panicked"), "case {i}: {}", run.stderr);
            let messages = run.messages();
            match run.code {
                Some(0) => assert_eq!(messages.len(), 1, "case {i}: {}", run.stdout),
                Some(1) => {
                    let error = run.the_trace_error();
                    assert!(
                        error["failure_type"] == "config_error",
                        "case {i}: an internal error: {error}"
                    );
                }
                other => panic!("case {i}: exit code {other:?}; stderr: {}", run.stderr),
            }
        }
    }
    // The generator really produced garbage.
    assert!(cases
        .iter()
        .any(|c| serde_json::from_slice::<Value>(c).is_err()));
}
