//! `destination write` through the real binary against the emulator: each operation, per-row
//! errors routed to the dead-letter queue, STATE gating, and the org afterwards.

use crate::support::destination::{
    account_inserts, catalog, dlq_lines, record_line, state_line, Harness,
};
use serde_json::{json, Value};

fn by_name<'a>(records: &'a [Value], prefix: &str) -> Vec<&'a Value> {
    let mut out: Vec<&Value> = records
        .iter()
        .filter(|r| r["Name"].as_str().is_some_and(|n| n.starts_with(prefix)))
        .collect();
    out.sort_by_key(|r| r["Name"].as_str().unwrap_or("").to_string());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inserts_land_in_the_org_and_the_state_is_echoed_verbatim_with_stats() {
    let h = Harness::start().await;
    let cat = account_inserts(
        "scores",
        &["Name", "AnnualRevenue", "NumberOfEmployees", "Description"],
    );
    let mut input = String::new();
    input += &record_line(
        "scores",
        json!({"Name": "T1 Alpha", "AnnualRevenue": 1.5E7, "NumberOfEmployees": 42}),
    );
    input += &record_line(
        "scores",
        json!({"Name": "T1 Beta, \"quoted\"", "Description": "line1\nline2"}),
    );
    input += &record_line(
        "scores",
        json!({"Name": "T1 Gamma", "AnnualRevenue": 12345678.25}),
    );
    input += &state_line("scores", 7, json!("2024-05-01"));
    input += "{\"type\":\"TRACE\",\"trace\":{\"type\":\"STREAM_STATUS\",\"emitted_at\":1.0,\"stream_status\":{\"stream_descriptor\":{\"name\":\"scores\"},\"status\":\"COMPLETE\"}}}\n";
    let run = h.write(&h.config(json!({})), &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}\n{:?}", run.stderr, run.stdout);
    let states = run.all_states();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0]["id"], 7);
    assert_eq!(states[0]["stream"]["stream_state"]["cursor"], "2024-05-01");
    assert_eq!(states[0]["sourceStats"]["recordCount"], 1.0);
    assert_eq!(
        states[0]["destinationStats"],
        json!({"recordCount": 3.0, "rejectedRecordCount": 0.0})
    );

    let accounts = h.records("Account", false).await;
    let mine = by_name(&accounts, "T1 ");
    assert_eq!(mine.len(), 3, "{mine:?}");
    assert_eq!(mine[0]["Name"], "T1 Alpha");
    assert_eq!(mine[0]["AnnualRevenue"].as_f64(), Some(15_000_000.0));
    assert_eq!(mine[0]["NumberOfEmployees"], 42);
    assert_eq!(mine[1]["Name"], "T1 Beta, \"quoted\"");
    assert_eq!(mine[1]["Description"], "line1\nline2");
    assert_eq!(mine[2]["AnnualRevenue"].as_f64(), Some(12_345_678.25));
    assert!(dlq_lines(&h.dlq_folder()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyairbyte_lower_cased_streams_without_object_name_are_inserted() {
    let h = Harness::start().await;
    let cat = catalog(&[(
        "account",
        None,
        "overwrite",
        None,
        &[
            "name",
            "numberofemployees",
            "_airbyte_raw_id",
            "_airbyte_extracted_at",
            "_airbyte_meta",
        ],
    )]);
    let mut input = String::new();
    for i in 0..5 {
        input += &record_line(
            "account",
            json!({"name": format!("T2 {i}"), "numberofemployees": i, "_airbyte_raw_id": format!("r{i}"),
                   "_airbyte_extracted_at": "2024-05-01T00:00:00Z", "_airbyte_meta": {"changes": []}}),
        );
    }
    input += &json!({"type": "STATE", "state": {"type": "STREAM", "stream": {"stream_descriptor": {"name": "account"}, "stream_state": {"x": 1}}}}).to_string();
    input += "\n";
    let run = h.write(&h.config(json!({})), &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.all_states().len(), 1);
    assert!(run.all_states()[0].get("id").is_none());
    let accounts = h.records("Account", false).await;
    assert_eq!(by_name(&accounts, "T2 ").len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_by_id_changes_only_the_given_fields_and_null_clears() {
    let h = Harness::start().await;
    let id = h
        .create(
            "Account",
            json!({"Name": "T3 Before", "Phone": "555-0100", "NumberOfEmployees": 10}),
        )
        .await;
    let cat = catalog(&[(
        "fixes",
        Some("Account"),
        "update",
        None,
        &["Id", "Name", "Phone", "NumberOfEmployees"],
    )]);
    let input = record_line(
        "fixes",
        json!({"Id": id, "Name": "T3 After", "Phone": null}),
    );
    let run = h.write(&h.config(json!({})), &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let record = h.record("Account", &id).await;
    assert_eq!(record["Name"], "T3 After");
    assert_eq!(record["Phone"], Value::Null, "null sets null (#N/A)");
    assert_eq!(
        record["NumberOfEmployees"], 10,
        "absent key leaves the value alone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upsert_on_an_external_id_creates_and_updates() {
    let h = Harness::start().await;
    let existing = h
        .create(
            "Product_Catalog__c",
            json!({"Name": "T4 Old", "External_Id__c": "T4-KEEP", "Price__c": 1.0}),
        )
        .await;
    let cat = catalog(&[(
        "products",
        Some("Product_Catalog__c"),
        "append_dedup",
        Some("external_id__c"),
        &[
            "external_id__c",
            "name",
            "price__c",
            "launch_date__c",
            "in_stock__c",
        ],
    )]);
    let mut input = String::new();
    input += &record_line(
        "products",
        json!({"external_id__c": "T4-KEEP", "name": "T4 Updated", "price__c": "19.99"}),
    );
    input += &record_line(
        "products",
        json!({"external_id__c": "T4-NEW", "name": "T4 New", "price__c": 5, "launch_date__c": "2024-06-01", "in_stock__c": true}),
    );
    let run = h.write(&h.config(json!({})), &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let products = h.records("Product_Catalog__c", false).await;
    let kept: Vec<&Value> = products
        .iter()
        .filter(|p| p["External_Id__c"] == "T4-KEEP")
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["Id"], existing);
    assert_eq!(kept[0]["Name"], "T4 Updated");
    assert_eq!(kept[0]["Price__c"].as_f64(), Some(19.99));
    let new: Vec<&Value> = products
        .iter()
        .filter(|p| p["External_Id__c"] == "T4-NEW")
        .collect();
    assert_eq!(new.len(), 1);
    assert_eq!(new[0]["Launch_Date__c"], "2024-06-01");
    assert_eq!(new[0]["In_Stock__c"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soft_delete_moves_records_to_the_recycle_bin() {
    let h = Harness::start().await;
    let a = h.create("Account", json!({"Name": "T5 Doomed A"})).await;
    let b = h.create("Account", json!({"Name": "T5 Doomed B"})).await;
    let keep = h.create("Account", json!({"Name": "T5 Kept"})).await;
    let cat = catalog(&[(
        "gone",
        Some("Account"),
        "soft_delete",
        None,
        &["Id", "Name"],
    )]);
    let input = record_line("gone", json!({"Id": a, "Name": "ignored"}))
        + &record_line("gone", json!({"id": b}));
    let run = h.write(&h.config(json!({})), &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(h.record("Account", &a).await["IsDeleted"], true);
    assert_eq!(h.record("Account", &b).await["IsDeleted"], true);
    assert_eq!(h.record("Account", &keep).await["IsDeleted"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_cannot_be_converted_go_to_the_dead_letter_queue_and_the_sync_goes_on() {
    let h = Harness::start().await;
    let cat = account_inserts("scores", &["Name", "NumberOfEmployees"]);
    let mut input = String::new();
    input += &record_line("scores", json!({"Name": "T6 Good"}));
    input += &record_line(
        "scores",
        json!({"Name": "T6 Bad number", "NumberOfEmployees": "many"}),
    );
    input += &record_line("scores", json!({"Name": "T6 Extra", "Unknown__c": 1}));
    input += &state_line("scores", 1, json!(1));
    let run = h.write(&h.config(json!({})), &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.all_states()[0]["destinationStats"],
        json!({"recordCount": 1.0, "rejectedRecordCount": 2.0})
    );
    let accounts = h.records("Account", false).await;
    assert_eq!(by_name(&accounts, "T6 ").len(), 1);
    let lines = dlq_lines(&h.dlq_folder());
    assert_eq!(lines.len(), 2, "{lines:?}");
    let codes: Vec<&str> = lines
        .iter()
        .map(|l| l["error_code"].as_str().unwrap())
        .collect();
    assert!(
        codes.contains(&"INVALID_VALUE") && codes.contains(&"FIELD_NOT_IN_CATALOG"),
        "{codes:?}"
    );
    for line in &lines {
        assert_eq!(line["stream"], "scores");
        assert_eq!(line["object"], "Account");
        assert_eq!(line["operation"], "insert");
        assert!(line["record"]["Name"].as_str().unwrap().starts_with("T6 "));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_salesforce_rejects_go_to_the_dead_letter_queue_with_its_error() {
    let h = Harness::start().await;
    let deleted = h.create("Account", json!({"Name": "T7 Deleted"})).await;
    h.http
        .delete(format!(
            "{}/__emulator/records/Account/{deleted}",
            h.emulator.base_url()
        ))
        .send()
        .await
        .unwrap();
    let cat = catalog(&[
        (
            "new_accounts",
            Some("Account"),
            "append",
            None,
            &["Name", "Description"],
        ),
        (
            "fix_accounts",
            Some("Account"),
            "update",
            None,
            &["Id", "Name"],
        ),
    ]);
    let mut input = String::new();
    input += &record_line("new_accounts", json!({"Name": "T7 Fine"}));
    input += &record_line("new_accounts", json!({"Description": "no name"}));
    input += &record_line("new_accounts", json!({"Name": "x".repeat(300)}));
    input += &record_line(
        "fix_accounts",
        json!({"Id": "001NOTANID", "Name": "T7 Bad id"}),
    );
    input += &record_line(
        "fix_accounts",
        json!({"Id": deleted, "Name": "T7 Deleted again"}),
    );
    input += &state_line("new_accounts", 1, json!(1));
    let run = h.write(&h.config(json!({})), &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.all_states()[0]["destinationStats"],
        json!({"recordCount": 1.0, "rejectedRecordCount": 2.0})
    );
    let lines = dlq_lines(&h.dlq_folder());
    assert_eq!(lines.len(), 4, "{lines:#?}");
    let mut codes: Vec<String> = lines
        .iter()
        .map(|l| l["error_code"].as_str().unwrap().to_string())
        .collect();
    codes.sort();
    assert!(
        codes.contains(&"REQUIRED_FIELD_MISSING".to_string()),
        "{codes:?}"
    );
    assert!(codes.contains(&"STRING_TOO_LONG".to_string()), "{codes:?}");
    assert!(codes.contains(&"MALFORMED_ID".to_string()), "{codes:?}");
    assert!(
        codes.contains(&"ENTITY_IS_DELETED".to_string()),
        "{codes:?}"
    );
    for line in &lines {
        assert!(
            line["job_id"].as_str().unwrap().starts_with("750"),
            "{line}"
        );
        assert_eq!(line["attempt"], 1);
        assert!(line["time"].as_str().is_some());
        assert!(
            !line["error_message"].as_str().unwrap().is_empty(),
            "{line}"
        );
    }
    let accounts = h.records("Account", false).await;
    assert_eq!(by_name(&accounts, "T7 Fine").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_catalog_that_does_not_match_salesforce_fails_before_any_job() {
    let h = Harness::start().await;
    let cat = catalog(&[
        ("a", Some("NoSuchObject__c"), "append", None, &["Name"]),
        (
            "b",
            Some("Account"),
            "append",
            None,
            &["Name", "CreatedDate"],
        ),
        (
            "c",
            Some("Product_Catalog__c"),
            "append_dedup",
            None,
            &["Name"],
        ),
    ]);
    let run = h
        .write(
            &h.config(json!({})),
            &cat,
            &record_line("a", json!({"Name": "x"})),
        )
        .await;
    assert_ne!(run.code, Some(0));
    let errors = run.trace_errors();
    assert_eq!(errors.len(), 1, "{:?}", run.stdout);
    let error = &errors[0];
    assert_eq!(error["failure_type"], "config_error");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("NoSuchObject__c"), "{message}");
    assert!(message.contains("Account.CreatedDate"), "{message}");
    assert!(message.contains("primary_key"), "{message}");
    assert!(run.all_states().is_empty());
    let jobs = h
        .requests()
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap_or("").contains("/jobs/ingest"))
        .count();
    assert_eq!(jobs, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_state_is_not_echoed_when_the_records_before_it_were_not_committed() {
    let h = Harness::start().await;
    // Every job creation is refused for good: nothing can be committed.
    h.add_fault(
        json!({"method": "POST", "path": "*/jobs/ingest*", "type": "status", "status": 400,
                       "error_code": "INVALID_FIELD", "when": "always"}),
    )
    .await;
    let cat = account_inserts("scores", &["Name"]);
    let input =
        record_line("scores", json!({"Name": "T9 Never"})) + &state_line("scores", 3, json!(1));
    let run = h.write(&h.config(json!({})), &cat, &input).await;
    assert_ne!(run.code, Some(0));
    assert!(run.all_states().is_empty(), "{:?}", run.stdout);
    assert_eq!(run.trace_errors().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn states_between_batches_are_released_in_order_as_their_batches_commit() {
    let h = Harness::start().await;
    let cat = account_inserts("scores", &["Name"]);
    let mut input = String::new();
    for chunk in 0..4 {
        for i in 0..25 {
            input += &record_line("scores", json!({"Name": format!("T10 {chunk}-{i:02}")}));
        }
        input += &state_line("scores", chunk, json!(chunk));
    }
    // Tiny batches: several jobs, states released as they complete.
    let run = h
        .write(&h.config(json!({"batch_size_bytes": 200})), &cat, &input)
        .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let ids = run.state_ids();
    assert_eq!(ids, [0, 1, 2, 3]);
    for state in run.all_states() {
        assert_eq!(state["destinationStats"]["recordCount"], 25.0);
    }
    let accounts = h.records("Account", false).await;
    assert_eq!(by_name(&accounts, "T10 ").len(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_state_sends_unfilled_batches_after_state_flush_seconds() {
    use std::process::Stdio;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let h = Harness::start().await;
    let cat = account_inserts("scores", &["Name"]);
    let config = h.write_file("config.json", &h.config(json!({"state_flush_seconds": 1})));
    let catalog = h.write_file("catalog.json", &cat);
    let mut child = tokio::process::Command::new(crate::support::run::BINARY)
        .args(["destination", "write", "--config"])
        .arg(&config)
        .arg("--catalog")
        .arg(&catalog)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("binary starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut input = record_line("scores", json!({"Name": "Flush 1"}));
    input += &record_line("scores", json!({"Name": "Flush 2"}));
    input += &state_line("scores", 1, json!(1));
    stdin.write_all(input.as_bytes()).await.unwrap();
    stdin.flush().await.unwrap();
    // stdin stays open and the batch is far from full: only the flush interval sends it.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let state = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains(r#""type":"STATE""#) {
                return line;
            }
        }
        panic!("stdout closed before any STATE");
    })
    .await
    .expect("the STATE is echoed while stdin is still open");
    let state: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["state"]["id"], 1);
    assert_eq!(state["state"]["destinationStats"]["recordCount"], 2.0);
    let accounts = h.records("Account", false).await;
    assert_eq!(
        by_name(&accounts, "Flush ").len(),
        2,
        "committed before the echo"
    );
    drop(stdin);
    while lines.next_line().await.unwrap().is_some() {}
    assert_eq!(child.wait().await.unwrap().code(), Some(0));
}
