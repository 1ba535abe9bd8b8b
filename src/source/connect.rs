//! Logging in for a source command, and what a failed login means for the user.

use crate::config::SourceConfig;
use crate::failure::Failure;
use crate::protocol::{Control, FailureType, Message, Output};

use crate::salesforce::{ClientOptions, Error, ErrorClass, SalesforceClient};

/// Logs in with the config's credentials.
pub(crate) async fn connect(
    config: &SourceConfig,
    options: ClientOptions,
) -> Result<SalesforceClient, Error> {
    let connection = config.connection().map_err(|e| Error::Invalid {
        setting: e.key.clone(),
        value: String::new(),
        reason: e.problem.clone(),
    })?;
    SalesforceClient::connect(&connection, options).await
}

/// A sentence telling the user what to fix for a failed login or first call.
pub(crate) fn explain(error: &Error) -> String {
    match error {
        Error::Connection { .. } | Error::Timeout { .. } => format!(
            "{error}. Check login_url / is_sandbox (the login host must be reachable from here) and the network."
        ),
        Error::Api { code, .. } if code == "API_DISABLED_FOR_ORG" || code == "API_CURRENTLY_DISABLED" => format!(
            "{error}. The org or this user has no API access: it needs an edition with API access and the \"API Enabled\" permission on the user's profile."
        ),
        Error::Api { code, .. } if code == "INVALID_SESSION_ID" => format!(
            "{error}. Salesforce rejected the access token it had just issued; check that the connected app allows API access (scope \"api\")."
        ),
        Error::Api { code, .. } if code == "REQUEST_LIMIT_EXCEEDED" => format!(
            "{error}. The org's daily API request limit is used up; try again once it resets."
        ),
        _ => error.to_string(),
    }
}

/// A failure of a source command from a client error.
pub(crate) fn failure(context: &str, error: &Error) -> Failure {
    let failure_type = match error.class() {
        ErrorClass::Config => FailureType::ConfigError,
        ErrorClass::Transient => FailureType::TransientError,
        ErrorClass::System => FailureType::SystemError,
    };
    Failure::new(failure_type, format!("{context}: {}", explain(error)))
}

/// Emits a CONNECTOR_CONFIG with the new refresh token if Salesforce rotated it.
pub(crate) fn emit_rotated_token(
    client: &SalesforceClient,
    config: &SourceConfig,
    output: &Output,
) {
    let rotated = client.rotated_refresh_token().borrow().clone();
    if let Some(token) = rotated {
        let message =
            Message::Control(Control::connector_config(config.with_refresh_token(&token)));
        if let Err(e) = output.write(&message) {
            tracing::warn!("cannot write the rotated refresh token: {e}");
        }
        let _ = output.flush();
    }
}
