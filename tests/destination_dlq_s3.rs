//! The dead-letter queue against a real S3-compatible server (`s3s-fs`: SigV4-checked, objects
//! kept as files), started on loopback with fixed keys. SKIPPED when the binary is absent,
//! unless `CI` is set (then it must be there: `.ci/run` installs it).

mod destination_support;
use destination_support::s3s;

use chrono::Utc;
use salesforce_connector::config::Secret;
use salesforce_connector::destination::dlq::{
    DeadLetterQueue, DlqError, DlqFormat, DlqSettings, DlqTarget, Rejection, RunIdentity,
};
use serde_json::value::RawValue;

fn settings(server: &s3s::S3Server, secret: &str, format: DlqFormat) -> DlqSettings {
    DlqSettings {
        target: DlqTarget::S3 {
            bucket: s3s::BUCKET.into(),
            region: "us-east-1".into(),
            bucket_path: "dead/letters".into(),
            endpoint: Some(server.endpoint()),
            access_key_id: Some(Secret::new(s3s::ACCESS_KEY)),
            secret_access_key: Some(Secret::new(secret)),
        },
        format,
        path_format: "{sync_id}/{namespace}/{stream_name}/".into(),
        file_name_format: "{date}_{timestamp}_{part_number}{format_extension}".into(),
    }
}

fn rejection() -> Rejection {
    Rejection {
        stream: "scores".into(),
        namespace: Some("warehouse".into()),
        object: Some("Account".into()),
        operation: Some("upsert".into()),
        job_id: Some("7500000000000AAAAA".into()),
        attempt: 2,
        time: Utc::now(),
        error_code: "DUPLICATE_VALUE".into(),
        error_message: "Duplicate external id specified: 42".into(),
        error_fields: vec!["Ext__c".into()],
        record: RawValue::from_string(r#"{"ext__c":"42","score":9.5E1}"#.into()).unwrap(),
    }
}

#[tokio::test]
async fn rejections_land_in_s3_readable_with_every_field() {
    let Some(server) = s3s::S3Server::start() else {
        return;
    };
    let run = RunIdentity {
        run_id: "run1".into(),
        sync_id: Some("sync42".into()),
    };
    let queue =
        DeadLetterQueue::open(settings(&server, s3s::SECRET_KEY, DlqFormat::Jsonl), run).unwrap();
    queue.probe().await.unwrap();
    let mut writer = queue.writer("scores", Some("warehouse"));
    writer.push(&rejection()).await.unwrap();
    let keys = writer.finish(Utc::now()).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0].starts_with("dead/letters/sync42/warehouse/scores/"),
        "{}",
        keys[0]
    );

    let objects = server.objects();
    assert_eq!(
        objects.len(),
        1,
        "probe removed, one DLQ object: {objects:?}"
    );
    let (key, body) = &objects[0];
    assert_eq!(key, &keys[0]);
    let line: serde_json::Value = serde_json::from_str(body.trim()).unwrap();
    for field in [
        "stream",
        "namespace",
        "object",
        "operation",
        "job_id",
        "attempt",
        "time",
        "error_code",
        "error_message",
        "error_fields",
        "record",
    ] {
        assert!(!line[field].is_null(), "{field} missing in {line}");
    }
    assert_eq!(line["error_code"], "DUPLICATE_VALUE");
    assert_eq!(line["attempt"], 2);
    assert_eq!(line["record"]["ext__c"], "42");
}

#[tokio::test]
async fn a_wrong_secret_key_is_reported_as_a_credentials_problem() {
    let Some(server) = s3s::S3Server::start() else {
        return;
    };
    let run = RunIdentity::new(Utc::now(), None);
    let queue =
        DeadLetterQueue::open(settings(&server, "not-the-secret", DlqFormat::Csv), run).unwrap();
    let err = queue.probe().await.unwrap_err();
    assert!(matches!(err, DlqError::Credentials { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("access_key_id and secret_access_key"),
        "{message}"
    );
    assert!(!message.contains("not-the-secret"), "{message}");
}
