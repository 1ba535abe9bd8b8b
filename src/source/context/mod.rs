//! What every stream of a read shares ([`ReadContext`]: the client, the read's settings, the
//! org's API budget) and why a stream ended INCOMPLETE ([`StreamFailure`]). Every stage of the
//! read (discover's Describe stream, plan, fetch) reports through these; they import none of the
//! stages, so the stages' arrows point here and nowhere back.

pub(crate) mod budget;
pub(crate) mod settings;

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize};
use std::sync::Arc;

use crate::protocol::{FailureType, OutputError};
use crate::salesforce::{Error, ErrorClass, SalesforceClient};
use budget::{ApiBudget, BudgetExceeded};
use settings::ReadSettings;

/// What every stream of a read shares.
pub(crate) struct ReadContext {
    pub client: SalesforceClient,
    pub settings: ReadSettings,
    pub budget: ApiBudget,
    /// Names of the catalog's streams (for the Describe stream).
    pub catalog_streams: Vec<String>,
    /// Set once Salesforce refused `resultPages`: later jobs read their pages by locator.
    pub result_pages_refused: AtomicBool,
    /// Result pages downloaded at once where the read's next Bulk job starts: what paid off in
    /// the previous one (see `fetch::adaptive`).
    pub download_level: Arc<DownloadLevel>,
}

/// What the read's Bulk jobs learned about downloading result pages at once.
#[derive(Debug)]
pub(crate) struct DownloadLevel {
    /// Downloads at once that paid off.
    pub level: AtomicUsize,
    /// Tries of one more that failed in a row (the next job waits before trying again).
    pub failures: AtomicU32,
}

impl Default for DownloadLevel {
    fn default() -> Self {
        DownloadLevel {
            level: AtomicUsize::new(1),
            failures: AtomicU32::new(0),
        }
    }
}

/// Why a stream ended INCOMPLETE.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StreamFailure {
    #[error(transparent)]
    Budget(#[from] BudgetExceeded),
    #[error(transparent)]
    Api(#[from] Error),
    /// A setting, a catalog entry or a state this stream cannot be read with.
    #[error(transparent)]
    Config(Reason),
    /// Data this connector could not turn into records.
    #[error(transparent)]
    Data(Reason),
    /// Salesforce's replies stayed incomplete after retries; a later run may succeed.
    #[error(transparent)]
    Incomplete(Reason),
    #[error("writing to stdout: {0}")]
    Output(#[from] OutputError),
}

impl StreamFailure {
    pub(crate) fn failure_type(&self) -> FailureType {
        match self {
            StreamFailure::Budget(_) => FailureType::TransientError,
            StreamFailure::Api(e) => match e.class() {
                ErrorClass::Config => FailureType::ConfigError,
                ErrorClass::Transient => FailureType::TransientError,
                ErrorClass::System => FailureType::SystemError,
            },
            StreamFailure::Config(_) => FailureType::ConfigError,
            StreamFailure::Incomplete(_) => FailureType::TransientError,
            StreamFailure::Data(_) | StreamFailure::Output(_) => FailureType::SystemError,
        }
    }
}

/// An error a [`Reason`] keeps as its cause.
type Cause = Box<dyn std::error::Error + Send + Sync>;

/// Why a stream failed, in the words users read, with the typed error behind it (its
/// `source()`) when there is one.
#[derive(Debug)]
pub(crate) struct Reason {
    /// The whole message without a cause; with one, what is said before the cause's own text
    /// (empty when the cause says it all).
    text: String,
    cause: Option<Cause>,
}

impl Reason {
    /// `cause`'s own message, `cause` kept as the source.
    pub(crate) fn of(cause: impl Into<Cause>) -> Reason {
        Reason::in_context(String::new(), cause)
    }

    /// `context: cause`, `cause` kept as the source.
    pub(crate) fn in_context(context: impl Into<String>, cause: impl Into<Cause>) -> Reason {
        Reason {
            text: context.into(),
            cause: Some(cause.into()),
        }
    }
}

/// A message with no error behind it.
impl From<String> for Reason {
    fn from(text: String) -> Reason {
        Reason { text, cause: None }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.cause {
            None => f.write_str(&self.text),
            Some(cause) if self.text.is_empty() => write!(f, "{cause}"),
            Some(cause) => write!(f, "{}: {cause}", self.text),
        }
    }
}

impl std::error::Error for Reason {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause
            .as_deref()
            .map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_reads_as_before_and_keeps_its_cause() {
        let cause = || serde_json::from_str::<u8>("x").unwrap_err();
        let text = cause().to_string();
        let failure = StreamFailure::Data(Reason::in_context("describe of Account", cause()));
        assert_eq!(failure.to_string(), format!("describe of Account: {text}"));
        let source = std::error::Error::source(&failure).expect("the cause");
        assert!(source.downcast_ref::<serde_json::Error>().is_some());

        let bare = StreamFailure::Config(Reason::of(cause()));
        assert_eq!(bare.to_string(), text);
        assert!(std::error::Error::source(&bare).is_some());

        let words = StreamFailure::Incomplete("counts differ".to_string().into());
        assert_eq!(words.to_string(), "counts differ");
        assert!(std::error::Error::source(&words).is_none());
    }
}
