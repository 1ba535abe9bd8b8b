//! Accounts for every row of a job: each row sent must appear exactly once in
//! `successfulResults`, `failedResults` or `unprocessedrecords`, or the write fails.
//!
//! Result files carry the original columns but not the upload order, and inserts have no
//! natural key, so a row is recognised by the hash of its original cells ([`row_hash`]). Sent
//! rows form a multiset: identical rows (same cells) are interchangeable, and each result row
//! consumes one of them. A result row with no unconsumed match, or a sent row left unmatched
//! at the end, means the counts do not add up.

use std::collections::HashMap;
use std::fmt;
use std::io::Read;

use thiserror::Error;

use crate::destination::batch::{row_hash_bytes, RowMeta};

/// Which result file a row came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResultKind {
    Successful,
    Failed,
    Unprocessed,
}

impl fmt::Display for ResultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ResultKind::Successful => "successfulResults",
            ResultKind::Failed => "failedResults",
            ResultKind::Unprocessed => "unprocessedrecords",
        })
    }
}

/// A failed row's `sf__Error`: `CODE:message:fields --` (some carry only a code).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RowFailure {
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

/// Row error codes that mean "try again later", not "this row is wrong".
const TRANSIENT_CODES: &[&str] = &[
    "UNABLE_TO_LOCK_ROW",
    "REQUEST_RUNNING_TOO_LONG",
    "SERVER_UNAVAILABLE",
    "API_TEMPORARILY_UNAVAILABLE",
    "QUERY_TIMEOUT",
];

impl RowFailure {
    pub(crate) fn parse(sf_error: &str) -> RowFailure {
        let text = sf_error.trim().trim_end_matches("--").trim_end();
        let Some((code, rest)) = text.split_once(':') else {
            return RowFailure {
                code: text.to_string(),
                message: String::new(),
                fields: Vec::new(),
            };
        };
        // The message may itself contain ':'; the field list is after the last one.
        let (message, fields) = match rest.rsplit_once(':') {
            Some((message, fields)) if !fields.contains(' ') || fields.trim().is_empty() => (
                message,
                fields
                    .split(',')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .map(str::to_string)
                    .collect(),
            ),
            _ => (rest, Vec::new()),
        };
        RowFailure {
            code: code.trim().to_string(),
            message: message.trim().to_string(),
            fields,
        }
    }

    /// Whether a new job may succeed where this one failed (lock contention, timeouts).
    pub(crate) fn is_transient(&self) -> bool {
        TRANSIENT_CODES.contains(&self.code.as_str())
    }
}

/// What happened to one sent row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Disposition {
    Succeeded,
    Failed(RowFailure),
    Unprocessed,
}

/// The counts do not add up, or a result file cannot be read.
#[derive(Debug, Error)]
pub(crate) enum ReconcileError {
    #[error("{file}: column '{column}' is missing from the result header {header:?}")]
    MissingColumn {
        file: ResultKind,
        column: String,
        header: Vec<String>,
    },
    #[error("{file}: result row {row} matches no row sent in this job (or more result rows than sent rows)")]
    UnknownRow { file: ResultKind, row: u64 },
    #[error("job results do not add up: sent {sent} rows, got {successful} successful + {failed} failed + {unprocessed} unprocessed")]
    Unaccounted {
        sent: usize,
        successful: u64,
        failed: u64,
        unprocessed: u64,
    },
    #[error("{file}: unreadable CSV: {source}")]
    Csv {
        file: ResultKind,
        #[source]
        source: csv::Error,
    },
}

const UNMATCHED: u8 = 0;
const SUCCEEDED: u8 = 1;
const FAILED: u8 = 2;
const UNPROCESSED: u8 = 3;
const NO_NEXT: u32 = u32::MAX;

/// Matches result rows to the rows of one job.
pub(crate) struct Reconciler {
    /// First unmatched row index per hash; further rows with that hash chain through `next`.
    heads: HashMap<u64, u32, foldhash::fast::FixedState>,
    next: Vec<u32>,
    states: Vec<u8>,
    failures: HashMap<u32, RowFailure>,
    counts: [u64; 3],
    /// With [`Reconciler::capture_ids`]: each successful row's `sf__Id` and `sf__Created`.
    ids: Option<HashMap<u32, (String, bool)>>,
}

impl Reconciler {
    /// Also keeps each successful row's Salesforce Id and whether it was created (for the
    /// outcome report; costs memory per row, so only when asked).
    pub(crate) fn capture_ids(mut self) -> Reconciler {
        self.ids = Some(HashMap::new());
        self
    }

    pub(crate) fn new(rows: &[RowMeta]) -> Reconciler {
        let mut heads =
            HashMap::with_capacity_and_hasher(rows.len(), foldhash::fast::FixedState::default());
        let mut next = vec![NO_NEXT; rows.len()];
        // Walk backwards so each chain lists rows in upload order.
        for (index, row) in rows.iter().enumerate().rev() {
            if let Some(previous) = heads.insert(row.hash, index as u32) {
                next[index] = previous;
            }
        }
        Reconciler {
            heads,
            next,
            states: vec![UNMATCHED; rows.len()],
            failures: HashMap::new(),
            counts: [0; 3],
            ids: None,
        }
    }

    /// Marks one unmatched row with cells hashing to `hash`; `None` when there is none.
    pub(crate) fn mark(&mut self, hash: u64, disposition: Disposition) -> Option<usize> {
        let index = *self.heads.get(&hash)?;
        let following = self.next[index as usize];
        if following == NO_NEXT {
            self.heads.remove(&hash);
        } else {
            self.heads.insert(hash, following);
        }
        let (state, slot) = match disposition {
            Disposition::Succeeded => (SUCCEEDED, 0),
            Disposition::Failed(failure) => {
                self.failures.insert(index, failure);
                (FAILED, 1)
            }
            Disposition::Unprocessed => (UNPROCESSED, 2),
        };
        self.states[index as usize] = state;
        self.counts[slot] += 1;
        Some(index as usize)
    }

    /// Reads one result file (`header` = the columns as uploaded) and marks its rows.
    pub(crate) fn read_results(
        &mut self,
        file: ResultKind,
        header: &[&str],
        reader: impl Read,
    ) -> Result<u64, ReconcileError> {
        let csv_error = |source| ReconcileError::Csv { file, source };
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(reader);
        let result_header: Vec<String> = csv
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(str::to_string)
            .collect();
        let position = |name: &str| {
            result_header
                .iter()
                .position(|h| h == name)
                .or_else(|| {
                    result_header
                        .iter()
                        .position(|h| h.eq_ignore_ascii_case(name))
                })
                .ok_or_else(|| ReconcileError::MissingColumn {
                    file,
                    column: name.to_string(),
                    header: result_header.clone(),
                })
        };
        let columns: Vec<usize> = header
            .iter()
            .map(|h| position(h))
            .collect::<Result<_, _>>()?;
        let error_column = match file {
            ResultKind::Failed => Some(position("sf__Error")?),
            _ => None,
        };
        let (id_column, created_column) = match (file, &self.ids) {
            (ResultKind::Successful, Some(_)) => {
                (Some(position("sf__Id")?), Some(position("sf__Created")?))
            }
            _ => (None, None),
        };
        let mut record = csv::ByteRecord::new();
        let mut rows = 0u64;
        while csv.read_byte_record(&mut record).map_err(csv_error)? {
            rows += 1;
            let hash = row_hash_bytes(columns.iter().map(|&c| record.get(c).unwrap_or(b"")));
            let disposition = match (file, error_column) {
                (ResultKind::Failed, Some(c)) => Disposition::Failed(RowFailure::parse(
                    &String::from_utf8_lossy(record.get(c).unwrap_or(b"")),
                )),
                (ResultKind::Unprocessed, _) => Disposition::Unprocessed,
                _ => Disposition::Succeeded,
            };
            let Some(index) = self.mark(hash, disposition) else {
                return Err(ReconcileError::UnknownRow { file, row: rows });
            };
            if let (Some(ids), ResultKind::Successful) = (self.ids.as_mut(), file) {
                let text = |c: Option<usize>| {
                    c.and_then(|c| record.get(c))
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default()
                };
                let created = text(created_column).eq_ignore_ascii_case("true");
                ids.insert(index as u32, (text(id_column), created));
            }
        }
        Ok(rows)
    }

    /// Successful, failed and unprocessed rows so far.
    pub(crate) fn counts(&self) -> (u64, u64, u64) {
        (self.counts[0], self.counts[1], self.counts[2])
    }

    /// Checks every row is accounted for and returns the per-row outcome.
    pub(crate) fn finish(self) -> Result<Reconciled, ReconcileError> {
        let (successful, failed, unprocessed) = self.counts();
        if self.states.contains(&UNMATCHED) {
            return Err(ReconcileError::Unaccounted {
                sent: self.states.len(),
                successful,
                failed,
                unprocessed,
            });
        }
        Ok(Reconciled {
            all_succeeded: failed == 0 && unprocessed == 0,
            states: self.states,
            failures: self.failures,
            ids: self.ids.unwrap_or_default(),
        })
    }
}

/// Every row of a job with its outcome.
pub(crate) struct Reconciled {
    all_succeeded: bool,
    states: Vec<u8>,
    failures: HashMap<u32, RowFailure>,
    ids: HashMap<u32, (String, bool)>,
}

/// A row's outcome, borrowed from [`Reconciled`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome<'a> {
    Succeeded,
    Failed(&'a RowFailure),
    Unprocessed,
}

impl Reconciled {
    /// Every row succeeded (the common case: nothing to retry or dead-letter).
    pub(crate) fn all_succeeded(&self) -> bool {
        self.all_succeeded
    }

    /// A successful row's `sf__Id` and `sf__Created` (kept only with `capture_ids`).
    pub(crate) fn salesforce_id(&self, index: usize) -> Option<(&str, bool)> {
        self.ids
            .get(&(index as u32))
            .map(|(id, created)| (id.as_str(), *created))
    }

    pub(crate) fn outcome(&self, index: usize) -> Outcome<'_> {
        match self.states[index] {
            SUCCEEDED => Outcome::Succeeded,
            FAILED => Outcome::Failed(&self.failures[&(index as u32)]),
            _ => Outcome::Unprocessed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::batch::row_hash;

    fn rows(cells: &[&[&str]]) -> Vec<RowMeta> {
        cells
            .iter()
            .map(|c| RowMeta {
                hash: row_hash(c.iter().copied()),
                interval: 0,
            })
            .collect()
    }

    #[test]
    fn every_row_is_matched_once_across_the_three_files() {
        let sent = rows(&[&["A", "1"], &["B", "2"], &["C", "3"]]);
        let mut r = Reconciler::new(&sent);
        let header = ["Name", "Score__c"];
        let ok = "\"sf__Id\",\"sf__Created\",\"Name\",\"Score__c\"\n\"001\",\"true\",\"C\",\"3\"\n";
        let failed = "\"sf__Id\",\"sf__Error\",\"Name\",\"Score__c\"\n\"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --\",\"A\",\"1\"\n";
        let unprocessed = "\"Name\",\"Score__c\"\n\"B\",\"2\"\n";
        assert_eq!(
            r.read_results(ResultKind::Successful, &header, ok.as_bytes())
                .unwrap(),
            1
        );
        assert_eq!(
            r.read_results(ResultKind::Failed, &header, failed.as_bytes())
                .unwrap(),
            1
        );
        assert_eq!(
            r.read_results(ResultKind::Unprocessed, &header, unprocessed.as_bytes())
                .unwrap(),
            1
        );
        let done = r.finish().unwrap();
        assert_eq!(done.outcome(2), Outcome::Succeeded);
        assert_eq!(done.outcome(1), Outcome::Unprocessed);
        let Outcome::Failed(failure) = done.outcome(0) else {
            panic!()
        };
        assert_eq!(failure.code, "REQUIRED_FIELD_MISSING");
        assert_eq!(failure.message, "Required fields are missing: [Name]");
        assert_eq!(failure.fields, ["Name"]);
    }

    #[test]
    fn identical_rows_are_interchangeable_but_each_counts_once() {
        let sent = rows(&[&["A"], &["A"]]);
        let mut r = Reconciler::new(&sent);
        let ok = "sf__Id,sf__Created,Name\n001,true,A\n";
        let failed = "sf__Id,sf__Error,Name\n,UNABLE_TO_LOCK_ROW,A\n";
        r.read_results(ResultKind::Successful, &["Name"], ok.as_bytes())
            .unwrap();
        r.read_results(ResultKind::Failed, &["Name"], failed.as_bytes())
            .unwrap();
        let done = r.finish().unwrap();
        assert_eq!(done.outcome(0), Outcome::Succeeded);
        assert!(matches!(done.outcome(1), Outcome::Failed(f) if f.is_transient()));
    }

    #[test]
    fn a_row_reported_twice_fails_loudly() {
        let sent = rows(&[&["A"]]);
        let mut r = Reconciler::new(&sent);
        let ok = "sf__Id,sf__Created,Name\n001,true,A\n002,true,A\n";
        let err = r
            .read_results(ResultKind::Successful, &["Name"], ok.as_bytes())
            .unwrap_err();
        assert!(
            matches!(err, ReconcileError::UnknownRow { row: 2, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_row_missing_from_every_file_fails_loudly() {
        let sent = rows(&[&["A"], &["B"]]);
        let mut r = Reconciler::new(&sent);
        r.read_results(
            ResultKind::Successful,
            &["Name"],
            "sf__Id,sf__Created,Name\n1,true,B\n".as_bytes(),
        )
        .unwrap();
        let err = r.finish().err().unwrap();
        assert_eq!(
            err.to_string(),
            "job results do not add up: sent 2 rows, got 1 successful + 0 failed + 0 unprocessed"
        );
    }

    #[test]
    fn result_columns_are_found_by_name_not_position() {
        let sent = rows(&[&["X1", "Acme"]]);
        let mut r = Reconciler::new(&sent);
        let ok = "sf__Id,sf__Created,Name,Ext__c\n001,false,Acme,X1\n";
        r.read_results(ResultKind::Successful, &["Ext__c", "Name"], ok.as_bytes())
            .unwrap();
        assert!(r.finish().is_ok());
    }

    #[test]
    fn a_missing_original_column_is_named() {
        let mut r = Reconciler::new(&rows(&[&["A"]]));
        let err = r
            .read_results(
                ResultKind::Successful,
                &["Name"],
                "sf__Id,sf__Created\n1,true\n".as_bytes(),
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("column 'Name' is missing"),
            "{err}"
        );
    }

    #[test]
    fn sf_error_parsing_handles_code_only_and_colons_in_messages() {
        let only = RowFailure::parse("UNABLE_TO_LOCK_ROW");
        assert_eq!(only.code, "UNABLE_TO_LOCK_ROW");
        assert!(only.is_transient());
        let colon = RowFailure::parse("INVALID_FIELD:Foreign key external ID: X not found for field Ext__c in entity Account:Ext__c --");
        assert_eq!(colon.code, "INVALID_FIELD");
        assert_eq!(
            colon.message,
            "Foreign key external ID: X not found for field Ext__c in entity Account"
        );
        assert_eq!(colon.fields, ["Ext__c"]);
        assert!(!colon.is_transient());
        let no_fields = RowFailure::parse("DUPLICATE_VALUE:Duplicate external id specified: 42:--");
        assert_eq!(no_fields.message, "Duplicate external id specified: 42");
        assert!(no_fields.fields.is_empty());
    }
}
