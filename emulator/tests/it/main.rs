//! The emulator's integration tests, one binary: each module drives a running emulator through
//! HTTP (or the `sf-emulator` binary) the way a Salesforce client would.

mod support;

mod binary;
mod bulk_query;
mod bulk_query_parallel;
mod ingest_faults;
mod ingest_jobs;
mod ingest_rest_writes;
mod ingest_row_errors;
mod ingest_simple_salesforce;
mod query;
mod server;
mod sfclient_read;
