//! REST writes through HTTP against the generated org: create, update, delete and upsert with
//! Salesforce's statuses and bodies, checked through the admin API.

use crate::support::ingest::{call, org_record};
use crate::support::Harness;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn create_update_delete_round_trip() {
    let h = Harness::default().await;
    let created = call(
        &h,
        Method::POST,
        "/sobjects/Account/",
        "application/json",
        r#"{"Name":"Rest Co","NumberOfEmployees":15,"AnnualRevenue":2.5e6,"Regions__c":"AMER;EMEA","attributes":{"type":"Account"}}"#,
    )
    .await;
    assert_eq!(
        (created.status, created.content_type.as_str()),
        (201, "application/json;charset=UTF-8")
    );
    let body = created.json();
    let id = body["id"].as_str().unwrap().to_string();
    assert_eq!(body, json!({"id": id, "success": true, "errors": []}));
    let (_, record) = org_record(&h, "Account", &id).await;
    assert_eq!(record["NumberOfEmployees"], 15);
    assert_eq!(record["AnnualRevenue"], 2_500_000.0);
    assert_eq!(record["Regions__c"], "AMER;EMEA");
    let created_stamp = record["SystemModstamp"].clone();

    h.admin(Method::POST, "/clock", Some(json!({"advance_seconds": 60})))
        .await;
    let updated = call(
        &h,
        Method::PATCH,
        &format!("/sobjects/Account/{id}"),
        "application/json",
        r#"{"Name":"Rest Co 2","Regions__c":null}"#,
    )
    .await;
    assert_eq!((updated.status, updated.text.as_str()), (204, ""));
    let (_, record) = org_record(&h, "Account", &id).await;
    assert_eq!(record["Name"], "Rest Co 2");
    assert_eq!(record["Regions__c"], Value::Null);
    assert_eq!(record["NumberOfEmployees"], 15);
    assert_ne!(record["SystemModstamp"], created_stamp);
    let read = call(&h, Method::GET, &format!("/sobjects/Account/{id}"), "", "").await;
    assert_eq!(
        read.json()["Name"],
        "Rest Co 2",
        "the read side sees the write"
    );

    let deleted = call(
        &h,
        Method::DELETE,
        &format!("/sobjects/Account/{id}"),
        "",
        "",
    )
    .await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    let (_, record) = org_record(&h, "Account", &id).await;
    assert_eq!(record["IsDeleted"], true);
    let again = call(
        &h,
        Method::DELETE,
        &format!("/sobjects/Account/{id}"),
        "",
        "",
    )
    .await;
    assert_eq!(again.status, 404);
    assert_eq!(again.json()[0]["errorCode"], "ENTITY_IS_DELETED");
}

#[tokio::test]
async fn errors_are_arrays_with_salesforce_codes() {
    let h = Harness::default().await;
    let post = |body: &'static str| {
        call(
            &h,
            Method::POST,
            "/sobjects/Account",
            "application/json",
            body,
        )
    };
    let r = post(r#"{"NumberOfEmployees":3}"#).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!([{"message": "Required fields are missing: [Name]", "errorCode": "REQUIRED_FIELD_MISSING", "fields": ["Name"]}])
    );
    let r = post(r#"{"Name":"A","Bogus__c":1}"#).await;
    assert_eq!(
        r.json(),
        json!([{"errorCode": "INVALID_FIELD", "message": "No such column 'Bogus__c' on sobject of type Account"}])
    );
    let r = post(r#"{"Name":"A","Revenue_Per_Employee__c":1}"#).await;
    assert_eq!(r.json()[0]["errorCode"], "INVALID_FIELD_FOR_INSERT_UPDATE");
    let r = post(r#"{"Name":"A","ParentId":"001000000000000"}"#).await;
    assert_eq!(
        r.json(),
        json!([{"message": "invalid cross reference id", "errorCode": "INVALID_CROSS_REFERENCE_KEY", "fields": ["ParentId"]}])
    );
    let r = post("not json").await;
    assert_eq!(
        (r.status, r.json()[0]["errorCode"].clone()),
        (400, json!("JSON_PARSER_ERROR"))
    );
    let r = call(
        &h,
        Method::POST,
        "/sobjects/Nope__c",
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(r.status, 404);
    let r = call(
        &h,
        Method::PATCH,
        "/sobjects/Account/001000000000000",
        "application/json",
        r#"{"Name":"X"}"#,
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()[0]["errorCode"], "NOT_FOUND");
    let r = call(
        &h,
        Method::PATCH,
        "/sobjects/Account/bogus",
        "application/json",
        r#"{"Name":"X"}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()[0]["errorCode"].clone()),
        (400, json!("MALFORMED_ID"))
    );
    let unauthenticated = h
        .client
        .post(h.data("/sobjects/Account"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status(), 401);
}

#[tokio::test]
async fn upsert_statuses_by_outcome_and_api_version() {
    let h = Harness::default().await;
    let path = "/sobjects/Product_Catalog__c/External_Id__c/REST-UP-1";
    let created = call(
        &h,
        Method::PATCH,
        path,
        "application/json",
        r#"{"Name":"First","Price__c":3}"#,
    )
    .await;
    assert_eq!(created.status, 201);
    let id = created.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        created.json(),
        json!({"id": id, "success": true, "errors": [], "created": true})
    );
    let updated = call(
        &h,
        Method::PATCH,
        path,
        "application/json",
        r#"{"Name":"Second"}"#,
    )
    .await;
    assert_eq!(updated.status, 200);
    assert_eq!(
        updated.json(),
        json!({"id": id, "success": true, "errors": [], "created": false})
    );
    let (_, record) = org_record(&h, "Product_Catalog__c", &id).await;
    assert_eq!(
        (
            record["Name"].clone(),
            record["Price__c"].clone(),
            record["External_Id__c"].clone()
        ),
        (json!("Second"), json!(3.0), json!("REST-UP-1"))
    );
    // Before API 46.0 an update answers 204 with no body.
    let old = h
        .client
        .patch(format!(
            "{}/services/data/v45.0{path}",
            h.emulator.base_url()
        ))
        .bearer_auth(&h.token)
        .header("Content-Type", "application/json")
        .body(r#"{"Name":"Third"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 204);
    let unknown = call(
        &h,
        Method::PATCH,
        "/sobjects/Product_Catalog__c/Name/x",
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(
        unknown.json()[0]["message"],
        "Provided external ID field does not exist or is not accessible: Name"
    );

    let (_, a) = h
        .admin(
            Method::POST,
            "/records/Product_Catalog__c",
            Some(json!({"Name": "A", "External_Id__c": "REST-TWIN"})),
        )
        .await;
    let (_, b) = h
        .admin(
            Method::POST,
            "/records/Product_Catalog__c",
            Some(json!({"Name": "B", "External_Id__c": "REST-TWIN-2"})),
        )
        .await;
    let b_id = b["id"].as_str().unwrap();
    h.admin(
        Method::PATCH,
        &format!("/records/Product_Catalog__c/{b_id}"),
        Some(json!({"External_Id__c": "REST-TWIN"})),
    )
    .await;
    let several = call(
        &h,
        Method::PATCH,
        "/sobjects/Product_Catalog__c/External_Id__c/REST-TWIN",
        "application/json",
        r#"{"Name":"?"}"#,
    )
    .await;
    assert_eq!(several.status, 300);
    assert_eq!(
        several.json(),
        json!([
            format!(
                "/services/data/v62.0/sobjects/Product_Catalog__c/{}",
                a["id"].as_str().unwrap()
            ),
            format!("/services/data/v62.0/sobjects/Product_Catalog__c/{b_id}")
        ])
    );
}

#[tokio::test]
async fn lock_fault_applies_to_rest_writes() {
    let h = Harness::default().await;
    h.admin(
        Method::PUT,
        "/write-rules",
        Some(json!({"lock_row_faults": [{"object": "Account", "every_nth": 2}]})),
    )
    .await;
    let first = call(
        &h,
        Method::POST,
        "/sobjects/Account",
        "application/json",
        r#"{"Name":"L1"}"#,
    )
    .await;
    assert_eq!(first.status, 201);
    let second = call(
        &h,
        Method::POST,
        "/sobjects/Account",
        "application/json",
        r#"{"Name":"L2"}"#,
    )
    .await;
    assert_eq!(second.status, 400);
    assert_eq!(
        second.json(),
        json!([{"message": "unable to obtain exclusive access to this record", "errorCode": "UNABLE_TO_LOCK_ROW", "fields": []}])
    );
}
