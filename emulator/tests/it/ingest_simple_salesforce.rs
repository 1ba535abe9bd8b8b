//! simple-salesforce, unmodified, writes through REST and Bulk API 2.0 over https
//! (`tests/python/sfclient_write.py`, pointed at the emulator only by its instance URL and a
//! session id); every result it reports is checked against the org through the admin API.
//!
//! Runs with `SF_TEST_PYTHON=/path/to/python` (a venv with simple-salesforce). Without it the
//! test prints SKIPPED, unless `CI` is set: then it fails.

use serde_json::Value;
use sf_emulator::{Emulator, EmulatorConfig};

/// The admin API over the emulator's https, trusting its CA.
struct Admin {
    client: reqwest::Client,
    base: String,
}

impl Admin {
    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .client
            .get(format!("{}/__emulator{path}", self.base))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

async fn org_record(admin: &Admin, object: &str, id: &str) -> (u16, Value) {
    admin.get(&format!("/records/{object}/{id}")).await
}

async fn org_count(admin: &Admin, object: &str) -> u64 {
    admin.get(&format!("/records/{object}?limit=1")).await.1["totalSize"]
        .as_u64()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_salesforce_rest_and_bulk2_writes_land_in_the_org() {
    let Some(python) = crate::support::require_python() else {
        return;
    };
    let emulator = Emulator::start(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let ca = emulator
        .ca_certificate_path()
        .expect("a CA with tls")
        .to_path_buf();
    let pem = std::fs::read(&ca).unwrap();
    let h = Admin {
        client: reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap(),
        base: emulator.base_url(),
    };
    let products_before = org_count(&h, "Product_Catalog__c").await;
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/python/sfclient_write.py"
    );
    let output = tokio::process::Command::new(&python)
        .arg(script)
        .arg(emulator.base_url())
        .arg(emulator.access_token())
        .env("REQUESTS_CA_BUNDLE", &ca)
        .output()
        .await
        .expect("python runs");
    assert!(
        output.status.success(),
        "sfclient_write.py failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).expect("the script prints JSON");

    // REST: create (201 body), update 204, upsert 201 then 200, delete 204, a bad value's array.
    let rest_id = out["rest_created"]["id"].as_str().unwrap();
    assert_eq!(
        out["rest_created"],
        serde_json::json!({"id": rest_id, "success": true, "errors": []})
    );
    assert_eq!(out["rest_update_status"], 204);
    assert_eq!(out["rest_upsert_create_status"], 201);
    assert_eq!(out["rest_upsert_update_status"], 200);
    assert_eq!(out["rest_delete_status"], 204);
    let (status, account) = org_record(&h, "Account", rest_id).await;
    assert_eq!(status, 200);
    assert_eq!(account["Name"], "SSF Rest Account Renamed");
    assert_eq!(account["NumberOfEmployees"], 12);
    assert_eq!(account["Website"], Value::Null);
    assert_eq!(account["IsDeleted"], true);
    assert_eq!(out["rest_bad_create"]["type"], "SalesforceMalformedRequest");
    assert_eq!(
        out["rest_bad_create"]["content"],
        serde_json::json!([{"message": "Employees: value not of required type: many",
                            "errorCode": "INVALID_TYPE_ON_FIELD_IN_RECORD", "fields": ["NumberOfEmployees"]}])
    );

    // Bulk insert: 5 created, the row without Name failed with Salesforce's text.
    assert_eq!(out["bulk_insert"][0]["numberRecordsProcessed"], 6);
    assert_eq!(out["bulk_insert"][0]["numberRecordsFailed"], 1);
    let failed = out["bulk_insert_failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["sf__Id"], "");
    assert_eq!(
        failed[0]["sf__Error"],
        "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --"
    );
    assert_eq!(failed[0]["NumberOfEmployees"], "7");
    let successful = out["bulk_insert_successful"].as_array().unwrap();
    assert_eq!(successful.len(), 5);
    assert!(successful.iter().all(|r| r["sf__Created"] == "true"));
    let unprocessed = out["bulk_insert_unprocessed"].as_str().unwrap();
    assert_eq!(unprocessed.lines().count(), 1, "header only: {unprocessed}");

    // Bulk update then delete of those rows: each is in the recycle bin with its new name.
    let updated = out["bulk_update_successful"].as_array().unwrap();
    assert_eq!(updated.len(), 5);
    assert!(updated.iter().all(|r| r["sf__Created"] == "false"));
    let deleted = out["bulk_delete_successful"].as_array().unwrap();
    assert_eq!(deleted.len(), 5);
    for row in successful {
        let id = row["sf__Id"].as_str().unwrap();
        let (status, record) = org_record(&h, "Account", id).await;
        assert_eq!(status, 200, "{id}");
        assert_eq!(
            record["Name"],
            format!("{} Updated", row["Name"].as_str().unwrap())
        );
        assert_eq!(
            record["NumberOfEmployees"],
            row["NumberOfEmployees"]
                .as_str()
                .unwrap()
                .parse::<i64>()
                .unwrap()
        );
        assert_eq!(record["IsDeleted"], true);
        assert!(deleted.iter().any(|d| d["sf__Id"] == id));
    }

    // Bulk upsert: the REST-created key was updated, two keys created.
    let upserted = out["bulk_upsert_successful"].as_array().unwrap();
    assert_eq!(upserted.len(), 3);
    for row in upserted {
        let created = row["External_Id__c"] != "SSF-REST-1";
        assert_eq!(row["sf__Created"], if created { "true" } else { "false" });
        let (status, record) =
            org_record(&h, "Product_Catalog__c", row["sf__Id"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(record["Name"], row["Name"]);
        assert_eq!(record["External_Id__c"], row["External_Id__c"]);
    }
    assert_eq!(
        org_count(&h, "Product_Catalog__c").await,
        products_before + 3
    );
}

impl Admin {
    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .client
            .request(method, format!("{}/__emulator{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn create(&self, object: &str, fields: Value) -> String {
        let (status, reply) = self
            .send(reqwest::Method::POST, &format!("/records/{object}"), fields)
            .await;
        assert!(status < 300, "create {object}: {status} {reply}");
        reply["id"].as_str().unwrap().to_string()
    }
}

/// Relationship columns by external id (found, missing, duplicated), a polymorphic lookup by
/// type, a restricted picklist and the hard-delete permission, as simple-salesforce's bulk2
/// client sees them (`tests/python/sfclient_activation.py`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_salesforce_bulk2_relationships_picklists_and_hard_delete_permission() {
    use serde_json::json;
    let Some(python) = crate::support::require_python() else {
        return;
    };
    let emulator = Emulator::start(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let ca = emulator
        .ca_certificate_path()
        .expect("a CA with tls")
        .to_path_buf();
    let pem = std::fs::read(&ca).unwrap();
    let h = Admin {
        client: reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
            .build()
            .unwrap(),
        base: emulator.base_url(),
    };
    let parent = h
        .create(
            "Account",
            json!({"Name": "SSFA Parent", "External_Id__c": "SSFA-PARENT"}),
        )
        .await;
    let dup_a = h
        .create(
            "Account",
            json!({"Name": "SSFA Dup A", "External_Id__c": "SSFA-DUP"}),
        )
        .await;
    let dup_b = h
        .create(
            "Account",
            json!({"Name": "SSFA Dup B", "External_Id__c": "SSFA-DUP"}),
        )
        .await;
    let lead = h
        .create(
            "Lead",
            json!({"LastName": "SSFA", "Company": "SSFA Co", "Email": "ssfa-lead@example.com"}),
        )
        .await;
    let (status, _) = h
        .send(
            reqwest::Method::PUT,
            "/write-rules",
            json!({"bulk_api_hard_delete": false}),
        )
        .await;
    assert_eq!(status, 200);

    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/python/sfclient_activation.py"
    );
    let output = tokio::process::Command::new(&python)
        .arg(script)
        .arg(emulator.base_url())
        .arg(emulator.access_token())
        .env("REQUESTS_CA_BUNDLE", &ca)
        .output()
        .await
        .expect("python runs");
    assert!(
        output.status.success(),
        "sfclient_activation.py failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).expect("the script prints JSON");

    // The linked Contact points at its parent; the other two are Salesforce's row errors.
    assert_eq!(out["contacts"][0]["numberRecordsProcessed"], 3);
    assert_eq!(out["contacts"][0]["numberRecordsFailed"], 2);
    let linked = out["contacts_successful"].as_array().unwrap();
    assert_eq!(linked.len(), 1);
    let (_, contact) = org_record(&h, "Contact", linked[0]["sf__Id"].as_str().unwrap()).await;
    assert_eq!(contact["AccountId"], parent);
    let failed = out["contacts_failed"].as_array().unwrap();
    let error_of = |name: &str| {
        failed
            .iter()
            .find(|r| r["LastName"] == name)
            .map(|r| r["sf__Error"].as_str().unwrap().to_string())
            .unwrap()
    };
    let orphan = error_of("SSFA Orphan");
    assert!(
        orphan.starts_with(
            "INVALID_FIELD:Foreign key external ID: SSFA-MISSING not found for field External_Id__c in entity Account"
        ),
        "{orphan}"
    );
    let ambiguous = error_of("SSFA Ambiguous");
    assert!(
        ambiguous.starts_with("DUPLICATE_EXTERNAL_ID:External Id: more than one record found for external id field: ["),
        "{ambiguous}"
    );
    assert!(
        ambiguous.contains(&dup_a) && ambiguous.contains(&dup_b),
        "{ambiguous}"
    );

    // The Task's polymorphic WhoId is the Lead.
    let tasks = out["tasks_successful"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{}", out["tasks_failed"]);
    let (_, task) = org_record(&h, "Task", tasks[0]["sf__Id"].as_str().unwrap()).await;
    assert_eq!(task["WhoId"], lead);

    // Tier__c is restricted: Platinum is refused, Gold lands.
    assert_eq!(out["tiers_successful"].as_array().unwrap().len(), 1);
    let tier_failed = out["tiers_failed"].as_array().unwrap();
    assert_eq!(tier_failed.len(), 1);
    assert_eq!(
        tier_failed[0]["sf__Error"],
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Tier: bad value for restricted picklist field: Platinum:Tier__c --"
    );

    // No hard delete without the permission: the job is refused, the accounts stay.
    let error = &out["hard_delete_error"];
    assert_eq!(
        error["content"][0]["errorCode"], "FEATURENOTENABLED",
        "{error}"
    );
    assert_eq!(
        error["content"][0]["message"],
        "hardDelete operation requires special user profile permission, please contact your system administrator"
    );
    for row in out["tiers_successful"].as_array().unwrap() {
        let (status, account) = org_record(&h, "Account", row["sf__Id"].as_str().unwrap()).await;
        assert_eq!(status, 200);
        assert_eq!(account["IsDeleted"], false);
    }
}
