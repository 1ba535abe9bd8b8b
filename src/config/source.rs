//! The source config: Airbyte source-salesforce's JSON (every key, default and rule of its
//! spec), Estuary's nested `credentials` form, and our additive options.

use chrono::{DateTime, Months, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::ConnectionKeys;
use super::datetime::parse_config_datetime;
use super::duration::IsoDuration;
use super::parse::{integer_in, lenient_bool, non_empty, some_u32, some_u64};
use super::{ConfigError, Connection};
use crate::secret::Secret;

/// How far back an absent `start_date` reaches, as Airbyte's source does.
const DEFAULT_START_DATE_YEARS: u32 = 2;
const DEFAULT_STREAM_SLICE_STEP: &str = "P30D";
const DEFAULT_LOOKBACK_WINDOW: &str = "PT10M";
/// Two cores: more concurrent Bulk jobs than this only queue up.
const DEFAULT_NUM_WORKERS: u32 = 4;
const MAX_NUM_WORKERS: u32 = 50;
const DEFAULT_API_BUDGET_PERCENT: u32 = 90;
const DEFAULT_BULK_PAGE_SIZE: u32 = 50_000;
/// Salesforce's `resultPages` lists five result URLs per answer.
const DEFAULT_MAX_PARALLEL_DOWNLOADS: u32 = 5;
const MAX_PARALLEL_DOWNLOADS: u32 = 10;
const DEFAULT_IDLE_TIMEOUT_SECONDS: u64 = 10;
/// Salesforce's Pub/Sub API (`api.deu.pubsub.salesforce.com:7443` for EU processing).
const DEFAULT_PUBSUB_ENDPOINT: &str = "api.pubsub.salesforce.com:7443";
/// Salesforce's PK chunking allows chunks of up to 250,000 rows.
const DEFAULT_ID_RANGE_ROWS: u64 = 250_000;
/// The same size for a window of an incremental read.
const DEFAULT_INCREMENTAL_WINDOW_ROWS: u64 = 250_000;

/// The config JSON as written, before validation. Its schema is the source spec.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(
    title = "Salesforce Source Spec",
    description = "Airbyte source-salesforce configs work unchanged; the nested credentials form and the extra options are additive."
)]
pub(crate) struct RawSourceConfig {
    // The connection keys (`credentials`, `is_sandbox`, `login_url`, `ca_certificate`,
    // `api_version`) and the flat credential keys (`auth_type`, `client_id`, ...) are read into
    // [`ConnectionKeys`] from the same object, and added to the spec from it: see
    // `ConnectionKeys::read_with`.
    /// Enter the date in the YYYY-MM-DD format. Data added on and after this date is
    /// replicated. If this field is blank, the last two years are replicated.
    #[schemars(title = "Start Date")]
    pub start_date: Option<String>,
    /// Date up to which data is replicated (exclusive), in YYYY-MM-DD or
    /// YYYY-MM-DDTHH:mm:ssZ format; incremental streams only. Blank means now.
    #[schemars(title = "End Date")]
    pub end_date: Option<String>,
    /// Read objects that have base64 fields through the Bulk API too, leaving those fields out
    /// (Bulk cannot select them); without it such objects are read through REST. Objects the Bulk
    /// API does not support are read through REST either way.
    #[serde(default = "some_false")]
    #[schemars(title = "Force to use BULK API")]
    pub force_use_bulk_api: Option<bool>,
    /// The size of a date window of an incremental read, as an ISO 8601 duration (PT12H, P7D,
    /// P30D, P1M, P1Y).
    #[serde(default = "default_stream_slice_step")]
    #[schemars(title = "Stream Slice Step for Incremental sync")]
    pub stream_slice_step: Option<String>,
    /// How far before the saved cursor each incremental read starts again, as an ISO 8601
    /// duration (PT10M, PT1H), so late-committed rows are not missed.
    #[serde(default = "default_lookback_window")]
    #[schemars(title = "Lookback Window")]
    pub lookback_window: Option<String>,
    /// Filter the Salesforce objects offered by discover.
    #[schemars(title = "Filter Salesforce Objects")]
    pub streams_criteria: Option<Vec<StreamCriterion>>,
    /// Keep values such as "NA", "N/A" and "NULL" in Bulk results as strings instead of null.
    /// Accepted for compatibility: this connector always keeps them (only an empty cell is null).
    #[serde(default = "some_false")]
    #[schemars(title = "Preserve NA Values")]
    pub preserve_na_values: Option<bool>,
    /// How many streams are read at once (1 to 50); each incremental stream also prepares the
    /// Bulk jobs of up to this many (at most 8) cursor windows ahead.
    #[serde(default = "some_u32::<DEFAULT_NUM_WORKERS>")]
    #[schemars(title = "Number of Workers", range(min = 1, max = 50))]
    pub num_workers: Option<u32>,
    /// Detect records deleted for good (hard deletes) by comparing Ids, and emit them as
    /// deleted.
    #[serde(default = "some_true")]
    #[schemars(title = "Detect Hard Deletes")]
    pub detect_hard_deletes: Option<bool>,
    /// After each incremental window (and each full-refresh read) Salesforce counts the rows
    /// inside the same bounds, one API call per window; more rows than were read means rows
    /// committed late were missed, and the window is read again (at most twice) before the
    /// state moves past it.
    #[serde(default = "some_true")]
    #[schemars(title = "Verify Window Counts")]
    pub verify_window_counts: Option<bool>,
    /// The share of the org's daily API request limit this connector may use (1 to 100).
    #[serde(default = "some_u32::<DEFAULT_API_BUDGET_PERCENT>")]
    #[schemars(title = "API Budget (%)", range(min = 1, max = 100))]
    pub api_budget_percent: Option<u32>,
    /// Records per page of a Bulk query result (the Bulk API's maxRecords).
    #[serde(default = "some_u32::<DEFAULT_BULK_PAGE_SIZE>")]
    #[schemars(title = "Bulk Result Page Size", range(min = 1))]
    pub bulk_page_size: Option<u32>,
    /// Most result pages of one Bulk query job downloaded at once (1 to 10), through the job's
    /// `resultPages` (API version 58.0 and later); downloads open one by one while each raises
    /// the download rate. 1 reads the pages one after another by locator, as Airbyte's source
    /// does.
    #[serde(default = "some_u32::<DEFAULT_MAX_PARALLEL_DOWNLOADS>")]
    #[schemars(title = "Parallel Result Downloads", range(min = 1, max = 10))]
    pub max_parallel_downloads: Option<u32>,
    /// A full refresh through Bulk of an object with at least twice this many rows is split
    /// into Id ranges of at least this many rows, read as Bulk jobs Salesforce prepares at once
    /// (as many as num_workers allows, at most 8); 0 never splits.
    #[serde(default = "some_u64::<DEFAULT_ID_RANGE_ROWS>")]
    #[schemars(title = "Rows per Id Range")]
    pub id_range_rows: Option<u64>,
    /// An incremental read through Bulk whose pending windows hold more than this many rows
    /// (one SELECT COUNT() per read) cuts them by cursor value into windows of about this many
    /// rows, read as Bulk jobs Salesforce prepares at once (as many as num_workers allows, at
    /// most 8), each counted and checkpointed as a window; stream_slice_step stays the longest
    /// window. 0 keeps the fixed stream_slice_step windows.
    #[serde(default = "some_u64::<DEFAULT_INCREMENTAL_WINDOW_ROWS>")]
    #[schemars(title = "Rows per Incremental Window")]
    pub incremental_window_rows: Option<u64>,
    /// Follow Salesforce Change Data Capture events (Pub/Sub API) for incremental streams whose
    /// object is enabled for it in Setup: after the first snapshot, changes arrive within
    /// seconds, with no Bulk job per sync. See docs/change-data-capture.md.
    #[schemars(title = "Change Data Capture")]
    pub change_data_capture: Option<RawChangeDataCapture>,
    /// The Pub/Sub API endpoint, as host:port (TLS) or a URL (http:// is plaintext, for test
    /// servers).
    #[serde(default = "default_pubsub_endpoint")]
    #[schemars(title = "Pub/Sub API Endpoint")]
    pub pubsub_endpoint: Option<String>,
}

/// `change_data_capture` as written.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub(crate) struct RawChangeDataCapture {
    /// Follow change events for the incremental streams whose object publishes them.
    #[serde(default, deserialize_with = "lenient_bool")]
    #[schemars(title = "Enabled", with = "bool")]
    pub enabled: bool,
    /// A read ends after this many seconds without a change event (an Airbyte sync must end).
    /// 0: the read never ends (for orchestrators that run the capture continuously) and emits
    /// a STATE at least every 10 seconds when its position moved.
    #[serde(default = "some_u64::<DEFAULT_IDLE_TIMEOUT_SECONDS>")]
    #[schemars(title = "Idle Timeout (seconds)", range(min = 0))]
    pub idle_timeout_seconds: Option<u64>,
    /// A read ends after this many change events per stream (unlimited when blank).
    #[schemars(title = "Max Events per Read", range(min = 1))]
    pub max_events_per_read: Option<u64>,
}

/// The validated `change_data_capture` of a config that enables it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeDataCapture {
    /// `None`: the read never ends by itself.
    pub idle_timeout: Option<std::time::Duration>,
    pub max_events_per_read: Option<u64>,
    /// `pubsub_endpoint`.
    pub endpoint: String,
}

fn some_false() -> Option<bool> {
    Some(false)
}
fn some_true() -> Option<bool> {
    Some(true)
}
fn default_stream_slice_step() -> Option<String> {
    Some(DEFAULT_STREAM_SLICE_STEP.into())
}
fn default_lookback_window() -> Option<String> {
    Some(DEFAULT_LOOKBACK_WINDOW.into())
}
fn default_pubsub_endpoint() -> Option<String> {
    Some(DEFAULT_PUBSUB_ENDPOINT.into())
}

/// One entry of `streams_criteria`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StreamCriterion {
    #[serde(default)]
    #[schemars(title = "Search criteria")]
    pub criteria: Criteria,
    #[schemars(title = "Search value")]
    pub value: String,
}

/// How a criterion compares an object name with its value (case-insensitive).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Criteria {
    #[serde(rename = "starts with")]
    StartsWith,
    #[serde(rename = "ends with")]
    EndsWith,
    #[default]
    #[serde(rename = "contains")]
    Contains,
    #[serde(rename = "exacts")]
    Exacts,
    #[serde(rename = "starts not with")]
    StartsNotWith,
    #[serde(rename = "ends not with")]
    EndsNotWith,
    #[serde(rename = "not contains")]
    NotContains,
    #[serde(rename = "not exacts")]
    NotExacts,
}

impl StreamCriterion {
    /// Whether `object_name` passes this criterion, ignoring case.
    pub fn matches(&self, object_name: &str) -> bool {
        let name = object_name.to_lowercase();
        let value = self.value.to_lowercase();
        match self.criteria {
            Criteria::StartsWith => name.starts_with(&value),
            Criteria::EndsWith => name.ends_with(&value),
            Criteria::Contains => name.contains(&value),
            Criteria::Exacts => name == value,
            Criteria::StartsNotWith => !name.starts_with(&value),
            Criteria::EndsNotWith => !name.ends_with(&value),
            Criteria::NotContains => !name.contains(&value),
            Criteria::NotExacts => name != value,
        }
    }
}

/// A validated source config.
#[derive(Clone)]
pub struct SourceConfig {
    pub is_sandbox: bool,
    connection: Connection,
    /// `None`: now minus two years, resolved when used ([`SourceConfig::start_date_at`]).
    pub start_date: Option<DateTime<Utc>>,
    /// Exclusive upper bound of incremental reads; `None` means now.
    pub end_date: Option<DateTime<Utc>>,
    pub force_use_bulk_api: bool,
    pub stream_slice_step: IsoDuration,
    pub lookback_window: IsoDuration,
    /// Discover keeps an object when it matches any criterion (all objects when empty).
    pub streams_criteria: Vec<StreamCriterion>,
    pub preserve_na_values: bool,
    pub num_workers: usize,
    pub detect_hard_deletes: bool,
    pub verify_window_counts: bool,
    pub api_budget_percent: u8,
    pub bulk_page_size: u32,
    pub max_parallel_downloads: usize,
    pub id_range_rows: u64,
    pub incremental_window_rows: u64,
    /// `change_data_capture` when enabled.
    pub change_data_capture: Option<ChangeDataCapture>,
    /// Top-level keys this connector does not know (kept, logged once).
    pub unknown_keys: Vec<String>,
    /// Where the credentials were read from, for writing a rotated refresh token back.
    credentials_nested: bool,
    raw: Value,
}

impl std::fmt::Debug for SourceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The raw JSON holds secrets: never printed.
        f.debug_struct("SourceConfig")
            .field("connection", &self.connection)
            .field("start_date", &self.start_date)
            .field("end_date", &self.end_date)
            .field("num_workers", &self.num_workers)
            .finish_non_exhaustive()
    }
}

impl SourceConfig {
    /// Parses and validates a config; every error names its key.
    pub fn from_value(value: Value) -> Result<Self, ConfigError> {
        let (raw, keys, unknown_keys): (RawSourceConfig, _, _) = ConnectionKeys::read_with(&value)?;
        let connection = keys.connection()?;
        let start_date = non_empty(&raw.start_date)
            .map(|text| parse_config_datetime("start_date", text))
            .transpose()?;
        let end_date = non_empty(&raw.end_date)
            .map(|text| parse_config_datetime("end_date", text))
            .transpose()?;
        if let (Some(start), Some(end)) = (start_date, end_date) {
            if end <= start {
                return Err(ConfigError::new(
                    "end_date",
                    format!(
                        "must be after start_date ({}), got {:?}",
                        start.format("%Y-%m-%dT%H:%M:%SZ"),
                        raw.end_date.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        let stream_slice_step = IsoDuration::parse(
            "stream_slice_step",
            non_empty(&raw.stream_slice_step).unwrap_or(DEFAULT_STREAM_SLICE_STEP),
        )?;
        if stream_slice_step.approximate() < chrono::TimeDelta::seconds(1) {
            return Err(ConfigError::new(
                "stream_slice_step",
                format!(
                    "expected at least 1 second (PT1S), got {:?}",
                    raw.stream_slice_step.as_deref().unwrap_or_default()
                ),
            ));
        }
        let lookback_window = IsoDuration::parse(
            "lookback_window",
            non_empty(&raw.lookback_window).unwrap_or(DEFAULT_LOOKBACK_WINDOW),
        )?;
        let num_workers = integer_in(
            "num_workers",
            raw.num_workers.unwrap_or(DEFAULT_NUM_WORKERS),
            1..=MAX_NUM_WORKERS,
        )?;
        let api_budget_percent = integer_in(
            "api_budget_percent",
            raw.api_budget_percent.unwrap_or(DEFAULT_API_BUDGET_PERCENT),
            1..=100,
        )?;
        let bulk_page_size = raw.bulk_page_size.unwrap_or(DEFAULT_BULK_PAGE_SIZE);
        if bulk_page_size == 0 {
            return Err(ConfigError::new(
                "bulk_page_size",
                "expected a positive integer, got 0",
            ));
        }
        let max_parallel_downloads = integer_in(
            "max_parallel_downloads",
            raw.max_parallel_downloads
                .unwrap_or(DEFAULT_MAX_PARALLEL_DOWNLOADS),
            1..=MAX_PARALLEL_DOWNLOADS,
        )?;
        let change_data_capture = change_data_capture(
            raw.change_data_capture.unwrap_or_default(),
            non_empty(&raw.pubsub_endpoint).unwrap_or(DEFAULT_PUBSUB_ENDPOINT),
        )?;
        if !unknown_keys.is_empty() {
            tracing::info!("config: ignoring keys this connector does not use: {unknown_keys:?}");
        }
        let credentials_nested = keys.credentials.as_ref().is_some_and(|c| {
            c.client_id.is_some() || c.refresh_token.is_some() || c.client_secret.is_some()
        });
        Ok(SourceConfig {
            is_sandbox: keys.is_sandbox,
            connection,
            start_date,
            end_date,
            force_use_bulk_api: raw.force_use_bulk_api.unwrap_or(false),
            stream_slice_step,
            lookback_window,
            streams_criteria: raw.streams_criteria.unwrap_or_default(),
            preserve_na_values: raw.preserve_na_values.unwrap_or(false),
            num_workers: num_workers as usize,
            detect_hard_deletes: raw.detect_hard_deletes.unwrap_or(true),
            verify_window_counts: raw.verify_window_counts.unwrap_or(true),
            api_budget_percent: api_budget_percent as u8,
            bulk_page_size,
            max_parallel_downloads: max_parallel_downloads as usize,
            id_range_rows: raw.id_range_rows.unwrap_or(DEFAULT_ID_RANGE_ROWS),
            incremental_window_rows: raw
                .incremental_window_rows
                .unwrap_or(DEFAULT_INCREMENTAL_WINDOW_ROWS),
            change_data_capture,
            unknown_keys,
            credentials_nested,
            raw: value,
        })
    }

    /// What the Salesforce client needs to connect.
    pub fn connection(&self) -> Result<Connection, ConfigError> {
        Ok(self.connection.clone())
    }

    /// `start_date`, or `now` minus two years when it was not set.
    pub fn start_date_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        self.start_date.unwrap_or_else(|| {
            now.checked_sub_months(Months::new(12 * DEFAULT_START_DATE_YEARS))
                .unwrap_or(now)
        })
    }

    /// Whether discover offers `object_name` under `streams_criteria`.
    pub fn includes_object(&self, object_name: &str) -> bool {
        self.streams_criteria.is_empty()
            || self.streams_criteria.iter().any(|c| c.matches(object_name))
    }

    /// The config exactly as given (holds secrets: for CONNECTOR_CONFIG only).
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// The whole config with a rotated refresh token put where the old one was read from,
    /// for a CONNECTOR_CONFIG message.
    pub fn with_refresh_token(&self, refresh_token: &Secret) -> Value {
        let mut config = self.raw.clone();
        let target = if self.credentials_nested {
            config.get_mut("credentials")
        } else {
            Some(&mut config)
        };
        if let Some(Value::Object(map)) = target {
            map.insert(
                "refresh_token".into(),
                Value::String(refresh_token.expose().to_owned()),
            );
        }
        config
    }
}

fn change_data_capture(
    raw: RawChangeDataCapture,
    endpoint: &str,
) -> Result<Option<ChangeDataCapture>, ConfigError> {
    if raw.max_events_per_read == Some(0) {
        return Err(ConfigError::new(
            "change_data_capture.max_events_per_read",
            "expected a positive integer (or no value for unlimited), got 0",
        ));
    }
    let idle = raw
        .idle_timeout_seconds
        .unwrap_or(DEFAULT_IDLE_TIMEOUT_SECONDS);
    let endpoint = endpoint.trim();
    let plain = endpoint
        .strip_prefix("http://")
        .or_else(|| endpoint.strip_prefix("https://"))
        .unwrap_or(endpoint)
        .trim_end_matches('/');
    let valid = plain.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !host.contains('/') && port.parse::<u16>().is_ok_and(|p| p > 0)
    });
    if !valid {
        return Err(ConfigError::new(
            "pubsub_endpoint",
            format!(
                "expected host:port (such as {DEFAULT_PUBSUB_ENDPOINT}) or http(s)://host:port, got {endpoint:?}"
            ),
        ));
    }
    Ok(raw.enabled.then(|| ChangeDataCapture {
        idle_timeout: (idle > 0).then(|| std::time::Duration::from_secs(idle)),
        max_events_per_read: raw.max_events_per_read,
        endpoint: endpoint.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Credentials;
    use crate::secret::Secret;
    use chrono::TimeZone;
    use serde_json::json;

    fn airbyte_config() -> Value {
        json!({"client_id": "3MVG9id", "client_secret": "cs-value", "refresh_token": "rt-value",
               "is_sandbox": false, "start_date": "2021-07-25"})
    }

    fn parse(value: Value) -> Result<SourceConfig, ConfigError> {
        SourceConfig::from_value(value)
    }

    fn error(value: Value) -> String {
        parse(value).unwrap_err().to_string()
    }

    fn with(key: &str, v: Value) -> Value {
        let mut config = airbyte_config();
        config[key] = v;
        config
    }

    #[test]
    fn airbyte_documented_config_parses_with_defaults() {
        let config = parse(airbyte_config()).unwrap();
        let connection = config.connection().unwrap();
        assert_eq!(
            connection.login_url.as_str(),
            "https://login.salesforce.com/"
        );
        assert_eq!(connection.api_version, "62.0");
        assert_eq!(
            connection.credentials,
            Credentials::RefreshToken {
                client_id: "3MVG9id".into(),
                client_secret: Secret::new("cs-value"),
                refresh_token: Secret::new("rt-value"),
            }
        );
        assert_eq!(
            config.start_date,
            Some(Utc.with_ymd_and_hms(2021, 7, 25, 0, 0, 0).unwrap())
        );
        assert_eq!(config.end_date, None);
        assert_eq!(config.stream_slice_step.exact, chrono::TimeDelta::days(30));
        assert_eq!(config.lookback_window.exact, chrono::TimeDelta::minutes(10));
        assert!(!config.force_use_bulk_api && !config.preserve_na_values);
        assert!(config.detect_hard_deletes);
        assert_eq!(config.num_workers, 4);
        assert_eq!(config.api_budget_percent, 90);
        assert_eq!(config.bulk_page_size, 50_000);
        assert_eq!(config.max_parallel_downloads, 5);
        assert_eq!(config.id_range_rows, 250_000);
        assert_eq!(config.incremental_window_rows, 250_000);
        assert!(config.unknown_keys.is_empty());
    }

    #[test]
    fn change_data_capture_is_off_by_default_and_validated() {
        assert_eq!(parse(airbyte_config()).unwrap().change_data_capture, None);
        let config = parse(with(
            "change_data_capture",
            json!({"enabled": true, "max_events_per_read": 50}),
        ))
        .unwrap();
        assert_eq!(
            config.change_data_capture,
            Some(ChangeDataCapture {
                idle_timeout: Some(std::time::Duration::from_secs(10)),
                max_events_per_read: Some(50),
                endpoint: "api.pubsub.salesforce.com:7443".into(),
            })
        );
        let never = parse(with(
            "change_data_capture",
            json!({"enabled": true, "idle_timeout_seconds": 0}),
        ))
        .unwrap();
        assert_eq!(never.change_data_capture.unwrap().idle_timeout, None);
        let err = error(with(
            "change_data_capture",
            json!({"enabled": true, "max_events_per_read": 0}),
        ));
        assert!(
            err.contains("change_data_capture.max_events_per_read"),
            "{err}"
        );
        let err = error(with(
            "change_data_capture",
            json!({"enabled": true, "idle_timeout_seconds": "soon"}),
        ));
        assert!(
            err.contains("change_data_capture.idle_timeout_seconds"),
            "{err}"
        );
        let err = error(with("pubsub_endpoint", json!("api.pubsub.salesforce.com")));
        assert!(
            err.contains("pubsub_endpoint") && err.contains("host:port"),
            "{err}"
        );
        let local = parse(with("pubsub_endpoint", json!("http://127.0.0.1:7011"))).unwrap();
        assert!(local.change_data_capture.is_none());
    }

    #[test]
    fn every_airbyte_key_is_read() {
        let config = parse(json!({
            "client_id": "id", "client_secret": "s", "refresh_token": "r", "auth_type": "Client",
            "is_sandbox": "true", "start_date": "2021-07-25T00:00:00Z", "end_date": "2022-01-01",
            "force_use_bulk_api": true, "stream_slice_step": "PT12H", "lookback_window": "PT1H",
            "streams_criteria": [{"criteria": "starts with", "value": "Acc"}, {"value": "lead"}],
            "preserve_na_values": true, "num_workers": 20
        }))
        .unwrap();
        assert!(config.is_sandbox);
        assert_eq!(
            config.connection().unwrap().login_url.as_str(),
            "https://test.salesforce.com/"
        );
        assert_eq!(
            config.end_date,
            Some(Utc.with_ymd_and_hms(2022, 1, 1, 0, 0, 0).unwrap())
        );
        assert!(config.force_use_bulk_api && config.preserve_na_values);
        assert_eq!(config.stream_slice_step.exact, chrono::TimeDelta::hours(12));
        assert_eq!(config.streams_criteria[1].criteria, Criteria::Contains);
        assert!(config.includes_object("Account"));
        assert!(config.includes_object("LeadHistory"));
        assert!(!config.includes_object("Opportunity"));
        assert_eq!(config.num_workers, 20);
    }

    #[test]
    fn estuary_nested_credentials_parse() {
        let config = parse(json!({
            "credentials": {"auth_type": "Client", "client_id": "id", "client_secret": "s",
                            "refresh_token": "r"},
            "is_sandbox": false, "start_date": "2022-01-01",
            "streams_criteria": [{"criteria": "starts with", "value": "Work"}]
        }))
        .unwrap();
        assert!(matches!(
            config.connection().unwrap().credentials,
            Credentials::RefreshToken { ref client_id, .. } if client_id == "id"
        ));
        assert_eq!(
            config.with_refresh_token(&Secret::new("NEW"))["credentials"]["refresh_token"],
            "NEW"
        );
    }

    #[test]
    fn estuary_remapped_flat_keys_with_empty_credentials_parse() {
        let mut value = airbyte_config();
        value["credentials"] = json!({});
        value["auth_type"] = json!("Client");
        let config = parse(value).unwrap();
        assert!(matches!(
            config.connection().unwrap().credentials,
            Credentials::RefreshToken { ref client_id, .. } if client_id == "3MVG9id"
        ));
        let rotated = config.with_refresh_token(&Secret::new("NEW"));
        assert_eq!(rotated["refresh_token"], "NEW");
        assert_eq!(rotated["credentials"], json!({}));
    }

    #[test]
    fn unknown_keys_are_accepted_and_reported() {
        let mut value = airbyte_config();
        value["api_type"] = json!("BULK");
        let config = parse(value).unwrap();
        assert_eq!(config.unknown_keys, vec!["api_type".to_string()]);
    }

    #[test]
    fn explicit_nulls_take_the_defaults() {
        let mut value = airbyte_config();
        for key in [
            "end_date",
            "stream_slice_step",
            "lookback_window",
            "streams_criteria",
            "force_use_bulk_api",
            "num_workers",
            "login_url",
            "is_sandbox",
        ] {
            value[key] = Value::Null;
        }
        let config = parse(value).unwrap();
        assert_eq!(config.num_workers, 4);
        assert_eq!(config.stream_slice_step.exact, chrono::TimeDelta::days(30));
    }

    #[test]
    fn absent_start_date_is_two_years_before_use() {
        let mut value = airbyte_config();
        value.as_object_mut().unwrap().remove("start_date");
        let config = parse(value).unwrap();
        assert_eq!(config.start_date, None);
        let now = Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0).unwrap();
        assert_eq!(
            config.start_date_at(now),
            Utc.with_ymd_and_hms(2024, 11, 23, 7, 0, 0).unwrap()
        );
    }

    #[test]
    fn client_credentials_and_jwt_bearer_are_additive_options() {
        let config = parse(json!({"auth_type": "client_credentials", "client_id": "id",
            "client_secret": "s", "login_url": "https://acme.my.salesforce.com"}))
        .unwrap();
        let connection = config.connection().unwrap();
        assert_eq!(
            connection.login_url.as_str(),
            "https://acme.my.salesforce.com/"
        );
        assert!(matches!(
            connection.credentials,
            Credentials::ClientCredentials { .. }
        ));

        assert_eq!(
            error(json!({"auth_type": "client_credentials", "client_id": "id", "client_secret": "s"})),
            "login_url: required with auth_type \"client_credentials\": your My Domain URL, e.g. https://acme.my.salesforce.com"
        );
        assert_eq!(
            error(json!({"auth_type": "jwt_bearer", "client_id": "id", "username": "u@x.com",
                         "private_key": "not a key"})),
            "private_key: expected a PEM-encoded RSA private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----); the value is secret and not shown"
        );
    }

    #[test]
    fn bad_values_name_the_key_and_the_expected_form() {
        let cases = [
            (with("start_date", json!("yesterday")),
             "start_date: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got \"yesterday\""),
            (with("end_date", json!("2021-07-24")),
             "end_date: must be after start_date (2021-07-25T00:00:00Z), got \"2021-07-24\""),
            (with("end_date", json!("soon")),
             "end_date: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got \"soon\""),
            (with("stream_slice_step", json!("30 days")),
             "stream_slice_step: expected an ISO 8601 duration such as PT12H, P7D, P1M or P1Y, got \"30 days\""),
            (with("stream_slice_step", json!("PT0S")),
             "stream_slice_step: expected at least 1 second (PT1S), got \"PT0S\""),
            (with("lookback_window", json!("ten minutes")),
             "lookback_window: expected an ISO 8601 duration such as PT12H, P7D, P1M or P1Y, got \"ten minutes\""),
            (with("is_sandbox", json!("maybe")), "is_sandbox: expected true or false, got \"maybe\""),
            (with("num_workers", json!(51)), "num_workers: expected an integer from 1 to 50, got 51"),
            (with("num_workers", json!("many")),
             "num_workers: invalid type: string \"many\", expected u32"),
            (with("api_budget_percent", json!(0)),
             "api_budget_percent: expected an integer from 1 to 100, got 0"),
            (with("bulk_page_size", json!(0)), "bulk_page_size: expected a positive integer, got 0"),
            (with("max_parallel_downloads", json!(0)),
             "max_parallel_downloads: expected an integer from 1 to 10, got 0"),
            (with("max_parallel_downloads", json!(11)),
             "max_parallel_downloads: expected an integer from 1 to 10, got 11"),
            (with("login_url", json!("http://login.salesforce.com")),
             "login_url: expected an https:// URL (http:// only for loopback hosts), got \"http://login.salesforce.com\""),
            (with("api_version", json!("latest")),
             "api_version: expected a Salesforce API version like \"62.0\", got \"latest\""),
            (with("streams_criteria", json!([{"criteria": "resembles", "value": "x"}])),
             "streams_criteria[0].criteria: unknown variant `resembles`, expected one of `starts with`, `ends with`, `contains`, `exacts`, `starts not with`, `ends not with`, `not contains`, `not exacts`"),
            (with("streams_criteria", json!([{"criteria": "contains"}])),
             "streams_criteria[0]: missing field `value`"),
            (with("auth_type", json!("Password")),
             "auth_type: unknown variant `Password`, expected one of `Client`, `client_credentials`, `jwt_bearer`"),
            (with("client_id", json!("")),
             "client_id: missing; expected a non-empty string (at the top level or under \"credentials\")"),
            (json!({"client_id": "id", "client_secret": "s"}),
             "refresh_token: missing; expected a non-empty string (at the top level or under \"credentials\")"),
            (json!([1, 2]), "config: expected a JSON object, got an array"),
        ];
        for (config, expected) in cases {
            assert_eq!(error(config), expected);
        }
    }

    #[test]
    fn a_wrongly_typed_secret_is_not_echoed() {
        let message = error(with("client_secret", json!(987654321)));
        assert_eq!(
            message,
            "client_secret: expected a string (the value is secret and not shown)"
        );
    }

    #[test]
    fn debug_never_shows_secrets() {
        let config = parse(airbyte_config()).unwrap();
        let text = format!("{config:?}");
        assert!(
            !text.contains("cs-value") && !text.contains("rt-value"),
            "{text}"
        );
    }
}
