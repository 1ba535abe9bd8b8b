//! The write side's settings in the emulator's configuration.

use serde::{Deserialize, Serialize};

use super::rules::{LockRowFault, ValidationRule};
use crate::bulk_ingest::limits::DailyLimits;

/// Validation rules, lock faults and ingest limits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WriteConfig {
    /// Rules that fail records with FIELD_CUSTOM_VALIDATION_EXCEPTION.
    #[serde(default)]
    pub validation_rules: Vec<ValidationRule>,
    /// Every Nth row written to an object fails with UNABLE_TO_LOCK_ROW.
    #[serde(default)]
    pub lock_row_faults: Vec<LockRowFault>,
    /// Largest Bulk upload, in bytes once base64-encoded (documented: 150 MB).
    #[serde(default = "default_max_upload")]
    pub max_upload_base64_bytes: u64,
    /// Records ingested per rolling 24 hours (documented: 150,000,000).
    #[serde(default = "default_daily_records")]
    pub daily_ingest_records: u64,
    /// Bulk batches per rolling 24 hours, one per 10,000 ingested records (documented: 15,000).
    #[serde(default = "default_daily_batches")]
    pub daily_bulk_batches: u64,
    /// Whether the session user holds the "Bulk API Hard Delete" permission (off by default in
    /// Salesforce; the emulator's user is an administrator who was given it).
    #[serde(default = "yes")]
    pub bulk_api_hard_delete: bool,
}

fn yes() -> bool {
    true
}

fn default_max_upload() -> u64 {
    150 * 1024 * 1024
}

fn default_daily_records() -> u64 {
    DailyLimits::default().records
}

fn default_daily_batches() -> u64 {
    DailyLimits::default().batches
}

impl Default for WriteConfig {
    fn default() -> Self {
        WriteConfig {
            validation_rules: Vec::new(),
            lock_row_faults: Vec::new(),
            max_upload_base64_bytes: default_max_upload(),
            daily_ingest_records: default_daily_records(),
            daily_bulk_batches: default_daily_batches(),
            bulk_api_hard_delete: true,
        }
    }
}

impl WriteConfig {
    pub fn daily_limits(&self) -> DailyLimits {
        DailyLimits {
            records: self.daily_ingest_records,
            batches: self.daily_bulk_batches,
        }
    }
}
