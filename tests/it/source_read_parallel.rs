//! Bulk result pages downloaded several at once through `resultPages` (API 58.0+): the same
//! output as the locator chain, pages emitted in page order whatever order their downloads
//! finish in, the STATE never ahead of the records, a fallback to the locator chain where
//! `resultPages` is refused, and a page that keeps failing failing its stream.

use serde_json::{json, Value};

use crate::support::run::Run;
use crate::support::source::{self, emulator_config, TestOrg};

/// Rows per result page, in the emulator's `resultPages` and in our locator chain.
const PAGE: usize = 250;
/// Contacts in the org: twelve pages, and a mid-read STATE (every [`CHECKPOINT_EVERY`] records).
const CONTACTS: u64 = 3_000;
/// `SALESFORCE_CONNECTOR_CHECKPOINT_EVERY` of the reads: one STATE inside a read of every
/// Contact, as 10,000 (the default) gives in a read of 12,000.
const CHECKPOINT_EVERY: &str = "2500";

/// An org of 3,000 Contacts whose result pages hold 250 rows.
fn org() -> TestOrg {
    let mut config = emulator_config();
    config.bulk_page_records = PAGE;
    config.records.insert("Contact".to_string(), CONTACTS);
    TestOrg::start(config)
}

/// The environment of the reads: retry pauses capped at 20 ms, a STATE every
/// [`CHECKPOINT_EVERY`] records.
const READ_ENV: &[(&str, &str)] = &[
    ("SALESFORCE_CONNECTOR_BACKOFF_MS", "20"),
    ("SALESFORCE_CONNECTOR_CHECKPOINT_EVERY", CHECKPOINT_EVERY),
];

/// Reads `streams` in full with `extra` config keys and [`READ_ENV`].
fn read(org: &TestOrg, streams: &[&str], extra: Value) -> Run {
    let config = org.config(extra);
    let catalog = org.catalog(&config, streams, false);
    org.read_env(&config, &catalog, None, READ_ENV)
}

/// The stream's RECORD data and STATE blobs, in the order they were emitted.
fn stream_output(run: &Run, stream: &str) -> Vec<Value> {
    run.messages()
        .iter()
        .filter_map(|m| match m["type"].as_str() {
            Some("RECORD") if m["record"]["stream"] == stream => {
                Some(json!({"record": m["record"]["data"]}))
            }
            Some("STATE") if m["state"]["stream"]["stream_descriptor"]["name"] == stream => {
                Some(json!({"state": m["state"]["stream"]["stream_state"]}))
            }
            _ => None,
        })
        .collect()
}

/// The org's request log entries whose path contains `part`.
fn requests_to(org: &TestOrg, part: &str) -> Vec<Value> {
    org.requests()
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap_or_default().contains(part))
        .collect()
}

/// The Ids of `object`'s records in the order they were emitted.
fn emitted_ids(run: &Run, object: &str) -> Vec<String> {
    run.records(object)
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect()
}

/// The Ids of every record of `object` in the org (deleted ones too), sorted.
fn org_ids(org: &TestOrg, object: &str) -> Vec<String> {
    source::org_ids(org, object).into_iter().collect()
}

/// Every org record of `object` emitted exactly once, in Id order (the query's ORDER BY).
fn assert_every_record_once_in_order(org: &TestOrg, run: &Run, object: &str) {
    let emitted: Vec<String> = emitted_ids(run, object);
    let mut sorted = emitted.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(emitted, sorted, "{object}: in Id order, none twice");
    let expected: Vec<String> = org_ids(org, object);
    assert_eq!(emitted, expected, "{object}: every org record");
}

/// Every mid-read STATE (`full_refresh_after_id`) follows every record at or below its Id and
/// precedes every record above it: the state is never ahead of what was emitted.
fn assert_states_never_ahead(output: &[Value]) -> usize {
    let mut inside = 0;
    for (i, message) in output.iter().enumerate() {
        let Some(after) = message["state"]["full_refresh_after_id"].as_str() else {
            continue;
        };
        inside += 1;
        for (j, other) in output.iter().enumerate() {
            if let Some(id) = other["record"]["Id"].as_str() {
                assert_eq!(
                    j < i,
                    id <= after,
                    "record {id} and the STATE after Id {after}: the state is never ahead"
                );
            }
        }
    }
    inside
}

#[test]
fn pages_downloaded_in_parallel_give_exactly_the_locator_chains_output() {
    let org = org();
    let serial = read(
        &org,
        &["Contact"],
        json!({"max_parallel_downloads": 1, "bulk_page_size": PAGE}),
    );
    serial.assert_success();
    assert!(
        requests_to(&org, "/resultPages").is_empty(),
        "max_parallel_downloads 1 follows the locator chain"
    );
    let serial_pages = requests_to(&org, "/results").len();

    let parallel = read(&org, &["Contact"], json!({}));
    parallel.assert_success();
    let listings = requests_to(&org, "/resultPages");
    // Twelve pages, five URLs per answer: three answers.
    assert_eq!(
        listings.len(),
        3,
        "resultPages followed to its end: {listings:?}"
    );
    let pages = requests_to(&org, "/results");
    assert_eq!(
        pages.len() - serial_pages,
        12,
        "one download per page: {pages:?}"
    );
    assert!(
        pages[serial_pages..]
            .iter()
            .all(|r| !r["path"].as_str().unwrap().contains("maxRecords")),
        "the pages are the resultUrls as Salesforce gave them"
    );

    let expected = stream_output(&serial, "Contact");
    let got = stream_output(&parallel, "Contact");
    assert_eq!(got.len(), expected.len());
    assert!(
        got == expected,
        "the same records and STATEs, in the same order"
    );
    assert_every_record_once_in_order(&org, &parallel, "Contact");
    assert!(
        assert_states_never_ahead(&got) >= 1,
        "a STATE inside the read"
    );
}

#[test]
fn a_slow_first_page_finishes_after_the_pages_behind_it_and_records_keep_page_order() {
    let org = org();
    // The first page (locator = offset 0) is answered three seconds late: the reader waits on
    // it, so more downloads open (one more per half second while nothing flows) and the pages
    // behind it arrive first.
    org.fault(
        json!({"method": "GET", "path": "/services/data/*/jobs/query/*/results",
                     "query": "locator=MA", "type": "delay", "millis": 3000, "when": "once"}),
    );
    let run = read(&org, &["Contact"], json!({}));
    run.assert_success();
    let pages = requests_to(&org, "/results");
    let first = pages
        .iter()
        .find(|r| r["faults"] == json!(["delay"]))
        .unwrap_or_else(|| panic!("the delay fired on the first page: {pages:?}"));
    assert!(first["path"].as_str().unwrap().contains("locator=MA"));
    let overtaken = pages
        .iter()
        .filter(|r| r["finished"].as_u64().unwrap() < first["finished"].as_u64().unwrap())
        .count();
    assert!(
        overtaken >= 4,
        "pages behind the first finished before it (downloads run at once): {pages:?}"
    );
    assert_every_record_once_in_order(&org, &run, "Contact");
    assert_states_never_ahead(&stream_output(&run, "Contact"));
}

#[test]
fn a_refused_result_pages_falls_back_to_the_locator_chain_once_per_read() {
    let org = org();
    org.fault(
        json!({"method": "GET", "path": "/services/data/*/jobs/query/*/resultPages",
                     "type": "status", "status": 404, "error_code": "NOT_FOUND",
                     "when": "always"}),
    );
    // One stream after the other: the second job starts after the first was refused.
    let run = read(
        &org,
        &["Contact", "Account"],
        json!({"bulk_page_size": PAGE, "num_workers": 1}),
    );
    run.assert_success();
    let listings = requests_to(&org, "/resultPages");
    assert_eq!(
        listings.len(),
        1,
        "asked once, then remembered: {listings:?}"
    );
    assert_eq!(listings[0]["status"], 404);
    assert_eq!(listings[0]["faults"], json!(["status"]), "the fault fired");
    let chained = requests_to(&org, &format!("/results?maxRecords={PAGE}"));
    assert!(
        chained.len() >= 13,
        "both streams read by locator: {chained:?}"
    );
    assert_every_record_once_in_order(&org, &run, "Contact");
    assert_every_record_once_in_order(&org, &run, "Account");
    assert!(
        run.logs().iter().any(|l| l.contains("refused resultPages")),
        "the fallback is logged"
    );
}

#[test]
fn an_api_version_before_58_reads_by_locator_without_asking_for_result_pages() {
    let org = org();
    let run = read(
        &org,
        &["Contact"],
        json!({"api_version": "57.0", "bulk_page_size": PAGE}),
    );
    run.assert_success();
    assert!(requests_to(&org, "/resultPages").is_empty());
    assert_eq!(
        requests_to(&org, &format!("/results?maxRecords={PAGE}")).len(),
        12
    );
    assert_every_record_once_in_order(&org, &run, "Contact");
}

#[test]
fn a_page_cut_mid_body_is_fetched_again_and_the_output_has_no_duplicate() {
    let org = org();
    // The third page (250 rows, over 5,000 bytes) breaks off after 5,000 bytes.
    let third = "locator=NTAw"; // base64("500")
    org.fault(
        json!({"method": "GET", "path": "/services/data/*/jobs/query/*/results",
                     "query": third, "type": "cut_connection", "after_bytes": 5000,
                     "when": "once"}),
    );
    let run = read(&org, &["Contact"], json!({}));
    run.assert_success();
    let third_page: Vec<Value> = requests_to(&org, &format!("/results?{third}"));
    assert_eq!(third_page.len(), 2, "fetched again: {third_page:?}");
    assert_eq!(third_page[0]["faults"], json!(["cut_connection"]));
    assert_every_record_once_in_order(&org, &run, "Contact");
}

#[test]
fn a_page_that_keeps_failing_fails_its_stream_after_the_pages_before_it() {
    let org = org();
    // The sixth page (offset 1250) always answers 503.
    let sixth = "locator=MTI1MA"; // base64("1250")
    org.fault(
        json!({"method": "GET", "path": "/services/data/*/jobs/query/*/results",
                     "query": sixth, "type": "status", "status": 503, "when": "always"}),
    );
    let run = read(&org, &["Contact", "Account"], json!({}));
    assert_eq!(run.code, Some(1), "the read fails: {}", run.stderr);
    let answered: Vec<Value> = requests_to(&org, &format!("/results?{sixth}"));
    assert!(
        answered.len() > 1 && answered.iter().all(|r| r["status"] == 503),
        "the fault fired and the page was retried: {answered:?}"
    );
    let errors = run.trace_errors();
    let message = errors
        .iter()
        .filter_map(|e| e["message"].as_str())
        .find(|m| m.starts_with("Stream Contact failed"))
        .unwrap_or_else(|| panic!("a TRACE ERROR names the stream: {errors:?}"));
    assert!(message.contains("503"), "{message}");
    // The five pages before it were emitted, in order; nothing after it.
    let ids: Vec<String> = emitted_ids(&run, "Contact");
    let all: Vec<String> = org_ids(&org, "Contact");
    assert!(ids.len() <= 5 * PAGE, "nothing past the failed page");
    assert_eq!(ids[..], all[..ids.len()], "a prefix, in order");
    assert_eq!(run.statuses("Contact").last().unwrap(), "INCOMPLETE");
    assert_eq!(run.statuses("Account").last().unwrap(), "COMPLETE");
    assert_every_record_once_in_order(&org, &run, "Account");
}

/// The Bulk job ids the org created (`POST …/jobs/query` answers are not logged with bodies:
/// the ids come from the later requests that name them), in the order first named.
fn query_job_ids(org: &TestOrg) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for request in org.requests() {
        let path = request["path"].as_str().unwrap_or_default();
        if let Some(rest) = path.split("/jobs/query/").nth(1) {
            let id: String = rest
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect();
            if !id.is_empty() && !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// Ranges of at least 750 rows: the 3,000 Contacts are read as four Id ranges.
fn ranged(extra: Value) -> Value {
    let mut config = json!({"id_range_rows": 750, "num_workers": 4});
    for (k, v) in extra.as_object().unwrap() {
        config[k] = v.clone();
    }
    config
}

#[test]
fn a_large_full_refresh_is_read_in_id_ranges_each_counted_and_each_row_once() {
    let org = org();
    let whole = read(&org, &["Contact"], json!({"id_range_rows": 0}));
    whole.assert_success();
    assert_eq!(query_job_ids(&org).len(), 1, "id_range_rows 0: one job");
    org.clear_requests();

    let run = read(&org, &["Contact"], ranged(json!({})));
    run.assert_success();
    let requests = org.requests();
    let is_create =
        |r: &Value| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/jobs/query");
    let creates = requests.iter().filter(|r| is_create(r)).count();
    assert_eq!(creates, 4, "four range jobs: {requests:?}");
    // (That the jobs are prepared at once is a matter of timing, shown by
    // bench/source_read_profile.sh, not asserted here.)
    // One count sizes the ranges; then each range is counted with its own bounds.
    let counts: Vec<&Value> = requests
        .iter()
        .filter(|r| r["path"].as_str().unwrap().contains("COUNT"))
        .collect();
    assert_eq!(counts.len(), 1 + 4, "{counts:?}");
    for count in &counts[1..] {
        assert!(
            count["path"].as_str().unwrap().contains("Id+%3C%3D"),
            "a range's count is bounded by Id: {count}"
        );
    }
    // Every job of the read was deleted at its end.
    let jobs = query_job_ids(&org);
    assert_eq!(jobs.len(), 4);
    for id in &jobs {
        assert!(
            requests
                .iter()
                .any(|r| r["method"] == "DELETE"
                    && r["path"].as_str().unwrap().ends_with(id.as_str())),
            "job {id} deleted"
        );
    }
    assert_every_record_once_in_order(&org, &run, "Contact");
    let got = stream_output(&run, "Contact");
    assert!(
        got == stream_output(&whole, "Contact"),
        "the same records and STATEs as one job"
    );
    assert!(assert_states_never_ahead(&got) >= 1);
}

#[test]
fn a_resumed_full_refresh_splits_only_the_ids_after_its_state() {
    let org = org();
    let all: Vec<String> = org_ids(&org, "Contact");
    let after = all[749].clone();
    let state = json!([{"type": "STREAM", "stream": {
        "stream_descriptor": {"name": "Contact"},
        "stream_state": {"full_refresh_after_id": after}}}]);
    let config = org.config(ranged(json!({})));
    let catalog = org.catalog(&config, &["Contact"], false);
    let run = org.read(&config, &catalog, Some(&state));
    run.assert_success();
    let emitted: Vec<String> = emitted_ids(&run, "Contact");
    assert_eq!(
        emitted,
        all[750..],
        "exactly the rows after the state, in order"
    );
    let creates = org
        .requests()
        .iter()
        .filter(|r| r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/jobs/query"))
        .count();
    assert_eq!(creates, 3, "2,250 rows left: three ranges");
}

#[test]
fn a_range_whose_job_fails_is_read_through_rest_and_no_job_is_left_open() {
    let org = org();
    // The second range's job ends Failed.
    org.fault(
        json!({"method": "POST", "path": "/services/data/*/jobs/query",
                     "type": "job_failed", "when": "every_nth", "n": 2}),
    );
    let run = read(&org, &["Contact"], ranged(json!({})));
    run.assert_success();
    let requests = org.requests();
    assert!(
        requests
            .iter()
            .any(|r| r["method"] == "POST" && r["faults"] == json!(["job_failed"])),
        "the fault fired"
    );
    assert!(run
        .logs()
        .iter()
        .any(|l| l.contains("reading it through REST")));
    assert_every_record_once_in_order(&org, &run, "Contact");
    for id in query_job_ids(&org) {
        assert!(
            requests.iter().any(|r| {
                let path = r["path"].as_str().unwrap();
                (r["method"] == "DELETE" || r["method"] == "PATCH") && path.ends_with(id.as_str())
            }),
            "job {id} aborted or deleted at the end: {requests:?}"
        );
    }
}

/// Reads `Contact` incrementally (one fixed window of 1,000 days over the whole org) with
/// `extra` config keys.
fn read_incremental(org: &TestOrg, extra: Value) -> Run {
    let start = (chrono::Utc::now() - chrono::Duration::days(800))
        .format("%Y-%m-%d")
        .to_string();
    let mut keys = json!({"start_date": start, "stream_slice_step": "P1000D", "num_workers": 4});
    for (k, v) in extra.as_object().unwrap() {
        keys[k] = v.clone();
    }
    let config = org.config(keys);
    let catalog = org.catalog(&config, &["Contact"], true);
    org.read_env(&config, &catalog, None, READ_ENV)
}

/// The `SELECT COUNT()` queries the org answered.
fn count_queries(org: &TestOrg) -> Vec<String> {
    requests_to(org, "/query")
        .into_iter()
        .map(|r| r["path"].as_str().unwrap_or_default().to_string())
        .filter(|path| path.contains("COUNT"))
        .collect()
}

/// The windows of the incremental STATEs in `output`, each checked never ahead: every record
/// before it is below its end, every record after it at or above.
fn incremental_state_ends(output: &[Value]) -> Vec<String> {
    let mut ends = Vec::new();
    for (i, message) in output.iter().enumerate() {
        let Some(end) = message["state"]["slices"][0]["end"].as_str() else {
            continue;
        };
        for (j, other) in output.iter().enumerate() {
            if let Some(cursor) = other["record"]["SystemModstamp"].as_str() {
                assert_eq!(
                    j < i,
                    cursor < end,
                    "record at {cursor} and the STATE ending {end}: the state is never ahead"
                );
            }
        }
        ends.push(end.to_string());
    }
    ends
}

#[test]
fn an_incremental_window_with_many_rows_is_cut_by_count_into_jobs_prepared_at_once() {
    let org = org();
    let fixed = read_incremental(&org, json!({"incremental_window_rows": 0}));
    fixed.assert_success();
    assert_eq!(query_job_ids(&org).len(), 1, "one fixed window: one job");
    assert!(
        count_queries(&org).len() <= 1,
        "0 never counts before reading (only the window's verification)"
    );
    org.clear_requests();

    let cut = read_incremental(&org, json!({"incremental_window_rows": 500}));
    cut.assert_success();
    let jobs = query_job_ids(&org);
    assert!(
        (6..=12).contains(&jobs.len()),
        "3,000 rows in windows of about 500: {} jobs",
        jobs.len()
    );
    let counts = count_queries(&org);
    // One count of the whole span, one per cut, one verification per window.
    assert!(
        counts.len() >= 1 + (jobs.len() - 1) + jobs.len(),
        "counted before cutting and after each window: {counts:?}"
    );
    // Jobs were prepared at once: a job was created before the first one's results were read.
    let requests = org.requests();
    let created: Vec<usize> = requests
        .iter()
        .enumerate()
        .filter(|(_, r)| {
            r["method"] == "POST" && r["path"].as_str().unwrap().ends_with("/jobs/query")
        })
        .map(|(i, _)| i)
        .collect();
    let first_results = requests
        .iter()
        .position(|r| r["path"].as_str().unwrap().contains("/results"))
        .expect("results were read");
    assert!(
        created.iter().filter(|&&i| i < first_results).count() >= 2,
        "several jobs created before the first results were read"
    );

    let whole = stream_output(&fixed, "Contact");
    let parts = stream_output(&cut, "Contact");
    let records = |output: &[Value]| -> Vec<Value> {
        output
            .iter()
            .filter(|m| m.get("record").is_some())
            .cloned()
            .collect()
    };
    assert_eq!(records(&whole).len(), CONTACTS as usize);
    assert!(
        records(&parts) == records(&whole),
        "the same records in the same order, cut or not"
    );
    let ends = incremental_state_ends(&parts);
    assert!(
        ends.len() >= jobs.len(),
        "a STATE after every window: {ends:?}"
    );
    let mut sorted = ends.clone();
    sorted.sort();
    assert_eq!(ends, sorted, "the state only moves forward");
    incremental_state_ends(&whole);
}

#[test]
fn an_incremental_read_with_few_rows_counts_once_and_keeps_its_windows() {
    let org = org();
    let run = read_incremental(&org, json!({"incremental_window_rows": 5_000}));
    run.assert_success();
    assert_eq!(query_job_ids(&org).len(), 1, "under the threshold: one job");
    // The count before reading and the window's verification.
    assert_eq!(count_queries(&org).len(), 2, "{:?}", count_queries(&org));
    assert_eq!(run.records("Contact").len(), CONTACTS as usize);
}

#[test]
fn the_next_ranges_downloads_start_while_the_range_before_it_is_still_being_finished() {
    let org = org();
    // The first job's DELETE (its range read, the job finished) answers 1.5 s late: without the
    // early start the next range's pages would be listed only after it.
    org.fault(
        json!({"method": "DELETE", "path": "/services/data/*/jobs/query/*",
        "type": "delay", "millis": 1500, "when": "once"}),
    );
    let run = read(&org, &["Contact"], ranged(json!({})));
    run.assert_success();
    let requests = org.requests();
    let path = |r: &Value| r["path"].as_str().unwrap().to_string();
    let delete = requests
        .iter()
        .find(|r| r["method"] == "DELETE" && r["faults"] == json!(["delay"]))
        .unwrap_or_else(|| panic!("the delay fired on a DELETE: {requests:?}"));
    let first_job = path(delete).rsplit('/').next().unwrap().to_string();
    let listed_first = requests
        .iter()
        .position(|r| path(r).contains("/resultPages") && path(r).contains(&first_job))
        .expect("the first range's pages were listed");
    assert!(
        requests[..listed_first]
            .iter()
            .all(|r| !path(r).contains("/resultPages")),
        "the delayed DELETE is the first range's job ({first_job})"
    );
    let deleted_at = delete["finished"].as_u64().unwrap();
    let early: Vec<&Value> = requests
        .iter()
        .filter(|r| {
            path(r).contains("/resultPages")
                && !path(r).contains(&first_job)
                && r["finished"].as_u64().unwrap() < deleted_at
        })
        .collect();
    assert!(
        !early.is_empty(),
        "the next range's pages were listed before the first range's job was deleted: {requests:?}"
    );
    assert_every_record_once_in_order(&org, &run, "Contact");
    assert!(assert_states_never_ahead(&stream_output(&run, "Contact")) >= 1);
}
