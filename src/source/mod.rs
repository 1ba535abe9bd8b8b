//! The Salesforce source: `check`, `discover`, `read`.
//!
//! Entry points only: the implementation is separate work that has not landed in this build,
//! so each command fails plainly instead of pretending.

use crate::config::SourceConfig;
use crate::failure::Failure;
use crate::protocol::{ConfiguredAirbyteCatalog, InputState, Output};

fn not_available(command: &str) -> Failure {
    Failure::system(format!(
        "`source {command}` is not available in this build: the Salesforce source is not implemented yet"
    ))
}

/// Tries the connection; writes one CONNECTION_STATUS.
pub async fn check(_config: SourceConfig, _output: Output) -> Result<(), Failure> {
    Err(not_available("check"))
}

/// Describes the org; writes one CATALOG.
pub async fn discover(_config: SourceConfig, _output: Output) -> Result<(), Failure> {
    Err(not_available("discover"))
}

/// Reads the configured streams from `state` on; writes RECORD, STATE, TRACE messages.
pub async fn read(
    _config: SourceConfig,
    _catalog: ConfiguredAirbyteCatalog,
    _state: InputState,
    _output: Output,
) -> Result<(), Failure> {
    Err(not_available("read"))
}
