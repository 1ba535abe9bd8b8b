//! Faults on the Bulk ingest path, through HTTP: which fault, where, and what must hold after it
//! — every row is either in the org once or reported unprocessed/failed, none duplicated.

use crate::support::ingest::{
    call, create_job, org_count, result_ids, results, run_job, wait_terminal,
};
use crate::support::Harness;
use reqwest::Method;
use serde_json::json;

const INSERT_ACCOUNTS: &str = r#"{"object":"Account","operation":"insert"}"#;

fn rows(prefix: &str, n: usize) -> String {
    let mut csv = String::from("Name\n");
    for i in 0..n {
        csv.push_str(&format!("{prefix} {i}\n"));
    }
    csv
}

/// Live Accounts whose Name starts with `prefix`, through the admin API.
async fn names_in_org(h: &Harness, prefix: &str) -> Vec<String> {
    let (_, body) = h
        .admin(Method::GET, "/records/Account?limit=10000", None)
        .await;
    body["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["Name"].as_str())
        .filter(|n| n.starts_with(prefix))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn job_failed_fault_stops_halfway_with_the_rest_unprocessed() {
    let h = Harness::default().await;
    let (status, _) = h
        .admin(
            Method::POST,
            "/faults",
            Some(json!({"method": "POST", "path": "/services/data/*/jobs/ingest", "type": "job_failed",
                        "message": "InternalServerError : Failure during batch processing", "when": "once"})),
        )
        .await;
    assert_eq!(status, 201);
    let (id, info) = run_job(&h, INSERT_ACCOUNTS, &rows("Halfway", 10)).await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        info["errorMessage"],
        "InternalServerError : Failure during batch processing"
    );
    assert_eq!(info["numberRecordsProcessed"], 5);
    let unprocessed = results(&h, &id, "unprocessedrecords").await;
    assert_eq!(
        unprocessed.lines().skip(1).collect::<Vec<_>>(),
        [
            "\"Halfway 5\"",
            "\"Halfway 6\"",
            "\"Halfway 7\"",
            "\"Halfway 8\"",
            "\"Halfway 9\""
        ]
    );
    let mut in_org = names_in_org(&h, "Halfway").await;
    in_org.sort();
    assert_eq!(
        in_org,
        (0..5).map(|i| format!("Halfway {i}")).collect::<Vec<_>>()
    );
    // Resubmitting the unprocessed rows completes the load without duplicates.
    let (_, retry) = run_job(&h, INSERT_ACCOUNTS, &unprocessed).await;
    assert_eq!(retry["state"], "JobComplete");
    assert_eq!(names_in_org(&h, "Halfway").await.len(), 10);
}

#[tokio::test]
async fn job_aborted_fault_ends_aborted_with_unprocessed_rows() {
    let h = Harness::default().await;
    h.admin(
        Method::POST,
        "/faults",
        Some(json!({"method": "POST", "path": "*/jobs/ingest", "type": "job_aborted", "when": "once"})),
    )
    .await;
    let (id, info) = run_job(&h, INSERT_ACCOUNTS, &rows("Aborting", 4)).await;
    assert_eq!(info["state"], "Aborted");
    assert_eq!(info["numberRecordsProcessed"], 2);
    assert_eq!(
        results(&h, &id, "unprocessedrecords").await.lines().count(),
        3
    );
    assert_eq!(names_in_org(&h, "Aborting").await.len(), 2);
}

#[tokio::test]
async fn ingest_fault_after_n_rows_set_through_the_admin_api() {
    let h = Harness::default().await;
    let (status, body) = h
        .admin(
            Method::PUT,
            "/ingest-faults",
            Some(json!([{"object": "Account", "interruption": {"after_rows": 3, "kind": {"type": "fail", "message": "InvalidBatch : Failed partway"}}}])),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (id, info) = run_job(&h, INSERT_ACCOUNTS, &rows("Partway", 5)).await;
    assert_eq!(
        (
            info["state"].clone(),
            info["numberRecordsProcessed"].clone()
        ),
        (json!("Failed"), json!(3))
    );
    assert_eq!(
        results(&h, &id, "unprocessedrecords").await,
        "\"Name\"\n\"Partway 3\"\n\"Partway 4\"\n"
    );
    // Other objects are not affected.
    let (_, contacts) = run_job(
        &h,
        r#"{"object":"Contact","operation":"insert"}"#,
        "LastName\nA\nB\nC\nD\n",
    )
    .await;
    assert_eq!(contacts["state"], "JobComplete");
}

#[tokio::test]
async fn unable_to_lock_row_fails_every_nth_row_and_a_retry_lands_them() {
    let h = Harness::default().await;
    h.admin(
        Method::PUT,
        "/write-rules",
        Some(json!({"lock_row_faults": [{"object": "Account", "every_nth": 3}]})),
    )
    .await;
    let (id, info) = run_job(&h, INSERT_ACCOUNTS, &rows("Locked", 6)).await;
    assert_eq!(info["numberRecordsFailed"], 2);
    let failed = results(&h, &id, "failedResults").await;
    assert_eq!(
        failed,
        "\"sf__Id\",\"sf__Error\",\"Name\"\n\
         \"\",\"UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--\",\"Locked 2\"\n\
         \"\",\"UNABLE_TO_LOCK_ROW:unable to obtain exclusive access to this record:--\",\"Locked 5\"\n"
    );
    h.admin(Method::PUT, "/write-rules", Some(json!({}))).await;
    let retry: String = failed
        .lines()
        .skip(1)
        .map(|l| format!("{}\n", l.rsplit(',').next().unwrap()))
        .collect();
    let (_, again) = run_job(&h, INSERT_ACCOUNTS, &format!("Name\n{retry}")).await;
    assert_eq!(again["numberRecordsFailed"], 0);
    let mut names = names_in_org(&h, "Locked").await;
    names.sort();
    assert_eq!(
        names,
        (0..6).map(|i| format!("Locked {i}")).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn server_error_on_upload_then_retry_uploads_once() {
    let h = Harness::default().await;
    h.admin(
        Method::POST,
        "/faults",
        Some(json!({"method": "PUT", "path": "/services/data/*/jobs/ingest/*/batches", "type": "status", "status": 503,
                    "error_code": "SERVER_UNAVAILABLE", "when": "once"})),
    )
    .await;
    let id = create_job(&h, INSERT_ACCOUNTS).await;
    let path = format!("/jobs/ingest/{id}/batches");
    let first = call(&h, Method::PUT, &path, "text/csv", &rows("Retried", 3)).await;
    assert_eq!(first.status, 503);
    assert_eq!(first.json()[0]["errorCode"], "SERVER_UNAVAILABLE");
    let second = call(&h, Method::PUT, &path, "text/csv", &rows("Retried", 3)).await;
    assert_eq!(
        second.status, 201,
        "the failed upload stored nothing: {}",
        second.text
    );
    call(
        &h,
        Method::PATCH,
        &format!("/jobs/ingest/{id}"),
        "application/json",
        r#"{"state":"UploadComplete"}"#,
    )
    .await;
    assert_eq!(wait_terminal(&h, &id).await["numberRecordsProcessed"], 3);
    assert_eq!(names_in_org(&h, "Retried").await.len(), 3);
}

#[tokio::test]
async fn cut_connection_while_polling_and_downloading_loses_nothing() {
    let h = Harness::default().await;
    let before = org_count(&h, "Account").await;
    let id = create_job(&h, INSERT_ACCOUNTS).await;
    call(
        &h,
        Method::PUT,
        &format!("/jobs/ingest/{id}/batches"),
        "text/csv",
        &rows("Cut", 50),
    )
    .await;
    call(
        &h,
        Method::PATCH,
        &format!("/jobs/ingest/{id}"),
        "application/json",
        r#"{"state":"UploadComplete"}"#,
    )
    .await;
    h.admin(
        Method::POST,
        "/faults",
        Some(json!({"method": "GET", "path": "/services/data/*/jobs/ingest/*", "type": "cut_connection", "after_bytes": 20, "when": "once"})),
    )
    .await;
    let polled = h
        .client
        .get(h.data(&format!("/jobs/ingest/{id}")))
        .bearer_auth(&h.token)
        .send()
        .await;
    let cut = match polled {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(cut, "the poll's connection was cut");
    assert_eq!(wait_terminal(&h, &id).await["numberRecordsProcessed"], 50);

    h.admin(
        Method::POST,
        "/faults",
        Some(json!({"method": "GET", "path": "*/successfulResults", "type": "cut_connection", "after_bytes": 100, "when": "once"})),
    )
    .await;
    let download = h
        .client
        .get(h.data(&format!("/jobs/ingest/{id}/successfulResults")))
        .bearer_auth(&h.token)
        .send()
        .await;
    let cut = match download {
        Err(_) => true,
        Ok(r) => r.text().await.is_err(),
    };
    assert!(cut, "the download's connection was cut");
    let whole = results(&h, &id, "successfulResults").await;
    let ids = result_ids(&whole);
    assert_eq!(ids.len(), 50);
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 50, "no record twice");
    assert_eq!(org_count(&h, "Account").await, before + 50);
}
