//! Daily Bulk API ingest allocations, counted over a rolling 24 hours: records ingested
//! (150,000,000) and batches (15,000, shared with Bulk API 1.0; Bulk API 2.0 counts one batch per
//! 10,000 records of a job). Source: "Bulk API and Bulk API 2.0 Limits and Allocations".

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};

/// Records Bulk API 2.0 puts in one internal batch.
pub(crate) const RECORDS_PER_BATCH: u64 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DailyLimits {
    pub records: u64,
    pub batches: u64,
}

impl Default for DailyLimits {
    fn default() -> Self {
        DailyLimits {
            records: 150_000_000,
            batches: 15_000,
        }
    }
}

/// What was ingested when, to answer "how much in the last 24 hours".
#[derive(Clone, Debug)]
pub(crate) struct DailyUsage {
    events: VecDeque<(DateTime<Utc>, u64, u64)>,
}

impl Default for DailyUsage {
    fn default() -> Self {
        DailyUsage::new()
    }
}

impl DailyUsage {
    pub(crate) fn new() -> Self {
        DailyUsage {
            events: VecDeque::new(),
        }
    }

    pub(crate) fn record(&mut self, at: DateTime<Utc>, records: u64) {
        let batches = records.div_ceil(RECORDS_PER_BATCH).max(1);
        self.events.push_back((at, records, batches));
    }

    /// (records, batches) counted in the 24 hours before `now`.
    pub(crate) fn used(&self, now: DateTime<Utc>) -> (u64, u64) {
        let since = now - Duration::hours(24);
        self.events
            .iter()
            .filter(|(at, _, _)| *at > since && *at <= now)
            .fold((0, 0), |(r, b), (_, records, batches)| {
                (r + records, b + batches)
            })
    }

    /// Records still allowed before `limits` are reached.
    pub(crate) fn records_left(&self, limits: DailyLimits, now: DateTime<Utc>) -> u64 {
        let (records, batches) = self.used(now);
        let by_records = limits.records.saturating_sub(records);
        let by_batches = limits.batches.saturating_sub(batches) * RECORDS_PER_BATCH;
        by_records.min(by_batches)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn usage_rolls_off_after_24_hours() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut usage = DailyUsage::default();
        usage.record(t0, 25_000);
        assert_eq!(usage.used(t0), (25_000, 3));
        assert_eq!(usage.used(t0 + Duration::hours(23)), (25_000, 3));
        assert_eq!(usage.used(t0 + Duration::hours(24)), (0, 0));
    }

    #[test]
    fn records_left_is_bounded_by_records_and_batches() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let mut usage = DailyUsage::default();
        let limits = DailyLimits {
            records: 100,
            batches: 2,
        };
        assert_eq!(usage.records_left(limits, t0), 100);
        usage.record(t0, 1);
        usage.record(t0, 1);
        assert_eq!(
            usage.records_left(limits, t0),
            0,
            "two jobs used both batches"
        );
    }
}
