//! Shared by the destination's end-to-end tests: an in-process emulator, config and catalog
//! files, the real binary run with stdin, and the org read back through the admin API.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::{json, Value};
use sf_emulator::{Emulator, EmulatorConfig};
use tokio::io::AsyncWriteExt;

use super::admin_api::{self, json_reply};
use super::files::files_under;
use super::org::org_config;
use super::protocol::assert_conforms;
use super::run::{Run, BINARY};

pub(crate) struct Harness {
    pub(crate) emulator: Emulator,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) http: reqwest::Client,
}

impl Harness {
    pub(crate) async fn start() -> Harness {
        Harness::with_config(EmulatorConfig::default()).await
    }

    pub(crate) async fn with_config(config: EmulatorConfig) -> Harness {
        let emulator = Emulator::start(config).await.expect("emulator starts");
        Harness {
            emulator,
            dir: tempfile::tempdir().unwrap(),
            http: reqwest::Client::new(),
        }
    }

    pub(crate) fn dlq_folder(&self) -> PathBuf {
        self.dir.path().join("dead-letter")
    }

    /// A destination config for the emulator; `extra` keys are merged in.
    pub(crate) fn config(&self, extra: Value) -> Value {
        let base = json!({
            "is_sandbox": false,
            "dead_letter_folder": self.dlq_folder().to_string_lossy(),
        });
        org_config(&self.emulator, base, extra)
    }

    pub(crate) fn write_file(&self, name: &str, value: &Value) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
        path
    }

    /// Runs `salesforce-connector destination <args>` with `stdin`, to completion.
    pub(crate) async fn run(&self, args: &[&str], stdin: &str) -> Run {
        self.run_env(args, stdin, &[]).await
    }

    /// [`run`](Self::run) with extra environment variables.
    pub(crate) async fn run_env(&self, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Run {
        let mut child = tokio::process::Command::new(BINARY)
            .arg("destination")
            .args(args)
            .envs(env.iter().copied())
            .current_dir(self.dir.path())
            // Retry pauses capped (Salesforce's 10 s after a 429 would only slow the tests).
            .env("SALESFORCE_CONNECTOR_BACKOFF_MS", "20")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("binary starts");
        let mut input = child.stdin.take().unwrap();
        let data = stdin.as_bytes().to_vec();
        let feeder = tokio::spawn(async move {
            let _ = input.write_all(&data).await;
            let _ = input.shutdown().await;
        });
        let out = child.wait_with_output().await.unwrap();
        let _ = feeder.await;
        let run = Run::from_output(out);
        assert_conforms(&format!("destination {}", args.join(" ")), &run.stdout);
        run
    }

    pub(crate) async fn check(&self, config: &Value) -> Run {
        let path = self.write_file("config.json", config);
        self.run(&["check", "--config", path.to_str().unwrap()], "")
            .await
    }

    /// The operations of the one DESTINATION_CATALOG a discover with the default config prints.
    pub(crate) async fn discovered_operations(&self) -> Vec<Value> {
        let path = self.write_file("config.json", &self.config(json!({})));
        let run = self
            .run(&["discover", "--config", path.to_str().unwrap()], "")
            .await;
        let catalogs = run.of_type("DESTINATION_CATALOG");
        assert_eq!(catalogs.len(), 1, "{:?} {}", run.stdout, run.stderr);
        catalogs[0]["destination_catalog"]["operations"]
            .as_array()
            .expect("operations")
            .clone()
    }

    pub(crate) async fn write(&self, config: &Value, catalog: &Value, stdin: &str) -> Run {
        self.write_env(config, catalog, stdin, &[]).await
    }

    /// [`write`](Self::write) with extra environment variables.
    pub(crate) async fn write_env(
        &self,
        config: &Value,
        catalog: &Value,
        stdin: &str,
        env: &[(&str, &str)],
    ) -> Run {
        let config_path = self.write_file("config.json", config);
        let catalog_path = self.write_file("catalog.json", catalog);
        self.run_env(
            &[
                "write",
                "--config",
                config_path.to_str().unwrap(),
                "--catalog",
                catalog_path.to_str().unwrap(),
            ],
            stdin,
            env,
        )
        .await
    }

    /// Every record of `object` in the org (admin API), deleted ones only if asked.
    pub(crate) async fn records(&self, object: &str, include_deleted: bool) -> Vec<Value> {
        admin_api::org_records(
            &self.http,
            &self.emulator.base_url(),
            object,
            include_deleted,
        )
        .await
    }

    pub(crate) async fn record(&self, object: &str, id: &str) -> Value {
        let url = format!(
            "{}/__emulator/records/{object}/{id}",
            self.emulator.base_url()
        );
        json_reply(self.http.get(url)).await
    }

    pub(crate) async fn create(&self, object: &str, fields: Value) -> String {
        let url = format!("{}/__emulator/records/{object}", self.emulator.base_url());
        let reply: Value = json_reply(self.http.post(url).json(&fields)).await;
        reply["id"]
            .as_str()
            .unwrap_or_else(|| panic!("create {object}: {reply}"))
            .to_string()
    }

    pub(crate) async fn add_fault(&self, rule: Value) {
        let url = format!("{}/__emulator/faults", self.emulator.base_url());
        admin_api::admin_call(self.http.post(url).json(&rule), &format!("fault {rule}")).await;
    }

    /// Requests the emulator served (method, path, status).
    pub(crate) async fn requests(&self) -> Vec<Value> {
        let url = format!("{}/__emulator/requests", self.emulator.base_url());
        json_reply(self.http.get(url)).await
    }
}

/// One configured stream: (stream, destination object, destination sync mode, upsert key,
/// schema properties).
pub(crate) type StreamSpec<'a> = (
    &'a str,
    Option<&'a str>,
    &'a str,
    Option<&'a str>,
    &'a [&'a str],
);

/// The discovered operation of `object` with sync mode `mode`.
pub(crate) fn operation<'a>(operations: &'a [Value], object: &str, mode: &str) -> &'a Value {
    operations
        .iter()
        .find(|o| o["object_name"] == object && o["sync_mode"] == mode)
        .unwrap_or_else(|| panic!("no {mode} operation for {object}"))
}

/// One stream `name` upserting `fields` into Product_Catalog__c on its `External_Id__c`.
pub(crate) fn product_upserts<'a>(name: &'a str, fields: &'a [&'a str]) -> StreamSpec<'a> {
    (
        name,
        Some("Product_Catalog__c"),
        "append_dedup",
        Some("External_Id__c"),
        fields,
    )
}

/// One stream `name` appending (inserting) `fields` into Account.
pub(crate) fn account_inserts(name: &str, fields: &[&str]) -> Value {
    catalog(&[(name, Some("Account"), "append", None, fields)])
}

/// A configured catalog of data-activation streams.
pub(crate) fn catalog(streams: &[StreamSpec]) -> Value {
    let streams: Vec<Value> = streams
        .iter()
        .map(|(name, object, mode, key, properties)| {
            let props: serde_json::Map<String, Value> = properties
                .iter()
                .map(|p| (p.to_string(), json!({})))
                .collect();
            let mut s = json!({
                "stream": {
                    "name": name,
                    "json_schema": {"type": "object", "properties": props},
                    "supported_sync_modes": ["full_refresh", "incremental"]
                },
                "sync_mode": "incremental",
                "destination_sync_mode": mode,
            });
            if let Some(object) = object {
                s["destination_object_name"] = json!(object);
            }
            if let Some(key) = key {
                s["primary_key"] = json!([[key]]);
            }
            s
        })
        .collect();
    json!({ "streams": streams })
}

pub(crate) fn record_line(stream: &str, data: Value) -> String {
    json!({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1_717_236_000_000i64}}).to_string() + "\n"
}

pub(crate) fn state_line(stream: &str, id: u64, cursor: Value) -> String {
    json!({"type": "STATE", "state": {
        "type": "STREAM",
        "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"cursor": cursor}},
        "sourceStats": {"recordCount": 1.0},
        "id": id
    }})
    .to_string()
        + "\n"
}

/// Every JSON line of every DLQ file under `dir`.
pub(crate) fn dlq_lines(dir: &Path) -> Vec<Value> {
    files_under(dir)
        .into_iter()
        .flat_map(|(_, text)| {
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}
