//! The values that shape a read, taken from the source config (see `config`), with the defaults
//! Airbyte's source uses where the config leaves them out.

use chrono::{DateTime, Duration, Utc};

use crate::config::{ChangeDataCapture, IsoDuration};

/// How a read runs.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ReadSettings {
    /// Earliest cursor value read (`start_date`; Airbyte's default is two years ago).
    pub start_date: DateTime<Utc>,
    /// Exclusive upper bound of incremental reads (`end_date`), capped at the read's start.
    pub end_date: Option<DateTime<Utc>>,
    /// Width of one incremental window (`stream_slice_step`).
    pub stream_slice_step: IsoDuration,
    /// How far before the saved state a read starts again (`lookback_window`).
    pub lookback_window: IsoDuration,
    /// Read base64 objects through Bulk anyway, leaving those fields out.
    pub force_use_bulk_api: bool,
    /// Streams, and Bulk jobs within one stream, in flight at once (`num_workers`).
    pub num_workers: usize,
    /// Emit records for hard-deleted rows found through getDeleted.
    pub detect_hard_deletes: bool,
    /// Count each window's rows in Salesforce after reading it (`verify_window_counts`).
    pub verify_window_counts: bool,
    /// Stop starting new API work beyond this share (percent) of the org's daily limits.
    pub api_budget_percent: f64,
    /// `maxRecords` of one Bulk result page.
    pub bulk_page_size: u64,
    /// Result pages of one Bulk job downloaded at once (`max_parallel_downloads`); 1 follows the
    /// locator chain.
    pub max_parallel_downloads: usize,
    /// Fewest rows per Id range of a full refresh (`id_range_rows`); 0 never splits.
    pub id_range_rows: u64,
    /// Rows above which pending incremental windows are cut by count
    /// (`incremental_window_rows`); 0 keeps the fixed windows.
    pub incremental_window_rows: u64,
    /// A STATE is emitted at least every this many records when rows arrive in cursor (or Id)
    /// order.
    pub checkpoint_every: u64,
    /// Longest request URI the REST API accepts; wider field lists are split into chunks.
    pub max_uri_bytes: usize,
    /// When the read started (fixes every window's upper bound).
    pub now: DateTime<Utc>,
    /// The same moment on this machine's monotonic clock (for [`ReadSettings::org_now`]).
    pub started: std::time::Instant,
    /// Follow change events where the stream's object publishes them (`change_data_capture`).
    pub change_data_capture: Option<ChangeDataCapture>,
}

impl ReadSettings {
    /// Settings with Airbyte's defaults, reading from `start_date`, started at `now`.
    pub(crate) fn new(start_date: DateTime<Utc>, now: DateTime<Utc>) -> ReadSettings {
        ReadSettings {
            start_date,
            end_date: None,
            stream_slice_step: IsoDuration::exact(Duration::days(30)),
            lookback_window: IsoDuration::exact(Duration::minutes(10)),
            force_use_bulk_api: false,
            num_workers: 4,
            detect_hard_deletes: true,
            verify_window_counts: true,
            api_budget_percent: 90.0,
            bulk_page_size: 50_000,
            max_parallel_downloads: 5,
            id_range_rows: 250_000,
            incremental_window_rows: 250_000,
            checkpoint_every: 10_000,
            max_uri_bytes: crate::salesforce::rest::MAX_URI_BYTES,
            now,
            started: std::time::Instant::now(),
            change_data_capture: None,
        }
    }

    /// The org's time now: `now` plus the time elapsed here since the read started.
    pub(crate) fn org_now(&self) -> DateTime<Utc> {
        self.now + Duration::from_std(self.started.elapsed()).unwrap_or_else(|_| Duration::zero())
    }
}
