//! Runs a closed job's uploaded CSV through the org, 10,000-row internal batch by batch, and
//! writes the successful, failed and unprocessed result files.

use std::collections::HashMap;

use csv::StringRecord;

use super::job::{IngestJob, Interruption, InterruptionKind, JobResults, JobState, Operation};
use super::limits::RECORDS_PER_BATCH;
use crate::schema::FieldType;
use crate::store::OrgStore;
use crate::write::error::RecordError;
use crate::write::record::resolve_header;
use crate::write::record::{Cell, Column, Outcome, RecordWriter, WriteOperation};
use crate::write::rules::WriteRules;

/// How a run ended and what it produced.
#[derive(Clone, Debug)]
pub(crate) struct RunOutcome {
    pub state: JobState,
    pub error_message: Option<String>,
    pub processed: u64,
    pub failed: u64,
    pub results: JobResults,
}

/// The `errorMessage` of a job stopped by the daily allocation. Text unconfirmed (Bulk API's
/// documented code is `ExceededQuota`).
pub(crate) fn quota_message() -> String {
    "ExceededQuota : The job or batch you tried to create exceeds the allowed number for the past \
     24-hour period."
        .to_string()
}

/// Processes `data` for `job` from start to end. `records_left` is the daily allocation still
/// available.
pub(crate) fn run<S: OrgStore + ?Sized>(
    store: &mut S,
    rules: &mut WriteRules,
    job: &IngestJob,
    data: &[u8],
    interruption: Option<&Interruption>,
    records_left: u64,
) -> RunOutcome {
    let mut step = JobRun::start(store, job, data, records_left);
    loop {
        match step {
            Step::Done(outcome) => return outcome,
            Step::Continue(run) => step = run.step(store, rules, data, interruption, u64::MAX),
        }
    }
}

/// Where a resumable run stands.
#[derive(Debug)]
pub(crate) enum Step {
    Continue(Box<JobRun>),
    Done(RunOutcome),
}

/// A job being processed: its resolved columns, how far into the data it is, and the result
/// files so far. Processing goes by internal batches of 10,000 rows, so the org's lock is held
/// for one step at a time and the job reports its progress meanwhile.
#[derive(Debug)]
pub(crate) struct JobRun {
    sobject: std::sync::Arc<crate::schema::SObject>,
    operation: WriteOperation,
    dialect: super::dialect::Dialect,
    columns: Vec<Column>,
    width: usize,
    key_position: Option<usize>,
    key_case_sensitive: bool,
    key_name: String,
    id_position: Option<usize>,
    /// Bytes of the data consumed (header and processed batches).
    offset: usize,
    row_number: u64,
    records_left: u64,
    run: Run,
}

impl JobRun {
    /// Reads the header and resolves the columns; a job-level refusal ends the run at once.
    pub(crate) fn start<S: OrgStore + ?Sized>(
        store: &S,
        job: &IngestJob,
        data: &[u8],
        records_left: u64,
    ) -> Step {
        let mut reader = job.dialect.reader(data);
        let mut header = StringRecord::new();
        let header_result = reader.read_record(&mut header);
        let run = Run::new(job, &header);
        match header_result {
            Ok(true) => {}
            // Text unconfirmed: Salesforce reports a file without rows as an InvalidBatch.
            Ok(false) => {
                return Step::Done(
                    run.fail_job("InvalidBatch : Records not found in the uploaded data"),
                )
            }
            Err(e) => {
                return Step::Done(
                    run.fail_job(&format!("InvalidBatch : Failed to parse CSV: {e}")),
                )
            }
        }
        let names: Vec<String> = header
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if i == 0 {
                    n.trim_start_matches('\u{feff}').to_string()
                } else {
                    n.to_string()
                }
            })
            .collect();
        let Some(sobject) = store.sobject(&job.object) else {
            let message = format!("InvalidBatch : Unknown object {}", job.object);
            return Step::Done(run.fail_with_rest(&mut reader, &message));
        };
        let mut columns = Vec::with_capacity(names.len());
        for name in &names {
            match resolve_header(store, &sobject, name) {
                Ok(column) => columns.push(column),
                Err(problem) => {
                    let message = format!("InvalidBatch : {problem}");
                    return Step::Done(run.fail_with_rest(&mut reader, &message));
                }
            }
        }
        let id_index = sobject
            .fields
            .iter()
            .position(|f| f.field_type == FieldType::Id);
        let is_id = |c: &Column| Some(c) == id_index.map(Column::Field).as_ref();
        if matches!(job.operation, Operation::Delete | Operation::HardDelete)
            && !columns.iter().all(is_id)
        {
            // Text unconfirmed; simple-salesforce checks the same rule client-side.
            let message = format!(
                "InvalidBatch : The '{}' batch must contain only ids",
                job.operation.as_str()
            );
            return Step::Done(run.fail_with_rest(&mut reader, &message));
        }
        let operation = match job.operation {
            Operation::Insert => WriteOperation::Insert,
            Operation::Update => WriteOperation::Update,
            Operation::Delete => WriteOperation::Delete,
            Operation::HardDelete => WriteOperation::HardDelete,
            Operation::Upsert => {
                let key_name = job.external_id_field_name.as_deref().unwrap_or("Id");
                match sobject.field(key_name) {
                    Some((key, _)) => WriteOperation::Upsert { key },
                    None => {
                        let message = format!("InvalidBatch : Field name not found : {key_name}");
                        return Step::Done(run.fail_with_rest(&mut reader, &message));
                    }
                }
            }
        };
        let (key_position, key_case_sensitive, key_name) = match &operation {
            WriteOperation::Upsert { key } => (
                columns.iter().position(|c| *c == Column::Field(*key)),
                sobject.fields[*key].case_sensitive,
                sobject.fields[*key].name.clone(),
            ),
            _ => (None, false, String::new()),
        };
        let id_position = columns.iter().position(is_id);
        Step::Continue(Box::new(JobRun {
            sobject,
            operation,
            dialect: job.dialect,
            width: names.len(),
            columns,
            key_position,
            key_case_sensitive,
            key_name,
            id_position,
            offset: reader.position().byte() as usize,
            row_number: 1,
            records_left,
            run,
        }))
    }

    /// The result files as they stand.
    pub(crate) fn results_so_far(&mut self) -> JobResults {
        let bytes = |w: &mut csv::Writer<Vec<u8>>| {
            let _ = w.flush();
            w.get_ref().clone()
        };
        JobResults {
            successful: bytes(&mut self.run.successful),
            failed: bytes(&mut self.run.failed),
            unprocessed: bytes(&mut self.run.unprocessed),
        }
    }

    /// Rows processed so far (failures included).
    pub(crate) fn processed(&self) -> u64 {
        self.run.processed
    }

    pub(crate) fn failed(&self) -> u64 {
        self.run.failures
    }

    /// Processes internal batches until about `max_rows` rows are done or the data ends.
    pub(crate) fn step<S: OrgStore + ?Sized>(
        mut self: Box<Self>,
        store: &mut S,
        rules: &mut WriteRules,
        data: &[u8],
        interruption: Option<&Interruption>,
        max_rows: u64,
    ) -> Step {
        let mut reader = self.dialect.reader(&data[self.offset.min(data.len())..]);
        let mut writer = RecordWriter::new(
            store,
            rules,
            std::sync::Arc::clone(&self.sobject),
            self.operation.clone(),
        );
        let mut batch: Vec<StringRecord> = Vec::with_capacity(RECORDS_PER_BATCH as usize);
        let mut stopped: Option<(JobState, Option<String>)> = None;
        let mut done_here = 0u64;
        loop {
            batch.clear();
            let mut read_error = None;
            while batch.len() < RECORDS_PER_BATCH as usize {
                let mut record = StringRecord::new();
                match reader.read_record(&mut record) {
                    Ok(true) => batch.push(record),
                    Ok(false) => break,
                    Err(e) => {
                        read_error = Some(e);
                        break;
                    }
                }
            }
            let duplicates = self
                .key_position
                .map(|p| duplicate_keys(&batch, p, self.key_case_sensitive))
                .unwrap_or_default();
            for record in &batch {
                self.row_number += 1;
                if stopped.is_none() {
                    stopped = self.run.stop_reason(
                        interruption,
                        self.records_left,
                        record,
                        self.width,
                        self.row_number,
                    );
                }
                if stopped.is_some() {
                    self.run.unprocessed(record);
                    continue;
                }
                let cells: Vec<(Column, Cell<'_>)> = self
                    .columns
                    .iter()
                    .cloned()
                    .zip(record.iter().map(cell))
                    .collect();
                let key = self
                    .key_position
                    .and_then(|p| record.get(p))
                    .filter(|k| !k.is_empty());
                let result = match key {
                    Some(k)
                        if duplicates.contains_key(&normalize_key(k, self.key_case_sensitive)) =>
                    {
                        Err(RecordError::duplicate_external_id_in_batch(
                            &self.key_name,
                            k,
                        ))
                    }
                    _ => writer.write(&cells),
                };
                let row_id = self.id_position.and_then(|p| record.get(p)).unwrap_or("");
                self.run.result(record, result, row_id);
            }
            done_here += batch.len() as u64;
            if let Some(e) = read_error {
                let (state, message) = stopped.unwrap_or((
                    JobState::Failed,
                    Some(format!("InvalidBatch : Failed to parse CSV: {e}")),
                ));
                return Step::Done(self.run.finish(state, message));
            }
            if batch.len() < RECORDS_PER_BATCH as usize {
                let (state, message) = stopped.unwrap_or((JobState::JobComplete, None));
                return Step::Done(self.run.finish(state, message));
            }
            if let Some((state, message)) = stopped.take() {
                // Everything after the stop is unprocessed; drain it now.
                let mut record = StringRecord::new();
                while let Ok(true) = reader.read_record(&mut record) {
                    self.run.unprocessed(&record);
                }
                return Step::Done(self.run.finish(state, message));
            }
            if done_here >= max_rows {
                self.offset += reader.position().byte() as usize;
                return Step::Continue(self);
            }
        }
    }
}

fn cell(text: &str) -> Cell<'_> {
    match text {
        "" => Cell::Empty,
        "#N/A" => Cell::Null,
        t => Cell::Text(t),
    }
}

fn normalize_key(key: &str, case_sensitive: bool) -> String {
    if case_sensitive {
        key.to_string()
    } else {
        key.to_lowercase()
    }
}

/// Upsert keys that occur more than once in one internal batch: every such row fails.
fn duplicate_keys(
    batch: &[StringRecord],
    position: usize,
    case_sensitive: bool,
) -> HashMap<String, u32> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for record in batch {
        if let Some(k) = record.get(position).filter(|k| !k.is_empty()) {
            *counts.entry(normalize_key(k, case_sensitive)).or_default() += 1;
        }
    }
    counts.retain(|_, n| *n > 1);
    counts
}

/// The three result writers and the counters of one run.
#[derive(Debug)]
struct Run {
    successful: csv::Writer<Vec<u8>>,
    failed: csv::Writer<Vec<u8>>,
    unprocessed: csv::Writer<Vec<u8>>,
    processed: u64,
    failures: u64,
}

impl Run {
    fn new(job: &IngestJob, header: &StringRecord) -> Run {
        let mut successful = job.dialect.writer(Vec::new());
        let mut failed = job.dialect.writer(Vec::new());
        let mut unprocessed = job.dialect.writer(Vec::new());
        let original: Vec<&str> = header.iter().collect();
        let _ = successful.write_record(
            ["sf__Id", "sf__Created"]
                .into_iter()
                .chain(original.iter().copied()),
        );
        let _ = failed.write_record(
            ["sf__Id", "sf__Error"]
                .into_iter()
                .chain(original.iter().copied()),
        );
        if !original.is_empty() {
            let _ = unprocessed.write_record(&original);
        }
        Run {
            successful,
            failed,
            unprocessed,
            processed: 0,
            failures: 0,
        }
    }

    fn stop_reason(
        &self,
        interruption: Option<&Interruption>,
        records_left: u64,
        record: &StringRecord,
        width: usize,
        row_number: u64,
    ) -> Option<(JobState, Option<String>)> {
        if let Some(i) = interruption.filter(|i| self.processed >= i.after_rows) {
            return Some(match &i.kind {
                InterruptionKind::Fail { message } => (JobState::Failed, Some(message.clone())),
                InterruptionKind::Abort => (JobState::Aborted, None),
            });
        }
        if self.processed >= records_left {
            return Some((JobState::Failed, Some(quota_message())));
        }
        if record.len() != width {
            // Text unconfirmed.
            return Some((
                JobState::Failed,
                Some(format!(
                    "InvalidBatch : Wrong number of columns in row {row_number}: expected {width}, found {}",
                    record.len()
                )),
            ));
        }
        None
    }

    fn result(
        &mut self,
        record: &StringRecord,
        result: Result<Outcome, RecordError>,
        row_id: &str,
    ) {
        self.processed += 1;
        let _ = match result {
            Ok(outcome) => {
                let created = if outcome.created() { "true" } else { "false" };
                self.successful
                    .write_record([outcome.id(), created].into_iter().chain(record.iter()))
            }
            Err(error) => {
                self.failures += 1;
                self.failed.write_record(
                    [row_id, error.sf_error().as_str()]
                        .into_iter()
                        .chain(record.iter()),
                )
            }
        };
    }

    fn unprocessed(&mut self, record: &StringRecord) {
        let _ = self.unprocessed.write_record(record);
    }

    /// Fails the job before any row is processed: every row is unprocessed.
    fn fail_with_rest<R: std::io::Read>(
        mut self,
        reader: &mut csv::Reader<R>,
        message: &str,
    ) -> RunOutcome {
        let mut record = StringRecord::new();
        while let Ok(true) = reader.read_record(&mut record) {
            self.unprocessed(&record);
        }
        self.fail_job(message)
    }

    fn fail_job(self, message: &str) -> RunOutcome {
        self.finish(JobState::Failed, Some(message.to_string()))
    }

    fn finish(self, state: JobState, error_message: Option<String>) -> RunOutcome {
        let bytes = |w: csv::Writer<Vec<u8>>| w.into_inner().unwrap_or_default();
        RunOutcome {
            state,
            error_message,
            processed: self.processed,
            failed: self.failures,
            results: JobResults {
                successful: bytes(self.successful),
                failed: bytes(self.failed),
                unprocessed: bytes(self.unprocessed),
            },
        }
    }
}
