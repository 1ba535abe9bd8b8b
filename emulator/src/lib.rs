//! A Salesforce API emulator, faithful to Salesforce's documented behaviour: OAuth 2.0, REST
//! (describe, query/queryAll, getDeleted, limits), Bulk API 2.0 query jobs, an admin API under
//! `/__emulator/`, and injectable faults, over a deterministic generated org.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emulator = sf_emulator::Emulator::start(sf_emulator::EmulatorConfig::default()).await?;
//! println!("{}", emulator.base_url());
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```

#![recursion_limit = "256"]

pub(crate) mod admin;
pub mod advertise;
pub(crate) mod auth;
pub(crate) mod bulk_csv;
pub(crate) mod bulk_ingest;
pub(crate) mod bulk_query;
pub(crate) mod catalog;
pub(crate) mod clock;
pub(crate) mod config;
pub(crate) mod describe;
pub(crate) mod error;
pub mod faults;
pub(crate) mod format;
pub(crate) mod http1;
pub(crate) mod ids;
pub(crate) mod middleware;
pub(crate) mod oauth;
pub(crate) mod org;
pub(crate) mod parallel_gzip;
pub(crate) mod query_plan;
pub(crate) mod rest;
pub(crate) mod rest_query;
pub(crate) mod rest_write;
pub(crate) mod schema;
pub(crate) mod seed;
pub(crate) mod server;
pub(crate) mod soql;
pub(crate) mod state;
pub(crate) mod store;
pub(crate) mod tls;
pub(crate) mod versions;
pub(crate) mod write;

pub use clock::Clock;
pub use config::EmulatorConfig;
pub use server::{Credentials, Emulator};
pub use write::config::WriteConfig;
pub use write::rules::{LockRowFault, RuleCondition, ValidationRule};
