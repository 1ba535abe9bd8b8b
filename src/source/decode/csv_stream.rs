//! Incremental CSV decoding: bytes go in as they arrive from the network, complete records come
//! out. Nothing holds more than the record being decoded, so memory does not grow with the size
//! of a Bulk result page.
//!
//! The dialect is Bulk API 2.0's: comma-separated, `"`-quoted, `""` for a quote, LF or CRLF line
//! endings, newlines kept inside quoted values.

use csv_core::{ReadRecordResult, Reader};

/// One decoded record: its fields as raw bytes.
pub(crate) struct CsvRecord<'a> {
    data: &'a [u8],
    ends: &'a [usize],
}

impl<'a> CsvRecord<'a> {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The record as text, when all its bytes are valid UTF-8 (checked once for every field).
    pub(crate) fn text(&self) -> Option<CsvText<'a>> {
        std::str::from_utf8(self.data).ok().map(|data| CsvText {
            data,
            ends: self.ends,
        })
    }

    /// The `i`th field, or an empty slice past the end (a short row reads as nulls).
    pub(crate) fn field(&self, i: usize) -> &'a [u8] {
        match self.ends.get(i) {
            Some(&end) => {
                let start = if i == 0 { 0 } else { self.ends[i - 1] };
                &self.data[start..end]
            }
            None => &[],
        }
    }
}

/// A record whose bytes are valid UTF-8, fields as text.
pub(crate) struct CsvText<'a> {
    data: &'a str,
    ends: &'a [usize],
}

impl<'a> CsvText<'a> {
    /// The `i`th field; `None` when its bounds fall inside a character (the field alone is not
    /// valid UTF-8), or past the end.
    pub(crate) fn field(&self, i: usize) -> Option<&'a str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.data.get(start..end)
    }
}

/// Decodes records from chunks of CSV bytes.
pub(crate) struct CsvDecoder {
    reader: Reader,
    data: Vec<u8>,
    ends: Vec<usize>,
    data_len: usize,
    ends_len: usize,
    records: u64,
}

impl Default for CsvDecoder {
    fn default() -> Self {
        CsvDecoder::new()
    }
}

impl CsvDecoder {
    pub(crate) fn new() -> CsvDecoder {
        CsvDecoder {
            reader: Reader::new(),
            data: vec![0; 4096],
            ends: vec![0; 64],
            data_len: 0,
            ends_len: 0,
            records: 0,
        }
    }

    /// Decodes `chunk`, calling `on_record` for every record it completes; a record split across
    /// chunks is completed by a later call (or by [`CsvDecoder::finish`]).
    pub(crate) fn feed<E>(
        &mut self,
        chunk: &[u8],
        on_record: impl FnMut(&CsvRecord<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.decode(chunk, false, on_record)
    }

    /// Ends the input: a last record without a trailing newline is completed.
    pub(crate) fn finish<E>(
        &mut self,
        on_record: impl FnMut(&CsvRecord<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.decode(&[], true, on_record)
    }

    fn decode<E>(
        &mut self,
        mut input: &[u8],
        at_end: bool,
        mut on_record: impl FnMut(&CsvRecord<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        loop {
            let (result, read, written, ended) = self.reader.read_record(
                input,
                &mut self.data[self.data_len..],
                &mut self.ends[self.ends_len..],
            );
            input = &input[read..];
            self.data_len += written;
            self.ends_len += ended;
            match result {
                ReadRecordResult::InputEmpty => {
                    if !at_end {
                        return Ok(());
                    }
                }
                ReadRecordResult::OutputFull => {
                    let len = self.data.len() * 2;
                    self.data.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len() * 2;
                    self.ends.resize(len, 0);
                }
                ReadRecordResult::Record => {
                    self.records += 1;
                    let record = CsvRecord {
                        data: &self.data[..self.data_len],
                        ends: &self.ends[..self.ends_len],
                    };
                    self.data_len = 0;
                    self.ends_len = 0;
                    on_record(&record)?;
                }
                ReadRecordResult::End => return Ok(()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_chunks(text: &[u8], chunk: usize) -> Vec<Vec<String>> {
        let mut decoder = CsvDecoder::new();
        let mut rows = Vec::new();
        let mut collect = |r: &CsvRecord<'_>| -> Result<(), ()> {
            rows.push(
                (0..r.len())
                    .map(|i| String::from_utf8(r.field(i).to_vec()).unwrap())
                    .collect(),
            );
            Ok(())
        };
        for part in text.chunks(chunk) {
            decoder.feed(part, &mut collect).unwrap();
        }
        decoder.finish(&mut collect).unwrap();
        rows
    }

    #[test]
    fn records_split_across_chunks_decode_whole() {
        let text = b"\"Id\",\"Name\"\n\"001\",\"Acme, \"\"Inc\"\"\nline two\"\n\"002\",\"\"\n";
        let expected = vec![
            vec!["Id".to_string(), "Name".to_string()],
            vec!["001".into(), "Acme, \"Inc\"\nline two".into()],
            vec!["002".into(), "".into()],
        ];
        for chunk in [1, 2, 3, 7, 1000] {
            assert_eq!(
                decode_in_chunks(text, chunk),
                expected,
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn last_record_without_newline_and_crlf_endings_decode() {
        let rows = decode_in_chunks(b"\"a\",\"b\"\r\n\"1\",\"2\"", 4);
        assert_eq!(rows, vec![vec!["a", "b"], vec!["1", "2"]]);
    }

    #[test]
    fn long_fields_grow_the_buffer() {
        let long = "x".repeat(100_000);
        let text = format!("\"v\"\n\"{long}\"\n");
        let rows = decode_in_chunks(text.as_bytes(), 8192);
        assert_eq!(rows[1][0].len(), 100_000);
    }

    fn encode(rows: &[Vec<String>]) -> String {
        let mut text = String::new();
        for row in rows {
            let cells: Vec<String> = row
                .iter()
                .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
                .collect();
            text.push_str(&cells.join(","));
            text.push('\n');
        }
        text
    }

    proptest::proptest! {
        #[test]
        fn any_quoted_csv_round_trips_whatever_the_chunk_size(
            rows in proptest::collection::vec(
                proptest::collection::vec("[a-zA-Z0-9 ,\"\n\r;éß€]{0,12}", 1..5), 1..8),
            chunk in 1usize..40,
        ) {
            let width = rows[0].len();
            let rows: Vec<Vec<String>> = rows
                .into_iter()
                .map(|mut r| { r.resize(width, String::new()); r })
                .collect();
            let decoded = decode_in_chunks(encode(&rows).as_bytes(), chunk);
            proptest::prop_assert_eq!(decoded, rows);
        }
    }
}
