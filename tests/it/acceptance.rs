//! Our runner of Airbyte's connector acceptance tests (CAT) for the source, driven by
//! integration_tests/acceptance-test-config.yml and the files beside it, against the binary and an
//! in-process sf-emulator (seed 1, scale 1) standing in for Salesforce. Airbyte's own runner needs
//! Dagger and pulled images; these are the checks it makes, written from its test suites
//! (spec, connection, discovery, basic_read, full_refresh, incremental).
//!
//! As CAT does: `secrets/config.json` means the sample config; a custom configured catalog gets its
//! streams' schemas from discover; basic_read reads every discovered stream. Every config's
//! `login_url` is pointed at the emulator. JSON-schema checks use Python's `jsonschema`, as CAT
//! does (tests/python/acceptance_checks.py, through SF_TEST_PYTHON); every message printed is
//! validated with airbyte-protocol-models.
//!
//! `expected_records.jsonl` is generated from the emulator's admin API (not from the connector):
//! `SF_UPDATE_ACCEPTANCE=1 cargo test -p salesforce-connector --test it acceptance::expected` rewrites it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::support::admin_api;
use crate::support::files::{assert_generated_file, repo_root};
use crate::support::org::{runtime, start_emulator};
use crate::support::protocol::assert_conforms as validate_messages;
use crate::support::run::{run_command, Run};
use crate::support::tools;
use serde_json::{json, Value};
use sf_emulator::{Emulator, EmulatorConfig};

const BINARY: &str = env!("CARGO_BIN_EXE_salesforce-connector");

/// Fields of the expected records: values whose REST JSON form is the connector's output form
/// (strings, booleans, datetimes once `+0000` reads `Z`), so the file needs no converter.
const EXPECTED_FIELDS: &[(&str, &[&str])] = &[
    ("Account", &["Id", "Name", "IsDeleted", "SystemModstamp"]),
    (
        "Contact",
        &["Id", "LastName", "IsDeleted", "SystemModstamp"],
    ),
    ("Opportunity", &["Id", "Name", "StageName", "IsDeleted"]),
];
/// Expected records per stream (the first by Id).
const EXPECTED_PER_STREAM: usize = 5;
/// `emitted_at` written in the expected records file (CAT ignores it).
const EXPECTED_EMITTED_AT: i64 = 1_768_478_400_000;

/// An emulator on its own runtime, the acceptance config, and a folder for run files.
struct Cat {
    runtime: tokio::runtime::Runtime,
    emulator: Emulator,
    dir: tempfile::TempDir,
    config: serde_yaml::Value,
}

fn file_text(relative: &str) -> String {
    std::fs::read_to_string(repo_root().join(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

fn json_file(relative: &str) -> Value {
    serde_json::from_str(&file_text(relative))
        .unwrap_or_else(|e| panic!("{relative} is not JSON: {e}"))
}

fn python_check(test: &str, args: &[&str], stdin: &str) {
    let Some(python) = tools::python(test) else {
        return;
    };
    let script = repo_root().join("tests/python/acceptance_checks.py");
    let script = script.to_string_lossy();
    let mut all = vec![script.as_ref()];
    all.extend_from_slice(args);
    let output = run_command(&python.to_string_lossy(), &all, stdin.as_bytes(), None);
    assert_eq!(
        output.code,
        Some(0),
        "{test}: acceptance_checks.py {}: {}{}",
        args.join(" "),
        output.stdout,
        output.stderr
    );
}

impl Cat {
    fn start() -> Cat {
        let runtime = runtime();
        let emulator = start_emulator(&runtime, EmulatorConfig::default());
        let config =
            serde_yaml::from_str(&file_text("integration_tests/acceptance-test-config.yml"))
                .expect("acceptance-test-config.yml is YAML");
        Cat {
            runtime,
            emulator,
            dir: tempfile::tempdir().expect("temp dir"),
            config,
        }
    }

    /// The tests of one suite in acceptance-test-config.yml.
    fn suite(&self, name: &str) -> Vec<serde_yaml::Value> {
        self.config["acceptance_tests"][name]["tests"]
            .as_sequence()
            .unwrap_or_else(|| panic!("acceptance-test-config.yml declares no {name} tests"))
            .clone()
    }

    /// A config file of the acceptance config, `secrets/config.json` meaning the sample config,
    /// pointed at the emulator.
    fn config_file(&self, config_path: &str) -> PathBuf {
        let relative = if config_path == "secrets/config.json" {
            "integration_tests/sample_config.json"
        } else {
            config_path
        };
        let mut config = json_file(relative);
        config["login_url"] = json!(self.emulator.login_url());
        self.write(&relative.replace('/', "_"), &config)
    }

    fn write(&self, name: &str, value: &Value) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(value).expect("JSON")).expect("written");
        path
    }

    fn source(&self, args: &[&str]) -> Run {
        let mut all = vec!["source"];
        all.extend_from_slice(args);
        run_command(BINARY, &all, b"", None)
    }

    fn discover(&self, config: &Path) -> Value {
        let run = self.source(&["discover", "--config", &config.to_string_lossy()]);
        assert_eq!(
            run.code,
            Some(0),
            "discover: {}\n{}",
            run.stdout,
            run.stderr
        );
        let catalogs = run.of_type("CATALOG");
        assert_eq!(catalogs.len(), 1, "discover prints one CATALOG");
        catalogs[0]["catalog"].clone()
    }

    /// A configured catalog file with each stream replaced by its discovered version (as CAT
    /// does), or every discovered stream in full refresh when `path` is None.
    fn configured_catalog(&self, discovered: &Value, path: Option<&str>) -> (PathBuf, Value) {
        let streams = discovered["streams"].as_array().expect("streams");
        let configured = match path {
            Some(path) => {
                let mut custom = json_file(path);
                for entry in custom["streams"].as_array_mut().expect("streams") {
                    let name = entry["stream"]["name"].as_str().expect("name").to_string();
                    let found = streams
                        .iter()
                        .find(|s| s["name"] == name.as_str())
                        .unwrap_or_else(|| panic!("{path}: stream {name} is not discovered"));
                    entry["stream"] = found.clone();
                }
                custom
            }
            None => json!({"streams": streams.iter().map(|s| json!({
                "stream": s, "sync_mode": "full_refresh", "destination_sync_mode": "overwrite"
            })).collect::<Vec<_>>()}),
        };
        let name = path.map_or("discovered_catalog.json".to_string(), |p| {
            p.replace('/', "_")
        });
        (self.write(&name, &configured), configured)
    }

    fn read(&self, config: &Path, catalog: &Path, state: Option<&Path>) -> Run {
        let config = config.to_string_lossy();
        let catalog = catalog.to_string_lossy();
        let state_text = state.map(|s| s.to_string_lossy().into_owned());
        let mut args = vec!["read", "--config", &config, "--catalog", &catalog];
        if let Some(state) = &state_text {
            args.push("--state");
            args.push(state);
        }
        self.source(&args)
    }

    /// Every record of `object` through the admin API, by Id.
    fn org_records(&self, object: &str) -> Vec<Value> {
        let http = reqwest::Client::new();
        let mut all = self.runtime.block_on(admin_api::org_records(
            &http,
            &self.emulator.base_url(),
            object,
            false,
        ));
        all.sort_by_key(|r| r["Id"].as_str().unwrap_or_default().to_string());
        all
    }
}

fn of_stream<'a>(messages: &'a [Value], stream: &str) -> impl Iterator<Item = &'a Value> + 'a {
    let stream = stream.to_string();
    messages.iter().filter(move |m| {
        m["record"]["stream"] == stream.as_str()
            || m["state"]["stream"]["stream_descriptor"]["name"] == stream.as_str()
            || m["trace"]["stream_status"]["stream_descriptor"]["name"] == stream.as_str()
    })
}

/// A REST JSON datetime (`…000+0000`) as the connector writes it (`…000Z`).
fn connector_form(value: &Value) -> Value {
    match value.as_str() {
        Some(s) if s.ends_with("+0000") && s.len() == 28 => {
            json!(format!("{}Z", &s[..s.len() - 5]))
        }
        _ => value.clone(),
    }
}

/// The expected records, made from the org the emulator generates.
fn expected_records_from_org(cat: &Cat) -> String {
    let mut text = String::new();
    for (object, fields) in EXPECTED_FIELDS {
        for record in cat.org_records(object).iter().take(EXPECTED_PER_STREAM) {
            let mut data = serde_json::Map::new();
            for field in *fields {
                let value = record.get(*field).unwrap_or_else(|| {
                    panic!("admin API {object} record has no {field}: {record}")
                });
                data.insert(field.to_string(), connector_form(value));
            }
            text += &json!({"stream": object, "data": data, "emitted_at": EXPECTED_EMITTED_AT})
                .to_string();
            text.push('\n');
        }
    }
    text
}

#[test]
fn expected_records_file_matches_the_seeded_org() {
    let cat = Cat::start();
    let generated = expected_records_from_org(&cat);
    assert_generated_file(
        &repo_root().join("integration_tests/expected_records.jsonl"),
        &generated,
        "SF_UPDATE_ACCEPTANCE",
        "integration_tests/expected_records.jsonl differs from the emulator's org (seed 1, scale 1); \
         regenerate it with `SF_UPDATE_ACCEPTANCE=1 cargo test -p salesforce-connector --test it acceptance::expected`",
    );
}

#[test]
fn acceptance_config_declares_every_suite_high_strictness_requires() {
    let cat = Cat::start();
    assert_eq!(cat.config["test_strictness_level"].as_str(), Some("high"));
    for suite in [
        "spec",
        "connection",
        "discovery",
        "basic_read",
        "full_refresh",
        "incremental",
    ] {
        assert!(!cat.suite(suite).is_empty(), "suite {suite}");
    }
    for test in cat.suite("basic_read") {
        assert!(
            test["configured_catalog_path"].is_null(),
            "high strictness: basic_read reads the discovered catalog"
        );
        assert!(test["expect_records"]["path"].is_string(), "expect_records");
    }
    for test in cat.suite("incremental") {
        assert!(
            test["future_state"]["future_state_path"].is_string(),
            "future_state"
        );
    }
    let image = cat.config["connector_image"]
        .as_str()
        .expect("connector_image");
    let metadata: serde_yaml::Value =
        serde_yaml::from_str(&file_text("metadata.yaml")).expect("metadata.yaml");
    assert_eq!(
        image.split(':').next(),
        metadata["data"]["dockerRepository"].as_str(),
        "connector_image is the metadata's dockerRepository"
    );
}

/// Where Airbyte's spec and ours differ in a way that breaks an existing config.
fn backward_incompatibilities(old: &Value, new: &Value, path: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let type_set = |schema: &Value| -> BTreeSet<String> {
        match &schema["type"] {
            Value::String(t) => [t.clone()].into(),
            Value::Array(ts) => ts
                .iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect(),
            _ => BTreeSet::new(),
        }
    };
    let old_required: BTreeSet<&str> = old["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(required) = new["required"].as_array() {
        for key in required.iter().filter_map(Value::as_str) {
            if !old_required.contains(key) {
                problems.push(format!("{path}{key}: newly required"));
            }
        }
    }
    let Some(old_properties) = old["properties"].as_object() else {
        return problems;
    };
    for (key, old_schema) in old_properties {
        let Some(new_schema) = new["properties"].get(key) else {
            if new["additionalProperties"] == Value::Bool(false) {
                problems.push(format!("{path}{key}: removed"));
            }
            continue;
        };
        let (old_types, new_types) = (type_set(old_schema), type_set(new_schema));
        if !old_types.is_empty() && !new_types.is_empty() && !old_types.is_subset(&new_types) {
            problems.push(format!(
                "{path}{key}: type {old_types:?} became {new_types:?}"
            ));
        }
        if let (Some(old_enum), Some(new_enum)) =
            (old_schema["enum"].as_array(), new_schema["enum"].as_array())
        {
            for value in old_enum {
                if !new_enum.contains(value) {
                    problems.push(format!("{path}{key}: enum value {value} removed"));
                }
            }
        }
        if let (Some(old_const), Some(new_schema_obj)) =
            (old_schema.get("const"), new_schema.as_object())
        {
            let accepted = new_schema_obj.get("const") == Some(old_const)
                || new_schema["enum"]
                    .as_array()
                    .is_some_and(|e| e.contains(old_const));
            if !accepted {
                problems.push(format!("{path}{key}: const {old_const} no longer accepted"));
            }
        }
        problems.extend(backward_incompatibilities(
            old_schema,
            new_schema,
            &format!("{path}{key}."),
        ));
    }
    problems
}

/// CAT's spec rules: secrets marked, no forbidden keywords, additionalProperties true, oneOf
/// options sharing a const property.
fn spec_rule_violations(schema: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(object) = schema.as_object() else {
        return;
    };
    for forbidden in ["anyOf", "allOf", "not", "if", "patternProperties", "$ref"] {
        if object.contains_key(forbidden) {
            problems.push(format!("{path}: uses {forbidden}"));
        }
    }
    if let Some(additional) = object.get("additionalProperties") {
        if additional != &Value::Bool(true) {
            problems.push(format!(
                "{path}: additionalProperties must be true where set"
            ));
        }
    }
    if let Some(options) = object.get("oneOf").and_then(Value::as_array) {
        let consts: Vec<BTreeSet<String>> = options
            .iter()
            .map(|o| {
                o["properties"]
                    .as_object()
                    .map(|p| {
                        p.iter()
                            .filter(|(_, s)| s.get("const").is_some())
                            .map(|(k, _)| k.clone())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let shared = consts
            .iter()
            .skip(1)
            .fold(consts.first().cloned().unwrap_or_default(), |acc, c| {
                acc.intersection(c).cloned().collect()
            });
        if shared.is_empty() {
            problems.push(format!("{path}: oneOf options share no const property"));
        }
        for (i, option) in options.iter().enumerate() {
            spec_rule_violations(option, &format!("{path}.oneOf[{i}]"), problems);
        }
    }
    if let Some(properties) = object.get("properties").and_then(Value::as_object) {
        for (key, property) in properties {
            let lower = key.to_ascii_lowercase();
            let secret_like = ["secret", "password", "token", "private_key", "access_key"]
                .iter()
                .any(|s| lower.contains(s))
                && !lower.ends_with("_id")
                && property["type"] == "string";
            if secret_like && property["airbyte_secret"] != Value::Bool(true) {
                problems.push(format!("{path}.{key}: secret-like but not airbyte_secret"));
            }
            spec_rule_violations(property, &format!("{path}.{key}"), problems);
        }
    }
    if let Some(items) = object.get("items") {
        spec_rule_violations(items, &format!("{path}[]"), problems);
    }
}

#[test]
fn spec_matches_its_file_follows_cats_rules_and_keeps_airbytes_configs_valid() {
    let cat = Cat::start();
    for test in cat.suite("spec") {
        let spec_path = test["spec_path"].as_str().expect("spec_path");
        let run = cat.source(&["spec"]);
        assert_eq!(run.code, Some(0), "spec: {}", run.stderr);
        let specs = run.of_type("SPEC");
        assert_eq!(specs.len(), 1, "one SPEC");
        let spec = specs[0]["spec"].clone();
        assert_eq!(spec, json_file(spec_path), "spec output equals {spec_path}");
        let connection = &spec["connectionSpecification"];
        let mut problems = Vec::new();
        spec_rule_violations(connection, "connectionSpecification", &mut problems);
        assert!(problems.is_empty(), "CAT spec rules: {problems:#?}");
        let previous = test["backward_compatibility_tests_config"]["previous_spec_path"]
            .as_str()
            .expect("previous_spec_path");
        let old = json_file(previous);
        let old = old.get("spec").unwrap_or(&old);
        let problems = backward_incompatibilities(&old["connectionSpecification"], connection, "");
        assert!(
            problems.is_empty(),
            "backward compatibility with {previous}: {problems:#?}"
        );
        // The sample config validates against the spec (jsonschema, as CAT).
        let spec_file = cat.write("spec.json", &spec);
        for config in [
            "integration_tests/sample_config.json",
            "integration_tests/invalid_config.json",
        ] {
            python_check(
                "spec",
                &[
                    "config",
                    &spec_file.to_string_lossy(),
                    &repo_root().join(config).to_string_lossy(),
                ],
                "",
            );
        }
        validate_messages("acceptance spec", &run.stdout);
    }
}

#[test]
fn connection_status_is_the_one_each_config_expects() {
    let cat = Cat::start();
    for test in cat.suite("connection") {
        let config_path = test["config_path"].as_str().expect("config_path");
        let expected = match test["status"].as_str() {
            Some("succeed") => "SUCCEEDED",
            Some("failed") => "FAILED",
            other => panic!("connection test status {other:?}"),
        };
        let config = cat.config_file(config_path);
        let run = cat.source(&["check", "--config", &config.to_string_lossy()]);
        assert_eq!(
            run.code,
            Some(0),
            "check {config_path} exits 0: {}",
            run.stderr
        );
        let statuses = run.of_type("CONNECTION_STATUS");
        assert_eq!(
            statuses.len(),
            1,
            "check {config_path}: one CONNECTION_STATUS"
        );
        assert_eq!(
            statuses[0]["connectionStatus"]["status"], expected,
            "check {config_path}: {}",
            statuses[0]
        );
        if expected == "FAILED" {
            let message = statuses[0]["connectionStatus"]["message"]
                .as_str()
                .unwrap_or("");
            assert!(!message.is_empty(), "a FAILED check says why");
            assert!(
                !message.contains("fake-client-secret") && !message.contains("fake-refresh-token")
            );
        }
        validate_messages("acceptance connection", &run.stdout);
    }
}

#[test]
fn discovery_gives_unique_streams_with_draft7_schemas_cursors_and_keys() {
    let cat = Cat::start();
    for test in cat.suite("discovery") {
        let config = cat.config_file(test["config_path"].as_str().expect("config_path"));
        let run = cat.source(&["discover", "--config", &config.to_string_lossy()]);
        assert_eq!(run.code, Some(0), "discover: {}", run.stderr);
        validate_messages("acceptance discovery", &run.stdout);
        let catalogs = run.of_type("CATALOG");
        assert_eq!(catalogs.len(), 1, "one CATALOG");
        let streams = catalogs[0]["catalog"]["streams"]
            .as_array()
            .expect("streams");
        assert!(!streams.is_empty());
        let mut names = BTreeSet::new();
        for stream in streams {
            let name = stream["name"].as_str().expect("name");
            assert!(names.insert(name), "stream {name} twice");
            let properties = stream["json_schema"]["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("{name}: schema without properties"));
            let modes = stream["supported_sync_modes"].as_array().expect("modes");
            assert!(!modes.is_empty(), "{name}: no sync mode");
            for path in stream["default_cursor_field"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let field = path.as_str().expect("cursor field name");
                assert!(
                    properties.contains_key(field),
                    "{name}: cursor {field} not in the schema"
                );
            }
            if modes.contains(&json!("incremental")) {
                assert_eq!(stream["source_defined_cursor"], true, "{name}");
                assert!(
                    stream["default_cursor_field"]
                        .as_array()
                        .is_some_and(|c| !c.is_empty()),
                    "{name}: incremental without a default cursor"
                );
            }
            for key in stream["source_defined_primary_key"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let field = key[0].as_str().expect("primary key field");
                assert!(
                    properties.contains_key(field),
                    "{name}: primary key {field} not in the schema"
                );
            }
        }
        let catalog_file = cat.write("discovered.json", &catalogs[0]);
        python_check(
            "discovery",
            &["schemas", &catalog_file.to_string_lossy()],
            "",
        );
    }
}

#[test]
fn basic_read_emits_schema_valid_records_statuses_states_and_the_expected_records() {
    let cat = Cat::start();
    for test in cat.suite("basic_read") {
        let config = cat.config_file(test["config_path"].as_str().expect("config_path"));
        let discovered = cat.discover(&config);
        let (catalog_file, catalog) = cat.configured_catalog(&discovered, None);
        let run = cat.read(&config, &catalog_file, None);
        assert_eq!(run.code, Some(0), "read: {}", run.stderr);
        validate_messages("acceptance basic_read", &run.stdout);
        let messages: &[Value] = run.messages();
        let empty: BTreeSet<String> = test["empty_streams"]
            .as_sequence()
            .map(|s| {
                s.iter()
                    .filter_map(|e| e["name"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for entry in catalog["streams"].as_array().expect("streams") {
            let name = entry["stream"]["name"].as_str().expect("name");
            let own: Vec<&Value> = of_stream(messages, name).collect();
            let records = own.iter().filter(|m| m["type"] == "RECORD").count();
            assert!(
                records > 0 || empty.contains(name),
                "stream {name} gave no records and is not declared in empty_streams"
            );
            let states: Vec<&&Value> = own.iter().filter(|m| m["type"] == "STATE").collect();
            assert!(!states.is_empty(), "stream {name}: no STATE");
            assert!(
                states
                    .iter()
                    .all(|s| s["state"]["sourceStats"]["recordCount"].is_number()),
                "stream {name}: STATE without sourceStats.recordCount"
            );
            let statuses: Vec<&str> = own
                .iter()
                .filter(|m| m["trace"]["type"] == "STREAM_STATUS")
                .filter_map(|m| m["trace"]["stream_status"]["status"].as_str())
                .collect();
            assert!(statuses.len() >= 3, "stream {name}: statuses {statuses:?}");
            assert_eq!(statuses.first(), Some(&"STARTED"), "stream {name}");
            assert_eq!(statuses.last(), Some(&"COMPLETE"), "stream {name}");
            assert!(
                statuses[1..statuses.len() - 1]
                    .iter()
                    .all(|s| *s == "RUNNING"),
                "stream {name}: {statuses:?}"
            );
        }
        python_check(
            "basic_read",
            &["records", &catalog_file.to_string_lossy()],
            &run.stdout,
        );
        // Expected records: each present, by primary key, with its fields (extra fields allowed).
        let expect = &test["expect_records"];
        let path = expect["path"].as_str().expect("expect_records.path");
        let mut read_by_key: BTreeMap<(String, String), &Value> = BTreeMap::new();
        for m in messages.iter().filter(|m| m["type"] == "RECORD") {
            let id = m["record"]["data"]["Id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let stream = m["record"]["stream"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            read_by_key.insert((stream, id), &m["record"]["data"]);
        }
        let expected_text = file_text(path);
        assert!(!expected_text.trim().is_empty(), "{path} is empty");
        for (number, line) in expected_text.lines().enumerate() {
            let expected: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{path} line {}: {e}", number + 1));
            let stream = expected["stream"].as_str().expect("stream").to_string();
            let id = expected["data"]["Id"].as_str().expect("Id").to_string();
            let actual = read_by_key
                .get(&(stream.clone(), id.clone()))
                .unwrap_or_else(|| {
                    panic!("{path} line {}: {stream} {id} was not read", number + 1)
                });
            for (field, value) in expected["data"].as_object().expect("data") {
                assert_eq!(
                    &actual[field],
                    value,
                    "{path} line {}: {stream} {id} field {field}",
                    number + 1
                );
            }
        }
        // An invalid catalog ends with a TRACE ERROR, not a crash.
        let mut invalid = catalog.clone();
        invalid["streams"][0]["sync_mode"] = json!("INVALID");
        let invalid_file = cat.write("invalid_catalog.json", &invalid);
        let run = cat.read(&config, &invalid_file, None);
        assert_ne!(run.code, Some(0), "a read with sync_mode INVALID fails");
        let errors: Vec<Value> = run
            .of_type("TRACE")
            .into_iter()
            .filter(|m| m["trace"]["type"] == "ERROR")
            .collect();
        assert_eq!(errors.len(), 1, "one TRACE ERROR: {}", run.stdout);
        validate_messages("acceptance basic_read invalid catalog", &run.stdout);
    }
}

#[test]
fn full_refresh_twice_gives_the_same_records_with_later_emitted_at() {
    let cat = Cat::start();
    for test in cat.suite("full_refresh") {
        let config = cat.config_file(test["config_path"].as_str().expect("config_path"));
        let discovered = cat.discover(&config);
        let (catalog_file, _) = cat.configured_catalog(
            &discovered,
            Some(
                test["configured_catalog_path"]
                    .as_str()
                    .expect("catalog path"),
            ),
        );
        let first = cat.read(&config, &catalog_file, None);
        let second = cat.read(&config, &catalog_file, None);
        for run in [&first, &second] {
            assert_eq!(run.code, Some(0), "read: {}", run.stderr);
            validate_messages("acceptance full_refresh", &run.stdout);
        }
        let records = |run: &Run| -> (BTreeSet<String>, Vec<i64>) {
            let mut data = BTreeSet::new();
            let mut emitted = Vec::new();
            for m in run.of_type("RECORD") {
                data.insert(json!([m["record"]["stream"], m["record"]["data"]]).to_string());
                emitted.push(
                    m["record"]["emitted_at"]
                        .as_i64()
                        .expect("emitted_at is an integer"),
                );
            }
            (data, emitted)
        };
        let (first_data, first_emitted) = records(&first);
        let (second_data, second_emitted) = records(&second);
        assert!(!first_data.is_empty());
        assert!(
            first_data.is_subset(&second_data),
            "the second read lacks {} records of the first",
            first_data.difference(&second_data).count()
        );
        let latest_first = first_emitted.iter().max().copied().unwrap_or_default();
        assert!(
            second_emitted.iter().all(|t| *t > latest_first),
            "every emitted_at of the second read is later than the first read's"
        );
    }
}

#[test]
fn incremental_with_a_future_state_reads_nothing_and_still_emits_state() {
    let cat = Cat::start();
    for test in cat.suite("incremental") {
        let config = cat.config_file(test["config_path"].as_str().expect("config_path"));
        let discovered = cat.discover(&config);
        let (catalog_file, catalog) = cat.configured_catalog(
            &discovered,
            Some(
                test["configured_catalog_path"]
                    .as_str()
                    .expect("catalog path"),
            ),
        );
        let future = test["future_state"]["future_state_path"]
            .as_str()
            .expect("future_state_path");
        let state_file = repo_root().join(future);
        let run = cat.read(&config, &catalog_file, Some(&state_file));
        assert_eq!(run.code, Some(0), "read with {future}: {}", run.stderr);
        validate_messages("acceptance incremental", &run.stdout);
        assert!(
            run.of_type("RECORD").is_empty(),
            "a future state reads no records: {}",
            run.stdout
        );
        for entry in catalog["streams"].as_array().expect("streams") {
            let name = entry["stream"]["name"].as_str().expect("name");
            assert!(
                run.of_type("STATE")
                    .iter()
                    .any(|s| s["state"]["stream"]["stream_descriptor"]["name"] == name),
                "stream {name}: a STATE even with nothing to read"
            );
        }
        // The abnormal state file is the same check under Airbyte's other name.
        let abnormal = json_file("integration_tests/abnormal_state.json");
        assert_eq!(abnormal, json_file(future));
    }
}

#[test]
fn incremental_from_the_sample_state_reads_only_records_at_or_after_it() {
    let cat = Cat::start();
    let test = &cat.suite("incremental")[0];
    let config = cat.config_file(test["config_path"].as_str().expect("config_path"));
    let discovered = cat.discover(&config);
    let (catalog_file, _) = cat.configured_catalog(
        &discovered,
        Some(
            test["configured_catalog_path"]
                .as_str()
                .expect("catalog path"),
        ),
    );
    let state_path = repo_root().join("integration_tests/sample_state.json");
    let states: Value = json_file("integration_tests/sample_state.json");
    let run = cat.read(&config, &catalog_file, Some(&state_path));
    assert_eq!(
        run.code,
        Some(0),
        "read with sample_state.json: {}",
        run.stderr
    );
    validate_messages("acceptance incremental sample state", &run.stdout);
    for state in states.as_array().expect("a state list") {
        let name = state["stream"]["stream_descriptor"]["name"]
            .as_str()
            .expect("name");
        let blob = &state["stream"]["stream_state"];
        let cursor_value = blob["SystemModstamp"]
            .as_str()
            .or_else(|| blob["slices"][0]["end"].as_str())
            .expect("a cursor value in the sample state");
        let cutoff = chrono::DateTime::parse_from_rfc3339(cursor_value).expect("RFC 3339")
            - chrono::Duration::minutes(10); // the default lookback_window
        let records: Vec<Value> = run
            .of_type("RECORD")
            .into_iter()
            .filter(|m| m["record"]["stream"] == name)
            .collect();
        assert!(
            !records.is_empty(),
            "{name}: the org has rows newer than the sample state"
        );
        for record in records {
            let at = record["record"]["data"]["SystemModstamp"]
                .as_str()
                .expect("cursor");
            let at = chrono::DateTime::parse_from_rfc3339(at).expect("RFC 3339 cursor");
            assert!(
                at >= cutoff,
                "{name}: record at {at} is older than the state ({cursor_value})"
            );
        }
    }
}

#[test]
fn backward_compatibility_check_catches_what_breaks_old_configs() {
    let old = json!({"required": ["a"], "properties": {
        "a": {"type": "string"}, "b": {"type": "string", "enum": ["x", "y"]},
        "c": {"type": "object", "properties": {"d": {"type": "integer"}}}}});
    let same = old.clone();
    assert!(backward_incompatibilities(&old, &same, "").is_empty());
    let broken = json!({"required": ["a", "e"], "additionalProperties": true, "properties": {
        "a": {"type": "integer"}, "b": {"type": "string", "enum": ["x"]},
        "c": {"type": "object", "properties": {"d": {"type": "string"}}}}});
    let problems = backward_incompatibilities(&old, &broken, "");
    assert_eq!(
        problems,
        [
            "e: newly required",
            "a: type {\"string\"} became {\"integer\"}",
            "b: enum value \"y\" removed",
            "c.d: type {\"integer\"} became {\"string\"}",
        ]
    );
}

#[test]
fn spec_rules_flag_unmarked_secrets_and_forbidden_keywords() {
    let schema = json!({"type": "object", "additionalProperties": false, "properties": {
        "client_secret": {"type": "string"},
        "client_id": {"type": "string"},
        "x": {"anyOf": [{"type": "string"}]},
        "storage": {"oneOf": [
            {"properties": {"kind": {"const": "a"}}},
            {"properties": {"other": {"const": "b"}}}]}}});
    let mut problems = Vec::new();
    spec_rule_violations(&schema, "s", &mut problems);
    assert_eq!(
        problems,
        [
            "s: additionalProperties must be true where set",
            "s.client_secret: secret-like but not airbyte_secret",
            "s.x: uses anyOf",
            "s.storage: oneOf options share no const property",
        ]
    );
}
