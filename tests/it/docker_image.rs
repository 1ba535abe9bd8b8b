//! The images behave like the binary: build the source, destination and emulator images from the
//! release binaries (docker/build-images.sh), start the emulator image on a private network, run
//! every command of both roles with `docker run` — config, catalog and state mounted as files where
//! Airbyte mounts them, through `sh -c "$AIRBYTE_ENTRYPOINT ..."` as the platform calls them — and
//! compare each output with the same command run natively against a native emulator of the same
//! seed (records equal ignoring `emitted_at`; specs, catalogs and statuses equal).
//!
//! Slow (release build + images), so it is `#[ignore]`d in `cargo test --workspace` and `.ci/run`
//! runs it as its own step: `cargo test -p salesforce-connector --test it docker_image -- --ignored`.
//! With no Docker engine it prints `SKIPPED: <reason>` and passes, except under `CI`, where it
//! fails; when an engine answers, anything that breaks fails.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::files::{files_under, repo_root, write_json};
use crate::support::packaging::{docker, native_emulator, wait_for_ready_line};
use crate::support::protocol::assert_conforms as validate_messages;
use crate::support::run::{run_command, Run};
use crate::support::tools::{path_from_env, require_tool};
use serde_json::{json, Value};

const SOURCE_IMAGE: &str = "salesforce-connector/source-salesforce:dev";
const DESTINATION_IMAGE: &str = "salesforce-connector/destination-salesforce:dev";
const EMULATOR_IMAGE: &str = "salesforce-connector/sf-emulator:dev";
/// Where the emulator listens inside its container (its network namespace is shared with the
/// connector containers, so the connector reaches it on loopback, the only place it speaks http).
const EMULATOR_LISTEN: &str = "127.0.0.1:8080";

/// Removes the containers and the network this test made, whatever happens.
struct DockerScope {
    network: String,
    emulator: String,
}

impl Drop for DockerScope {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.emulator]);
        let _ = docker(&["network", "rm", &self.network]);
    }
}

/// A folder the container's uid 1000 can read (and write, for the dead-letter queue).
fn shared_dir(parent: &Path, name: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir).expect("test folder");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777))
            .expect("test folder permissions");
    }
    dir
}

/// One side of the comparison: how to run a command of a role with mounted files.
enum Side<'a> {
    Docker { emulator_container: &'a str },
    Native { binary: PathBuf },
}

impl Side<'_> {
    /// Runs `<role> <command> <args>` with `files` (name, JSON) placed in `dir`, mounted at
    /// `mount` in the container; `args` name files under `mount`.
    fn run(
        &self,
        role: &str,
        dir: &Path,
        mount: &str,
        args: &[String],
        stdin: &[u8],
        extra_mounts: &[(PathBuf, &str)],
    ) -> Run {
        match self {
            Side::Docker { emulator_container } => {
                let image = if role == "source" {
                    SOURCE_IMAGE
                } else {
                    DESTINATION_IMAGE
                };
                let mut command = vec![
                    "run".to_string(),
                    "--rm".into(),
                    "-i".into(),
                    "--network".into(),
                    format!("container:{emulator_container}"),
                    "-v".into(),
                    format!("{}:{mount}", dir.display()),
                    "-w".into(),
                    mount.into(),
                ];
                for (host, container) in extra_mounts {
                    command.push("-v".into());
                    command.push(format!("{}:{container}", host.display()));
                }
                // As the platform calls it: sh -c 'eval "$AIRBYTE_ENTRYPOINT <cmd> <args>"'.
                command.extend([
                    "--entrypoint".into(),
                    "/bin/sh".into(),
                    image.into(),
                    "-c".into(),
                    format!("eval \"$AIRBYTE_ENTRYPOINT {}\"", args.join(" ")),
                ]);
                let refs: Vec<&str> = command.iter().map(String::as_str).collect();
                run_command("docker", &refs, stdin, None)
            }
            Side::Native { binary } => {
                let mut full = vec![role.to_string()];
                full.extend(
                    args.iter()
                        .map(|a| a.replace(mount, &dir.to_string_lossy())),
                );
                let refs: Vec<&str> = full.iter().map(String::as_str).collect();
                run_command(&binary.to_string_lossy(), &refs, stdin, Some(dir))
            }
        }
    }
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// What one side produced for every command, reduced to what must be equal.
#[derive(Debug, Default)]
struct Results {
    source_spec: Value,
    source_status: Value,
    source_catalog: Value,
    records: Value,
    final_states: Value,
    destination_spec: Value,
    destination_status: Value,
    destination_catalog: Value,
    echoed_states: Value,
    written_accounts: Value,
    all_lines: String,
}

fn the_one(output: &Run, message_type: &str, what: &str) -> Value {
    let found = output.of_type(message_type);
    assert_eq!(
        found.len(),
        1,
        "{what}: expected one {message_type}; exit {:?}\nstdout:\n{}\nstderr:\n{}",
        output.code,
        output.stdout,
        output.stderr
    );
    found[0].clone()
}

fn assert_exit_zero(output: &Run, what: &str) {
    assert_eq!(
        output.code,
        Some(0),
        "{what}: exit code\nstdout:\n{}\nstderr:\n{}",
        output.stdout,
        output.stderr
    );
}

/// Runs the whole sequence on one side against an emulator whose login URL is `login_url`.
fn exercise(side: &Side, login_url: &str, work: &Path) -> Results {
    let mut results = Results::default();
    let mut lines = String::new();
    let credentials = json!({
        "client_id": "3MVG9emulatorClientId",
        "client_secret": "emulator-client-secret",
        "refresh_token": "5Aep861emulatorRefreshToken",
    });
    let mut source_config = credentials.clone();
    source_config["login_url"] = json!(login_url);
    source_config["start_date"] = json!("2020-01-01T00:00:00Z");

    // spec / check / discover: cwd /config, --config /config/connectionConfiguration.json.
    let config_dir = shared_dir(work, "source-config");
    write_json(&config_dir, "connectionConfiguration.json", &source_config);
    let spec = side.run("source", &config_dir, "/config", &args(&["spec"]), b"", &[]);
    assert_exit_zero(&spec, "source spec");
    results.source_spec = the_one(&spec, "SPEC", "source spec");
    let config_arg = ["--config", "/config/connectionConfiguration.json"];
    let check = side.run(
        "source",
        &config_dir,
        "/config",
        &args(&[&["check"], &config_arg[..]].concat()),
        b"",
        &[],
    );
    assert_exit_zero(&check, "source check");
    results.source_status = the_one(&check, "CONNECTION_STATUS", "source check");
    let discover = side.run(
        "source",
        &config_dir,
        "/config",
        &args(&[&["discover"], &config_arg[..]].concat()),
        b"",
        &[],
    );
    assert_exit_zero(&discover, "source discover");
    results.source_catalog = the_one(&discover, "CATALOG", "source discover");
    lines += &spec.stdout;
    lines += &check.stdout;
    lines += &discover.stdout;

    // read: /source/{connectorConfig,catalog,inputState}.json.
    let streams = results.source_catalog["catalog"]["streams"]
        .as_array()
        .expect("catalog streams")
        .clone();
    let stream = |name: &str| -> Value {
        streams
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} not discovered"))
            .clone()
    };
    let account = stream("Account");
    let contact = stream("Contact");
    let catalog = json!({"streams": [
        {"stream": account, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"},
        {"stream": contact, "sync_mode": "incremental", "destination_sync_mode": "append",
         "cursor_field": contact["default_cursor_field"]},
    ]});
    let state = json!([{"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "Contact"},
        "stream_state": {"SystemModstamp": "2025-06-01T00:00:00.000Z"}}}]);
    let read_dir = shared_dir(work, "source-read");
    write_json(&read_dir, "connectorConfig.json", &source_config);
    write_json(&read_dir, "catalog.json", &catalog);
    write_json(&read_dir, "inputState.json", &state);
    let read = side.run(
        "source",
        &read_dir,
        "/source",
        &args(&[
            "read",
            "--config",
            "/source/connectorConfig.json",
            "--catalog",
            "/source/catalog.json",
            "--state",
            "/source/inputState.json",
        ]),
        b"",
        &[],
    );
    assert_exit_zero(&read, "source read");
    lines += &read.stdout;
    results.records = read.records_by_stream();
    let mut final_states = serde_json::Map::new();
    for state in read.of_type("STATE") {
        let name = state["state"]["stream"]["stream_descriptor"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        final_states.insert(name, state["state"]["stream"]["stream_state"].clone());
    }
    results.final_states = Value::Object(final_states);

    // Destination: spec / check / discover / write (/dest/{connectorConfig,catalog}.json, stdin).
    let dlq = shared_dir(work, "dead-letter");
    let mut destination_config = credentials.clone();
    destination_config["login_url"] = json!(login_url);
    destination_config["is_sandbox"] = json!(false);
    let dlq_mount = "/dead-letter";
    let dlq_in_config = match side {
        Side::Docker { .. } => dlq_mount.to_string(),
        Side::Native { .. } => dlq.to_string_lossy().into_owned(),
    };
    destination_config["dead_letter_folder"] = json!(dlq_in_config);
    let dconfig_dir = shared_dir(work, "destination-config");
    write_json(
        &dconfig_dir,
        "connectionConfiguration.json",
        &destination_config,
    );
    let dspec = side.run(
        "destination",
        &dconfig_dir,
        "/config",
        &args(&["spec"]),
        b"",
        &[],
    );
    assert_exit_zero(&dspec, "destination spec");
    results.destination_spec = the_one(&dspec, "SPEC", "destination spec");
    let dcheck = side.run(
        "destination",
        &dconfig_dir,
        "/config",
        &args(&[&["check"], &config_arg[..]].concat()),
        b"",
        &[(dlq.clone(), dlq_mount)],
    );
    assert_exit_zero(&dcheck, "destination check");
    results.destination_status = the_one(&dcheck, "CONNECTION_STATUS", "destination check");
    let ddiscover = side.run(
        "destination",
        &dconfig_dir,
        "/config",
        &args(&[&["discover"], &config_arg[..]].concat()),
        b"",
        &[],
    );
    assert_exit_zero(&ddiscover, "destination discover");
    results.destination_catalog =
        the_one(&ddiscover, "DESTINATION_CATALOG", "destination discover");
    lines += &dspec.stdout;
    lines += &dcheck.stdout;
    lines += &ddiscover.stdout;

    let write_catalog = json!({"streams": [{
        "stream": {"name": "new_accounts",
                   "json_schema": {"type": "object", "properties": {
                       "Name": {"type": "string"}, "NumberOfEmployees": {"type": "integer"},
                       "Description": {"type": "string"}}},
                   "supported_sync_modes": ["full_refresh", "incremental"]},
        "sync_mode": "incremental",
        "destination_sync_mode": "append",
        "destination_object_name": "Account"}]});
    let mut input = String::new();
    for i in 0..5 {
        input += &json!({"type": "RECORD", "record": {"stream": "new_accounts", "emitted_at": 1_717_236_000_000i64,
            "data": {"Name": format!("Image test {i}"), "NumberOfEmployees": i, "Description": "from docker_image.rs"}}})
        .to_string();
        input.push('\n');
    }
    // A row Salesforce refuses (Name is required): it lands in the dead-letter queue.
    input += &json!({"type": "RECORD", "record": {"stream": "new_accounts", "emitted_at": 1_717_236_000_000i64,
        "data": {"NumberOfEmployees": 99, "Description": "no name"}}})
    .to_string();
    input.push('\n');
    input += &json!({"type": "STATE", "state": {"type": "STREAM", "id": 42,
        "stream": {"stream_descriptor": {"name": "new_accounts"}, "stream_state": {"cursor": 6}},
        "sourceStats": {"recordCount": 6.0}}})
    .to_string();
    input.push('\n');
    let write_dir = shared_dir(work, "destination-write");
    write_json(&write_dir, "connectorConfig.json", &destination_config);
    write_json(&write_dir, "catalog.json", &write_catalog);
    let write = side.run(
        "destination",
        &write_dir,
        "/dest",
        &args(&[
            "write",
            "--config",
            "/dest/connectorConfig.json",
            "--catalog",
            "/dest/catalog.json",
        ]),
        input.as_bytes(),
        &[(dlq.clone(), dlq_mount)],
    );
    assert_exit_zero(&write, "destination write");
    lines += &write.stdout;
    results.echoed_states = Value::Array(
        write
            .of_type("STATE")
            .into_iter()
            .map(|s| s["state"].clone())
            .collect(),
    );
    let dead_letters = files_under(&dlq);
    assert!(
        dead_letters
            .iter()
            .any(|(_, text)| text.contains("no name")),
        "the refused row is in the dead-letter queue under {}: {dead_letters:?}",
        dlq.display()
    );

    // What the write did to the org, read back through the source.
    let check_catalog = json!({"streams": [
        {"stream": account_stream_only(&streams), "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"}]});
    let back_dir = shared_dir(work, "source-read-back");
    write_json(&back_dir, "connectorConfig.json", &source_config);
    write_json(&back_dir, "catalog.json", &check_catalog);
    let back = side.run(
        "source",
        &back_dir,
        "/source",
        &args(&[
            "read",
            "--config",
            "/source/connectorConfig.json",
            "--catalog",
            "/source/catalog.json",
        ]),
        b"",
        &[],
    );
    assert_exit_zero(&back, "source read after the write");
    lines += &back.stdout;
    let written: Vec<Value> = back.records_by_stream()["Account"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|r| {
            r["Name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Image test "))
        })
        .collect();
    assert_eq!(written.len(), 5, "the five accepted rows are in the org");
    results.written_accounts = Value::Array(written);
    results.all_lines = lines;
    results
}

fn account_stream_only(streams: &[Value]) -> Value {
    streams
        .iter()
        .find(|s| s["name"] == "Account")
        .cloned()
        .expect("Account discovered")
}

/// Runs docker/build-images.sh once for every test of this binary that needs the images.
fn build_images_once() {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let root = repo_root();
        let build = Command::new(root.join("docker/build-images.sh"))
            .current_dir(&root)
            .status()
            .expect("docker/build-images.sh runs");
        assert!(build.success(), "docker/build-images.sh failed");
    });
}

#[test]
#[ignore = "slow: release build and Docker images; .ci/run runs it with --ignored"]
fn images_answer_every_command_like_the_native_binary() {
    let engine = docker(&["info"]).map_err(|reason| {
        format!(
            "no Docker engine answers (docker info: {})",
            reason.lines().next().unwrap_or("")
        )
    });
    let missing = engine.as_ref().err().cloned().unwrap_or_default();
    if require_tool(
        "images_answer_every_command_like_the_native_binary",
        engine.ok(),
        &missing,
    )
    .is_none()
    {
        return;
    }
    let root = repo_root();
    build_images_once();

    let work = tempfile::tempdir().expect("temp dir");
    let scope = DockerScope {
        network: format!("sfc-image-test-{}", std::process::id()),
        emulator: format!("sfc-image-test-emulator-{}", std::process::id()),
    };
    let _ = docker(&["rm", "-f", &scope.emulator]);
    let _ = docker(&["network", "rm", &scope.network]);
    docker(&["network", "create", "--internal", &scope.network]).expect("private network");
    docker(&[
        "run",
        "-d",
        "--name",
        &scope.emulator,
        "--network",
        &scope.network,
        EMULATOR_IMAGE,
        "--listen",
        EMULATOR_LISTEN,
        "--frozen-clock",
        "--seed",
        "1",
    ])
    .expect("the emulator container starts");
    let ready = wait_for_ready_line(|| docker(&["logs", &scope.emulator]).unwrap_or_default());
    let docker_login = ready["login_url"]
        .as_str()
        .expect("login_url in the ready line")
        .to_string();
    assert_eq!(docker_login, format!("http://{EMULATOR_LISTEN}"));

    // The image as such: /bin/sh, uid 1000, CA roots, and DNS on the private network.
    for image in [SOURCE_IMAGE, DESTINATION_IMAGE] {
        let probe = docker(&[
            "run",
            "--rm",
            "--network",
            &scope.network,
            "--entrypoint",
            "/bin/sh",
            image,
            "-c",
            &format!(
                "id -u && test -s /etc/ssl/certs/ca-certificates.crt && echo ca-ok && getent hosts {} && echo \"$AIRBYTE_ENTRYPOINT\" && \"$AIRBYTE_ENTRYPOINT\" --version",
                scope.emulator
            ),
        ])
        .unwrap_or_else(|e| panic!("{image}: probe failed: {e}"));
        let lines: Vec<&str> = probe.lines().collect();
        assert_eq!(
            lines.first(),
            Some(&"1000"),
            "{image} runs as uid 1000: {probe}"
        );
        assert_eq!(lines.get(1), Some(&"ca-ok"), "{image}: CA bundle: {probe}");
        assert!(
            lines.get(2).is_some_and(|l| l.contains(&scope.emulator)),
            "{image}: the emulator's name resolves on the private network: {probe}"
        );
    }

    let (mut native_emulator, native_ready) =
        native_emulator(&root.join("target/release/sf-emulator"));
    let native_login = native_ready["login_url"]
        .as_str()
        .expect("login_url")
        .to_string();

    let docker_side = Side::Docker {
        emulator_container: &scope.emulator,
    };
    let native_side = Side::Native {
        binary: root.join("target/release/salesforce-connector"),
    };
    let in_docker = exercise(&docker_side, &docker_login, &work.path().join("docker"));
    let native = exercise(&native_side, &native_login, &work.path().join("native"));
    let _ = native_emulator.kill();
    let _ = native_emulator.wait();

    assert_eq!(in_docker.source_spec, native.source_spec, "source SPEC");
    assert_eq!(
        in_docker.source_status, native.source_status,
        "source CONNECTION_STATUS"
    );
    assert_eq!(
        in_docker.source_status["connectionStatus"]["status"],
        "SUCCEEDED"
    );
    assert_eq!(
        in_docker.source_catalog, native.source_catalog,
        "source CATALOG"
    );
    assert!(
        in_docker.records["Account"]
            .as_array()
            .is_some_and(|r| !r.is_empty()),
        "the image read Account records"
    );
    assert_eq!(
        in_docker.records, native.records,
        "records (emitted_at aside)"
    );
    assert_eq!(
        in_docker.final_states, native.final_states,
        "final STATE per stream"
    );
    assert_eq!(
        in_docker.destination_spec, native.destination_spec,
        "destination SPEC"
    );
    assert_eq!(
        in_docker.destination_status, native.destination_status,
        "destination CONNECTION_STATUS"
    );
    assert_eq!(
        in_docker.destination_status["connectionStatus"]["status"],
        "SUCCEEDED"
    );
    assert_eq!(
        in_docker.destination_catalog, native.destination_catalog,
        "DESTINATION_CATALOG"
    );
    assert_eq!(
        in_docker.echoed_states, native.echoed_states,
        "echoed STATEs"
    );
    assert_eq!(
        in_docker.echoed_states[0]["id"], 42,
        "the STATE is echoed with its id"
    );
    assert_eq!(
        in_docker.written_accounts, native.written_accounts,
        "what the write put in the org"
    );

    validate_messages("docker_image", &in_docker.all_lines);
    validate_messages("docker_image", &native.all_lines);
}

/// Where each role's folder for Airbyte's image test suite is (its `metadata.yaml` is a link to
/// the connector's, its `acceptance-test-config.yml` lists the scenarios).
const SUITE_FOLDERS: [(&str, &str); 2] = [
    ("tests/image_suite/source-salesforce", SOURCE_IMAGE),
    (
        "tests/image_suite/destination-salesforce",
        DESTINATION_IMAGE,
    ),
];

/// The tests that must PASS in each role's run (their pytest ids, as the suite names them);
/// anything else may pass or be skipped (the spec backward-compatibility test skips: these
/// images were never published to Airbyte's registry), but nothing may fail.
const MUST_PASS: [(&str, &[&str]); 2] = [
    (
        "source-salesforce",
        &[
            "TestSourceSalesforceImage::test_docker_image_build_and_spec",
            "TestSourceSalesforceImage::test_docker_image_build_and_check['config' Test Scenario]",
            "TestSourceSalesforceImage::test_docker_image_build_and_check['invalid_config' Test Scenario]",
            "TestSourceSalesforceImage::test_docker_image_build_and_config_matches_spec['config' Test Scenario]",
            "TestSourceSalesforceImage::test_docker_image_build_and_discover['config' Test Scenario]",
            "TestSourceSalesforceImage::test_docker_image_build_and_read['config' Test Scenario]",
            "test_image_catalog_passes_every_cdk_catalog_check",
            "test_image_records_match_their_discovered_schemas",
            "test_image_read_ends_every_stream_complete",
        ],
    ),
    (
        "destination-salesforce",
        &[
            "TestDestinationSalesforceImage::test_docker_image_build_and_spec",
            "TestDestinationSalesforceImage::test_docker_image_build_and_check['config' Test Scenario]",
            "TestDestinationSalesforceImage::test_docker_image_build_and_check['invalid_config' Test Scenario]",
            "TestDestinationSalesforceImage::test_docker_image_build_and_config_matches_spec['config' Test Scenario]",
        ],
    ),
];

/// Writes `secrets/config.json` and `secrets/invalid_config.json` of a suite folder.
fn write_suite_secrets(folder: &Path, login_url: &str, ca_pem: &str) {
    let secrets = folder.join("secrets");
    std::fs::create_dir_all(&secrets).expect("secrets folder");
    let mut valid = json!({
        "client_id": "3MVG9emulatorClientId",
        "client_secret": "emulator-client-secret",
        "refresh_token": "5Aep861emulatorRefreshToken",
        "is_sandbox": false,
        "login_url": login_url,
        "ca_certificate": ca_pem,
    });
    if folder.ends_with("source-salesforce") {
        valid["start_date"] = json!("2020-01-01T00:00:00Z");
    }
    // integration_tests/invalid_config.json's refused credentials, aimed at the same org.
    let mut invalid: Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("integration_tests/invalid_config.json"))
            .expect("integration_tests/invalid_config.json"),
    )
    .expect("invalid_config.json is JSON");
    invalid["login_url"] = json!(login_url);
    invalid["ca_certificate"] = json!(ca_pem);
    if !folder.ends_with("source-salesforce") {
        if let Some(map) = invalid.as_object_mut() {
            map.remove("start_date");
        }
    }
    write_json(&secrets, "config.json", &valid);
    write_json(&secrets, "invalid_config.json", &invalid);
}

/// Airbyte's own image test suite (airbyte-cdk's `DockerConnectorTestSuite`, PyPI
/// `airbyte-cdk[dev]` pinned in tests/python/requirements-cdk.txt), unmodified, against both
/// images as shipped: the harness runs `docker run --rm IMAGE ...` with no network option, so
/// the connector reaches the emulator container over Docker's default bridge, at the https
/// address the emulator advertises (its certificate covers it), trusting its CA only through
/// the config's `ca_certificate`.
#[test]
#[ignore = "slow: release build and Docker images; .ci/run runs it with --ignored"]
fn airbyte_image_test_suite_passes_against_both_images() {
    const TEST: &str = "airbyte_image_test_suite_passes_against_both_images";
    let engine = docker(&["info"]).map_err(|reason| {
        format!(
            "no Docker engine answers (docker info: {})",
            reason.lines().next().unwrap_or("")
        )
    });
    let missing = engine.as_ref().err().cloned().unwrap_or_default();
    if require_tool(TEST, engine.ok(), &missing).is_none() {
        return;
    }
    let Some(python) = require_tool(
        TEST,
        path_from_env("SF_CDK_PYTHON"),
        "SF_CDK_PYTHON is not set (run .ci/run, or point it at a Python with tests/python/requirements-cdk.txt installed)",
    ) else {
        return;
    };
    let root = repo_root();
    build_images_once();

    // The emulator image on the default bridge, https on every interface, as its docs say.
    let emulator = format!("sfc-image-suite-emulator-{}", std::process::id());
    struct Remove(String);
    impl Drop for Remove {
        fn drop(&mut self) {
            let _ = docker(&["rm", "-f", &self.0]);
        }
    }
    let _ = docker(&["rm", "-f", &emulator]);
    docker(&[
        "run",
        "-d",
        "--name",
        &emulator,
        EMULATOR_IMAGE,
        "--listen",
        "0.0.0.0:8080",
        "--tls",
        "--frozen-clock",
        "--seed",
        "1",
    ])
    .expect("the emulator container starts");
    let _remove = Remove(emulator.clone());
    let ready = wait_for_ready_line(|| docker(&["logs", &emulator]).unwrap_or_default());
    let login_url = ready["login_url"].as_str().expect("login_url").to_string();
    let bridge_ip = docker(&["inspect", "-f", "{{.NetworkSettings.IPAddress}}", &emulator])
        .expect("docker inspect")
        .trim()
        .to_string();
    assert_eq!(
        login_url,
        format!("https://{bridge_ip}:8080"),
        "the emulator advertises its bridge address, never 0.0.0.0"
    );
    let ca_pem = ready["ca_certificate_pem"]
        .as_str()
        .expect("ca_certificate_pem in the ready line")
        .to_string();

    for (folder, image) in SUITE_FOLDERS {
        let folder = root.join(folder);
        write_suite_secrets(&folder, &login_url, &ca_pem);
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        println!("== Airbyte's image test suite: {name} ({image})");
        let output = Command::new(&python)
            .args([
                "-m",
                "pytest",
                "-p",
                "airbyte_cdk.test.standard_tests.pytest_hooks",
                "-p",
                "no:cacheprovider",
                "-m",
                "image_tests",
                "--connector-image",
                image,
                "--read-from-streams=all",
                "-v",
                "-rA",
                "--color=no",
            ])
            .current_dir(&folder)
            .stdin(std::process::Stdio::null())
            .output()
            .expect("pytest runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        // The suite's own test names and counts, as pytest printed them.
        println!("{stdout}");
        if !stderr.trim().is_empty() {
            eprintln!("{stderr}");
        }
        assert!(
            output.status.success(),
            "Airbyte's image test suite failed for {name} ({image}): {}",
            output.status
        );
        let must_pass = MUST_PASS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, tests)| *tests)
            .unwrap_or_default();
        for test in must_pass {
            assert!(
                stdout
                    .lines()
                    .any(|l| l.starts_with("PASSED ") && l.ends_with(&format!("::{test}"))),
                "{name}: {test} did not PASS (skipped or not collected)"
            );
        }
    }
}
