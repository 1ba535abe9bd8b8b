//! Calls that act once, when their answer is lost: ask Salesforce what it holds, then go on.
//!
//! The HTTP layer never replays an acting-once call after an ambiguous failure (see
//! [`super::http::Idempotency`]); it returns [`Error::Unanswered`]. [`SalesforceClient::act_once`]
//! then runs the call's resolver, which reads Salesforce's side (the job's state, the job list)
//! and says whether the call took effect. A call that took effect continues from what Salesforce
//! holds; one that did not is sent again; one whose effect cannot be read fails with the
//! original error, and the caller takes the safe way round (an upload: abort the job and send
//! the batch in a new one).

use std::future::Future;

use super::backoff::Backoff;
use super::error::Error;
use super::SalesforceClient;

/// What a resolver found in Salesforce after an acting-once call lost its answer.
#[derive(Debug)]
pub(crate) enum Found<T> {
    /// The call took effect; this is what its answer would have carried.
    TookEffect(T),
    /// The call did not take effect: sending it again is safe.
    NotTaken,
    /// Salesforce shows nothing that tells; the call is not sent again.
    Unknown,
}

impl SalesforceClient {
    /// Sends an acting-once call (`call`); when its answer is lost, `resolve` reads what
    /// Salesforce holds. `what` names the call in the logs ("closing ingest job 750…").
    ///
    /// A call that did not take effect is sent again, up to the client's `max_retries` times.
    pub(crate) async fn act_once<T, C, CF, R, RF>(
        &self,
        what: &str,
        call: C,
        resolve: R,
    ) -> Result<T, Error>
    where
        C: Fn() -> CF,
        CF: Future<Output = Result<T, Error>>,
        R: Fn() -> RF,
        RF: Future<Output = Result<Found<T>, Error>>,
    {
        let retry = self.inner.http.retry();
        let mut pauses = Backoff::new(retry.backoff, self.inner.http.jitter().clone());
        let mut resent = 0u32;
        loop {
            let lost = match call().await {
                Err(error) if error.is_unanswered() => error,
                other => return other,
            };
            tracing::warn!("{what}: {lost}; reading what Salesforce holds before going on");
            match resolve().await {
                Ok(Found::TookEffect(output)) => {
                    tracing::info!("{what}: Salesforce had acted on it; going on from there");
                    return Ok(output);
                }
                Ok(Found::NotTaken) if resent < retry.max_retries => {
                    resent += 1;
                    let pause = pauses.next_delay();
                    tracing::info!(
                        "{what}: Salesforce had not acted on it; sending it again ({resent}/{}) in {:.1} s",
                        retry.max_retries,
                        pause.as_secs_f64()
                    );
                    self.sleeper().sleep(pause).await;
                }
                Ok(Found::NotTaken) => return Err(lost),
                Ok(Found::Unknown) => {
                    tracing::warn!("{what}: Salesforce does not show whether it acted on it");
                    return Err(lost);
                }
                Err(reading) => {
                    tracing::warn!("{what}: cannot read what Salesforce holds: {reading}");
                    return Err(lost);
                }
            }
        }
    }
}
