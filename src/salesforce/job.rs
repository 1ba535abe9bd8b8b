//! What Bulk API 2.0 query and ingest jobs share: their states and how we wait for them.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A Bulk API 2.0 job's `state`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum JobState {
    Open,
    UploadComplete,
    InProgress,
    JobComplete,
    Failed,
    Aborted,
    /// A state this client does not know; kept so polling can report it.
    #[serde(untagged)]
    Other(String),
}

impl JobState {
    /// `JobComplete`, `Failed` or `Aborted`: the job will not change any more.
    pub(crate) fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobState::JobComplete | JobState::Failed | JobState::Aborted
        )
    }

    pub(crate) fn as_str(&self) -> &str {
        match self {
            JobState::Open => "Open",
            JobState::UploadComplete => "UploadComplete",
            JobState::InProgress => "InProgress",
            JobState::JobComplete => "JobComplete",
            JobState::Failed => "Failed",
            JobState::Aborted => "Aborted",
            JobState::Other(s) => s,
        }
    }
}

/// How often a job's state is polled while waiting for it to finish.
///
/// Short jobs finish within a second, so polling starts fast; long ones are polled ever less
/// often so a many-hour job does not spend the org's API budget on status calls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct JobPolling {
    /// First pause between two polls.
    pub initial: Duration,
    /// Longest pause between two polls.
    pub max: Duration,
    /// Growth factor of the pause after each poll.
    pub multiplier: f64,
    /// Give up after waiting this long in total (`None`: wait as long as the job runs).
    pub timeout: Option<Duration>,
}

impl Default for JobPolling {
    fn default() -> Self {
        JobPolling {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(5),
            multiplier: 1.5,
            timeout: None,
        }
    }
}

impl JobPolling {
    /// The pauses between successive polls.
    pub(crate) fn delays(&self) -> impl Iterator<Item = Duration> {
        let config = *self;
        let mut next = config.initial.min(config.max);
        std::iter::repeat_with(move || {
            let delay = next;
            next = next.mul_f64(config.multiplier.max(1.0)).min(config.max);
            delay
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_starts_fast_and_backs_off_to_the_cap() {
        let polling = JobPolling {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(400),
            multiplier: 2.0,
            timeout: None,
        };
        let delays: Vec<u128> = polling.delays().take(5).map(|d| d.as_millis()).collect();
        assert_eq!(delays, vec![100, 200, 400, 400, 400]);
    }

    #[test]
    fn unknown_states_are_kept() {
        let state: JobState = serde_json::from_str("\"Queued\"").unwrap();
        assert_eq!(state, JobState::Other("Queued".into()));
        assert!(!state.is_terminal());
        let done: JobState = serde_json::from_str("\"JobComplete\"").unwrap();
        assert!(done.is_terminal());
    }
}
