//! REST query / queryAll: paging, value formats, errors, trailing slashes, determinism.

use crate::support::{Harness, V};
use reqwest::Method;
use serde_json::{json, Value};
use sf_emulator::EmulatorConfig;

fn q(text: &str) -> String {
    url_encode(text)
}

fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[tokio::test]
async fn query_pages_with_next_records_url_and_batch_size() {
    let h = Harness::start(EmulatorConfig {
        scale: 3,
        ..EmulatorConfig::default()
    })
    .await;
    let r = h
        .client
        .get(h.data(&format!("/query/?q={}", q("SELECT Id, Name FROM Contact"))))
        .bearer_auth(&h.token)
        .header("Sforce-Query-Options", "batchSize=500")
        .send()
        .await
        .unwrap();
    let first: Value = r.json().await.unwrap();
    assert_eq!(first["totalSize"], 1200);
    assert_eq!(first["done"], false);
    assert_eq!(first["records"].as_array().unwrap().len(), 500);
    let next = first["nextRecordsUrl"].as_str().unwrap().to_string();
    assert!(
        next.starts_with(&format!("/services/data/{V}/query/01g")) && next.ends_with("-500"),
        "{next}"
    );
    let mut seen: Vec<String> = first["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    let mut url = Some(next);
    while let Some(path) = url {
        let page: Value = h
            .client
            .get(h.url(&path))
            .bearer_auth(&h.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        seen.extend(
            page["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["Id"].as_str().unwrap().to_string()),
        );
        url = page["nextRecordsUrl"].as_str().map(str::to_string);
        if url.is_none() {
            assert_eq!(page["done"], true);
        }
    }
    assert_eq!(seen.len(), 1200);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 1200);
}

#[tokio::test]
async fn records_carry_attributes_and_rest_value_formats() {
    let h = Harness::default().await;
    let (s, body) = h
        .get_json(&format!("/query?q={}", q("SELECT Id, Name, BillingAddress, AnnualRevenue, NumberOfEmployees, CreatedDate, LastActivityDate, Regions__c FROM Account ORDER BY Id LIMIT 3")))
        .await;
    assert_eq!(s, 200, "{body}");
    let first = &body["records"][0];
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "attributes",
            "Id",
            "Name",
            "BillingAddress",
            "AnnualRevenue",
            "NumberOfEmployees",
            "CreatedDate",
            "LastActivityDate",
            "Regions__c"
        ]
    );
    assert_eq!(first["attributes"]["type"], "Account");
    assert_eq!(
        first["attributes"]["url"],
        format!(
            "/services/data/{V}/sobjects/Account/{}",
            first["Id"].as_str().unwrap()
        )
    );
    let created = first["CreatedDate"].as_str().unwrap();
    assert!(
        created.ends_with(".000+0000") && created.len() == 28,
        "{created}"
    );
    let address = &first["BillingAddress"];
    for key in [
        "city",
        "country",
        "geocodeAccuracy",
        "latitude",
        "longitude",
        "postalCode",
        "state",
        "street",
    ] {
        assert!(address.get(key).is_some(), "{key}");
    }
    assert!(first["AnnualRevenue"].is_number());
    assert!(first["NumberOfEmployees"].is_i64());
}

#[tokio::test]
async fn query_all_sees_the_recycle_bin_and_query_does_not() {
    let h = Harness::default().await;
    let (_, list) = h.admin(Method::GET, "/records/Lead?limit=1", None).await;
    let id = list["records"][0]["Id"].as_str().unwrap().to_string();
    h.admin(Method::DELETE, &format!("/records/Lead/{id}"), None)
        .await;
    let text = q(&format!("SELECT Id, IsDeleted FROM Lead WHERE Id = '{id}'"));
    let (_, live) = h.get_json(&format!("/query/?q={text}")).await;
    assert_eq!(live["totalSize"], 0);
    let (_, all) = h.get_json(&format!("/queryAll/?q={text}")).await;
    assert_eq!(all["totalSize"], 1);
    assert_eq!(all["records"][0]["IsDeleted"], true);
}

#[tokio::test]
async fn count_query_returns_total_size_only() {
    let h = Harness::default().await;
    let (_, body) = h
        .get_json(&format!(
            "/query?q={}",
            q("SELECT COUNT() FROM Opportunity")
        ))
        .await;
    assert_eq!(body, json!({"totalSize": 300, "done": true, "records": []}));
}

#[tokio::test]
async fn soql_errors_come_back_as_salesforce_error_arrays() {
    let h = Harness::default().await;
    let (s, body) = h
        .get_json(&format!("/query?q={}", q("SELECT Id, Foo FROM Account")))
        .await;
    assert_eq!(s, 400);
    assert_eq!(body[0]["errorCode"], "INVALID_FIELD");
    assert!(body[0]["message"]
        .as_str()
        .unwrap()
        .contains("No such column 'Foo' on entity 'Account'"));
    let (s, body) = h
        .get_json(&format!("/query?q={}", q("SELECT Id FROM Nope__c")))
        .await;
    assert_eq!(
        (s, body[0]["errorCode"].as_str().unwrap()),
        (400, "INVALID_TYPE")
    );
    let (s, body) = h
        .get_json(&format!("/query?q={}", q("SELEC Id FROM Account")))
        .await;
    assert_eq!(
        (s, body[0]["errorCode"].as_str().unwrap()),
        (400, "MALFORMED_QUERY")
    );
    let (s, body) = h.get_json("/query").await;
    assert_eq!(
        (s, body[0]["errorCode"].as_str().unwrap()),
        (400, "MALFORMED_QUERY")
    );
    let (s, body) = h.get_json("/query/01gDn0000000099XYZ-2000").await;
    assert_eq!(
        (s, body[0]["errorCode"].as_str().unwrap()),
        (400, "INVALID_QUERY_LOCATOR")
    );
}

#[tokio::test]
async fn expired_cursor_gets_invalid_query_locator() {
    let h = Harness::default().await;
    let (_, first) = h
        .get_json(&format!("/query?q={}", q("SELECT Id FROM Task")))
        .await;
    let next = first["nextRecordsUrl"].as_str().map(str::to_string);
    let next = match next {
        Some(n) => n,
        None => {
            // Task has 500 records at scale 1, under one default page: ask for smaller pages.
            let r = h
                .client
                .get(h.data(&format!("/query?q={}", q("SELECT Id FROM Task"))))
                .bearer_auth(&h.token)
                .header("Sforce-Query-Options", "batchSize=200")
                .send()
                .await
                .unwrap();
            let body: Value = r.json().await.unwrap();
            body["nextRecordsUrl"].as_str().unwrap().to_string()
        }
    };
    h.emulator.clock().advance(chrono::Duration::minutes(16));
    let r = h
        .client
        .get(h.url(&next))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "INVALID_QUERY_LOCATOR");
}

#[tokio::test]
async fn tricky_text_values_stay_strings() {
    let h = Harness::default().await;
    let (_, body) = h.get_json(&format!("/query?q={}", q("SELECT Notes__c FROM Product_Catalog__c WHERE Notes__c IN ('NA', 'N/A', 'NULL', 'None', '#N/A')"))).await;
    let values: std::collections::BTreeSet<&str> = body["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Notes__c"].as_str().unwrap())
        .collect();
    assert!(
        values.contains("NA") && values.contains("#N/A") && values.contains("None"),
        "{values:?}"
    );
}

#[tokio::test]
async fn same_seed_same_query_bytes() {
    let a = Harness::default().await;
    let b = Harness::default().await;
    let path = format!("/query?q={}", q("SELECT Id, Name, Email, Birthdate, MailingAddress, CreatedDate FROM Contact WHERE CreatedDate > 2025-01-01T00:00:00Z ORDER BY LastName, Id"));
    let x = a.get(&path).await.bytes().await.unwrap();
    let y = b.get(&path).await.bytes().await.unwrap();
    assert_eq!(x, y);
}

#[tokio::test]
async fn query_timeout_fault_answers_its_error() {
    let h = Harness::default().await;
    h.admin(Method::POST, "/faults", Some(json!({"path": "/services/data/*/query*", "type": "status", "status": 400, "error_code": "QUERY_TIMEOUT", "when": "once"}))).await;
    let (s, body) = h
        .get_json(&format!("/query?q={}", q("SELECT Id FROM Account")))
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        body[0],
        json!({"message": "Your query request was running for too long.", "errorCode": "QUERY_TIMEOUT"})
    );
}

#[tokio::test]
async fn get_updated_lists_changed_records() {
    let h = Harness::default().await;
    let (_, list) = h.admin(Method::GET, "/records/Account?limit=1", None).await;
    let id = list["records"][0]["Id"].as_str().unwrap().to_string();
    h.admin(
        Method::PATCH,
        &format!("/records/Account/{id}"),
        Some(json!({"Name": "Changed"})),
    )
    .await;
    h.emulator.clock().advance(chrono::Duration::minutes(3));
    let (s, body) = h.get_json("/sobjects/Account/updated/?start=2026-01-15T11%3A00%3A00%2B00%3A00&end=2026-01-15T12%3A05%3A00%2B00%3A00").await;
    assert_eq!(s, 200, "{body}");
    assert!(body["ids"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i == &json!(id)));
    assert_eq!(body["latestDateCovered"], "2026-01-15T12:03:00.000+0000");
}

#[tokio::test]
async fn an_eleventh_cursor_retires_the_oldest() {
    let h = Harness::default().await;
    let open = |h: &Harness| {
        let r = h
            .client
            .get(h.data(&format!("/query?q={}", q("SELECT Id FROM Task"))))
            .bearer_auth(&h.token)
            .header("Sforce-Query-Options", "batchSize=200")
            .send();
        async move {
            r.await.unwrap().json::<Value>().await.unwrap()["nextRecordsUrl"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let first = open(&h).await;
    for _ in 0..10 {
        open(&h).await;
    }
    let r = h
        .client
        .get(h.url(&first))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "INVALID_QUERY_LOCATOR");
}
