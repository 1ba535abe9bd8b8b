//! How an emulator is set up: the seed and size of its org, credentials, time and limits.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::faults::FaultRule;
use crate::write::WriteConfig;

/// Everything `Emulator::start` and the `sf-emulator` binary take.
#[derive(Clone, Debug)]
pub struct EmulatorConfig {
    /// Seed of the generated data: same seed, same org.
    pub seed: u64,
    /// Records per object = the object's base count × `scale` (base counts are in
    /// `catalog.rs`, e.g. Account 200, Contact 400; `scale` 1 keeps tests fast).
    pub scale: u64,
    /// Exact record counts for some objects, overriding base × scale (`Bench_Record__c` → 1M).
    pub records: BTreeMap<String, u64>,
    /// Custom objects added after the catalog's (`Extra_Object_0001__c`…), up to 1,295: a large
    /// org for discover.
    pub extra_objects: u32,
    /// Where the clock starts; generated dates spread over the two years before it.
    pub start_time: DateTime<Utc>,
    /// True: the clock runs with real time from `start_time`; false: frozen until moved.
    pub clock_running: bool,
    /// Lifetime of an access token, measured on the org's clock.
    pub token_lifetime: Duration,
    /// Time a Bulk job spends InProgress before it completes, on the org's clock
    /// (zero: complete at the first look).
    pub bulk_job_time: Duration,
    /// A query job also stays InProgress for its rows ÷ this many seconds (0: off), the way a
    /// real org's processing time grows with the result.
    pub bulk_job_rows_per_second: u64,
    /// Added before every answer's first byte (not the `/__emulator` admin API): a network
    /// round trip plus Salesforce's own request handling. Zero: off.
    pub request_latency: Duration,
    /// Each Bulk result download is sent no faster than this (bytes per second on the wire,
    /// i.e. compressed when gzipped; one download per connection). 0: off.
    pub result_bytes_per_second: u64,
    /// REST query page size when the client sends no `batchSize`.
    pub query_batch_size: usize,
    /// Rows per Bulk result page when the client sends no `maxRecords`.
    pub bulk_page_records: usize,
    /// `DailyApiRequests` Max.
    pub daily_api_requests: u64,
    /// `DailyBulkV2QueryJobs` Max.
    pub daily_bulk_query_jobs: u64,
    /// Longest accepted request URI in bytes (414 beyond).
    pub max_uri_bytes: usize,
    /// Serve https with a certificate made at start (its CA is written to a file; see
    /// `Emulator::ca_certificate_path`).
    pub tls: bool,
    /// Extra subject alternative names (DNS names or IP addresses) of the TLS certificate, on
    /// top of `localhost`, `127.0.0.1` and the advertised host.
    pub tls_names: Vec<String>,
    /// The instance URL handed out (token replies, `base_url`), e.g. `https://172.17.0.2:8080`
    /// when clients reach the emulator through an address other than the one it listens on.
    /// `None`: the listen address, or, when that is `0.0.0.0`/`::`, a concrete address of this
    /// host (see `advertise::concrete_host`).
    pub advertise_url: Option<String>,
    /// Faults active from the start.
    pub faults: Vec<FaultRule>,
    /// Validation rules, UNABLE_TO_LOCK_ROW faults and Bulk ingest limits.
    pub write: WriteConfig,
    pub client_id: String,
    pub client_secret: String,
    pub refresh_token: String,
    /// Refresh token rotation (a connected-app setting): every refresh_token grant answers a
    /// new refresh token and the one it used stops working.
    pub rotate_refresh_token: bool,
    pub username: String,
    /// PEM of the RSA public key JWT bearer assertions are checked against.
    pub jwt_public_key_pem: String,
}

/// An RSA key pair for tests of the JWT bearer flow. It is public (it sits in this source file),
/// so it only ever signs assertions for the emulator.
pub(crate) const TEST_JWT_PRIVATE_KEY_PEM: &str = include_str!("test_jwt_key.pem");
pub(crate) const TEST_JWT_PUBLIC_KEY_PEM: &str = include_str!("test_jwt_key.pub.pem");

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            seed: 1,
            scale: 1,
            records: BTreeMap::new(),
            extra_objects: 0,
            start_time: Utc
                .with_ymd_and_hms(2026, 1, 15, 12, 0, 0)
                .single()
                .expect("valid date"),
            clock_running: false,
            token_lifetime: Duration::from_secs(2 * 3600),
            bulk_job_time: Duration::ZERO,
            bulk_job_rows_per_second: 0,
            request_latency: Duration::ZERO,
            result_bytes_per_second: 0,
            query_batch_size: 2000,
            bulk_page_records: 100_000,
            daily_api_requests: 15_000,
            daily_bulk_query_jobs: 10_000,
            max_uri_bytes: 16_384,
            tls: false,
            tls_names: Vec::new(),
            advertise_url: None,
            faults: Vec::new(),
            write: WriteConfig::default(),
            client_id: "3MVG9emulatorClientId".to_string(),
            client_secret: "emulator-client-secret".to_string(),
            refresh_token: "5Aep861emulatorRefreshToken".to_string(),
            rotate_refresh_token: false,
            username: "integration@emulator.example.com".to_string(),
            jwt_public_key_pem: TEST_JWT_PUBLIC_KEY_PEM.to_string(),
        }
    }
}
