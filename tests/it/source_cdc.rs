//! Change Data Capture through the binary against the emulator's Pub/Sub API: the first read
//! snapshots and remembers its position (a change committed during the snapshot arrives), the
//! next read follows the events after it and turns every change into a whole row or a
//! tombstone; gap events, GAP_OVERFLOW, an expired replay id, a cut stream and a token expiring
//! mid-stream each recover with no change lost; a read killed with SIGKILL and resumed from its
//! last STATE loses nothing; a long text field sent as a diff arrives as its full value.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};

use serde_json::{json, Value};
use sf_emulator::EmulatorConfig;

use crate::support::run::Run;
use crate::support::source::{emulator_config, normalise_org_record, TestOrg};

/// An org whose Account stream is read with Change Data Capture.
struct Cdc {
    org: TestOrg,
    config: Value,
    catalog: Value,
}

impl Cdc {
    fn start(emulator: EmulatorConfig) -> Cdc {
        let org = TestOrg::start(emulator);
        let config = org.config(json!({
            "stream_slice_step": "P3650D",
            "pubsub_endpoint": org.emulator.pubsub_url(),
            "change_data_capture": {"enabled": true, "idle_timeout_seconds": 2},
        }));
        let catalog = org.catalog(&config, &["Account"], true);
        Cdc {
            org,
            config,
            catalog,
        }
    }

    fn read(&self, state: Option<&Value>) -> Run {
        self.read_with(&self.config, state)
    }

    /// A read with `config` (this org's, changed) from `state`.
    fn read_with(&self, config: &Value, state: Option<&Value>) -> Run {
        let state = state.map(|s| {
            json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "Account"},
                                                  "stream_state": s}}])
        });
        self.org.read(config, &self.catalog, state.as_ref())
    }

    /// The first read, with an Account committed while its snapshot runs (when the Bulk job's
    /// results are asked for, well after the subscription opened): the read ends holding a
    /// replay id. That change is the one event it follows (`max_events_per_read` 1): the read
    /// ends once it is read instead of waiting out the idle timeout.
    fn first_read(&self) -> (Run, Value) {
        self.org.fault(
            json!({"method": "GET", "path": "/services/data/*/jobs/query/*/results",
            "type": "commit_record", "object": "Account",
            "fields": {"Name": "Committed during the snapshot"},
            "began_seconds_ago": 0, "when": "once"}),
        );
        let mut config = self.config.clone();
        config["change_data_capture"]["max_events_per_read"] = json!(1);
        let run = self.read_with(&config, None);
        run.assert_success();
        let state = run.last_state("Account");
        replay_id(&state);
        (run, state)
    }

    fn fired(&self, fault_type: &str) -> u64 {
        let url = format!("{}/__emulator/faults", self.org.emulator.base_url());
        let faults: Value = self
            .org
            .runtime
            .block_on(async { reqwest::get(&url).await.unwrap().json().await.unwrap() });
        faults
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["type"] == fault_type)
            .map(|f| f["fired"].as_u64().unwrap_or(0))
            .sum()
    }

    fn published(&self) -> Vec<Value> {
        let url = format!(
            "{}/__emulator/pubsub/events?topic=/data/AccountChangeEvent",
            self.org.emulator.base_url()
        );
        let events: Value = self
            .org
            .runtime
            .block_on(async { reqwest::get(&url).await.unwrap().json().await.unwrap() });
        match events {
            Value::Array(items) => items,
            other => other["events"].as_array().cloned().unwrap_or_default(),
        }
    }

    fn transaction(&self, ops: &Value) -> Vec<String> {
        let url = format!("{}/__emulator/transaction", self.org.emulator.base_url());
        let reply: Value = self.org.runtime.block_on(async {
            let response = reqwest::Client::new()
                .post(&url)
                .json(ops)
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
            response.json().await.unwrap()
        });
        reply["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The org's live Accounts by Id.
    fn live(&self) -> BTreeMap<String, Value> {
        self.org
            .org_records("Account", false)
            .into_iter()
            .map(|r| (r["Id"].as_str().unwrap().to_string(), r))
            .collect()
    }

    fn grpc_statuses(&self) -> Vec<i64> {
        self.org
            .requests()
            .iter()
            .filter(|r| r["path"] == "/eventbus.v1.PubSub/Subscribe")
            .filter_map(|r| r["grpc_status"].as_i64())
            .collect()
    }
}

/// The last record of each Id, in output order.
fn last_by_id(records: &[Value]) -> BTreeMap<String, Value> {
    records
        .iter()
        .map(|r| (r["Id"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

fn replay_id(state: &Value) -> &str {
    state["cdc"]["replay_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no replay id in {state}"))
}

/// A whole row: the record is the org's current row, every field (those the change did not
/// touch and the cursor included).
fn assert_whole_row(record: &Value, org: &Value) {
    let org = normalise_org_record(org);
    for (field, value) in org.as_object().unwrap() {
        assert_eq!(&record[field], value, "{field} of {record}");
    }
    assert!(record["SystemModstamp"].is_string(), "{record}");
    assert_eq!(record["IsDeleted"], json!(false), "{record}");
}

fn assert_tombstone(record: &Value) {
    assert_eq!(record["IsDeleted"], json!(true), "{record}");
    assert!(record["_ab_cdc_deleted_at"].is_string(), "{record}");
    assert!(record["SystemModstamp"].is_string(), "{record}");
}

#[test]
fn the_snapshot_then_every_kind_of_change_arrives_as_whole_rows_and_tombstones() {
    let cdc = Cdc::start(emulator_config());
    let (first, state) = cdc.first_read();
    assert_eq!(cdc.fired("commit_record"), 1);
    let snapshot = first.records("Account");
    let during = snapshot
        .iter()
        .find(|r| r["Name"] == "Committed during the snapshot");
    assert!(
        during.is_some(),
        "the change made during the snapshot arrives"
    );
    assert!(snapshot.len() > 200, "the snapshot holds every Account");
    assert_eq!(state["cdc"]["topic"], "/data/AccountChangeEvent");
    replay_id(&state);
    let logs = first.logs().join("\n");
    assert!(logs.contains("following change events"), "{logs}");

    // Changes while no read runs: the next read replays them from the saved position.
    let ids: Vec<String> = cdc.live().keys().take(6).cloned().collect();
    let created = cdc
        .org
        .create("Account", json!({"Name": "Created by CDC test"}));
    cdc.org
        .update("Account", &ids[0], json!({"Phone": "+1 555 0100"}));
    cdc.org.delete("Account", &ids[1], false);
    cdc.org.delete("Account", &ids[2], true);
    cdc.org.delete("Account", &ids[3], false);
    let undelete = format!(
        "{}/__emulator/records/Account/{}/undelete",
        cdc.org.emulator.base_url(),
        ids[3]
    );
    cdc.org.runtime.block_on(async {
        let response = reqwest::Client::new().post(&undelete).send().await.unwrap();
        assert!(response.status().is_success());
    });
    let in_transaction = cdc.transaction(&json!([
        {"op": "create", "object": "Account", "fields": {"Name": "In a transaction"}},
        {"op": "update", "object": "Account", "id": ids[4], "fields": {"Phone": "+1 555 0101"}},
        {"op": "delete", "object": "Account", "id": ids[5]},
    ]));
    let requests_before = cdc.org.requests().len();

    let second = cdc.read(Some(&state));
    second.assert_success();
    let records = last_by_id(&second.records("Account"));
    let live = cdc.live();
    for id in [&created, &ids[0], &ids[3], &in_transaction[0], &ids[4]] {
        let record = records
            .get(id)
            .unwrap_or_else(|| panic!("{id} did not arrive: {records:#?}"));
        assert_whole_row(record, &live[id]);
    }
    assert_eq!(records[&ids[0]]["Phone"], "+1 555 0100");
    assert_eq!(records[&ids[4]]["Phone"], "+1 555 0101");
    for id in [&ids[1], &ids[2], &ids[5]] {
        assert_tombstone(&records[id]);
    }
    assert_eq!(
        records.len(),
        8,
        "only the changed rows arrive: {:#?}",
        records.keys()
    );
    let next = second.last_state("Account");
    assert_ne!(replay_id(&next), replay_id(&state), "the position moved");
    // The changes were re-read through REST: no Bulk job.
    let requests = cdc.org.requests();
    assert!(
        !requests[requests_before..]
            .iter()
            .any(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/jobs/query")),
        "no Bulk job for a few changes"
    );
    // Every STATE comes after the records it covers: the last message of the stream's output
    // that is a RECORD precedes the last STATE.
    let messages = second.messages();
    let last_record = messages
        .iter()
        .rposition(|m| m["type"] == "RECORD")
        .unwrap();
    let last_state = messages.iter().rposition(|m| m["type"] == "STATE").unwrap();
    assert!(last_record < last_state);

    // Nothing changed since: the third read emits no record and keeps the position.
    let third = cdc.read(Some(&next));
    third.assert_success();
    assert!(third.records("Account").is_empty());
    assert_eq!(
        replay_id(&third.last_state("Account")),
        replay_id(&next),
        "the position never moves backwards"
    );
}

/// Salesforce sends an update of a long text field (1,000 characters or more) as a unified diff
/// listed in `diffFields`; the source re-reads the row by Id, so the record carries the new full
/// value, never the diff.
#[test]
fn a_long_description_sent_as_a_diff_arrives_as_its_full_new_value() {
    let cdc = Cdc::start(emulator_config());
    let (_, state) = cdc.first_read();
    let original: String = (1..=20)
        .map(|i| {
            format!(
                "{:.<100}\n",
                format!("Paragraph {i:02}: business applications move to the cloud")
            )
        })
        .collect::<String>()
        .trim_end()
        .to_string();
    let edited = format!(
        "{}\nOne sentence appended.",
        original.replace(
            "Paragraph 07: business applications",
            "Paragraph 07: business apps"
        )
    );
    let id = cdc.org.create(
        "Account",
        json!({"Name": "Long description", "Description": original}),
    );
    cdc.org
        .update("Account", &id, json!({"Description": edited}));

    // The UPDATE on the wire carried a diff (diffFields set), not the value.
    let updates: Vec<Value> = cdc
        .published()
        .into_iter()
        .filter(|e| e["changeType"] == "UPDATE" && e["recordIds"] == json!([id]))
        .collect();
    assert_eq!(updates.len(), 1, "{updates:#?}");
    let diff_fields = updates[0]["diffFields"].as_array().unwrap();
    assert_eq!(
        diff_fields.len(),
        1,
        "the Description went as a diff: {updates:#?}"
    );
    assert!(diff_fields[0].as_str().unwrap().starts_with("0x"));

    // Two events follow (the CREATE and the UPDATE): the read ends once both are read.
    let mut config = cdc.config.clone();
    config["change_data_capture"]["max_events_per_read"] = json!(2);
    let run = cdc.read_with(&config, Some(&state));
    run.assert_success();
    let records = last_by_id(&run.records("Account"));
    let record = records
        .get(&id)
        .unwrap_or_else(|| panic!("{id} did not arrive: {:#?}", records.keys()));
    assert_whole_row(record, &cdc.live()[&id]);
    assert_eq!(record["Description"], edited.as_str());
    for record in run.records("Account") {
        let description = record["Description"].as_str().unwrap_or_default();
        assert!(
            !description.starts_with("--- \n+++ "),
            "a diff reached the output: {record}"
        );
    }
}

/// A first read (holding a position), then `changes`, then a read with `fault` in place.
fn recovers(
    emulator: EmulatorConfig,
    fault: Option<Value>,
    changes: impl FnOnce(&Cdc) -> Vec<String>,
) -> (Cdc, Run, Vec<String>) {
    let cdc = Cdc::start(emulator);
    let (_, state) = cdc.first_read();
    if let Some(fault) = fault {
        cdc.org.fault(fault);
    }
    let ids = changes(&cdc);
    let run = cdc.read(Some(&state));
    run.assert_success();
    let records = last_by_id(&run.records("Account"));
    let live = cdc.live();
    for id in &ids {
        let record = records
            .get(id)
            .unwrap_or_else(|| panic!("{id} was lost: {:#?}", records.keys()));
        assert_whole_row(record, &live[id]);
    }
    (cdc, run, ids)
}

fn create_accounts(cdc: &Cdc, count: usize, prefix: &str) -> Vec<String> {
    (0..count)
        .map(|i| {
            cdc.org
                .create("Account", json!({"Name": format!("{prefix} {i}")}))
        })
        .collect()
}

#[test]
fn gap_events_are_re_read_by_id() {
    let (cdc, _, _) = recovers(
        emulator_config(),
        Some(
            json!({"method": "CDC", "path": "/data/AccountChangeEvent", "type": "gap",
                    "when": "always"}),
        ),
        |cdc| {
            let mut ids = create_accounts(cdc, 2, "Gap");
            let existing = cdc.live().keys().next().unwrap().clone();
            cdc.org
                .update("Account", &existing, json!({"Phone": "+1 555 0199"}));
            ids.push(existing);
            ids
        },
    );
    assert!(cdc.fired("gap") >= 3);
    let types: BTreeSet<String> = cdc
        .published()
        .iter()
        .map(|e| e["changeType"].as_str().unwrap().to_string())
        .collect();
    assert!(
        types.contains("GAP_CREATE") && types.contains("GAP_UPDATE"),
        "{types:?}"
    );
}

#[test]
fn a_gap_overflow_falls_back_to_a_cursor_catch_up_with_a_warning() {
    let (cdc, run, _) = recovers(
        EmulatorConfig {
            cdc_overflow_limit: 3,
            ..emulator_config()
        },
        None,
        |cdc| {
            let ops: Vec<Value> = (0..6)
                .map(|i| {
                    json!({"op": "create", "object": "Account",
                                "fields": {"Name": format!("Overflow {i}")}})
                })
                .collect();
            cdc.transaction(&json!(ops))
        },
    );
    assert!(cdc
        .published()
        .iter()
        .any(|e| e["changeType"] == "GAP_OVERFLOW"));
    let logs = run.logs().join("\n");
    assert!(
        logs.contains("GAP_OVERFLOW") && logs.contains("catching up by SystemModstamp"),
        "{logs}"
    );
}

#[test]
fn an_expired_replay_id_falls_back_to_a_cursor_catch_up_with_a_warning() {
    let (cdc, run, _) = recovers(emulator_config(), None, |cdc| {
        let ids = create_accounts(cdc, 2, "Before expiry");
        // 73 hours later the saved position and the events after it are gone.
        cdc.org.advance_clock(73 * 3600);
        ids
    });
    assert!(
        cdc.grpc_statuses().contains(&3),
        "Subscribe failed INVALID_ARGUMENT: {:?}",
        cdc.grpc_statuses()
    );
    let logs = run.logs().join("\n");
    assert!(
        logs.contains("refused the saved replay id") && logs.contains("72-hour"),
        "{logs}"
    );
    assert!(run.last_state("Account")["cdc"].is_object() || run.records("Account").len() >= 2);
}

#[test]
fn a_cut_stream_resubscribes_after_the_last_event_read() {
    let (cdc, _, _) = recovers(
        emulator_config(),
        Some(
            json!({"method": "GRPC", "path": "/eventbus.v1.PubSub/Subscribe",
                    "type": "cut_stream", "after_events": 2, "when": "once"}),
        ),
        |cdc| create_accounts(cdc, 5, "Cut"),
    );
    assert_eq!(cdc.fired("cut_stream"), 1);
    assert!(
        cdc.grpc_statuses().contains(&14),
        "{:?}",
        cdc.grpc_statuses()
    );
}

#[test]
fn a_token_expiring_mid_stream_is_refreshed_and_the_stream_resumes() {
    let (cdc, run, _) = recovers(
        emulator_config(),
        Some(
            json!({"method": "GRPC", "path": "/eventbus.v1.PubSub/Subscribe",
                    "type": "expire_tokens_after_events", "after_events": 2, "when": "once"}),
        ),
        |cdc| create_accounts(cdc, 5, "Expiry"),
    );
    assert_eq!(cdc.fired("expire_tokens_after_events"), 1);
    assert!(
        cdc.grpc_statuses().contains(&16),
        "{:?} {:#?} {}",
        cdc.grpc_statuses(),
        cdc.org.requests(),
        run.logs().join("\n")
    );
}

#[test]
fn a_read_killed_with_sigkill_while_following_and_resumed_loses_no_change() {
    let cdc = Cdc::start(emulator_config());
    let (_, state) = cdc.first_read();
    // 2,100 creates (each its own Name, so each its own event), in transactions of 100: more
    // events than one batch re-reads (2,000), so the first STATE comes before the last change.
    let mut created = BTreeSet::new();
    for t in 0..21 {
        let ops: Vec<Value> = (0..100)
            .map(|i| {
                json!({"op": "create", "object": "Account",
                            "fields": {"Name": format!("Kill {t}-{i}")}})
            })
            .collect();
        created.extend(cdc.transaction(&json!(ops)));
    }
    let state_file = json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "Account"},
                                            "stream_state": state}}]);
    // A continuous capture (idle_timeout_seconds 0: it never ends by itself) killed mid-way.
    let mut continuous = cdc.config.clone();
    continuous["change_data_capture"]["idle_timeout_seconds"] = json!(0);
    let mut child = cdc
        .org
        .spawn_read(&continuous, &cdc.catalog, Some(&state_file));
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        let is_state = line.contains("\"type\":\"STATE\"");
        lines.push(line);
        if is_state {
            child.kill().unwrap(); // SIGKILL after the first response's STATE
            break;
        }
    }
    child.wait().unwrap();
    let last_state_at = lines
        .iter()
        .rposition(|l| l.contains("\"type\":\"STATE\""))
        .expect("a STATE before the kill");
    let committed: BTreeSet<String> = lines[..last_state_at]
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|m| m["type"] == "RECORD")
        .map(|m| m["record"]["data"]["Id"].as_str().unwrap().to_string())
        .collect();
    assert!(
        committed.len() < created.len(),
        "killed before every change was read"
    );
    let last: Value = serde_json::from_str(&lines[last_state_at]).unwrap();
    let resumed_state = &last["state"]["stream"]["stream_state"];
    replay_id(resumed_state);
    let resumed = cdc.read(Some(resumed_state));
    resumed.assert_success();
    let mut union = committed;
    union.extend(last_by_id(&resumed.records("Account")).into_keys());
    let lost: Vec<&String> = created.difference(&union).collect();
    assert!(lost.is_empty(), "lost across the kill: {lost:?}");
}

#[test]
fn without_change_events_for_the_object_the_stream_is_read_by_its_cursor() {
    let cdc = Cdc::start(EmulatorConfig {
        cdc_objects: Some(vec!["Contact".into()]),
        ..emulator_config()
    });
    let run = cdc.read(None);
    run.assert_success();
    assert!(run.records("Account").len() >= 200);
    let state = run.last_state("Account");
    assert!(state.get("cdc").is_none(), "{state}");
    let logs = run.logs().join("\n");
    assert!(logs.contains("Setup → Change Data Capture"), "{logs}");
}

#[test]
fn discover_marks_the_streams_whose_objects_publish_change_events() {
    let org = TestOrg::start(EmulatorConfig {
        cdc_objects: Some(vec!["Account".into()]),
        ..emulator_config()
    });
    let config = org.config(json!({
        "detect_hard_deletes": false,
        "pubsub_endpoint": org.emulator.pubsub_url(),
        "change_data_capture": {"enabled": true},
    }));
    let run = org.discover(&config);
    run.assert_success();
    let streams = run.of_type("CATALOG")[0]["catalog"]["streams"]
        .as_array()
        .unwrap()
        .clone();
    let schema_of = |name: &str| {
        streams.iter().find(|s| s["name"] == name).unwrap()["json_schema"]["properties"].clone()
    };
    assert!(schema_of("Account").get("_ab_cdc_deleted_at").is_some());
    assert!(schema_of("Contact").get("_ab_cdc_deleted_at").is_none());
    let logs = run.logs().join("\n");
    assert!(
        logs.contains("1 stream(s) follow change events when read incrementally: Account"),
        "{logs}"
    );
}

#[test]
fn the_pub_sub_api_is_reached_over_tls_trusting_the_configs_ca_certificate() {
    let org = TestOrg::start(EmulatorConfig {
        tls: true,
        ..emulator_config()
    });
    assert!(org.emulator.pubsub_url().starts_with("https://"));
    let config = org.config(json!({
        "stream_slice_step": "P3650D",
        "ca_certificate": org.emulator.ca_certificate_pem().unwrap(),
        "pubsub_endpoint": org.emulator.pubsub_url(),
        "change_data_capture": {"enabled": true, "idle_timeout_seconds": 1},
    }));
    let catalog = org.catalog(&config, &["Account"], true);
    let run = org.read(&config, &catalog, None);
    run.assert_success();
    let logs = run.logs().join("\n");
    assert!(
        logs.contains("Account: following change events on /data/AccountChangeEvent"),
        "{logs}"
    );
    assert!(run.records("Account").len() >= 200);
}

/// The read hands over each batch at once: the LOG saying it follows, then the record of a
/// change made after it, arrive while the read runs (nothing waits for an output buffer to fill).
#[test]
fn a_change_made_while_the_read_follows_arrives_while_it_runs() {
    let cdc = Cdc::start(emulator_config());
    let mut config = cdc.config.clone();
    config["change_data_capture"]["idle_timeout_seconds"] = json!(4);
    let mut child = cdc.org.spawn_read(&config, &cdc.catalog, None);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    loop {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        if line.contains("following change events") {
            break;
        }
    }
    let id = cdc
        .org
        .create("Account", json!({"Name": "after following"}));
    // Once the change's record is out the read is stopped: it would only wait out its idle
    // timeout. A read that ends without it fails the test.
    let mut found = false;
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.contains(&id) {
            found = true;
            child.kill().unwrap();
            break;
        }
    }
    child.wait().unwrap();
    assert!(found, "the change made while the read followed arrived");
}
