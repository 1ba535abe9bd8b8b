//! One record -> one CSV row for its stream's target, or the reason it cannot be written.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::destination::batch::cell::{to_cell, CellError};
use crate::destination::route::mapping::{is_airbyte_column, StreamTarget};

/// Why a record was sent to the dead-letter queue without reaching Salesforce.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub(crate) enum RowError {
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
    pub(crate) fn code(&self) -> &'static str {
        match self {
            RowError::NotAnObject(_) => "INVALID_RECORD",
            RowError::FieldNotInCatalog { .. } => "FIELD_NOT_IN_CATALOG",
            RowError::MissingKey { .. } => "MISSING_KEY",
            RowError::Cell(_) => "INVALID_VALUE",
        }
    }
}

/// Converts a record's `data` (raw JSON text) into cells in the target's column order. An
/// absent key gives an empty cell: Salesforce leaves that field unchanged. Cells that need no
/// rewriting borrow from `data`.
pub(crate) fn record_to_row<'a>(
    target: &StreamTarget,
    data: &'a RawValue,
) -> Result<Vec<Cow<'a, str>>, RowError> {
    let mut builder = RowBuilder {
        target,
        cells: vec![Cow::Borrowed(""); target.columns.len()],
        present: vec![false; target.columns.len()],
        next_column: 0,
        error: None,
    };
    let mut deserializer = serde_json::Deserializer::from_str(data.get());
    serde::Deserializer::deserialize_map(&mut deserializer, &mut builder)
        .map_err(|e| RowError::NotAnObject(e.to_string()))?;
    if let Some(error) = builder.error {
        return Err(error);
    }
    if let Some(key) = target.key_column() {
        if !builder.present[key] {
            return Err(RowError::MissingKey {
                operation: target.operation.as_str(),
                field: target.columns[key].field.describe.name.clone(),
            });
        }
    }
    Ok(builder.cells)
}

/// Fills a row while the record's object is parsed, without building a map of it.
struct RowBuilder<'t, 'a> {
    target: &'t StreamTarget,
    cells: Vec<Cow<'a, str>>,
    present: Vec<bool>,
    /// The column after the last one matched: records usually list their keys in the
    /// catalog's order, so the next key is tried there before the name lookup.
    next_column: usize,
    /// The first problem found; the rest of the object is still read (it must be valid JSON).
    error: Option<RowError>,
}

impl<'a> RowBuilder<'_, 'a> {
    fn take(&mut self, key: &str, value: &'a RawValue) {
        if self.error.is_some() || is_airbyte_column(key) {
            return;
        }
        let guess = self
            .target
            .columns
            .get(self.next_column)
            .is_some_and(|c| c.field.describe.name == key);
        let found = if guess {
            Some(self.next_column)
        } else {
            self.target.column_index(key)
        };
        let Some(index) = found else {
            if !self.target.operation.is_delete() {
                self.error = Some(RowError::FieldNotInCatalog {
                    stream: self.target.stream.clone(),
                    field: key.to_string(),
                });
            }
            return;
        };
        match to_cell(
            &self.target.columns[index].field,
            value,
            &self.target.operation,
        ) {
            Ok(cell) => {
                self.cells[index] = cell;
                self.present[index] = true;
                self.next_column = index + 1;
            }
            Err(e) => self.error = Some(e.into()),
        }
    }
}

/// A map key, borrowed from the input unless it holds escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_string())))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

impl<'de> Visitor<'de> for &mut RowBuilder<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let value: &'de RawValue = map.next_value()?;
            self.take(&key.0, value);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::destination::batch::csv_row::write_csv_row;
    use crate::destination::route::mapping::{plan_stream, StreamRoute};
    use crate::destination::route::sobject::{FieldInfo, SObjectInfo};

    fn target(mode: &str) -> StreamTarget {
        let object = SObjectInfo::writable(
            "Account",
            vec![
                FieldInfo::system("Id", "id"),
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
            hard_delete: false,
            properties: if mode == "append" {
                vec!["name".into(), "score__c".into()]
            } else {
                vec!["id".into(), "name".into(), "score__c".into()]
            },
        };
        plan_stream(&route, &object, &Default::default()).unwrap()
    }

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    #[test]
    fn absent_keys_leave_empty_cells_and_airbyte_columns_are_ignored() {
        let data = raw(r#"{"ID":"001000000000001AAA","score__c":1E2,"_airbyte_raw_id":"x"}"#);
        let row = record_to_row(&target("update"), &data).unwrap();
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
    fn escaped_keys_and_non_objects_are_handled() {
        let data = raw(r#"{"N\u0061me":"A"}"#);
        let row = record_to_row(&target("append"), &data).unwrap();
        assert_eq!(row, ["A", ""]);
        let err = record_to_row(&target("append"), &raw("[1,2]")).unwrap_err();
        assert_eq!(err.code(), "INVALID_RECORD");
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
