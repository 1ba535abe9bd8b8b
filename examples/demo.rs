//! The demo `./demo.sh` runs: the whole job against sf-emulator, with progress and a summary.
//!
//! `cargo run --release --example demo -- [OUTPUT_DIR]` (after `cargo build --release` of the
//! connector and the emulator; demo.sh does both). Starts `target/release/sf-emulator`, then runs
//! the real `target/release/salesforce-connector`: spec, check and discover of both roles, a full
//! read, changes and deletes in the org (admin API, a hard delete included), an incremental read
//! that picks them up, Change Data Capture (a read following Account's change events while the
//! org changes, each change printed with its latency), and a write of modeled records with a few
//! bad rows that land in the dead-letter queue. Every file it makes is in OUTPUT_DIR (default
//! `demo-output/`). Binaries are looked up in `$CARGO_TARGET_DIR/release` (default `target/`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

/// Changes the Change Data Capture step makes while its read follows the events.
const CDC_CHANGES: usize = 5;

/// The streams the demo reads (incremental on SystemModstamp).
const STREAMS: &[&str] = &["Account", "Contact", "Opportunity", "Lead", "Case"];

struct Demo {
    out: PathBuf,
    connector: PathBuf,
    base_url: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    started: Instant,
    summary: Vec<String>,
}

/// What one connector run printed, counted as it streamed by.
struct RunResult {
    records: BTreeMap<String, u64>,
    last_states: BTreeMap<String, Value>,
    messages: Vec<Value>,
    seconds: f64,
}

fn step(text: &str) {
    println!("\n==> {text}");
}

fn main() -> Result<()> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "demo-output".into()),
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let connector = target.join("release/salesforce-connector");
    let emulator_bin = target.join("release/sf-emulator");
    for binary in [&connector, &emulator_bin] {
        if !binary.exists() {
            bail!(
                "{} is missing: run `cargo build --release -p salesforce-connector -p sf-emulator` (demo.sh does)",
                binary.display()
            );
        }
    }
    if out.exists() {
        std::fs::remove_dir_all(&out)
            .with_context(|| format!("cannot empty the output folder {}", out.display()))?;
    }
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let out = out.canonicalize()?;

    step("starting sf-emulator (seed 1: a generated org)");
    let (mut emulator, ready) = start_emulator(&emulator_bin, &out)?;
    println!(
        "    listening at {}",
        ready["base_url"].as_str().unwrap_or("?")
    );
    let mut demo = Demo {
        out,
        connector,
        base_url: ready["base_url"].as_str().unwrap_or_default().to_string(),
        http: reqwest::Client::new(),
        runtime: tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        started: Instant::now(),
        summary: Vec::new(),
    };
    let result = demo.run(&ready);
    let _ = emulator.kill();
    let _ = emulator.wait();
    result?;
    demo.print_summary();
    Ok(())
}

fn start_emulator(binary: &Path, out: &Path) -> Result<(Child, Value)> {
    let log = std::fs::File::create(out.join("emulator.log"))?;
    let mut child = Command::new(binary)
        .args(["--listen", "127.0.0.1:0", "--seed", "1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", binary.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("emulator stdout")?).read_line(&mut line)?;
    let ready: Value = serde_json::from_str(&line)
        .with_context(|| format!("the emulator's ready line is not JSON: {line:?}"))?;
    Ok((child, ready))
}

impl Demo {
    fn run(&mut self, ready: &Value) -> Result<()> {
        let credentials = json!({
            "client_id": ready["client_id"], "client_secret": ready["client_secret"],
            "refresh_token": ready["refresh_token"], "login_url": ready["login_url"],
        });
        let mut source_config = credentials.clone();
        source_config["start_date"] = json!("2020-01-01T00:00:00Z");
        let source_config = self.save("source-config.json", &source_config)?;
        let mut destination_config = credentials;
        destination_config["dead_letter_folder"] =
            json!(self.out.join("dead-letter").to_string_lossy());
        let destination_config = self.save("destination-config.json", &destination_config)?;

        step("spec, check and discover of both roles");
        for role in ["source", "destination"] {
            let spec = self.connector_run(role, &["spec"], None, &format!("{role}-spec.jsonl"))?;
            let properties = spec.messages[0]["spec"]["connectionSpecification"]["properties"]
                .as_object()
                .map_or(0, |p| p.len());
            println!("    {role} spec: {properties} configuration keys");
            let config = if role == "source" {
                &source_config
            } else {
                &destination_config
            };
            let check = self.connector_run(
                role,
                &["check", "--config", &config.to_string_lossy()],
                None,
                &format!("{role}-check.jsonl"),
            )?;
            let status = find(&check.messages, "CONNECTION_STATUS")?;
            println!(
                "    {role} check: {}",
                status["connectionStatus"]["status"].as_str().unwrap_or("?")
            );
            if status["connectionStatus"]["status"] != "SUCCEEDED" {
                bail!("{role} check failed: {}", status["connectionStatus"]);
            }
        }
        let discover = self.connector_run(
            "source",
            &["discover", "--config", &source_config.to_string_lossy()],
            None,
            "source-discover.jsonl",
        )?;
        let catalog = find(&discover.messages, "CATALOG")?["catalog"].clone();
        let streams = catalog["streams"].as_array().cloned().unwrap_or_default();
        println!("    source discover: {} streams", streams.len());
        let operations = self.connector_run(
            "destination",
            &[
                "discover",
                "--config",
                &destination_config.to_string_lossy(),
            ],
            None,
            "destination-discover.jsonl",
        )?;
        let operations = find(&operations.messages, "DESTINATION_CATALOG")?["destination_catalog"]
            ["operations"]
            .as_array()
            .map_or(0, Vec::len);
        println!("    destination discover: {operations} operations");

        let configured = json!({"streams": STREAMS.iter().map(|name| {
            let stream = streams.iter().find(|s| s["name"] == *name).cloned().unwrap_or(json!({}));
            json!({"stream": stream, "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
                   "cursor_field": stream["default_cursor_field"], "primary_key": [["Id"]]})
        }).collect::<Vec<_>>()});
        let catalog_file = self.save("source-catalog.json", &configured)?;

        step(&format!("full read of {}", STREAMS.join(", ")));
        let full = self.connector_run(
            "source",
            &[
                "read",
                "--config",
                &source_config.to_string_lossy(),
                "--catalog",
                &catalog_file.to_string_lossy(),
            ],
            None,
            "read-full.jsonl",
        )?;
        self.report_read("full read", &full);
        let state = Value::Array(
            full.last_states
                .values()
                .map(|s| json!({"type": "STREAM", "stream": s}))
                .collect(),
        );
        let state_file = self.save("state-after-full-read.json", &state)?;

        step("changing the org: 3 updates, 2 soft deletes, 1 hard delete, 2 new accounts");
        let changes = self.change_org()?;
        for line in &changes.log {
            println!("    {line}");
        }

        step("incremental read from the saved state");
        let incremental = self.connector_run(
            "source",
            &[
                "read",
                "--config",
                &source_config.to_string_lossy(),
                "--catalog",
                &catalog_file.to_string_lossy(),
                "--state",
                &state_file.to_string_lossy(),
            ],
            None,
            "read-incremental.jsonl",
        )?;
        self.report_read("incremental read", &incremental);
        let seen = |id: &str, test: &dyn Fn(&Value) -> bool| {
            incremental.messages.iter().any(|m| {
                m["type"] == "RECORD"
                    && m["record"]["data"]["Id"] == id
                    && test(&m["record"]["data"])
            })
        };
        let updated = changes
            .updated
            .iter()
            .filter(|id| seen(id, &|_| true))
            .count();
        let soft = changes
            .soft_deleted
            .iter()
            .filter(|id| seen(id, &|d| d["IsDeleted"] == true))
            .count();
        let hard = changes
            .hard_deleted
            .iter()
            .filter(|id| seen(id, &|d| !d["_ab_cdc_deleted_at"].is_null()))
            .count();
        let created = changes
            .created
            .iter()
            .filter(|id| seen(id, &|_| true))
            .count();
        let line = format!(
            "incremental read picked up {updated}/{} updates, {created}/{} new rows, {soft}/{} soft deletes (IsDeleted=true), {hard}/{} hard deletes (_ab_cdc_deleted_at set)",
            changes.updated.len(),
            changes.created.len(),
            changes.soft_deleted.len(),
            changes.hard_deleted.len()
        );
        println!("    {line}");
        self.summary.push(line);
        self.save(
            "state-after-incremental-read.json",
            &Value::Array(
                incremental
                    .last_states
                    .values()
                    .map(|s| json!({"type": "STREAM", "stream": s}))
                    .collect(),
            ),
        )?;

        let mut cdc_config: Value = serde_json::from_slice(&std::fs::read(&source_config)?)?;
        cdc_config["pubsub_endpoint"] = ready["pubsub_url"].clone();
        cdc_config["change_data_capture"] = json!({"enabled": true, "idle_timeout_seconds": 20, "max_events_per_read": CDC_CHANGES});
        let cdc_config = self.save("source-config-cdc.json", &cdc_config)?;
        let account = configured["streams"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["stream"]["name"] == "Account"))
            .cloned()
            .context("Account in the catalog")?;
        let cdc_catalog = self.save("source-catalog-cdc.json", &json!({"streams": [account]}))?;
        let account_state = incremental
            .last_states
            .get("Account")
            .map(|s| json!([{"type": "STREAM", "stream": s}]))
            .context("a STATE for Account")?;
        let cdc_state = self.save("state-before-cdc.json", &account_state)?;
        step("Change Data Capture: a read follows Account's change events while the org changes");
        self.follow_changes(&cdc_config, &cdc_catalog, &cdc_state)?;

        step("writing modeled records back: new Contacts (3 of them bad) and Product_Catalog__c upserts");
        self.write_back(&destination_config)?;
        Ok(())
    }

    /// Runs a read with `change_data_capture` on; once it follows the events, makes
    /// [`CDC_CHANGES`] changes to Accounts (one every 1.5 s: each its own batch) and prints when each one's
    /// RECORD arrived. The read ends after that many events.
    fn follow_changes(&mut self, config: &Path, catalog: &Path, state: &Path) -> Result<()> {
        let mut child = Command::new(&self.connector)
            .args(["source", "read", "--config"])
            .arg(config)
            .arg("--catalog")
            .arg(catalog)
            .arg("--state")
            .arg(state)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(self.out.join("read-cdc.stderr.log"))?)
            .spawn()
            .context("cannot start salesforce-connector")?;
        let stdout = child.stdout.take().context("connector stdout")?;
        let (lines_tx, lines) = std::sync::mpsc::channel::<(Instant, String)>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines_tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        let mut file =
            std::io::BufWriter::new(std::fs::File::create(self.out.join("read-cdc.jsonl"))?);
        let mut arrived: BTreeMap<String, Vec<(Instant, Value)>> = BTreeMap::new();
        let mut take = |line: &str,
                        at: Instant,
                        file: &mut std::io::BufWriter<std::fs::File>|
         -> Result<bool> {
            writeln!(file, "{line}")?;
            let message: Value = serde_json::from_str(line)
                .with_context(|| format!("read-cdc.jsonl: a stdout line is not JSON: {line:?}"))?;
            if message["type"] == "RECORD" {
                let data = message["record"]["data"].clone();
                if let Some(id) = data["Id"].as_str() {
                    arrived.entry(id.to_string()).or_default().push((at, data));
                }
            }
            Ok(message["log"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("following change events")))
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (at, line) = lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .context("the read did not start following change events within 2 minutes")?;
            if take(&line, at, &mut file)? {
                break;
            }
        }
        println!("    following /data/AccountChangeEvent; changing the org:");
        let ids = self.ids("Account", 3)?;
        let mut made: Vec<(String, String, Instant)> = Vec::new();
        for i in 0..CDC_CHANGES {
            std::thread::sleep(Duration::from_millis(1500));
            // Measured from the moment the change is sent (its commit happens during the call).
            let sent = Instant::now();
            let (what, id) = match i {
                0 | 1 => {
                    let id = ids[i].clone();
                    self.admin(
                        reqwest::Method::PATCH,
                        &format!("records/Account/{id}"),
                        Some(json!({"Phone": format!("+1 555 01{i:02}")})),
                    )?;
                    ("updated Phone of", id)
                }
                2 => {
                    let reply = self.admin(
                        reqwest::Method::POST,
                        "records/Account",
                        Some(json!({"Name": "Created while CDC follows"})),
                    )?;
                    (
                        "created",
                        reply["id"].as_str().unwrap_or_default().to_string(),
                    )
                }
                3 => {
                    let id = ids[2].clone();
                    self.admin(
                        reqwest::Method::DELETE,
                        &format!("records/Account/{id}"),
                        None,
                    )?;
                    ("soft-deleted", id)
                }
                _ => {
                    let id = ids[2].clone();
                    self.admin(
                        reqwest::Method::POST,
                        &format!("records/Account/{id}/undelete"),
                        None,
                    )?;
                    ("undeleted", id)
                }
            };
            made.push((what.to_string(), id, sent));
        }
        while let Ok((at, line)) = lines.recv_timeout(Duration::from_secs(60)) {
            take(&line, at, &mut file)?;
        }
        file.flush()?;
        let status = child.wait()?;
        let _ = reader.join();
        if !status.success() {
            bail!(
                "salesforce-connector source read (CDC) failed ({status}): see read-cdc.stderr.log"
            );
        }
        // A change's record is the first RECORD of its Id after the change's commit (the
        // undelete's row follows the delete's tombstone).
        let mut latencies = Vec::new();
        for (what, id, committed) in &made {
            let first = arrived
                .get(id)
                .and_then(|records| records.iter().find(|(at, _)| at >= committed));
            match first {
                Some((at, data)) => {
                    let ms = at.saturating_duration_since(*committed).as_secs_f64() * 1000.0;
                    latencies.push(ms);
                    let shape = if data["_ab_cdc_deleted_at"].is_string() {
                        "tombstone"
                    } else {
                        "whole row"
                    };
                    println!("    {what} Account {id}: RECORD ({shape}) {ms:.0} ms after the change was sent");
                }
                None => println!("    {what} Account {id}: no RECORD arrived"),
            }
        }
        latencies.sort_by(f64::total_cmp);
        let line = format!(
            "Change Data Capture: {}/{} changes arrived as RECORDs, {:.0} ms to {:.0} ms after they were made (no Bulk job, no polling)",
            latencies.len(),
            made.len(),
            latencies.first().copied().unwrap_or(0.0),
            latencies.last().copied().unwrap_or(0.0)
        );
        println!("    {line}");
        self.summary.push(line);
        if latencies.len() != made.len() {
            bail!("a change made while the read followed the events never arrived");
        }
        Ok(())
    }

    fn save(&self, name: &str, value: &Value) -> Result<PathBuf> {
        let path = self.out.join(name);
        std::fs::write(&path, serde_json::to_vec_pretty(value)?)?;
        Ok(path)
    }

    /// Runs the connector, copying stdout to `output` in the folder and showing progress.
    fn connector_run(
        &self,
        role: &str,
        args: &[&str],
        stdin: Option<&str>,
        output: &str,
    ) -> Result<RunResult> {
        let started = Instant::now();
        let mut child = Command::new(&self.connector)
            .arg(role)
            .args(args)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .context("cannot start salesforce-connector")?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            let input = input.to_string();
            std::thread::spawn(move || {
                let _ = pipe.write_all(input.as_bytes());
            });
        }
        let mut file = std::io::BufWriter::new(std::fs::File::create(self.out.join(output))?);
        let mut result = RunResult {
            records: BTreeMap::new(),
            last_states: BTreeMap::new(),
            messages: Vec::new(),
            seconds: 0.0,
        };
        let mut total = 0u64;
        let mut last_progress = Instant::now();
        // A live record count on a terminal; logs get the totals only.
        let live = std::io::stdout().is_terminal();
        let stdout = child.stdout.take().context("connector stdout")?;
        for line in BufReader::new(stdout).lines() {
            let line = line?;
            writeln!(file, "{line}")?;
            let message: Value = serde_json::from_str(&line)
                .with_context(|| format!("{output}: a stdout line is not JSON: {line:?}"))?;
            match message["type"].as_str() {
                Some("RECORD") => {
                    total += 1;
                    let stream = message["record"]["stream"]
                        .as_str()
                        .unwrap_or("")
                        .to_string();
                    *result.records.entry(stream).or_default() += 1;
                    if live && last_progress.elapsed() > Duration::from_millis(250) {
                        print!("\r    ... {total} records");
                        std::io::stdout().flush()?;
                        last_progress = Instant::now();
                    }
                    continue; // records are counted, not kept
                }
                Some("STATE") => {
                    if let Some(name) =
                        message["state"]["stream"]["stream_descriptor"]["name"].as_str()
                    {
                        result
                            .last_states
                            .insert(name.to_string(), message["state"]["stream"].clone());
                    }
                }
                _ => {}
            }
            result.messages.push(message);
        }
        if live && total > 0 {
            // Clear the progress line.
            print!("\r{:40}\r", "");
            std::io::stdout().flush()?;
        }
        let output_status = child.wait_with_output()?;
        result.seconds = started.elapsed().as_secs_f64();
        std::fs::write(
            self.out.join(output.replace(".jsonl", ".stderr.log")),
            &output_status.stderr,
        )?;
        if !output_status.status.success() {
            let error = result
                .messages
                .iter()
                .find(|m| m["trace"]["type"] == "ERROR")
                .map(|m| m["trace"]["error"]["message"].to_string())
                .unwrap_or_default();
            bail!(
                "salesforce-connector {role} {} failed ({}): {error}",
                args[0],
                output_status.status
            );
        }
        // What is still in the buffer must be in the file before it is read back.
        file.flush()?;
        // Keep records of small outputs for the checks that follow.
        if total > 0 && total <= 50_000 {
            let text = std::fs::read_to_string(self.out.join(output))?;
            result.messages = text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
        }
        Ok(result)
    }

    fn report_read(&mut self, what: &str, run: &RunResult) {
        let total: u64 = run.records.values().sum();
        let rate = total as f64 / run.seconds.max(0.001);
        for (stream, count) in &run.records {
            println!("    {stream:<12} {count:>7} records");
        }
        let line = format!(
            "{what}: {total} records in {:.2} s ({rate:.0} records/s) across {} streams",
            run.seconds,
            run.records.len()
        );
        println!("    {line}");
        self.summary.push(line);
        for (stream, count) in &run.records {
            self.summary.push(format!("  {stream:<12} {count:>7}"));
        }
    }

    fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}/__emulator/{path}", self.base_url);
        self.runtime.block_on(async {
            let mut request = self.http.request(method.clone(), &url);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request
                .send()
                .await
                .with_context(|| format!("{method} {url}"))?;
            let status = response.status();
            let text = response.text().await?;
            if !status.is_success() {
                bail!("{method} {url}: HTTP {status}: {text}");
            }
            Ok(if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text)?
            })
        })
    }

    fn ids(&self, object: &str, count: usize) -> Result<Vec<String>> {
        let page = self.admin(
            reqwest::Method::GET,
            &format!("records/{object}?limit={count}"),
            None,
        )?;
        Ok(page["records"]
            .as_array()
            .map(|r| {
                r.iter()
                    .filter_map(|r| r["Id"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Every record of `object`, through the admin API.
    fn all_records(&self, object: &str) -> Result<Vec<Value>> {
        let mut all = Vec::new();
        loop {
            let page = self.admin(
                reqwest::Method::GET,
                &format!("records/{object}?offset={}&limit=1000", all.len()),
                None,
            )?;
            let records = page["records"].as_array().cloned().unwrap_or_default();
            let total = page["totalSize"].as_u64().unwrap_or(0) as usize;
            let done = records.is_empty();
            all.extend(records);
            if done || all.len() >= total {
                return Ok(all);
            }
        }
    }

    fn change_org(&self) -> Result<Changes> {
        let mut changes = Changes::default();
        // The org's clock runs; move it on so every change is after the saved state.
        self.admin(
            reqwest::Method::POST,
            "clock",
            Some(json!({"advance_seconds": 120})),
        )?;
        let accounts = self.ids("Account", 5)?;
        let contacts = self.ids("Contact", 3)?;
        if accounts.len() < 4 || contacts.len() < 3 {
            bail!("the emulator's org has fewer Accounts/Contacts than the demo changes");
        }
        for (i, id) in accounts.iter().take(3).enumerate() {
            self.admin(
                reqwest::Method::PATCH,
                &format!("records/Account/{id}"),
                Some(json!({"Name": format!("Renamed by the demo {i}")})),
            )?;
            changes.updated.push(id.clone());
            changes.log.push(format!("updated Account {id}"));
        }
        for id in contacts.iter().take(2) {
            self.admin(
                reqwest::Method::DELETE,
                &format!("records/Contact/{id}"),
                None,
            )?;
            changes.soft_deleted.push(id.clone());
            changes
                .log
                .push(format!("soft-deleted Contact {id} (recycle bin)"));
        }
        let hard = &contacts[2];
        self.admin(
            reqwest::Method::DELETE,
            &format!("records/Contact/{hard}?hard=true"),
            None,
        )?;
        changes.hard_deleted.push(hard.clone());
        changes.log.push(format!("hard-deleted Contact {hard}"));
        for i in 0..2 {
            let reply = self.admin(
                reqwest::Method::POST,
                "records/Account",
                Some(json!({"Name": format!("Created by the demo {i}")})),
            )?;
            let id = reply["id"].as_str().unwrap_or_default().to_string();
            changes.log.push(format!("created Account {id}"));
            changes.created.push(id);
        }
        self.admin(
            reqwest::Method::POST,
            "clock",
            Some(json!({"advance_seconds": 120})),
        )?;
        Ok(changes)
    }

    fn write_back(&mut self, config: &Path) -> Result<()> {
        let catalog = json!({"streams": [
            {"stream": {"name": "new_contacts", "json_schema": {"type": "object", "properties": {
                "LastName": {"type": "string"}, "FirstName": {"type": "string"},
                "Email": {"type": "string"}, "Title": {"type": "string"}}},
                "supported_sync_modes": ["full_refresh", "incremental"]},
             "sync_mode": "incremental", "destination_sync_mode": "append",
             "destination_object_name": "Contact"},
            {"stream": {"name": "products", "json_schema": {"type": "object", "properties": {
                "External_Id__c": {"type": "string"}, "Name": {"type": "string"},
                "Price__c": {"type": "number"}}},
                "supported_sync_modes": ["full_refresh", "incremental"]},
             "sync_mode": "incremental", "destination_sync_mode": "append_dedup",
             "primary_key": [["External_Id__c"]], "destination_object_name": "Product_Catalog__c"}]});
        let catalog_file = self.save("destination-catalog.json", &catalog)?;
        let mut input = String::new();
        let mut push = |stream: &str, data: Value| {
            input += &json!({"type": "RECORD", "record": {"stream": stream, "data": data, "emitted_at": 1_768_478_400_000i64}}).to_string();
            input.push('\n');
        };
        for i in 0..20 {
            push(
                "new_contacts",
                json!({"LastName": format!("Demo{i:02}"), "FirstName": "Ada",
                       "Email": format!("ada{i:02}@example.com"), "Title": "Engineer"}),
            );
        }
        // Three rows Salesforce refuses.
        push("new_contacts", json!({"FirstName": "No last name"}));
        push(
            "new_contacts",
            json!({"LastName": "BadEmail", "Email": "not-an-email"}),
        );
        push(
            "new_contacts",
            json!({"LastName": "LongTitle", "Title": "x".repeat(300)}),
        );
        for i in 0..10 {
            push(
                "products",
                json!({"External_Id__c": format!("DEMO-{i:03}"), "Name": format!("Demo product {i}"), "Price__c": 9.5 + i as f64}),
            );
        }
        for stream in ["new_contacts", "products"] {
            input += &json!({"type": "STATE", "state": {"type": "STREAM",
                "stream": {"stream_descriptor": {"name": stream}, "stream_state": {"demo": "done"}}}})
            .to_string();
            input.push('\n');
        }
        let sent = input.lines().filter(|l| l.contains("\"RECORD\"")).count();
        std::fs::write(self.out.join("destination-input.jsonl"), &input)?;
        let run = self.connector_run(
            "destination",
            &[
                "write",
                "--config",
                &config.to_string_lossy(),
                "--catalog",
                &catalog_file.to_string_lossy(),
            ],
            Some(&input),
            "write.jsonl",
        )?;
        let mut rejected = 0.0;
        for state in run.messages.iter().filter(|m| m["type"] == "STATE") {
            rejected += state["state"]["destinationStats"]["rejectedRecordCount"]
                .as_f64()
                .unwrap_or(0.0);
        }
        // What arrived, counted in the org itself.
        let contacts = self
            .all_records("Contact")?
            .iter()
            .filter(|r| {
                r["LastName"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("Demo") && n.len() == 6)
            })
            .count();
        let products = self
            .all_records("Product_Catalog__c")?
            .iter()
            .filter(|r| {
                r["External_Id__c"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("DEMO-"))
            })
            .count();
        let accepted = contacts + products;
        let dead_letter = self.out.join("dead-letter");
        let files = files_under(&dead_letter);
        let line = format!(
            "write: {sent} records in {:.2} s; {accepted} in the org ({contacts} Contacts, {products} products), {rejected} rejected into the dead-letter queue ({} file(s) under {})",
            run.seconds,
            files.len(),
            dead_letter.display()
        );
        println!("    {line}");
        for file in &files {
            println!("      {}", file.display());
        }
        self.summary.push(line);
        Ok(())
    }

    fn print_summary(&self) {
        println!(
            "\n==> summary ({:.1} s in all)",
            self.started.elapsed().as_secs_f64()
        );
        for line in &self.summary {
            println!("    {line}");
        }
        println!("    every file of this run is in {}", self.out.display());
    }
}

#[derive(Default)]
struct Changes {
    updated: Vec<String>,
    soft_deleted: Vec<String>,
    hard_deleted: Vec<String>,
    created: Vec<String>,
    log: Vec<String>,
}

fn find<'a>(messages: &'a [Value], message_type: &str) -> Result<&'a Value> {
    messages
        .iter()
        .find(|m| m["type"] == message_type)
        .with_context(|| format!("no {message_type} message"))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
