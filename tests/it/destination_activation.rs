//! Data activation through the real binary against the emulator: lookups set through their
//! parent's external id (relationship columns), hard delete, dry run, only-changed writes and
//! the per-record outcome report, each checked against the org afterwards.

use crate::support::admin_api::json_reply;
use crate::support::destination::{
    catalog, dlq_lines, operation, product_upserts, record_line, state_line, Harness,
};
use crate::support::run::{message_of, Run};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relationship_columns_link_parents_by_external_id_and_missing_parents_go_to_the_dlq() {
    let h = Harness::start().await;
    let parent = h
        .create(
            "Account",
            json!({"Name": "R1 Parent", "External_Id__c": "R1-PARENT"}),
        )
        .await;
    let other = h
        .create(
            "Account",
            json!({"Name": "R1 Other", "External_Id__c": "R1-OTHER"}),
        )
        .await;
    for name in ["R1 Dup A", "R1 Dup B"] {
        h.create("Account", json!({"Name": name, "External_Id__c": "R1-DUP"}))
            .await;
    }
    let lead = h
        .create(
            "Lead",
            json!({"LastName": "R1", "Company": "R1 Co", "Email": "r1-lead@example.com"}),
        )
        .await;
    let contact = h.create("Contact", json!({"LastName": "R1 Contact"})).await;
    let cat = catalog(&[
        // PyAirbyte's lower-case spelling of a custom lookup's relationship column.
        (
            "stores",
            Some("Store__c"),
            "append",
            None,
            &["name", "account__r.external_id__c"],
        ),
        (
            "contact_fixes",
            Some("Contact"),
            "update",
            None,
            &["Id", "Account.External_Id__c"],
        ),
        product_upserts(
            "products",
            &["External_Id__c", "Name", "Supplier__r.External_Id__c"],
        ),
        // A polymorphic lookup names the parent's type.
        (
            "calls",
            Some("Task"),
            "append",
            None,
            &["Subject", "Lead:Who.Email"],
        ),
    ]);
    let mut input = String::new();
    input += &record_line(
        "stores",
        json!({"name": "R1 Store linked", "account__r.external_id__c": "R1-PARENT"}),
    );
    input += &record_line(
        "stores",
        json!({"name": "R1 Store orphan", "account__r.external_id__c": "R1-NOBODY"}),
    );
    input += &record_line(
        "stores",
        json!({"name": "R1 Store ambiguous", "account__r.external_id__c": "R1-DUP"}),
    );
    input += &record_line(
        "contact_fixes",
        json!({"Id": contact, "Account.External_Id__c": "R1-OTHER"}),
    );
    input += &record_line(
        "products",
        json!({"External_Id__c": "R1-PROD", "Name": "R1 Product", "Supplier__r.External_Id__c": "R1-PARENT"}),
    );
    input += &record_line(
        "calls",
        json!({"Subject": "R1 Call", "Lead:Who.Email": "r1-lead@example.com"}),
    );
    input += &state_line("stores", 1, json!(1));
    let run = h.write(&h.config(json!({})), &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}\n{:?}", run.stderr, run.stdout);
    assert_eq!(run.all_states().len(), 1);
    assert_eq!(
        run.all_states()[0]["destinationStats"],
        json!({"recordCount": 1.0, "rejectedRecordCount": 2.0})
    );

    let stores = h.records("Store__c", false).await;
    let store = |name: &str| stores.iter().find(|s| s["Name"] == name).cloned();
    assert_eq!(store("R1 Store linked").unwrap()["Account__c"], parent);
    assert!(store("R1 Store orphan").is_none());
    assert!(store("R1 Store ambiguous").is_none());
    assert_eq!(h.record("Contact", &contact).await["AccountId"], other);
    let products = h.records("Product_Catalog__c", false).await;
    let product = products
        .iter()
        .find(|p| p["External_Id__c"] == "R1-PROD")
        .unwrap();
    assert_eq!(product["Supplier__c"], parent);
    let tasks = h.records("Task", false).await;
    let task = tasks.iter().find(|t| t["Subject"] == "R1 Call").unwrap();
    assert_eq!(task["WhoId"], lead);

    // Missing and ambiguous parents are Salesforce's row errors, with its codes.
    let lines = dlq_lines(&h.dlq_folder());
    assert_eq!(lines.len(), 2, "{lines:?}");
    let code_of = |name: &str| {
        lines
            .iter()
            .find(|l| l["record"]["name"] == name)
            .map(|l| l["error_code"].as_str().unwrap().to_string())
            .unwrap()
    };
    assert_eq!(code_of("R1 Store orphan"), "INVALID_FIELD");
    assert_eq!(code_of("R1 Store ambiguous"), "DUPLICATE_EXTERNAL_ID");
    let jobs: Vec<Value> = h
        .requests()
        .await
        .into_iter()
        .filter(|r| {
            r["method"] == "POST" && r["path"].as_str().unwrap_or("").ends_with("/jobs/ingest")
        })
        .collect();
    assert_eq!(jobs.len(), 4, "one job per stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relationship_columns_salesforce_would_refuse_fail_the_catalog_before_any_job() {
    let h = Harness::start().await;
    let cat = catalog(&[
        ("a", Some("Task"), "append", None, &["Subject", "Who.Email"]),
        (
            "b",
            Some("Contact"),
            "append",
            None,
            &["LastName", "Account:Account.External_Id__c"],
        ),
        (
            "c",
            Some("Contact"),
            "append",
            None,
            &["LastName", "Account.Name"],
        ),
        (
            "d",
            Some("Contact"),
            "append",
            None,
            &["LastName", "AccountId", "Account.External_Id__c"],
        ),
    ]);
    let run = h.write(&h.config(json!({})), &cat, "").await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    let message = run.trace_errors()[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    for expected in [
        "'Who' (WhoId) is polymorphic: write '<Type>:Who.Email' with <Type> one of Contact, Lead",
        "type is not needed for non polymorphic foreign key references",
        "only external-id and idLookup fields can",
        "both name the field 'Contact.AccountId'",
    ] {
        assert!(message.contains(expected), "{expected}: {message}");
    }
    let jobs = h
        .requests()
        .await
        .into_iter()
        .filter(|r| r["path"].as_str().unwrap_or("").contains("/jobs/ingest"))
        .count();
    assert_eq!(jobs, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_lists_each_objects_relationship_columns() {
    let operations = Harness::start().await.discovered_operations().await;
    let properties = |object: &str, mode: &str| {
        operation(&operations, object, mode)["json_schema"]["properties"].clone()
    };
    let store = properties("Store__c", "append");
    assert_eq!(
        store["Account__r.External_Id__c"]["description"],
        "Sets Account__c to the Account whose External_Id__c is this value"
    );
    let task = properties("Task", "append");
    assert!(task["Lead:Who.Email"].is_object(), "{task}");
    assert!(task["Contact:Who.Email"].is_object(), "{task}");
    // User is not writable here, but its idLookup Username still names an owner.
    assert!(task["Owner.Username"].is_object(), "{task}");
    assert!(properties("Task", "soft_delete")
        .get("Lead:Who.Email")
        .is_none());
}

/// Every Bulk ingest job of the org, as Salesforce lists them (`GET /jobs/ingest`): operation,
/// object and row counts.
async fn ingest_jobs(h: &Harness) -> Vec<Value> {
    let url = format!("{}/services/data/v62.0/jobs/ingest", h.emulator.base_url());
    let reply: Value = json_reply(h.http.get(url).bearer_auth(h.emulator.access_token())).await;
    let mut jobs = Vec::new();
    for job in reply["records"].as_array().unwrap() {
        let url = format!(
            "{}/services/data/v62.0/jobs/ingest/{}",
            h.emulator.base_url(),
            job["id"].as_str().unwrap()
        );
        let info: Value = json_reply(h.http.get(url).bearer_auth(h.emulator.access_token())).await;
        jobs.push(info);
    }
    jobs
}

async fn set_hard_delete_permission(h: &Harness, granted: bool) {
    let url = format!("{}/__emulator/write-rules", h.emulator.base_url());
    let reply = h
        .http
        .put(url)
        .json(&json!({"bulk_api_hard_delete": granted}))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_delete_streams_delete_for_good_and_other_soft_deletes_stay_in_the_recycle_bin() {
    let h = Harness::start().await;
    let purged = h.create("Account", json!({"Name": "H1 Purged"})).await;
    let binned = h.create("Account", json!({"Name": "H1 Binned"})).await;
    let kept = h.create("Account", json!({"Name": "H1 Kept"})).await;
    let cat = catalog(&[
        ("purge", Some("Account"), "soft_delete", None, &["Id"]),
        ("trash", Some("Account"), "soft_delete", None, &["Id"]),
    ]);
    let config = h.config(json!({"hard_delete_streams": ["purge"]}));
    let check = h.check(&config).await;
    assert_eq!(
        check.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"],
        "SUCCEEDED",
        "{}",
        check.stderr
    );
    let input =
        record_line("purge", json!({"Id": purged})) + &record_line("trash", json!({"Id": binned}));
    let run = h.write(&config, &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let everything = h.records("Account", true).await;
    let ids: Vec<&str> = everything
        .iter()
        .map(|r| r["Id"].as_str().unwrap())
        .collect();
    assert!(
        !ids.contains(&purged.as_str()),
        "gone, recycle bin included"
    );
    assert!(ids.contains(&binned.as_str()));
    assert_eq!(h.record("Account", &binned).await["IsDeleted"], true);
    assert_eq!(h.record("Account", &kept).await["IsDeleted"], false);
    let operations: Vec<String> = ingest_jobs(&h)
        .await
        .iter()
        .map(|j| {
            format!(
                "{} {}",
                j["operation"].as_str().unwrap(),
                j["numberRecordsProcessed"]
            )
        })
        .collect();
    assert_eq!(operations.len(), 2, "{operations:?}");
    assert!(
        operations.contains(&"hardDelete 1".to_string()),
        "{operations:?}"
    );
    assert!(
        operations.contains(&"delete 1".to_string()),
        "{operations:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_bulk_api_hard_delete_permission_check_and_write_say_so_and_nothing_is_deleted()
{
    let h = Harness::start().await;
    set_hard_delete_permission(&h, false).await;
    let doomed = h.create("Account", json!({"Name": "H2 Doomed"})).await;

    // Without hard_delete_streams, check does not ask for the permission.
    let plain = h.check(&h.config(json!({}))).await;
    assert_eq!(
        plain.of_type("CONNECTION_STATUS")[0]["connectionStatus"]["status"],
        "SUCCEEDED"
    );
    let config = h.config(json!({"hard_delete_streams": ["purge"]}));
    let check = h.check(&config).await;
    let status = &check.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
    assert_eq!(status["status"], "FAILED");
    let message = message_of(status);
    assert!(message.contains("Bulk API Hard Delete"), "{message}");
    assert!(message.contains("FEATURENOTENABLED"), "{message}");

    let cat = catalog(&[("purge", Some("Account"), "soft_delete", None, &["Id"])]);
    let run = h
        .write(&config, &cat, &record_line("purge", json!({"Id": doomed})))
        .await;
    assert_eq!(run.code, Some(1));
    let error = run.trace_errors()[0].clone();
    assert_eq!(error["failure_type"], "config_error", "{error}");
    assert!(
        message_of(&error)
            .contains("hardDelete operation requires special user profile permission"),
        "{error}"
    );
    assert_eq!(h.record("Account", &doomed).await["IsDeleted"], false);
    assert!(run.all_states().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hard_delete_stream_must_be_a_soft_delete_stream() {
    let h = Harness::start().await;
    let cat = catalog(&[("purge", Some("Account"), "append", None, &["Name"])]);
    let run = h
        .write(
            &h.config(json!({"hard_delete_streams": ["purge"]})),
            &cat,
            "",
        )
        .await;
    assert_eq!(run.code, Some(1));
    let message = run.trace_errors()[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains(
            "'purge' is in hard_delete_streams but its destination_sync_mode is 'append'"
        ),
        "{message}"
    );
}

/// The dry-run input: good rows and rows each rejected for a different reason.
fn dry_run_input() -> String {
    let mut input = String::new();
    for (name, extra) in [
        ("D1 Good A", json!({"Tier__c": "Gold"})),
        ("D1 Good B", json!({"AccountNumber": "D1-B"})),
        ("D1 Long number", json!({"AccountNumber": "x".repeat(41)})),
        ("D1 Platinum", json!({"Tier__c": "Platinum"})),
        ("D1 Bad employees", json!({"NumberOfEmployees": "many"})),
    ] {
        let mut data = json!({"Name": name});
        for (k, v) in extra.as_object().unwrap() {
            data[k] = v.clone();
        }
        input += &record_line("accounts", data);
    }
    input += &record_line("accounts", json!({"AccountNumber": "D1-NONAME"}));
    input += &state_line("accounts", 1, json!("cursor-1"));
    input
}

/// What each rejected input became in a dead-letter queue: (Name or AccountNumber, code).
fn rejected_codes(lines: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            let record = &l["record"];
            let key = record["Name"]
                .as_str()
                .or(record["AccountNumber"].as_str())
                .unwrap()
                .to_string();
            (key, l["error_code"].as_str().unwrap().to_string())
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_writes_nothing_and_its_dlq_and_summary_match_what_the_real_write_rejects() {
    let h = Harness::start().await;
    let cat = catalog(&[(
        "accounts",
        Some("Account"),
        "append",
        None,
        &["Name", "AccountNumber", "Tier__c", "NumberOfEmployees"],
    )]);
    let dry_dlq = h.dir.path().join("dry-dlq");
    let config =
        h.config(json!({"dry_run": true, "dead_letter_folder": dry_dlq.to_string_lossy()}));
    let dry = h.write(&config, &cat, &dry_run_input()).await;
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    // The STATE is echoed, counted as the real write would count it.
    let states = dry.all_states();
    assert_eq!(states.len(), 1);
    assert_eq!(states[0]["stream"]["stream_state"]["cursor"], "cursor-1");
    assert_eq!(
        states[0]["destinationStats"],
        json!({"recordCount": 2.0, "rejectedRecordCount": 4.0})
    );
    // Nothing reached Salesforce: no ingest job, no account.
    assert!(ingest_jobs(&h).await.is_empty());
    let accounts = h.records("Account", false).await;
    assert!(!accounts
        .iter()
        .any(|a| a["Name"].as_str().unwrap_or("").starts_with("D1 ")));
    // The summary sits beside the dead-letter files and is logged.
    assert_eq!(
        summary_of(&dry_dlq)["streams"],
        json!([{"stream": "accounts", "namespace": null, "object": "Account",
                "operation": "insert", "would_insert": 2, "would_reject": 4}])
    );
    assert!(
        dry.logs()
            .iter()
            .any(|l| l.contains("would insert 2, would reject 4")),
        "{:?}",
        dry.logs()
    );
    let dry_lines: Vec<Value> = dlq_lines(&dry_dlq)
        .into_iter()
        .filter(|l| l.get("error_code").is_some())
        .collect();

    // The real write of the same input rejects the same records with the same codes.
    let real = h.write(&h.config(json!({})), &cat, &dry_run_input()).await;
    assert_eq!(real.code, Some(0), "{}", real.stderr);
    assert_eq!(
        real.all_states()[0]["destinationStats"],
        states[0]["destinationStats"]
    );
    let real_lines = dlq_lines(&h.dlq_folder());
    assert_eq!(rejected_codes(&dry_lines), rejected_codes(&real_lines));
    assert_eq!(
        rejected_codes(&dry_lines),
        [
            ("D1 Bad employees".to_string(), "INVALID_VALUE".to_string()),
            ("D1 Long number".to_string(), "STRING_TOO_LONG".to_string()),
            (
                "D1 Platinum".to_string(),
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST".to_string()
            ),
            (
                "D1-NONAME".to_string(),
                "REQUIRED_FIELD_MISSING".to_string()
            ),
        ]
    );
    let accounts = h.records("Account", false).await;
    let written: Vec<&str> = accounts
        .iter()
        .filter_map(|a| a["Name"].as_str())
        .filter(|n| n.starts_with("D1 "))
        .collect();
    assert_eq!(written.len(), 2, "{written:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outcome_report_names_every_input_once_with_its_salesforce_id() {
    let h = Harness::start().await;
    let existing = h
        .create(
            "Product_Catalog__c",
            json!({"Name": "O1 Old", "External_Id__c": "O1-KEEP"}),
        )
        .await;
    let doomed = h.create("Account", json!({"Name": "O1 Doomed"})).await;
    let cat = catalog(&[
        product_upserts("products", &["External_Id__c", "Name", "Price__c"]),
        ("gone", Some("Account"), "soft_delete", None, &["Id"]),
    ]);
    let mut input = String::new();
    input += &record_line(
        "products",
        json!({"External_Id__c": "O1-KEEP", "Name": "O1 Renamed"}),
    );
    input += &record_line(
        "products",
        json!({"External_Id__c": "O1-NEW", "Name": "O1 New"}),
    );
    // Refused by the connector (not a number), and by Salesforce (a new record needs a Name).
    input += &record_line(
        "products",
        json!({"External_Id__c": "O1-BAD", "Name": "O1 Bad", "Price__c": "cheap"}),
    );
    input += &record_line("products", json!({"External_Id__c": "O1-NONAME"}));
    input += &record_line("gone", json!({"Id": doomed}));
    input += &state_line("products", 1, json!(1));
    let dlq = h.dir.path().join("report-dlq");
    let config =
        h.config(json!({"outcome_report": true, "dead_letter_folder": dlq.to_string_lossy()}));
    let run = h.write(&config, &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);

    let lines = outcome_lines(&dlq);
    assert_eq!(lines.len(), 5, "every input once: {lines:?}");
    let line = |key: Value| {
        let found: Vec<&Value> = lines.iter().filter(|l| l["key"] == key).collect();
        assert_eq!(found.len(), 1, "{key}: {lines:?}");
        found[0].clone()
    };
    let kept = line(json!({"External_Id__c": "O1-KEEP"}));
    assert_eq!(kept["outcome"], "updated");
    assert_eq!(kept["salesforce_id"], existing);
    assert_eq!(kept["operation"], "upsert");
    assert_eq!(kept["stream"], "products");
    let new = line(json!({"External_Id__c": "O1-NEW"}));
    assert_eq!(new["outcome"], "created");
    let new_id = new["salesforce_id"].as_str().unwrap();
    assert_eq!(
        h.record("Product_Catalog__c", new_id).await["Name"],
        "O1 New"
    );
    let bad = line(json!({"External_Id__c": "O1-BAD"}));
    assert_eq!(bad["outcome"], "rejected");
    assert_eq!(bad["error_code"], "INVALID_VALUE");
    assert_eq!(bad["salesforce_id"], Value::Null);
    let noname = line(json!({"External_Id__c": "O1-NONAME"}));
    assert_eq!(noname["outcome"], "rejected");
    assert_eq!(noname["error_code"], "REQUIRED_FIELD_MISSING");
    let gone = line(json!({"Id": doomed}));
    assert_eq!(gone["outcome"], "deleted");
    assert_eq!(gone["salesforce_id"], doomed);
    assert_eq!(h.record("Account", &doomed).await["IsDeleted"], true);
}

/// Org and input for `skip_unchanged_records`: an upsert stream whose rows each test one
/// normalisation (or a change), and an update stream keyed by Id.
struct SkipCase {
    input: String,
    catalog: Value,
    supplier_b: String,
    store_same: String,
    store_changed: String,
    ids: std::collections::HashMap<&'static str, String>,
}

async fn skip_case(h: &Harness) -> SkipCase {
    let supplier_a = h
        .create(
            "Account",
            json!({"Name": "U1 Supplier A", "External_Id__c": "U1-SUP-A"}),
        )
        .await;
    let supplier_b = h
        .create(
            "Account",
            json!({"Name": "U1 Supplier B", "External_Id__c": "U1-SUP-B"}),
        )
        .await;
    let mut ids = std::collections::HashMap::new();
    for (key, fields) in [
        (
            "U1-SAME",
            json!({"Name": "Same", "Price__c": 10, "Weight_Kg__c": 1.5, "In_Stock__c": true,
                   "Launch_Date__c": "2024-05-01", "Channels__c": "Online;Retail",
                   "Supplier__c": supplier_a}),
        ),
        ("U1-CHANGED", json!({"Name": "Changed", "Price__c": 10})),
        (
            "U1-NULLED",
            json!({"Name": "Nulled", "Notes__c": "some text"}),
        ),
        ("U1-NULL-SAME", json!({"Name": "Null same"})),
        (
            "U1-PARENT",
            json!({"Name": "Parent", "Supplier__c": supplier_a}),
        ),
        ("U1-PARTIAL", json!({"Name": "Partial", "Price__c": 99})),
    ] {
        let mut fields = fields;
        fields["External_Id__c"] = json!(key);
        ids.insert(key, h.create("Product_Catalog__c", fields).await);
    }
    let store = |employees: i64| {
        json!({"Name": format!("U1 Store {employees}"), "Last_Audit__c": "2024-05-01T10:00:00.000Z",
               "Employees__c": employees, "Format__c": "Outlet"})
    };
    let store_same = h.create("Store__c", store(5)).await;
    let store_changed = h.create("Store__c", store(6)).await;
    let catalog = catalog(&[
        product_upserts(
            "products",
            &[
                "External_Id__c",
                "Name",
                "Price__c",
                "Weight_Kg__c",
                "In_Stock__c",
                "Launch_Date__c",
                "Channels__c",
                "Notes__c",
                "Supplier__r.External_Id__c",
            ],
        ),
        (
            "stores",
            Some("Store__c"),
            "update",
            None,
            &["Id", "Last_Audit__c", "Employees__c", "Format__c"],
        ),
    ]);
    let mut input = String::new();
    for data in [
        // Equal after normalisation: 1.0E1 = 10.0, "1.50" = 1.5, "TRUE" = true, the
        // multi-select in another order, null = no value, the parent by its external id.
        json!({"External_Id__c": "U1-SAME", "Name": "Same", "Price__c": 1.0E1,
               "Weight_Kg__c": "1.50", "In_Stock__c": "TRUE", "Launch_Date__c": "2024-05-01",
               "Channels__c": ["Retail", "Online"], "Notes__c": null,
               "Supplier__r.External_Id__c": "U1-SUP-A"}),
        json!({"External_Id__c": "U1-CHANGED", "Name": "Changed", "Price__c": 11}),
        json!({"External_Id__c": "U1-NULLED", "Name": "Nulled", "Notes__c": null}),
        // An empty string is Salesforce's null too.
        json!({"External_Id__c": "U1-NULL-SAME", "Name": "Null same", "Notes__c": ""}),
        json!({"External_Id__c": "U1-PARENT", "Supplier__r.External_Id__c": "U1-SUP-B"}),
        json!({"External_Id__c": "U1-NEW", "Name": "New"}),
        // Fields the record leaves out are not compared.
        json!({"External_Id__c": "U1-PARTIAL", "Name": "Partial"}),
    ] {
        input += &record_line("products", data);
    }
    // The same instant in another offset, 5.0 for 5, and the 15-character Id.
    input += &record_line(
        "stores",
        json!({"Id": &store_same[..15], "Last_Audit__c": "2024-05-01T12:00:00+02:00",
               "Employees__c": 5.0, "Format__c": "Outlet"}),
    );
    input += &record_line("stores", json!({"Id": store_changed, "Employees__c": 7}));
    input += &state_line("products", 1, json!(1));
    input += &state_line("stores", 2, json!(2));
    SkipCase {
        input,
        catalog,
        supplier_b,
        store_same,
        store_changed,
        ids,
    }
}

fn summary_of(folder: &std::path::Path) -> Value {
    let files = crate::support::files::files_under(folder);
    let found: Vec<Value> = files
        .iter()
        .filter(|(p, _)| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("dry_run_summary_")
        })
        .map(|(_, text)| serde_json::from_str(text).unwrap())
        .collect();
    assert_eq!(found.len(), 1, "{files:?}");
    found[0].clone()
}

/// Every line of the outcome report under `folder`.
fn outcome_lines(folder: &std::path::Path) -> Vec<Value> {
    crate::support::files::files_under(folder)
        .into_iter()
        .filter(|(p, _)| p.to_string_lossy().contains("outcome_report"))
        .flat_map(|(_, text)| {
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn query_job_creations(requests: &[Value]) -> usize {
    requests
        .iter()
        .filter(|r| {
            r["method"] == "POST" && r["path"].as_str().unwrap_or("").ends_with("/jobs/query")
        })
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_unchanged_records_sends_only_rows_that_change_something() {
    let h = Harness::start().await;
    let case = skip_case(&h).await;

    // A dry run predicts the skips (reading, never writing).
    let dry_dlq = h.dir.path().join("dry-dlq");
    let dry_config = h.config(json!({"dry_run": true, "skip_unchanged_records": true,
                                     "dead_letter_folder": dry_dlq.to_string_lossy()}));
    let dry = h.write(&dry_config, &case.catalog, &case.input).await;
    assert_eq!(dry.code, Some(0), "{}\n{:?}", dry.stderr, dry.stdout);
    assert!(ingest_jobs(&h).await.is_empty());
    assert!(query_job_creations(&h.requests().await) >= 2);
    assert_eq!(
        summary_of(&dry_dlq)["streams"],
        json!([
            {"stream": "products", "namespace": null, "object": "Product_Catalog__c",
             "operation": "upsert", "would_upsert": 4, "would_reject": 0,
             "would_skip_unchanged": 3},
            {"stream": "stores", "namespace": null, "object": "Store__c",
             "operation": "update", "would_update": 1, "would_reject": 0,
             "would_skip_unchanged": 1},
        ])
    );
    assert_eq!(
        h.record("Product_Catalog__c", &case.ids["U1-CHANGED"])
            .await["Price__c"],
        10.0
    );

    // The real write sends the four changed products and the changed store, nothing else.
    let dlq = h.dir.path().join("skip-dlq");
    let config = h.config(
        json!({"skip_unchanged_records": true, "outcome_report": true,
                                 "dead_letter_folder": dlq.to_string_lossy()}),
    );
    let h_requests_before = query_job_creations(&h.requests().await);
    let run = h.write(&config, &case.catalog, &case.input).await;
    assert_eq!(run.code, Some(0), "{}\n{:?}", run.stderr, run.stdout);
    let jobs = ingest_jobs(&h).await;
    let rows_of = |object: &str| -> Vec<u64> {
        jobs.iter()
            .filter(|j| j["object"] == object)
            .map(|j| j["numberRecordsProcessed"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(rows_of("Product_Catalog__c"), [4], "{jobs:?}");
    assert_eq!(rows_of("Store__c"), [1], "{jobs:?}");
    let requests = h.requests().await;
    // One lookup per stream, one for the parents the supplier column names.
    assert_eq!(query_job_creations(&requests) - h_requests_before, 3);
    // Skipped rows are durable: the STATEs count them as committed.
    let states = run.all_states();
    assert_eq!(states.len(), 2);
    assert_eq!(
        states[0]["destinationStats"],
        json!({"recordCount": 7.0, "rejectedRecordCount": 0.0})
    );
    assert_eq!(
        states[1]["destinationStats"],
        json!({"recordCount": 2.0, "rejectedRecordCount": 0.0})
    );
    let logs = run.logs();
    for expected in [
        "stream 'products': 3 records skipped as unchanged",
        "stream 'stores': 1 records skipped as unchanged",
    ] {
        assert!(
            logs.iter().any(|l| l.contains(expected)),
            "{expected}: {logs:?}"
        );
    }

    // The org: changes made, nothing else.
    let product = |key: &str| h.record("Product_Catalog__c", &case.ids[key]);
    assert_eq!(product("U1-CHANGED").await["Price__c"], 11.0);
    assert_eq!(product("U1-NULLED").await["Notes__c"], Value::Null);
    assert_eq!(product("U1-PARENT").await["Supplier__c"], case.supplier_b);
    assert_eq!(product("U1-PARTIAL").await["Price__c"], 99.0);
    assert_eq!(
        h.record("Store__c", &case.store_changed).await["Employees__c"],
        7
    );
    assert_eq!(
        h.record("Store__c", &case.store_same).await["Employees__c"],
        5
    );

    // The report names every input once; a skipped row carries its record's Id.
    let lines = outcome_lines(&dlq);
    assert_eq!(lines.len(), 9, "every input once: {lines:?}");
    let outcome = |key: Value| {
        let found: Vec<&Value> = lines.iter().filter(|l| l["key"] == key).collect();
        assert_eq!(found.len(), 1, "{key}: {lines:?}");
        (
            found[0]["outcome"].as_str().unwrap().to_string(),
            found[0]["salesforce_id"].as_str().unwrap_or("").to_string(),
        )
    };
    for key in ["U1-SAME", "U1-NULL-SAME", "U1-PARTIAL"] {
        assert_eq!(
            outcome(json!({"External_Id__c": key})),
            ("skipped_unchanged".to_string(), case.ids[key].clone())
        );
    }
    for key in ["U1-CHANGED", "U1-NULLED", "U1-PARENT"] {
        assert_eq!(
            outcome(json!({"External_Id__c": key})),
            ("updated".to_string(), case.ids[key].clone())
        );
    }
    assert_eq!(outcome(json!({"External_Id__c": "U1-NEW"})).0, "created");
    assert_eq!(
        outcome(json!({"Id": &case.store_same[..15]})),
        ("skipped_unchanged".to_string(), case.store_same.clone())
    );
    assert_eq!(
        outcome(json!({"Id": case.store_changed})),
        ("updated".to_string(), case.store_changed.clone())
    );
}

/// (stream, error code) of every dead-letter line, sorted.
fn codes_by_stream(lines: &[Value]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = lines
        .iter()
        .filter(|l| l.get("error_code").is_some())
        .map(|l| {
            (
                l["stream"].as_str().unwrap().to_string(),
                l["error_code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_predicts_missing_records_and_parents_as_the_real_write_rejects_them() {
    let h = Harness::start().await;
    let contact = h.create("Contact", json!({"LastName": "M1 Contact"})).await;
    h.create(
        "Account",
        json!({"Name": "M1 Parent", "External_Id__c": "M1-PARENT"}),
    )
    .await;
    for name in ["M1 Dup A", "M1 Dup B"] {
        h.create("Account", json!({"Name": name, "External_Id__c": "M1-DUP"}))
            .await;
    }
    let cat = catalog(&[
        (
            "fixes",
            Some("Contact"),
            "update",
            None,
            &["Id", "LastName"],
        ),
        (
            "stores",
            Some("Store__c"),
            "append",
            None,
            &["Name", "Account__r.External_Id__c"],
        ),
        ("gone", Some("Account"), "soft_delete", None, &["Id"]),
    ]);
    // Well-formed ids that name no record.
    let (no_contact, no_account) = ("003000000009999", "001000000009999");
    let mut input = String::new();
    input += &record_line("fixes", json!({"Id": contact, "LastName": "M1 Renamed"}));
    input += &record_line("fixes", json!({"Id": no_contact, "LastName": "M1 Nobody"}));
    for (name, parent) in [
        ("M1 Linked", "M1-PARENT"),
        ("M1 Orphan", "M1-NOBODY"),
        ("M1 Ambiguous", "M1-DUP"),
    ] {
        input += &record_line(
            "stores",
            json!({"Name": name, "Account__r.External_Id__c": parent}),
        );
    }
    input += &record_line("gone", json!({"Id": no_account}));
    input += &state_line("gone", 1, json!(1));

    let dry_dlq = h.dir.path().join("dry-dlq");
    let config =
        h.config(json!({"dry_run": true, "dead_letter_folder": dry_dlq.to_string_lossy()}));
    let dry = h.write(&config, &cat, &input).await;
    assert_eq!(dry.code, Some(0), "{}\n{:?}", dry.stderr, dry.stdout);
    assert!(ingest_jobs(&h).await.is_empty());
    assert_eq!(
        h.record("Contact", &contact).await["LastName"],
        "M1 Contact"
    );
    // One query per stream that names records, one for the parents.
    assert_eq!(query_job_creations(&h.requests().await), 3);
    assert_eq!(
        summary_of(&dry_dlq)["streams"],
        json!([
            {"stream": "fixes", "namespace": null, "object": "Contact", "operation": "update",
             "would_update": 1, "would_reject": 1},
            {"stream": "stores", "namespace": null, "object": "Store__c", "operation": "insert",
             "would_insert": 1, "would_reject": 2},
            {"stream": "gone", "namespace": null, "object": "Account", "operation": "delete",
             "would_delete": 0, "would_reject": 1},
        ])
    );
    let dry_lines: Vec<Value> = dlq_lines(&dry_dlq)
        .into_iter()
        .filter(|l| l.get("error_code").is_some())
        .collect();
    assert!(dry_lines.iter().all(|l| l["error_message"]
        .as_str()
        .unwrap()
        .ends_with("(predicted by dry run)")));
    let predicted = codes_by_stream(&dry_lines);
    assert_eq!(
        predicted,
        [
            ("fixes", "INVALID_CROSS_REFERENCE_KEY"),
            ("gone", "INVALID_CROSS_REFERENCE_KEY"),
            ("stores", "DUPLICATE_EXTERNAL_ID"),
            ("stores", "INVALID_FIELD"),
        ]
        .map(|(s, c)| (s.to_string(), c.to_string()))
    );

    // The real write of the same input: Salesforce rejects the same rows with the same codes.
    let real = h.write(&h.config(json!({})), &cat, &input).await;
    assert_eq!(real.code, Some(0), "{}", real.stderr);
    assert_eq!(codes_by_stream(&dlq_lines(&h.dlq_folder())), predicted);
    assert_eq!(
        h.record("Contact", &contact).await["LastName"],
        "M1 Renamed"
    );
}

/// Two products already holding what the input sends, written with `skip_unchanged_records`
/// into an org with `fault` installed; the fault fired. Returns the run and the rows the
/// ingest jobs processed.
async fn unchanged_products_through(fault: Value) -> (Run, u64) {
    let h = Harness::start().await;
    for key in ["F1-A", "F1-B"] {
        h.create(
            "Product_Catalog__c",
            json!({"Name": key, "External_Id__c": key, "Price__c": 5}),
        )
        .await;
    }
    h.add_fault(fault.clone()).await;
    let cat = catalog(&[product_upserts(
        "products",
        &["External_Id__c", "Name", "Price__c"],
    )]);
    let mut input = String::new();
    for key in ["F1-A", "F1-B"] {
        input += &record_line(
            "products",
            json!({"External_Id__c": key, "Name": key, "Price__c": 5.0}),
        );
    }
    input += &state_line("products", 1, json!(1));
    let config = h.config(json!({"skip_unchanged_records": true}));
    let run = h.write(&config, &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}\n{:?}", run.stderr, run.stdout);
    let kind = fault["type"].as_str().unwrap();
    assert!(
        !crate::support::admin_api::fired(&h.requests().await, kind).is_empty(),
        "the {kind} fault fired"
    );
    assert_eq!(
        run.all_states()[0]["destinationStats"],
        json!({"recordCount": 2.0, "rejectedRecordCount": 0.0})
    );
    let written = ingest_jobs(&h)
        .await
        .iter()
        .map(|j| j["numberRecordsProcessed"].as_u64().unwrap())
        .sum();
    (run, written)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_lookup_writes_its_rows_without_comparing_and_says_so() {
    let (run, written) = unchanged_products_through(
        json!({"method": "POST", "path": "*/jobs/query", "type": "job_failed", "when": "once"}),
    )
    .await;
    assert_eq!(written, 2, "nothing is lost: both rows are written");
    assert!(
        run.logs()
            .iter()
            .any(|l| l.contains("failed") && l.contains("they are not compared or checked")),
        "{:?}",
        run.logs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lookup_page_that_arrives_short_is_fetched_again() {
    let (_, written) = unchanged_products_through(json!({
        "method": "GET", "path": "*/jobs/query/*/results*", "type": "truncate_body",
        "keep_percent": 40, "when": "once"
    }))
    .await;
    assert_eq!(
        written, 0,
        "both rows found unchanged after the page came again"
    );
}
