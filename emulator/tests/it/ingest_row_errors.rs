//! Every per-row error kind of Bulk ingest, through HTTP against the generated org, with the
//! exact `sf__Error` text of the failed-results file (`CODE:message:fields --`).

use crate::support::ingest::{call, result_ids, results, run_job};
use crate::support::Harness;
use reqwest::Method;
use serde_json::{json, Value};

/// Runs one job and returns the sf__Error of each failed row, in order.
async fn errors(h: &Harness, job: Value, csv: &str) -> Vec<String> {
    let (id, info) = run_job(h, &job.to_string(), csv).await;
    assert_eq!(info["state"], "JobComplete", "{info}");
    let failed = results(h, &id, "failedResults").await;
    let mut reader = csv::ReaderBuilder::new().from_reader(failed.as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().get(1).unwrap().to_string())
        .collect()
}

fn insert(object: &str) -> Value {
    json!({"object": object, "operation": "insert"})
}

async fn new_account(h: &Harness, name: &str) -> String {
    let (id, _) = run_job(
        h,
        &insert("Account").to_string(),
        &format!("Name\n{name}\n"),
    )
    .await;
    result_ids(&results(h, &id, "successfulResults").await)[0].clone()
}

#[tokio::test]
async fn field_value_errors() {
    let h = Harness::default().await;
    let long = "x".repeat(41);
    let got = errors(
        &h,
        insert("Account"),
        &format!(
            "Name,AccountNumber,NumberOfEmployees,BillingGeocodeAccuracy\n\
             ,,,\n\
             A,{long},,\n\
             B,,many,\n\
             C,,100000000,\n\
             D,,,Galaxy\n"
        ),
    )
    .await;
    assert_eq!(
        got,
        [
            "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --".to_string(),
            format!("STRING_TOO_LONG:Account Number: data value too large: {long} (max length=40):AccountNumber --"),
            "INVALID_TYPE_ON_FIELD_IN_RECORD:Employees: value not of required type: many:NumberOfEmployees --".into(),
            "NUMBER_OUTSIDE_VALID_RANGE:Employees: value outside of valid range on numeric field: 100000000:NumberOfEmployees --".into(),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Billing Geocode Accuracy: bad value for restricted picklist field: Galaxy:BillingGeocodeAccuracy --".into(),
        ]
    );
    let got = errors(
        &h,
        insert("Contact"),
        "LastName,Email,Birthdate\nDoe,not-an-email,\nRoe,,31/12/1990\n",
    )
    .await;
    assert_eq!(
        got,
        [
            "INVALID_EMAIL_ADDRESS:Email: invalid email address: not-an-email:Email --",
            "INVALID_TYPE_ON_FIELD_IN_RECORD:Birthdate: value not of required type: 31/12/1990:Birthdate --",
        ]
    );
}

#[tokio::test]
async fn dates_datetimes_booleans_and_na_in_their_accepted_forms() {
    let h = Harness::default().await;
    let body = insert("Product_Catalog__c");
    let csv = "Name,Launch_Date__c,In_Stock__c,Price__c,Units_Sold__c,Notes__c\n\
               P1,2024-02-29,TRUE,9.9213206E3,42,#N/A\n\
               P2,2024-02-29Z,0,-1.5,-7,NA\n";
    let (id, info) = run_job(&h, &body.to_string(), csv).await;
    assert_eq!(
        info["numberRecordsFailed"],
        0,
        "{}",
        results(&h, &id, "failedResults").await
    );
    let ids = result_ids(&results(&h, &id, "successfulResults").await);
    let (_, p1) = h
        .admin(
            Method::GET,
            &format!("/records/Product_Catalog__c/{}", ids[0]),
            None,
        )
        .await;
    assert_eq!(p1["Launch_Date__c"], "2024-02-29");
    assert_eq!(p1["In_Stock__c"], true);
    assert_eq!(p1["Price__c"], 9921.3206);
    assert_eq!(p1["Notes__c"], Value::Null);
    let (_, p2) = h
        .admin(
            Method::GET,
            &format!("/records/Product_Catalog__c/{}", ids[1]),
            None,
        )
        .await;
    assert_eq!(p2["In_Stock__c"], false);
    assert_eq!(p2["Units_Sold__c"], -7);
    assert_eq!(p2["Notes__c"], "NA", "NA is a value, not a null marker");

    let got = errors(
        &h,
        insert("Contact"),
        "LastName,Birthdate\nA,2024-13-01\nB,1990-1-2\n",
    )
    .await;
    assert_eq!(got.len(), 2);
    let got = errors(
        &h,
        insert("Product_Catalog__c"),
        "Name,In_Stock__c\nP,yes\n",
    )
    .await;
    assert_eq!(got, ["INVALID_TYPE_ON_FIELD_IN_RECORD:In Stock: value not of required type: yes:In_Stock__c --"]);
}

#[tokio::test]
async fn permission_errors() {
    let h = Harness::default().await;
    let existing = new_account(&h, "Existing").await;
    let got = errors(
        &h,
        insert("Account"),
        &format!("Name,Revenue_Per_Employee__c,Id\nA,5,\nB,,{existing}\n"),
    )
    .await;
    assert_eq!(
        got,
        [
            "INVALID_FIELD_FOR_INSERT_UPDATE:Unable to create/update fields: Revenue_Per_Employee__c. Please check the security settings of this field and verify that it is read/write for your profile or permission set.:Revenue_Per_Employee__c --",
            "INVALID_FIELD_FOR_INSERT_UPDATE:cannot specify Id in an insert call:Id --",
        ]
    );
}

#[tokio::test]
async fn reference_errors() {
    let h = Harness::default().await;
    let deleted = new_account(&h, "To delete").await;
    run_job(
        &h,
        r#"{"object":"Account","operation":"delete"}"#,
        &format!("Id\n{deleted}\n"),
    )
    .await;
    let contact = {
        let (id, _) = run_job(&h, &insert("Contact").to_string(), "LastName\nC\n").await;
        result_ids(&results(&h, &id, "successfulResults").await)[0].clone()
    };
    let got = errors(
        &h,
        insert("Account"),
        &format!("Name,ParentId\nA,garbage\nB,{contact}\nC,001000000000000\nD,{deleted}\n"),
    )
    .await;
    assert_eq!(
        got,
        [
            "MALFORMED_ID:Parent Account ID: id value of incorrect type: garbage:ParentId --"
                .to_string(),
            format!(
                "MALFORMED_ID:Parent Account ID: id value of incorrect type: {contact}:ParentId --"
            ),
            "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:ParentId --".into(),
            "ENTITY_IS_DELETED:entity is deleted:--".into(),
        ]
    );
    let got = errors(&h, insert("Account"), "Name,Parent.Id\nA,001000000000000\n").await;
    assert_eq!(
        got,
        ["INVALID_FIELD:Foreign key external ID: 001000000000000 not found for field Id in entity Account:--"]
    );
}

#[tokio::test]
async fn target_record_errors_on_update_and_delete() {
    let h = Harness::default().await;
    let deleted = new_account(&h, "Gone").await;
    run_job(
        &h,
        r#"{"object":"Account","operation":"delete"}"#,
        &format!("Id\n{deleted}\n"),
    )
    .await;
    let update = json!({"object": "Account", "operation": "update"});
    let got = errors(
        &h,
        update,
        &format!("Id,Name\n,A\nnot-an-id,B\n001000000000000,C\n{deleted},D\n"),
    )
    .await;
    assert_eq!(
        got,
        [
            "MISSING_ARGUMENT:Id not specified in an update call:--",
            "MALFORMED_ID:Record ID: id value of incorrect type: not-an-id:Id --",
            "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:Id --",
            "ENTITY_IS_DELETED:entity is deleted:--",
        ]
    );
    let got = errors(
        &h,
        json!({"object": "Account", "operation": "hardDelete"}),
        &format!("Id\n{deleted}\n"),
    )
    .await;
    assert_eq!(got, ["ENTITY_IS_DELETED:entity is deleted:--"]);
}

#[tokio::test]
async fn uniqueness_errors() {
    let h = Harness::default().await;
    let (_, first) = h
        .admin(Method::GET, "/records/Product_Catalog__c?limit=1", None)
        .await;
    let holder = &first["records"][0];
    let (key, holder_id) = (
        holder["External_Id__c"].as_str().unwrap(),
        holder["Id"].as_str().unwrap(),
    );
    let got = errors(
        &h,
        insert("Product_Catalog__c"),
        &format!("Name,External_Id__c\nCopy,{key}\n"),
    )
    .await;
    assert_eq!(
        got,
        [format!("DUPLICATE_VALUE:duplicate value found: External_Id__c duplicates value on record with id: {holder_id}:--")]
    );
    let upsert = json!({"object": "Product_Catalog__c", "operation": "upsert", "externalIdFieldName": "External_Id__c"});
    let got = errors(
        &h,
        upsert,
        "External_Id__c,Name\n,No key\nK-9,First\nk-9,Second\n",
    )
    .await;
    assert_eq!(
        got,
        [
            "MISSING_ARGUMENT:External_Id__c not specified:--",
            "DUPLICATE_VALUE:Duplicate external id specified: K-9:External_Id__c --",
            "DUPLICATE_VALUE:Duplicate external id specified: k-9:External_Id__c --",
        ]
    );
}

#[tokio::test]
async fn configured_validation_rule_fails_matching_rows() {
    let h = Harness::default().await;
    let (status, _) = h
        .admin(
            Method::PUT,
            "/write-rules",
            Some(json!({"validation_rules": [{
                "object": "Account", "field": "AnnualRevenue",
                "condition": {"op": "less_than", "value": 0},
                "message": "Annual revenue cannot be negative", "error_field": "AnnualRevenue"
            }, {
                "object": "Account", "field": "Name",
                "condition": {"op": "equals", "value": "Forbidden"},
                "message": "This account name is reserved"
            }]})),
        )
        .await;
    assert_eq!(status, 200);
    let got = errors(
        &h,
        insert("Account"),
        "Name,AnnualRevenue\nOk,10\nNeg,-1\nForbidden,5\n",
    )
    .await;
    assert_eq!(
        got,
        [
            "FIELD_CUSTOM_VALIDATION_EXCEPTION:Annual revenue cannot be negative:AnnualRevenue --",
            "FIELD_CUSTOM_VALIDATION_EXCEPTION:This account name is reserved:--",
        ]
    );
    // REST writes go through the same rule.
    let r = call(
        &h,
        Method::POST,
        "/sobjects/Account",
        "application/json",
        r#"{"Name":"Forbidden"}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!([{"message": "This account name is reserved", "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION", "fields": []}])
    );
}
