//! `check`: log in, make one cheap API call (`/limits`), answer SUCCEEDED or FAILED with what
//! to fix. A bad connection is a FAILED status (exit 0), never a crash.

use crate::config::SourceConfig;
use crate::failure::Failure;
use crate::protocol::{ConnectionStatus, Message, Output, Status};

use crate::salesforce::ClientOptions;
use crate::source::connect::{connect, emit_rotated_token, explain};

/// Tries the connection; writes one CONNECTION_STATUS.
pub(crate) async fn check(
    config: SourceConfig,
    client: ClientOptions,
    output: Output,
) -> Result<(), Failure> {
    let status = match connect(&config, client).await {
        Err(e) => failed(format!("Cannot log in to Salesforce: {}", explain(&e))),
        Ok(client) => {
            let result = client.limits().await;
            emit_rotated_token(&client, &config, &output);
            match result {
                Ok(_) => ConnectionStatus {
                    status: Status::Succeeded,
                    message: None,
                },
                Err(e) => failed(format!(
                    "Logged in, but the first API call failed: {}",
                    explain(&e)
                )),
            }
        }
    };
    output
        .write(&Message::ConnectionStatus(status))
        .map_err(|e| Failure::system(e.to_string()))
}

fn failed(message: String) -> ConnectionStatus {
    ConnectionStatus {
        status: Status::Failed,
        message: Some(message),
    }
}
