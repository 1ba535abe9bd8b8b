//! The Salesforce destination: `check`, `discover`, `write`.
//!
//! Entry points only: the implementation is separate work that has not landed in this build,
//! so each command fails plainly instead of pretending.

use tokio::io::AsyncBufRead;

use crate::config::DestinationConfig;
use crate::failure::Failure;
use crate::protocol::{ConfiguredAirbyteCatalog, Output};

fn not_available(command: &str) -> Failure {
    Failure::system(format!(
        "`destination {command}` is not available in this build: the Salesforce destination is not implemented yet"
    ))
}

/// Tries the connection (and the dead-letter queue); writes one CONNECTION_STATUS.
pub async fn check(_config: DestinationConfig, _output: Output) -> Result<(), Failure> {
    Err(not_available("check"))
}

/// Lists, per object, the operations it accepts; writes one DESTINATION_CATALOG.
pub async fn discover(_config: DestinationConfig, _output: Output) -> Result<(), Failure> {
    Err(not_available("discover"))
}

/// Loads the records read from `input` into Salesforce; echoes each STATE once everything
/// before it is durable.
pub async fn write<R: AsyncBufRead + Unpin + Send>(
    _config: DestinationConfig,
    _catalog: ConfiguredAirbyteCatalog,
    _input: R,
    _output: Output,
) -> Result<(), Failure> {
    Err(not_available("write"))
}
