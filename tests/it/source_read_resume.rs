//! Resuming reads: a read killed with SIGKILL and resumed from its last STATE loses no record;
//! the API budget stops a read with a resumable state; full refresh resumes after its last Id;
//! PyAirbyte's and Estuary's ways of calling `read` work.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};

use crate::support::admin_api::jobs_created;
use crate::support::source::{days_ago, emulator_config, ids, org_ids, TestOrg};
use serde_json::{json, Value};

#[test]
fn a_read_killed_with_sigkill_and_resumed_from_its_last_state_loses_no_record() {
    // Every Bulk results request is delayed 150 ms so the kill lands mid-read.
    let org = TestOrg::start(emulator_config());
    org.fault(
        json!({"method": "GET", "path": "/services/data/*/jobs/query/*/results",
                     "type": "delay", "millis": 150, "when": "always"}),
    );
    let start = days_ago(760);
    let config =
        org.config(json!({"start_date": start, "stream_slice_step": "P30D", "num_workers": 2}));
    let catalog = org.catalog(&config, &["Contact"], true);
    let mut child = org.spawn_read(&config, &catalog, None);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    let mut states = 0;
    loop {
        let mut line = String::new();
        if stdout.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if line.contains("\"type\":\"STATE\"") {
            states += 1;
        }
        lines.push(line);
        if states == 3 {
            child.kill().unwrap(); // SIGKILL
            break;
        }
    }
    let mut rest = String::new();
    let _ = stdout.read_to_string(&mut rest);
    child.wait().unwrap();
    assert_eq!(
        states, 3,
        "the read was killed mid-way, after its third STATE"
    );
    // What a destination would have committed: the records before the last STATE.
    let last_state_at = lines
        .iter()
        .rposition(|l| l.contains("\"type\":\"STATE\""))
        .unwrap();
    let committed: Vec<Value> = lines[..last_state_at]
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|m| m["type"] == "RECORD")
        .map(|m| m["record"]["data"].clone())
        .collect();
    let last_state: Value = serde_json::from_str(&lines[last_state_at]).unwrap();
    let all = org_ids(&org, "Contact");
    assert!(ids(&committed).len() < all.len(), "killed before the end");
    let resumed = org.read(&config, &catalog, Some(&json!([last_state["state"]])));
    resumed.assert_success();
    let mut union = ids(&committed);
    union.extend(ids(&resumed.records("Contact")));
    assert_eq!(union, all, "no record lost across the kill");
}

#[test]
fn the_api_budget_stops_new_jobs_with_a_clear_message_and_a_resumable_state() {
    // The org allows 40 Bulk query jobs a day; a 50% budget allows 20, fewer than the ~26
    // monthly windows of the read.
    let mut emulator = emulator_config();
    emulator.daily_bulk_query_jobs = 40;
    let org = TestOrg::start(emulator);
    let start = days_ago(790);
    let config = org.config(json!({"start_date": start, "stream_slice_step": "P30D",
                                   "api_budget_percent": 50}));
    let catalog = org.catalog(&config, &["Contact"], true);
    let run = org.read(&config, &catalog, None);
    assert_eq!(
        run.code,
        Some(1),
        "a stream stopped by the budget is not complete"
    );
    assert_eq!(run.statuses("Contact").last().unwrap(), "INCOMPLETE");
    let error = &run.trace_errors()[0];
    assert!(
        error["message"].as_str().unwrap().contains("API budget"),
        "{error}"
    );
    assert_eq!(error["failure_type"], "transient_error");
    let jobs = |org: &TestOrg| jobs_created(&org.requests(), "query");
    assert!(jobs(&org) <= 20, "{} jobs created", jobs(&org));
    let state = run.last_state("Contact");
    assert_eq!(state["state_type"], "date-range");
    // Raising the budget, the read continues from the state and completes.
    let more = org.config(json!({"start_date": start, "stream_slice_step": "P30D",
                                 "api_budget_percent": 100}));
    let resumed = org.read(
        &more,
        &catalog,
        Some(
            &json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "Contact"},
                       "stream_state": state}}]),
        ),
    );
    resumed.assert_success();
    let all = org_ids(&org, "Contact");
    assert!(
        ids(&resumed.records("Contact")).len() < all.len(),
        "not a full resync"
    );
    let mut union = ids(&run.records("Contact"));
    union.extend(ids(&resumed.records("Contact")));
    assert_eq!(union, all, "nothing lost across the budget stop");
}

#[test]
fn a_full_refresh_resumes_after_the_last_id_of_its_state() {
    let org = TestOrg::start(emulator_config());
    let config = org.config(json!({}));
    let catalog = org.catalog(&config, &["Contact"], false);
    let all: Vec<String> = org_ids(&org, "Contact").into_iter().collect();
    let middle = all[all.len() / 2].clone();
    let state = json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "Contact"},
                        "stream_state": {"full_refresh_after_id": middle}}}]);
    let run = org.read(&config, &catalog, Some(&state));
    run.assert_success();
    let got = ids(&run.records("Contact"));
    let expected: BTreeSet<String> = all.iter().filter(|id| **id > middle).cloned().collect();
    assert_eq!(got, expected);
    assert_eq!(
        run.last_state("Contact"),
        json!({"__ab_full_refresh_sync_complete": true})
    );
}

#[test]
fn pyairbyte_style_incremental_on_a_stream_without_cursor_reads_in_full() {
    // PyAirbyte marks every stream incremental, cursor or not, and passes `--state []`.
    let org = TestOrg::start(emulator_config());
    let config = org.config(json!({}));
    let mut catalog = org.catalog(&config, &["CaseStatus", "Describe"], false);
    for stream in catalog["streams"].as_array_mut().unwrap() {
        stream["sync_mode"] = json!("incremental");
        stream["destination_sync_mode"] = json!("overwrite");
    }
    let run = org.read(&config, &catalog, Some(&json!([])));
    run.assert_success();
    assert_eq!(ids(&run.records("CaseStatus")), org_ids(&org, "CaseStatus"));
    let describes = run.records("Describe");
    assert_eq!(describes.len(), 1, "one describe per other catalog stream");
    assert_eq!(describes[0]["name"], "CaseStatus");
    assert!(describes[0]["fields"].as_array().unwrap().len() > 1);
}
