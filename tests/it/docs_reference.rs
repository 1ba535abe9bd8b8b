//! docs/configuration.md is generated from spec/source.json and spec/destination.json; this test
//! fails when it is stale. Regenerate with:
//!
//!     SF_UPDATE_DOCS=1 cargo test -p salesforce-connector --test it docs_reference

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value};

use crate::support::files::assert_generated_file;

const TARGET: &str = "docs/configuration.md";

fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn code(text: &str) -> String {
    // Inline code cannot hold a backtick run of the same length: use double backticks.
    if text.contains('`') {
        format!("`` {} ``", escape(text))
    } else {
        format!("`{}`", escape(text))
    }
}

fn type_of(schema: &Value) -> String {
    let base = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(types) => types
            .iter()
            .filter_map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(" or "),
        _ if schema.get("oneOf").is_some() => "object (one of)".to_string(),
        _ => "any".to_string(),
    };
    match (base.as_str(), schema["items"]["type"].as_str()) {
        ("array", Some(item)) => format!("array of {item}"),
        _ => base,
    }
}

/// The "Details" column: secret, constraints, enum, examples.
fn details(schema: &Value) -> String {
    let mut parts = Vec::new();
    if schema["airbyte_secret"] == Value::Bool(true) {
        parts.push("secret".to_string());
    }
    if schema["airbyte_hidden"] == Value::Bool(true) {
        parts.push("hidden in the UI".to_string());
    }
    if let Some(c) = schema.get("const") {
        parts.push(format!("always {}", code(&c.to_string())));
    }
    if let Some(values) = schema["enum"].as_array() {
        let list: Vec<String> = values.iter().map(|v| code(&plain(v))).collect();
        parts.push(format!("one of {}", list.join(", ")));
    }
    if let Some(values) = schema["items"]["enum"].as_array() {
        let list: Vec<String> = values.iter().map(|v| code(&plain(v))).collect();
        parts.push(format!("items one of {}", list.join(", ")));
    }
    match (schema.get("minimum"), schema.get("maximum")) {
        (Some(min), Some(max)) => parts.push(format!("{} to {}", number(min), number(max))),
        (Some(min), None) => parts.push(format!("at least {}", number(min))),
        (None, Some(max)) => parts.push(format!("at most {}", number(max))),
        (None, None) => {}
    }
    if let Some(descriptor) = schema["pattern_descriptor"].as_str() {
        parts.push(format!("format {}", code(descriptor)));
    } else if let Some(pattern) = schema["pattern"].as_str() {
        parts.push(format!("pattern {}", code(pattern)));
    }
    if let Some(format) = schema["format"].as_str() {
        parts.push(format!("format {format}"));
    }
    if let Some(examples) = schema["examples"].as_array() {
        let list: Vec<String> = examples.iter().map(|v| code(&plain(v))).collect();
        parts.push(format!("e.g. {}", list.join(", ")));
    }
    parts.join("; ")
}

/// 1.0 -> "1", 2.5 -> "2.5".
fn number(value: &Value) -> String {
    match value.as_f64() {
        Some(f) if f.fract() == 0.0 => format!("{}", f as i64),
        _ => value.to_string(),
    }
}

/// A JSON value as the user types it: strings without quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) if s.is_empty() => "\"\"".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn ordered(properties: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut list: Vec<(&String, &Value)> = properties.iter().collect();
    list.sort_by_key(|(name, schema)| {
        (
            schema["order"].as_i64().unwrap_or(i64::MAX),
            (*name).clone(),
        )
    });
    list
}

/// One table row per property, nested objects, array items and oneOf options included.
fn rows(
    prefix: &str,
    schema: &Value,
    required: &[&str],
    option: Option<&str>,
    out: &mut Vec<[String; 6]>,
) {
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    for (name, property) in ordered(properties) {
        let key = format!("{prefix}{name}");
        let default = property
            .get("default")
            .map(|d| code(&plain(d)))
            .unwrap_or_default();
        let title = property["title"].as_str().unwrap_or_default();
        let description = property["description"].as_str().unwrap_or_default();
        let text = match (title.is_empty(), description.is_empty()) {
            (false, false) => format!("**{}.** {}", escape(title), escape(description)),
            (false, true) => format!("**{}.**", escape(title)),
            _ => escape(description),
        };
        let mut detail = details(property);
        if let Some(option) = option {
            detail = [format!("in option {}", escape(option)), detail]
                .into_iter()
                .filter(|d| !d.is_empty())
                .collect::<Vec<_>>()
                .join("; ");
        }
        out.push([
            code(&key),
            type_of(property),
            if required.contains(&name.as_str()) {
                "yes".into()
            } else {
                String::new()
            },
            default,
            text,
            detail,
        ]);
        let nested_required = required_of(property);
        rows(&format!("{key}."), property, &nested_required, option, out);
        if property["items"]["properties"].is_object() {
            let item_required = required_of(&property["items"]);
            rows(
                &format!("{key}[]."),
                &property["items"],
                &item_required,
                option,
                out,
            );
        }
        if let Some(options) = property["oneOf"].as_array() {
            for (i, choice) in options.iter().enumerate() {
                let label = choice["title"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{}", i + 1));
                let option_required = required_of(choice);
                rows(
                    &format!("{key}."),
                    choice,
                    &option_required,
                    Some(&label),
                    out,
                );
            }
        }
    }
}

fn required_of(schema: &Value) -> Vec<&str> {
    schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
        .unwrap_or_default()
}

fn table(rows: &[[String; 6]]) -> String {
    let mut text = String::from(
        "| Key | Type | Required | Default | Description | Details |\n|---|---|---|---|---|---|\n",
    );
    for row in rows {
        let _ = writeln!(text, "| {} |", row.join(" | "));
    }
    text
}

/// The section of one role: its properties grouped as the UI groups them.
fn section(role: &str, file: &str, spec: &Value) -> String {
    let connection = &spec["connectionSpecification"];
    let mut text = String::new();
    let _ = writeln!(text, "## {role}\n");
    let _ = writeln!(
        text,
        "Generated from `{file}` (`salesforce-connector {} spec`).\n",
        role.to_lowercase()
    );
    if let Some(description) = connection["description"].as_str() {
        let _ = writeln!(text, "{description}\n");
    }
    let required = required_of(connection);
    let properties = connection["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let groups: Vec<(String, String)> = connection["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .map(|g| {
                    (
                        g["id"].as_str().unwrap_or_default().to_string(),
                        g["title"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let mut sections: Vec<(String, Map<String, Value>)> = groups
        .iter()
        .map(|(_, title)| (title.clone(), Map::new()))
        .collect();
    let mut ungrouped = Map::new();
    for (name, property) in properties {
        let group = property["group"].as_str().unwrap_or_default();
        match groups.iter().position(|(id, _)| id == group) {
            Some(i) => {
                sections[i].1.insert(name, property);
            }
            None => {
                ungrouped.insert(name, property);
            }
        }
    }
    if !ungrouped.is_empty() {
        sections.push((
            if groups.is_empty() {
                "Settings".into()
            } else {
                "Other settings".into()
            },
            ungrouped,
        ));
    }
    for (title, properties) in sections {
        if properties.is_empty() {
            continue;
        }
        let mut out = Vec::new();
        let schema = Value::Object(
            [("properties".to_string(), Value::Object(properties))]
                .into_iter()
                .collect(),
        );
        rows("", &schema, &required, None, &mut out);
        let _ = writeln!(text, "### {title}\n\n{}", table(&out));
    }
    if let Some(modes) = spec["supported_destination_sync_modes"].as_array() {
        let list: Vec<String> = modes.iter().map(|m| code(&plain(m))).collect();
        let _ = writeln!(
            text,
            "Destination sync modes the spec declares: {}.\n",
            list.join(", ")
        );
    }
    text
}

fn render(source: &Value, destination: &Value) -> String {
    let mut text = String::from(
        "# Configuration reference\n\n\
         <!-- Generated from spec/source.json and spec/destination.json by tests/it/docs_reference.rs.\n     \
         Do not edit: run `SF_UPDATE_DOCS=1 cargo test -p salesforce-connector --test it docs_reference`. -->\n\n\
         Both roles take Airbyte's own configs unchanged (see [setup](setup.md)); keys below that\n\
         Airbyte's connectors do not know are additive and have safe defaults. Keys marked *secret*\n\
         never appear in logs or error messages.\n\n",
    );
    text += &section("Source", "spec/source.json", source);
    text += &section("Destination", "spec/destination.json", destination);
    text.trim_end().to_string() + "\n"
}

fn read_spec(root: &Path, file: &str) -> Value {
    let text = std::fs::read_to_string(root.join(file))
        .unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file} is not JSON: {e}"))
}

#[test]
fn configuration_reference_is_generated_from_the_current_specs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let rendered = render(
        &read_spec(root, "spec/source.json"),
        &read_spec(root, "spec/destination.json"),
    );
    assert_generated_file(
        &root.join(TARGET),
        &rendered,
        "SF_UPDATE_DOCS",
        &format!(
            "{TARGET} is stale (the spec changed); regenerate it with \
             `SF_UPDATE_DOCS=1 cargo test -p salesforce-connector --test it docs_reference`"
        ),
    );
}

#[test]
fn rows_cover_nested_objects_array_items_and_one_of_options() {
    let schema = serde_json::json!({
        "required": ["a"],
        "properties": {
            "b": {"type": "array", "order": 2, "items": {"type": "object", "required": ["x"],
                  "properties": {"x": {"type": "string", "enum": ["p", "q|r"]}}}},
            "a": {"type": "string", "order": 1, "title": "A", "airbyte_secret": true, "default": "d"},
            "c": {"order": 3, "oneOf": [{"title": "S3", "properties": {"bucket": {"type": "string", "pattern": "^x$"}}}]},
            "n": {"type": "integer", "minimum": 1.0, "maximum": 100.0}
        }
    });
    let mut out = Vec::new();
    rows("", &schema, &["a"], None, &mut out);
    let keys: Vec<&str> = out.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(keys, ["`a`", "`b`", "`b[].x`", "`c`", "`c.bucket`", "`n`"]);
    assert_eq!(out[0][2], "yes");
    assert_eq!(out[0][3], "`d`");
    assert_eq!(out[0][5], "secret");
    assert_eq!(out[1][1], "array of object");
    assert_eq!(out[2][2], "yes");
    assert_eq!(out[2][5], "one of `p`, `q\\|r`");
    assert_eq!(out[3][1], "object (one of)");
    assert_eq!(out[4][5], "in option S3; pattern `^x$`");
    assert_eq!(out[5][5], "1 to 100");
}
