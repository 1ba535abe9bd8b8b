//! The destination config: Airbyte destination-salesforce's JSON (including the S3 dead-letter
//! queue in `object_storage_config`), plus our additive options.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use url::Url;

use super::auth::ConnectionKeys;
use super::parse::{integer_in, lenient_bool, non_empty, some_u32, some_u64};
use super::url::parse_base_url;
use super::{ConfigError, Connection};
use crate::secret::Secret;

const DEFAULT_DEAD_LETTER_FOLDER: &str = "./dead-letter";
/// Bulk API 2.0 accepts at most 150 MB of base64 per upload; 100 MB raw stays under it.
const MAX_BATCH_SIZE_BYTES: u64 = 100 * 1024 * 1024;
const DEFAULT_MAX_CONCURRENT_JOBS: u32 = 4;
const DEFAULT_MAX_RETRIES: u32 = 3;
const DEFAULT_PATH_FORMAT: &str = "{sync_id}/{namespace}/{stream_name}/";
const DEFAULT_FILE_NAME_FORMAT: &str = "{date}_{timestamp}_{part_number}{format_extension}";

/// The regions Airbyte's spec lists for `s3_bucket_region` (the empty string means "from the
/// environment").
pub(crate) const S3_REGIONS: [&str; 34] = [
    "",
    "af-south-1",
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

/// The config JSON as written, before validation. Its schema is the destination spec.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(
    title = "Salesforce Destination Spec",
    description = "Airbyte destination-salesforce configs work unchanged; the extra options are additive."
)]
pub(crate) struct RawDestinationConfig {
    // The connection keys (`credentials`, `is_sandbox`, `login_url`, `ca_certificate`,
    // `api_version`) and the flat credential keys (`auth_type`, `client_id`, ...) are read into
    // [`ConnectionKeys`] from the same object, and added to the spec from it: see
    // `ConnectionKeys::read_with`.
    /// Where records Salesforce rejects are written (the dead-letter queue): S3, or nothing
    /// here to use the local `dead_letter_folder`.
    #[schemars(title = "Object Storage Spec", with = "Option<ObjectStorageSchema>")]
    pub object_storage_config: Option<RawS3Config>,
    /// The local folder for rejected records when no S3 storage is configured.
    #[serde(default = "default_dead_letter_folder")]
    #[schemars(title = "Dead-Letter Folder")]
    pub dead_letter_folder: Option<String>,
    /// The largest CSV upload per Bulk ingest job, in bytes (at most 100 MiB).
    #[serde(default = "some_u64::<MAX_BATCH_SIZE_BYTES>")]
    #[schemars(title = "Batch Size (bytes)", range(min = 1, max = 104857600))]
    pub batch_size_bytes: Option<u64>,
    /// How many Bulk ingest jobs run at once.
    #[serde(default = "some_u32::<DEFAULT_MAX_CONCURRENT_JOBS>")]
    #[schemars(title = "Concurrent Jobs", range(min = 1, max = 100))]
    pub max_concurrent_jobs: Option<u32>,
    /// How many times a batch whose job failed as a whole is retried.
    #[serde(default = "some_u32::<DEFAULT_MAX_RETRIES>")]
    #[schemars(title = "Retries", range(max = 20))]
    pub max_retries: Option<u32>,
    /// How long a STATE may wait for batches that are not full before they are sent anyway, in
    /// seconds (1 to 3600): bounds how stale the echoed state gets on a slow trickle of records.
    #[serde(default = "some_u32::<DEFAULT_STATE_FLUSH_SECONDS>")]
    #[schemars(title = "State Flush Interval (seconds)", range(min = 1, max = 3600))]
    pub state_flush_seconds: Option<u32>,
    /// Streams whose `soft_delete` is a hard delete: Bulk API `hardDelete`, the records skip
    /// the recycle bin and cannot be restored. Needs the "Bulk API Hard Delete" user
    /// permission; `check` verifies it when this list is not empty. (Airbyte's protocol has no
    /// hard-delete sync mode.)
    #[serde(default)]
    #[schemars(title = "Hard Delete Streams")]
    pub hard_delete_streams: Option<Vec<String>>,
    /// Map, convert and check every record against describe as a real write would, and read
    /// the org (Bulk queries) to check that the Ids of updates and deletes and the parents of
    /// relationship columns exist, but send nothing to Salesforce: what would be rejected goes
    /// to the dead-letter queue, STATE
    /// messages are echoed, and a summary per stream is logged and written beside the
    /// dead-letter queue. Validation rules and triggers of the org cannot be predicted.
    #[serde(default, deserialize_with = "lenient_bool")]
    #[schemars(title = "Dry Run", with = "bool")]
    pub dry_run: bool,
    /// Write a line per input record (stream, key, operation, outcome: created, updated,
    /// deleted or rejected, and the Salesforce Id) under `outcome_report/` in the dead-letter
    /// queue's store, so the Ids can be written back to the source.
    #[serde(default, deserialize_with = "lenient_bool")]
    #[schemars(title = "Outcome Report", with = "bool")]
    pub outcome_report: bool,
    /// For update and upsert streams, read the current values of the written fields for the
    /// incoming keys first (Bulk queries) and send only the records whose values differ after
    /// Salesforce's own normalisation; unchanged records are skipped (counted, and reported as
    /// `skipped_unchanged` in the outcome report). Saves the org's triggers, flows and
    /// validation rules from rewrites that change nothing.
    #[serde(default, deserialize_with = "lenient_bool")]
    #[schemars(title = "Skip Unchanged Records", with = "bool")]
    pub skip_unchanged_records: bool,
}

fn default_dead_letter_folder() -> Option<String> {
    Some(DEFAULT_DEAD_LETTER_FOLDER.into())
}

/// Default `state_flush_seconds`.
pub(super) const DEFAULT_STATE_FLUSH_SECONDS: u32 = 30;

use storage_schema::ObjectStorageSchema;

mod storage_schema {
    //! schemars' derive spells a newtype variant's type as a qualified path, which
    //! `unused_qualifications` reports on the variant; this module confines the allow to it.
    #![allow(unused_qualifications)]

    use schemars::JsonSchema;

    use super::RawS3Config;

    /// `object_storage_config` as the spec shows it: Airbyte's `oneOf` on `storage_type`.
    /// Parsing goes through [`super::RawObjectStorage`] instead, whose errors can name nested
    /// keys.
    #[allow(dead_code)]
    #[derive(JsonSchema)]
    #[serde(tag = "storage_type")]
    pub(super) enum ObjectStorageSchema {
        #[serde(rename = "None")]
        #[schemars(title = "None")]
        None {},
        #[serde(rename = "S3")]
        #[schemars(title = "S3")]
        S3(Box<RawS3Config>),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub(crate) enum StorageType {
    None,
    S3,
}

// Parsed directly (discriminator included) so that errors name nested keys; the spec shows
// it as the `S3` option of `ObjectStorageSchema`.
/// Write rejected records to an S3 bucket.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
pub(crate) struct RawS3Config {
    #[schemars(skip)]
    pub storage_type: StorageType,
    /// The access key ID to access the S3 bucket (read and write permissions).
    #[schemars(title = "Access Key ID")]
    pub access_key_id: Option<Secret>,
    /// The corresponding secret to the access key ID.
    #[schemars(title = "Secret Access Key")]
    pub secret_access_key: Option<Secret>,
    /// The ARN of the AWS role to assume.
    #[schemars(title = "Role ARN")]
    pub role_arn: Option<String>,
    /// The name of the S3 bucket.
    #[schemars(title = "S3 Bucket Name")]
    pub s3_bucket_name: Option<String>,
    /// The region of the S3 bucket.
    #[serde(default = "default_region")]
    #[schemars(title = "S3 Bucket Region")]
    pub s3_bucket_region: Option<String>,
    /// Your S3 endpoint URL (an S3-compatible server).
    #[schemars(title = "S3 Endpoint")]
    pub s3_endpoint: Option<String>,
    /// All files in the bucket are prefixed by this.
    #[schemars(title = "Prefix Path in the Bucket")]
    pub bucket_path: Option<String>,
    /// Format of the dead-letter files.
    #[serde(default, deserialize_with = "format_or_name")]
    #[schemars(title = "Output Format")]
    pub format: Option<OutputFormat>,
    /// Whether the dead-letter files are compressed.
    #[schemars(title = "Compression")]
    pub compression: Option<Compression>,
    /// The folder layout under `bucket_path`.
    #[serde(default = "default_path_format")]
    #[schemars(title = "Path Format")]
    pub path_format: Option<String>,
    /// The file name pattern.
    #[serde(default = "default_file_name_format")]
    #[schemars(title = "File Name Format")]
    pub file_name_format: Option<String>,
}

fn default_region() -> Option<String> {
    Some(String::new())
}
fn default_path_format() -> Option<String> {
    Some(DEFAULT_PATH_FORMAT.into())
}
fn default_file_name_format() -> Option<String> {
    Some(DEFAULT_FILE_NAME_FORMAT.into())
}

/// `format`: CSV (default) or JSON Lines.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(tag = "format_type")]
pub enum OutputFormat {
    #[serde(rename = "CSV")]
    #[schemars(title = "CSV: Comma-Separated Values")]
    Csv {
        #[serde(default)]
        #[schemars(title = "Flattening")]
        flattening: Flattening,
    },
    #[serde(rename = "JSONL")]
    #[schemars(title = "JSON Lines: Newline-delimited JSON")]
    Jsonl {
        #[serde(default)]
        #[schemars(title = "Flattening")]
        flattening: Flattening,
    },
}

/// Airbyte's spec declares `"default": "CSV"` on the object: accept the bare name too.
fn format_or_name<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<OutputFormat>, D::Error> {
    use serde::de::Error;
    match Option::<Value>::deserialize(deserializer)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => match name.as_str() {
            "CSV" => Ok(Some(OutputFormat::Csv {
                flattening: Flattening::default(),
            })),
            "JSONL" => Ok(Some(OutputFormat::Jsonl {
                flattening: Flattening::default(),
            })),
            other => Err(D::Error::custom(format!(
                "expected \"CSV\" or \"JSONL\", got {other:?}"
            ))),
        },
        Some(object) => OutputFormat::deserialize(object)
            .map(Some)
            .map_err(D::Error::custom),
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Flattening {
    #[default]
    #[serde(rename = "No flattening")]
    NoFlattening,
    #[serde(rename = "Root level flattening")]
    RootLevel,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(tag = "compression_type")]
pub enum Compression {
    #[default]
    #[serde(rename = "No Compression")]
    #[schemars(title = "No Compression")]
    None,
    #[serde(rename = "GZIP")]
    #[schemars(title = "GZIP")]
    Gzip,
}

/// Where rejected records go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeadLetterQueue {
    /// A local folder (created when needed).
    Local {
        folder: PathBuf,
    },
    S3(Box<S3DeadLetter>),
}

/// A validated S3 dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3DeadLetter {
    pub bucket: String,
    /// Empty: from the environment / the endpoint's default.
    pub region: String,
    pub endpoint: Option<Url>,
    pub bucket_path: String,
    pub access_key_id: Option<Secret>,
    pub secret_access_key: Option<Secret>,
    pub role_arn: Option<String>,
    pub format: OutputFormat,
    pub compression: Compression,
    pub path_format: String,
    pub file_name_format: String,
}

/// A validated destination config.
#[derive(Clone)]
pub struct DestinationConfig {
    pub is_sandbox: bool,
    connection: Connection,
    pub dead_letter: DeadLetterQueue,
    pub batch_size_bytes: u64,
    pub max_concurrent_jobs: usize,
    pub max_retries: u32,
    /// A STATE waiting this long sends the open batches before it.
    pub state_flush_interval: std::time::Duration,
    /// Streams whose `soft_delete` runs as `hardDelete`.
    pub hard_delete_streams: Vec<String>,
    /// Check and report, send nothing.
    pub dry_run: bool,
    /// A line per input record in the outcome report.
    pub outcome_report: bool,
    /// Update and upsert streams send only records that change something.
    pub skip_unchanged_records: bool,
    pub unknown_keys: Vec<String>,
    raw: Value,
}

impl std::fmt::Debug for DestinationConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DestinationConfig")
            .field("connection", &self.connection)
            .field("dead_letter", &self.dead_letter)
            .field("batch_size_bytes", &self.batch_size_bytes)
            .finish_non_exhaustive()
    }
}

impl DestinationConfig {
    /// Parses and validates a config; every error names its key.
    pub fn from_value(value: Value) -> Result<Self, ConfigError> {
        let (raw, keys, unknown_keys): (RawDestinationConfig, _, _) =
            ConnectionKeys::read_with(&value)?;
        let connection = keys.connection()?;
        let dead_letter = match raw.object_storage_config {
            Some(s3) if s3.storage_type == StorageType::S3 => {
                DeadLetterQueue::S3(Box::new(validate_s3(s3)?))
            }
            Some(_) | None => DeadLetterQueue::Local {
                folder: PathBuf::from(
                    non_empty(&raw.dead_letter_folder).unwrap_or(DEFAULT_DEAD_LETTER_FOLDER),
                ),
            },
        };
        let batch_size_bytes = raw.batch_size_bytes.unwrap_or(MAX_BATCH_SIZE_BYTES);
        if !(1..=MAX_BATCH_SIZE_BYTES).contains(&batch_size_bytes) {
            return Err(ConfigError::new(
                "batch_size_bytes",
                format!("expected 1 to {MAX_BATCH_SIZE_BYTES} (100 MiB), got {batch_size_bytes}"),
            ));
        }
        let max_concurrent_jobs = integer_in(
            "max_concurrent_jobs",
            raw.max_concurrent_jobs
                .unwrap_or(DEFAULT_MAX_CONCURRENT_JOBS),
            1..=100,
        )?;
        let max_retries = integer_in(
            "max_retries",
            raw.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
            0..=20,
        )?;
        let state_flush_seconds = integer_in(
            "state_flush_seconds",
            raw.state_flush_seconds
                .unwrap_or(DEFAULT_STATE_FLUSH_SECONDS),
            1..=3600,
        )?;
        let hard_delete_streams = raw.hard_delete_streams.unwrap_or_default();
        if let Some(blank) = hard_delete_streams.iter().position(|s| s.trim().is_empty()) {
            return Err(ConfigError::new(
                format!("hard_delete_streams[{blank}]"),
                "expected a stream name, got an empty string",
            ));
        }
        if !unknown_keys.is_empty() {
            tracing::info!("config: ignoring keys this connector does not use: {unknown_keys:?}");
        }
        Ok(DestinationConfig {
            is_sandbox: keys.is_sandbox,
            connection,
            dead_letter,
            batch_size_bytes,
            max_concurrent_jobs: max_concurrent_jobs as usize,
            max_retries,
            state_flush_interval: std::time::Duration::from_secs(u64::from(state_flush_seconds)),
            hard_delete_streams,
            dry_run: raw.dry_run,
            outcome_report: raw.outcome_report,
            skip_unchanged_records: raw.skip_unchanged_records,
            unknown_keys,
            raw: value,
        })
    }

    /// What the Salesforce client needs to connect.
    pub fn connection(&self) -> Result<Connection, ConfigError> {
        Ok(self.connection.clone())
    }

    /// Extra CAs to trust (`ca_certificate`), also for the dead-letter queue's S3.
    pub fn ca_certificate(&self) -> Option<&super::CaCertificates> {
        self.connection.ca_certificate.as_ref()
    }

    /// The config exactly as given (holds secrets: for CONNECTOR_CONFIG only).
    pub fn raw(&self) -> &Value {
        &self.raw
    }
}

fn validate_s3(s3: RawS3Config) -> Result<S3DeadLetter, ConfigError> {
    const PREFIX: &str = "object_storage_config";
    let bucket = non_empty(&s3.s3_bucket_name)
        .ok_or_else(|| ConfigError::missing(format!("{PREFIX}.s3_bucket_name"), "the bucket name"))?
        .to_owned();
    let region = s3.s3_bucket_region.clone().unwrap_or_default();
    if !region.is_empty() && !looks_like_aws_region(&region) {
        return Err(ConfigError::new(
            format!("{PREFIX}.s3_bucket_region"),
            format!("expected \"\" or an AWS region such as \"us-east-1\", got {region:?}"),
        ));
    }
    let endpoint = non_empty(&s3.s3_endpoint)
        .map(|text| parse_base_url(&format!("{PREFIX}.s3_endpoint"), text))
        .transpose()?;
    let secret = |s: &Option<Secret>| s.clone().filter(|s| !s.expose().is_empty());
    let access_key_id = secret(&s3.access_key_id);
    let secret_access_key = secret(&s3.secret_access_key);
    match (&access_key_id, &secret_access_key) {
        (Some(_), None) => {
            return Err(ConfigError::missing(
                format!("{PREFIX}.secret_access_key"),
                "the secret for access_key_id",
            ))
        }
        (None, Some(_)) => {
            return Err(ConfigError::missing(
                format!("{PREFIX}.access_key_id"),
                "the key id for secret_access_key",
            ))
        }
        _ => {}
    }
    Ok(S3DeadLetter {
        bucket,
        region,
        endpoint,
        bucket_path: s3.bucket_path.unwrap_or_default(),
        access_key_id,
        secret_access_key,
        role_arn: non_empty(&s3.role_arn).map(str::to_owned),
        format: s3.format.unwrap_or(OutputFormat::Csv {
            flattening: Flattening::NoFlattening,
        }),
        compression: s3.compression.unwrap_or_default(),
        path_format: non_empty(&s3.path_format)
            .unwrap_or(DEFAULT_PATH_FORMAT)
            .to_owned(),
        file_name_format: non_empty(&s3.file_name_format)
            .unwrap_or(DEFAULT_FILE_NAME_FORMAT)
            .to_owned(),
    })
}

/// `us-east-1`, `us-gov-west-1`, `ap-southeast-4`: lower-case words and a number.
fn looks_like_aws_region(region: &str) -> bool {
    S3_REGIONS.contains(&region) || {
        let parts: Vec<&str> = region.split('-').collect();
        parts.len() >= 3
            && parts[..parts.len() - 1]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
            && parts[parts.len() - 1].bytes().all(|b| b.is_ascii_digit())
            && !parts[parts.len() - 1].is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Credentials;
    use serde_json::json;

    fn airbyte_example() -> Value {
        // The published example: no auth_type, no bucket_path, no format.
        json!({"client_id": "id", "client_secret": "cs-value", "refresh_token": "rt-value",
               "is_sandbox": false,
               "object_storage_config": {"storage_type": "S3", "s3_bucket_name": "dlq",
                   "s3_bucket_region": "us-east-1", "access_key_id": "AKIA", "secret_access_key": "sk"}})
    }

    fn error(value: Value) -> String {
        DestinationConfig::from_value(value)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn published_example_parses_leniently() {
        let config = DestinationConfig::from_value(airbyte_example()).unwrap();
        let DeadLetterQueue::S3(s3) = &config.dead_letter else {
            panic!("expected S3")
        };
        assert_eq!(s3.bucket, "dlq");
        assert_eq!(s3.bucket_path, "");
        assert_eq!(
            s3.format,
            OutputFormat::Csv {
                flattening: Flattening::NoFlattening
            }
        );
        assert_eq!(s3.path_format, "{sync_id}/{namespace}/{stream_name}/");
        assert!(matches!(
            config.connection().unwrap().credentials,
            Credentials::RefreshToken { .. }
        ));
        assert_eq!(config.batch_size_bytes, 100 * 1024 * 1024);
        assert_eq!(config.max_concurrent_jobs, 4);
        assert_eq!(config.max_retries, 3);
    }

    #[test]
    fn full_airbyte_form_parses() {
        let config = DestinationConfig::from_value(json!({
            "client_id": "id", "client_secret": "s", "refresh_token": "r", "is_sandbox": true,
            "auth_type": "Client",
            "object_storage_config": {"storage_type": "S3", "s3_bucket_name": "b",
                "s3_bucket_region": "", "bucket_path": "prefix/", "s3_endpoint": "http://127.0.0.1:9000",
                "format": {"format_type": "JSONL", "flattening": "Root level flattening"},
                "compression": {"compression_type": "GZIP"},
                "path_format": "{stream_name}/", "file_name_format": "{part_number}"}
        }))
        .unwrap();
        assert_eq!(
            config.connection().unwrap().login_url.as_str(),
            "https://test.salesforce.com/"
        );
        let DeadLetterQueue::S3(s3) = config.dead_letter else {
            panic!()
        };
        assert_eq!(
            s3.format,
            OutputFormat::Jsonl {
                flattening: Flattening::RootLevel
            }
        );
        assert_eq!(s3.compression, Compression::Gzip);
        assert_eq!(s3.endpoint.unwrap().as_str(), "http://127.0.0.1:9000/");
    }

    #[test]
    fn format_may_be_the_bare_default_name() {
        let mut value = airbyte_example();
        value["object_storage_config"]["format"] = json!("CSV");
        assert!(DestinationConfig::from_value(value).is_ok());
    }

    #[test]
    fn no_storage_means_the_local_dead_letter_folder() {
        let config = DestinationConfig::from_value(json!({"client_id": "id",
            "client_secret": "s", "refresh_token": "r",
            "object_storage_config": {"storage_type": "None"}}))
        .unwrap();
        assert_eq!(
            config.dead_letter,
            DeadLetterQueue::Local {
                folder: PathBuf::from("./dead-letter")
            }
        );
        let config = DestinationConfig::from_value(json!({"client_id": "id",
            "client_secret": "s", "refresh_token": "r", "dead_letter_folder": "/tmp/dlq"}))
        .unwrap();
        assert_eq!(
            config.dead_letter,
            DeadLetterQueue::Local {
                folder: PathBuf::from("/tmp/dlq")
            }
        );
    }

    #[test]
    fn bad_values_name_the_key_and_the_expected_form() {
        let with_s3 = |key: &str, v: Value| {
            let mut value = airbyte_example();
            value["object_storage_config"][key] = v;
            value
        };
        let with = |key: &str, v: Value| {
            let mut value = airbyte_example();
            value[key] = v;
            value
        };
        let cases = [
            (with_s3("s3_bucket_region", json!("mars-1")),
             "object_storage_config.s3_bucket_region: expected \"\" or an AWS region such as \"us-east-1\", got \"mars-1\""),
            (with_s3("s3_bucket_name", json!("")),
             "object_storage_config.s3_bucket_name: missing; expected the bucket name"),
            (with_s3("storage_type", json!("GCS")),
             "object_storage_config.storage_type: unknown variant `GCS`, expected `None` or `S3`"),
            (with_s3("s3_endpoint", json!("http://minio.example.com")),
             "object_storage_config.s3_endpoint: expected an https:// URL (http:// only for loopback hosts), got \"http://minio.example.com\""),
            (with_s3("format", json!("PARQUET")),
             "object_storage_config.format: expected \"CSV\" or \"JSONL\", got \"PARQUET\""),
            (with_s3("secret_access_key", Value::Null),
             "object_storage_config.secret_access_key: missing; expected the secret for access_key_id"),
            (with("batch_size_bytes", json!(200_000_000)),
             "batch_size_bytes: expected 1 to 104857600 (100 MiB), got 200000000"),
            (with("max_concurrent_jobs", json!(0)),
             "max_concurrent_jobs: expected an integer from 1 to 100, got 0"),
            (with("max_retries", json!(-1)),
             "max_retries: invalid value: integer `-1`, expected u32"),
            (with("state_flush_seconds", json!(0)),
             "state_flush_seconds: expected an integer from 1 to 3600, got 0"),
            (with("hard_delete_streams", json!(["purge", " "])),
             "hard_delete_streams[1]: expected a stream name, got an empty string"),
            (with("refresh_token", Value::Null),
             "refresh_token: missing; expected a non-empty string (at the top level or under \"credentials\")"),
        ];
        for (config, expected) in cases {
            assert_eq!(error(config), expected);
        }
    }

    #[test]
    fn a_wrongly_typed_s3_secret_is_not_echoed() {
        let mut value = airbyte_example();
        value["object_storage_config"]["secret_access_key"] = json!(12345678);
        assert_eq!(
            error(value),
            "object_storage_config.secret_access_key: expected a string (the value is secret and not shown)"
        );
    }
}
