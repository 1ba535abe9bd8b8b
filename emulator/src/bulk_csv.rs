//! Bulk API 2.0 result CSV, in Salesforce's dialect (facts §8, §13): UTF-8, a header row on
//! every page, every value double-quoted (`"` doubled, line breaks kept), null as `""`, the
//! job's column delimiter and line ending, and Bulk's value formats (`format::csv_value`).

use crate::format;
use crate::schema::{SObject, Value};

/// `columnDelimiter` of a job (query or ingest), spelled as Salesforce's enum values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ColumnDelimiter {
    Backquote,
    Caret,
    #[default]
    Comma,
    Pipe,
    Semicolon,
    Tab,
}

impl ColumnDelimiter {
    pub(crate) const ALL: [ColumnDelimiter; 6] = [
        ColumnDelimiter::Backquote,
        ColumnDelimiter::Caret,
        ColumnDelimiter::Comma,
        ColumnDelimiter::Pipe,
        ColumnDelimiter::Semicolon,
        ColumnDelimiter::Tab,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            ColumnDelimiter::Backquote => "BACKQUOTE",
            ColumnDelimiter::Caret => "CARET",
            ColumnDelimiter::Comma => "COMMA",
            ColumnDelimiter::Pipe => "PIPE",
            ColumnDelimiter::Semicolon => "SEMICOLON",
            ColumnDelimiter::Tab => "TAB",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<ColumnDelimiter> {
        ColumnDelimiter::ALL.into_iter().find(|d| d.name() == name)
    }

    pub(crate) fn char(self) -> char {
        match self {
            ColumnDelimiter::Backquote => '`',
            ColumnDelimiter::Caret => '^',
            ColumnDelimiter::Comma => ',',
            ColumnDelimiter::Pipe => '|',
            ColumnDelimiter::Semicolon => ';',
            ColumnDelimiter::Tab => '\t',
        }
    }

    pub(crate) fn byte(self) -> u8 {
        self.char() as u8
    }
}

/// `lineEnding` of a job (query or ingest).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) enum LineEnding {
    #[default]
    #[serde(rename = "LF")]
    Lf,
    #[serde(rename = "CRLF")]
    Crlf,
}

impl LineEnding {
    pub(crate) fn name(self) -> &'static str {
        match self {
            LineEnding::Lf => "LF",
            LineEnding::Crlf => "CRLF",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<LineEnding> {
        match name {
            "LF" => Some(LineEnding::Lf),
            "CRLF" => Some(LineEnding::Crlf),
            _ => None,
        }
    }

    pub(crate) fn text(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::Crlf => "\r\n",
        }
    }
}

/// Writes CSV rows of selected fields into a buffer.
pub(crate) struct CsvWriter<'a> {
    sobject: &'a SObject,
    fields: &'a [usize],
    delimiter: char,
    line_ending: &'static str,
    scratch: String,
}

impl<'a> CsvWriter<'a> {
    pub(crate) fn new(
        sobject: &'a SObject,
        fields: &'a [usize],
        delimiter: ColumnDelimiter,
        line_ending: LineEnding,
    ) -> CsvWriter<'a> {
        CsvWriter {
            sobject,
            fields,
            delimiter: delimiter.char(),
            line_ending: line_ending.text(),
            scratch: String::new(),
        }
    }

    fn quoted(out: &mut String, text: &str) {
        out.push('"');
        if text.contains('"') {
            out.push_str(&text.replace('"', "\"\""));
        } else {
            out.push_str(text);
        }
        out.push('"');
    }

    /// The header row: field API names in SELECT order.
    pub(crate) fn header(&mut self, out: &mut String) {
        for (n, &i) in self.fields.iter().enumerate() {
            if n > 0 {
                out.push(self.delimiter);
            }
            Self::quoted(out, &self.sobject.fields[i].name);
        }
        out.push_str(self.line_ending);
    }

    /// One record row; `value(i)` gives field `i`.
    pub(crate) fn row(&mut self, out: &mut String, value: &mut dyn FnMut(usize) -> Value) {
        for (n, &i) in self.fields.iter().enumerate() {
            if n > 0 {
                out.push(self.delimiter);
            }
            match value(i) {
                Value::Text(text) => Self::quoted(out, &text),
                other => {
                    self.scratch.clear();
                    format::csv_value(&mut self.scratch, &self.sobject.fields[i], &other);
                    Self::quoted(out, &self.scratch);
                }
            }
        }
        out.push_str(self.line_ending);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Field, FieldType};

    #[test]
    fn every_value_is_quoted_and_quotes_doubled() {
        let fields = vec![
            Field::new("Name", "Name", FieldType::String),
            Field::new("Amount", "Amount", FieldType::Currency),
            Field::new("Note", "Note", FieldType::String),
        ];
        let sobject = SObject::new("X", "X", "X", None, fields);
        let fields = [0, 1, 2];
        let mut w = CsvWriter::new(
            &sobject,
            &fields,
            ColumnDelimiter::Semicolon,
            LineEnding::Crlf,
        );
        let mut out = String::new();
        w.header(&mut out);
        let values = [
            Value::Text("say \"hi\";\nbye".into()),
            Value::Double(9.0e7),
            Value::Null,
        ];
        w.row(&mut out, &mut |i| values[i].clone());
        assert_eq!(
            out,
            "\"Name\";\"Amount\";\"Note\"\r\n\"say \"\"hi\"\";\nbye\";\"9.0E7\";\"\"\r\n"
        );
    }
}
