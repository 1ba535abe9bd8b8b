//! Records -> one Bulk API 2.0 upload, spooled to disk so memory stays bounded whatever the
//! batch size.
//!
//! A batch keeps two temporary files: the CSV exactly as it will be uploaded, and the original
//! record `data` of each row (one JSON line per row, same order) for the dead-letter queue and
//! for retries. In memory it keeps only a few bytes per row ([`RowMeta`]): the hash of the row's
//! cells, which is how [`super::reconcile`] recognises the row in Salesforce's result files,
//! and the state interval the record arrived in, for STATE accounting.

pub(crate) mod cell;
pub(crate) mod csv_row;
pub(crate) mod predict;
pub(crate) mod row;
mod row_hash;

pub(crate) use row_hash::{row_hash, row_hash_bytes};

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use serde_json::value::RawValue;
use tempfile::NamedTempFile;

use crate::destination::batch::csv_row::write_csv_row;

/// Salesforce's limit for one upload: 150 MB base64-encoded, i.e. about 112 MB of raw CSV;
/// 100 MiB keeps a margin.
pub(crate) const SALESFORCE_MAX_UPLOAD_BYTES: u64 = 100 * 1024 * 1024;

/// How big a batch may grow before it is sealed and uploaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BatchLimits {
    /// Raw CSV bytes, header included (never above [`SALESFORCE_MAX_UPLOAD_BYTES`]).
    pub max_bytes: u64,
    /// Rows per job; bounds the per-row bookkeeping kept in memory (16 bytes a row).
    pub max_records: usize,
}

impl Default for BatchLimits {
    fn default() -> Self {
        BatchLimits {
            max_bytes: SALESFORCE_MAX_UPLOAD_BYTES,
            max_records: 200_000,
        }
    }
}

impl BatchLimits {
    /// Limits from the configured byte size, clamped to what Salesforce accepts.
    pub(crate) fn with_max_bytes(max_bytes: u64) -> BatchLimits {
        BatchLimits {
            max_bytes: max_bytes.clamp(1, SALESFORCE_MAX_UPLOAD_BYTES),
            ..BatchLimits::default()
        }
    }
}

/// What a batch remembers of each row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RowMeta {
    /// [`row_hash`] of the row's cells.
    pub hash: u64,
    /// The STATE interval the record arrived in (see `gate.rs`).
    pub interval: u64,
}

/// A batch being filled.
pub(crate) struct Batch {
    csv: BufWriter<NamedTempFile>,
    originals: BufWriter<NamedTempFile>,
    rows: Vec<RowMeta>,
    bytes: u64,
    scratch: Vec<u8>,
}

impl Batch {
    /// An empty batch whose CSV starts with `header`.
    pub(crate) fn new<S: AsRef<str>>(header: &[S]) -> io::Result<Batch> {
        let mut scratch = Vec::new();
        write_csv_row(&mut scratch, header);
        let mut csv = BufWriter::with_capacity(256 * 1024, NamedTempFile::new()?);
        csv.write_all(&scratch)?;
        Ok(Batch {
            csv,
            originals: BufWriter::with_capacity(64 * 1024, NamedTempFile::new()?),
            rows: Vec::new(),
            bytes: scratch.len() as u64,
            scratch,
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// CSV bytes so far, header included.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends a row unless it would take the batch past `limits`; then the row is not added
    /// and `false` comes back (seal this batch and push the row into a new one). A row always
    /// goes into an empty batch.
    pub(crate) fn push<S: AsRef<str>>(
        &mut self,
        cells: &[S],
        original: &RawValue,
        interval: u64,
        limits: &BatchLimits,
    ) -> io::Result<bool> {
        self.scratch.clear();
        write_csv_row(&mut self.scratch, cells);
        let full = self.rows.len() >= limits.max_records
            || self.bytes + self.scratch.len() as u64 > limits.max_bytes;
        if full && !self.is_empty() {
            return Ok(false);
        }
        self.csv.write_all(&self.scratch)?;
        self.originals.write_all(original.get().as_bytes())?;
        self.originals.write_all(b"\n")?;
        self.bytes += self.scratch.len() as u64;
        self.rows.push(RowMeta {
            hash: row_hash(cells.iter().map(AsRef::as_ref)),
            interval,
        });
        Ok(true)
    }

    /// Flushes both files to disk and hands the batch over for upload.
    pub(crate) fn seal(self) -> io::Result<SealedBatch> {
        let csv = self.csv.into_inner().map_err(|e| e.into_error())?;
        let originals = self.originals.into_inner().map_err(|e| e.into_error())?;
        Ok(SealedBatch {
            csv,
            originals,
            rows: self.rows,
            bytes: self.bytes,
        })
    }
}

/// A batch ready for upload: its CSV file, its rows' originals and identities.
pub(crate) struct SealedBatch {
    csv: NamedTempFile,
    originals: NamedTempFile,
    pub rows: Vec<RowMeta>,
    pub bytes: u64,
}

impl SealedBatch {
    /// The CSV file to upload.
    pub(crate) fn csv_path(&self) -> &Path {
        self.csv.path()
    }

    /// The CSV file, opened afresh at its start.
    #[cfg(test)]
    pub(crate) fn open_csv(&self) -> io::Result<File> {
        use std::io::{Seek, SeekFrom};
        let mut file = self.csv.reopen()?;
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }

    pub(crate) fn len(&self) -> usize {
        self.rows.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The original records, in row order, read back from disk one at a time.
    pub(crate) fn originals(&self) -> io::Result<Originals> {
        Ok(Originals {
            lines: BufReader::with_capacity(64 * 1024, self.originals.reopen()?).lines(),
            index: 0,
        })
    }
}

/// Iterator over a sealed batch's original records: `(row index, record data)`.
pub(crate) struct Originals {
    lines: io::Lines<BufReader<File>>,
    index: usize,
}

impl Iterator for Originals {
    type Item = io::Result<(usize, Box<RawValue>)>;

    fn next(&mut self) -> Option<Self::Item> {
        let line = self.lines.next()?;
        let index = self.index;
        self.index += 1;
        Some(line.and_then(|line| {
            RawValue::from_string(line)
                .map(|raw| (index, raw))
                .map_err(|e| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("spooled record {index}: {e}"),
                    )
                })
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn a_batch_spools_header_and_rows_exactly_as_uploaded() {
        let mut batch = Batch::new(&["Name", "Score__c"]).unwrap();
        let limits = BatchLimits::default();
        assert!(batch
            .push(
                &["Acme, Inc.", "1"],
                &raw(r#"{"name":"Acme, Inc.","score":1}"#),
                0,
                &limits
            )
            .unwrap());
        assert!(batch
            .push(
                &["Beta", "#N/A"],
                &raw(r#"{"name":"Beta","score":null}"#),
                1,
                &limits
            )
            .unwrap());
        let sealed = batch.seal().unwrap();
        let mut text = String::new();
        sealed
            .open_csv()
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "Name,Score__c\n\"Acme, Inc.\",1\nBeta,#N/A\n");
        assert_eq!(sealed.bytes, text.len() as u64);
        assert_eq!(sealed.rows[1].interval, 1);
        assert_eq!(sealed.rows[0].hash, row_hash(["Acme, Inc.", "1"]));
    }

    /// Pushes one-cell rows into a `Name` batch with these limits: whether each was taken.
    fn push_names(max_bytes: u64, max_records: usize, names: &[&str]) -> (Vec<bool>, Batch) {
        let limits = BatchLimits {
            max_bytes,
            max_records,
        };
        let mut batch = Batch::new(&["Name"]).unwrap();
        let taken = names
            .iter()
            .map(|name| batch.push(&[name], &raw("{}"), 0, &limits).unwrap())
            .collect();
        (taken, batch)
    }

    #[test]
    fn a_batch_refuses_the_row_that_would_pass_the_byte_limit() {
        let (taken, batch) = push_names(20, 100, &["aaaaaa", "bbbbbb", "cccccc"]);
        assert_eq!(taken, [true, true, false]);
        assert_eq!(batch.len(), 2);
        assert!(batch.bytes() <= 20);
    }

    #[test]
    fn a_batch_refuses_rows_past_the_record_limit() {
        let (taken, _) = push_names(1_000, 1, &["a", "b"]);
        assert_eq!(taken, [true, false]);
    }

    #[test]
    fn an_oversized_row_still_goes_into_an_empty_batch() {
        let (taken, _) = push_names(5, 10, &["much too long"]);
        assert_eq!(taken, [true]);
    }

    #[test]
    fn originals_are_read_back_by_row_index() {
        let limits = BatchLimits::default();
        let mut batch = Batch::new(&["Name"]).unwrap();
        for i in 0..5 {
            let original = raw(&format!(r#"{{"n":{i}}}"#));
            batch
                .push(&[format!("r{i}")], &original, 0, &limits)
                .unwrap();
        }
        let sealed = batch.seal().unwrap();
        let seen: Vec<(usize, String)> = sealed
            .originals()
            .unwrap()
            .map(Result::unwrap)
            .filter(|(i, _)| i % 2 == 1)
            .map(|(i, raw)| (i, raw.get().to_string()))
            .collect();
        assert_eq!(
            seen,
            [(1, r#"{"n":1}"#.to_string()), (3, r#"{"n":3}"#.to_string())]
        );
    }

    #[test]
    fn row_hashes_separate_cells_and_differ_on_small_changes() {
        assert_ne!(row_hash(["ab", "c"]), row_hash(["a", "bc"]));
        assert_ne!(row_hash(["", "x"]), row_hash(["x", ""]));
        assert_ne!(row_hash(["abcdefgh1"]), row_hash(["abcdefgh2"]));
        assert_eq!(row_hash(["same", "row"]), row_hash(["same", "row"]));
        assert_eq!(row_hash(["é"]), row_hash_bytes(["é".as_bytes()]));
    }

    #[test]
    fn configured_byte_limits_are_clamped_to_salesforce_maximum() {
        assert_eq!(
            BatchLimits::with_max_bytes(500_000_000).max_bytes,
            SALESFORCE_MAX_UPLOAD_BYTES
        );
        assert_eq!(BatchLimits::with_max_bytes(1_000).max_bytes, 1_000);
    }
}
