//! The SPEC each role prints: one line, a valid protocol message, checked in under `spec/`,
//! and compatible with every property of Airbyte's own Salesforce specs.

use std::path::Path;

use crate::support::protocol::validate_with_python;
use crate::support::run::{connector, linked_as};
use crate::support::tools::python;
use salesforce_connector::config::{
    destination_spec, source_spec, DestinationConfig, SourceConfig,
};
use serde_json::{json, Value};

fn repo_file(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap() + "\n"
}

#[test]
fn checked_in_specs_match_the_generated_ones() {
    for (file, spec) in [
        ("spec/source.json", pretty(&source_spec())),
        ("spec/destination.json", pretty(&destination_spec())),
    ] {
        let path = repo_file(file);
        if std::env::var_os("UPDATE_SPECS").is_some() {
            std::fs::write(&path, &spec).unwrap();
            continue;
        }
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            checked_in == spec,
            "{file} is stale: regenerate it with `UPDATE_SPECS=1 cargo test -p salesforce-connector --test it spec::`"
        );
    }
}

#[test]
fn spec_commands_print_exactly_one_spec_line() {
    let dir = tempfile::tempdir().unwrap();
    let runs = [
        ("source", connector(&["source", "spec"]).run()),
        ("destination", connector(&["destination", "spec"]).run()),
        (
            "source",
            connector(&["spec"])
                .program(&linked_as(dir.path(), "source-salesforce"))
                .run(),
        ),
        (
            "destination",
            connector(&["spec", "--debug"])
                .program(&linked_as(dir.path(), "destination-salesforce"))
                .run(),
        ),
    ];
    for (role, run) in runs {
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert_eq!(run.stdout.lines().count(), 1, "one line: {}", run.stdout);
        let message = &run.messages()[0];
        assert_eq!(message["type"], "SPEC");
        let expected = if role == "source" {
            pretty(&source_spec())
        } else {
            pretty(&destination_spec())
        };
        assert_eq!(pretty(&message["spec"]), expected);
    }
}

#[test]
fn spec_and_error_lines_validate_as_airbyte_messages() {
    let Some(python) = python("spec_and_error_lines_validate_as_airbyte_messages") else {
        return;
    };
    let mut lines = String::new();
    for args in [
        &["source", "spec"][..],
        &["destination", "spec"],
        &["source", "check", "--config", "/nonexistent/config.json"],
        &["destination", "dance"],
    ] {
        lines.push_str(&connector(args).run().stdout);
    }
    assert_eq!(lines.lines().count(), 4);
    validate_with_python(&python, &lines).unwrap();
}

/// A property of our spec at a fixture path: `a/b` is property `b` of `a`, `items` steps into
/// an array's items, and any other segment that is no property picks the `oneOf` option whose
/// discriminator (`enum`) has that value.
fn ours_at<'a>(spec: &'a Value, path: &str) -> Option<&'a Value> {
    let mut node = spec;
    for segment in path.split('/') {
        node = if let Some(next) = node.get("properties").and_then(|p| p.get(segment)) {
            next
        } else if segment == "items" {
            node.get("items")?
        } else {
            node.get("oneOf")?.as_array()?.iter().find(|option| {
                option["properties"].as_object().is_some_and(|props| {
                    props.values().any(|p| {
                        p["enum"]
                            .as_array()
                            .is_some_and(|e| e.len() == 1 && e[0] == segment)
                    })
                })
            })?
        };
    }
    Some(node)
}

fn types_of(node: &Value) -> Vec<String> {
    match &node["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(String::from))
            .collect(),
        _ => vec![],
    }
}

fn assert_compatible(fixture: &str, ours: &Value) {
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_file(fixture)).unwrap()).unwrap();
    let spec = &ours["connectionSpecification"];
    for property in fixture["properties"].as_array().unwrap() {
        let path = property["path"].as_str().unwrap();
        let node = ours_at(spec, path).unwrap_or_else(|| panic!("{path}: missing from our spec"));
        let theirs = property["type"].as_str().unwrap();
        assert!(
            types_of(node).iter().any(|t| t == theirs),
            "{path}: type {theirs} expected, ours is {}",
            node["type"]
        );
        if let Some(default) = property.get("default") {
            assert_eq!(&node["default"], default, "{path}: default");
        }
        let accepted: Vec<&Value> = property["enum"]
            .as_array()
            .map(|e| e.iter().collect())
            .unwrap_or_default();
        for value in accepted.iter().copied().chain(property.get("const")) {
            if let Some(ours_enum) = node["enum"].as_array() {
                assert!(
                    ours_enum.contains(value),
                    "{path}: {value} must stay accepted"
                );
            }
            if let Some(ours_const) = node.get("const") {
                assert_eq!(ours_const, value, "{path}: const");
            }
        }
        if property["secret"] == true {
            assert_eq!(node["airbyte_secret"], true, "{path}: airbyte_secret");
        }
    }
}

#[test]
fn every_airbyte_source_property_exists_in_ours_with_compatible_type_and_default() {
    assert_compatible(
        "tests/fixtures/airbyte-source-salesforce-spec.json",
        &serde_json::to_value(source_spec()).unwrap(),
    );
}

#[test]
fn every_airbyte_destination_property_exists_in_ours_with_compatible_type_and_default() {
    assert_compatible(
        "tests/fixtures/airbyte-destination-salesforce-spec.json",
        &serde_json::to_value(destination_spec()).unwrap(),
    );
}

/// Values a saved Airbyte config may hold for a fixture property.
fn sample_values(property: &Value) -> Vec<Value> {
    let mut values: Vec<Value> = Vec::new();
    for key in ["default", "example", "const"] {
        if let Some(v) = property.get(key) {
            values.push(v.clone());
        }
    }
    if let Some(e) = property["enum"].as_array() {
        values.extend(e.iter().cloned());
    }
    if values.is_empty() {
        values.push(match property["type"].as_str() {
            Some("boolean") => json!(true),
            Some("string") => json!("x"),
            Some("integer") => json!(1),
            _ => return values,
        });
    }
    values
}

/// Sets `value` at a fixture path inside a config, building the minimal objects around it.
fn set_at(config: &mut Value, path: &str, value: Value) {
    let segments: Vec<&str> = path.split('/').collect();
    let minimal_s3 = || json!({"storage_type": "S3", "s3_bucket_name": "bucket", "s3_bucket_region": "", "bucket_path": ""});
    match segments.as_slice() {
        [key] => config[*key] = value,
        ["streams_criteria", "items", key] => {
            let mut entry = json!({"criteria": "contains", "value": "Account"});
            entry[*key] = value;
            config["streams_criteria"] = json!([entry]);
        }
        ["object_storage_config", "None", key] => {
            let mut storage = json!({"storage_type": "None"});
            storage[*key] = value;
            config["object_storage_config"] = storage;
        }
        ["object_storage_config", "S3", key] => {
            let mut storage = minimal_s3();
            // Keys come in pairs: half a pair is refused (it could never authenticate).
            match *key {
                "access_key_id" => storage["secret_access_key"] = json!("secret"),
                "secret_access_key" => storage["access_key_id"] = json!("AKIAEXAMPLE"),
                _ => {}
            }
            storage[*key] = value;
            config["object_storage_config"] = storage;
        }
        ["object_storage_config", "S3", nested, option, key] => {
            let discriminator = if *nested == "format" {
                "format_type"
            } else {
                "compression_type"
            };
            let mut inner = json!({});
            inner[discriminator] = json!(option);
            inner[*key] = value;
            let mut storage = minimal_s3();
            storage[*nested] = inner;
            config["object_storage_config"] = storage;
        }
        _ => panic!("no rule to set {path}"),
    }
}

fn assert_saved_configs_parse(
    fixture: &str,
    minimal: Value,
    parse: impl Fn(Value) -> Result<(), String>,
) {
    let fixture: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_file(fixture)).unwrap()).unwrap();
    for property in fixture["properties"].as_array().unwrap() {
        let path = property["path"].as_str().unwrap();
        for value in sample_values(property) {
            let mut config = minimal.clone();
            set_at(&mut config, path, value.clone());
            parse(config).unwrap_or_else(|e| panic!("{path} = {value}: {e}"));
        }
    }
    for key in fixture["config_only_keys"].as_array().unwrap() {
        let mut config = minimal.clone();
        config[key["key"].as_str().unwrap()] = key["example"].clone();
        parse(config).unwrap_or_else(|e| panic!("{}: {e}", key["key"]));
    }
}

#[test]
fn saved_airbyte_source_configs_parse_with_every_documented_value() {
    assert_saved_configs_parse(
        "tests/fixtures/airbyte-source-salesforce-spec.json",
        json!({"client_id": "id", "client_secret": "secret", "refresh_token": "token"}),
        |config| {
            SourceConfig::from_value(config)
                .map(drop)
                .map_err(|e| e.to_string())
        },
    );
}

#[test]
fn saved_airbyte_destination_configs_parse_with_every_documented_value() {
    assert_saved_configs_parse(
        "tests/fixtures/airbyte-destination-salesforce-spec.json",
        json!({"client_id": "id", "client_secret": "secret", "refresh_token": "token", "is_sandbox": false, "auth_type": "Client"}),
        |config| {
            DestinationConfig::from_value(config)
                .map(drop)
                .map_err(|e| e.to_string())
        },
    );
}
