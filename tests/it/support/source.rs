//! What the source's end-to-end tests share: an in-process emulator, the real binary run against
//! it, the org read back through the admin API, and a JSON-schema check of records.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::{json, Value};
use sf_emulator::{Emulator, EmulatorConfig};

use tempfile::TempDir;

use super::admin_api::{self, json_reply};
use super::org::{org_config, runtime, start_emulator};
use super::protocol::assert_conforms;
use super::run::{run_to_end, Run, BINARY};

/// An emulator running on its own runtime, and a folder for the files a run needs.
pub(crate) struct TestOrg {
    pub(crate) runtime: tokio::runtime::Runtime,
    pub(crate) emulator: Emulator,
    pub(crate) dir: TempDir,
    http: reqwest::Client,
}

/// An emulator config whose clock starts at the current minute (frozen), so the connector's
/// "now" and the org's agree.
pub(crate) fn emulator_config() -> EmulatorConfig {
    EmulatorConfig {
        start_time: Utc::now().trunc_subsecs(0),
        ..EmulatorConfig::default()
    }
}

impl TestOrg {
    pub(crate) fn start(config: EmulatorConfig) -> TestOrg {
        let runtime = runtime();
        let emulator = start_emulator(&runtime, config);
        TestOrg {
            runtime,
            emulator,
            dir: tempfile::tempdir().expect("temp dir"),
            http: reqwest::Client::new(),
        }
    }

    /// A refresh-token config for this org, with `extra` keys merged in.
    pub(crate) fn config(&self, extra: Value) -> Value {
        org_config(
            &self.emulator,
            json!({"start_date": "2020-01-01T00:00:00Z"}),
            extra,
        )
    }

    pub(crate) fn write(&self, name: &str, value: &Value) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec(value).unwrap()).unwrap();
        path
    }

    /// Runs `salesforce-connector source <args...>`.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// Runs `salesforce-connector source <args...>` with extra environment variables.
    pub(crate) fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(BINARY);
        command.arg("source").args(args).envs(env.iter().copied());
        let run = run_to_end(command, b"");
        assert_conforms(&format!("source {}", args.join(" ")), &run.stdout);
        run
    }

    /// `check`, with retry pauses capped at 20 ms (an unreachable host is retried).
    pub(crate) fn check(&self, config: &Value) -> Run {
        let c = self.write("config.json", config);
        self.run_env(
            &["check", "--config", c.to_str().unwrap()],
            &[("SALESFORCE_CONNECTOR_BACKOFF_MS", "20")],
        )
    }

    pub(crate) fn discover(&self, config: &Value) -> Run {
        let c = self.write("config.json", config);
        self.run(&["discover", "--config", c.to_str().unwrap()])
    }

    /// The discovered catalog's streams, by name.
    pub(crate) fn discovered_streams(&self, config: &Value) -> Vec<Value> {
        let run = self.discover(config);
        run.assert_success();
        run.of_type("CATALOG")[0]["catalog"]["streams"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// A configured catalog of the named streams as discovered; `incremental` picks the sync
    /// mode (incremental where offered). Unless `config` filters streams itself, discover is
    /// asked for exactly these (`streams_criteria`), so it describes only them: the streams it
    /// gives are the same as an unfiltered discover's, for a fraction of the work.
    pub(crate) fn catalog(&self, config: &Value, names: &[&str], incremental: bool) -> Value {
        let mut discover_config = config.clone();
        if config.get("streams_criteria").is_none() {
            discover_config["streams_criteria"] = names
                .iter()
                .map(|name| json!({"criteria": "exacts", "value": name}))
                .collect();
        }
        let streams = self.discovered_streams(&discover_config);
        let configured: Vec<Value> = names
            .iter()
            .map(|name| {
                let stream = streams
                    .iter()
                    .find(|s| s["name"] == *name)
                    .unwrap_or_else(|| panic!("{name} not discovered"))
                    .clone();
                let can_increment = stream["supported_sync_modes"]
                    .as_array()
                    .unwrap()
                    .contains(&json!("incremental"));
                let mode = if incremental && can_increment {
                    "incremental"
                } else {
                    "full_refresh"
                };
                let mut c = json!({
                    "stream": stream,
                    "sync_mode": mode,
                    "destination_sync_mode": "append",
                });
                if mode == "incremental" {
                    c["cursor_field"] = stream["default_cursor_field"].clone();
                }
                c
            })
            .collect();
        json!({ "streams": configured })
    }

    /// A successful first read of `objects` with the default config: the run and its catalog.
    pub(crate) fn read_objects(&self, objects: &[&str], incremental: bool) -> (Run, Value) {
        let config = self.config(json!({}));
        let catalog = self.catalog(&config, objects, incremental);
        let run = self.read(&config, &catalog, None);
        run.assert_success();
        (run, catalog)
    }

    pub(crate) fn read(&self, config: &Value, catalog: &Value, state: Option<&Value>) -> Run {
        self.read_env(config, catalog, state, &[])
    }

    /// The `read` arguments for these files (written into the test's folder).
    pub(crate) fn read_args(
        &self,
        config: &Value,
        catalog: &Value,
        state: Option<&Value>,
    ) -> Vec<String> {
        let c = self.write("config.json", config);
        let k = self.write("catalog.json", catalog);
        let mut args = vec![
            "read".to_string(),
            "--config".into(),
            c.to_string_lossy().into_owned(),
            "--catalog".into(),
            k.to_string_lossy().into_owned(),
        ];
        if let Some(state) = state {
            let s = self.write("state.json", state);
            args.push("--state".into());
            args.push(s.to_string_lossy().into_owned());
        }
        args
    }

    /// `source read` for these files started as a child whose stdout the test reads as it comes.
    pub(crate) fn spawn_read(
        &self,
        config: &Value,
        catalog: &Value,
        state: Option<&Value>,
    ) -> Child {
        Command::new(BINARY)
            .arg("source")
            .args(self.read_args(config, catalog, state))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("the connector starts")
    }

    pub(crate) fn read_env(
        &self,
        config: &Value,
        catalog: &Value,
        state: Option<&Value>,
        env: &[(&str, &str)],
    ) -> Run {
        let args = self.read_args(config, catalog, state);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.run_env(&args, env)
    }

    fn admin_url(&self, path: &str) -> String {
        format!("{}/__emulator/{path}", self.emulator.base_url())
    }

    /// Every record of `object` as the org holds it (deleted ones too when asked).
    pub(crate) fn org_records(&self, object: &str, include_deleted: bool) -> Vec<Value> {
        self.runtime.block_on(admin_api::org_records(
            &self.http,
            &self.emulator.base_url(),
            object,
            include_deleted,
        ))
    }

    /// Creates a record through the admin API; returns its Id.
    pub(crate) fn create(&self, object: &str, fields: Value) -> String {
        let request = self.http.post(self.admin_url(&format!("records/{object}")));
        let reply = self.admin(request.json(&fields), &format!("create {object}"));
        reply["id"].as_str().unwrap().to_string()
    }

    pub(crate) fn update(&self, object: &str, id: &str, fields: Value) {
        let request = self
            .http
            .patch(self.admin_url(&format!("records/{object}/{id}")));
        self.admin(request.json(&fields), &format!("update {object} {id}"));
    }

    pub(crate) fn delete(&self, object: &str, id: &str, hard: bool) {
        let url = self.admin_url(&format!("records/{object}/{id}?hard={hard}"));
        self.admin(self.http.delete(url), &format!("delete {object} {id}"));
    }

    /// Moves the org's clock forward.
    pub(crate) fn advance_clock(&self, seconds: i64) {
        let request = self.http.post(self.admin_url("clock"));
        self.admin(
            request.json(&json!({ "advance_seconds": seconds })),
            "advance the clock",
        );
    }

    /// Adds a fault rule (see `sf_emulator::faults`).
    pub(crate) fn fault(&self, rule: Value) {
        let request = self.http.post(self.admin_url("faults")).json(&rule);
        self.admin(request, &format!("fault {rule}"));
    }

    /// Empties the org's request log.
    pub(crate) fn clear_requests(&self) {
        let request = self.http.delete(self.admin_url("requests"));
        self.admin(request, "clear the request log");
    }

    /// An admin API call that must succeed, run to its end.
    fn admin(&self, request: reqwest::RequestBuilder, what: &str) -> Value {
        self.runtime.block_on(admin_api::admin_call(request, what))
    }

    /// The requests the org has served: (method, path).
    pub(crate) fn requests(&self) -> Vec<Value> {
        let url = self.admin_url("requests");
        let reply: Value = self
            .runtime
            .block_on(async { json_reply(self.http.get(&url)).await });
        match reply {
            Value::Array(items) => items,
            other => other["requests"].as_array().cloned().unwrap_or_default(),
        }
    }
}

/// The org's view of a record, in the source's output form: `attributes` dropped, datetimes as
/// `…000Z`.
pub(crate) fn normalise_org_record(record: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (k, v) in record.as_object().unwrap() {
        if k == "attributes" {
            continue;
        }
        out.insert(k.clone(), normalise_value(v));
    }
    Value::Object(out)
}

fn normalise_value(v: &Value) -> Value {
    match v {
        Value::String(s) => match DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.3f%z") {
            Ok(t) => json!(t
                .with_timezone(&Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            Err(_) => v.clone(),
        },
        Value::Object(map) => {
            let all_null = map.values().all(Value::is_null);
            if all_null {
                Value::Null
            } else {
                Value::Object(
                    map.iter()
                        .map(|(k, v)| (k.clone(), normalise_value(v)))
                        .collect(),
                )
            }
        }
        other => other.clone(),
    }
}

/// Records keyed by their `Id`.
pub(crate) fn by_id(records: &[Value]) -> BTreeMap<String, Value> {
    records
        .iter()
        .map(|r| (r["Id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

/// A `start_date` `days` before today (`YYYY-MM-DD`).
pub(crate) fn days_ago(days: i64) -> String {
    (Utc::now() - chrono::Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

/// The `Id`s of records.
pub(crate) fn ids(records: &[Value]) -> BTreeSet<String> {
    records
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect()
}

/// The `Id`s of the org's `object` rows, deleted ones included.
pub(crate) fn org_ids(org: &TestOrg, object: &str) -> BTreeSet<String> {
    ids(&org.runtime.block_on(admin_api::org_records_with(
        &org.http,
        &org.emulator.base_url(),
        object,
        true,
        "Id",
    )))
}

/// Asserts the emitted records of `object` are exactly the org's (deleted ones included), but
/// for the fields in `except`.
pub(crate) fn assert_same_as_org(org: &TestOrg, object: &str, emitted: &[Value], except: &[&str]) {
    let expected: Vec<Value> = org
        .org_records(object, true)
        .iter()
        .map(normalise_org_record)
        .collect();
    let expected = by_id(&expected);
    let emitted = by_id(emitted);
    assert_eq!(emitted.len(), expected.len(), "{object}: record count");
    for (id, record) in &expected {
        let got = emitted
            .get(id)
            .unwrap_or_else(|| panic!("{object} {id} missing"));
        for (field, value) in record.as_object().unwrap() {
            if except.contains(&field.as_str()) {
                continue;
            }
            assert_eq!(&got[field], value, "{object} {id} field {field}");
        }
    }
}

/// Every stream of `catalog` read some records, and each validates against the stream's schema.
pub(crate) fn assert_records_match_schemas(run: &Run, catalog: &Value) {
    for configured in catalog["streams"].as_array().expect("catalog streams") {
        let name = configured["stream"]["name"].as_str().expect("stream name");
        let schema = &configured["stream"]["json_schema"];
        let records = run.records(name);
        assert!(!records.is_empty(), "{name} has records");
        for record in &records {
            let problems = schema_violations(schema, record, name);
            assert!(problems.is_empty(), "{problems:?}");
        }
    }
}

/// Checks `value` against the subset of JSON Schema draft 7 the source's schemas use (`type`
/// lists, `properties`, `format` date and date-time); returns what does not match.
pub(crate) fn schema_violations(schema: &Value, value: &Value, path: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(types) = schema.get("type") {
        let allowed: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let actual = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        let ok = allowed.contains(&actual) || (actual == "integer" && allowed.contains(&"number"));
        if !ok {
            problems.push(format!("{path}: {actual} is not one of {allowed:?}"));
        }
    }
    if let (Some(format), Value::String(s)) = (schema.get("format").and_then(Value::as_str), value)
    {
        let ok = match format {
            "date-time" => DateTime::parse_from_rfc3339(s).is_ok(),
            "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
            _ => true,
        };
        if !ok {
            problems.push(format!("{path}: {s:?} is not a {format}"));
        }
    }
    if let (Some(props), Value::Object(map)) =
        (schema.get("properties").and_then(Value::as_object), value)
    {
        for (k, v) in map {
            match props.get(k) {
                Some(p) => problems.extend(schema_violations(p, v, &format!("{path}.{k}"))),
                None if schema.get("additionalProperties") == Some(&json!(false)) => {
                    problems.push(format!("{path}.{k}: not in the schema"));
                }
                None => {}
            }
        }
    }
    problems
}
