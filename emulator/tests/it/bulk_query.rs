//! Bulk API 2.0 query jobs through HTTP: lifecycle, result pages and their CSV dialect,
//! refusals, limits and faults.

use std::time::Duration;

use crate::support::{Harness, V};
use reqwest::Method;
use serde_json::{json, Value};
use sf_emulator::EmulatorConfig;

async fn create(h: &Harness, body: Value) -> (u16, Value) {
    let r = h
        .client
        .post(h.data("/jobs/query"))
        .bearer_auth(&h.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

async fn job(h: &Harness, id: &str) -> Value {
    h.get_json(&format!("/jobs/query/{id}")).await.1
}

/// Downloads every page: (headers of each page, bodies).
async fn pages(h: &Harness, id: &str, max_records: usize) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    let mut locator: Option<String> = None;
    loop {
        let mut path = format!("/jobs/query/{id}/results?maxRecords={max_records}");
        if let Some(l) = &locator {
            path.push_str(&format!("&locator={l}"));
        }
        let r = h.get(&path).await;
        assert_eq!(r.status(), 200);
        let next = r.headers()["sforce-locator"].to_str().unwrap().to_string();
        let count: usize = r.headers()["sforce-numberofrecords"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let body = r.text().await.unwrap();
        out.push((next.clone(), count, body));
        if next == "null" {
            return out;
        }
        locator = Some(next);
    }
}

#[tokio::test]
async fn job_lifecycle_and_paged_results() {
    let h = Harness::default().await;
    let (s, created) = create(&h, json!({"operation": "query", "query": "SELECT Id, Name, AnnualRevenue, CreatedDate, IsDeleted FROM Account"})).await;
    assert_eq!(s, 200, "{created}");
    let keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "operation",
            "object",
            "createdById",
            "createdDate",
            "systemModstamp",
            "state",
            "concurrencyMode",
            "contentType",
            "apiVersion",
            "jobType",
            "lineEnding",
            "columnDelimiter"
        ]
    );
    assert_eq!(created["state"], "UploadComplete");
    assert_eq!(created["apiVersion"], json!(62.0));
    let id = created["id"].as_str().unwrap();
    assert!(id.starts_with("750") && id.len() == 18);
    let info = job(&h, id).await;
    assert_eq!(info["state"], "JobComplete");
    assert_eq!(info["numberRecordsProcessed"], 200);
    let pages = pages(&h, id, 75).await;
    assert_eq!(pages.iter().map(|p| p.1).collect::<Vec<_>>(), [75, 75, 50]);
    assert_eq!(pages[0].0, "NzU");
    for (_, count, body) in &pages {
        let mut lines = body.split('\n');
        assert_eq!(
            lines.next().unwrap(),
            "\"Id\",\"Name\",\"AnnualRevenue\",\"CreatedDate\",\"IsDeleted\""
        );
        let rows: Vec<&str> = lines.filter(|l| l.starts_with("\"001")).collect();
        assert_eq!(rows.len(), *count);
        let cells: Vec<&str> = rows[0].split("\",\"").collect();
        assert!(cells[3].ends_with(".000Z"), "{}", rows[0]);
        assert!(
            cells[2].contains('.') || cells[2].contains('E'),
            "{}",
            rows[0]
        );
        assert!(rows[0].ends_with("\"false\""));
    }
    let r = h
        .client
        .delete(h.data(&format!("/jobs/query/{id}")))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(r.bytes().await.unwrap().is_empty());
    assert_eq!(h.get(&format!("/jobs/query/{id}")).await.status(), 404);
}

#[tokio::test]
async fn jobs_progress_over_the_configured_time_and_abort_and_delete_follow_state() {
    let h = Harness::start(EmulatorConfig {
        bulk_job_time: Duration::from_secs(30),
        ..EmulatorConfig::default()
    })
    .await;
    let (_, created) = create(
        &h,
        json!({"operation": "queryAll", "query": "SELECT Id FROM Contact"}),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(job(&h, &id).await["state"], "InProgress");
    let r = h.get(&format!("/jobs/query/{id}/results")).await;
    assert_eq!(r.status(), 400);
    let r = h
        .client
        .delete(h.data(&format!("/jobs/query/{id}")))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"message": "Error encountered when deleting the job because the job is not terminated", "errorCode": "API_ERROR"}])
    );
    h.emulator.clock().advance(chrono::Duration::seconds(30));
    assert_eq!(job(&h, &id).await["state"], "JobComplete");

    let (_, other) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id FROM Lead"}),
    )
    .await;
    let other = other["id"].as_str().unwrap().to_string();
    let r = h
        .client
        .patch(h.data(&format!("/jobs/query/{other}")))
        .bearer_auth(&h.token)
        .json(&json!({"state": "Aborted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "Aborted");
    let (_, listed) = h.get_json("/jobs/query?jobType=V2Query").await;
    assert_eq!(listed["done"], true);
    assert_eq!(listed["records"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn every_delimiter_and_crlf_are_honoured() {
    let h = Harness::default().await;
    for (name, sep) in [
        ("BACKQUOTE", "`"),
        ("CARET", "^"),
        ("COMMA", ","),
        ("PIPE", "|"),
        ("SEMICOLON", ";"),
        ("TAB", "\t"),
    ] {
        let (s, created) = create(&h, json!({"operation": "query", "query": "SELECT Id, Name FROM Campaign", "columnDelimiter": name, "lineEnding": "CRLF"})).await;
        assert_eq!(s, 200, "{created}");
        let id = created["id"].as_str().unwrap();
        let body = pages(&h, id, 1000).await.remove(0).2;
        assert!(
            body.starts_with(&format!("\"Id\"{sep}\"Name\"\r\n")),
            "{name}: {body:?}"
        );
    }
    let (s, body) = create(&h, json!({"operation": "query", "query": "SELECT Id FROM Campaign", "columnDelimiter": "SPACE"})).await;
    assert_eq!(s, 400);
    assert!(body[0]["message"].as_str().unwrap().contains("SPACE"));
}

#[tokio::test]
async fn documented_refusals_have_their_exact_bodies() {
    let h = Harness::default().await;
    let (s, body) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id, BillingAddress FROM Account"}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        body,
        json!([{"message": "Selecting compound data not supported in Bulk Query", "errorCode": "API_ERROR"}])
    );
    let (_, body) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id, Location__c FROM Store__c"}),
    )
    .await;
    assert_eq!(
        body[0]["message"],
        "Selecting compound data not supported in Bulk Query"
    );
    let (_, body) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id, MasterLabel FROM CaseStatus"}),
    )
    .await;
    assert_eq!(
        body,
        json!([{"message": "Entity 'CaseStatus' is not supported by the Bulk API.", "errorCode": "INVALIDENTITY"}])
    );
    let (_, body) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id, (SELECT Id FROM Contacts) FROM Account"}),
    )
    .await;
    assert_eq!(body[0]["errorCode"], "API_ERROR");
    assert_eq!(
        body[0]["message"],
        "Aggregate Relationships not supported in Bulk V2 Query with CSV content type"
    );
    let (s, body) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id, VersionData FROM ContentVersion"}),
    )
    .await;
    assert_eq!(
        (s, body[0]["errorCode"].as_str().unwrap()),
        (400, "API_ERROR")
    );
    let (s, body) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id, Nope FROM Account"}),
    )
    .await;
    assert_eq!(
        (s, body[0]["errorCode"].as_str().unwrap()),
        (400, "INVALID_FIELD")
    );
    let (s, _) = create(
        &h,
        json!({"operation": "upsert", "query": "SELECT Id FROM Account"}),
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn daily_query_job_limit_is_enforced() {
    let h = Harness::start(EmulatorConfig {
        daily_bulk_query_jobs: 1,
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(
        create(
            &h,
            json!({"operation": "query", "query": "SELECT Id FROM Account"})
        )
        .await
        .0,
        200
    );
    let (s, body) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id FROM Account"}),
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(
        body[0]["message"],
        "Max bulk v2 query jobs (1) per 24 hrs has been reached"
    );
    let (_, limits) = h.get_json("/limits").await;
    assert_eq!(
        limits["DailyBulkV2QueryJobs"],
        json!({"Max": 1, "Remaining": 0})
    );
}

#[tokio::test]
async fn query_all_results_include_soft_deleted_rows() {
    let h = Harness::default().await;
    let (_, list) = h
        .admin(Method::GET, "/records/Opportunity?limit=1", None)
        .await;
    let id = list["records"][0]["Id"].as_str().unwrap().to_string();
    h.admin(Method::DELETE, &format!("/records/Opportunity/{id}"), None)
        .await;
    for (operation, expected) in [("query", 299), ("queryAll", 300)] {
        let (_, created) = create(
            &h,
            json!({"operation": operation, "query": "SELECT Id, IsDeleted FROM Opportunity"}),
        )
        .await;
        let info = job(&h, created["id"].as_str().unwrap()).await;
        assert_eq!(info["numberRecordsProcessed"], expected, "{operation}");
    }
}

#[tokio::test]
async fn job_fault_ends_failed_with_its_message() {
    let h = Harness::default().await;
    h.admin(Method::POST, "/faults", Some(json!({"method": "POST", "path": "*/jobs/query", "type": "job_failed", "message": "InternalServerError : boom", "when": "once"}))).await;
    let (_, created) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id FROM Account"}),
    )
    .await;
    let info = job(&h, created["id"].as_str().unwrap()).await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(info["errorMessage"], "InternalServerError : boom");
    h.admin(Method::POST, "/faults", Some(json!({"method": "POST", "path": "*/jobs/query", "type": "job_aborted", "when": "once"}))).await;
    let (_, created) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id FROM Account"}),
    )
    .await;
    assert_eq!(
        job(&h, created["id"].as_str().unwrap()).await["state"],
        "Aborted"
    );
}

#[tokio::test]
async fn truncated_page_fault_sends_part_of_the_csv() {
    let h = Harness::default().await;
    let (_, created) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id, Name FROM Account"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    job(&h, id).await;
    let full = h
        .get(&format!("/jobs/query/{id}/results"))
        .await
        .text()
        .await
        .unwrap();
    h.admin(Method::POST, "/faults", Some(json!({"path": "*/results", "type": "truncate_body", "keep_percent": 50, "when": "once"}))).await;
    let r = h.get(&format!("/jobs/query/{id}/results")).await;
    assert_eq!(r.headers()["sforce-numberofrecords"], "200");
    let cut = r.text().await.unwrap();
    assert_eq!(cut.len(), full.len() / 2);
    assert!(full.starts_with(&cut));
}

#[tokio::test]
async fn results_are_gzipped_when_asked_and_identical_across_same_seed_orgs() {
    let a = Harness::default().await;
    let b = Harness::default().await;
    let mut bodies = Vec::new();
    for h in [&a, &b] {
        let (_, created) = create(h, json!({"operation": "query", "query": "SELECT Id, Name, Email, Birthdate, Description, CreatedDate FROM Contact WHERE CreatedDate > 2025-01-01T00:00:00Z"})).await;
        let id = created["id"].as_str().unwrap();
        job(h, id).await;
        bodies.push(
            h.get(&format!("/jobs/query/{id}/results"))
                .await
                .bytes()
                .await
                .unwrap(),
        );
        let r = h
            .client
            .get(h.data(&format!("/jobs/query/{id}/results")))
            .bearer_auth(&h.token)
            .header("Accept-Encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(r.headers()["content-encoding"], "gzip");
        assert_eq!(r.headers()["sforce-locator"], "null");
    }
    assert_eq!(bodies[0], bodies[1]);
}

#[tokio::test]
async fn results_read_through_another_api_version_conflict() {
    let h = Harness::default().await;
    let (_, created) = create(
        &h,
        json!({"operation": "query", "query": "SELECT Id FROM Account"}),
    )
    .await;
    let id = created["id"].as_str().unwrap();
    let r = h
        .client
        .get(h.url(&format!("/services/data/v60.0/jobs/query/{id}/results")))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(V.starts_with("v62"));
}

#[tokio::test]
async fn bulk_csv_and_rest_json_agree_on_every_value() {
    let h = Harness::default().await;
    let fields = "Id, Name, External_Id__c, Price__c, Weight_Kg__c, Units_Sold__c, In_Stock__c, Launch_Date__c, Notes__c, Channels__c, CreatedDate";
    let soql = format!("SELECT {fields} FROM Product_Catalog__c");
    let (_, created) = create(&h, json!({"operation": "query", "query": soql})).await;
    let id = created["id"].as_str().unwrap();
    job(&h, id).await;
    let body = pages(&h, id, 1000).await.remove(0).2;
    let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 100);
    let encoded: String = soql
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let (_, rest) = h.get_json(&format!("/query?q={encoded}")).await;
    let by_id: std::collections::HashMap<&str, &Value> = rest["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["Id"].as_str().unwrap(), r))
        .collect();
    let mut tricky = 0;
    for row in &rows {
        let record = by_id[&row[0]];
        for (i, name) in header.iter().enumerate() {
            let cell = &row[i];
            let value = &record[name.as_str()];
            match value {
                Value::Null => assert_eq!(cell, "", "{name}"),
                Value::String(s) if name == "CreatedDate" => {
                    assert_eq!(cell.replace('Z', "+0000"), *s);
                }
                Value::String(s) => {
                    assert_eq!(cell, s, "{name}");
                    tricky += ["NA", "N/A", "NULL", "None", "#N/A"].contains(&s.as_str()) as usize;
                }
                Value::Bool(b) => assert_eq!(cell, b.to_string(), "{name}"),
                Value::Number(n) => {
                    assert_eq!(cell.parse::<f64>().unwrap(), n.as_f64().unwrap(), "{name}");
                }
                other => panic!("{name}: {other}"),
            }
        }
    }
    assert!(tricky > 0, "null-looking strings travel as strings");
}

#[tokio::test]
async fn gzipped_pages_decode_to_the_identity_bytes() {
    let h = Harness::default().await;
    let (_, created) = create(&h, json!({"operation": "query", "query": "SELECT Id, Name, Email__c, Notes__c, Last_Seen__c FROM Bench_Record__c"})).await;
    let id = created["id"].as_str().unwrap();
    job(&h, id).await;
    let path = format!("/jobs/query/{id}/results?maxRecords=900");
    let plain = h.get(&path).await.bytes().await.unwrap();
    let raw = h
        .client
        .get(h.data(&path))
        .bearer_auth(&h.token)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.headers()["content-encoding"], "gzip");
    assert_eq!(raw.headers()["sforce-numberofrecords"], "900");
    let compressed = raw.bytes().await.unwrap();
    assert!(compressed.len() < plain.len() / 2);
    let mut decoded = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&compressed[..]),
        &mut decoded,
    )
    .unwrap();
    assert_eq!(decoded, plain);
    let client = reqwest::Client::builder().gzip(true).build().unwrap();
    let transparent = client
        .get(h.data(&path))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(transparent, plain);
}
