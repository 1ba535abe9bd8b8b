//! `destination check` and `destination discover` through the real binary against the emulator.

use crate::support::destination::{operation, Harness};
use crate::support::files::files_under;
use crate::support::run::{message_of, Run};
use crate::support::s3s;
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_succeeds_and_leaves_no_probe_in_the_local_dead_letter_folder() {
    let h = Harness::start().await;
    let run = h.check(&h.config(json!({}))).await;
    let status = run.of_type("CONNECTION_STATUS");
    assert_eq!(status.len(), 1, "{:?} {}", run.stdout, run.stderr);
    assert_eq!(
        status[0]["connectionStatus"]["status"], "SUCCEEDED",
        "{:?}",
        status[0]
    );
    assert_eq!(run.code, Some(0));
    assert!(
        h.dlq_folder().is_dir(),
        "the default local folder is created"
    );
    assert!(files_under(&h.dlq_folder()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_succeeds_with_client_credentials_and_with_jwt_bearer() {
    let h = Harness::start().await;
    let c = h.emulator.credentials();
    let client_credentials = h.config(json!({"auth_type": "client_credentials"}));
    let mut client_credentials = client_credentials.as_object().unwrap().clone();
    client_credentials.remove("refresh_token");
    let run = h.check(&Value::Object(client_credentials)).await;
    let status = &run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
    assert_eq!(status["status"], "SUCCEEDED", "{status} {}", run.stderr);

    let mut jwt = h
        .config(json!({"auth_type": "jwt_bearer", "username": c.username, "private_key": c.jwt_private_key_pem}))
        .as_object()
        .unwrap()
        .clone();
    jwt.remove("refresh_token");
    jwt.remove("client_secret");
    let run = h.check(&Value::Object(jwt)).await;
    let status = &run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
    assert_eq!(status["status"], "SUCCEEDED", "{status} {}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_with_a_wrong_refresh_token_fails_with_what_to_fix() {
    let h = Harness::start().await;
    let run = h
        .check(&h.config(json!({"refresh_token": "not-the-token"})))
        .await;
    let status = &run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
    assert_eq!(status["status"], "FAILED");
    let message = message_of(status);
    assert!(message.contains("log in"), "{message}");
    assert!(!message.contains("not-the-token"), "{message}");
    assert_eq!(run.code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_with_an_unwritable_dead_letter_folder_fails() {
    let h = Harness::start().await;
    let blocker = h.dir.path().join("a-file");
    std::fs::write(&blocker, "not a folder").unwrap();
    let run = h
        .check(&h.config(json!({"dead_letter_folder": blocker.join("dlq").to_string_lossy()})))
        .await;
    let status = &run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
    assert_eq!(status["status"], "FAILED");
    assert!(
        message_of(status).contains("dead_letter_folder"),
        "{status}"
    );
}

/// A check with the dead-letter queue in a new S3 server, signing with `secret`: the server and
/// the run (`None`, test SKIPPED, without s3s-fs).
async fn check_with_s3(secret: &str) -> Option<(s3s::S3Server, Run)> {
    let server = s3s::S3Server::start()?;
    let h = Harness::start().await;
    let run = h.check(&h.config(s3_config(&server, secret))).await;
    Some((server, run))
}

fn s3_config(server: &s3s::S3Server, secret: &str) -> Value {
    json!({"object_storage_config": {
        "storage_type": "S3",
        "s3_bucket_name": s3s::BUCKET,
        "s3_bucket_region": "us-east-1",
        "bucket_path": "dlq",
        "s3_endpoint": server.endpoint(),
        "access_key_id": s3s::ACCESS_KEY,
        "secret_access_key": secret,
        "format": {"format_type": "JSONL"}
    }})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_writes_and_deletes_a_probe_in_s3() {
    let Some((server, run)) = check_with_s3(s3s::SECRET_KEY).await else {
        return;
    };
    let status = &run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
    assert_eq!(status["status"], "SUCCEEDED", "{status} {}", run.stderr);
    assert!(
        server.objects().is_empty(),
        "probe deleted: {:?}",
        server.objects()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_with_a_wrong_s3_secret_fails_naming_the_keys() {
    let Some((_server, run)) = check_with_s3("wrong-secret-value").await else {
        return;
    };
    let status = &run.of_type("CONNECTION_STATUS")[0]["connectionStatus"];
    assert_eq!(status["status"], "FAILED");
    let message = message_of(status);
    assert!(
        message.contains("access_key_id and secret_access_key"),
        "{message}"
    );
    assert!(!message.contains("wrong-secret-value"), "{message}");
    assert!(!run.stderr.contains("wrong-secret-value"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discover_lists_each_objects_operations_with_schemas_and_keys() {
    let operations = Harness::start().await.discovered_operations().await;
    let find = |object: &str, mode: &str| operation(&operations, object, mode);
    let insert = find("Account", "append");
    assert_eq!(insert["json_schema"]["additionalProperties"], false);
    assert!(insert["json_schema"]["properties"]["Name"].is_object());
    assert!(insert["json_schema"]["properties"].get("Id").is_none());
    assert!(insert["json_schema"]["required"]
        .as_array()
        .unwrap()
        .contains(&json!("Name")));
    let update = find("Account", "update");
    assert_eq!(update["matching_keys"], json!([["Id"]]));
    let upsert = find("Product_Catalog__c", "append_dedup");
    assert_eq!(upsert["matching_keys"], json!([["External_Id__c"]]));
    let delete = find("Account", "soft_delete");
    assert_eq!(
        delete["json_schema"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["Id"]
    );
    assert!(
        !operations
            .iter()
            .any(|o| o["object_name"] == "Contact" && o["sync_mode"] == "append_dedup"),
        "Contact has no external id field"
    );
}
