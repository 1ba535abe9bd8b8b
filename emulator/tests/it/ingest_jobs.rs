//! Bulk API 2.0 ingest jobs through HTTP against the generated org: job info, states over the
//! configured processing time, results files, dialects, upsert, deletes, limits and refusals.

use std::time::Duration;

use crate::support::ingest::{
    call, create_job, org_count, org_record, result_ids, results, run_job, wait_terminal,
};
use crate::support::Harness;
use reqwest::Method;
use serde_json::{json, Value};
use sf_emulator::EmulatorConfig;

const INSERT_ACCOUNTS: &str =
    r#"{"object":"Account","operation":"insert","contentType":"CSV","lineEnding":"LF"}"#;

#[tokio::test]
async fn insert_job_applies_rows_and_reports_them() {
    let h = Harness::default().await;
    let before = org_count(&h, "Account").await;
    let create = call(
        &h,
        Method::POST,
        "/jobs/ingest",
        "application/json",
        INSERT_ACCOUNTS,
    )
    .await;
    assert_eq!(
        (create.status, create.content_type.as_str()),
        (200, "application/json;charset=UTF-8")
    );
    let info = create.json();
    let keys: Vec<&str> = info
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
            "contentUrl",
            "lineEnding",
            "columnDelimiter"
        ]
    );
    assert_eq!(info["apiVersion"], json!(62.0));
    assert_eq!(info["state"], "Open");
    let id = info["id"].as_str().unwrap();
    let content_url = info["contentUrl"].as_str().unwrap();
    assert_eq!(
        content_url,
        format!("services/data/v62.0/jobs/ingest/{id}/batches")
    );

    let put = h
        .client
        .put(format!("{}/{content_url}", h.emulator.base_url()))
        .bearer_auth(&h.token)
        .header("Content-Type", "text/csv")
        .body("Name,NumberOfEmployees,AnnualRevenue,Industry\nAcme Bulk,42,1.5E6,Banking\n,7,,\n")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201);
    assert_eq!(put.text().await.unwrap(), "");
    let closed = call(
        &h,
        Method::PATCH,
        &format!("/jobs/ingest/{id}"),
        "application/json",
        r#"{"state":"UploadComplete"}"#,
    )
    .await;
    assert_eq!(closed.json()["state"], "UploadComplete");
    let info = wait_terminal(&h, id).await;
    assert_eq!(info["state"], "JobComplete");
    assert_eq!(info["jobType"], "V2Ingest");
    assert_eq!(
        (
            info["numberRecordsProcessed"].clone(),
            info["numberRecordsFailed"].clone()
        ),
        (json!(2), json!(1))
    );

    let ok = results(&h, id, "successfulResults").await;
    assert!(ok.starts_with("\"sf__Id\",\"sf__Created\",\"Name\",\"NumberOfEmployees\",\"AnnualRevenue\",\"Industry\"\n"));
    assert!(
        ok.ends_with(",\"true\",\"Acme Bulk\",\"42\",\"1.5E6\",\"Banking\"\n"),
        "{ok}"
    );
    let failed = results(&h, id, "failedResults").await;
    assert_eq!(
        failed,
        "\"sf__Id\",\"sf__Error\",\"Name\",\"NumberOfEmployees\",\"AnnualRevenue\",\"Industry\"\n\
         \"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --\",\"\",\"7\",\"\",\"\"\n"
    );
    assert_eq!(
        results(&h, id, "unprocessedrecords").await,
        "\"Name\",\"NumberOfEmployees\",\"AnnualRevenue\",\"Industry\"\n"
    );

    // The org holds the row, with the audit fields kept.
    let new_id = &result_ids(&ok)[0];
    let (status, record) = org_record(&h, "Account", new_id).await;
    assert_eq!(status, 200);
    assert_eq!(record["Name"], "Acme Bulk");
    assert_eq!(record["NumberOfEmployees"], 42);
    assert_eq!(record["AnnualRevenue"], 1_500_000.0);
    assert_eq!(record["LastModifiedById"], info["createdById"]);
    assert_eq!(record["OwnerId"], info["createdById"]);
    assert!(record["SystemModstamp"].is_string() && record["LastModifiedDate"].is_string());
    assert_eq!(org_count(&h, "Account").await, before + 1);

    // The read side sees it at once.
    let read = call(
        &h,
        Method::GET,
        &format!("/sobjects/Account/{new_id}"),
        "",
        "",
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json()["Name"], "Acme Bulk");
    let q = call(
        &h,
        Method::GET,
        "/query?q=SELECT+Id,NumberOfEmployees+FROM+Account+WHERE+Name+=+'Acme+Bulk'",
        "",
        "",
    )
    .await;
    assert_eq!(q.json()["totalSize"], 1, "{}", q.text);
    assert_eq!(q.json()["records"][0]["Id"], new_id.as_str());
    assert_eq!(q.json()["records"][0]["NumberOfEmployees"], 42);
}

#[tokio::test]
async fn states_follow_the_configured_processing_time_on_the_org_clock() {
    let h = Harness::start(EmulatorConfig {
        bulk_job_time: Duration::from_secs(60),
        ..EmulatorConfig::default()
    })
    .await;
    let id = create_job(&h, INSERT_ACCOUNTS).await;
    let state = |info: Value| info["state"].as_str().unwrap().to_string();
    let path = format!("/jobs/ingest/{id}");
    let get = || call(&h, Method::GET, &path, "", "");
    assert_eq!(state(get().await.json()), "Open");
    call(
        &h,
        Method::PUT,
        &format!("/jobs/ingest/{id}/batches"),
        "text/csv",
        "Name\nTimed\n",
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
    assert_eq!(state(get().await.json()), "UploadComplete");
    h.admin(Method::POST, "/clock", Some(json!({"advance_seconds": 30})))
        .await;
    let in_progress = get().await.json();
    assert_eq!(state(in_progress.clone()), "InProgress");
    assert_eq!(in_progress["numberRecordsProcessed"], 0);
    h.admin(Method::POST, "/clock", Some(json!({"advance_seconds": 30})))
        .await;
    let done = get().await.json();
    assert_eq!(state(done.clone()), "JobComplete");
    assert_eq!(done["numberRecordsProcessed"], 1);
    assert_eq!(done["totalProcessingTime"], 60_000);
}

#[tokio::test]
async fn every_column_delimiter_and_line_ending_round_trips() {
    let h = Harness::default().await;
    for (name, sep) in [
        ("BACKQUOTE", '`'),
        ("CARET", '^'),
        ("COMMA", ','),
        ("PIPE", '|'),
        ("SEMICOLON", ';'),
        ("TAB", '\t'),
    ] {
        for (ending, eol) in [("LF", "\n"), ("CRLF", "\r\n")] {
            let body = format!(
                r#"{{"object":"Account","operation":"insert","columnDelimiter":"{name}","lineEnding":"{ending}"}}"#
            );
            let tricky = format!("{name} {ending} \"quoted\"{sep} multi\nline");
            let csv = format!(
                "Name{sep}Description{eol}\"{}\"{sep}plain{eol}",
                tricky.replace('"', "\"\"")
            );
            let (id, info) = run_job(&h, &body, &csv).await;
            assert_eq!(info["state"], "JobComplete", "{name}/{ending}: {info}");
            assert_eq!(info["columnDelimiter"], name);
            assert_eq!(info["lineEnding"], ending);
            let ok = results(&h, &id, "successfulResults").await;
            let header =
                format!("\"sf__Id\"{sep}\"sf__Created\"{sep}\"Name\"{sep}\"Description\"{eol}");
            assert!(ok.starts_with(&header), "{name}/{ending}: {ok:?}");
            assert!(
                ok.ends_with(&format!(
                    "{sep}\"true\"{sep}\"{}\"{sep}\"plain\"{eol}",
                    tricky.replace('"', "\"\"")
                )),
                "{ok:?}"
            );
            let new_id = ok[header.len() + 1..header.len() + 19].to_string();
            let (_, record) = org_record(&h, "Account", &new_id).await;
            assert_eq!(record["Name"], tricky.as_str());
        }
    }
}

#[tokio::test]
async fn upsert_creates_updates_and_refuses_duplicate_keys() {
    let h = Harness::default().await;
    let body = r#"{"object":"Product_Catalog__c","operation":"upsert","externalIdFieldName":"External_Id__c"}"#;
    let (first, _) = run_job(&h, body, "External_Id__c,Name,Price__c\nUP-1,One,10\n").await;
    let one = result_ids(&results(&h, &first, "successfulResults").await)[0].clone();
    let (id, info) = run_job(
        &h,
        body,
        "External_Id__c,Name\nup-1,One again\nUP-2,Two\nUP-3,Three\nup-3,Three bis\n",
    )
    .await;
    assert_eq!(info["externalIdFieldName"], "External_Id__c");
    assert_eq!(
        (
            info["numberRecordsProcessed"].clone(),
            info["numberRecordsFailed"].clone()
        ),
        (json!(4), json!(2))
    );
    let ok = results(&h, &id, "successfulResults").await;
    assert!(
        ok.contains(&format!("\"{one}\",\"false\",\"up-1\",\"One again\"")),
        "{ok}"
    );
    assert!(ok.contains(",\"true\",\"UP-2\",\"Two\""), "{ok}");
    let failed = results(&h, &id, "failedResults").await;
    assert!(failed.contains("\"\",\"DUPLICATE_VALUE:Duplicate external id specified: UP-3:External_Id__c --\",\"UP-3\",\"Three\""), "{failed}");
    assert!(failed.contains("\"\",\"DUPLICATE_VALUE:Duplicate external id specified: up-3:External_Id__c --\",\"up-3\",\"Three bis\""), "{failed}");
    let (_, record) = org_record(&h, "Product_Catalog__c", &one).await;
    assert_eq!(record["Name"], "One again");
    assert_eq!(
        record["Price__c"], 10.0,
        "an upsert leaves absent columns unchanged"
    );

    // Two org records holding one key: the upsert cannot choose.
    let (_, a) = h
        .admin(
            Method::POST,
            "/records/Product_Catalog__c",
            Some(json!({"Name": "A", "External_Id__c": "TWIN-A"})),
        )
        .await;
    let (_, b) = h
        .admin(
            Method::POST,
            "/records/Product_Catalog__c",
            Some(json!({"Name": "B", "External_Id__c": "TWIN-B"})),
        )
        .await;
    let (a, b) = (
        a["id"].as_str().unwrap().to_string(),
        b["id"].as_str().unwrap().to_string(),
    );
    h.admin(
        Method::PATCH,
        &format!("/records/Product_Catalog__c/{b}"),
        Some(json!({"External_Id__c": "TWIN-A"})),
    )
    .await;
    let (id, _) = run_job(&h, body, "External_Id__c,Name\nTWIN-A,Which\n").await;
    assert_eq!(
        results(&h, &id, "failedResults").await,
        format!("\"sf__Id\",\"sf__Error\",\"External_Id__c\",\"Name\"\n\"\",\"DUPLICATE_EXTERNAL_ID:External Id: more than one record found for external id field: [{a}, {b}]:External_Id__c --\",\"TWIN-A\",\"Which\"\n")
    );
}

#[tokio::test]
async fn relationship_column_sets_the_reference_by_the_parents_external_id() {
    let h = Harness::default().await;
    let (accounts, _) = run_job(&h, INSERT_ACCOUNTS, "Name\nSupplier Co\n").await;
    let supplier = result_ids(&results(&h, &accounts, "successfulResults").await)[0].clone();
    let body = r#"{"object":"Product_Catalog__c","operation":"insert"}"#;
    let (id, _) = run_job(
        &h,
        body,
        &format!("Name,Supplier__r.Id\nWith supplier,{supplier}\nNo such,001000000000000AAA\n"),
    )
    .await;
    let product = result_ids(&results(&h, &id, "successfulResults").await)[0].clone();
    let (_, record) = org_record(&h, "Product_Catalog__c", &product).await;
    assert_eq!(record["Supplier__c"], supplier.as_str());
    assert!(results(&h, &id, "failedResults").await.contains(
        "\"INVALID_FIELD:Foreign key external ID: 001000000000000AAA not found for field Id in entity Account:--\""
    ));
    // Contacts name their account through the Account relationship and an idLookup field.
    let (id, info) = run_job(
        &h,
        r#"{"object":"Contact","operation":"insert"}"#,
        &format!("LastName,Account.Id\nDoe,{supplier}\n"),
    )
    .await;
    assert_eq!(
        info["numberRecordsFailed"],
        0,
        "{}",
        results(&h, &id, "failedResults").await
    );
}

#[tokio::test]
async fn update_changes_given_cells_and_na_nulls_a_field() {
    let h = Harness::default().await;
    let (created, _) = run_job(
        &h,
        INSERT_ACCOUNTS,
        "Name,Website,Industry\nTo Update,www.a.com,Banking\n",
    )
    .await;
    let account = result_ids(&results(&h, &created, "successfulResults").await)[0].clone();
    let (_, before) = org_record(&h, "Account", &account).await;
    h.admin(Method::POST, "/clock", Some(json!({"advance_seconds": 5})))
        .await;
    let body = r#"{"object":"Account","operation":"update"}"#;
    let (id, info) = run_job(
        &h,
        body,
        &format!("Id,Name,Website,Industry\n{account},Updated,#N/A,\n"),
    )
    .await;
    assert_eq!(info["numberRecordsFailed"], 0);
    assert!(results(&h, &id, "successfulResults")
        .await
        .contains(&format!("\"{account}\",\"false\"")));
    let (_, after) = org_record(&h, "Account", &account).await;
    assert_eq!(after["Name"], "Updated");
    assert_eq!(after["Website"], Value::Null);
    assert_eq!(
        after["Industry"], "Banking",
        "an empty cell leaves the field unchanged"
    );
    assert_ne!(after["SystemModstamp"], before["SystemModstamp"]);
    assert_ne!(after["LastModifiedDate"], before["LastModifiedDate"]);
}

#[tokio::test]
async fn delete_goes_to_the_recycle_bin_and_hard_delete_to_the_deletion_log() {
    let h = Harness::default().await;
    let (created, _) = run_job(&h, INSERT_ACCOUNTS, "Name\nSoft\nHard\n").await;
    let ids = result_ids(&results(&h, &created, "successfulResults").await);
    let (soft, _) = run_job(
        &h,
        r#"{"object":"Account","operation":"delete"}"#,
        &format!("Id\n{}\n", ids[0]),
    )
    .await;
    assert_eq!(
        results(&h, &soft, "successfulResults").await,
        format!(
            "\"sf__Id\",\"sf__Created\",\"Id\"\n\"{0}\",\"false\",\"{0}\"\n",
            ids[0]
        )
    );
    let (_, record) = org_record(&h, "Account", &ids[0]).await;
    assert_eq!(record["IsDeleted"], true);
    let soql = format!("SELECT+Id,IsDeleted+FROM+Account+WHERE+Id+=+'{}'", ids[0]);
    let live = call(&h, Method::GET, &format!("/query?q={soql}"), "", "").await;
    assert_eq!(
        live.json()["totalSize"],
        0,
        "query no longer sees it: {}",
        live.text
    );
    let all = call(&h, Method::GET, &format!("/queryAll?q={soql}"), "", "").await;
    assert_eq!(all.json()["records"][0]["IsDeleted"], true, "{}", all.text);

    let (hard, info) = run_job(
        &h,
        r#"{"object":"Account","operation":"hardDelete"}"#,
        &format!("Id\n{}\n", ids[1]),
    )
    .await;
    assert_eq!(info["operation"], "hardDelete");
    assert_eq!(
        info["numberRecordsFailed"],
        0,
        "{}",
        results(&h, &hard, "failedResults").await
    );
    let (status, _) = org_record(&h, "Account", &ids[1]).await;
    assert_eq!(status, 404, "a hard-deleted record is gone");
    let (_, now) = h.admin(Method::GET, "/clock", None).await;
    let now =
        chrono::DateTime::parse_from_str(now["now"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.3f%z")
            .unwrap();
    let (start, end) = (
        (now - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (now + chrono::Duration::minutes(2)).format("%Y-%m-%dT%H:%M:%SZ"),
    );
    let deleted = call(
        &h,
        Method::GET,
        &format!("/sobjects/Account/deleted/?start={start}&end={end}"),
        "",
        "",
    )
    .await;
    assert!(deleted.text.contains(&ids[1]), "{}", deleted.text);

    let (again, _) = run_job(
        &h,
        r#"{"object":"Account","operation":"delete"}"#,
        &format!("Id\n{}\n", ids[0]),
    )
    .await;
    assert!(results(&h, &again, "failedResults")
        .await
        .contains("\"ENTITY_IS_DELETED:entity is deleted:--\""));
    let (mixed, info) = run_job(
        &h,
        r#"{"object":"Account","operation":"delete"}"#,
        &format!("Id,Name\n{},X\n", ids[0]),
    )
    .await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : The 'delete' batch must contain only ids"
    );
    assert!(results(&h, &mixed, "unprocessedrecords")
        .await
        .ends_with("\"X\"\n"));
}

#[tokio::test]
async fn unknown_column_fails_the_job_before_any_row() {
    let h = Harness::default().await;
    let before = org_count(&h, "Account").await;
    let (id, info) = run_job(&h, INSERT_ACCOUNTS, "Name,Not_A_Field__c\nA,1\n").await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(
        info["errorMessage"],
        "InvalidBatch : Field name not found : Not_A_Field__c"
    );
    assert_eq!(info["numberRecordsProcessed"], 0);
    assert_eq!(
        results(&h, &id, "unprocessedrecords").await,
        "\"Name\",\"Not_A_Field__c\"\n\"A\",\"1\"\n"
    );
    assert_eq!(org_count(&h, "Account").await, before);
}

#[tokio::test]
async fn job_creation_refusals_have_salesforce_error_bodies() {
    let h = Harness::default().await;
    let refuse =
        |body: &'static str| call(&h, Method::POST, "/jobs/ingest", "application/json", body);
    let r = refuse(r#"{"object":"Nope__c","operation":"insert"}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!([{"errorCode": "INVALIDENTITY", "message": "Entity 'Nope__c' is not supported by the Bulk API."}])
    );
    let r = refuse(r#"{"object":"Account","operation":"upsert"}"#).await;
    assert_eq!(
        r.json()[0]["message"],
        "External ID was blank for Account. An External ID must be specified for upsert."
    );
    let r = refuse(r#"{"object":"Account","operation":"insert","lineEnding":"CR"}"#).await;
    assert_eq!(
        r.json()[0]["message"],
        "lineEnding: expected LF or CRLF, got \"CR\""
    );
    let r = refuse(r#"{"object":"Account"}"#).await;
    assert_eq!(r.json()[0]["message"], "operation: required");
    let unauthenticated = h
        .client
        .post(h.data("/jobs/ingest"))
        .body(INSERT_ACCOUNTS)
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

#[tokio::test]
async fn upload_is_one_csv_put_within_the_documented_size() {
    let h = Harness::start(EmulatorConfig {
        write: sf_emulator::WriteConfig {
            max_upload_base64_bytes: 64,
            ..Default::default()
        },
        ..EmulatorConfig::default()
    })
    .await;
    let id = create_job(&h, INSERT_ACCOUNTS).await;
    let batches = format!("/jobs/ingest/{id}/batches");
    let wrong_type = call(&h, Method::PUT, &batches, "application/json", "Name\nA\n").await;
    assert_eq!(wrong_type.status, 400);
    assert_eq!(wrong_type.json()[0]["errorCode"], "INVALIDCONTENTTYPE");
    let big = format!("Name\n{}\n", "x".repeat(60));
    let too_big = call(&h, Method::PUT, &batches, "text/csv", &big).await;
    assert_eq!(too_big.status, 413);
    assert_eq!(too_big.json()[0]["errorCode"], "EXCEEDED_MAX_SIZE_REQUEST");
    assert_eq!(
        call(&h, Method::PUT, &batches, "text/csv", "Name\nA\n")
            .await
            .status,
        201
    );
    let second = call(&h, Method::PUT, &batches, "text/csv", "Name\nB\n").await;
    assert_eq!(second.status, 400);
    assert!(second.json()[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("Found multiple contents for job"));
    call(
        &h,
        Method::PATCH,
        &format!("/jobs/ingest/{id}"),
        "application/json",
        r#"{"state":"UploadComplete"}"#,
    )
    .await;
    assert_eq!(
        call(&h, Method::PUT, &batches, "text/csv", "Name\nC\n")
            .await
            .status,
        409
    );
}

#[tokio::test]
async fn abort_list_and_delete_jobs() {
    let h = Harness::default().await;
    let before = org_count(&h, "Account").await;
    let id = create_job(&h, INSERT_ACCOUNTS).await;
    call(
        &h,
        Method::PUT,
        &format!("/jobs/ingest/{id}/batches"),
        "text/csv",
        "Name\nNever\n",
    )
    .await;
    let open_delete = call(&h, Method::DELETE, &format!("/jobs/ingest/{id}"), "", "").await;
    assert_eq!(open_delete.status, 400);
    let aborted = call(
        &h,
        Method::PATCH,
        &format!("/jobs/ingest/{id}"),
        "application/json",
        r#"{"state":"Aborted"}"#,
    )
    .await;
    assert_eq!(aborted.json()["state"], "Aborted");
    assert_eq!(wait_terminal(&h, &id).await["state"], "Aborted");
    assert_eq!(
        results(&h, &id, "unprocessedrecords").await,
        "\"Name\"\n\"Never\"\n"
    );
    assert_eq!(org_count(&h, "Account").await, before);
    let list = call(&h, Method::GET, "/jobs/ingest", "", "").await.json();
    assert_eq!(list["done"], true);
    assert!(list["records"]
        .as_array()
        .unwrap()
        .iter()
        .any(|j| j["id"] == id.as_str() && j["state"] == "Aborted"));
    let deleted = call(&h, Method::DELETE, &format!("/jobs/ingest/{id}"), "", "").await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    let gone = call(&h, Method::GET, &format!("/jobs/ingest/{id}"), "", "").await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.json(),
        json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}])
    );
}

#[tokio::test]
async fn daily_ingest_allocation_is_counted_and_enforced() {
    let h = Harness::start(EmulatorConfig {
        write: sf_emulator::WriteConfig {
            daily_ingest_records: 3,
            ..Default::default()
        },
        token_lifetime: Duration::from_secs(48 * 3600),
        ..EmulatorConfig::default()
    })
    .await;
    let (id, info) = run_job(&h, INSERT_ACCOUNTS, "Name\nA\nB\nC\nD\n").await;
    assert_eq!(info["state"], "Failed");
    assert_eq!(info["numberRecordsProcessed"], 3);
    assert!(info["errorMessage"]
        .as_str()
        .unwrap()
        .starts_with("ExceededQuota"));
    assert_eq!(
        results(&h, &id, "unprocessedrecords").await,
        "\"Name\"\n\"D\"\n"
    );
    let refused = call(
        &h,
        Method::POST,
        "/jobs/ingest",
        "application/json",
        INSERT_ACCOUNTS,
    )
    .await;
    assert_eq!(
        (refused.status, refused.json()[0]["errorCode"].clone()),
        (400, json!("LIMIT_EXCEEDED"))
    );
    let limits = call(&h, Method::GET, "/limits", "", "").await.json();
    assert_eq!(
        limits["DailyBulkApiBatches"],
        json!({"Max": 15000, "Remaining": 14999})
    );
    h.admin(
        Method::POST,
        "/clock",
        Some(json!({"advance_seconds": 24 * 3600 + 1})),
    )
    .await;
    assert_eq!(
        call(
            &h,
            Method::POST,
            "/jobs/ingest",
            "application/json",
            INSERT_ACCOUNTS
        )
        .await
        .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_job_is_processed_in_the_background_without_polling() {
    let h = Harness::default().await;
    let before = org_count(&h, "Account").await;
    let mut csv = String::from("Name\n");
    for i in 0..25_000 {
        csv.push_str(&format!("Background {i}\n"));
    }
    let id = create_job(&h, INSERT_ACCOUNTS).await;
    call(
        &h,
        Method::PUT,
        &format!("/jobs/ingest/{id}/batches"),
        "text/csv",
        &csv,
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
    // Only the admin API is called: the job must progress on its own.
    let mut count = before;
    for _ in 0..4_000 {
        count = org_count(&h, "Account").await;
        if count == before + 25_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(count, before + 25_000);
    let info = call(&h, Method::GET, &format!("/jobs/ingest/{id}"), "", "")
        .await
        .json();
    assert_eq!(
        (
            info["state"].clone(),
            info["numberRecordsProcessed"].clone()
        ),
        (json!("JobComplete"), json!(25_000))
    );
}
