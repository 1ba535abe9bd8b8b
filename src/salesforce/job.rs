//! What Bulk API 2.0 query and ingest jobs share: their states, how we wait for them, and the
//! calls that differ only in the job's path (`jobs/query/{id}`, `jobs/ingest/{id}`): read, state
//! change, wait, abort, delete.

use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::act_once::Found;
use super::error::Error;
use super::http::Payload;
use super::{ApiRequest, SalesforceClient};

/// Job ids go into URL paths.
pub(crate) fn check_job_id(id: &str) -> Result<(), Error> {
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(Error::Invalid {
            setting: "Bulk job id".into(),
            value: id.to_string(),
            reason: "expected an alphanumeric Salesforce id".into(),
        })
    }
}

/// A Bulk API 2.0 job's info as the client reads it.
pub(crate) trait BulkJob: DeserializeOwned + Serialize {
    /// `query` or `ingest`: jobs are created at `jobs/{KIND}` and live at `jobs/{KIND}/{id}`.
    const KIND: &'static str;

    fn id(&self) -> &str;

    fn state(&self) -> &JobState;

    /// `errorMessage`, set when the job failed.
    fn error_message(&self) -> Option<&str>;
}

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

impl SalesforceClient {
    fn job_path<J: BulkJob>(&self, job_id: &str) -> Result<String, Error> {
        check_job_id(job_id)?;
        Ok(self.data_path(&format!("jobs/{}/{job_id}", J::KIND)))
    }

    /// The job's current info.
    pub(crate) async fn get_job<J: BulkJob>(&self, job_id: &str) -> Result<J, Error> {
        let path = self.job_path::<J>(job_id)?;
        let job: J = self.send_json(ApiRequest::get(&path)).await?;
        self.inner.jobs.observed(job_id, job.state());
        Ok(job)
    }

    /// `PATCH {"state": state}`: close (`UploadComplete`) or abort (`Aborted`).
    pub(crate) async fn set_job_state<J: BulkJob>(
        &self,
        job_id: &str,
        state: &str,
    ) -> Result<J, Error> {
        let path = self.job_path::<J>(job_id)?;
        let body = serde_json::json!({ "state": state }).to_string();
        let job: J = self
            .send_json(ApiRequest::new(Method::PATCH, &path).payload(&Payload::Json(body.into())))
            .await?;
        self.inner.jobs.observed(job_id, job.state());
        Ok(job)
    }

    /// Asks Salesforce to stop the job. When the answer is lost, a finished job (`JobComplete`,
    /// `Failed`, `Aborted`) needs no abort; any other state gets the abort again.
    pub(crate) async fn abort_job<J: BulkJob>(&self, job_id: &str) -> Result<J, Error> {
        self.act_once(
            &format!("aborting {} job {job_id}", J::KIND),
            || self.set_job_state::<J>(job_id, "Aborted"),
            || async {
                let job = self.get_job::<J>(job_id).await?;
                Ok(if job.state().is_terminal() {
                    Found::TookEffect(job)
                } else {
                    Found::NotTaken
                })
            },
        )
        .await
    }

    /// `DELETE` of a job (safe to repeat): a 404 means an earlier attempt whose answer was
    /// lost deleted it.
    pub(crate) async fn delete_job<J: BulkJob>(&self, job_id: &str) -> Result<(), Error> {
        let path = self.job_path::<J>(job_id)?;
        match self
            .send_empty(ApiRequest::new(Method::DELETE, &path))
            .await
        {
            Err(e) if e.status() == Some(404) && self.inner.jobs.is_known(job_id) => {
                tracing::debug!("Bulk job {job_id} was already deleted: {e}");
            }
            other => other?,
        }
        self.inner.jobs.deleted(job_id);
        Ok(())
    }

    /// Polls the job with the client's [`JobPolling`] pauses until it is terminal; `Failed`
    /// (with its `errorMessage`) and `Aborted` are errors.
    pub(crate) async fn wait_for_job<J: BulkJob>(&self, job_id: &str) -> Result<J, Error> {
        let polling = self.job_polling();
        let mut waited = Duration::ZERO;
        let mut delays = polling.delays();
        loop {
            let job = self.get_job::<J>(job_id).await?;
            match job.state() {
                JobState::JobComplete => return Ok(job),
                JobState::Failed => {
                    return Err(Error::JobFailed {
                        job_id: job_id.to_string(),
                        message: job
                            .error_message()
                            .unwrap_or("no errorMessage given")
                            .to_string(),
                    })
                }
                JobState::Aborted => {
                    return Err(Error::JobAborted {
                        job_id: job_id.to_string(),
                    })
                }
                state => {
                    let delay = delays.next().unwrap_or(polling.max);
                    if let Some(timeout) = polling.timeout {
                        if waited + delay > timeout {
                            return Err(Error::JobTimeout {
                                job_id: job_id.to_string(),
                                state: state.as_str().to_string(),
                                waited_secs: waited.as_secs(),
                            });
                        }
                    }
                    tracing::debug!("Bulk job {job_id} is {}", state.as_str());
                    self.sleeper().sleep(delay).await;
                    waited += delay;
                }
            }
        }
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
