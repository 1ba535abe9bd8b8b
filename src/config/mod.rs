//! Source and destination configuration.

mod connection;
mod secret;

pub use connection::{Connection, Credentials};
pub use secret::{Secret, REDACTED};
