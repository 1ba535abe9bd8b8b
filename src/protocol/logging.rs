//! `tracing` events become Airbyte LOG messages on the shared [`Output`]; nothing else is
//! ever printed.

use std::fmt::Write as _;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{filter::LevelFilter, Layer};

use super::messages::{Log, LogLevel, Message};
use super::writer::Output;

/// A `tracing` layer writing each event as a LOG message.
pub(crate) struct LogLayer {
    output: Output,
}

impl LogLayer {
    pub(crate) fn new(output: Output) -> Self {
        LogLayer { output }
    }
}

/// Installs the LOG layer as the global subscriber: DEBUG and up with `debug`, else INFO.
/// Returns false if a subscriber was already installed (tests).
pub fn install(output: Output, debug: bool) -> bool {
    let level = if debug {
        LevelFilter::DEBUG
    } else {
        LevelFilter::INFO
    };
    tracing_subscriber::registry()
        .with(LogLayer::new(output).with_filter(level))
        .try_init()
        .is_ok()
}

fn protocol_level(level: &Level) -> LogLevel {
    match *level {
        Level::ERROR => LogLevel::Error,
        Level::WARN => LogLevel::Warn,
        Level::INFO => LogLevel::Info,
        Level::DEBUG => LogLevel::Debug,
        Level::TRACE => LogLevel::Trace,
    }
}

/// Collects `message` and the other fields as `message key=value ...`.
#[derive(Default)]
struct MessageVisitor {
    message: String,
    fields: String,
}

impl Visit for MessageVisitor {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message.push_str(value);
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.message, "{value:?}");
        } else {
            let _ = write!(self.fields, " {}={value:?}", field.name());
        }
    }
}

impl<S: Subscriber> Layer<S> for LogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut visitor = MessageVisitor::default();
        event.record(&mut visitor);
        let message = Message::Log(Log {
            level: protocol_level(event.metadata().level()),
            message: visitor.message + &visitor.fields,
            stack_trace: None,
        });
        // Logging must never fail the command; a broken stdout shows up on the next real write.
        let _ = self.output.write(&message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::MemoryOutput;

    #[test]
    fn events_become_log_messages_with_fields() {
        let (sink, output) = MemoryOutput::with_output();
        let subscriber = tracing_subscriber::registry()
            .with(LogLayer::new(output.clone()).with_filter(LevelFilter::INFO));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(stream = "Account", "reading");
            tracing::warn!("careful");
            tracing::debug!("not shown at INFO");
        });
        output.flush().unwrap();
        let lines = sink.json_lines();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["type"], "LOG");
        assert_eq!(lines[0]["log"]["level"], "INFO");
        assert_eq!(lines[0]["log"]["message"], "reading stream=\"Account\"");
        assert_eq!(lines[1]["log"]["level"], "WARN");
    }
}
