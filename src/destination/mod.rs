//! The Salesforce destination: `check`, `discover` (data-activation operations) and `write`.
//!
//! Data flow of `write`, folder by folder: stdin lines -> [`route`] (each stream's object,
//! operation and fields) -> [`batch`] (per-stream CSV batch spooled to disk, row by row, cell by
//! cell) -> [`unchanged`] (the org read for the batch: with `skip_unchanged_records`, update
//! and upsert rows that would change nothing taken out; in a dry run, missing records and
//! parents predicted) -> [`load`] (a Bulk API 2.0 ingest job per batch) -> [`outcome`] (results reconciled row
//! by row; every record committed or in the dead-letter queue; only then the STATE messages that
//! followed those records are echoed).
pub(crate) mod batch;
mod check;
pub(crate) mod discover;
pub(crate) mod load;
pub(crate) mod outcome;
pub(crate) mod route;
pub(crate) mod unchanged;
mod write;

use tokio::io::AsyncBufRead;

use crate::config::DestinationConfig;
use crate::failure::Failure;
use crate::protocol::{ConfiguredAirbyteCatalog, Message, Output};
use crate::salesforce::{ClientOptions, ErrorClass, SalesforceClient};

pub(crate) use write::WriteOptions;

/// Tries the connection and the dead-letter queue; writes one CONNECTION_STATUS.
pub(crate) async fn check(
    config: DestinationConfig,
    client: ClientOptions,
    output: Output,
) -> Result<(), Failure> {
    let status = check::check(&config, client).await;
    output
        .write(&Message::ConnectionStatus(status))
        .map_err(|e| Failure::system(e.to_string()))
}

/// Lists, per object, the operations it accepts; writes one DESTINATION_CATALOG.
pub(crate) async fn discover(
    config: DestinationConfig,
    client: ClientOptions,
    output: Output,
) -> Result<(), Failure> {
    let client = connect(&config, client).await?;
    let catalog = discover::destination_catalog(&client)
        .await
        .map_err(|e| salesforce_failure("discover", e))?;
    output
        .write(&Message::DestinationCatalog(catalog))
        .map_err(|e| Failure::system(e.to_string()))
}

/// Loads the records read from `input` into Salesforce; echoes each STATE once everything
/// before it is durable.
pub(crate) async fn write<R: AsyncBufRead + Unpin + Send>(
    config: DestinationConfig,
    client: ClientOptions,
    catalog: ConfiguredAirbyteCatalog,
    input: R,
    output: Output,
) -> Result<(), Failure> {
    let client = connect(&config, client).await?;
    let options = WriteOptions::from_config(&config)?;
    let result = write::write(client.clone(), options, catalog, input, output).await;
    // Whatever happened, no ingest job of this run stays open.
    client.finish_jobs().await;
    result
}

/// Authenticates with the config's connection.
pub(crate) async fn connect(
    config: &DestinationConfig,
    options: ClientOptions,
) -> Result<SalesforceClient, Failure> {
    let connection = config.connection().map_err(Failure::from)?;
    SalesforceClient::connect(&connection, options)
        .await
        .map_err(|e| salesforce_failure("login", e))
}

pub(crate) fn salesforce_failure(what: &str, error: crate::salesforce::Error) -> Failure {
    let message = format!("Salesforce {what} failed: {error}");
    match error.class() {
        ErrorClass::Config => Failure::config(message),
        ErrorClass::Transient => Failure::transient(message),
        ErrorClass::System => Failure::system(message),
    }
}
