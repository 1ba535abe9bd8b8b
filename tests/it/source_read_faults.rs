//! One test per fault class, injected by the emulator where the comment says; each asserts
//! what must hold after it: every org record emitted exactly once, or, for faults that cannot
//! be retried, the one affected stream failing with a TRACE naming it while the others finish.

use std::collections::BTreeSet;

use crate::support::run::{message_of, Run};
use crate::support::source::{emulator_config, TestOrg};
use serde_json::{json, Value};

/// Bulk result pages of 60 rows, so every job has several pages.
fn config(org: &TestOrg) -> Value {
    org.config(json!({"bulk_page_size": 60}))
}

/// An org whose `resultPages` pages hold 60 rows too.
fn paged_org() -> TestOrg {
    let mut config = emulator_config();
    config.bulk_page_records = 60;
    TestOrg::start(config)
}

/// Reads with every retry pause capped at 20 ms.
fn read_with_fast_retries(org: &TestOrg, config: &Value, catalog: &Value) -> Run {
    org.read_env(
        config,
        catalog,
        None,
        &[("SALESFORCE_CONNECTOR_BACKOFF_MS", "20")],
    )
}

/// Every org record of `object` emitted exactly once.
fn assert_exactly_once(org: &TestOrg, run: &Run, object: &str) {
    let records = run.records(object);
    let emitted: Vec<String> = records
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    let unique: BTreeSet<String> = emitted.iter().cloned().collect();
    assert_eq!(
        emitted.len(),
        unique.len(),
        "{object}: no record emitted twice"
    );
    let expected: BTreeSet<String> = org
        .org_records(object, true)
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(unique, expected, "{object}: every org record emitted");
}

/// Reads `streams` in full (fast retries) and checks that the read succeeded with every org
/// record of each stream emitted exactly once.
fn read_exactly_once(org: &TestOrg, streams: &[&str]) -> Run {
    read_exactly_once_with(org, streams, config(org))
}

/// [`read_exactly_once`] with `config`.
fn read_exactly_once_with(org: &TestOrg, streams: &[&str], config: Value) -> Run {
    let catalog = org.catalog(&config, streams, false);
    let run = read_with_fast_retries(org, &config, &catalog);
    run.assert_success();
    for stream in streams {
        assert_exactly_once(org, &run, stream);
    }
    run
}

/// The org's request log (method, path with query, status) of requests whose path contains
/// `path_part`.
fn requests_to(org: &TestOrg, path_part: &str) -> Vec<Value> {
    org.requests()
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap_or_default().contains(path_part))
        .collect()
}

/// The fault fired: a request to `path_part` was answered with `status`.
fn assert_answered(org: &TestOrg, path_part: &str, status: u16) {
    let requests = requests_to(org, path_part);
    assert!(
        requests.iter().any(|r| r["status"] == status),
        "the fault fired: a request to {path_part} answered {status}: {requests:?}"
    );
}

/// The fault fired and was noticed: one request to `path_part` (same path and query, e.g. the
/// same result page locator) was made again after the fault broke its answer.
fn assert_fetched_again(org: &TestOrg, path_part: &str) {
    let requests = requests_to(org, path_part);
    let mut seen = BTreeSet::new();
    let again = requests
        .iter()
        .filter(|r| r["method"] == "GET")
        .any(|r| !seen.insert(r["path"].as_str().unwrap_or_default().to_string()));
    assert!(
        again,
        "the fault fired: a request to {path_part} was made again: {requests:?}"
    );
}

/// Injects `fault` and reads Account exactly once, through the locator chain and then through
/// parallel `resultPages` downloads (each on a fresh org); `fired` checks the fault fired.
fn each_way_exactly_once(fault: &Value, fired: impl Fn(&TestOrg)) {
    for parallel in [1, 5] {
        let org = paged_org();
        org.fault(fault.clone());
        let config = org.config(json!({"bulk_page_size": 60, "max_parallel_downloads": parallel}));
        read_exactly_once_with(&org, &["Account"], config);
        fired(&org);
        let listed = !requests_to(&org, "/resultPages").is_empty();
        assert_eq!(
            listed,
            parallel > 1,
            "resultPages used with {parallel} downloads"
        );
    }
}

#[test]
fn server_errors_on_bulk_result_pages_are_retried() {
    // Every 3rd results request answers 503.
    each_way_exactly_once(
        &json!({"method": "GET", "path": "/services/data/*/jobs/query/*/results",
                "type": "status", "status": 503, "when": "every_nth", "n": 3}),
        |org| assert_answered(org, "/results", 503),
    );
}

#[test]
fn a_bulk_page_cut_mid_body_is_fetched_again_without_duplicates() {
    // The 2nd results page breaks off after 3000 bytes.
    each_way_exactly_once(
        &json!({"method": "GET", "path": "/services/data/*/jobs/query/*/results",
                "type": "cut_connection", "after_bytes": 3000, "when": "every_nth", "n": 2}),
        |org| assert_fetched_again(org, "/results"),
    );
}

#[test]
fn a_bulk_page_truncated_as_if_complete_is_fetched_again_without_duplicates() {
    // Every 2nd results page arrives with only 40% of its body but ends normally.
    each_way_exactly_once(
        &json!({"method": "GET", "path": "/services/data/*/jobs/query/*/results",
                "type": "truncate_body", "keep_percent": 40, "when": "every_nth", "n": 2}),
        |org| assert_fetched_again(org, "/results"),
    );
}

#[test]
fn rate_limits_and_request_limit_exceeded_are_retried_with_backoff() {
    // The first job creation gets 429, the first REST query page 403 REQUEST_LIMIT_EXCEEDED.
    let org = TestOrg::start(emulator_config());
    org.fault(
        json!({"method": "POST", "path": "/services/data/*/jobs/query",
                     "type": "status", "status": 429, "when": "once"}),
    );
    org.fault(
        json!({"method": "GET", "path": "/services/data/*/queryAll*",
                     "type": "status", "status": 403, "error_code": "REQUEST_LIMIT_EXCEEDED",
                     "when": "once"}),
    );
    read_exactly_once(&org, &["Account", "Attachment"]);
    assert_answered(&org, "/jobs/query", 429);
    assert_answered(&org, "/queryAll", 403);
}

#[test]
fn a_rest_page_cut_mid_body_is_fetched_again_without_duplicates() {
    // REST pages of 200 rows; the 2nd page request breaks off after 2000 bytes.
    let mut emulator = emulator_config();
    emulator.query_batch_size = 200;
    emulator.scale = 6;
    let org = TestOrg::start(emulator);
    org.fault(json!({"method": "GET", "path": "/services/data/*/query*",
                     "type": "cut_connection", "after_bytes": 2000, "when": "once"}));
    read_exactly_once(&org, &["Attachment"]);
    assert_fetched_again(&org, "/query");
}

#[test]
fn an_expired_session_is_refreshed_once_and_the_request_replayed() {
    // Every token expires at the second job poll.
    let org = TestOrg::start(emulator_config());
    org.fault(
        json!({"method": "GET", "path": "/services/data/*/jobs/query/*",
                     "type": "expire_tokens", "when": "once"}),
    );
    read_exactly_once(&org, &["Account", "Contact"]);
    let logins = org
        .requests()
        .iter()
        .filter(|r| r.to_string().contains("oauth2/token"))
        .count();
    assert!(
        logins >= 2,
        "the token was refreshed: {logins} token requests"
    );
}

#[test]
fn a_failed_bulk_job_falls_back_to_rest_for_that_stream() {
    // Every Bulk job created ends Failed.
    let org = TestOrg::start(emulator_config());
    org.fault(
        json!({"method": "POST", "path": "/services/data/*/jobs/query",
                     "type": "job_failed", "when": "always"}),
    );
    let run = read_exactly_once(&org, &["Account"]);
    assert!(
        requests_to(&org, "/queryAll")
            .iter()
            .any(|r| r["status"] == 200),
        "Account was read through REST"
    );
    assert!(run
        .logs()
        .iter()
        .any(|l| l.contains("reading it through REST")));
}

#[test]
fn a_bulk_refusal_falls_back_to_rest_and_wide_objects_are_split_into_field_chunks() {
    // Bulk refuses every job (INVALIDENTITY); REST URIs are limited to 8,000 bytes (the org
    // answers 414 beyond), so the 620-field object needs field chunks.
    let mut emulator = emulator_config();
    emulator.max_uri_bytes = 8_000;
    let org = TestOrg::start(emulator);

    org.fault(
        json!({"method": "POST", "path": "/services/data/*/jobs/query",
                     "type": "status", "status": 400, "error_code": "INVALIDENTITY",
                     "message": "Entity 'Wide_Record__c' is not supported by the Bulk API.",
                     "when": "always"}),
    );
    let config = config(&org);
    let catalog = org.catalog(&config, &["Wide_Record__c"], true);
    let run = org.read_env(
        &config,
        &catalog,
        None,
        &[
            ("SALESFORCE_CONNECTOR_BACKOFF_MS", "20"),
            ("SALESFORCE_CONNECTOR_MAX_URI_BYTES", "8000"),
        ],
    );
    run.assert_success();
    assert_exactly_once(&org, &run, "Wide_Record__c");
    let record = &run.records("Wide_Record__c")[0];
    assert!(
        record.as_object().unwrap().len() > 600,
        "every field of the wide object"
    );
    let too_long = org.requests().iter().filter(|r| r["status"] == 414).count();
    assert_eq!(too_long, 0, "no request URI was too long");
    assert!(run.logs().iter().any(|l| l.contains("chunks")));
}

#[test]
fn an_object_the_user_cannot_read_fails_only_its_stream() {
    // Contact's describe answers 403 INSUFFICIENT_ACCESS.
    let org = TestOrg::start(emulator_config());
    org.fault(
        json!({"path": "/services/data/*/sobjects/Contact/describe*",
                     "type": "status", "status": 403, "error_code": "INSUFFICIENT_ACCESS",
                     "when": "always"}),
    );
    let config = org.config(json!({}));
    let mut catalog = org.catalog(&config, &["Account", "Lead"], false);
    let mut contact = catalog["streams"][0].clone();
    contact["stream"]["name"] = json!("Contact");
    catalog["streams"].as_array_mut().unwrap().push(contact);
    let run = read_with_fast_retries(&org, &config, &catalog);
    assert_eq!(run.code, Some(1), "a failed stream fails the read");
    assert_eq!(run.statuses("Contact").last().unwrap(), "INCOMPLETE");
    assert_eq!(run.statuses("Account").last().unwrap(), "COMPLETE");
    assert_eq!(run.statuses("Lead").last().unwrap(), "COMPLETE");
    let errors = run.trace_errors();
    let contact_error = errors
        .iter()
        .find(|e| e["stream_descriptor"]["name"] == "Contact")
        .expect("a TRACE ERROR for Contact");
    assert!(message_of(contact_error).contains("INSUFFICIENT_ACCESS"));
    assert_eq!(contact_error["failure_type"], "config_error");
    assert_exactly_once(&org, &run, "Account");
    assert_exactly_once(&org, &run, "Lead");
}
