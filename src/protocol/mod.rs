//! The Airbyte protocol: message types, the stdout writer, the stdin reader, LOG output.

mod catalog;
mod logging;
mod messages;
mod reader;
mod serde_helpers;
mod state;
mod writer;

pub use catalog::{
    AirbyteCatalog, AirbyteStream, DestinationCatalog, DestinationOperation, DestinationSyncMode,
    StreamDescriptor, SyncMode,
};
pub(crate) use catalog::{ConfiguredAirbyteCatalog, ConfiguredAirbyteStream};
pub use logging::install as install_logging;
pub(crate) use messages::{now_ms, AdvancedAuth, AuthFlowType, ConnectorSpecification};
pub use messages::{
    ChangeKind, ChangeReason, ConnectionStatus, Control, ErrorTrace, EstimateTrace, EstimateType,
    FailureType, Log, LogLevel, Message, RateLimited, Record, RecordChange, RecordMeta, Status,
    StreamStatus, StreamStatusReason, StreamStatusReasonType, StreamStatusTrace, Trace,
};
pub(crate) use reader::{InputMessage, MessageParser, ReadError};
pub(crate) use state::InputState;
pub use state::{GlobalState, StateMessage, StateStats, StateType, StreamState};
pub(crate) use writer::OutputError;
pub use writer::{MemoryOutput, Output};
