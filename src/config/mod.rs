//! Source and destination configuration: Airbyte's (and Estuary's) JSON forms in, validated
//! typed settings out, every error naming its key. The specs are generated from these types.

mod auth;
mod connection;
mod datetime;
mod destination;
mod duration;
mod error;
mod parse;
mod secret;
mod source;
mod spec;
mod url;

pub use auth::{AuthKeys, AuthType};
pub use connection::{Connection, Credentials};
pub use destination::{
    Compression, DeadLetterQueue, DestinationConfig, Flattening, OutputFormat, S3DeadLetter,
};
pub use duration::IsoDuration;
pub use error::ConfigError;
pub use secret::{Secret, REDACTED};
pub use source::{Criteria, SourceConfig, StreamCriterion};
pub use spec::{destination_spec, source_spec};
