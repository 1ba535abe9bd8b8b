//! Lost answers through the real binary: each call of the destination that acts once (ingest
//! job create, CSV upload, close) has its answer cut after Salesforce acted, or held back past
//! the client's read timeout. After each the write succeeds (exit 0, the STATE echoed), every
//! record is in the org exactly once, no job is left open, and the API calls stay within a
//! bound; each test checks in the emulator's request log that its fault fired on that call.

use crate::support::admin_api::{fired, jobs_created, json_reply};
use crate::support::destination::{account_inserts, record_line, state_line, Harness};
use serde_json::{json, Value};

/// The client's read timeout in these tests, and how late a `delay` fault answers.
const READ_TIMEOUT_MS: &str = "600";
const LATE_MS: u64 = 1_800;
const ROWS: usize = 25;

#[derive(Clone, Copy, Debug)]
enum Lost {
    /// The handler ran, then the connection dropped before the answer arrived.
    Cut,
    /// The handler ran; the answer came after the client had given up waiting.
    Late,
}

impl Lost {
    fn rule(self, method: &str, path: &str) -> Value {
        match self {
            Lost::Cut => json!({"method": method, "path": path, "type": "cut_connection",
                "after_bytes": 0, "when": "once"}),
            Lost::Late => json!({"method": method, "path": path, "type": "delay",
                "millis": LATE_MS, "after_handler": true, "when": "once"}),
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Lost::Cut => "cut_connection",
            Lost::Late => "delay",
        }
    }
}

/// What one faulted write left behind, for the assertions and the report.
#[derive(Debug)]
struct Outcome {
    api_calls: usize,
    jobs_created: usize,
    jobs_by_state: Vec<String>,
}

fn input(tag: &str) -> String {
    let mut input = String::new();
    for i in 0..ROWS {
        input += &record_line("lost", json!({"Name": format!("L {tag} {i:03}")}));
    }
    input + &state_line("lost", 7, json!(ROWS))
}

async fn names(h: &Harness, tag: &str) -> Vec<String> {
    let prefix = format!("L {tag} ");
    let mut names: Vec<String> = h
        .records("Account", false)
        .await
        .iter()
        .filter_map(|r| r["Name"].as_str())
        .filter(|n| n.starts_with(&prefix))
        .map(str::to_string)
        .collect();
    names.sort();
    names
}

/// Every ingest job in the org, through the API as any client sees it.
async fn ingest_jobs(h: &Harness) -> Vec<Value> {
    let url = format!(
        "{}/services/data/v62.0/jobs/ingest?jobType=V2Ingest",
        h.emulator.base_url()
    );
    let reply: Value = json_reply(h.http.get(url).bearer_auth(h.emulator.access_token())).await;
    reply["records"].as_array().cloned().unwrap_or_default()
}

/// Writes `ROWS` records with `lost` on the first `method` request whose path ends in
/// `path_end`, and checks everything the matrix promises.
async fn write_losing(method: &str, glob: &str, path_end: &str, lost: Lost, tag: &str) -> Outcome {
    write_losing_all(&[(method, glob, path_end, lost)], tag).await
}

/// [`write_losing`] with several faults, each on its own call.
async fn write_losing_all(faults: &[(&str, &str, &str, Lost)], tag: &str) -> Outcome {
    let h = Harness::start().await;
    for (method, glob, _, lost) in faults {
        h.add_fault(lost.rule(method, glob)).await;
    }
    let run = h
        .write_env(
            &h.config(json!({})),
            &account_inserts("lost", &["Name"]),
            &input(tag),
            &[("SALESFORCE_CONNECTOR_READ_TIMEOUT_MS", READ_TIMEOUT_MS)],
        )
        .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let states = run.all_states();
    assert_eq!(states.len(), 1, "the STATE is echoed: {}", run.stderr);
    assert_eq!(
        states[0]["stream"]["stream_state"]["cursor"],
        json!(ROWS),
        "{:?}",
        states[0]
    );
    let expected: Vec<String> = (0..ROWS).map(|i| format!("L {tag} {i:03}")).collect();
    assert_eq!(names(&h, tag).await, expected, "every record exactly once");

    let requests = h.requests().await;
    for (method, _, path_end, lost) in faults {
        let fired: Vec<Value> = fired(&requests, lost.type_name())
            .into_iter()
            .filter(|r| r["method"] == *method)
            .collect();
        assert_eq!(fired.len(), 1, "the fault fired once: {requests:#?}");
        let path = fired[0]["path"].as_str().unwrap().trim_end_matches('/');
        let on_call = if path_end.is_empty() {
            // A job's own resource: …/jobs/ingest/{id}.
            path.rsplit('/').nth(1) == Some("ingest")
        } else {
            path.ends_with(path_end)
        };
        assert!(on_call, "the fault fired on {method} …{path_end}: {path}");
        if let Lost::Late = lost {
            assert_eq!(fired[0]["status"], 0, "the late answer was never received");
        }
    }
    let api_calls = requests.len();
    let jobs_created = jobs_created(&requests, "ingest");
    let jobs = ingest_jobs(&h).await;
    let jobs_by_state: Vec<String> = jobs
        .iter()
        .map(|j| j["state"].as_str().unwrap_or("?").to_string())
        .collect();
    for state in &jobs_by_state {
        assert!(
            ["JobComplete", "Failed", "Aborted"].contains(&state.as_str()),
            "no job left open: {jobs:#?}"
        );
    }
    let logs = run.logs().join("\n");
    assert!(
        logs.contains("reading what Salesforce holds"),
        "the log says how the lost answer was resolved: {logs}"
    );
    let outcome = Outcome {
        api_calls,
        jobs_created,
        jobs_by_state,
    };
    eprintln!("{tag}: {outcome:?}");
    outcome
}

// The bounds: a clean write of one batch takes a login, a describe, the create, upload and
// close, a few polls and two result downloads (about 10 calls). Resolving a lost answer adds one
// read (the job list or the job's state); a lost upload adds an abort, a second create and
// upload. Polls vary with timing, hence the margin.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_is_cut_is_found_in_the_job_list() {
    let o = write_losing(
        "POST",
        "*/jobs/ingest",
        "/jobs/ingest",
        Lost::Cut,
        "create-cut",
    )
    .await;
    assert_eq!(o.jobs_created, 1, "the job the lost create made is used");
    assert_eq!(o.jobs_by_state, ["JobComplete"]);
    assert!(o.api_calls <= 20, "{o:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_is_late_is_found_in_the_job_list() {
    let o = write_losing(
        "POST",
        "*/jobs/ingest",
        "/jobs/ingest",
        Lost::Late,
        "create-late",
    )
    .await;
    assert_eq!(o.jobs_created, 1, "the job the lost create made is used");
    assert_eq!(o.jobs_by_state, ["JobComplete"]);
    assert!(o.api_calls <= 20, "{o:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_answer_is_cut_goes_into_a_new_job() {
    let o = write_losing("PUT", "*/batches", "/batches", Lost::Cut, "upload-cut").await;
    assert_eq!(o.jobs_created, 2, "the batch went into a second job");
    assert_eq!(o.jobs_by_state, ["Aborted", "JobComplete"]);
    assert!(o.api_calls <= 23, "{o:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_answer_is_late_goes_into_a_new_job() {
    let o = write_losing("PUT", "*/batches", "/batches", Lost::Late, "upload-late").await;
    assert_eq!(o.jobs_created, 2, "the batch went into a second job");
    assert_eq!(o.jobs_by_state, ["Aborted", "JobComplete"]);
    assert!(o.api_calls <= 23, "{o:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_whose_answer_is_cut_is_followed_by_polling() {
    let o = write_losing("PATCH", "*/jobs/ingest/*", "", Lost::Cut, "close-cut").await;
    assert_eq!(o.jobs_created, 1);
    assert_eq!(o.jobs_by_state, ["JobComplete"]);
    assert!(o.api_calls <= 20, "{o:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_whose_answer_is_late_is_followed_by_polling() {
    let o = write_losing("PATCH", "*/jobs/ingest/*", "", Lost::Late, "close-late").await;
    assert_eq!(o.jobs_created, 1);
    assert_eq!(o.jobs_by_state, ["JobComplete"]);
    assert!(o.api_calls <= 20, "{o:?}");
}

// The abort of the job whose upload answer was lost is itself acting-once: its answer is lost
// too, and the job's state (`Aborted`) shows it took effect.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_whose_answer_is_cut_is_read_from_the_job_state() {
    let o = write_losing_all(
        &[
            ("PUT", "*/batches", "/batches", Lost::Cut),
            ("PATCH", "*/jobs/ingest/*", "", Lost::Cut),
        ],
        "abort-cut",
    )
    .await;
    assert_eq!(o.jobs_created, 2);
    assert_eq!(o.jobs_by_state, ["Aborted", "JobComplete"]);
    assert!(o.api_calls <= 24, "{o:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abort_whose_answer_is_late_is_read_from_the_job_state() {
    let o = write_losing_all(
        &[
            ("PUT", "*/batches", "/batches", Lost::Cut),
            ("PATCH", "*/jobs/ingest/*", "", Lost::Late),
        ],
        "abort-late",
    )
    .await;
    assert_eq!(o.jobs_created, 2);
    assert_eq!(o.jobs_by_state, ["Aborted", "JobComplete"]);
    assert!(o.api_calls <= 24, "{o:?}");
}
