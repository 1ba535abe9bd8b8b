//! The Airbyte protocol: message types, the stdout writer, the stdin reader, LOG output.

mod catalog;
mod logging;
mod messages;
mod reader;
mod state;
mod writer;

pub use catalog::{
    AirbyteCatalog, AirbyteStream, ConfiguredAirbyteCatalog, ConfiguredAirbyteStream,
    DestinationCatalog, DestinationOperation, DestinationSyncMode, StreamDescriptor, SyncMode,
};
pub use logging::{install as install_logging, LogLayer};
pub use messages::{
    now_ms, AdvancedAuth, AnalyticsTrace, AuthFlowType, ChangeKind, ChangeReason, ConnectionStatus,
    ConnectorConfig, ConnectorSpecification, Control, ControlType, ErrorTrace, EstimateTrace,
    EstimateType, FailureType, Log, LogLevel, Message, RateLimited, Record, RecordChange,
    RecordMeta, Status, StreamStatus, StreamStatusReason, StreamStatusReasonType,
    StreamStatusTrace, Trace, TraceType,
};
pub use reader::{
    AsyncMessageReader, InputMessage, InputStateMessage, MessageParser, MessageReader, ReadError,
};
pub use state::{
    GlobalState, InputState, StateInputError, StateMessage, StateStats, StateType, StreamState,
};
pub use writer::{serialize_record_line, MemoryOutput, Output, OutputError};
