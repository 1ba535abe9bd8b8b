//! The dead-letter queue against a real S3-compatible server (`s3s-fs`: SigV4-checked, objects
//! kept as files), started on loopback with fixed keys. SKIPPED when the binary is absent,
//! unless `CI` is set (then it must be there: `.ci/run` installs it).

use crate::support::files::files_under;
use crate::support::s3s;

use chrono::Utc;
use salesforce_connector::dlq::{
    DeadLetterQueue, DlqError, DlqFormat, DlqSettings, DlqTarget, Rejection, RunIdentity,
};
use salesforce_connector::secret::Secret;
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
            ca_certificate: None,
        },
        format,
        gzip: false,
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

fn s3_destination_config(
    h: &crate::support::destination::Harness,
    server: &s3s::S3Server,
    format: &str,
) -> serde_json::Value {
    s3_destination_config_compressed(h, server, format, "No Compression")
}

fn s3_destination_config_compressed(
    h: &crate::support::destination::Harness,
    server: &s3s::S3Server,
    format: &str,
    compression: &str,
) -> serde_json::Value {
    h.config(serde_json::json!({
        "object_storage_config": server.storage_config(format, compression)
    }))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writes_rejects_land_in_s3_with_salesforce_errors_and_conversion_errors() {
    use crate::support::destination::{account_inserts, record_line, state_line, Harness};
    use serde_json::json;
    let Some(server) = s3s::S3Server::start() else {
        return;
    };
    let h = Harness::start().await;
    let cat = account_inserts("scores", &["Name", "NumberOfEmployees"]);
    let mut input = String::new();
    input += &record_line("scores", json!({"Name": "S3 Good"}));
    input += &record_line("scores", json!({"NumberOfEmployees": 3}));
    input += &record_line(
        "scores",
        json!({"Name": "S3 Bad", "NumberOfEmployees": 1.5}),
    );
    input += &state_line("scores", 5, json!(1));
    let run = h
        .write(&s3_destination_config(&h, &server, "JSONL"), &cat, &input)
        .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.all_states()[0]["destinationStats"]["rejectedRecordCount"],
        2.0
    );
    assert!(
        files_under(&h.dlq_folder()).is_empty(),
        "S3, not the local folder"
    );
    let objects = server.objects();
    let lines: Vec<serde_json::Value> = objects
        .iter()
        .inspect(|(key, _)| assert!(key.starts_with("rejects/"), "{key}"))
        .flat_map(|(_, body)| {
            body.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(lines.len(), 2, "{objects:?}");
    let missing = lines
        .iter()
        .find(|l| l["error_code"] == "REQUIRED_FIELD_MISSING")
        .expect("Salesforce's error");
    assert!(missing["job_id"].as_str().unwrap().starts_with("750"));
    assert_eq!(missing["attempt"], 1);
    assert_eq!(missing["object"], "Account");
    assert_eq!(missing["operation"], "insert");
    assert_eq!(missing["record"]["NumberOfEmployees"], 3);
    let invalid = lines
        .iter()
        .find(|l| l["error_code"] == "INVALID_VALUE")
        .expect("conversion error");
    assert!(invalid["error_message"]
        .as_str()
        .unwrap()
        .contains("NumberOfEmployees"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_rejects_in_s3_read_back_with_a_csv_reader() {
    use crate::support::destination::{account_inserts, record_line, Harness};
    use serde_json::json;
    let Some(server) = s3s::S3Server::start() else {
        return;
    };
    let h = Harness::start().await;
    let cat = account_inserts("scores", &["Name", "Description"]);
    let input = record_line(
        "scores",
        json!({"Description": "has, a comma and \"quotes\""}),
    );
    let run = h
        .write(&s3_destination_config(&h, &server, "CSV"), &cat, &input)
        .await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let objects = server.objects();
    assert_eq!(objects.len(), 1);
    assert!(objects[0].0.ends_with(".csv"), "{}", objects[0].0);
    let mut reader = csv::Reader::from_reader(objects[0].1.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let row = reader.records().next().unwrap().unwrap();
    let column = |name: &str| row[header.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(column("error_code"), "REQUIRED_FIELD_MISSING");
    let record: serde_json::Value = serde_json::from_str(&column("record")).unwrap();
    assert_eq!(record["Description"], "has, a comma and \"quotes\"");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_compressed_rejects_in_s3_are_whole_gzip_files() {
    use crate::support::destination::{account_inserts, record_line, Harness};
    use serde_json::json;
    use std::io::Read;
    let Some(server) = s3s::S3Server::start() else {
        return;
    };
    let h = Harness::start().await;
    let cat = account_inserts("scores", &["Name", "NumberOfEmployees"]);
    let mut input = record_line("scores", json!({"NumberOfEmployees": 3}));
    input += &record_line(
        "scores",
        json!({"Name": "GZ Bad", "NumberOfEmployees": "x"}),
    );
    let config = s3_destination_config_compressed(&h, &server, "JSONL", "GZIP");
    let run = h.write(&config, &cat, &input).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let files = server.object_bytes();
    assert!(!files.is_empty());
    let mut lines = Vec::new();
    for (key, body) in &files {
        assert!(key.ends_with(".jsonl.gz"), "{key}");
        let mut text = String::new();
        flate2::read::GzDecoder::new(body.as_slice())
            .read_to_string(&mut text)
            .unwrap_or_else(|e| panic!("{key} is not gzip: {e}"));
        lines.extend(
            text.lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()),
        );
    }
    let mut codes: Vec<&str> = lines
        .iter()
        .map(|l| l["error_code"].as_str().unwrap())
        .collect();
    codes.sort();
    assert_eq!(codes, ["INVALID_VALUE", "REQUIRED_FIELD_MISSING"]);
}
