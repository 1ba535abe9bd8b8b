//! OAuth, describe, limits, versions, the session gate and the admin API, through HTTP.

use std::time::Duration;

use crate::support::{Harness, V};
use reqwest::Method;
use serde_json::{json, Value};
use sf_emulator::EmulatorConfig;

#[tokio::test]
async fn refresh_token_grant_returns_salesforce_token_body() {
    let h = Harness::default().await;
    let c = h.emulator.credentials();
    let r = h
        .client
        .post(h.url("/services/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &c.client_id),
            ("client_secret", &c.client_secret),
            ("refresh_token", &c.refresh_token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "access_token",
            "signature",
            "scope",
            "instance_url",
            "id",
            "token_type",
            "issued_at"
        ]
    );
    assert_eq!(body["instance_url"], h.emulator.base_url());
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["issued_at"].as_str().unwrap().parse::<i64>().is_ok());
    assert!(body.get("refresh_token").is_none());
}

#[tokio::test]
async fn oauth_errors_have_salesforce_codes() {
    let h = Harness::default().await;
    let c = h.emulator.credentials();
    let post = |form: Vec<(&'static str, String)>| {
        let client = h.client.clone();
        let url = h.url("/services/oauth2/token");
        async move {
            let r = client.post(url).form(&form).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, b) = post(vec![
        ("grant_type", "refresh_token".into()),
        ("client_id", c.client_id.clone()),
        ("refresh_token", "wrong".into()),
    ])
    .await;
    assert_eq!((s, b["error"].as_str().unwrap()), (400, "invalid_grant"));
    assert_eq!(b["error_description"], "expired access/refresh token");
    let (s, b) = post(vec![
        ("grant_type", "refresh_token".into()),
        ("client_id", "nope".into()),
        ("refresh_token", c.refresh_token.clone()),
    ])
    .await;
    assert_eq!(
        (s, b["error"].as_str().unwrap()),
        (400, "invalid_client_id")
    );
    let (_, b) = post(vec![
        ("grant_type", "client_credentials".into()),
        ("client_id", c.client_id.clone()),
        ("client_secret", "bad".into()),
    ])
    .await;
    assert_eq!(b["error"], "invalid_client");
    let (_, b) = post(vec![("grant_type", "password".into())]).await;
    assert_eq!(b["error"], "unsupported_grant_type");
    let (_, b) = post(vec![("client_id", c.client_id.clone())]).await;
    assert_eq!(b["error"], "invalid_request");
}

#[tokio::test]
async fn client_credentials_accepts_basic_auth() {
    let h = Harness::default().await;
    let c = h.emulator.credentials();
    let r = h
        .client
        .post(h.url("/services/oauth2/token"))
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

fn jwt(h: &Harness, aud: &str, exp: i64, sub: &str) -> String {
    let c = h.emulator.credentials();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(c.jwt_private_key_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &json!({"iss": c.client_id, "sub": sub, "aud": aud, "exp": exp}),
        &key,
    )
    .unwrap()
}

#[tokio::test]
async fn jwt_bearer_checks_signature_audience_subject_and_expiry_on_the_org_clock() {
    let h = Harness::default().await;
    let now = h.emulator.clock().now().timestamp();
    let user = h.emulator.credentials().username;
    let send = |assertion: String| {
        let client = h.client.clone();
        let url = h.url("/services/oauth2/token");
        async move {
            let r = client
                .post(url)
                .form(&[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", assertion.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (s, b) = send(jwt(&h, "https://login.salesforce.com", now + 120, &user)).await;
    assert_eq!(s, 200, "{b}");
    let (_, b) = send(jwt(&h, "https://evil.example.com", now + 120, &user)).await;
    assert_eq!(b["error"], "invalid_grant");
    let (_, b) = send(jwt(&h, "https://login.salesforce.com", now - 1, &user)).await;
    assert_eq!(b["error"], "invalid_grant");
    let (_, b) = send(jwt(
        &h,
        "https://login.salesforce.com",
        now + 120,
        "someone@else.com",
    ))
    .await;
    assert_eq!(b["error"], "invalid_grant");
    let mut tampered = jwt(&h, "https://login.salesforce.com", now + 120, &user);
    tampered.pop();
    tampered.push('A');
    let (s, _) = send(tampered).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn missing_unknown_or_expired_token_gets_invalid_session_id() {
    let h = Harness::start(EmulatorConfig {
        token_lifetime: Duration::from_secs(60),
        ..EmulatorConfig::default()
    })
    .await;
    let r = h.client.get(h.data("/sobjects")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Token");
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    let r = h
        .client
        .get(h.data("/sobjects"))
        .bearer_auth("00Dxx!bogus")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(h.get("/sobjects").await.status(), 200);
    h.emulator.clock().advance(chrono::Duration::seconds(61));
    assert_eq!(h.get("/sobjects").await.status(), 401);
}

#[tokio::test]
async fn versions_list_needs_no_session_and_unknown_versions_are_404() {
    let h = Harness::default().await;
    let r = h.client.get(h.url("/services/data/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("sforce-limit-info").is_none());
    let versions: Value = r.json().await.unwrap();
    assert!(versions
        .as_array()
        .unwrap()
        .iter()
        .any(|v| v["version"] == "62.0" && v["label"] == "Winter '25"));
    let r = h
        .client
        .get(h.url("/services/data/v99.0/sobjects"))
        .bearer_auth(&h.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn describe_global_lists_every_object_with_flags() {
    let h = Harness::default().await;
    let r = h.get("/sobjects/").await;
    assert_eq!(
        r.headers()["content-type"],
        "application/json;charset=UTF-8"
    );
    assert!(r.headers()["sforce-limit-info"]
        .to_str()
        .unwrap()
        .starts_with("api-usage="));
    let body: Value = r.json().await.unwrap();
    let names: Vec<&str> = body["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for expected in [
        "Account",
        "Contact",
        "Lead",
        "Opportunity",
        "Case",
        "User",
        "Task",
        "Event",
        "Campaign",
        "OpportunityFieldHistory",
        "LoginHistory",
        "Attachment",
        "CaseStatus",
        "OpportunityStage",
        "Product_Catalog__c",
        "Store__c",
        "Wide_Record__c",
        "Bench_Record__c",
    ] {
        assert!(names.contains(&expected), "{expected} missing");
    }
    let account = body["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Account")
        .unwrap();
    assert_eq!(account["keyPrefix"], "001");
    assert_eq!(account["queryable"], true);
    assert_eq!(
        account["urls"]["describe"],
        format!("/services/data/{V}/sobjects/Account/describe")
    );
}

#[tokio::test]
async fn describe_reports_every_field_attribute_and_compound_components() {
    let h = Harness::default().await;
    let (s, body) = h.get_json("/sobjects/Account/describe/").await;
    assert_eq!(s, 200);
    let fields = body["fields"].as_array().unwrap();
    let city = fields.iter().find(|f| f["name"] == "BillingCity").unwrap();
    assert_eq!(city["compoundFieldName"], "BillingAddress");
    for key in [
        "aggregatable",
        "byteLength",
        "calculated",
        "calculatedFormula",
        "defaultValue",
        "externalId",
        "idLookup",
        "nillable",
        "picklistValues",
        "referenceTo",
        "relationshipName",
        "soapType",
        "sortable",
        "filterable",
        "unique",
        "updateable",
    ] {
        assert!(city.get(key).is_some(), "{key}");
    }
    let address = fields
        .iter()
        .find(|f| f["name"] == "BillingAddress")
        .unwrap();
    assert_eq!(address["type"], "address");
    assert_eq!(address["soapType"], "urn:address");
    let formula = fields.iter().find(|f| f["calculated"] == true).unwrap();
    assert!(formula["calculatedFormula"].is_string());
    let id = fields.iter().find(|f| f["name"] == "Id").unwrap();
    assert_eq!(
        (id["length"].as_u64(), id["byteLength"].as_u64()),
        (Some(18), Some(54))
    );
    let (s, body) = h.get_json("/sobjects/Nope__c/describe").await;
    assert_eq!(s, 404);
    assert_eq!(body[0]["errorCode"], "NOT_FOUND");
}

#[tokio::test]
async fn the_org_has_a_field_of_every_describe_type_and_a_600_field_object() {
    let h = Harness::default().await;
    let (_, global) = h.get_json("/sobjects").await;
    let mut types = std::collections::BTreeSet::new();
    for s in global["sobjects"].as_array().unwrap() {
        let (_, d) = h
            .get_json(&format!(
                "/sobjects/{}/describe",
                s["name"].as_str().unwrap()
            ))
            .await;
        for f in d["fields"].as_array().unwrap() {
            types.insert(f["type"].as_str().unwrap().to_string());
        }
        if s["name"] == "Wide_Record__c" {
            assert!(d["fields"].as_array().unwrap().len() > 600);
        }
    }
    for t in [
        "id",
        "reference",
        "boolean",
        "string",
        "textarea",
        "picklist",
        "multipicklist",
        "combobox",
        "email",
        "phone",
        "url",
        "encryptedstring",
        "int",
        "double",
        "currency",
        "percent",
        "long",
        "date",
        "datetime",
        "time",
        "base64",
        "address",
        "location",
        "anyType",
        "json",
    ] {
        assert!(types.contains(t), "no field of type {t}");
    }
}

#[tokio::test]
async fn limits_count_api_requests() {
    let h = Harness::default().await;
    let (_, first) = h.get_json("/limits/").await;
    let (_, second) = h.get_json("/limits").await;
    let remaining = |b: &Value| b["DailyApiRequests"]["Remaining"].as_u64().unwrap();
    assert_eq!(remaining(&first) - 1, remaining(&second));
    assert_eq!(first["DailyBulkV2QueryJobs"]["Max"], 10000);
}

#[tokio::test]
async fn api_limit_exhausted_answers_request_limit_exceeded() {
    let h = Harness::start(EmulatorConfig {
        daily_api_requests: 2,
        ..EmulatorConfig::default()
    })
    .await;
    assert_eq!(h.get("/limits").await.status(), 200);
    assert_eq!(h.get("/limits").await.status(), 200);
    let r = h.get("/limits").await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["sforce-limit-info"], "api-usage=2/2");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "REQUEST_LIMIT_EXCEEDED");
}

#[tokio::test]
async fn uri_over_the_limit_gets_414() {
    let h = Harness::default().await;
    let long = "a".repeat(17_000);
    let r = h.get(&format!("/query?q={long}")).await;
    assert_eq!(r.status(), 414);
}

#[tokio::test]
async fn admin_api_creates_updates_deletes_and_undeletes() {
    let h = Harness::default().await;
    let (s, created) = h
        .admin(
            Method::POST,
            "/records/Account",
            Some(json!({"Name": "Admin Co", "AnnualRevenue": 1000.5})),
        )
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    let (s, record) = h
        .admin(Method::GET, &format!("/records/Account/{id}"), None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(record["Name"], "Admin Co");
    assert_eq!(record["SystemModstamp"], "2026-01-15T12:00:00.000+0000");
    h.emulator.clock().advance(chrono::Duration::minutes(5));
    let (s, _) = h
        .admin(
            Method::PATCH,
            &format!("/records/Account/{id}"),
            Some(json!({"Name": "Renamed"})),
        )
        .await;
    assert_eq!(s, 204);
    let (_, record) = h
        .admin(Method::GET, &format!("/records/Account/{id}"), None)
        .await;
    assert_eq!(record["SystemModstamp"], "2026-01-15T12:05:00.000+0000");
    assert_eq!(record["CreatedDate"], "2026-01-15T12:00:00.000+0000");
    let (s, _) = h
        .admin(Method::DELETE, &format!("/records/Account/{id}"), None)
        .await;
    assert_eq!(s, 204);
    let (_, record) = h
        .admin(Method::GET, &format!("/records/Account/{id}"), None)
        .await;
    assert_eq!(record["IsDeleted"], true);
    assert_eq!(
        h.get(&format!("/sobjects/Account/{id}")).await.status(),
        404
    );
    let (s, _) = h
        .admin(
            Method::POST,
            &format!("/records/Account/{id}/undelete"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert_eq!(
        h.get(&format!("/sobjects/Account/{id}")).await.status(),
        200
    );
    let (s, _) = h
        .admin(
            Method::DELETE,
            &format!("/records/Account/{id}?hard=true"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = h
        .admin(Method::GET, &format!("/records/Account/{id}"), None)
        .await;
    assert_eq!(s, 404);
    let (s, err) = h
        .admin(Method::POST, "/records/Account", Some(json!({"Bogus": 1})))
        .await;
    assert_eq!(s, 400);
    assert!(err["error"].as_str().unwrap().contains("Bogus"));
}

#[tokio::test]
async fn admin_list_gives_only_the_fields_asked_for() {
    let h = Harness::default().await;
    let (s, all) = h.admin(Method::GET, "/records/Account?limit=3", None).await;
    assert_eq!(s, 200);
    let (s, picked) = h
        .admin(Method::GET, "/records/Account?limit=3&fields=Id,Name", None)
        .await;
    assert_eq!(s, 200, "{picked}");
    assert_eq!(picked["totalSize"], all["totalSize"]);
    for (p, a) in picked["records"]
        .as_array()
        .unwrap()
        .iter()
        .zip(all["records"].as_array().unwrap())
    {
        let keys: Vec<&String> = p.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["attributes", "Id", "Name"], "{p}");
        assert_eq!((&p["Id"], &p["Name"]), (&a["Id"], &a["Name"]));
    }
    let (s, err) = h
        .admin(Method::GET, "/records/Account?fields=Id,Bogus", None)
        .await;
    assert_eq!(s, 400);
    assert_eq!(err["error"], "fields: Account has no field \"Bogus\"");
}

#[tokio::test]
async fn get_deleted_reads_the_deletion_log() {
    let h = Harness::default().await;
    let (_, list) = h.admin(Method::GET, "/records/Contact?limit=2", None).await;
    let id = list["records"][1]["Id"].as_str().unwrap().to_string();
    h.admin(Method::DELETE, &format!("/records/Contact/{id}"), None)
        .await;
    h.emulator.clock().advance(chrono::Duration::minutes(2));
    let (s, body) = h.get_json("/sobjects/Contact/deleted/?start=2026-01-15T00%3A00%3A00%2B00%3A00&end=2026-01-15T13%3A00%3A00%2B00%3A00").await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        body["deletedRecords"],
        json!([{"deletedDate": "2026-01-15T12:00:00.000+0000", "id": id}])
    );
    let (s, body) = h
        .get_json("/sobjects/Contact/deleted/?start=2025-01-01T00:00:00Z&end=2026-01-15T13:00:00Z")
        .await;
    assert_eq!(s, 400);
    assert_eq!(body[0]["errorCode"], "INVALID_REPLICATION_DATE");
}

#[tokio::test]
async fn clock_is_set_and_advanced_through_the_admin_api() {
    let h = Harness::default().await;
    let (_, now) = h
        .admin(
            Method::POST,
            "/clock",
            Some(json!({"now": "2026-02-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(now["now"], "2026-02-01T00:00:00.000+0000");
    let (_, now) = h
        .admin(
            Method::POST,
            "/clock",
            Some(json!({"advance_seconds": 3600})),
        )
        .await;
    assert_eq!(now["now"], "2026-02-01T01:00:00.000+0000");
    let (s, err) = h
        .admin(Method::POST, "/clock", Some(json!({"now": "yesterday"})))
        .await;
    assert_eq!(s, 400);
    assert!(err["error"].as_str().unwrap().contains("yesterday"));
}

#[tokio::test]
async fn request_log_counts_api_calls() {
    let h = Harness::default().await;
    h.get("/limits").await;
    h.get("/sobjects").await;
    let (_, log) = h.admin(Method::GET, "/requests", None).await;
    let paths: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/services/oauth2/token",
            &format!("/services/data/{V}/limits"),
            &format!("/services/data/{V}/sobjects")
        ]
    );
    assert!(log[2]["bytes"].as_u64().unwrap() > 1000);
    assert_eq!(log[2]["status"], 200);
}

#[tokio::test]
async fn faults_answer_errors_on_schedule_and_can_be_cleared() {
    let h = Harness::default().await;
    let (s, _) = h
        .admin(Method::POST, "/faults", Some(json!({"method": "GET", "path": "/services/data/*/limits", "type": "status", "status": 503, "error_code": "SERVER_UNAVAILABLE", "when": "every_nth", "n": 2})))
        .await;
    assert_eq!(s, 201);
    let statuses = [
        h.get("/limits").await.status().as_u16(),
        h.get("/limits").await.status().as_u16(),
        h.get("/limits").await.status().as_u16(),
    ];
    assert_eq!(statuses, [200, 503, 200]);
    h.admin(Method::DELETE, "/faults", None).await;
    h.admin(
        Method::POST,
        "/faults",
        Some(json!({"path": "*", "type": "expire_tokens", "when": "once"})),
    )
    .await;
    assert_eq!(h.get("/limits").await.status(), 401);
    h.admin(
        Method::POST,
        "/faults",
        Some(json!({"path": "/services/data/*", "type": "exhaust_limit", "when": "once"})),
    )
    .await;
    let (s, err) = h
        .admin(
            Method::POST,
            "/faults",
            Some(json!({"path": "*", "type": "explode"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(err["error"].as_str().unwrap().contains("fault rule"));
}

#[tokio::test]
async fn cut_connection_fault_drops_the_body() {
    let h = Harness::default().await;
    h.admin(Method::POST, "/faults", Some(json!({"path": "*/sobjects", "type": "cut_connection", "after_bytes": 100, "when": "once"}))).await;
    // Headers may or may not have left before the cut; either way the client sees a failure.
    let sent = h
        .client
        .get(h.data("/sobjects"))
        .bearer_auth(&h.token)
        .send()
        .await;
    match sent {
        Ok(r) => assert!(r.bytes().await.is_err(), "body must fail"),
        Err(e) => assert!(!e.is_status(), "{e}"),
    }
    assert_eq!(h.get("/sobjects").await.status(), 200);
}

#[tokio::test]
async fn a_delay_after_the_handler_acts_first_and_answers_late() {
    let h = Harness::default().await;
    h.admin(
        Method::POST,
        "/faults",
        Some(
            json!({"method": "POST", "path": "*/jobs/ingest", "type": "delay",
            "millis": 3000, "after_handler": true, "when": "once"}),
        ),
    )
    .await;
    // The client gives up long before the answer comes.
    let sent = h
        .client
        .post(h.data("/jobs/ingest"))
        .bearer_auth(&h.token)
        .json(&json!({"object": "Account", "operation": "insert"}))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(sent.unwrap_err().is_timeout());
    // Yet the job was created.
    let (s, list) = h.get_json("/jobs/ingest").await;
    assert_eq!(s, 200);
    let jobs = list["records"].as_array().unwrap();
    assert_eq!(jobs.len(), 1, "{list}");
    assert_eq!(jobs[0]["state"], "Open");
    let (_, log) = h.admin(Method::GET, "/requests", None).await;
    let create = log
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["method"] == "POST" && e["path"].as_str().unwrap().ends_with("/jobs/ingest"))
        .unwrap()
        .clone();
    assert_eq!(create["faults"], json!(["delay"]));
    assert_eq!(create["status"], 0, "no answer was sent: {create}");
}

#[tokio::test]
async fn commit_record_adds_a_row_stamped_when_its_transaction_began() {
    let h = Harness::default().await;
    let (_, clock) = h.admin(Method::GET, "/clock", None).await;
    // REST form: 2026-01-01T00:00:00.000+0000.
    let now =
        chrono::DateTime::parse_from_str(clock["now"].as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.f%z")
            .unwrap();
    h.admin(
        Method::POST,
        "/faults",
        Some(
            json!({"method": "GET", "path": "*/queryAll", "type": "commit_record",
            "object": "Account", "fields": {"Name": "Late commit"}, "began_seconds_ago": 600,
            "when": "once"}),
        ),
    )
    .await;
    // The request the fault fires on already sees the row.
    let (s, page) = h
        .get_json("/queryAll?q=SELECT+Id,SystemModstamp,CreatedDate+FROM+Account+WHERE+Name+=+'Late+commit'")
        .await;
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["totalSize"], 1, "{page}");
    let row = &page["records"][0];
    let stamped = (now - chrono::Duration::seconds(600))
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string();
    for field in ["SystemModstamp", "CreatedDate"] {
        assert!(
            row[field].as_str().unwrap().starts_with(&stamped),
            "{field} {row} vs {stamped}"
        );
    }
    let (_, log) = h.admin(Method::GET, "/requests", None).await;
    let fired: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["faults"] == json!(["commit_record"]))
        .collect();
    assert_eq!(fired.len(), 1, "{log}");
}

#[tokio::test]
async fn responses_are_gzipped_when_asked() {
    let h = Harness::default().await;
    let r = h
        .client
        .get(h.data("/sobjects"))
        .bearer_auth(&h.token)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn same_seed_gives_byte_identical_responses() {
    let a = Harness::default().await;
    let b = Harness::default().await;
    assert_eq!(a.token, b.token);
    for path in [
        "/sobjects/Account/describe",
        "/sobjects/Contact/003Dn0000000005AAA",
    ] {
        let x = a.get(path).await.bytes().await.unwrap();
        let y = b.get(path).await.bytes().await.unwrap();
        assert_eq!(x, y, "{path}");
    }
    let (_, x) = a
        .admin(Method::GET, "/records/Contact?limit=50", None)
        .await;
    let (_, y) = b
        .admin(Method::GET, "/records/Contact?limit=50", None)
        .await;
    assert_eq!(x, y);
    let c = Harness::start(EmulatorConfig {
        seed: 2,
        ..EmulatorConfig::default()
    })
    .await;
    let (_, z) = c
        .admin(Method::GET, "/records/Contact?limit=50", None)
        .await;
    assert_ne!(x, z);
}

#[tokio::test]
async fn tls_serves_https_with_a_ca_clients_can_trust() {
    let emulator = sf_emulator::Emulator::start(EmulatorConfig {
        tls: true,
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    assert!(emulator.base_url().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read(emulator.ca_certificate_path().unwrap()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let r = client
        .get(format!("{}/services/data/", emulator.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let untrusting = reqwest::Client::new();
    assert!(untrusting
        .get(format!("{}/services/data/", emulator.base_url()))
        .send()
        .await
        .is_err());
}
