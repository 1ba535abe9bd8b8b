//! One record -> one CSV row for its stream's target, or the reason it cannot be written.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use thiserror::Error;

use super::cell::{to_cell, CellError};
use super::mapping::{is_airbyte_column, StreamTarget};
use super::operation::Operation;

/// Why a record was sent to the dead-letter queue without reaching Salesforce.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RowError {
    #[error("record data is not a JSON object: {0}")]
    NotAnObject(String),
    #[error("field '{field}' is not in the configured catalog of stream '{stream}'")]
    FieldNotInCatalog { stream: String, field: String },
    #[error("{operation} needs a value for the key field '{field}'")]
    MissingKey {
        operation: &'static str,
        field: String,
    },
    #[error(transparent)]
    Cell(#[from] CellError),
}

impl RowError {
    /// A short code for the dead-letter queue, in the style of Salesforce's error codes.
    pub fn code(&self) -> &'static str {
        match self {
            RowError::NotAnObject(_) => "INVALID_RECORD",
            RowError::FieldNotInCatalog { .. } => "FIELD_NOT_IN_CATALOG",
            RowError::MissingKey { .. } => "MISSING_KEY",
            RowError::Cell(_) => "INVALID_VALUE",
        }
    }
}

/// Converts a record's `data` (raw JSON text) into cells in the target's column order. An
/// absent key gives an empty cell: Salesforce leaves that field unchanged.
pub fn record_to_row(target: &StreamTarget, data: &RawValue) -> Result<Vec<String>, RowError> {
    let fields: BTreeMap<String, &RawValue> =
        serde_json::from_str(data.get()).map_err(|e| RowError::NotAnObject(e.to_string()))?;
    let mut cells = vec![String::new(); target.columns.len()];
    let mut present = vec![false; target.columns.len()];
    for (key, value) in &fields {
        if is_airbyte_column(key) {
            continue;
        }
        let Some(index) = target.column_index(key) else {
            if target.operation == Operation::Delete {
                continue;
            }
            return Err(RowError::FieldNotInCatalog {
                stream: target.stream.clone(),
                field: key.clone(),
            });
        };
        cells[index] = to_cell(&target.columns[index].field, value, &target.operation)?;
        present[index] = true;
    }
    if let Some(key) = target.key_column() {
        if !present[key] {
            return Err(RowError::MissingKey {
                operation: target.operation.as_str(),
                field: target.columns[key].field.name.clone(),
            });
        }
    }
    Ok(cells)
}

/// Appends one CSV row (comma, LF). A cell is quoted when it holds a comma, quote, CR or LF, or
/// starts or ends with a space (Salesforce trims unquoted spaces); quotes are doubled.
pub fn write_csv_row<S: AsRef<str>>(out: &mut Vec<u8>, cells: &[S]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let cell = cell.as_ref();
        let needs_quotes = cell
            .bytes()
            .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
            || cell.starts_with([' ', '\t'])
            || cell.ends_with([' ', '\t']);
        if needs_quotes {
            out.push(b'"');
            for b in cell.bytes() {
                if b == b'"' {
                    out.push(b'"');
                }
                out.push(b);
            }
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::mapping::{plan_stream, StreamRoute};
    use crate::destination::sobject::{FieldInfo, SObjectInfo};

    fn target(mode: &str) -> StreamTarget {
        let mut id = FieldInfo::new("Id", "id");
        id.createable = false;
        id.updateable = false;
        let object = SObjectInfo::new(
            "Account",
            true,
            true,
            true,
            vec![
                id,
                FieldInfo::new("Name", "string"),
                FieldInfo::new("Score__c", "double"),
            ],
        );
        let route = StreamRoute {
            stream: "accounts".into(),
            namespace: None,
            destination_object_name: Some("Account".into()),
            destination_sync_mode: mode.into(),
            primary_key: vec![],
            properties: if mode == "append" {
                vec!["name".into(), "score__c".into()]
            } else {
                vec!["id".into(), "name".into(), "score__c".into()]
            },
        };
        plan_stream(&route, &object).unwrap()
    }

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn absent_keys_leave_empty_cells_and_airbyte_columns_are_ignored() {
        let row = record_to_row(
            &target("update"),
            &raw(r#"{"ID":"001000000000001AAA","score__c":1E2,"_airbyte_raw_id":"x"}"#),
        )
        .unwrap();
        assert_eq!(row, ["001000000000001AAA", "", "100"]);
    }

    #[test]
    fn a_field_outside_the_catalog_is_a_row_error() {
        let err = record_to_row(&target("append"), &raw(r#"{"name":"A","extra":1}"#)).unwrap_err();
        assert_eq!(err.code(), "FIELD_NOT_IN_CATALOG");
        assert!(err.to_string().contains("'extra'"));
    }

    #[test]
    fn update_without_id_is_a_row_error() {
        let err = record_to_row(&target("update"), &raw(r#"{"name":"A"}"#)).unwrap_err();
        assert_eq!(
            err,
            RowError::MissingKey {
                operation: "update",
                field: "Id".into()
            }
        );
    }

    #[test]
    fn a_bad_value_names_its_field() {
        let err = record_to_row(&target("append"), &raw(r#"{"name":"A","score__c":"high"}"#))
            .unwrap_err();
        assert_eq!(err.code(), "INVALID_VALUE");
        assert!(err.to_string().contains("Score__c"), "{err}");
    }

    #[test]
    fn csv_rows_quote_only_what_needs_it() {
        let mut out = Vec::new();
        write_csv_row(
            &mut out,
            &["plain", "a,b", "say \"hi\"", "line\nbreak", " padded", ""],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"line\nbreak\",\" padded\",\n"
        );
    }

    #[test]
    fn csv_rows_read_back_with_a_standard_reader() {
        let cells = ["x\"y", "1,2", "#N/A", "é"];
        let mut out = Vec::new();
        write_csv_row(&mut out, &cells);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(out.as_slice());
        let record = reader.records().next().unwrap().unwrap();
        assert_eq!(record.iter().collect::<Vec<_>>(), cells);
    }
}
