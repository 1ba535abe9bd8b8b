//! Faults through the real binary: each says which fault, where, and what must hold after it —
//! every record in the org exactly once or in the dead-letter queue, none lost, none doubled.

use crate::support::admin_api::{fired, jobs_created};
use crate::support::destination::{catalog, dlq_lines, record_line, state_line, Harness};
use crate::support::run::Run;
use serde_json::{json, Value};

const PREFIX: &str = "F ";

fn input(n: usize, tag: &str) -> String {
    let mut input = String::new();
    for i in 0..n {
        input += &record_line("scores", json!({"Name": format!("{PREFIX}{tag} {i:03}")}));
    }
    input + &state_line("scores", 42, json!(n))
}

fn accounts_catalog() -> Value {
    catalog(&[("scores", Some("Account"), "append", None, &["Name"])])
}

async fn names(h: &Harness, tag: &str) -> Vec<String> {
    let mut names: Vec<String> = h
        .records("Account", false)
        .await
        .iter()
        .filter_map(|r| r["Name"].as_str())
        .filter(|n| n.starts_with(&format!("{PREFIX}{tag} ")))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

fn expected(n: usize, tag: &str) -> Vec<String> {
    (0..n).map(|i| format!("{PREFIX}{tag} {i:03}")).collect()
}

/// An org with `faults` installed and `n` rows tagged `tag` written to it (the config with
/// `extra`); each fault fired (the request log names every fault of each type installed).
async fn write_through(faults: &[Value], extra: Value, n: usize, tag: &str) -> (Harness, Run) {
    let h = Harness::start().await;
    for fault in faults {
        h.add_fault(fault.clone()).await;
    }
    let run = h
        .write(&h.config(extra), &accounts_catalog(), &input(n, tag))
        .await;
    let requests = h.requests().await;
    for fault in faults {
        let kind = fault["type"].as_str().expect("a fault has a type");
        let installed = faults.iter().filter(|f| f["type"] == kind).count();
        assert!(
            fired(&requests, kind).len() >= installed,
            "every {kind} fault fired: {requests:#?}"
        );
    }
    (h, run)
}

/// `n` rows tagged `tag` written to an org whose every `every_nth` Account row fails with
/// UNABLE_TO_LOCK_ROW (a write rule of the emulator rather than a fault of its request layer).
async fn write_with_locked_rows(
    every_nth: u64,
    extra: Value,
    n: usize,
    tag: &str,
) -> (Harness, Run) {
    let h = Harness::start().await;
    let url = format!("{}/__emulator/write-rules", h.emulator.base_url());
    let rules = json!({"lock_row_faults": [{"object": "Account", "every_nth": every_nth}]});
    let reply = h.http.put(url).json(&rules).send().await.unwrap();
    assert!(reply.status().is_success(), "write rules set");
    let run = h
        .write(&h.config(extra), &accounts_catalog(), &input(n, tag))
        .await;
    (h, run)
}

async fn ingest_jobs_created(h: &Harness) -> usize {
    jobs_created(&h.requests().await, "ingest")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprocessed_rows_of_a_failed_or_aborted_job_are_retried_in_a_new_job() {
    // The first job stops halfway and ends Failed (or Aborted); its other rows are unprocessed.
    for (fault, tag) in [("job_failed", "failed"), ("job_aborted", "aborted")] {
        let fault =
            json!({"method": "POST", "path": "*/jobs/ingest", "type": fault, "when": "once"});
        let (h, run) = write_through(&[fault], json!({}), 10, tag).await;
        run.assert_success();
        assert_eq!(
            names(&h, tag).await,
            expected(10, tag),
            "every row exactly once"
        );
        assert_eq!(ingest_jobs_created(&h).await, 2, "{tag}");
        assert_eq!(
            run.all_states()[0]["destinationStats"],
            json!({"recordCount": 10.0, "rejectedRecordCount": 0.0})
        );
        assert!(dlq_lines(&h.dlq_folder()).is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unable_to_lock_row_rows_are_retried_until_they_land() {
    let (h, run) = write_with_locked_rows(3, json!({}), 9, "locked").await;
    run.assert_success();
    assert_eq!(names(&h, "locked").await, expected(9, "locked"));
    assert!(ingest_jobs_created(&h).await >= 2);
    assert!(dlq_lines(&h.dlq_folder()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_still_locked_after_the_last_retry_go_to_the_dead_letter_queue() {
    let (h, run) = write_with_locked_rows(1, json!({"max_retries": 2}), 4, "stuck").await;
    run.assert_success();
    assert!(names(&h, "stuck").await.is_empty());
    assert_eq!(ingest_jobs_created(&h).await, 3, "first job + 2 retries");
    let lines = dlq_lines(&h.dlq_folder());
    assert_eq!(lines.len(), 4);
    for line in &lines {
        assert_eq!(line["error_code"], "UNABLE_TO_LOCK_ROW");
        assert_eq!(line["attempt"], 3);
    }
    assert_eq!(
        run.all_states()[0]["destinationStats"],
        json!({"recordCount": 0.0, "rejectedRecordCount": 4.0})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprocessed_rows_out_of_retries_go_to_the_dead_letter_queue_and_nothing_is_lost() {
    let fault =
        json!({"method": "POST", "path": "*/jobs/ingest", "type": "job_failed", "when": "always"});
    let (h, run) = write_through(&[fault], json!({"max_retries": 1}), 10, "never").await;
    run.assert_success();
    let landed = names(&h, "never").await;
    let lines = dlq_lines(&h.dlq_folder());
    assert!(!lines.is_empty());
    let mut all: Vec<String> = landed.clone();
    for line in &lines {
        assert_eq!(line["error_code"], "UNPROCESSED", "{line}");
        assert_eq!(line["attempt"], 2);
        all.push(line["record"]["Name"].as_str().unwrap().to_string());
    }
    all.sort();
    assert_eq!(
        all,
        expected(10, "never"),
        "org + dead-letter queue = input, each once"
    );
    let stats = &run.all_states()[0]["destinationStats"];
    assert_eq!(stats["recordCount"].as_f64(), Some(landed.len() as f64));
    assert_eq!(
        stats["rejectedRecordCount"].as_f64(),
        Some(lines.len() as f64)
    );
    assert_eq!(
        stats["recordCount"].as_f64().unwrap() + stats["rejectedRecordCount"].as_f64().unwrap(),
        10.0,
        "written + rejected = the records the source sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_cut_connections_are_retried_without_duplicates() {
    let faults = [
        json!({"method": "PUT", "path": "*/batches*", "type": "status", "status": 503, "when": "once"}),
        json!({"method": "GET", "path": "*/successfulResults*", "type": "cut_connection", "after_bytes": 20, "when": "once"}),
        json!({"method": "GET", "path": "*/jobs/ingest/*", "type": "status", "status": 502, "when": "once"}),
        json!({"method": "PATCH", "path": "*/jobs/ingest/*", "type": "status", "status": 500, "error_code": "UNKNOWN_EXCEPTION", "when": "once"}),
    ];
    let (h, run) = write_through(&faults, json!({}), 20, "flaky").await;
    run.assert_success();
    assert_eq!(names(&h, "flaky").await, expected(20, "flaky"));
    assert_eq!(run.all_states().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_session_is_refreshed_mid_write() {
    let fault = json!({"path": "*/batches*", "type": "expire_tokens", "when": "once"});
    let (h, run) = write_through(&[fault], json!({}), 5, "expired").await;
    run.assert_success();
    assert_eq!(names(&h, "expired").await, expected(5, "expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_out_and_retried_without_duplicates() {
    let faults = [
        json!({"method": "POST", "path": "*/jobs/ingest", "type": "status", "status": 429, "when": "once"}),
        json!({"method": "PUT", "path": "*/batches*", "type": "status", "error_code": "REQUEST_LIMIT_EXCEEDED", "when": "once"}),
        json!({"method": "GET", "path": "*/successfulResults*", "type": "status", "status": 429, "when": "once"}),
    ];
    let (h, run) = write_through(&faults, json!({}), 12, "limited").await;
    run.assert_success();
    assert_eq!(names(&h, "limited").await, expected(12, "limited"));
    assert_eq!(
        run.all_states()[0]["destinationStats"],
        json!({"recordCount": 12.0, "rejectedRecordCount": 0.0})
    );
    assert_eq!(
        ingest_jobs_created(&h).await,
        2,
        "the job creation refused with 429 and its one retry"
    );
}
