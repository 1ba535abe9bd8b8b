//! The CSV dialect of an ingest job (`columnDelimiter` and `lineEnding`, the same values as a
//! query job's in `bulk_csv`), used to read the uploaded data and to write the result files.

use crate::bulk_csv::{ColumnDelimiter, LineEnding};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Dialect {
    pub delimiter: ColumnDelimiter,
    pub line_ending: LineEnding,
}

impl Dialect {
    fn terminator(&self) -> csv::Terminator {
        match self.line_ending {
            LineEnding::Lf => csv::Terminator::Any(b'\n'),
            LineEnding::Crlf => csv::Terminator::CRLF,
        }
    }

    /// A reader of uploaded data. With `LF` only `\n` ends a row, so a `\r` before it stays in
    /// the last value (as when a CRLF file is uploaded to an LF job); with `CRLF` both forms end
    /// a row.
    pub(crate) fn reader<R: std::io::Read>(&self, input: R) -> csv::Reader<R> {
        csv::ReaderBuilder::new()
            .delimiter(self.delimiter.byte())
            .terminator(self.terminator())
            .has_headers(false)
            .flexible(true)
            .double_quote(true)
            .from_reader(input)
    }

    /// A writer of result files: every value double-quoted, `"` doubled, the job's delimiter and
    /// line ending.
    pub(crate) fn writer<W: std::io::Write>(&self, output: W) -> csv::Writer<W> {
        csv::WriterBuilder::new()
            .delimiter(self.delimiter.byte())
            .terminator(self.terminator())
            .quote_style(csv::QuoteStyle::Always)
            .flexible(true)
            .from_writer(output)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(dialect: Dialect, data: &str) -> Vec<Vec<String>> {
        dialect
            .reader(data.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect()
    }

    #[test]
    fn every_delimiter_reads_quoted_values() {
        for d in ColumnDelimiter::ALL {
            let sep = d.byte() as char;
            let data = format!("Name{sep}Description\n\"a{sep}b\"{sep}\"say \"\"hi\"\"\nline2\"\n");
            let dialect = Dialect {
                delimiter: d,
                line_ending: LineEnding::Lf,
            };
            assert_eq!(
                rows(dialect, &data),
                vec![
                    vec!["Name".to_string(), "Description".into()],
                    vec![format!("a{sep}b"), "say \"hi\"\nline2".into()]
                ],
                "{}",
                d.name()
            );
        }
    }

    #[test]
    fn crlf_job_reads_crlf_rows_and_lf_job_keeps_the_cr() {
        let data = "Name,Site\r\nA,B\r\n";
        let crlf = Dialect {
            delimiter: ColumnDelimiter::Comma,
            line_ending: LineEnding::Crlf,
        };
        assert_eq!(rows(crlf, data), vec![vec!["Name", "Site"], vec!["A", "B"]]);
        let lf = Dialect::default();
        assert_eq!(rows(lf, data)[0], vec!["Name", "Site\r"]);
    }

    #[test]
    fn writer_quotes_everything_in_the_job_dialect() {
        let dialect = Dialect {
            delimiter: ColumnDelimiter::Pipe,
            line_ending: LineEnding::Crlf,
        };
        let mut w = dialect.writer(Vec::new());
        w.write_record(["sf__Id", "a|\"b\""]).unwrap();
        w.write_record(["", "x"]).unwrap();
        let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(out, "\"sf__Id\"|\"a|\"\"b\"\"\"\r\n\"\"|\"x\"\r\n");
    }

    #[test]
    fn delimiter_names_are_salesforce_enum_values() {
        let d: ColumnDelimiter = serde_json::from_str("\"BACKQUOTE\"").unwrap();
        assert_eq!(d, ColumnDelimiter::Backquote);
        let l: LineEnding = serde_json::from_str("\"CRLF\"").unwrap();
        assert_eq!(l, LineEnding::Crlf);
        assert!(serde_json::from_str::<ColumnDelimiter>("\"comma\"").is_err());
    }
}
