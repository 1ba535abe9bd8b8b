//! `write`: the stdin loop. Routes each RECORD to its stream's open batch, hands full batches
//! to that stream's worker, and echoes each STATE once every record before it is in Salesforce
//! or in the dead-letter queue.
//!
//! One worker per stream runs that stream's batches in order (updates and upserts of one
//! record must land in the order they were sent; insert jobs, whose rows are independent, may
//! overlap); streams run concurrently, at most `max_concurrent_jobs` jobs at a time. A full
//! batch waits for its worker (a channel of one) and the worker for a job slot, so the batches
//! on disk stay bounded and the reader slows down to Salesforce's pace.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;

use crate::config::DestinationConfig;
use crate::failure::Failure;
use crate::protocol::{
    ConfiguredAirbyteCatalog, ConfiguredAirbyteStream, InputMessage, MessageParser, Output,
    ReadError, StateType, StreamDescriptor,
};
use crate::salesforce::SalesforceClient;

use crate::destination::batch::predict::predict;
use crate::destination::batch::row::record_to_row;
use crate::destination::batch::{Batch, BatchLimits, SealedBatch};
use crate::destination::load::{BatchReport, LoadError, LoadStats, Loader, RetryPolicy};
use crate::destination::outcome::dlq::{DeadLetterQueue, DlqSettings, Rejection, RunIdentity};
use crate::destination::outcome::gate::{with_destination_stats, Counts, StateGate, StateScope};
use crate::destination::outcome::report::{input_key, OutcomeBuffer, OutcomeLine};
use crate::destination::route::mapping::{
    parents_needed, plan_stream, resolve_object_name, unknown_object, StreamRoute, StreamTarget,
};
use crate::destination::route::operation::Operation;
use crate::destination::route::sobject::SObjectInfo;
use crate::destination::unchanged::{compares, Checks};

/// Conversion rejects are written out once this many are waiting.
const MAX_PENDING_REJECTS: usize = 2_000;

/// How the write behaves, from the destination config.
#[derive(Clone, Debug)]
pub(crate) struct WriteOptions {
    pub dlq: DlqSettings,
    pub limits: BatchLimits,
    pub max_concurrent_jobs: usize,
    pub retry: RetryPolicy,
    /// A STATE waiting this long makes the open batches before it go out even if not full.
    pub state_flush_interval: Duration,
    /// Streams whose `soft_delete` is a `hardDelete`.
    pub hard_delete_streams: Vec<String>,
    /// Check every record, send nothing (see `batch::predict`).
    pub dry_run: bool,
    /// A line per input record in the outcome report (see `outcome::report`).
    pub outcome_report: bool,
    /// Update and upsert rows that would change nothing are not sent (see `unchanged`).
    pub skip_unchanged_records: bool,
}

impl WriteOptions {
    pub(crate) fn from_config(config: &DestinationConfig) -> Result<WriteOptions, Failure> {
        Ok(WriteOptions {
            dlq: DlqSettings::from_config(&config.dead_letter, config.ca_certificate())
                .map_err(|e| Failure::config(e.to_string()))?,
            limits: BatchLimits::with_max_bytes(config.batch_size_bytes),
            max_concurrent_jobs: config.max_concurrent_jobs.max(1),
            retry: RetryPolicy {
                max_retries: config.max_retries,
                ..RetryPolicy::default()
            },
            state_flush_interval: config.state_flush_interval,
            hard_delete_streams: config.hard_delete_streams.clone(),
            dry_run: config.dry_run,
            outcome_report: config.outcome_report,
            skip_unchanged_records: config.skip_unchanged_records,
        })
    }
}

/// A RECORD's envelope, parsed without building the data (kept as raw JSON text so numbers
/// keep their digits).
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow, default)]
    message_type: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    record: Option<RawRecord<'a>>,
}

#[derive(Deserialize)]
struct RawRecord<'a> {
    #[serde(borrow)]
    stream: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    namespace: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    data: &'a RawValue,
}

struct Done {
    stream: usize,
    batch: u64,
    result: Result<BatchReport, LoadError>,
}

struct StreamSlot {
    target: Arc<StreamTarget>,
    open: Option<(u64, Batch)>,
    sender: Option<mpsc::Sender<(u64, SealedBatch)>>,
    rejects: Vec<Rejection>,
    /// Dry run: records that would be written, and that would be rejected.
    would_write: u64,
    would_reject: u64,
    /// Records skipped as unchanged (`skip_unchanged_records`).
    skipped: u64,
    /// Outcome report lines of records refused before any job.
    outcomes: Option<OutcomeBuffer>,
}

/// Plans every stream against describe; the first problems found fail the write at once.
pub(super) async fn plan(
    client: &SalesforceClient,
    catalog: &ConfiguredAirbyteCatalog,
    hard_delete_streams: &[String],
) -> Result<Vec<StreamTarget>, Failure> {
    for listed in hard_delete_streams {
        if !catalog.streams.iter().any(|s| &s.stream.name == listed) {
            tracing::warn!(
                "hard_delete_streams names '{listed}', which is not in the configured catalog"
            );
        }
    }
    let global = client
        .describe_global()
        .await
        .map_err(|e| super::salesforce_failure("describeGlobal", e))?;
    let names: Vec<&str> = global.sobjects.iter().map(|o| o.name.as_str()).collect();
    let mut described: HashMap<String, SObjectInfo> = HashMap::new();
    let mut targets = Vec::new();
    let mut problems = Vec::new();
    for configured in &catalog.streams {
        let mut route = route_of(configured);
        route.hard_delete = hard_delete_streams.contains(&route.stream);
        let Some(object) = resolve_object_name(route.requested_object(), names.iter().copied())
        else {
            problems.push(unknown_object(&route).to_string());
            continue;
        };
        describe_into(client, object, &mut described).await?;
        // Relationship columns are checked against their parents' describes.
        for parent in parents_needed(&route, &described[object]) {
            if let Some(parent) = resolve_object_name(&parent, names.iter().copied()) {
                describe_into(client, parent, &mut described).await?;
            }
        }
        match plan_stream(&route, &described[object], &described) {
            Ok(target) => targets.push(target),
            Err(e) => problems.push(e.to_string()),
        }
    }
    if problems.is_empty() {
        Ok(targets)
    } else {
        Err(Failure::config(format!(
            "The configured catalog does not match Salesforce: {}",
            problems.join("; ")
        )))
    }
}

async fn describe_into(
    client: &SalesforceClient,
    object: &str,
    described: &mut HashMap<String, SObjectInfo>,
) -> Result<(), Failure> {
    if !described.contains_key(object) {
        let describe = client
            .describe(object)
            .await
            .map_err(|e| super::salesforce_failure(&format!("describe of {object}"), e))?;
        described.insert(object.to_string(), SObjectInfo::from(&describe));
    }
    Ok(())
}

fn route_of(configured: &ConfiguredAirbyteStream) -> StreamRoute {
    let properties = configured
        .stream
        .json_schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let mode = serde_json::to_value(configured.destination_sync_mode)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    StreamRoute {
        stream: configured.stream.name.clone(),
        namespace: configured.stream.namespace.clone(),
        destination_object_name: configured.destination_object_name.clone(),
        destination_sync_mode: mode,
        primary_key: configured.primary_key.clone().unwrap_or_default(),
        properties,
        hard_delete: false,
    }
}

pub(super) async fn write<R: AsyncBufRead + Unpin + Send>(
    client: SalesforceClient,
    options: WriteOptions,
    catalog: ConfiguredAirbyteCatalog,
    mut input: R,
    output: Output,
) -> Result<(), Failure> {
    let targets = plan(&client, &catalog, &options.hard_delete_streams).await?;
    for target in &targets {
        tracing::info!(
            "stream '{}' -> {} {} ({} columns)",
            target.stream,
            target.operation,
            target.object,
            target.columns.len()
        );
    }
    let sync_id = catalog
        .streams
        .iter()
        .find_map(|s| s.sync_id)
        .map(|id| id.to_string());
    let dlq = Arc::new(
        DeadLetterQueue::open(options.dlq.clone(), RunIdentity::new(Utc::now(), sync_id))
            .map_err(|e| Failure::config(e.to_string()))?,
    );
    tracing::info!("dead-letter queue: {}", dlq.describe());
    let stats = Arc::new(LoadStats::default());
    // A dry run creates and updates nothing: there are no outcomes to report.
    let report_outcomes = options.outcome_report && !options.dry_run;
    if options.outcome_report && options.dry_run {
        tracing::warn!("outcome_report is ignored in a dry run (nothing is written)");
    }
    let loader = Arc::new(Loader {
        client: client.clone(),
        dlq: dlq.clone(),
        retry: options.retry,
        stats: stats.clone(),
        report: report_outcomes,
        checks: Checks {
            skip_unchanged: options.skip_unchanged_records,
            predict_missing: options.dry_run,
        },
        dry_run: options.dry_run,
    });
    let permits = Arc::new(Semaphore::new(options.max_concurrent_jobs));
    let (done_tx, done_rx) = mpsc::unbounded_channel::<Done>();

    let mut slots = Vec::new();
    let mut by_descriptor: HashMap<(String, Option<String>), usize> = HashMap::new();
    let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (index, target) in targets.into_iter().enumerate() {
        let target = Arc::new(target);
        let (tx, mut rx) = mpsc::channel::<(u64, SealedBatch)>(1);
        let worker_target = target.clone();
        let worker_loader = loader.clone();
        let worker_permits = permits.clone();
        let worker_done = done_tx.clone();
        // Inserts are independent rows: a stream's insert jobs may overlap. Other operations
        // touch existing records and keep their batches in order.
        let parallel = target.operation == Operation::Insert;
        tokio::spawn(async move {
            while let Some((batch_id, batch)) = rx.recv().await {
                let Ok(permit) = worker_permits.clone().acquire_owned().await else {
                    break;
                };
                let loader = worker_loader.clone();
                let target = worker_target.clone();
                let done = worker_done.clone();
                let job = async move {
                    let result = loader.load(&target, batch).await;
                    drop(permit);
                    let failed = result.is_err();
                    let _ = done.send(Done {
                        stream: index,
                        batch: batch_id,
                        result,
                    });
                    failed
                };
                if parallel {
                    tokio::spawn(job);
                } else if job.await {
                    break;
                }
            }
        });
        by_descriptor.insert((target.stream.clone(), target.namespace.clone()), index);
        by_name
            .entry(target.stream.clone())
            .or_default()
            .push(index);
        slots.push(StreamSlot {
            target,
            open: None,
            sender: Some(tx),
            rejects: Vec::new(),
            would_write: 0,
            would_reject: 0,
            skipped: 0,
            outcomes: report_outcomes.then(OutcomeBuffer::default),
        });
    }
    drop(done_tx);

    let mut run = Run {
        slots,
        gate: StateGate::new(),
        limits: options.limits,
        dlq,
        output,
        oldest_pending_since: None,
        records: 0,
        states: 0,
        done_rx,
        dry_run: options.dry_run,
        skip_unchanged: options.skip_unchanged_records,
        checks: Checks {
            skip_unchanged: options.skip_unchanged_records,
            predict_missing: options.dry_run,
        },
    };
    if options.dry_run {
        tracing::info!(
            "dry run: every record is checked against describe; nothing is sent to Salesforce"
        );
    }
    let mut parser = MessageParser::new();
    let mut line_no: u64 = 0;
    let mut line = Vec::with_capacity(64 * 1024);
    let mut ticker = tokio::time::interval(Duration::from_millis(500));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

    loop {
        tokio::select! {
            biased;
            Some(done) = run.done_rx.recv() => {
                run.finish_batch(done)?;
                run.release_states().await?;
            }
            _ = ticker.tick() => {
                if run.state_is_overdue(options.state_flush_interval) {
                    run.seal_all().await?;
                }
            }
            // `read_until` keeps partial bytes in `line` when another branch wins: the line is
            // only cleared once it has been handled.
            read = input.read_until(b'\n', &mut line) => {
                let n = read.map_err(|e| Failure::system(format!("cannot read stdin after line {line_no}: {e}")))?;
                let at_eof = n == 0;
                if at_eof && line.is_empty() {
                    break;
                }
                if at_eof || line.ends_with(b"\n") {
                    line_no += 1;
                    run.handle_line(&line, line_no, &mut parser, &by_descriptor, &by_name).await?;
                    line.clear();
                }
                if at_eof {
                    break;
                }
            }
        }
    }

    // EOF: send what is open, let the workers finish, then release every state.
    run.seal_all().await?;
    for slot in &mut run.slots {
        slot.sender = None;
    }
    while let Some(done) = run.done_rx.recv().await {
        run.finish_batch(done)?;
        run.release_states().await?;
    }
    run.flush_rejects().await?;
    run.release_states().await?;
    if run.dry_run {
        write_dry_run_summary(&run.slots, &run.dlq, run.skip_unchanged).await?;
    } else if run.skip_unchanged {
        for slot in run.slots.iter().filter(|s| compares(&s.target.operation)) {
            tracing::info!(
                "stream '{}': {} records skipped as unchanged (skip_unchanged_records)",
                slot.target.stream,
                slot.skipped
            );
        }
    }
    if run.gate.pending() > 0 {
        return Err(Failure::system(format!(
            "{} STATE messages could not be released although every batch finished",
            run.gate.pending()
        )));
    }
    let s = &stats;
    use std::sync::atomic::Ordering::Relaxed;
    tracing::info!(
        "write finished: {} records read, {} STATE messages echoed; {} ingest jobs, {} rows committed, {} rows to the dead-letter queue by Salesforce, {} rows retried, {} rows skipped as unchanged ({} Bulk queries); job time summed over jobs: upload {:.2} s, Salesforce processing {:.2} s, results {:.2} s",
        run.records,
        run.states,
        s.jobs.load(Relaxed),
        s.rows_committed.load(Relaxed),
        s.rows_rejected.load(Relaxed),
        s.rows_retried.load(Relaxed),
        s.rows_skipped.load(Relaxed),
        s.lookup_queries.load(Relaxed),
        s.upload_ms.load(Relaxed) as f64 / 1e3,
        s.processing_ms.load(Relaxed) as f64 / 1e3,
        s.results_ms.load(Relaxed) as f64 / 1e3,
    );
    run.output
        .flush()
        .map_err(|e| Failure::system(e.to_string()))?;
    Ok(())
}

struct Run {
    slots: Vec<StreamSlot>,
    gate: StateGate,
    limits: BatchLimits,
    dlq: Arc<DeadLetterQueue>,
    output: Output,
    oldest_pending_since: Option<Instant>,
    records: u64,
    states: u64,
    done_rx: mpsc::UnboundedReceiver<Done>,
    dry_run: bool,
    skip_unchanged: bool,
    checks: Checks,
}

impl Run {
    async fn handle_line(
        &mut self,
        bytes: &[u8],
        line_no: u64,
        parser: &mut MessageParser,
        by_descriptor: &HashMap<(String, Option<String>), usize>,
        by_name: &HashMap<String, Vec<usize>>,
    ) -> Result<(), Failure> {
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Failure::system(format!("stdin line {line_no}: not UTF-8 ({e})")))?
            .trim_end_matches(['\n', '\r']);
        if text.trim().is_empty() {
            return Ok(());
        }
        if let Ok(Envelope {
            message_type: Some(t),
            record: Some(record),
        }) = serde_json::from_str::<Envelope>(text)
        {
            if t == "RECORD" {
                let namespace = record.namespace.as_deref().map(str::to_string);
                let index = by_descriptor
                    .get(&(record.stream.to_string(), namespace.clone()))
                    .copied()
                    .or_else(|| match by_name.get(record.stream.as_ref()).map(Vec::as_slice) {
                        Some([only]) => Some(*only),
                        _ => None,
                    })
                    .ok_or_else(|| {
                        Failure::system(format!(
                            "stdin line {line_no}: RECORD for stream '{}' which is not in the configured catalog",
                            StreamDescriptor { name: record.stream.to_string(), namespace }
                        ))
                    })?;
                self.records += 1;
                return self.add_record(index, record.data).await;
            }
        }
        // Everything else (STATE, TRACE, LOG...) goes through the protocol parser.
        let parsed = parser
            .parse_line(bytes)
            .map_err(|ReadError::Line { problem, .. }| {
                Failure::system(format!("stdin line {line_no}: {problem}"))
            })?;
        match parsed {
            Some(InputMessage::State(state)) => {
                let scope = match state.message.effective_type() {
                    StateType::Stream => {
                        let descriptor =
                            state.message.stream.as_ref().map(|s| &s.stream_descriptor);
                        StateScope::Stream(descriptor.and_then(|d| {
                            by_descriptor
                                .get(&(d.name.clone(), d.namespace.clone()))
                                .copied()
                                .or_else(|| match by_name.get(&d.name).map(Vec::as_slice) {
                                    Some([only]) => Some(*only),
                                    _ => None,
                                })
                        }))
                    }
                    StateType::Global | StateType::Legacy => StateScope::All,
                };
                self.gate.push_state(state.raw, scope);
                if self.oldest_pending_since.is_none() {
                    self.oldest_pending_since = Some(Instant::now());
                }
                self.release_states().await?;
            }
            Some(InputMessage::Record(record)) => {
                // A RECORD the fast path could not read (e.g. no data object): reject loudly.
                return Err(Failure::system(format!(
                    "stdin line {line_no}: RECORD for stream '{}' has no data object",
                    record.stream
                )));
            }
            Some(InputMessage::Other(_)) | None => {}
        }
        Ok(())
    }

    async fn add_record(&mut self, index: usize, data: &RawValue) -> Result<(), Failure> {
        if data.get().trim() == "{}" {
            return Ok(());
        }
        let interval = self.gate.interval();
        let slot = &mut self.slots[index];
        let target = slot.target.clone();
        let converted = record_to_row(&target, data).map_err(|e| Refusal {
            code: e.code().to_string(),
            message: e.to_string(),
            fields: Vec::new(),
        });
        // Rows whose records or parents are looked up are batched in a dry run too: the
        // loader reads the org, predicts, and sends nothing.
        let looks_up = self.checks.apply_to(&target);
        let converted = match converted {
            Ok(cells) if self.dry_run => match predict(&target, &cells) {
                None if looks_up => Ok(cells),
                None => {
                    slot.would_write += 1;
                    self.gate.count(
                        index,
                        interval,
                        Counts {
                            committed: 1,
                            rejected: 0,
                        },
                    );
                    return Ok(());
                }
                Some(p) => Err(Refusal {
                    code: p.code.to_string(),
                    message: format!("{} (predicted by dry run)", p.message),
                    fields: p.fields,
                }),
            },
            other => other,
        };
        match converted {
            Ok(cells) => {
                if slot.open.is_none() {
                    let batch = new_batch(&target)?;
                    slot.open = Some((self.gate.open_batch(), batch));
                }
                let (_, batch) = slot.open.as_mut().expect("opened above");
                let added = batch
                    .push(&cells, data, interval, &self.limits)
                    .map_err(|e| spool_failure(&target, e))?;
                if !added {
                    self.seal(index).await?;
                    let mut batch = new_batch(&target)?;
                    batch
                        .push(&cells, data, interval, &self.limits)
                        .map_err(|e| spool_failure(&target, e))?;
                    let id = self.gate.open_batch();
                    self.slots[index].open = Some((id, batch));
                }
            }
            Err(error) => {
                slot.would_reject += 1;
                if let Some(outcomes) = slot.outcomes.as_mut() {
                    outcomes.push(&OutcomeLine {
                        stream: &target.stream,
                        namespace: target.namespace.as_deref(),
                        key: input_key(&target, data),
                        operation: target.operation.as_str(),
                        outcome: "rejected",
                        salesforce_id: None,
                        error_code: Some(&error.code),
                    });
                }
                slot.rejects.push(Rejection {
                    stream: target.stream.clone(),
                    namespace: target.namespace.clone(),
                    object: Some(target.object.clone()),
                    operation: Some(target.operation.as_str().to_string()),
                    job_id: None,
                    attempt: 0,
                    time: Utc::now(),
                    error_code: error.code,
                    error_message: error.message,
                    error_fields: error.fields,
                    record: data.to_owned(),
                });
                self.gate.count(
                    index,
                    interval,
                    Counts {
                        committed: 0,
                        rejected: 1,
                    },
                );
                if slot.rejects.len() >= MAX_PENDING_REJECTS {
                    self.flush_rejects().await?;
                }
            }
        }
        Ok(())
    }

    /// Hands the stream's open batch to its worker (waits while the worker is busy).
    async fn seal(&mut self, index: usize) -> Result<(), Failure> {
        let slot = &mut self.slots[index];
        let Some((id, batch)) = slot.open.take() else {
            return Ok(());
        };
        let sealed = batch.seal().map_err(|e| spool_failure(&slot.target, e))?;
        let sender = slot
            .sender
            .as_ref()
            .ok_or_else(|| Failure::system("batch sealed after the input ended"))?;
        if sender.send((id, sealed)).await.is_err() {
            // The worker stopped after a failure; its Done message carries the reason.
            let stream = slot.target.stream.clone();
            while let Some(done) = self.done_rx.recv().await {
                self.finish_batch(done)?;
            }
            return Err(Failure::system(format!(
                "stream '{stream}': the loader stopped after an earlier error"
            )));
        }
        Ok(())
    }

    async fn seal_all(&mut self) -> Result<(), Failure> {
        for index in 0..self.slots.len() {
            self.seal(index).await?;
        }
        self.oldest_pending_since = None;
        Ok(())
    }

    fn state_is_overdue(&self, interval: Duration) -> bool {
        self.oldest_pending_since
            .is_some_and(|since| since.elapsed() >= interval)
    }

    fn finish_batch(&mut self, done: Done) -> Result<(), Failure> {
        let report = done.result.map_err(|e| {
            let stream = &self.slots[done.stream].target;
            Failure::new(e.failure_type(), e.to_string()).with_stream(StreamDescriptor {
                name: stream.stream.clone(),
                namespace: stream.namespace.clone(),
            })
        })?;
        for (interval, counts) in report.counts {
            self.gate.count(done.stream, interval, counts);
        }
        let slot = &mut self.slots[done.stream];
        slot.skipped += report.skipped;
        if self.dry_run {
            slot.would_write += report.sent;
            slot.would_reject += report.predicted_rejects;
        }
        self.gate.finish_batch(done.batch);
        Ok(())
    }

    /// Writes every stream's waiting conversion rejects to the dead-letter queue.
    async fn flush_rejects(&mut self) -> Result<(), Failure> {
        for slot in &mut self.slots {
            if let Some(outcomes) = slot.outcomes.as_mut().filter(|o| !o.is_empty()) {
                std::mem::take(outcomes)
                    .write(&self.dlq, &slot.target.stream)
                    .await
                    .map_err(dlq_failure)?;
            }
            if slot.rejects.is_empty() {
                continue;
            }
            let mut writer = self
                .dlq
                .writer(&slot.target.stream, slot.target.namespace.as_deref());
            for rejection in slot.rejects.drain(..) {
                writer.push(&rejection).await.map_err(dlq_failure)?;
            }
            let keys = writer.finish(Utc::now()).await.map_err(dlq_failure)?;
            tracing::warn!(
                "stream '{}': records that could not be converted went to the dead-letter queue: {}",
                slot.target.stream,
                keys.join(", ")
            );
        }
        Ok(())
    }

    async fn release_states(&mut self) -> Result<(), Failure> {
        if self.gate.pending() == 0 {
            return Ok(());
        }
        self.flush_rejects().await?;
        let released = self.gate.release();
        for state in &released {
            let raw = with_destination_stats(&state.raw, state.stats);
            self.output
                .write_state_raw(&raw)
                .map_err(|e| Failure::system(e.to_string()))?;
            self.states += 1;
        }
        if !released.is_empty() {
            self.oldest_pending_since = (self.gate.pending() > 0).then(Instant::now);
        }
        Ok(())
    }
}

/// Why a record is refused before any job: conversion, or (dry run) a predicted rejection.
struct Refusal {
    code: String,
    message: String,
    fields: Vec<String>,
}

/// Dry run: logs each stream's would-be counts and writes them beside the dead-letter queue.
async fn write_dry_run_summary(
    slots: &[StreamSlot],
    dlq: &DeadLetterQueue,
    skip_unchanged: bool,
) -> Result<(), Failure> {
    let mut streams = Vec::new();
    for slot in slots {
        let t = &slot.target;
        let op = match t.operation {
            Operation::HardDelete => "hard_delete",
            ref other => other.as_str(),
        };
        let skips = skip_unchanged && compares(&t.operation);
        tracing::info!(
            "dry run: stream '{}' ({} {}): would {op} {}, would reject {}{}",
            t.stream,
            t.operation,
            t.object,
            slot.would_write,
            slot.would_reject,
            if skips {
                format!(", would skip {} unchanged", slot.skipped)
            } else {
                String::new()
            }
        );
        let mut entry = serde_json::json!({
            "stream": t.stream,
            "namespace": t.namespace,
            "object": t.object,
            "operation": t.operation.as_str(),
            "would_reject": slot.would_reject,
        });
        entry[format!("would_{op}")] = serde_json::json!(slot.would_write);
        if skips {
            entry["would_skip_unchanged"] = serde_json::json!(slot.skipped);
        }
        streams.push(entry);
    }
    let summary = serde_json::json!({"dry_run": true, "streams": streams});
    let mut bytes = serde_json::to_vec(&summary).map_err(|e| Failure::system(e.to_string()))?;
    bytes.push(b'\n');
    let key = dlq
        .put_run_file("dry_run_summary", ".json", bytes)
        .await
        .map_err(dlq_failure)?;
    tracing::info!("dry run: summary written to {} ({key})", dlq.describe());
    Ok(())
}

fn new_batch(target: &StreamTarget) -> Result<Batch, Failure> {
    let header: Vec<&str> = target.header().collect();
    Batch::new(&header).map_err(|e| spool_failure(target, e))
}

fn spool_failure(target: &StreamTarget, error: std::io::Error) -> Failure {
    Failure::system(format!(
        "stream '{}': cannot spool the batch to a temporary file: {error}",
        target.stream
    ))
}

fn dlq_failure(error: crate::destination::outcome::dlq::DlqError) -> Failure {
    Failure::system(error.to_string())
}
