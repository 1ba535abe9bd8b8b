//! Runs one batch through Bulk API 2.0 ingest jobs until every row is in Salesforce or in the
//! dead-letter queue.
//!
//! One attempt = create job, upload the spooled CSV, close, wait (the client polls fast, then
//! backs off), download the result files and reconcile them row by row against what was sent
//! ([`super::reconcile`]). Rows that failed for a transient reason (`UNABLE_TO_LOCK_ROW`...)
//! and rows a `Failed` or `Aborted` job never processed go into a new job, up to `max_retries`
//! times; rows that failed for good, or ran out of retries, go to the dead-letter queue with
//! Salesforce's error, the job id and the attempt.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use tempfile::NamedTempFile;
use thiserror::Error;

use crate::protocol::FailureType;
use crate::salesforce::{
    self, ErrorClass, IngestJob, IngestJobRequest, IngestOperation, IngestResultKind, JobState,
    SalesforceClient,
};

use crate::destination::batch::row::record_to_row;
use crate::destination::batch::{Batch, BatchLimits, SealedBatch};
use crate::destination::outcome::dlq::{DeadLetterQueue, DlqError, Rejection};
use crate::destination::outcome::gate::Counts;
use crate::destination::outcome::reconcile::{
    Outcome, ReconcileError, Reconciled, Reconciler, ResultKind,
};
use crate::destination::outcome::report::{input_key, OutcomeBuffer, OutcomeLine};
use crate::destination::route::mapping::StreamTarget;
use crate::destination::route::operation::Operation;
use crate::destination::unchanged::{Checks, Filter, Finding};

/// How rows are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RetryPolicy {
    /// New jobs for transient and unprocessed rows after the first (0 = never retry).
    pub max_retries: u32,
    /// Pause before the first retry job; doubles with each further one (lock contention
    /// clears with time), capped at `max_delay`.
    pub initial_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            initial_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    fn delay_before(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(2));
        self.initial_delay
            .saturating_mul(factor)
            .min(self.max_delay)
    }
}

/// A batch that could not be loaded; the write stops.
#[derive(Debug, Error)]
pub(crate) enum LoadError {
    #[error("stream '{stream}': {operation} into {object}: {source}")]
    Salesforce {
        stream: String,
        object: String,
        operation: &'static str,
        #[source]
        source: salesforce::Error,
    },
    #[error("stream '{stream}': job {job_id}: {source}")]
    Reconcile {
        stream: String,
        job_id: String,
        #[source]
        source: ReconcileError,
    },
    #[error(
        "stream '{stream}': job {job_id} reports {reported} but its result files hold {found}"
    )]
    CountMismatch {
        stream: String,
        job_id: String,
        reported: String,
        found: String,
    },
    #[error("stream '{stream}': {source}")]
    DeadLetter {
        stream: String,
        #[source]
        source: DlqError,
    },
    #[error("stream '{stream}': spooled batch: {source}")]
    Io {
        stream: String,
        #[source]
        source: std::io::Error,
    },
}

impl LoadError {
    pub(crate) fn failure_type(&self) -> FailureType {
        match self {
            LoadError::Salesforce { source, .. } => match source.class() {
                ErrorClass::Config => FailureType::ConfigError,
                ErrorClass::Transient => FailureType::TransientError,
                ErrorClass::System => FailureType::SystemError,
            },
            LoadError::DeadLetter {
                source: DlqError::Config { .. } | DlqError::Credentials { .. },
                ..
            } => FailureType::ConfigError,
            _ => FailureType::SystemError,
        }
    }
}

/// Outcome of one batch: per STATE interval, what was committed or rejected.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct BatchReport {
    pub counts: BTreeMap<u64, Counts>,
    pub jobs: u32,
    /// Rows taken out as unchanged (`skip_unchanged_records`), counted as committed.
    pub skipped: u64,
    /// Rows that went (or, in a dry run, would go) into the batch's first job.
    pub sent: u64,
    /// Dry run: rows the lookups predict Salesforce would reject.
    pub predicted_rejects: u64,
}

/// Counters across the whole write (for logs and the benchmark).
#[derive(Debug, Default)]
pub(crate) struct LoadStats {
    pub jobs: AtomicU64,
    pub rows_sent: AtomicU64,
    pub rows_committed: AtomicU64,
    pub rows_rejected: AtomicU64,
    pub rows_retried: AtomicU64,
    /// Rows not sent because they would change nothing, and the Bulk queries that found them.
    pub rows_skipped: AtomicU64,
    pub lookup_queries: AtomicU64,
    /// Milliseconds spent uploading (create + PUT + close), waiting for Salesforce to process
    /// (close to a final state), and downloading and reconciling results, summed over jobs.
    pub upload_ms: AtomicU64,
    pub processing_ms: AtomicU64,
    pub results_ms: AtomicU64,
}

/// Loads batches for every stream (shared by the stream workers).
pub(crate) struct Loader {
    pub client: SalesforceClient,
    pub dlq: Arc<DeadLetterQueue>,
    pub retry: RetryPolicy,
    pub stats: Arc<LoadStats>,
    /// Write a line per record to the outcome report (see `outcome::report`).
    pub report: bool,
    /// What to read from the org before each batch (see `unchanged`).
    pub checks: Checks,
    /// Send nothing: only the lookups run (batches reach the loader in a dry run only for
    /// them).
    pub dry_run: bool,
}

enum DownloadError {
    Salesforce(salesforce::Error),
    Io(std::io::Error),
}

/// A row's fate after one attempt, for the outcome report.
enum Verdict<'a> {
    Committed,
    Retry,
    Rejected(&'a str),
}

fn next_of(reconciled: &Reconciled, index: usize, may_retry: bool) -> Verdict<'_> {
    match reconciled.outcome(index) {
        Outcome::Succeeded => Verdict::Committed,
        Outcome::Failed(f) if f.is_transient() && may_retry => Verdict::Retry,
        Outcome::Failed(f) => Verdict::Rejected(&f.code),
        Outcome::Unprocessed if may_retry => Verdict::Retry,
        Outcome::Unprocessed => Verdict::Rejected("UNPROCESSED"),
    }
}

/// What to do with a row after one attempt.
enum Next {
    Commit,
    Retry,
    Reject {
        code: String,
        message: String,
        fields: Vec<String>,
    },
}

impl Loader {
    /// Loads `batch` (rows of `target`), retrying what can be retried; returns once every row
    /// is committed or durably in the dead-letter queue.
    pub(crate) async fn load(
        &self,
        target: &StreamTarget,
        batch: SealedBatch,
    ) -> Result<BatchReport, LoadError> {
        let mut report = BatchReport::default();
        let mut batch = batch;
        if self.checks.apply_to(target) {
            batch = self.look_up(target, batch, &mut report).await?;
        }
        report.sent = batch.len() as u64;
        if self.dry_run {
            for row in &batch.rows {
                report.counts.entry(row.interval).or_default().committed += 1;
            }
            return Ok(report);
        }
        let mut attempt = 1u32;
        while !batch.is_empty() {
            if attempt > 1 {
                tokio::time::sleep(self.retry.delay_before(attempt)).await;
            }
            let (job, reconciled) = self.run_job(target, &batch).await?;
            report.jobs += 1;
            if reconciled.all_succeeded() && !self.report {
                // Nothing to retry or dead-letter: the originals need not be read back.
                for row in &batch.rows {
                    report.counts.entry(row.interval).or_default().committed += 1;
                }
                let committed = batch.len() as u64;
                self.stats
                    .rows_committed
                    .fetch_add(committed, Ordering::Relaxed);
                tracing::info!(
                    "stream '{}': job {} ({} {}, attempt {attempt}): {committed} committed",
                    target.stream,
                    job.id,
                    target.operation,
                    target.object,
                );
                break;
            }
            let may_retry = attempt <= self.retry.max_retries;
            let header: Vec<&str> = target.header().collect();
            let mut retry_batch = Batch::new(&header).map_err(|e| self.io(target, e))?;
            let unlimited = BatchLimits {
                max_bytes: u64::MAX,
                max_records: usize::MAX,
            };
            let mut dlq = self.dlq.writer(&target.stream, target.namespace.as_deref());
            let now = Utc::now();
            let mut outcomes = OutcomeBuffer::default();
            let originals = batch.originals().map_err(|e| self.io(target, e))?;
            for item in originals {
                let (index, original) = item.map_err(|e| self.io(target, e))?;
                if self.report {
                    self.report_row(
                        &mut outcomes,
                        target,
                        &reconciled,
                        index,
                        &original,
                        &next_of(&reconciled, index, may_retry),
                    );
                }
                let interval = batch.rows[index].interval;
                let next = match reconciled.outcome(index) {
                    Outcome::Succeeded => Next::Commit,
                    Outcome::Failed(failure) if failure.is_transient() && may_retry => Next::Retry,
                    Outcome::Failed(failure) => Next::Reject {
                        code: failure.code.clone(),
                        message: if failure.is_transient() {
                            format!(
                                "{} (still failing after {attempt} attempts)",
                                failure.message
                            )
                        } else {
                            failure.message.clone()
                        },
                        fields: failure.fields.clone(),
                    },
                    Outcome::Unprocessed if may_retry => Next::Retry,
                    Outcome::Unprocessed => Next::Reject {
                        code: "UNPROCESSED".into(),
                        message: format!(
                            "not processed: job ended {}{} (after {attempt} attempts)",
                            job.state.as_str(),
                            job.error_message
                                .as_deref()
                                .map(|m| format!(": {m}"))
                                .unwrap_or_default()
                        ),
                        fields: Vec::new(),
                    },
                };
                let counts = report.counts.entry(interval).or_default();
                match next {
                    Next::Commit => counts.committed += 1,
                    Next::Retry => match record_to_row(target, &original) {
                        Ok(cells) => {
                            retry_batch
                                .push(&cells, &original, interval, &unlimited)
                                .map_err(|e| self.io(target, e))?;
                        }
                        Err(e) => {
                            counts.rejected += 1;
                            dlq.push(&self.rejection(
                                target,
                                Some(&job),
                                attempt,
                                e.code(),
                                e.to_string(),
                                Vec::new(),
                                original,
                            ))
                            .await
                            .map_err(dead_letter(target))?;
                        }
                    },
                    Next::Reject {
                        code,
                        message,
                        fields,
                    } => {
                        counts.rejected += 1;
                        dlq.push(&self.rejection(
                            target,
                            Some(&job),
                            attempt,
                            &code,
                            message,
                            fields,
                            original,
                        ))
                        .await
                        .map_err(dead_letter(target))?;
                    }
                }
            }
            let rejected = dlq.rows();
            let keys = dlq.finish(now).await.map_err(dead_letter(target))?;
            outcomes
                .write(&self.dlq, &target.stream)
                .await
                .map_err(dead_letter(target))?;
            let retried = retry_batch.len() as u64;
            let committed = batch.len() as u64 - rejected - retried;
            self.stats
                .rows_committed
                .fetch_add(committed, Ordering::Relaxed);
            self.stats
                .rows_rejected
                .fetch_add(rejected, Ordering::Relaxed);
            self.stats
                .rows_retried
                .fetch_add(retried, Ordering::Relaxed);
            tracing::info!(
                "stream '{}': job {} ({} {}, attempt {attempt}): {committed} committed, {rejected} to the dead-letter queue{}, {retried} to retry",
                target.stream,
                job.id,
                target.operation,
                target.object,
                if keys.is_empty() { String::new() } else { format!(" ({})", keys.join(", ")) },
            );
            batch = retry_batch.seal().map_err(|e| self.io(target, e))?;
            attempt += 1;
        }
        Ok(report)
    }

    /// Reads what the org holds for `batch` and takes out the rows that would change nothing
    /// (counted as committed: their records already hold the values; `skipped_unchanged` in
    /// the outcome report) and, in a dry run, the rows Salesforce would reject for a missing
    /// record or parent (to the dead-letter queue).
    async fn look_up(
        &self,
        target: &StreamTarget,
        batch: SealedBatch,
        report: &mut BatchReport,
    ) -> Result<SealedBatch, LoadError> {
        let rows = batch.len();
        let report_outcomes = self.report && !self.dry_run;
        let mut filter = Filter::new(&self.client, target, batch, self.checks)
            .map_err(|e| self.io(target, e))?;
        let mut dlq = self.dlq.writer(&target.stream, target.namespace.as_deref());
        let now = Utc::now();
        while let Some(decided) = filter.next_chunk().await.map_err(|e| self.io(target, e))? {
            let mut outcomes = OutcomeBuffer::default();
            for row in decided {
                match row.finding {
                    Finding::Unchanged { salesforce_id } if report_outcomes => {
                        outcomes.push(&OutcomeLine {
                            stream: &target.stream,
                            namespace: target.namespace.as_deref(),
                            key: input_key(target, &row.original),
                            operation: target.operation.as_str(),
                            outcome: "skipped_unchanged",
                            salesforce_id: Some(&salesforce_id),
                            error_code: None,
                        });
                    }
                    Finding::Unchanged { .. } => {}
                    Finding::Rejected(predicted) => {
                        let message = format!("{} (predicted by dry run)", predicted.message);
                        dlq.push(&self.rejection(
                            target,
                            None,
                            0,
                            predicted.code,
                            message,
                            predicted.fields,
                            row.original,
                        ))
                        .await
                        .map_err(dead_letter(target))?;
                    }
                }
            }
            outcomes
                .write(&self.dlq, &target.stream)
                .await
                .map_err(dead_letter(target))?;
        }
        let keys = dlq.finish(now).await.map_err(dead_letter(target))?;
        let tally = std::mem::take(&mut filter.tally);
        let send = filter.finish().map_err(|e| self.io(target, e))?;
        for (interval, skipped) in &tally.skipped {
            report.counts.entry(*interval).or_default().committed += skipped;
        }
        for (interval, rejected) in &tally.rejected {
            report.counts.entry(*interval).or_default().rejected += rejected;
        }
        report.skipped = tally.skipped_rows;
        report.predicted_rejects = tally.rejected_rows;
        self.stats
            .rows_skipped
            .fetch_add(tally.skipped_rows, Ordering::Relaxed);
        self.stats
            .lookup_queries
            .fetch_add(tally.queries, Ordering::Relaxed);
        tracing::info!(
            "stream '{}': {rows} rows looked up in {} ({} Bulk queries): {} would change nothing and are skipped{}",
            target.stream,
            target.object,
            tally.queries,
            tally.skipped_rows,
            if self.dry_run {
                format!(
                    ", {} name a record or parent that does not exist{}",
                    tally.rejected_rows,
                    if keys.is_empty() { String::new() } else { format!(" ({})", keys.join(", ")) }
                )
            } else {
                String::new()
            },
        );
        Ok(send)
    }

    /// One job: create, upload, close, wait, reconcile the three result files.
    async fn run_job(
        &self,
        target: &StreamTarget,
        batch: &SealedBatch,
    ) -> Result<(IngestJob, Reconciled), LoadError> {
        let client = &self.client;
        let sf = |source| self.salesforce(target, source);
        let request = IngestJobRequest {
            object: target.object.clone(),
            operation: match target.operation {
                Operation::Insert => IngestOperation::Insert,
                Operation::Update => IngestOperation::Update,
                Operation::Upsert { .. } => IngestOperation::Upsert,
                Operation::Delete => IngestOperation::Delete,
                Operation::HardDelete => IngestOperation::HardDelete,
            },
            external_id_field_name: target
                .operation
                .external_id_field_name()
                .map(str::to_string),
        };
        let started = std::time::Instant::now();
        // Create, upload, close; a failure (or a lost upload answer) aborts the job first.
        let job = client
            .submit_ingest_job(&request, batch.csv_path())
            .await
            .map_err(sf)?;
        self.stats.jobs.fetch_add(1, Ordering::Relaxed);
        self.stats
            .rows_sent
            .fetch_add(batch.len() as u64, Ordering::Relaxed);
        let uploaded_at = std::time::Instant::now();
        let finished = match client.wait_for_job::<IngestJob>(&job.id).await {
            Ok(job) => job,
            Err(salesforce::Error::JobFailed { .. } | salesforce::Error::JobAborted { .. }) => {
                client.get_job::<IngestJob>(&job.id).await.map_err(sf)?
            }
            Err(error) => return Err(sf(error)),
        };
        if finished.state == JobState::Failed || finished.state == JobState::Aborted {
            tracing::warn!(
                "stream '{}': job {} ended {}: {}",
                target.stream,
                finished.id,
                finished.state.as_str(),
                finished
                    .error_message
                    .as_deref()
                    .unwrap_or("no errorMessage")
            );
        }

        let processed_at = std::time::Instant::now();
        let header: Vec<&str> = target.header().collect();
        let mut reconciler = Reconciler::new(&batch.rows);
        if self.report {
            reconciler = reconciler.capture_ids();
        }
        for kind in [
            ResultKind::Successful,
            ResultKind::Failed,
            ResultKind::Unprocessed,
        ] {
            if kind == ResultKind::Unprocessed {
                let (ok, failed, _) = reconciler.counts();
                if ok + failed == batch.len() as u64 {
                    break;
                }
            }
            let file = self.download(target, &finished.id, kind).await?;
            let reader = file.reopen().map_err(|e| self.io(target, e))?;
            reconciler
                .read_results(kind, &header, reader)
                .map_err(|source| LoadError::Reconcile {
                    stream: target.stream.clone(),
                    job_id: finished.id.clone(),
                    source,
                })?;
        }
        let (ok, failed, _) = reconciler.counts();
        if finished.state == JobState::JobComplete {
            let processed_matches = finished
                .number_records_processed
                .is_none_or(|n| n == ok + failed);
            let failed_matches = finished.number_records_failed.is_none_or(|n| n == failed);
            if !processed_matches || !failed_matches {
                return Err(LoadError::CountMismatch {
                    stream: target.stream.clone(),
                    job_id: finished.id.clone(),
                    reported: format!(
                        "numberRecordsProcessed={:?}, numberRecordsFailed={:?}",
                        finished.number_records_processed, finished.number_records_failed
                    ),
                    found: format!("{ok} successful + {failed} failed"),
                });
            }
        }
        let reconciled = reconciler.finish().map_err(|source| LoadError::Reconcile {
            stream: target.stream.clone(),
            job_id: finished.id.clone(),
            source,
        })?;
        let ms = |d: Duration| d.as_millis() as u64;
        let upload = uploaded_at - started;
        let processing = processed_at - uploaded_at;
        let results = processed_at.elapsed();
        self.stats
            .upload_ms
            .fetch_add(ms(upload), Ordering::Relaxed);
        self.stats
            .processing_ms
            .fetch_add(ms(processing), Ordering::Relaxed);
        self.stats
            .results_ms
            .fetch_add(ms(results), Ordering::Relaxed);
        tracing::info!(
            "job {}: {} rows, {:.1} MB uploaded in {:.2} s, processed by Salesforce in {:.2} s, results reconciled in {:.2} s",
            finished.id,
            batch.len(),
            batch.bytes as f64 / 1e6,
            upload.as_secs_f64(),
            processing.as_secs_f64(),
            results.as_secs_f64()
        );
        Ok((finished, reconciled))
    }

    /// Streams one result file to a temporary file. A transient failure (a cut connection
    /// mid-body, a 5xx the client gave up on) starts the download over, a few times.
    async fn download(
        &self,
        target: &StreamTarget,
        job_id: &str,
        kind: ResultKind,
    ) -> Result<NamedTempFile, LoadError> {
        const ATTEMPTS: u32 = 5;
        let mut attempt = 1;
        loop {
            match self.download_once(job_id, kind).await {
                Err(DownloadError::Salesforce(error))
                    if error.class() == ErrorClass::Transient && attempt < ATTEMPTS =>
                {
                    tracing::warn!(
                        "stream '{}': downloading {kind} of job {job_id} failed ({error}); starting over",
                        target.stream
                    );
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                    attempt += 1;
                }
                Err(DownloadError::Salesforce(error)) => return Err(self.salesforce(target, error)),
                Err(DownloadError::Io(error)) => return Err(self.io(target, error)),
                Ok(file) => return Ok(file),
            }
        }
    }

    async fn download_once(
        &self,
        job_id: &str,
        kind: ResultKind,
    ) -> Result<NamedTempFile, DownloadError> {
        let client_kind = match kind {
            ResultKind::Successful => IngestResultKind::Successful,
            ResultKind::Failed => IngestResultKind::Failed,
            ResultKind::Unprocessed => IngestResultKind::Unprocessed,
        };
        let mut body = self
            .client
            .ingest_results(job_id, client_kind)
            .await
            .map_err(DownloadError::Salesforce)?;
        let file = NamedTempFile::new().map_err(DownloadError::Io)?;
        let mut writer = std::io::BufWriter::with_capacity(256 * 1024, file);
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(DownloadError::Salesforce)?;
            writer.write_all(&chunk).map_err(DownloadError::Io)?;
        }
        writer
            .into_inner()
            .map_err(|e| DownloadError::Io(e.into_error()))
    }

    /// The report line of row `index` after this attempt (a row to retry gets none yet).
    fn report_row(
        &self,
        outcomes: &mut OutcomeBuffer,
        target: &StreamTarget,
        reconciled: &Reconciled,
        index: usize,
        original: &serde_json::value::RawValue,
        verdict: &Verdict<'_>,
    ) {
        let (outcome, salesforce_id, error_code) = match verdict {
            Verdict::Retry => return,
            Verdict::Rejected(code) => ("rejected", None, Some(*code)),
            Verdict::Committed => {
                let id = reconciled.salesforce_id(index);
                let outcome = match (&target.operation, id) {
                    (Operation::Insert, _) => "created",
                    (Operation::Upsert { .. }, Some((_, true))) => "created",
                    (Operation::Upsert { .. } | Operation::Update, _) => "updated",
                    (Operation::Delete | Operation::HardDelete, _) => "deleted",
                };
                (outcome, id.map(|(id, _)| id), None)
            }
        };
        outcomes.push(&OutcomeLine {
            stream: &target.stream,
            namespace: target.namespace.as_deref(),
            key: input_key(target, original),
            operation: target.operation.as_str(),
            outcome,
            salesforce_id,
            error_code,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn rejection(
        &self,
        target: &StreamTarget,
        job: Option<&IngestJob>,
        attempt: u32,
        code: &str,
        message: String,
        fields: Vec<String>,
        record: Box<serde_json::value::RawValue>,
    ) -> Rejection {
        Rejection {
            stream: target.stream.clone(),
            namespace: target.namespace.clone(),
            object: Some(target.object.clone()),
            operation: Some(target.operation.as_str().to_string()),
            job_id: job.map(|job| job.id.clone()),
            attempt,
            time: Utc::now(),
            error_code: code.to_string(),
            error_message: message,
            error_fields: fields,
            record,
        }
    }

    fn salesforce(&self, target: &StreamTarget, source: salesforce::Error) -> LoadError {
        LoadError::Salesforce {
            stream: target.stream.clone(),
            object: target.object.clone(),
            operation: target.operation.as_str(),
            source,
        }
    }

    fn io(&self, target: &StreamTarget, source: std::io::Error) -> LoadError {
        LoadError::Io {
            stream: target.stream.clone(),
            source,
        }
    }
}

/// The error of `target`'s stream when its dead-letter queue cannot be written.
fn dead_letter(target: &StreamTarget) -> impl Fn(DlqError) -> LoadError + '_ {
    |source| LoadError::DeadLetter {
        stream: target.stream.clone(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_delays_double_from_the_second_attempt_and_are_capped() {
        let policy = RetryPolicy {
            max_retries: 5,
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        let delays: Vec<u128> = (2..=5)
            .map(|a| policy.delay_before(a).as_millis())
            .collect();
        assert_eq!(delays, [100, 200, 350, 350]);
    }
}
