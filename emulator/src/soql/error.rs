//! SOQL errors in Salesforce's wire form: an `errorCode` and a message that, for errors tied to a
//! place in the query, echoes the offending line with a caret under the column and the
//! `ERROR at Row:R:Column:C` line Salesforce prints (rows and columns 1-based).

use std::fmt;

/// `MALFORMED_QUERY`: the text is not SOQL (syntax, literals, clause limits).
pub(crate) const MALFORMED_QUERY: &str = "MALFORMED_QUERY";
/// `INVALID_FIELD`: a field that does not exist, cannot be used where it is, or a value of the
/// wrong type for it.
pub(crate) const INVALID_FIELD: &str = "INVALID_FIELD";
/// `INVALID_TYPE`: the object (or child relationship) named in FROM does not exist.
pub(crate) const INVALID_TYPE: &str = "INVALID_TYPE";
/// `INVALID_QUERY_FILTER_OPERATOR`: a filter value an operator cannot take (a malformed id).
pub(crate) const INVALID_QUERY_FILTER_OPERATOR: &str = "INVALID_QUERY_FILTER_OPERATOR";
/// `NUMBER_OUTSIDE_VALID_RANGE`: OFFSET above 2,000.
pub(crate) const NUMBER_OUTSIDE_VALID_RANGE: &str = "NUMBER_OUTSIDE_VALID_RANGE";

/// A refused query. The REST and Bulk endpoints answer it as HTTP 400
/// `[{"message": message, "errorCode": error_code}]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SoqlError {
    pub error_code: &'static str,
    pub message: String,
}

impl fmt::Display for SoqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.error_code, self.message)
    }
}

impl std::error::Error for SoqlError {}

impl SoqlError {
    /// An error with no position (clause limits Salesforce reports without a caret).
    pub(crate) fn plain(error_code: &'static str, message: impl Into<String>) -> SoqlError {
        SoqlError {
            error_code,
            message: message.into(),
        }
    }

    /// An error at byte `offset` of `text`: the line holding it, a caret under its column, the
    /// `ERROR at Row:R:Column:C` line, then `detail`.
    pub(crate) fn at(
        error_code: &'static str,
        text: &str,
        offset: usize,
        detail: impl AsRef<str>,
    ) -> SoqlError {
        let position = Position::of(text, offset);
        let line = text.split('\n').nth(position.row - 1).unwrap_or("");
        let line = line.strip_suffix('\r').unwrap_or(line);
        let (echo, caret_column) = echo_window(line, position.column);
        let message = format!(
            "\n{echo}\n{caret:>width$}\nERROR at Row:{row}:Column:{column}\n{detail}",
            caret = "^",
            width = caret_column,
            row = position.row,
            column = position.column,
            detail = detail.as_ref(),
        );
        SoqlError {
            error_code,
            message,
        }
    }
}

/// How many characters before the error Salesforce echoes at most.
const ECHO_BEFORE: usize = 40;

/// The part of `line` Salesforce echoes for an error at 1-based `column`, and the caret's
/// 1-based column within it. Salesforce starts the echo about 40 characters before the error,
/// at a word boundary, so long queries show only the text leading up to the error.
fn echo_window(line: &str, column: usize) -> (&str, usize) {
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let error_index = column - 1;
    if error_index <= ECHO_BEFORE {
        return (line, column);
    }
    let mut start = error_index - ECHO_BEFORE;
    let boundary = |c: char| c.is_whitespace();
    if !boundary(chars[start - 1].1) {
        while start < error_index && !boundary(chars[start].1) {
            start += 1;
        }
        while start < error_index && boundary(chars[start].1) {
            start += 1;
        }
    }
    let byte_start = chars.get(start).map_or(line.len(), |(i, _)| *i);
    (&line[byte_start..], error_index - start + 1)
}

/// A 1-based row and column (in characters) within the query text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Position {
    pub row: usize,
    pub column: usize,
}

impl Position {
    /// The row and column of byte `offset`; offsets past the end point just after the text.
    pub(crate) fn of(text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &text[..offset];
        let row = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..offset].chars().count() + 1;
        Position { row, column }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn position_counts_rows_and_columns_from_one() {
        let text = "SELECT Id\nFROM Account\nWHERE Foo = 1";
        assert_eq!(Position::of(text, 0), Position { row: 1, column: 1 });
        assert_eq!(Position::of(text, 7), Position { row: 1, column: 8 });
        let foo = text.find("Foo").unwrap();
        assert_eq!(Position::of(text, foo), Position { row: 3, column: 7 });
    }

    #[test]
    fn positioned_error_echoes_the_line_with_a_caret_under_the_column() {
        let text = "SELECT Id\nFROM Account\nWHERE Foo = 1";
        let error = SoqlError::at(INVALID_FIELD, text, text.find("Foo").unwrap(), "bad");
        assert_eq!(
            error.message,
            "\nWHERE Foo = 1\n      ^\nERROR at Row:3:Column:7\nbad"
        );
        assert_eq!(
            error.to_string(),
            format!("INVALID_FIELD: {}", error.message)
        );
    }

    #[test]
    fn long_lines_are_echoed_from_a_word_about_forty_characters_before_the_error() {
        let text = "SELECT Id, Data_Quality_Score__c from Contact where FirstName = 'Anne-Marie' AND X = 1";
        let offset = text.find("X =").unwrap();
        let error = SoqlError::at(INVALID_FIELD, text, offset, "bad");
        assert_eq!(
            error.message,
            "\nwhere FirstName = 'Anne-Marie' AND X = 1\n                                   ^\nERROR at Row:1:Column:82\nbad"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "SELECT Id FROM A WHERE Name = 'é' AND X = 1";
        let offset = text.find("X =").unwrap();
        assert_eq!(Position::of(text, offset).column, 39);
    }
}
