//! The connector's integration tests, one binary (one link of the crate): each module is one
//! area, run as `cargo test -p salesforce-connector --test it <module>`. What they share is in
//! [`support`].
//!
//! `docker_image` is `#[ignore]`d (release build and images); `.ci/run` runs it with
//! `cargo test -p salesforce-connector --test it docker_image -- --ignored`.

mod support;

mod acceptance;
mod bad_input;
mod destination_activation;
mod destination_check_discover;
mod destination_dlq_s3;
mod destination_faults;
mod destination_kill;
mod destination_lost_answers;
mod destination_write;
mod docker_image;
mod docs_reference;
mod documented_configs;
mod packaging;
mod protocol_conformance;
mod pyairbyte;
mod secrets;
mod source_cdc;
mod source_check;
mod source_discover;
mod source_lost_answers;
mod source_read_bulk;
mod source_read_faults;
mod source_read_incremental;
mod source_read_parallel;
mod source_read_rest;
mod source_read_resume;
mod spec;
mod trust_and_proxies;
