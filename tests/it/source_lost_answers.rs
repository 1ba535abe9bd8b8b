//! Lost answers and late rows through the real binary, on the source side.
//!
//! The source's one call that acts once is the Bulk query job create: its answer is cut after
//! the job was made, or held back past the client's read timeout. After each the read succeeds
//! with its final STATE, every org record is on stdout exactly once (a lost create never reaches
//! the point where rows were emitted, so the slice in flight holds none), no query job is left
//! in the org, and the API calls stay within a bound; each test checks in the emulator's request
//! log that its fault fired on that call.
//!
//! Then the window count: a row whose cursor lies inside a window already read, committed only
//! after the read (the emulator's `commit_record` fault fires on the window's `SELECT COUNT()`),
//! is read on the window's retry; a window that keeps gaining such rows fails with a TRACE ERROR
//! naming it instead of moving the state past rows that never arrived.

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use serde_json::{json, Value};

use crate::support::admin_api::{fired, jobs_created, json_reply};
use crate::support::run::Run;
use crate::support::source::{emulator_config, org_ids, TestOrg};

const READ_TIMEOUT_MS: &str = "600";
const LATE_MS: u64 = 1_800;

fn env() -> [(&'static str, &'static str); 2] {
    [
        ("SALESFORCE_CONNECTOR_BACKOFF_MS", "20"),
        ("SALESFORCE_CONNECTOR_READ_TIMEOUT_MS", READ_TIMEOUT_MS),
    ]
}

/// Query jobs left in the org, through the API as any client sees them.
fn query_jobs(org: &TestOrg) -> Vec<Value> {
    let url = format!(
        "{}/services/data/v62.0/jobs/query?jobType=V2Query",
        org.emulator.base_url()
    );
    let token = org.emulator.access_token();
    let reply: Value = org
        .runtime
        .block_on(async { json_reply(reqwest::Client::new().get(url).bearer_auth(token)).await });
    reply["records"].as_array().cloned().unwrap_or_default()
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect()
}

/// Reads Account incrementally in yearly windows with `rule` installed; checks the matrix's
/// promises and returns the API calls made.
fn read_losing_create(rule: Value, fault: &str) -> usize {
    let org = TestOrg::start(emulator_config());
    org.fault(rule);
    let config = org.config(json!({"stream_slice_step": "P365D"}));
    let catalog = org.catalog(&config, &["Account"], true);
    let run = org.read_env(&config, &catalog, None, &env());
    run.assert_success();
    let state = run.last_state("Account");
    assert!(
        state.to_string().contains("SystemModstamp") || state.is_object(),
        "a final STATE: {state}"
    );

    let emitted = ids(&run.records("Account"));
    let unique: BTreeSet<String> = emitted.iter().cloned().collect();
    assert_eq!(emitted.len(), unique.len(), "no record emitted twice");
    let expected: BTreeSet<String> = org_ids(&org, "Account");
    assert_eq!(unique, expected, "every org record emitted");

    let requests = org.requests();
    let hit = fired(&requests, fault);
    assert_eq!(hit.len(), 1, "the fault fired once: {requests:#?}");
    assert_eq!(hit[0]["method"], "POST");
    assert!(
        hit[0]["path"]
            .as_str()
            .unwrap()
            .trim_end_matches('/')
            .ends_with("/jobs/query"),
        "{:?}",
        hit[0]
    );
    let creates = jobs_created(&requests, "query");
    let windows = run.states("Account").len().saturating_sub(1);
    assert_eq!(
        creates, windows,
        "one job per window: the lost create's job was used, not made again"
    );
    let logs = run.logs().join("\n");
    assert!(
        logs.contains("found the query job the lost create made"),
        "{logs}"
    );
    let left = query_jobs(&org);
    assert!(left.is_empty(), "every query job deleted: {left:#?}");
    eprintln!(
        "{fault}: {} API calls, {creates} jobs for {windows} windows",
        requests.len()
    );
    requests.len()
}

// The bound: a clean read of N windows takes a login, limits, describe, per window a create, a
// few polls, one results page, a delete and a count (about 6 N + 4); the lost answer adds one
// job list.

#[test]
fn a_query_job_create_whose_answer_is_cut_is_found_in_the_job_list() {
    let calls = read_losing_create(
        json!({"method": "POST", "path": "*/jobs/query", "type": "cut_connection",
            "after_bytes": 0, "when": "once"}),
        "cut_connection",
    );
    assert!(calls <= 80, "{calls} API calls");
}

#[test]
fn a_query_job_create_whose_answer_is_late_is_found_in_the_job_list() {
    let calls = read_losing_create(
        json!({"method": "POST", "path": "*/jobs/query", "type": "delay",
            "millis": LATE_MS, "after_handler": true, "when": "once"}),
        "delay",
    );
    assert!(calls <= 80, "{calls} API calls");
}

/// One window (the last ten days) of Account, with `commit_record` on the window's count.
fn read_window_with_late_rows(when: Value) -> (TestOrg, Run) {
    let org = TestOrg::start(emulator_config());
    let mut rule = json!({"method": "GET", "path": "*/queryAll", "type": "commit_record",
        "object": "Account", "fields": {"Name": "Committed late"},
        "began_seconds_ago": 3600});
    for (k, v) in when.as_object().unwrap() {
        rule[k] = v.clone();
    }
    org.fault(rule);
    let start = (Utc::now() - Duration::days(10)).format("%Y-%m-%dT%H:%M:%SZ");
    // The fault is on the window's count after the read; incremental_window_rows 0 keeps the
    // count that decides whether to cut windows (the same query) from taking it.
    let config = org.config(
        json!({"start_date": start.to_string(), "stream_slice_step": "P30D",
        "incremental_window_rows": 0}),
    );
    let catalog = org.catalog(&config, &["Account"], true);
    let run = org.read_env(&config, &catalog, None, &env());
    (org, run)
}

fn counts(requests: &[Value]) -> Vec<Value> {
    requests
        .iter()
        .filter(|r| {
            let path = r["path"].as_str().unwrap_or_default();
            path.contains("/queryAll") && path.contains("COUNT")
        })
        .cloned()
        .collect()
}

#[test]
fn a_row_committed_after_its_window_was_read_is_read_on_the_retry() {
    let (org, run) = read_window_with_late_rows(json!({"when": "once"}));
    run.assert_success();
    let requests = org.requests();
    let hit = fired(&requests, "commit_record");
    assert_eq!(hit.len(), 1, "{requests:#?}");
    assert!(
        hit[0]["path"].as_str().unwrap().contains("COUNT"),
        "{hit:?}"
    );
    assert_eq!(
        counts(&requests).len(),
        2,
        "counted once more after the re-read"
    );
    let late: Vec<Value> = run
        .records("Account")
        .into_iter()
        .filter(|r| r["Name"] == "Committed late")
        .collect();
    assert_eq!(late.len(), 1, "the late row is emitted once");
    let logs = run.logs().join("\n");
    assert!(logs.contains("reading the window again (1/2)"), "{logs}");
    assert!(query_jobs(&org).is_empty());
}

#[test]
fn a_window_that_keeps_gaining_late_rows_fails_naming_it() {
    let (org, run) = read_window_with_late_rows(json!({"when": "always"}));
    assert_ne!(run.code, Some(0));
    let errors = run.trace_errors();
    let message = errors
        .iter()
        .map(|e| e["message"].as_str().unwrap_or_default())
        .find(|m| m.contains("Salesforce counts"))
        .unwrap_or_else(|| panic!("{errors:#?}"))
        .to_string();
    assert!(message.contains("Account: window "), "{message}");
    assert!(
        message.contains("after reading the window 3 times"),
        "{message}"
    );
    assert_eq!(counts(&org.requests()).len(), 3);
    // The state never moved past the window it could not prove complete.
    assert!(
        run.states("Account").is_empty(),
        "{:?}",
        run.states("Account")
    );
    assert!(query_jobs(&org).is_empty(), "no query job left behind");
}

/// No job left behind whatever failed: the window's job status read is refused, so the stream
/// fails while its job is still running (the org's clock stands still and jobs take an hour).
/// The end-of-run sweep aborts and deletes it, with the abort's answer lost as `abort_fault`
/// says and read back from the job's state.
fn failed_read_sweeps_its_job(abort_fault: Value, fault: &str) {
    let org = TestOrg::start(sf_emulator::EmulatorConfig {
        bulk_job_time: std::time::Duration::from_secs(3600),
        ..emulator_config()
    });
    org.fault(
        json!({"method": "GET", "path": "*/jobs/query/*", "type": "status",
        "status": 400, "error_code": "API_ERROR", "message": "refused for the test",
        "when": "once"}),
    );
    org.fault(abort_fault);
    // One window, so one query job: the refused poll is that job's, whatever order the
    // requests arrive in (with several windows prepared ahead, the refusal could land on a later
    // window's job while the first one is polled for the whole hour its preparation takes).
    let start = (Utc::now() - Duration::days(30))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let config = org.config(json!({"stream_slice_step": "P365D", "start_date": start}));
    let catalog = org.catalog(&config, &["Account"], true);
    let run = org.read_env(&config, &catalog, None, &env());
    assert_ne!(run.code, Some(0), "the stream fails");
    assert!(!run.trace_errors().is_empty());
    let requests = org.requests();
    assert_eq!(fired(&requests, "status").len(), 1);
    let hit = fired(&requests, fault);
    assert_eq!(hit.len(), 1, "{requests:#?}");
    assert_eq!(
        hit[0]["method"], "PATCH",
        "the abort lost its answer: {:?}",
        hit[0]
    );
    let logs = run.logs().join("\n");
    assert!(logs.contains("aborting query job"), "{logs}");
    assert!(logs.contains("aborted query job"), "{logs}");
    let left = query_jobs(&org);
    assert!(
        left.is_empty(),
        "every query job aborted and deleted: {left:#?}"
    );
}

#[test]
fn a_failed_read_leaves_no_query_job_behind() {
    failed_read_sweeps_its_job(
        json!({"method": "PATCH", "path": "*/jobs/query/*", "type": "cut_connection",
        "after_bytes": 0, "when": "once"}),
        "cut_connection",
    );
}

#[test]
fn a_failed_read_leaves_no_query_job_behind_when_the_abort_answers_late() {
    failed_read_sweeps_its_job(
        json!({"method": "PATCH", "path": "*/jobs/query/*", "type": "delay",
        "millis": LATE_MS, "after_handler": true, "when": "once"}),
        "delay",
    );
}
