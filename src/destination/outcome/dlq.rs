//! The dead-letter queue: rejected records, with the reason, written to object storage.
//!
//! Airbyte's `object_storage_config` (S3, or any S3-compatible store through `s3_endpoint`
//! with path-style addressing) or, when none is configured, a local folder; both through the
//! `object_store` crate. Each write is a new object whose name carries the run id and a part
//! number, so runs and streams never overwrite each other. A write returns only once the object
//! is stored (and, for the local folder, fsynced), which is what lets STATE follow it.

use std::path::{Path as FsPath, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{
    BackoffConfig, Certificate, ClientOptions, ObjectStore, PutPayload, RetryConfig,
};
use serde::Serialize;
use serde_json::value::RawValue;
use thiserror::Error;
use url::Url;

use crate::config::CaCertificates;
use crate::secret::Secret;

use crate::destination::batch::csv_row::write_csv_row;

/// One DLQ object is cut when its encoded rows reach this size, so memory stays bounded.
const MAX_OBJECT_BYTES: usize = 4 * 1024 * 1024;

/// Airbyte's default `path_format`.
pub const DEFAULT_PATH_FORMAT: &str = "{sync_id}/{namespace}/{stream_name}/";
/// Airbyte's default `file_name_format`.
pub const DEFAULT_FILE_NAME_FORMAT: &str = "{date}_{timestamp}_{part_number}{format_extension}";

/// Where rejected records go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DlqTarget {
    /// A folder on the local disk (created if missing).
    Local { folder: PathBuf },
    S3 {
        bucket: String,
        /// Empty means the AWS default (`us-east-1`).
        region: String,
        /// Key prefix inside the bucket (`bucket_path`).
        bucket_path: String,
        /// An S3-compatible endpoint (MinIO, s3s...); addressed path-style.
        endpoint: Option<String>,
        access_key_id: Option<Secret>,
        secret_access_key: Option<Secret>,
        /// Extra CAs to trust (the config's `ca_certificate`).
        ca_certificate: Option<CaCertificates>,
    },
}

/// The file format of DLQ objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DlqFormat {
    Jsonl,
    Csv,
}

impl DlqSettings {
    /// `{format_extension}`: `.jsonl`, `.csv`, with `.gz` when compressed.
    fn extension(&self) -> &'static str {
        match (self.format, self.gzip) {
            (DlqFormat::Jsonl, false) => ".jsonl",
            (DlqFormat::Csv, false) => ".csv",
            (DlqFormat::Jsonl, true) => ".jsonl.gz",
            (DlqFormat::Csv, true) => ".csv.gz",
        }
    }
}

/// The dead-letter queue's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DlqSettings {
    pub target: DlqTarget,
    pub format: DlqFormat,
    /// Each object is one gzip file (`.jsonl.gz`, `.csv.gz`): `compression` GZIP.
    pub gzip: bool,
    /// Folder template: `{sync_id}`, `{namespace}`, `{stream_name}`, `{date}`, `{run_id}`...
    pub path_format: String,
    /// File template: also `{timestamp}`, `{part_number}`, `{format_extension}`.
    pub file_name_format: String,
}

impl DlqSettings {
    /// The settings the destination config describes (`object_storage_config`, or the local
    /// `dead_letter_folder`).
    pub fn from_config(
        config: &crate::config::DeadLetterQueue,
        ca_certificate: Option<&CaCertificates>,
    ) -> Result<DlqSettings, DlqError> {
        use crate::config::{Compression, DeadLetterQueue as Configured, OutputFormat};
        match config {
            Configured::Local { folder } => Ok(DlqSettings::local(folder.clone())),
            Configured::S3(s3) => {
                if s3.role_arn.is_some() {
                    return Err(DlqError::Config {
                        setting: "object_storage_config.role_arn",
                        message: "assuming a role is not supported by this connector; give access_key_id and secret_access_key, or leave both out to use the environment's AWS credentials".into(),
                    });
                }
                Ok(DlqSettings {
                    target: DlqTarget::S3 {
                        bucket: s3.bucket.clone(),
                        region: s3.region.clone(),
                        bucket_path: s3.bucket_path.clone(),
                        endpoint: s3.endpoint.as_ref().map(|u| u.as_str().to_string()),
                        access_key_id: s3.access_key_id.clone(),
                        secret_access_key: s3.secret_access_key.clone(),
                        ca_certificate: ca_certificate.cloned(),
                    },
                    format: match s3.format {
                        OutputFormat::Csv { .. } => DlqFormat::Csv,
                        OutputFormat::Jsonl { .. } => DlqFormat::Jsonl,
                    },
                    gzip: s3.compression == Compression::Gzip,
                    path_format: s3.path_format.clone(),
                    file_name_format: s3.file_name_format.clone(),
                })
            }
        }
    }

    /// A local folder with Airbyte's default naming, JSONL.
    pub fn local(folder: impl Into<PathBuf>) -> DlqSettings {
        DlqSettings {
            target: DlqTarget::Local {
                folder: folder.into(),
            },
            format: DlqFormat::Jsonl,
            gzip: false,
            path_format: DEFAULT_PATH_FORMAT.into(),
            file_name_format: DEFAULT_FILE_NAME_FORMAT.into(),
        }
    }
}

/// A DLQ that cannot be opened or written.
#[derive(Debug, Error)]
pub enum DlqError {
    #[error("dead-letter queue: {setting}: {message}")]
    Config {
        setting: &'static str,
        message: String,
    },
    #[error("dead-letter queue: the storage refused the credentials writing '{key}' (check object_storage_config.access_key_id and secret_access_key): {source}")]
    Credentials {
        key: String,
        #[source]
        source: object_store::Error,
    },
    #[error("dead-letter queue: cannot write '{key}': {source}")]
    Store {
        key: String,
        #[source]
        source: object_store::Error,
    },
    #[error("dead-letter queue: cannot compress '{key}': {source}")]
    Compress {
        key: String,
        #[source]
        source: std::io::Error,
    },
    #[error("dead-letter queue: cannot sync '{path}' to disk: {source}")]
    Sync {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One rejected record and why.
#[derive(Clone, Debug, Serialize)]
pub struct Rejection {
    pub stream: String,
    pub namespace: Option<String>,
    /// The Salesforce object and operation (absent when the catalog could not map the record).
    pub object: Option<String>,
    pub operation: Option<String>,
    /// The ingest job whose results rejected the record (absent for conversion errors).
    pub job_id: Option<String>,
    /// 1 for the first job, 2 for the first retry...
    pub attempt: u32,
    pub time: DateTime<Utc>,
    /// Salesforce's error code (`REQUIRED_FIELD_MISSING`...) or ours (`INVALID_VALUE`...).
    pub error_code: String,
    pub error_message: String,
    pub error_fields: Vec<String>,
    /// The record's `data` as it arrived.
    pub record: Box<RawValue>,
}

const CSV_HEADER: [&str; 12] = [
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
    "format_version",
];

impl Rejection {
    fn encode(&self, format: DlqFormat, out: &mut Vec<u8>) {
        match format {
            DlqFormat::Jsonl => {
                // Serialising these plain fields cannot fail.
                serde_json::to_writer(&mut *out, self).expect("rejection serialises");
                out.push(b'\n');
            }
            DlqFormat::Csv => {
                let attempt = self.attempt.to_string();
                let time = self.time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
                let fields = self.error_fields.join(";");
                write_csv_row(
                    out,
                    &[
                        self.stream.as_str(),
                        self.namespace.as_deref().unwrap_or(""),
                        self.object.as_deref().unwrap_or(""),
                        self.operation.as_deref().unwrap_or(""),
                        self.job_id.as_deref().unwrap_or(""),
                        &attempt,
                        &time,
                        &self.error_code,
                        &self.error_message,
                        &fields,
                        self.record.get(),
                        "1",
                    ],
                );
            }
        }
    }
}

/// What makes this run's object names unique.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunIdentity {
    /// Unique per process: start time in ms and random bits.
    pub run_id: String,
    /// The catalog's `sync_id` (Airbyte's job id) when the platform sets one.
    pub sync_id: Option<String>,
}

impl RunIdentity {
    pub fn new(started: DateTime<Utc>, sync_id: Option<String>) -> RunIdentity {
        RunIdentity {
            run_id: format!(
                "{}-{:08x}",
                started.timestamp_millis(),
                rand::random::<u32>()
            ),
            sync_id,
        }
    }
}

/// The opened dead-letter queue.
pub struct DeadLetterQueue {
    store: Arc<dyn ObjectStore>,
    settings: DlqSettings,
    prefix: String,
    run: RunIdentity,
    parts: AtomicU64,
    /// For the local folder: its path, to fsync what was written.
    local_root: Option<PathBuf>,
}

impl DeadLetterQueue {
    pub fn open(settings: DlqSettings, run: RunIdentity) -> Result<DeadLetterQueue, DlqError> {
        let (store, prefix, local_root): (Arc<dyn ObjectStore>, String, Option<PathBuf>) =
            match &settings.target {
                DlqTarget::Local { folder } => {
                    std::fs::create_dir_all(folder).map_err(|e| DlqError::Config {
                        setting: "dead_letter_folder",
                        message: format!("cannot create '{}': {e}", folder.display()),
                    })?;
                    let store =
                        LocalFileSystem::new_with_prefix(folder).map_err(|e| DlqError::Config {
                            setting: "dead_letter_folder",
                            message: format!("cannot use '{}': {e}", folder.display()),
                        })?;
                    (Arc::new(store), String::new(), Some(folder.clone()))
                }
                DlqTarget::S3 {
                    bucket,
                    region,
                    bucket_path,
                    endpoint,
                    access_key_id,
                    secret_access_key,
                    ca_certificate,
                } => {
                    let store = s3_store(
                        bucket,
                        region,
                        endpoint.as_deref(),
                        access_key_id.as_ref(),
                        secret_access_key.as_ref(),
                        ca_certificate.as_ref(),
                    )?;
                    (store, bucket_path.trim_matches('/').to_string(), None)
                }
            };
        Ok(DeadLetterQueue {
            store,
            settings,
            prefix,
            run,
            parts: AtomicU64::new(0),
            local_root,
        })
    }

    /// Where the queue writes, for logs and messages (no credentials).
    pub fn describe(&self) -> String {
        match &self.settings.target {
            DlqTarget::Local { folder } => format!("local folder '{}'", folder.display()),
            DlqTarget::S3 {
                bucket, endpoint, ..
            } => match endpoint {
                Some(e) => format!("s3://{bucket}/{} at {e}", self.prefix),
                None => format!("s3://{bucket}/{}", self.prefix),
            },
        }
    }

    /// Writes and deletes a probe object: proves the queue is writable (for `check`).
    pub async fn probe(&self) -> Result<(), DlqError> {
        let key = self.key_under_prefix(&format!("_check_test_{}", self.run.run_id));
        let path = Path::from(key.as_str());
        self.store
            .put(&path, PutPayload::from_static(b"check\n"))
            .await
            .map_err(|e| store_error(&key, e))?;
        self.store
            .delete(&path)
            .await
            .map_err(|e| store_error(&key, e))?;
        Ok(())
    }

    /// Writes a run-level file (e.g. the dry-run summary) beside the dead-letter objects, named
    /// `<name>_<run id><extension>`; returns its key.
    pub async fn put_run_file(
        &self,
        name: &str,
        extension: &str,
        bytes: Vec<u8>,
    ) -> Result<String, DlqError> {
        let key = self.key_under_prefix(&format!("{name}_{}{extension}", self.run.run_id));
        self.put_durably(&key, bytes).await?;
        Ok(key)
    }

    /// Writes one object of the outcome report (JSON lines) for `stream`, under
    /// `outcome_report/<run id>/`; returns its key.
    pub async fn put_outcomes(&self, stream: &str, bytes: Vec<u8>) -> Result<String, DlqError> {
        let part = self.parts.fetch_add(1, Ordering::SeqCst);
        let key = self.key_under_prefix(&format!(
            "outcome_report/{}/{}_{part}.jsonl",
            self.run.run_id,
            sanitize_segment(stream)
        ));
        self.put_durably(&key, bytes).await?;
        Ok(key)
    }

    /// A writer for one stream's rejections; call [`DlqWriter::finish`] to make them durable.
    pub fn writer(&self, stream: &str, namespace: Option<&str>) -> DlqWriter<'_> {
        DlqWriter {
            queue: self,
            stream: stream.to_string(),
            namespace: namespace.map(str::to_string),
            buffer: Vec::new(),
            rows: 0,
            written: Vec::new(),
        }
    }

    fn key_under_prefix(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    fn object_key(&self, stream: &str, namespace: Option<&str>, now: DateTime<Utc>) -> String {
        let part = self.parts.fetch_add(1, Ordering::SeqCst);
        let extension = self.settings.extension();
        let sync_id = self.run.sync_id.as_deref().unwrap_or(&self.run.run_id);
        let render = |template: &str| {
            let mut out = template.to_string();
            for (name, value) in [
                ("{sync_id}", sync_id.to_string()),
                ("{run_id}", self.run.run_id.clone()),
                ("{namespace}", namespace.unwrap_or("default").to_string()),
                ("{stream_name}", stream.to_string()),
                ("{date}", now.format("%Y_%m_%d").to_string()),
                ("{year}", now.format("%Y").to_string()),
                ("{month}", now.format("%m").to_string()),
                ("{day}", now.format("%d").to_string()),
                ("{hour}", now.format("%H").to_string()),
                ("{minute}", now.format("%M").to_string()),
                ("{timestamp}", now.timestamp_millis().to_string()),
                ("{epoch}", now.timestamp().to_string()),
                ("{part_number}", part.to_string()),
                ("{format_extension}", extension.to_string()),
            ] {
                out = out.replace(name, &value);
            }
            out
        };
        let folder = render(&self.settings.path_format);
        let mut file = render(&self.settings.file_name_format);
        // Two runs of one sync (Airbyte retries keep the sync_id) must not collide, nor two
        // streams whose template lacks the stream name: the run id and part number are unique.
        let unique_template = self.settings.file_name_format.contains("{part_number}")
            && (self.settings.file_name_format.contains("{run_id}")
                || self.settings.path_format.contains("{run_id}"));
        if !unique_template {
            let stem = file.strip_suffix(extension).unwrap_or(&file).to_string();
            file = format!("{stem}_{}_{part}{extension}", self.run.run_id);
        }
        let key: Vec<String> = format!("{folder}/{file}")
            .split('/')
            .filter(|s| !s.is_empty())
            .map(sanitize_segment)
            .collect();
        self.key_under_prefix(&key.join("/"))
    }

    async fn put_durably(&self, key: &str, bytes: Vec<u8>) -> Result<(), DlqError> {
        let path = Path::from(key);
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|e| store_error(key, e))?;
        if let Some(root) = &self.local_root {
            sync_local(root, key)?;
        }
        Ok(())
    }
}

/// Collects one stream's rejections into DLQ objects.
pub struct DlqWriter<'a> {
    queue: &'a DeadLetterQueue,
    stream: String,
    namespace: Option<String>,
    buffer: Vec<u8>,
    rows: u64,
    written: Vec<String>,
}

impl DlqWriter<'_> {
    /// Adds a rejection; a full buffer is written out as its own object.
    pub async fn push(&mut self, rejection: &Rejection) -> Result<(), DlqError> {
        if self.buffer.is_empty() && self.queue.settings.format == DlqFormat::Csv {
            write_csv_row(&mut self.buffer, &CSV_HEADER);
        }
        rejection.encode(self.queue.settings.format, &mut self.buffer);
        self.rows += 1;
        if self.buffer.len() >= MAX_OBJECT_BYTES {
            self.flush(rejection.time).await?;
        }
        Ok(())
    }

    /// Rejections pushed so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    async fn flush(&mut self, now: DateTime<Utc>) -> Result<(), DlqError> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let key = self
            .queue
            .object_key(&self.stream, self.namespace.as_deref(), now);
        let mut bytes = std::mem::take(&mut self.buffer);
        if self.queue.settings.gzip {
            bytes = gzip(&bytes).map_err(|e| DlqError::Compress {
                key: key.clone(),
                source: e,
            })?;
        }
        self.queue.put_durably(&key, bytes).await?;
        self.written.push(key);
        Ok(())
    }

    /// Writes what is buffered; returns the keys of every object written.
    pub async fn finish(mut self, now: DateTime<Utc>) -> Result<Vec<String>, DlqError> {
        self.flush(now).await?;
        Ok(self.written)
    }
}

/// One complete gzip file of `data`.
fn gzip(data: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(data.len() / 4 + 64),
        flate2::Compression::default(),
    );
    encoder.write_all(data)?;
    encoder.finish()
}

fn sanitize_segment(segment: &str) -> String {
    segment
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn store_error(key: &str, source: object_store::Error) -> DlqError {
    match source {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => DlqError::Credentials {
            key: key.to_string(),
            source,
        },
        source => DlqError::Store {
            key: key.to_string(),
            source,
        },
    }
}

fn sync_local(root: &FsPath, key: &str) -> Result<(), DlqError> {
    let path = root.join(key);
    let sync = |p: &FsPath| {
        std::fs::File::open(p)
            .and_then(|f| f.sync_all())
            .map_err(|source| DlqError::Sync {
                path: p.to_path_buf(),
                source,
            })
    };
    sync(&path)?;
    if let Some(parent) = path.parent() {
        sync(parent)?;
    }
    Ok(())
}

fn s3_store(
    bucket: &str,
    region: &str,
    endpoint: Option<&str>,
    access_key_id: Option<&Secret>,
    secret_access_key: Option<&Secret>,
    ca_certificate: Option<&CaCertificates>,
) -> Result<Arc<dyn ObjectStore>, DlqError> {
    if bucket.trim().is_empty() {
        return Err(DlqError::Config {
            setting: "object_storage_config.s3_bucket_name",
            message: "expected a bucket name, got an empty string".into(),
        });
    }
    let region = if region.trim().is_empty() {
        "us-east-1"
    } else {
        region.trim()
    };
    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 4,
        retry_timeout: Duration::from_secs(60),
    };
    // Set first: `with_client_options` replaces the options `with_allow_http` below adds to.
    // Proxies: object_store builds a reqwest client without `.proxy()` unless `proxy_url` is
    // set, so reqwest's system proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY) applies to S3 too.
    let mut client_options = ClientOptions::new();
    if let Some(ca) = ca_certificate {
        let certificates =
            Certificate::from_pem_bundle(ca.pem().as_bytes()).map_err(|e| DlqError::Config {
                setting: "ca_certificate",
                message: e.to_string(),
            })?;
        for certificate in certificates {
            client_options = client_options.with_root_certificate(certificate);
        }
    }
    let mut builder = AmazonS3Builder::new()
        .with_client_options(client_options)
        .with_bucket_name(bucket.trim())
        .with_region(region)
        .with_retry(retry);
    match (access_key_id, secret_access_key) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
            builder = builder
                .with_access_key_id(id.expose())
                .with_secret_access_key(secret.expose());
        }
        (None, None) => {
            // Instance or environment credentials (AWS_* variables, IMDS, web identity).
            for (key, value) in std::env::vars() {
                if let Ok(config_key) = key.to_ascii_lowercase().parse() {
                    builder = builder.with_config(config_key, value);
                }
            }
        }
        _ => {
            return Err(DlqError::Config {
                setting: "object_storage_config.access_key_id",
                message: "access_key_id and secret_access_key must be given together".into(),
            })
        }
    }
    if let Some(endpoint) = endpoint.map(str::trim).filter(|e| !e.is_empty()) {
        let url = Url::parse(endpoint).map_err(|e| DlqError::Config {
            setting: "object_storage_config.s3_endpoint",
            message: format!(
                "expected a URL such as https://minio.example.com:9000, got {endpoint:?}: {e}"
            ),
        })?;
        let loopback = match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback => builder = builder.with_allow_http(true),
            other => {
                return Err(DlqError::Config {
                    setting: "object_storage_config.s3_endpoint",
                    message: format!(
                        "expected https:// (http:// only for loopback hosts), got {other}://"
                    ),
                })
            }
        }
        builder = builder
            .with_endpoint(endpoint.trim_end_matches('/'))
            .with_virtual_hosted_style_request(false);
    }
    let store = builder.build().map_err(|e| DlqError::Config {
        setting: "object_storage_config",
        message: e.to_string(),
    })?;
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rejection(code: &str) -> Rejection {
        Rejection {
            stream: "accounts".into(),
            namespace: None,
            object: Some("Account".into()),
            operation: Some("insert".into()),
            job_id: Some("750000000000001AAA".into()),
            attempt: 1,
            time: Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap(),
            error_code: code.into(),
            error_message: "Required fields are missing: [Name]".into(),
            error_fields: vec!["Name".into()],
            record: RawValue::from_string(r#"{"score":1,"note":"a,\"b\""}"#.into()).unwrap(),
        }
    }

    fn run(id: &str) -> RunIdentity {
        RunIdentity {
            run_id: id.into(),
            sync_id: None,
        }
    }

    fn files_under(root: &FsPath) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    #[tokio::test]
    async fn local_jsonl_rejections_carry_every_field_and_the_original_record() {
        let dir = tempfile::tempdir().unwrap();
        let queue = DeadLetterQueue::open(DlqSettings::local(dir.path()), run("r1")).unwrap();
        let mut writer = queue.writer("accounts", None);
        writer
            .push(&rejection("REQUIRED_FIELD_MISSING"))
            .await
            .unwrap();
        let keys = writer.finish(Utc::now()).await.unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].starts_with("r1/default/accounts/"), "{}", keys[0]);
        assert!(keys[0].ends_with(".jsonl"));
        let text = std::fs::read_to_string(dir.path().join(&keys[0])).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["error_code"], "REQUIRED_FIELD_MISSING");
        assert_eq!(line["object"], "Account");
        assert_eq!(line["operation"], "insert");
        assert_eq!(line["job_id"], "750000000000001AAA");
        assert_eq!(line["attempt"], 1);
        assert_eq!(line["time"], "2024-05-01T10:00:00Z");
        assert_eq!(line["record"]["note"], "a,\"b\"");
    }

    #[tokio::test]
    async fn csv_rejections_have_a_header_and_the_record_as_json() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = DlqSettings::local(dir.path());
        settings.format = DlqFormat::Csv;
        let queue = DeadLetterQueue::open(settings, run("r1")).unwrap();
        let mut writer = queue.writer("accounts", Some("crm"));
        let mut r = rejection("INVALID_VALUE");
        r.namespace = Some("crm".into());
        writer.push(&r).await.unwrap();
        let keys = writer.finish(Utc::now()).await.unwrap();
        assert!(keys[0].starts_with("r1/crm/accounts/"), "{}", keys[0]);
        let mut reader = csv::Reader::from_path(dir.path().join(&keys[0])).unwrap();
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            CSV_HEADER
        );
        let row = reader.records().next().unwrap().unwrap();
        assert_eq!(&row[7], "INVALID_VALUE");
        assert_eq!(&row[1], "crm");
        let record: serde_json::Value = serde_json::from_str(&row[10]).unwrap();
        assert_eq!(record["score"], 1);
    }

    #[tokio::test]
    async fn runs_and_streams_never_write_the_same_object() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = DlqSettings::local(dir.path());
        // A template that names neither the stream nor the run.
        settings.path_format = "dlq/".into();
        settings.file_name_format = "{date}{format_extension}".into();
        let now = Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap();
        let mut all = Vec::new();
        for run_id in ["r1", "r2"] {
            let queue = DeadLetterQueue::open(settings.clone(), run(run_id)).unwrap();
            for stream in ["a", "b"] {
                let mut writer = queue.writer(stream, None);
                writer.push(&rejection("X")).await.unwrap();
                all.extend(writer.finish(now).await.unwrap());
            }
        }
        let mut unique = all.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 4, "{all:?}");
        assert_eq!(files_under(dir.path()).len(), 4);
    }

    #[tokio::test]
    async fn nothing_is_written_for_a_stream_without_rejections() {
        let dir = tempfile::tempdir().unwrap();
        let queue = DeadLetterQueue::open(DlqSettings::local(dir.path()), run("r1")).unwrap();
        let writer = queue.writer("accounts", None);
        assert!(writer.finish(Utc::now()).await.unwrap().is_empty());
        assert!(files_under(dir.path()).is_empty());
    }

    #[tokio::test]
    async fn probe_writes_and_removes_its_object() {
        let dir = tempfile::tempdir().unwrap();
        let queue =
            DeadLetterQueue::open(DlqSettings::local(dir.path().join("new")), run("r1")).unwrap();
        queue.probe().await.unwrap();
        assert!(files_under(&dir.path().join("new")).is_empty());
    }

    #[test]
    fn plain_http_endpoints_are_refused_unless_loopback() {
        let settings = |endpoint: &str| DlqSettings {
            target: DlqTarget::S3 {
                bucket: "b".into(),
                region: String::new(),
                bucket_path: "dlq".into(),
                endpoint: Some(endpoint.into()),
                access_key_id: Some(Secret::new("AK")),
                secret_access_key: Some(Secret::new("SK")),
                ca_certificate: None,
            },
            ..DlqSettings::local("unused")
        };
        let err = DeadLetterQueue::open(settings("http://minio.example.com:9000"), run("r"))
            .err()
            .unwrap();
        assert!(err.to_string().contains("s3_endpoint"), "{err}");
        assert!(DeadLetterQueue::open(settings("http://127.0.0.1:9000"), run("r")).is_ok());
    }

    #[test]
    fn a_key_without_its_secret_is_refused() {
        let settings = DlqSettings {
            target: DlqTarget::S3 {
                bucket: "b".into(),
                region: "eu-west-1".into(),
                bucket_path: String::new(),
                endpoint: None,
                access_key_id: Some(Secret::new("AK")),
                secret_access_key: None,
                ca_certificate: None,
            },
            ..DlqSettings::local("unused")
        };
        let err = DeadLetterQueue::open(settings, run("r")).err().unwrap();
        assert!(err.to_string().contains("access_key_id"), "{err}");
    }
}
