//! The API budget: a read stops starting new work before the org's daily API calls or Bulk query
//! jobs would pass `api_budget_percent` of their limits, so a sync never exhausts the quota other
//! integrations of the org depend on.
//!
//! The daily limits and use come from `/limits` when the read starts; API use then follows every
//! reply's `Sforce-Limit-Info` (kept by the client), and Bulk jobs are counted as they are created.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::salesforce::{ApiUsage, Limit};

/// Why new work may not start.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("API budget reached: {what} would pass {percent}% of the org's daily limit ({used} of {max} used); raise api_budget_percent or sync later")]
pub(crate) struct BudgetExceeded {
    pub what: &'static str,
    pub percent: f64,
    pub used: u64,
    pub max: u64,
}

/// Tracks use against the budget; shared by every stream of a read.
#[derive(Debug)]
pub(crate) struct ApiBudget {
    percent: f64,
    api: Option<(u64, u64)>,
    usage: Option<Arc<ApiUsage>>,
    bulk_jobs: Option<(u64, u64)>,
    jobs_created: AtomicU64,
}

impl ApiBudget {
    /// A budget from `/limits` (`DailyApiRequests`, `DailyBulkV2QueryJobs`) and the client's live
    /// usage counters.
    pub(crate) fn new(
        percent: f64,
        limits: Option<&BTreeMap<String, Limit>>,
        usage: Option<Arc<ApiUsage>>,
    ) -> ApiBudget {
        let used_and_max = |name: &str| {
            limits
                .and_then(|l| l.get(name))
                .filter(|l| l.max > 0)
                .map(|l| ((l.max - l.remaining).max(0) as u64, l.max as u64))
        };
        ApiBudget {
            percent,
            api: used_and_max("DailyApiRequests"),
            usage,
            bulk_jobs: used_and_max("DailyBulkV2QueryJobs"),
            jobs_created: AtomicU64::new(0),
        }
    }

    /// A budget that never stops anything (limits unknown).
    pub(crate) fn unlimited() -> ApiBudget {
        ApiBudget::new(100.0, None, None)
    }

    fn allowed(&self, max: u64) -> u64 {
        ((max as f64) * self.percent / 100.0).floor() as u64
    }

    /// May one more API call start?
    pub(crate) fn check_api_call(&self) -> Result<(), BudgetExceeded> {
        let live = self.usage.as_ref().and_then(|u| u.get());
        let Some((used, max)) = live.or(self.api) else {
            return Ok(());
        };
        if used + 1 > self.allowed(max) {
            return Err(BudgetExceeded {
                what: "another API call",
                percent: self.percent,
                used,
                max,
            });
        }
        Ok(())
    }

    /// May one more Bulk query job start? Counts it when it may.
    pub(crate) fn start_bulk_job(&self) -> Result<(), BudgetExceeded> {
        self.check_api_call()?;
        let Some((used_at_start, max)) = self.bulk_jobs else {
            return Ok(());
        };
        let created = self.jobs_created.fetch_add(1, Ordering::SeqCst);
        let used = used_at_start + created;
        if used + 1 > self.allowed(max) {
            self.jobs_created.fetch_sub(1, Ordering::SeqCst);
            return Err(BudgetExceeded {
                what: "another Bulk query job",
                percent: self.percent,
                used,
                max,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `GET limits/` holding one limit.
    fn limits(name: &str, max: i64, remaining: i64) -> BTreeMap<String, Limit> {
        let limit = serde_json::json!({"Max": max, "Remaining": remaining});
        BTreeMap::from([(name.to_string(), serde_json::from_value(limit).unwrap())])
    }

    #[test]
    fn bulk_jobs_stop_at_the_budget_share() {
        let limits = limits("DailyBulkV2QueryJobs", 100, 12);
        let budget = ApiBudget::new(90.0, Some(&limits), None);
        assert!(budget.start_bulk_job().is_ok());
        assert!(budget.start_bulk_job().is_ok());
        let err = budget.start_bulk_job().unwrap_err();
        assert_eq!(err.used, 90);
        assert_eq!(err.max, 100);
        assert!(err.to_string().contains("api_budget_percent"));
    }

    #[test]
    fn api_calls_stop_at_the_budget_share() {
        let limits = limits("DailyApiRequests", 1000, 100);
        let budget = ApiBudget::new(90.0, Some(&limits), None);
        assert!(budget.check_api_call().is_err());
        let budget = ApiBudget::new(95.0, Some(&limits), None);
        assert!(budget.check_api_call().is_ok());
    }

    #[test]
    fn unknown_limits_never_stop_a_read() {
        let budget = ApiBudget::unlimited();
        for _ in 0..1000 {
            assert!(budget.start_bulk_job().is_ok());
        }
    }
}
