//! `salesforce-connector`: parse the command line, run, turn a failure into one TRACE ERROR
//! and exit code 1. Nothing but protocol messages ever reaches stdout.

use std::process::ExitCode;

use salesforce_connector::cli::{self, CliStop, Environment};
use salesforce_connector::failure::Failure;
use salesforce_connector::protocol::{self, ErrorTrace, FailureType, Message, Output, Trace};
use salesforce_connector::run::run;
use salesforce_connector::secret::redact;

fn main() -> ExitCode {
    let output = Output::stdout();
    install_panic_hook(output.clone());
    let invocation = match cli::parse(std::env::args_os().collect()) {
        Ok(invocation) => invocation,
        Err(CliStop::Help(text)) => {
            eprint!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(CliStop::Failure(failure)) => return fail(&output, failure),
    };
    protocol::install_logging(output.clone(), invocation.debug);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            return fail(
                &output,
                Failure::system(format!("cannot start the async runtime: {e}")),
            )
        }
    };
    let result = runtime.block_on(run(invocation, Environment::from_process(), output.clone()));
    // Tasks still running (a failed read's streams) must not write after the TRACE.
    runtime.shutdown_background();
    match result {
        Ok(()) => match output.flush() {
            Ok(()) => ExitCode::SUCCESS,
            // stdout is gone (the platform closed the pipe): nobody is left to tell.
            Err(_) => ExitCode::FAILURE,
        },
        Err(failure) => fail(&output, failure),
    }
}

/// Reports `failure` as the one TRACE ERROR of this run.
fn fail(output: &Output, failure: Failure) -> ExitCode {
    let _ = output.write(&Message::Trace(failure.to_trace()));
    let _ = output.flush();
    ExitCode::FAILURE
}

/// A panic anywhere becomes a TRACE ERROR (system_error, secrets scrubbed) and exit code 1.
fn install_panic_hook(output: Output) {
    std::panic::set_hook(Box::new(move |info| {
        let payload = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let location = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let mut error = ErrorTrace::new(
            FailureType::SystemError,
            format!("salesforce-connector hit an internal error{location}; this is a bug"),
        );
        error.internal_message = Some(redact(&payload).into_owned());
        let message = Message::Trace(Trace::error(error));
        if !output.write_for_panic(&message) {
            // The writer is busy on another thread: write directly, on a line of its own.
            if let Ok(line) = serde_json::to_string(&message) {
                use std::io::Write;
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "\n{}", redact(&line));
                let _ = stdout.flush();
            }
        }
        std::process::exit(1);
    }));
}
