//! Runs a closed job's uploaded CSV through the org, 10,000-row internal batch by batch, and
//! writes the successful, failed and unprocessed result files.

use std::collections::HashMap;

use csv::StringRecord;

use super::job::{IngestJob, JobResults, JobState, Operation};
use super::limits::RECORDS_PER_BATCH;
use crate::schema::FieldType;
use crate::store::OrgStore;
use crate::write::record::resolve_column;
use crate::write::{Cell, Column, RecordError, RecordWriter, WriteOperation, WriteRules};

/// An injected interruption: after `after_rows` rows the job stops, the rest is unprocessed.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Interruption {
    pub after_rows: u64,
    pub kind: InterruptionKind,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InterruptionKind {
    /// The job ends `Failed` with this `errorMessage`.
    Fail { message: String },
    /// The job ends `Aborted`.
    Abort,
}

/// How a run ended and what it produced.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    pub state: JobState,
    pub error_message: Option<String>,
    pub processed: u64,
    pub failed: u64,
    pub results: JobResults,
}

/// The `errorMessage` of a job stopped by the daily allocation. Text unconfirmed (Bulk API's
/// documented code is `ExceededQuota`).
pub fn quota_message() -> String {
    "ExceededQuota : The job or batch you tried to create exceeds the allowed number for the past \
     24-hour period."
        .to_string()
}

/// Processes `data` for `job`. `records_left` is the daily allocation still available.
pub fn run<S: OrgStore + ?Sized>(
    store: &mut S,
    rules: &mut WriteRules,
    job: &IngestJob,
    data: &[u8],
    interruption: Option<&Interruption>,
    records_left: u64,
) -> RunOutcome {
    let mut reader = job.dialect.reader(data);
    let mut header = StringRecord::new();
    let header_result = reader.read_record(&mut header);
    let mut run = Run::new(job, &header);
    match header_result {
        Ok(true) => {}
        // Text unconfirmed: Salesforce reports a file without rows as an InvalidBatch.
        Ok(false) => return run.fail_job("InvalidBatch : Records not found in the uploaded data"),
        Err(e) => return run.fail_job(&format!("InvalidBatch : Failed to parse CSV: {e}")),
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
        return run.fail_with_rest(
            &mut reader,
            &format!("InvalidBatch : Unknown object {}", job.object),
        );
    };
    let mut columns = Vec::with_capacity(names.len());
    for name in &names {
        match resolve_column(store, &sobject, name) {
            Some(column) => columns.push(column),
            None => {
                return run.fail_with_rest(
                    &mut reader,
                    &format!("InvalidBatch : Field name not found : {name}"),
                )
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
        return run.fail_with_rest(&mut reader, &message);
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
                    return run.fail_with_rest(&mut reader, &message);
                }
            }
        }
    };
    let key_position = match &operation {
        WriteOperation::Upsert { key } => columns.iter().position(|c| *c == Column::Field(*key)),
        _ => None,
    };
    let key_case_sensitive = match &operation {
        WriteOperation::Upsert { key } => sobject.fields[*key].case_sensitive,
        _ => false,
    };
    let id_position = columns.iter().position(is_id);
    let key_name = match &operation {
        WriteOperation::Upsert { key } => sobject.fields[*key].name.clone(),
        _ => String::new(),
    };

    let mut writer = RecordWriter::new(store, rules, sobject, operation);
    let mut batch: Vec<StringRecord> = Vec::with_capacity(RECORDS_PER_BATCH as usize);
    let mut stopped: Option<(JobState, Option<String>)> = None;
    let mut row_number = 1u64;
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
        let duplicates = key_position
            .map(|p| duplicate_keys(&batch, p, key_case_sensitive))
            .unwrap_or_default();
        for record in &batch {
            row_number += 1;
            if stopped.is_none() {
                stopped =
                    run.stop_reason(interruption, records_left, record, names.len(), row_number);
            }
            if stopped.is_some() {
                run.unprocessed(record);
                continue;
            }
            let cells: Vec<(Column, Cell<'_>)> = columns
                .iter()
                .cloned()
                .zip(record.iter().map(cell))
                .collect();
            let key = key_position
                .and_then(|p| record.get(p))
                .filter(|k| !k.is_empty());
            let result = match key {
                Some(k) if duplicates.contains_key(&normalize_key(k, key_case_sensitive)) => {
                    Err(RecordError::duplicate_external_id_in_batch(&key_name, k))
                }
                _ => writer.write(&cells),
            };
            let row_id = id_position.and_then(|p| record.get(p)).unwrap_or("");
            run.result(record, result, row_id);
        }
        if let Some(e) = read_error {
            stopped.get_or_insert((
                JobState::Failed,
                Some(format!("InvalidBatch : Failed to parse CSV: {e}")),
            ));
            break;
        }
        if batch.len() < RECORDS_PER_BATCH as usize {
            break;
        }
    }
    let (state, error_message) = stopped.unwrap_or((JobState::JobComplete, None));
    run.finish(state, error_message)
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
        result: Result<crate::write::Outcome, RecordError>,
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
