//! The Salesforce source: `check`, `discover`, `read`.
//!
//! Entry points only: the implementation is separate work that has not landed in this build,
//! so each command fails plainly instead of pretending.


pub mod budget;
pub mod bulk_read;
pub mod checkpoint;
pub mod convert;
pub mod csv_stream;
pub mod emitter;
pub mod field_kind;
pub mod json_write;
pub mod object_filter;
pub mod plan;
pub mod rest_read;
pub mod schema;
pub mod settings;
pub mod sink;
pub mod soql;
pub mod state;
pub mod stream_read;

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
