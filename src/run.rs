//! Runs one parsed command: loads and validates its inputs, then calls the role.

use std::path::Path;

use serde_json::Value;
use tokio::io::BufReader;

use crate::cli::{
    Command, ConfigArgs, DestinationCommand, Environment, Invocation, ReadArgs, SourceCommand,
    WriteArgs,
};
use crate::config::{self, ConfigError, DestinationConfig, SourceConfig};
use crate::failure::Failure;
use crate::inputs::{read_catalog, read_json, read_state};
use crate::protocol::{ConnectionStatus, Message, Output, Status};
use crate::salesforce::ClientOptions;
use crate::{destination, source};

/// Runs `invocation` with the settings `environment` gives, writing its messages to `output`.
/// An `Err` is reported by the caller as one TRACE ERROR and exit code 1.
pub async fn run(
    invocation: Invocation,
    environment: Environment,
    output: Output,
) -> Result<(), Failure> {
    let client =
        ClientOptions::with_overrides(environment.backoff_cap_ms, environment.read_timeout_ms);
    let test_panic = environment.test_panic;
    match invocation.command {
        Command::Source(SourceCommand::Spec) => {
            write(&output, Message::Spec(Box::new(config::source_spec())))
        }
        Command::Destination(DestinationCommand::Spec) => {
            write(&output, Message::Spec(Box::new(config::destination_spec())))
        }
        Command::Source(SourceCommand::Check(ConfigArgs { config })) => {
            match load_config(&config, SourceConfig::from_value, test_panic)? {
                Ok(config) => source::check(config, client, output).await,
                Err(problem) => check_failed(&output, problem),
            }
        }
        Command::Destination(DestinationCommand::Check(ConfigArgs { config })) => {
            match load_config(&config, DestinationConfig::from_value, test_panic)? {
                Ok(config) => destination::check(config, client, output).await,
                Err(problem) => check_failed(&output, problem),
            }
        }
        Command::Source(SourceCommand::Discover(ConfigArgs { config })) => {
            let config = load_config(&config, SourceConfig::from_value, test_panic)?
                .map_err(Failure::from)?;
            source::discover(config, client, output).await
        }
        Command::Destination(DestinationCommand::Discover(ConfigArgs { config })) => {
            let config = load_config(&config, DestinationConfig::from_value, test_panic)?
                .map_err(Failure::from)?;
            destination::discover(config, client, output).await
        }
        Command::Source(SourceCommand::Read(ReadArgs {
            config,
            catalog,
            state,
        })) => {
            let config = load_config(&config, SourceConfig::from_value, test_panic)?
                .map_err(Failure::from)?;
            let catalog = read_catalog(&catalog)?;
            let state = read_state(state.as_deref())?;
            source::read(
                config,
                catalog,
                state,
                client,
                environment.max_uri_bytes,
                environment.checkpoint_every,
                output,
            )
            .await
        }
        Command::Destination(DestinationCommand::Write(WriteArgs { config, catalog })) => {
            let config = load_config(&config, DestinationConfig::from_value, test_panic)?
                .map_err(Failure::from)?;
            let catalog = read_catalog(&catalog)?;
            let stdin = BufReader::with_capacity(1 << 20, tokio::io::stdin());
            destination::write(config, client, catalog, stdin, output).await
        }
    }
}

/// Reads the config file (a failure: the file is missing or not JSON), registers its secrets
/// for scrubbing, then validates it (the inner `Err`: what is wrong with its content, which
/// `check` reports as a failed connection rather than a crash).
fn load_config<T>(
    path: &Path,
    validate: fn(Value) -> Result<T, ConfigError>,
    test_panic: bool,
) -> Result<Result<T, ConfigError>, Failure> {
    let value = read_json("--config", path)?;
    config::register_config_secrets(&value);
    let validated = validate(value.clone()).map_err(|e| ConfigError {
        key: e.key,
        problem: format!("{} (in --config {})", e.problem, path.display()),
    });
    if test_panic {
        // Deliberately quotes the config, secrets included: the panic hook must scrub them.
        panic!("forced panic for tests after loading the config: {value}");
    }
    Ok(validated)
}

fn check_failed(output: &Output, problem: ConfigError) -> Result<(), Failure> {
    write(
        output,
        Message::ConnectionStatus(ConnectionStatus {
            status: Status::Failed,
            message: Some(format!("Invalid config: {problem}")),
        }),
    )
}

fn write(output: &Output, message: Message) -> Result<(), Failure> {
    output
        .write(&message)
        .map_err(|e| Failure::system(e.to_string()))
}
