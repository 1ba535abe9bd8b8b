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

pub mod admin;
pub mod advertise;
pub mod auth;
pub mod bulk_csv;
pub mod bulk_ingest;
pub mod bulk_query;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod describe;
pub mod error;
pub mod faults;
pub mod format;
pub mod ids;
pub mod middleware;
pub mod oauth;
pub mod org;
pub mod parallel_gzip;
pub mod query_plan;
pub mod rest;
pub mod rest_query;
pub mod rest_write;
pub mod schema;
pub mod seed;
pub mod server;
pub mod soql;
pub mod state;
pub mod store;
pub mod tls;
pub mod versions;
pub mod write;

pub use clock::Clock;
pub use config::EmulatorConfig;
pub use server::{Credentials, Emulator};
