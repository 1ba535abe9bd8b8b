//! The write side's shared state for the HTTP layer: the org (reached through a callback, so
//! the org's owner keeps its own locking) and, under one mutex, the validation rules and the
//! ingest jobs. Lock order: this mutex first, then the org.

use std::sync::{Arc, Mutex};

use super::config::WriteConfig;
use super::rules::WriteRules;
use crate::bulk_ingest::registry::{IngestConfig, IngestJobs};
use crate::store::OrgStore;

/// Runs a closure on the org with write access (e.g. under the org's `RwLock` write guard).
pub(crate) type OrgAccess = Arc<dyn Fn(&mut dyn FnMut(&mut dyn OrgStore)) + Send + Sync>;

/// Validation rules, lock faults and ingest jobs.
#[derive(Debug, Default)]
pub struct WriteSide {
    pub rules: WriteRules,
    pub jobs: IngestJobs,
}

impl WriteSide {
    /// The write side as configured, with `processing_time` from Bulk close to completion.
    pub fn new(config: &WriteConfig, processing_time: chrono::Duration) -> Self {
        WriteSide {
            rules: WriteRules::new(
                config.validation_rules.clone(),
                config.lock_row_faults.clone(),
            )
            .with_bulk_api_hard_delete(config.bulk_api_hard_delete),
            jobs: IngestJobs::new(IngestConfig {
                processing_time,
                max_upload_base64_bytes: config.max_upload_base64_bytes,
                daily_limits: config.daily_limits(),
                ..IngestConfig::default()
            }),
        }
    }
}

#[derive(Clone)]
pub(crate) struct WriteState {
    pub org: OrgAccess,
    pub side: Arc<Mutex<WriteSide>>,
}

impl WriteState {
    #[cfg(test)]
    pub(crate) fn new(org: OrgAccess, rules: WriteRules, ingest: IngestConfig) -> Self {
        WriteState {
            org,
            side: Arc::new(Mutex::new(WriteSide {
                rules,
                jobs: IngestJobs::new(ingest),
            })),
        }
    }

    /// Runs `f` with the write side locked and the org borrowed mutably.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut dyn OrgStore, &mut WriteSide) -> R) -> R {
        let mut side = self
            .side
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut f = Some(f);
        let mut out = None;
        (self.org)(&mut |store: &mut dyn OrgStore| {
            if let Some(f) = f.take() {
                out = Some(f(store, &mut side));
            }
        });
        out.expect("OrgAccess must call the closure it is given")
    }
}
