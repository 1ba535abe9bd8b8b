//! What every stream of a read shares ([`ReadContext`]: the client, the read's settings, the
//! org's API budget) and why a stream ended INCOMPLETE ([`StreamFailure`]). Every stage of the
//! read (discover's Describe stream, plan, fetch) reports through these; they import none of the
//! stages, so the stages' arrows point here and nowhere back.

pub(crate) mod budget;
pub(crate) mod settings;

use std::sync::atomic::AtomicBool;

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
}

/// Why a stream ended INCOMPLETE.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StreamFailure {
    #[error(transparent)]
    Budget(#[from] BudgetExceeded),
    #[error(transparent)]
    Api(#[from] Error),
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Data(String),
    /// Salesforce's replies stayed incomplete after retries; a later run may succeed.
    #[error("{0}")]
    Incomplete(String),
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
