//! Builds the SOQL the source sends: `SELECT <fields> FROM <object> [WHERE ...] [ORDER BY ...]`.
//!
//! Datetime literals are written `2024-01-01T00:00:00.000Z` (unquoted, UTC, milliseconds), the
//! form Salesforce accepts and returns in Bulk results. Windows are half-open: `cursor >= start AND
//! cursor < end`, so consecutive windows neither overlap nor leave gaps. Names come from describe,
//! but they are still checked so a catalog can never inject SOQL.

use chrono::{DateTime, Utc};
use thiserror::Error;

use crate::salesforce::datetime::datetime_literal;
#[cfg(test)]
use crate::salesforce::rest::MAX_URI_BYTES;
use crate::salesforce::soql::quote_string;

/// Room kept in the URI for the rest of the query (WHERE, ORDER BY) besides the field list; the
/// same margin Airbyte's source keeps.
pub(crate) const URI_MARGIN_BYTES: usize = 2_000;

#[derive(Debug, Error, PartialEq, Eq)]
pub(crate) enum SoqlError {
    #[error("{what} {name:?} is not a valid Salesforce API name (expected letters, digits, '_' and '.')")]
    InvalidName { what: &'static str, name: String },
    #[error("object {object}: no fields to select")]
    NoFields { object: String },
    #[error(
        "object {object}: field {field} alone is longer than the {budget}-byte field-list budget of a REST query URI"
    )]
    FieldTooLong {
        object: String,
        field: String,
        budget: usize,
    },
}

fn check_name(what: &'static str, name: &str) -> Result<(), SoqlError> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        && !name.starts_with('.')
        && !name.ends_with('.');
    if valid {
        Ok(())
    } else {
        Err(SoqlError::InvalidName {
            what,
            name: name.to_string(),
        })
    }
}

/// A half-open window on the cursor field: `cursor >= start AND cursor < end`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CursorWindow {
    pub cursor_field: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// One SELECT statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Select {
    pub object: String,
    pub fields: Vec<String>,
    /// Only rows inside this cursor window.
    pub window: Option<CursorWindow>,
    /// Only rows whose Id sorts after this one (resuming a read ordered by Id).
    pub after_id: Option<String>,
    /// Only rows whose Id sorts at or before this one (the end of an Id range).
    pub until_id: Option<String>,
    /// `ORDER BY` these fields ascending.
    pub order_by: Vec<String>,
    /// Only the rows with these Ids (re-reading changed rows); none: no such condition.
    pub ids: Vec<String>,
}

impl Select {
    pub(crate) fn new(object: impl Into<String>, fields: Vec<String>) -> Select {
        Select {
            object: object.into(),
            fields,
            window: None,
            after_id: None,
            until_id: None,
            order_by: Vec::new(),
            ids: Vec::new(),
        }
    }

    /// The statement's text.
    pub(crate) fn to_soql(&self) -> Result<String, SoqlError> {
        check_name("object", &self.object)?;
        if self.fields.is_empty() {
            return Err(SoqlError::NoFields {
                object: self.object.clone(),
            });
        }
        let mut soql =
            String::with_capacity(32 + self.fields.iter().map(|f| f.len() + 1).sum::<usize>());
        soql.push_str("SELECT ");
        push_names(&mut soql, "field", &self.fields, "")?;
        soql.push_str(" FROM ");
        soql.push_str(&self.object);
        soql.push_str(&self.where_clause(None)?);
        if !self.order_by.is_empty() {
            soql.push_str(" ORDER BY ");
            push_names(&mut soql, "ORDER BY field", &self.order_by, " ASC")?;
        }
        Ok(soql)
    }
}

/// Appends `names`, each checked as a `what` name and followed by `suffix`, comma-separated.
fn push_names(
    soql: &mut String,
    what: &'static str,
    names: &[String],
    suffix: &str,
) -> Result<(), SoqlError> {
    for (i, name) in names.iter().enumerate() {
        check_name(what, name)?;
        if i > 0 {
            soql.push(',');
        }
        soql.push_str(name);
        soql.push_str(suffix);
    }
    Ok(())
}

impl Select {
    /// `SELECT COUNT() FROM <object>` with the same WHERE as [`to_soql`](Self::to_soql), and
    /// `Id <= up_to_id` when given (the last row of a read ordered by Id bounds what it covered).
    pub(crate) fn to_count_soql(&self, up_to_id: Option<&str>) -> Result<String, SoqlError> {
        check_name("object", &self.object)?;
        Ok(format!(
            "SELECT COUNT() FROM {}{}",
            self.object,
            self.where_clause(up_to_id)?
        ))
    }

    /// ` WHERE …` (empty without conditions).
    fn where_clause(&self, up_to_id: Option<&str>) -> Result<String, SoqlError> {
        let mut conditions = Vec::new();
        if let Some(window) = &self.window {
            check_name("cursor field", &window.cursor_field)?;
            conditions.push(format!(
                "{c} >= {} AND {c} < {}",
                datetime_literal(window.start),
                datetime_literal(window.end),
                c = window.cursor_field
            ));
        }
        if let Some(id) = &self.after_id {
            conditions.push(format!("Id > {}", quote_string(id)));
        }
        for id in self.until_id.iter().map(String::as_str).chain(up_to_id) {
            conditions.push(format!("Id <= {}", quote_string(id)));
        }
        if !self.ids.is_empty() {
            let quoted: Vec<String> = self.ids.iter().map(|id| quote_string(id)).collect();
            conditions.push(format!("Id IN ({})", quoted.join(",")));
        }
        Ok(if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        })
    }
}

/// How many bytes the field list of a REST query may take in a URI of at most `max_uri_bytes`
/// (Salesforce: [`crate::salesforce::rest::MAX_URI_BYTES`]), given the length of everything before `?q=` (instance URL
/// and path). Mirrors Airbyte's `16384 − len(base) − 2000`.
pub(crate) fn field_list_budget(base_url_len: usize, max_uri_bytes: usize) -> usize {
    max_uri_bytes.saturating_sub(base_url_len + URI_MARGIN_BYTES)
}

/// Bytes a field takes in a URL-encoded field list (`name,`). API names are ASCII letters,
/// digits, `_` and `.`, none of which are percent-encoded; the comma becomes `%2C`.
fn encoded_len(field: &str) -> usize {
    field.len() + 3
}

/// Splits `fields` into chunks whose URL-encoded field lists each fit in `budget` bytes. Every
/// chunk starts with `key` (Id) so the chunks' rows can be joined; `key` need not be in `fields`.
/// A single chunk holding all fields is returned when they fit.
pub(crate) fn split_fields_for_uri(
    object: &str,
    key: &str,
    fields: &[String],
    budget: usize,
) -> Result<Vec<Vec<String>>, SoqlError> {
    let others: Vec<&String> = fields.iter().filter(|f| f.as_str() != key).collect();
    let total: usize = encoded_len(key) + others.iter().map(|f| encoded_len(f)).sum::<usize>();
    if total <= budget {
        let mut all = vec![key.to_string()];
        all.extend(others.into_iter().cloned());
        return Ok(vec![all]);
    }
    let mut chunks = Vec::new();
    let mut current = vec![key.to_string()];
    let mut used = encoded_len(key);
    for field in others {
        let len = encoded_len(field);
        if encoded_len(key) + len > budget {
            return Err(SoqlError::FieldTooLong {
                object: object.to_string(),
                field: field.clone(),
                budget,
            });
        }
        if used + len > budget {
            chunks.push(std::mem::replace(&mut current, vec![key.to_string()]));
            used = encoded_len(key);
        }
        current.push(field.clone());
        used += len;
    }
    if current.len() > 1 {
        chunks.push(current);
    }
    Ok(chunks)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn incremental_window_is_half_open_on_the_cursor() {
        let mut select = Select::new("Account", vec!["Id".into(), "Name".into()]);
        select.window = Some(CursorWindow {
            cursor_field: "SystemModstamp".into(),
            start: at(2024, 1, 1),
            end: at(2024, 1, 31),
        });
        select.order_by = vec!["SystemModstamp".into(), "Id".into()];
        assert_eq!(
            select.to_soql().unwrap(),
            "SELECT Id,Name FROM Account WHERE SystemModstamp >= 2024-01-01T00:00:00.000Z \
             AND SystemModstamp < 2024-01-31T00:00:00.000Z ORDER BY SystemModstamp ASC,Id ASC"
        );
    }

    #[test]
    fn resume_after_id_is_a_quoted_literal() {
        let mut select = Select::new("Contact", vec!["Id".into()]);
        select.after_id = Some("003000000000001AAA".into());
        select.order_by = vec!["Id".into()];
        assert_eq!(
            select.to_soql().unwrap(),
            "SELECT Id FROM Contact WHERE Id > '003000000000001AAA' ORDER BY Id ASC"
        );
    }

    #[test]
    fn an_id_range_bounds_the_query_and_its_count() {
        let mut select = Select::new("Contact", vec!["Id".into()]);
        select.after_id = Some("003Dn0000000001".into());
        select.until_id = Some("003Dn0000000100".into());
        select.order_by = vec!["Id".into()];
        assert_eq!(
            select.to_soql().unwrap(),
            "SELECT Id FROM Contact WHERE Id > '003Dn0000000001' AND Id <= '003Dn0000000100' \
             ORDER BY Id ASC"
        );
        assert_eq!(
            select.to_count_soql(Some("003Dn0000000042")).unwrap(),
            "SELECT COUNT() FROM Contact WHERE Id > '003Dn0000000001' AND Id <= '003Dn0000000100' \
             AND Id <= '003Dn0000000042'"
        );
    }

    #[test]
    fn string_literals_escape_quotes_backslashes_and_controls() {
        assert_eq!(quote_string("O'Brien"), r"'O\'Brien'");
        assert_eq!(quote_string(r"a\b"), r"'a\\b'");
        assert_eq!(quote_string("x\"y\nz"), "'x\\\"y\\nz'");
        assert_eq!(quote_string("\u{1}"), "'\\u0001'");
    }

    #[test]
    fn names_that_could_inject_soql_are_rejected() {
        let select = Select::new("Account", vec!["Id FROM User --".into()]);
        assert!(matches!(
            select.to_soql(),
            Err(SoqlError::InvalidName { what: "field", .. })
        ));
        let select = Select::new("Acc ount", vec!["Id".into()]);
        assert!(select.to_soql().is_err());
        assert!(Select::new("Account", vec![]).to_soql().is_err());
    }

    #[test]
    fn relationship_names_with_dots_are_accepted() {
        let select = Select::new("Contact", vec!["Id".into(), "Account.Name".into()]);
        assert_eq!(
            select.to_soql().unwrap(),
            "SELECT Id,Account.Name FROM Contact"
        );
    }

    #[test]
    fn fields_that_fit_stay_in_one_chunk_with_id_first() {
        let fields: Vec<String> = vec!["Name".into(), "Id".into(), "Phone".into()];
        let chunks = split_fields_for_uri("Account", "Id", &fields, 1000).unwrap();
        assert_eq!(
            chunks,
            vec![vec!["Id".to_string(), "Name".into(), "Phone".into()]]
        );
    }

    #[test]
    fn wide_objects_split_into_chunks_that_each_fit_and_carry_id() {
        let fields: Vec<String> = (0..600)
            .map(|i| format!("Custom_Field_Number_{i:04}__c"))
            .collect();
        let budget = field_list_budget(
            "https://example.my.salesforce.com/services/data/v62.0/queryAll/".len(),
            MAX_URI_BYTES,
        );
        let chunks = split_fields_for_uri("Wide__c", "Id", &fields, budget).unwrap();
        assert!(chunks.len() > 1);
        let mut seen = 0;
        for chunk in &chunks {
            assert_eq!(chunk[0], "Id");
            let len: usize = chunk.iter().map(|f| encoded_len(f)).sum();
            assert!(len <= budget, "chunk of {len} bytes over budget {budget}");
            seen += chunk.len() - 1;
        }
        assert_eq!(seen, 600);
    }

    #[test]
    fn budget_leaves_the_margin_below_the_uri_limit() {
        assert_eq!(field_list_budget(100, MAX_URI_BYTES), 16_384 - 100 - 2_000);
        assert_eq!(field_list_budget(20_000, MAX_URI_BYTES), 0);
    }

    /// Reads a SOQL string literal back, by Salesforce's escape rules.
    fn unquote(literal: &str) -> String {
        let inner = &literal[1..literal.len() - 1];
        let mut out = String::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                assert_ne!(c, '\'', "an unescaped quote ends the literal early");
                out.push(c);
                continue;
            }
            match chars.next().unwrap() {
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'b' => out.push('\u{8}'),
                'f' => out.push('\u{c}'),
                'u' => {
                    let hex: String = chars.by_ref().take(4).collect();
                    out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
                }
                other => out.push(other),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn any_string_survives_soql_quoting(text in "\\PC*|['\"\\\\\n\r\t\u{0}-\u{1f}]*") {
            proptest::prop_assert_eq!(unquote(&quote_string(&text)), text);
        }
    }
}
