//! Source and destination configuration.

mod secret;

pub use secret::Secret;
