//! The SPEC each role prints, generated from the config types.
//!
//! schemars derives the JSON Schema (types, defaults, descriptions from doc comments,
//! `airbyte_secret` from [`Secret`](super::Secret)); this module adds what Rust types cannot
//! say: Airbyte's UI keys (`order`, `group`, `pattern`, `pattern_descriptor`, `examples`,
//! `airbyte_hidden`, `always_show`) and `advanced_auth`. The result is checked in under
//! `spec/` and a test fails when it is stale.

use schemars::gen::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{json, Map, Value};

use super::auth::{with_flat_keys, AuthKeys, ConnectionKeys};
use super::destination::{RawDestinationConfig, S3_REGIONS};
use super::source::RawSourceConfig;
use crate::protocol::{AdvancedAuth, AuthFlowType, ConnectorSpecification, DestinationSyncMode};

const SOURCE_DOCUMENTATION_URL: &str = "https://docs.airbyte.com/integrations/sources/salesforce";
const DESTINATION_DOCUMENTATION_URL: &str =
    "https://docs.airbyte.com/integrations/enterprise-connectors/destination-salesforce";
const DATE_PATTERN: &str = "^([0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?)$";
const OPTIONAL_DATE_PATTERN: &str =
    "^$|^([0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?)$";
const DURATION_PATTERN: &str =
    "^P(?!$)([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+([.,][0-9]+)?S)?)?$";

/// The source's SPEC payload.
pub fn source_spec() -> ConnectorSpecification {
    let mut schema = config_schema::<RawSourceConfig>();
    let groups = [
        ("auth", "Authentication"),
        ("replication", "Replication"),
        ("advanced", "Advanced"),
    ];
    annotate(
        &mut schema,
        &[
            ("is_sandbox", json!({"order": 1, "group": "auth"})),
            (
                "auth_type",
                json!({"order": 0, "group": "auth", "default": "Client"}),
            ),
            ("client_id", json!({"order": 2, "group": "auth"})),
            ("client_secret", json!({"order": 3, "group": "auth"})),
            ("refresh_token", json!({"order": 4, "group": "auth"})),
            (
                "start_date",
                json!({"order": 5, "group": "replication", "format": "date-time",
            "pattern": DATE_PATTERN, "pattern_descriptor": "YYYY-MM-DD or YYYY-MM-DDTHH:mm:ssZ",
            "examples": ["2021-07-25", "2021-07-25T00:00:00Z"]}),
            ),
            (
                "end_date",
                json!({"order": 6, "group": "replication", "format": "date-time",
            "pattern": OPTIONAL_DATE_PATTERN, "pattern_descriptor": "YYYY-MM-DD or YYYY-MM-DDTHH:mm:ssZ",
            "examples": ["2024-10-02", "2024-10-02T00:00:00Z"]}),
            ),
            (
                "force_use_bulk_api",
                json!({"order": 7, "group": "replication"}),
            ),
            (
                "stream_slice_step",
                json!({"order": 8, "group": "replication", "pattern": DURATION_PATTERN,
            "examples": ["PT12H", "P7D", "P30D", "P1M", "P1Y"]}),
            ),
            (
                "lookback_window",
                json!({"order": 9, "group": "replication", "pattern": DURATION_PATTERN,
            "examples": ["PT10M", "PT30M", "PT1H"]}),
            ),
            (
                "streams_criteria",
                json!({"order": 10, "group": "replication"}),
            ),
            (
                "streams_criteria/items/properties/criteria",
                json!({"order": 1}),
            ),
            (
                "streams_criteria/items/properties/value",
                json!({"order": 2}),
            ),
            (
                "preserve_na_values",
                json!({"order": 11, "group": "replication"}),
            ),
            (
                "login_url",
                json!({"order": 12, "group": "auth",
            "examples": ["https://login.salesforce.com", "https://acme.my.salesforce.com"]}),
            ),
            ("username", json!({"order": 13, "group": "auth"})),
            (
                "private_key",
                json!({"order": 14, "group": "auth", "multiline": true}),
            ),
            ("jwt_audience", json!({"order": 15, "group": "auth"})),
            (
                "api_version",
                json!({"order": 16, "group": "advanced", "pattern": "^v?[0-9]+(\\.0)?$",
            "examples": ["62.0"]}),
            ),
            (
                "detect_hard_deletes",
                json!({"order": 17, "group": "advanced"}),
            ),
            (
                "verify_window_counts",
                json!({"order": 18, "group": "advanced"}),
            ),
            (
                "api_budget_percent",
                json!({"order": 19, "group": "advanced"}),
            ),
            ("bulk_page_size", json!({"order": 20, "group": "advanced"})),
            (
                "num_workers",
                json!({"order": 21, "group": "advanced", "airbyte_hidden": true}),
            ),
            (
                "credentials",
                json!({"order": 22, "group": "auth", "airbyte_hidden": true}),
            ),
            (
                "ca_certificate",
                json!({"order": 23, "group": "advanced", "multiline": true}),
            ),
            (
                "max_parallel_downloads",
                json!({"order": 24, "group": "advanced"}),
            ),
            (
                "change_data_capture",
                json!({"order": 25, "group": "replication"}),
            ),
            (
                "change_data_capture/properties/enabled",
                json!({"order": 1, "default": false}),
            ),
            (
                "change_data_capture/properties/idle_timeout_seconds",
                json!({"order": 2}),
            ),
            (
                "change_data_capture/properties/max_events_per_read",
                json!({"order": 3}),
            ),
            (
                "pubsub_endpoint",
                json!({"order": 26, "group": "advanced",
            "examples": ["api.pubsub.salesforce.com:7443", "api.deu.pubsub.salesforce.com:7443"]}),
            ),
            ("id_range_rows", json!({"order": 27, "group": "advanced"})),
            (
                "incremental_window_rows",
                json!({"order": 28, "group": "advanced"}),
            ),
        ],
    );
    schema["groups"] = Value::Array(
        groups
            .iter()
            .map(|(id, title)| json!({"id": id, "title": title}))
            .collect(),
    );
    ConnectorSpecification {
        documentation_url: Some(SOURCE_DOCUMENTATION_URL.into()),
        changelog_url: None,
        connection_specification: schema,
        supports_incremental: None,
        supports_normalization: None,
        supports_dbt: None,
        supported_destination_sync_modes: None,
        advanced_auth: Some(oauth()),
        protocol_version: None,
    }
}

/// The destination's SPEC payload.
pub fn destination_spec() -> ConnectorSpecification {
    let mut schema = config_schema::<RawDestinationConfig>();
    let s3 = "object_storage_config/oneOf/1/properties";
    annotate(
        &mut schema,
        &[
            ("client_id", json!({"order": 0})),
            ("client_secret", json!({"order": 1})),
            ("refresh_token", json!({"order": 2})),
            // The shared connection keys in the destination's own words.
            ("is_sandbox", json!({"title": "Is Sandbox", "order": 3})),
            ("auth_type", json!({"order": 4, "default": "Client"})),
            (
                "object_storage_config",
                json!({"order": 5, "type": "object"}),
            ),
            (
                "object_storage_config/oneOf/0/properties/storage_type",
                json!({"default": "None"}),
            ),
            (
                "object_storage_config/oneOf/1/properties/storage_type",
                json!({"default": "S3"}),
            ),
            (
                &format!("{s3}/format/oneOf/0/properties/format_type"),
                json!({"default": "CSV"}),
            ),
            (
                &format!("{s3}/format/oneOf/1/properties/format_type"),
                json!({"default": "JSONL"}),
            ),
            (
                &format!("{s3}/compression/oneOf/0/properties/compression_type"),
                json!({"default": "No Compression"}),
            ),
            (
                &format!("{s3}/compression/oneOf/1/properties/compression_type"),
                json!({"default": "GZIP"}),
            ),
            (
                "object_storage_config/oneOf/1",
                json!({"required": ["storage_type", "s3_bucket_name"]}),
            ),
            (
                &format!("{s3}/access_key_id"),
                json!({"order": 1, "always_show": true,
            "examples": ["A012345678910EXAMPLE"]}),
            ),
            (
                &format!("{s3}/secret_access_key"),
                json!({"order": 2, "always_show": true,
            "examples": ["a012345678910ABCDEFGH/AbCdEfGhEXAMPLEKEY"]}),
            ),
            (
                &format!("{s3}/role_arn"),
                json!({"order": 3,
            "examples": ["arn:aws:iam::123456789:role/ExternalIdIsYourWorkspaceId"]}),
            ),
            (
                &format!("{s3}/s3_bucket_name"),
                json!({"order": 4, "examples": ["airbyte_sync"]}),
            ),
            (
                &format!("{s3}/s3_bucket_region"),
                json!({"order": 5, "enum": S3_REGIONS.to_vec(),
            "examples": ["us-east-1"]}),
            ),
            (
                &format!("{s3}/s3_endpoint"),
                json!({"order": 6, "examples": ["http://localhost:9000"]}),
            ),
            (
                &format!("{s3}/bucket_path"),
                json!({"order": 7, "examples": ["prefix/"]}),
            ),
            (
                &format!("{s3}/format"),
                json!({"order": 8, "airbyte_hidden": true, "type": "object",
            "default": "CSV", "examples": ["CSV", "JSONL"]}),
            ),
            (
                &format!("{s3}/compression"),
                json!({"order": 9, "airbyte_hidden": true, "type": "object"}),
            ),
            (
                &format!("{s3}/path_format"),
                json!({"order": 10, "airbyte_hidden": true,
            "examples": ["{namespace}/{stream_name}/{year}_{month}_{day}_{epoch}"]}),
            ),
            (
                &format!("{s3}/file_name_format"),
                json!({"order": 11, "airbyte_hidden": true,
            "examples": ["{date}", "{date:yyyy_MM}", "{timestamp}", "{part_number}", "{sync_id}"]}),
            ),
            (
                "login_url",
                json!({"order": 6,
            "examples": ["https://login.salesforce.com", "https://acme.my.salesforce.com"]}),
            ),
            ("username", json!({"order": 7})),
            ("private_key", json!({"order": 8, "multiline": true})),
            ("jwt_audience", json!({"order": 9})),
            ("dead_letter_folder", json!({"order": 10})),
            (
                "api_version",
                json!({"order": 11, "pattern": "^v?[0-9]+(\\.0)?$", "examples": ["62.0"]}),
            ),
            ("batch_size_bytes", json!({"order": 12})),
            ("max_concurrent_jobs", json!({"order": 13})),
            ("max_retries", json!({"order": 14})),
            (
                "credentials",
                json!({"description": "The same credential keys nested in one object. Keys here win over the top level.",
            "order": 15, "airbyte_hidden": true}),
            ),
            ("state_flush_seconds", json!({"order": 16})),
            (
                "hard_delete_streams",
                json!({"order": 17, "examples": [["contacts_to_purge"]]}),
            ),
            ("dry_run", json!({"order": 18, "default": false})),
            (
                "ca_certificate",
                json!({"description": "Extra certificate authorities, as PEM text (one or more -----BEGIN CERTIFICATE----- blocks), trusted for every Salesforce connection and the S3 dead-letter queue: for a TLS-inspecting proxy or a private CA. The built-in public roots stay trusted.",
            "order": 19, "multiline": true}),
            ),
            ("outcome_report", json!({"order": 20, "default": false})),
            (
                "skip_unchanged_records",
                json!({"order": 21, "default": false}),
            ),
        ],
    );
    let mut advanced_auth = oauth();
    if let Some(Value::Object(spec)) = advanced_auth.oauth_config_specification.as_mut() {
        // Airbyte's destination declares no connector-input block either; kept identical.
        spec.remove("oauth_connector_input_specification");
    }
    ConnectorSpecification {
        documentation_url: Some(DESTINATION_DOCUMENTATION_URL.into()),
        changelog_url: None,
        connection_specification: schema,
        supports_incremental: Some(true),
        supports_normalization: Some(false),
        supports_dbt: Some(false),
        supported_destination_sync_modes: Some(vec![
            DestinationSyncMode::Append,
            DestinationSyncMode::AppendDedup,
            DestinationSyncMode::Update,
            DestinationSyncMode::SoftDelete,
        ]),
        advanced_auth: Some(advanced_auth),
        protocol_version: None,
    }
}

/// Top-level property names of the source config (for spotting unknown keys).
#[cfg(test)]
pub(crate) fn source_property_names() -> Vec<String> {
    property_names(&config_schema::<RawSourceConfig>())
}

#[cfg(test)]
fn property_names(schema: &Value) -> Vec<String> {
    schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The OAuth flow as Airbyte's Salesforce connectors declare it: shown when
/// `auth_type == "Client"`, the user picks `is_sandbox`, the flow yields `refresh_token`, and
/// the platform's own `client_id` / `client_secret` go into the config.
fn oauth() -> AdvancedAuth {
    let string = || json!({"type": "string"});
    AdvancedAuth {
        auth_flow_type: AuthFlowType::OAuth2,
        predicate_key: Some(vec!["auth_type".into()]),
        predicate_value: Some("Client".into()),
        oauth_config_specification: Some(json!({
            "oauth_user_input_from_connector_config_specification": {
                "type": "object", "additionalProperties": false,
                "properties": {"is_sandbox": {"type": "boolean", "path_in_connector_config": ["is_sandbox"]}}
            },
            "complete_oauth_output_specification": {
                "type": "object", "additionalProperties": false,
                "properties": {"refresh_token": {"type": "string", "path_in_connector_config": ["refresh_token"]}}
            },
            "complete_oauth_server_input_specification": {
                "type": "object", "additionalProperties": false,
                "properties": {"client_id": string(), "client_secret": string()}
            },
            "complete_oauth_server_output_specification": {
                "type": "object", "additionalProperties": false,
                "properties": {
                    "client_id": {"type": "string", "path_in_connector_config": ["client_id"]},
                    "client_secret": {"type": "string", "path_in_connector_config": ["client_secret"]}
                }
            }
        })),
    }
}

/// The draft-07 schema of `T`, inlined (no `$ref`, `definitions` or `anyOf`: Airbyte's
/// acceptance tests forbid them), every object open to unknown keys.
/// A raw config's schema with the connection keys and flat credential keys it reads through
/// [`ConnectionKeys`].
fn config_schema<T: JsonSchema>() -> Value {
    let with_connection = with_flat_keys(schema_of::<T>(), &schema_of::<ConnectionKeys>());
    with_flat_keys(with_connection, &schema_of::<AuthKeys>())
}

fn schema_of<T: JsonSchema>() -> Value {
    let settings = SchemaSettings::draft07().with(|s| {
        s.option_nullable = false;
        s.option_add_null_type = false;
        s.inline_subschemas = true;
    });
    let root = settings.into_generator().into_root_schema_for::<T>();
    let mut schema = serde_json::to_value(root).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut schema {
        map.remove("definitions");
    }
    tidy(&mut schema);
    schema
}

/// Drops schemars' numeric `format`s (`uint32`...), and opens every object schema.
fn tidy(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let numeric_format = map
                .get("format")
                .and_then(Value::as_str)
                .is_some_and(|f| f.starts_with("int") || f.starts_with("uint") || f == "double");
            if numeric_format {
                map.remove("format");
            }
            if map.get("type").and_then(Value::as_str) == Some("object")
                && map.contains_key("properties")
            {
                map.insert("additionalProperties".into(), Value::Bool(true));
            }
            for child in map.values_mut() {
                tidy(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// Merges each annotation into the property at its path (`a/items/properties/b`, relative to
/// the top-level `properties`). A path that names no property is a bug: debug builds panic.
fn annotate(schema: &mut Value, annotations: &[(&str, Value)]) {
    for (path, extra) in annotations {
        let pointer = format!("/properties/{path}");
        match schema.pointer_mut(&pointer) {
            Some(Value::Object(target)) => merge(target, extra),
            _ => debug_assert!(false, "spec annotation for a missing property: {path}"),
        }
    }
}

fn merge(target: &mut Map<String, Value>, extra: &Value) {
    if let Value::Object(extra) = extra {
        for (key, value) in extra {
            target.insert(key.clone(), value.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk<'a>(value: &'a Value, path: String, out: &mut Vec<(String, &'a Value)>) {
        out.push((path.clone(), value));
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    walk(v, format!("{path}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{path}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    fn all_nodes(spec: &ConnectorSpecification) -> Vec<(String, Value)> {
        let value = spec.connection_specification.clone();
        let mut out = Vec::new();
        walk(&value, String::new(), &mut out);
        out.into_iter().map(|(p, v)| (p, v.clone())).collect()
    }

    #[test]
    fn specs_use_no_keywords_airbyte_acceptance_tests_forbid() {
        for spec in [source_spec(), destination_spec()] {
            for (path, node) in all_nodes(&spec) {
                if let Value::Object(map) = node {
                    for forbidden in [
                        "$ref",
                        "anyOf",
                        "allOf",
                        "not",
                        "if",
                        "patternProperties",
                        "definitions",
                    ] {
                        assert!(!map.contains_key(forbidden), "{forbidden} at {path}");
                    }
                    if let Some(ap) = map.get("additionalProperties") {
                        if !path.contains("oauth") {
                            assert_eq!(ap, &Value::Bool(true), "additionalProperties at {path}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn secret_like_properties_are_marked_airbyte_secret() {
        for spec in [source_spec(), destination_spec()] {
            for (path, node) in all_nodes(&spec) {
                let name = path.rsplit('/').next().unwrap_or("");
                let parent_is_properties = path.rsplit('/').nth(1) == Some("properties");
                if parent_is_properties
                    && [
                        "client_secret",
                        "refresh_token",
                        "private_key",
                        "access_key_id",
                        "secret_access_key",
                    ]
                    .contains(&name)
                {
                    assert_eq!(node["airbyte_secret"], true, "{path}");
                }
            }
        }
    }

    #[test]
    fn every_top_level_property_has_title_description_and_unique_order() {
        for spec in [source_spec(), destination_spec()] {
            let properties = spec.connection_specification["properties"]
                .as_object()
                .unwrap()
                .clone();
            let mut orders = Vec::new();
            for (name, property) in &properties {
                if name != "auth_type" {
                    assert!(property["title"].is_string(), "title of {name}");
                    assert!(property["description"].is_string(), "description of {name}");
                }
                orders.push(
                    property["order"]
                        .as_i64()
                        .unwrap_or_else(|| panic!("order of {name}")),
                );
            }
            let count = orders.len();
            orders.sort();
            orders.dedup();
            assert_eq!(orders.len(), count, "orders are unique");
        }
    }

    #[test]
    fn one_of_options_share_a_const_like_discriminator() {
        let spec = destination_spec();
        let options = spec.connection_specification["properties"]["object_storage_config"]["oneOf"]
            .as_array()
            .unwrap()
            .clone();
        let types: Vec<_> = options
            .iter()
            .map(|o| o["properties"]["storage_type"]["enum"][0].clone())
            .collect();
        assert_eq!(types, vec![json!("None"), json!("S3")]);
        for option in &options {
            assert!(option["required"]
                .as_array()
                .unwrap()
                .contains(&json!("storage_type")));
        }
    }

    #[test]
    fn known_property_names_include_both_credential_forms() {
        let names = source_property_names();
        for key in [
            "client_id",
            "credentials",
            "start_date",
            "num_workers",
            "login_url",
        ] {
            assert!(names.contains(&key.to_string()), "{key}");
        }
    }
}
