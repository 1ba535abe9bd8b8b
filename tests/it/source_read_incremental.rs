//! Incremental reads through the real binary against the in-process emulator: windows and
//! STATE, resuming from our state and from Airbyte's saved states, hard deletes.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::run::Run;
use crate::support::source::{
    days_ago, emulator_config, ids, normalise_org_record, org_ids, TestOrg,
};
use serde_json::{json, Value};

fn config(org: &TestOrg) -> Value {
    let start = days_ago(800);
    org.config(json!({"start_date": start, "stream_slice_step": "P120D"}))
}

/// The STATE blob as a `--state` file: a list of per-stream STATE messages.
fn state_file(run: &Run, stream: &str) -> Value {
    json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": stream},
            "stream_state": run.last_state(stream)}}])
}

#[test]
fn a_first_incremental_read_emits_every_record_and_a_state_per_window() {
    let org = TestOrg::start(emulator_config());
    let config = config(&org);
    let catalog = org.catalog(&config, &["Contact"], true);
    let run = org.read(&config, &catalog, None);
    run.assert_success();
    let records = run.records("Contact");
    assert_eq!(ids(&records), org_ids(&org, "Contact"));
    assert_eq!(records.len(), ids(&records).len(), "no duplicates");
    let states = run.states("Contact");
    assert!(
        states.len() >= 7,
        "a STATE per 120-day window: {}",
        states.len()
    );
    let mut counted = 0.0;
    let mut previous_end = String::new();
    for state in &states {
        let blob = &state["stream"]["stream_state"];
        assert_eq!(blob["state_type"], "date-range");
        let end = blob["slices"][0]["end"].as_str().unwrap().to_string();
        assert!(end >= previous_end, "state never moves backwards");
        previous_end = end;
        counted += state["sourceStats"]["recordCount"].as_f64().unwrap();
    }
    assert_eq!(
        counted as usize,
        records.len(),
        "recordCount adds up to the records"
    );
    let estimates = run
        .of_type("TRACE")
        .into_iter()
        .filter(|m| m["trace"]["type"] == "ESTIMATE")
        .count();
    assert!(estimates > 0, "ESTIMATE messages are emitted");
    assert_eq!(
        run.statuses("Contact"),
        vec!["STARTED", "RUNNING", "COMPLETE"]
    );
}

#[test]
fn a_read_resumed_from_its_state_emits_only_changes_and_the_lookback() {
    let org = TestOrg::start(emulator_config());
    let config = config(&org);
    let catalog = org.catalog(&config, &["Contact"], true);
    let first = org.read(&config, &catalog, None);
    first.assert_success();
    let existing: Vec<String> = ids(&first.records("Contact")).into_iter().take(3).collect();
    org.advance_clock(3600);
    for id in &existing {
        org.update("Contact", id, json!({"Title": "Changed"}));
    }
    let new_id = org.create("Contact", json!({"LastName": "Newcomer"}));
    org.advance_clock(60);
    let second = org.read(&config, &catalog, Some(&state_file(&first, "Contact")));
    second.assert_success();
    let records = second.records("Contact");
    let got = ids(&records);
    for id in existing.iter().chain([&new_id]) {
        assert!(got.contains(id), "{id} re-read after its change");
    }
    assert!(
        records.len() < 20,
        "only changes (and the 10-minute lookback) are read again, got {}",
        records.len()
    );
    for record in records
        .iter()
        .filter(|r| existing.contains(&r["Id"].as_str().unwrap().to_string()))
    {
        assert_eq!(record["Title"], "Changed");
    }
}

#[test]
fn airbytes_old_cursor_state_and_cdk_date_range_state_are_resumed_without_a_full_resync() {
    let org = TestOrg::start(emulator_config());
    let config = config(&org);
    let catalog = org.catalog(&config, &["Account"], true);
    let all = org.org_records("Account", true);
    let mut stamps: Vec<String> = all
        .iter()
        .map(|r| {
            normalise_org_record(r)["SystemModstamp"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    stamps.sort();
    let median = stamps[stamps.len() / 2].clone();
    let newer: BTreeSet<String> = all
        .iter()
        .filter(|r| normalise_org_record(r)["SystemModstamp"].as_str().unwrap() >= median.as_str())
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    let states = [
        // Airbyte's source before the concurrent CDK (an old saved state).
        json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "Account"},
                "stream_state": {"SystemModstamp": median}}}]),
        // The CDK's date-range form, as Estuary's object keyed by stream name.
        json!({"Account": {"state_type": "date-range", "slices": [
            {"start": "2000-01-01T00:00:00.000Z", "end": median, "most_recent_cursor_value": median}]}}),
    ];
    for state in states {
        let run = org.read(&config, &catalog, Some(&state));
        run.assert_success();
        let got = ids(&run.records("Account"));
        assert!(
            newer.is_subset(&got),
            "every record at or after the saved cursor is read"
        );
        assert!(
            got.len() < all.len(),
            "not a full resync: {} of {}",
            got.len(),
            all.len()
        );
        assert_eq!(run.last_state("Account")["state_type"], "date-range");
    }
}

#[test]
fn an_empty_state_list_and_a_future_state_are_accepted() {
    let org = TestOrg::start(emulator_config());
    let config = config(&org);
    let catalog = org.catalog(&config, &["Lead"], true);
    let run = org.read(&config, &catalog, Some(&json!([])));
    run.assert_success();
    assert_eq!(ids(&run.records("Lead")), org_ids(&org, "Lead"));
    let future = json!([{"type": "STREAM", "stream": {"stream_descriptor": {"name": "Lead"},
        "stream_state": {"state_type": "date-range", "slices": [
            {"start": "2020-01-01T00:00:00.000Z", "end": "2099-01-01T00:00:00.000Z"}]}}}]);
    let run = org.read(&config, &catalog, Some(&future));
    run.assert_success();
    assert!(run.records("Lead").is_empty());
    assert!(
        !run.states("Lead").is_empty(),
        "a future state still gets a STATE"
    );
    assert_eq!(
        run.last_state("Lead")["slices"][0]["end"],
        "2099-01-01T00:00:00.000Z",
        "the state does not move backwards"
    );
}

#[test]
fn hard_deleted_records_are_emitted_as_deleted_on_the_next_incremental_read() {
    let org = TestOrg::start(emulator_config());
    let config = config(&org);
    let catalog = org.catalog(&config, &["Account"], true);
    let first = org.read(&config, &catalog, None);
    first.assert_success();
    assert!(first.last_state("Account")["deletions_checked_until"].is_string());
    let victims: Vec<String> = ids(&first.records("Account")).into_iter().take(2).collect();
    org.advance_clock(120);
    org.delete("Account", &victims[0], true);
    org.delete("Account", &victims[1], false);
    org.advance_clock(180);
    let second = org.read(&config, &catalog, Some(&state_file(&first, "Account")));
    second.assert_success();
    let deleted: BTreeMap<String, Value> = second
        .records("Account")
        .into_iter()
        .filter(|r| r["_ab_cdc_deleted_at"].is_string())
        .map(|r| (r["Id"].as_str().unwrap().to_string(), r))
        .collect();
    for id in &victims {
        let record = deleted
            .get(id)
            .unwrap_or_else(|| panic!("{id} reported as deleted"));
        assert_eq!(record["IsDeleted"], true);
        assert_eq!(record["SystemModstamp"], record["_ab_cdc_deleted_at"]);
    }
    let soft = second
        .records("Account")
        .into_iter()
        .find(|r| r["Id"] == victims[1].as_str() && r["_ab_cdc_deleted_at"].is_null());
    assert!(
        soft.is_some_and(|r| r["IsDeleted"] == true),
        "the soft-deleted row also arrives through queryAll"
    );
    let no_deletes = org.config(json!({"detect_hard_deletes": false}));
    let third = org.read(&no_deletes, &catalog, Some(&state_file(&first, "Account")));
    third.assert_success();
    assert!(third
        .records("Account")
        .iter()
        .all(|r| r.get("_ab_cdc_deleted_at").is_none()));
}

#[test]
fn a_long_window_gets_exact_states_inside_it() {
    // 12,000 Contacts in one window: a STATE comes every 10,000 records, where the cursor moves.
    let mut emulator = emulator_config();
    emulator.scale = 30;
    let org = TestOrg::start(emulator);
    let start = days_ago(800);
    let config = org.config(json!({"start_date": start, "stream_slice_step": "P1000D"}));
    let catalog = org.catalog(&config, &["Contact"], true);
    let run = org.read(&config, &catalog, None);
    run.assert_success();
    let messages = run.messages();
    let mut emitted: Vec<String> = Vec::new();
    let mut inside = 0;
    for message in messages {
        if message["type"] == "RECORD" && message["record"]["stream"] == "Contact" {
            emitted.push(
                message["record"]["data"]["SystemModstamp"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
        if message["type"] == "STATE" && emitted.len() < 12_000 && !emitted.is_empty() {
            inside += 1;
            let end = message["state"]["stream"]["stream_state"]["slices"][0]["end"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(
                emitted.iter().all(|c| *c < end),
                "every emitted record is below the state's end {end}"
            );
        }
    }
    assert_eq!(emitted.len(), 12_000);
    assert!(inside >= 1, "a STATE inside the window");
    // Every record not yet emitted at that STATE is at or above its end: rows come in cursor
    // order, so checking the order suffices.
    let mut sorted = emitted.clone();
    sorted.sort();
    assert_eq!(emitted, sorted, "rows arrive in cursor order");
}
