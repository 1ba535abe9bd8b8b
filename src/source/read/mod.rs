//! `read`: every stream of the configured catalog, concurrently up to `num_workers`.
//!
//! Each stream reports STARTED, RUNNING (before its first record), its records and STATEs, then
//! COMPLETE; a stream that fails gets a TRACE ERROR naming it and INCOMPLETE while the others go
//! on. The command fails (non-zero exit) exactly when a stream failed.

pub(crate) mod stream;
pub(crate) mod window_count;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::Semaphore;

use crate::config::SourceConfig;
use crate::failure::Failure;
use crate::protocol::{
    ConfiguredAirbyteCatalog, Control, ErrorTrace, FailureType, InputState, Message, Output,
    StreamStatus,
};

use crate::salesforce::ClientOptions;
use crate::source::connect::{connect, failure};
use crate::source::context::budget::ApiBudget;
use crate::source::context::settings::ReadSettings;
use crate::source::context::{ReadContext, Reason, StreamFailure};
use crate::source::output::emitter::StreamEmitter;
use crate::source::read::stream::read_stream;

/// The read settings a config asks for, the read starting `now`.
pub(crate) fn read_settings(
    config: &SourceConfig,
    now: chrono::DateTime<Utc>,
    max_uri_bytes: Option<usize>,
    checkpoint_every: Option<u64>,
) -> ReadSettings {
    let mut settings = ReadSettings::new(config.start_date_at(now), now);
    settings.end_date = config.end_date;
    settings.stream_slice_step = config.stream_slice_step;
    settings.lookback_window = config.lookback_window;
    settings.force_use_bulk_api = config.force_use_bulk_api;
    settings.num_workers = config.num_workers.max(1);
    settings.detect_hard_deletes = config.detect_hard_deletes;
    settings.verify_window_counts = config.verify_window_counts;
    settings.api_budget_percent = f64::from(config.api_budget_percent);
    settings.bulk_page_size = u64::from(config.bulk_page_size.max(1));
    settings.max_parallel_downloads = config.max_parallel_downloads.max(1);
    settings.id_range_rows = config.id_range_rows;
    settings.incremental_window_rows = config.incremental_window_rows;
    settings.change_data_capture = config.change_data_capture.clone();
    if let Some(max) = max_uri_bytes {
        settings.max_uri_bytes = max.min(settings.max_uri_bytes);
    }
    if let Some(every) = checkpoint_every {
        settings.checkpoint_every = every.max(1);
    }
    settings
}

/// Reads the configured streams from `state` on; writes RECORD, STATE, TRACE messages.
pub(crate) async fn read(
    config: SourceConfig,
    catalog: ConfiguredAirbyteCatalog,
    state: InputState,
    client: ClientOptions,
    max_uri_bytes: Option<usize>,
    checkpoint_every: Option<u64>,
    output: Output,
) -> Result<(), Failure> {
    let client = connect(&config, client)
        .await
        .map_err(|e| failure("Cannot log in to Salesforce", &e))?;
    // The org's clock, not ours, bounds the windows: a skewed local clock must not skip rows.
    let now = client.token_issued_at().unwrap_or_else(Utc::now);
    let settings = read_settings(&config, now, max_uri_bytes, checkpoint_every);
    let token_watch = spawn_token_watch(&client, &config, &output);
    let budget = match client.limits().await {
        Ok(limits) => {
            let budget = ApiBudget::new(
                settings.api_budget_percent,
                Some(&limits),
                Some(client.api_usage_counters()),
            );
            if let Some(api) = limits.get("DailyApiRequests") {
                tracing::info!(
                    "org API use: {} of {} daily requests; this read stops starting new work at {}%",
                    api.max - api.remaining,
                    api.max,
                    settings.api_budget_percent
                );
            }
            budget
        }
        Err(e) => {
            tracing::warn!("cannot read the org's limits ({e}); the API budget is not enforced");
            ApiBudget::unlimited()
        }
    };
    let ctx = Arc::new(ReadContext {
        client,
        budget,
        catalog_streams: catalog
            .streams
            .iter()
            .map(|s| s.stream.name.clone())
            .collect(),
        settings,
        result_pages_refused: AtomicBool::new(false),
        download_level: Arc::default(),
    });
    let permits = Arc::new(Semaphore::new(ctx.settings.num_workers));
    let state = Arc::new(state);
    let mut tasks = Vec::with_capacity(catalog.streams.len());
    for configured in catalog.streams {
        let ctx = ctx.clone();
        let permits = permits.clone();
        let output = output.clone();
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            let descriptor = configured.descriptor();
            let mut emitter = StreamEmitter::new(output, descriptor.clone());
            let _ = emitter.status(StreamStatus::Started);
            let _permit = permits.acquire().await;
            let blob = state.get(&descriptor).filter(|b| !b.is_null());
            let result = read_stream(&ctx, &configured, blob, &mut emitter).await;
            emitter.log_summary();
            match result {
                Ok(()) => {
                    let _ = emitter.status(StreamStatus::Complete);
                    None
                }
                Err(failure) => {
                    let message = format!("Stream {descriptor} failed: {failure}");
                    tracing::error!("{message}");
                    let _ = emitter.error(ErrorTrace::new(failure.failure_type(), message));
                    let _ = emitter.status(StreamStatus::Incomplete);
                    Some((descriptor.to_string(), failure))
                }
            }
        }));
    }
    let mut failed: Vec<(String, StreamFailure)> = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Some(f)) => failed.push(f),
            Ok(None) => {}
            Err(e) => failed.push((
                "(a stream task)".to_string(),
                StreamFailure::Data(Reason::in_context("stream task ended abnormally", e)),
            )),
        }
    }
    if let Some(watch) = token_watch {
        watch.abort();
    }
    // Whatever happened, no query job of this run stays open or undeleted.
    ctx.client.finish_jobs().await;
    output.flush().map_err(|e| Failure::system(e.to_string()))?;
    if failed.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = failed.iter().map(|(n, _)| n.as_str()).collect();
    let failure_type = if failed
        .iter()
        .all(|(_, f)| f.failure_type() == FailureType::ConfigError)
    {
        FailureType::ConfigError
    } else if failed
        .iter()
        .any(|(_, f)| f.failure_type() == FailureType::SystemError)
    {
        FailureType::SystemError
    } else {
        FailureType::TransientError
    };
    Err(Failure::new(
        failure_type,
        format!(
            "{} of the catalog's streams did not sync: {}; see each stream's error above",
            failed.len(),
            names.join(", ")
        ),
    ))
}

/// Emits a CONNECTOR_CONFIG whenever Salesforce rotates the refresh token during the read.
fn spawn_token_watch(
    client: &crate::salesforce::SalesforceClient,
    config: &SourceConfig,
    output: &Output,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut receiver = client.rotated_refresh_token();
    let config = config.clone();
    let output = output.clone();
    let emit = move |token: &crate::secret::Secret| {
        let message = Message::Control(Control::connector_config(config.with_refresh_token(token)));
        let _ = output.write(&message);
        let _ = output.flush();
    };
    if let Some(token) = receiver.borrow_and_update().clone() {
        emit(&token);
    }
    Some(tokio::spawn(async move {
        while receiver.changed().await.is_ok() {
            let token = receiver.borrow_and_update().clone();
            if let Some(token) = token {
                emit(&token);
            }
        }
    }))
}
