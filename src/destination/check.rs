//! `check`: log in, prove API access (describeGlobal), prove the dead-letter queue is writable
//! (a probe object written and deleted). Any failure is a FAILED status saying what to fix.

use chrono::Utc;

use crate::config::DestinationConfig;
use crate::protocol::{ConnectionStatus, Status};
use crate::salesforce::{ClientOptions, SalesforceClient};

use crate::destination::outcome::dlq::{DeadLetterQueue, DlqSettings, RunIdentity};

pub(super) async fn check(config: &DestinationConfig, options: ClientOptions) -> ConnectionStatus {
    match try_check(config, options).await {
        Ok(()) => ConnectionStatus {
            status: Status::Succeeded,
            message: None,
        },
        Err(message) => ConnectionStatus {
            status: Status::Failed,
            message: Some(message),
        },
    }
}

async fn try_check(config: &DestinationConfig, options: ClientOptions) -> Result<(), String> {
    let connection = config
        .connection()
        .map_err(|e| format!("Invalid config: {e}"))?;
    let client = SalesforceClient::connect(&connection, options)
        .await
        .map_err(|e| format!("Could not log in to Salesforce: {e}"))?;
    let global = client.describe_global().await.map_err(|e| {
        format!("Logged in, but the REST API refused describeGlobal (does the user have API access?): {e}")
    })?;
    tracing::info!(
        "check: {} objects visible to this user",
        global.sobjects.len()
    );
    let settings = DlqSettings::from_config(&config.dead_letter).map_err(|e| e.to_string())?;
    let queue = DeadLetterQueue::open(settings, RunIdentity::new(Utc::now(), None))
        .map_err(|e| e.to_string())?;
    queue.probe().await.map_err(|e| {
        format!(
            "The dead-letter queue ({}) is not writable: {e}",
            queue.describe()
        )
    })?;
    Ok(())
}
