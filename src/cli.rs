//! The command line: `salesforce-connector source|destination <command> [flags]`, or
//! `<command> [flags]` when the program is called `source-salesforce` or
//! `destination-salesforce` (links in an image, PyAirbyte's `local_executable`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::failure::Failure;

/// Which half of the connector runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Source,
    Destination,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    pub debug: bool,
}

/// What the process environment says about a run, read once (by `main`) and passed down as
/// settings: library code reads no environment variable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Environment {
    /// `SALESFORCE_CONNECTOR_BACKOFF_MS`: caps every retry pause, in milliseconds (fault tests
    /// set it so a retried 429 does not wait Salesforce's usual 10 s; operators may use it to
    /// fail fast).
    pub backoff_cap_ms: Option<u64>,
    /// `SALESFORCE_CONNECTOR_READ_TIMEOUT_MS`: the read timeout (longest silence while waiting
    /// for reply bytes), default 300,000 (tests of lost answers set it low; operators behind a
    /// proxy that drops idle connections may lower it).
    pub read_timeout_ms: Option<u64>,
    /// `SALESFORCE_CONNECTOR_MAX_URI_BYTES`: lowers the longest REST URI the source builds
    /// (below Salesforce's 16,384 bytes), for proxies with a smaller limit.
    pub max_uri_bytes: Option<usize>,
    /// `SALESFORCE_CONNECTOR_CHECKPOINT_EVERY`: a STATE at least every this many records of a
    /// stream read in cursor or Id order, instead of 10,000 (tests set it low so a small org
    /// shows a mid-read STATE).
    pub checkpoint_every: Option<u64>,
    /// `SALESFORCE_CONNECTOR_TEST_PANIC=1`: panic once the config is loaded (the tests of the
    /// panic path). Read only in debug builds: the release binary has no such hook.
    pub test_panic: bool,
}

impl Environment {
    /// Reads the variables above from the process environment.
    pub fn from_process() -> Environment {
        let number = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse().ok());
        Environment {
            backoff_cap_ms: number("SALESFORCE_CONNECTOR_BACKOFF_MS"),
            read_timeout_ms: number("SALESFORCE_CONNECTOR_READ_TIMEOUT_MS"),
            max_uri_bytes: number("SALESFORCE_CONNECTOR_MAX_URI_BYTES").map(|n: u64| n as usize),
            checkpoint_every: number("SALESFORCE_CONNECTOR_CHECKPOINT_EVERY"),
            test_panic: cfg!(debug_assertions)
                && std::env::var("SALESFORCE_CONNECTOR_TEST_PANIC").as_deref() == Ok("1"),
        }
    }
}

/// What to run, with its input files: the subcommand of the role, as the command line gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Source(SourceCommand),
    Destination(DestinationCommand),
}

/// Why parsing stopped: help text to print (exit 0), or a failure to report (exit 1).
#[derive(Debug)]
pub enum CliStop {
    Help(String),
    Failure(Failure),
}

#[derive(Parser, Debug)]
#[command(
    name = "salesforce-connector",
    version,
    about = "Salesforce source and destination (Airbyte protocol)"
)]
struct Cli {
    #[command(subcommand)]
    role: RoleCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(Subcommand, Debug)]
enum RoleCommand {
    /// Read from Salesforce.
    Source {
        #[command(subcommand)]
        command: SourceCommand,
    },
    /// Write to Salesforce.
    Destination {
        #[command(subcommand)]
        command: DestinationCommand,
    },
}

#[derive(Parser, Debug)]
#[command(name = "source-salesforce", version)]
struct SourceCli {
    #[command(subcommand)]
    command: SourceCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(Parser, Debug)]
#[command(name = "destination-salesforce", version)]
struct DestinationCli {
    #[command(subcommand)]
    command: DestinationCommand,
    #[command(flatten)]
    common: Common,
}

#[derive(Args, Debug, Clone, Copy)]
struct Common {
    /// Log at DEBUG level.
    #[arg(long, global = true)]
    debug: bool,
}

// A source subcommand (clap reads the doc comments of its variants).
#[derive(Subcommand, Clone, Debug, PartialEq, Eq)]
pub enum SourceCommand {
    /// Print the connector specification.
    Spec,
    /// Check the connection.
    Check(ConfigArgs),
    /// Print the catalog of streams.
    Discover(ConfigArgs),
    /// Read the configured streams.
    Read(ReadArgs),
}

// A destination subcommand.
#[derive(Subcommand, Clone, Debug, PartialEq, Eq)]
pub enum DestinationCommand {
    /// Print the connector specification.
    Spec,
    /// Check the connection.
    Check(ConfigArgs),
    /// Print the objects and operations it accepts.
    Discover(ConfigArgs),
    /// Write the records read on stdin.
    Write(WriteArgs),
}

#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct ConfigArgs {
    /// The config JSON file.
    #[arg(long)]
    pub config: PathBuf,
}

#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct ReadArgs {
    /// The config JSON file.
    #[arg(long)]
    pub config: PathBuf,
    /// The configured catalog JSON file.
    #[arg(long)]
    pub catalog: PathBuf,
    /// The state JSON file (optional).
    #[arg(long)]
    pub state: Option<PathBuf>,
}

#[derive(Args, Clone, Debug, PartialEq, Eq)]
pub struct WriteArgs {
    /// The config JSON file.
    #[arg(long)]
    pub config: PathBuf,
    /// The configured catalog JSON file.
    #[arg(long)]
    pub catalog: PathBuf,
}

/// The role the program's own name selects, if any.
pub fn role_from_program_name(argv0: &Path) -> Option<Role> {
    let name = argv0.file_name()?.to_str()?;
    let name = name.strip_suffix(".exe").unwrap_or(name);
    match name {
        "source-salesforce" => Some(Role::Source),
        "destination-salesforce" => Some(Role::Destination),
        _ => None,
    }
}

/// Parses the whole argv (program name first).
pub fn parse(args: Vec<OsString>) -> Result<Invocation, CliStop> {
    let program = args.first().map(PathBuf::from).unwrap_or_default();
    let result = match role_from_program_name(&program) {
        Some(Role::Source) => SourceCli::try_parse_from(&args).map(|cli| Invocation {
            command: Command::Source(cli.command),
            debug: cli.common.debug,
        }),
        Some(Role::Destination) => DestinationCli::try_parse_from(&args).map(|cli| Invocation {
            command: Command::Destination(cli.command),
            debug: cli.common.debug,
        }),
        None => Cli::try_parse_from(&args).map(|cli| Invocation {
            command: match cli.role {
                RoleCommand::Source { command } => Command::Source(command),
                RoleCommand::Destination { command } => Command::Destination(command),
            },
            debug: cli.common.debug,
        }),
    };
    result.map_err(clap_stop)
}

/// Help and version are printed (to stderr: stdout carries only protocol messages); any
/// other clap error becomes a config_error whose message is clap's, on one line.
fn clap_stop(error: clap::Error) -> CliStop {
    use clap::error::ErrorKind;
    let rendered = error.render().to_string();
    match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => CliStop::Help(rendered),
        _ => {
            let summary = rendered
                .lines()
                .take_while(|line| !line.starts_with("Usage:"))
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            let summary = summary
                .strip_prefix("error: ")
                .unwrap_or(&summary)
                .to_owned();
            let usage = rendered
                .lines()
                .find_map(|line| line.strip_prefix("Usage: "))
                .map(|u| format!(" (usage: {})", u.trim()))
                .unwrap_or_default();
            CliStop::Failure(Failure::config(format!("command line: {summary}{usage}")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn failure(list: &[&str]) -> String {
        match parse(args(list)) {
            Err(CliStop::Failure(f)) => f.message,
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    /// The command `list` parses to, and whether it asks for `--debug`.
    fn parsed(list: &[&str]) -> (Command, bool) {
        let invocation = parse(args(list)).unwrap();
        (invocation.command, invocation.debug)
    }

    #[test]
    fn role_subcommands_parse_with_airbyte_flags() {
        let read = ReadArgs {
            config: "c.json".into(),
            catalog: "k.json".into(),
            state: Some("s.json".into()),
        };
        assert_eq!(
            parsed(&[
                "salesforce-connector",
                "source",
                "read",
                "--config",
                "c.json",
                "--catalog",
                "k.json",
                "--state",
                "s.json",
                "--debug",
            ]),
            (Command::Source(SourceCommand::Read(read)), true)
        );
        assert_eq!(
            parsed(&["salesforce-connector", "destination", "spec"]),
            (Command::Destination(DestinationCommand::Spec), false)
        );
    }

    #[test]
    fn program_name_selects_the_role() {
        let check = ConfigArgs {
            config: "c.json".into(),
        };
        assert_eq!(
            parsed(&[
                "/usr/local/bin/source-salesforce",
                "check",
                "--config",
                "c.json"
            ]),
            (Command::Source(SourceCommand::Check(check)), false)
        );
        let write = WriteArgs {
            config: "c.json".into(),
            catalog: "k.json".into(),
        };
        assert_eq!(
            parsed(&[
                "destination-salesforce",
                "--debug",
                "write",
                "--config",
                "c.json",
                "--catalog",
                "k.json",
            ]),
            (Command::Destination(DestinationCommand::Write(write)), true)
        );
    }

    #[test]
    fn unknown_command_is_a_config_error_naming_it() {
        assert_eq!(
            failure(&["salesforce-connector", "source", "sync"]),
            "command line: unrecognized subcommand 'sync' (usage: salesforce-connector source [OPTIONS] <COMMAND>)"
        );
        assert_eq!(
            failure(&["source-salesforce", "write"]),
            "command line: unrecognized subcommand 'write' (usage: source-salesforce [OPTIONS] <COMMAND>)"
        );
    }

    #[test]
    fn missing_flag_is_a_config_error_naming_it() {
        assert_eq!(
            failure(&["salesforce-connector", "source", "read", "--config", "c.json"]),
            "command line: the following required arguments were not provided: --catalog <CATALOG> (usage: salesforce-connector source read --config <CONFIG> --catalog <CATALOG>)"
        );
    }

    #[test]
    fn help_is_not_a_failure() {
        assert!(matches!(
            parse(args(&["salesforce-connector", "--help"])),
            Err(CliStop::Help(_))
        ));
    }
}
