//! Whether a cell the connector would write equals the value Salesforce holds, after
//! Salesforce's own normalisation: numbers by value (`1` = `1.0` = `1.0E0`), dates and
//! datetimes by the instant they name (time zone Z, milliseconds), booleans in any case, ids
//! on their 15-character form, multi-select picklists as sets, null = the empty value.
//!
//! Cells are already in the Bulk CSV dialect (see `batch::cell`); current values come from a
//! Bulk query's CSV (facts §8: `100.0`, `9.0E7`, `…T10:00:00.000Z`, null as empty).

use chrono::{DateTime, NaiveDate, NaiveTime};

use crate::destination::batch::cell::{plain_decimal, NULL_MARKER};
use crate::destination::route::sobject::{FieldInfo, FieldKind};

/// Whether writing `cell` (non-empty) to `field` would leave `current` as it is.
pub(crate) fn same_value(field: &FieldInfo, cell: &str, current: &str) -> bool {
    if cell == NULL_MARKER {
        return current.is_empty();
    }
    if current.is_empty() {
        return false;
    }
    match field.kind {
        FieldKind::Id => same_id(cell, current),
        FieldKind::Boolean => cell.trim().eq_ignore_ascii_case(current.trim()),
        FieldKind::Integer | FieldKind::Long | FieldKind::Decimal => {
            match (canonical_decimal(cell), canonical_decimal(current)) {
                (Some(a), Some(b)) => a == b,
                _ => false,
            }
        }
        FieldKind::Date => match (date(cell), date(current)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        FieldKind::DateTime => match (
            DateTime::parse_from_rfc3339(cell.trim()),
            DateTime::parse_from_rfc3339(current.trim()),
        ) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        },
        FieldKind::Time => match (time(cell), time(current)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        FieldKind::MultiPicklist => picklist_set(cell) == picklist_set(current),
        FieldKind::Text | FieldKind::Unsupported => cell == current,
    }
}

/// Salesforce ids compare on their case-sensitive 15-character form.
pub(crate) fn same_id(a: &str, b: &str) -> bool {
    id_key(a) == id_key(b)
}

/// The part of an id that identifies the record (the first 15 characters).
pub(crate) fn id_key(id: &str) -> &str {
    let id = id.trim();
    id.get(..15).unwrap_or(id)
}

/// A number's value as text: no exponent, no leading or trailing zeros, no `-0`
/// (`1.0E7` -> `10000000`, `50.100` -> `50.1`); `None` when `text` is not a number.
pub(crate) fn canonical_decimal(text: &str) -> Option<String> {
    let plain = plain_decimal(text.trim())?;
    let (negative, digits) = match plain.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, plain.as_str()),
    };
    let (int_part, frac_part) = digits.split_once('.').unwrap_or((digits, ""));
    let int_part = int_part.trim_start_matches('0');
    let frac_part = frac_part.trim_end_matches('0');
    let mut out = String::with_capacity(plain.len());
    if int_part.is_empty() && frac_part.is_empty() {
        return Some("0".into());
    }
    if negative {
        out.push('-');
    }
    out.push_str(if int_part.is_empty() { "0" } else { int_part });
    if !frac_part.is_empty() {
        out.push('.');
        out.push_str(frac_part);
    }
    Some(out)
}

/// `yyyy-MM-dd`, with the trailing `Z` one of Salesforce's samples shows.
fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim().trim_end_matches('Z'), "%Y-%m-%d").ok()
}

fn time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim().trim_end_matches('Z'), "%H:%M:%S%.f").ok()
}

/// A multi-select picklist's values, in a stable order, without blanks.
fn picklist_set(text: &str) -> Vec<&str> {
    let mut values: Vec<&str> = text
        .split(';')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    values.sort_unstable();
    values.dedup();
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(describe_type: &str, cell: &str, current: &str) -> bool {
        same_value(&FieldInfo::new("F__c", describe_type), cell, current)
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(same("double", "1", "1.0"));
        assert!(same("currency", "10000000", "1.0E7"));
        assert!(same("double", "99213206", "9.9213206E7"));
        assert!(same("percent", "0.0001", "1.0E-4"));
        assert!(same("int", "42", "42"));
        assert!(same("double", "-0", "0.0"));
        assert!(same("long", "9000000000", "9000000000"));
        assert!(!same("double", "1.5", "1.0"));
        assert!(
            !same("double", "1.234", "1.23"),
            "digits past the scale are a change"
        );
        assert!(!same("double", "1", ""));
        assert_eq!(canonical_decimal("50.100").as_deref(), Some("50.1"));
        assert_eq!(canonical_decimal("-1.50E1").as_deref(), Some("-15"));
        assert_eq!(canonical_decimal("abc"), None);
    }

    #[test]
    fn dates_datetimes_and_times_compare_by_the_moment_they_name() {
        assert!(same("date", "2024-05-01", "2024-05-01"));
        assert!(same("date", "2024-05-01", "2024-05-01Z"));
        assert!(!same("date", "2024-05-01", "2024-05-02"));
        assert!(same(
            "datetime",
            "2024-05-01T10:00:00.000Z",
            "2024-05-01T10:00:00.000Z"
        ));
        assert!(same(
            "datetime",
            "2024-05-01T10:00:00.000Z",
            "2024-05-01T12:00:00+02:00"
        ));
        assert!(!same(
            "datetime",
            "2024-05-01T10:00:00.001Z",
            "2024-05-01T10:00:00.000Z"
        ));
        assert!(same("time", "10:30:00.000Z", "10:30:00.000Z"));
        assert!(same("time", "10:30:00.000Z", "10:30:00Z"));
    }

    #[test]
    fn nulls_booleans_ids_picklists_and_text() {
        assert!(same("string", NULL_MARKER, ""));
        assert!(!same("string", NULL_MARKER, "x"));
        assert!(!same("string", "x", ""));
        assert!(same("boolean", "true", "TRUE"));
        assert!(!same("boolean", "true", "false"));
        assert!(same("reference", "001000000000001", "001000000000001AAA"));
        assert!(!same(
            "reference",
            "001000000000002AAA",
            "001000000000001AAA"
        ));
        assert!(same("multipicklist", "Retail;Online", "Online;Retail"));
        assert!(!same("multipicklist", "Retail", "Online;Retail"));
        assert!(same("picklist", "Gold", "Gold"));
        assert!(!same("string", "Acme", "acme"), "text is case-sensitive");
        assert!(!same("string", "Acme ", "Acme"));
    }
}
