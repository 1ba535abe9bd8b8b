//! One JSON value -> one Bulk API 2.0 CSV cell, in Salesforce's dialect for the field's type.
//!
//! Values arrive as raw JSON text so numbers keep the digits the source wrote: a plain number
//! is copied as-is, an exponent is expanded exactly (`1.5E7` -> `15000000`), never through a
//! float. Datetimes become `yyyy-MM-ddTHH:mm:ss.SSSZ` in UTC, dates `yyyy-MM-dd`, booleans
//! `true`/`false`. A JSON null (or an empty string: Salesforce stores no empty text) becomes
//! `#N/A`, Bulk's "set to null", where the operation allows it.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use serde_json::value::RawValue;
use thiserror::Error;

use crate::destination::route::operation::Operation;
use crate::destination::route::sobject::{FieldInfo, FieldKind};
use crate::salesforce::FieldType;

/// Bulk API's "set this field to null" marker.
pub(crate) const NULL_MARKER: &str = "#N/A";

/// Exponents beyond this are refused rather than expanded into thousands of digits; no
/// Salesforce number type holds more than 18 digits.
const MAX_EXPONENT: i64 = 400;

/// Why a value cannot be written to its field.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("field '{field}' ({describe_type}): expected {expected}, got {got}")]
pub(crate) struct CellError {
    pub field: String,
    pub describe_type: FieldType,
    pub expected: &'static str,
    pub got: String,
}

/// The CSV text for `raw` written to `field` by `operation`. An empty string means an empty
/// cell (leave the value unchanged, or let Salesforce apply its default on insert). Text that
/// needs no rewriting is borrowed from `raw`, so most cells cost no allocation.
pub(crate) fn to_cell<'a>(
    field: &FieldInfo,
    raw: &'a RawValue,
    operation: &Operation,
) -> Result<Cow<'a, str>, CellError> {
    let text = raw.get().trim();
    let fail = |expected: &'static str| CellError {
        field: field.describe.name.clone(),
        describe_type: field.describe.field_type.clone(),
        expected,
        got: preview(text),
    };
    let value = JsonScalar::parse(text).ok_or_else(|| fail("a JSON value"))?;
    if value.is_null_like() {
        return null_cell(field, operation)
            .ok_or_else(|| fail("a value (the field cannot be set to null)"));
    }
    let converted = match field.kind {
        FieldKind::Id => match value {
            JsonScalar::String(s) => Some(trim_cow(s)),
            _ => None,
        }
        .ok_or_else(|| fail("a record id string")),
        FieldKind::Boolean => boolean(&value).ok_or_else(|| fail("true or false")),
        FieldKind::Integer | FieldKind::Long => number_text(&value)
            .and_then(integer_from_decimal)
            .ok_or_else(|| fail("a whole number")),
        FieldKind::Decimal => number_text(&value).ok_or_else(|| fail("a number")),
        FieldKind::Date => match value {
            JsonScalar::String(s) => date(s),
            _ => None,
        }
        .ok_or_else(|| fail("a date (YYYY-MM-DD)")),
        FieldKind::DateTime => match &value {
            JsonScalar::String(s) => datetime(s).map(Cow::Owned),
            _ => None,
        }
        .ok_or_else(|| fail("a date-time (RFC 3339, e.g. 2024-05-01T10:00:00Z)")),
        FieldKind::Time => match &value {
            JsonScalar::String(s) => time(s).map(Cow::Owned),
            _ => None,
        }
        .ok_or_else(|| fail("a time (HH:mm:ss[.SSS][Z])")),
        FieldKind::MultiPicklist => match value {
            JsonScalar::String(s) => Some(s),
            JsonScalar::Array(items) => Some(Cow::Owned(items.join(";"))),
            _ => None,
        }
        .ok_or_else(|| fail("a string or an array of strings")),
        FieldKind::Text => match value {
            JsonScalar::String(s) => Some(s),
            JsonScalar::Number(n) => Some(Cow::Borrowed(n)),
            JsonScalar::Bool(b) => Some(Cow::Borrowed(bool_text(b))),
            _ => None,
        }
        .ok_or_else(|| fail("a string")),
        FieldKind::Unsupported => Err(fail("a type the Bulk API can write")),
    }?;
    if converted.is_empty() {
        return null_cell(field, operation)
            .ok_or_else(|| fail("a value (the field cannot be set to null)"));
    }
    Ok(converted)
}

/// The cell for a null: `#N/A` when the field may be nulled; on insert an empty cell lets
/// Salesforce apply the default (or report the required field); otherwise refused.
fn null_cell(field: &FieldInfo, operation: &Operation) -> Option<Cow<'static, str>> {
    if operation
        .key_field()
        .is_some_and(|k| k == field.describe.name)
    {
        return None;
    }
    if operation.allows_nulling() && field.describe.nillable {
        Some(Cow::Borrowed(NULL_MARKER))
    } else if *operation == Operation::Insert {
        Some(Cow::Borrowed(""))
    } else {
        None
    }
}

fn bool_text(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// `s` without surrounding whitespace, still borrowed when it was.
fn trim_cow(s: Cow<'_, str>) -> Cow<'_, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
        Cow::Owned(o) if o.trim().len() == o.len() => Cow::Owned(o),
        Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
    }
}

fn preview(text: &str) -> String {
    const MAX: usize = 60;
    if text.chars().count() <= MAX {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}...")
    }
}

/// A JSON value, as far as a cell needs it.
#[derive(Debug, PartialEq)]
enum JsonScalar<'a> {
    Null,
    Bool(bool),
    /// The number's text exactly as written.
    Number(&'a str),
    /// Borrowed from the input unless it held escapes.
    String(Cow<'a, str>),
    /// An array of strings (multi-select picklists).
    Array(Vec<String>),
    /// Objects, nested arrays: nothing a CSV cell holds.
    Other,
}

impl<'a> JsonScalar<'a> {
    fn parse(text: &'a str) -> Option<JsonScalar<'a>> {
        match text.as_bytes().first()? {
            b'n' if text == "null" => Some(JsonScalar::Null),
            b't' if text == "true" => Some(JsonScalar::Bool(true)),
            b'f' if text == "false" => Some(JsonScalar::Bool(false)),
            b'"' => match text.get(1..text.len() - 1) {
                // No escapes: the text between the quotes is the string.
                Some(inner)
                    if !inner.contains(['\\', '"']) && text.len() >= 2 && text.ends_with('"') =>
                {
                    Some(JsonScalar::String(Cow::Borrowed(inner)))
                }
                _ => serde_json::from_str::<String>(text)
                    .ok()
                    .map(|s| JsonScalar::String(Cow::Owned(s))),
            },
            b'-' | b'0'..=b'9' => is_json_number(text).then_some(JsonScalar::Number(text)),
            b'[' => Some(
                serde_json::from_str::<Vec<String>>(text)
                    .map(JsonScalar::Array)
                    .unwrap_or(JsonScalar::Other),
            ),
            b'{' => Some(JsonScalar::Other),
            _ => None,
        }
    }

    fn is_null_like(&self) -> bool {
        match self {
            JsonScalar::Null => true,
            JsonScalar::String(s) => s.is_empty(),
            _ => false,
        }
    }
}

fn boolean(value: &JsonScalar) -> Option<Cow<'static, str>> {
    let b = match value {
        JsonScalar::Bool(b) => *b,
        JsonScalar::String(s) if s.trim().eq_ignore_ascii_case("true") => true,
        JsonScalar::String(s) if s.trim().eq_ignore_ascii_case("false") => false,
        JsonScalar::Number("1") => true,
        JsonScalar::Number("0") => false,
        _ => return None,
    };
    Some(Cow::Borrowed(bool_text(b)))
}

/// A number (JSON number, or a string holding one, as warehouses send decimals) as plain
/// decimal text.
fn number_text<'a>(value: &JsonScalar<'a>) -> Option<Cow<'a, str>> {
    match value {
        JsonScalar::Number(n) => plain_decimal_cow(n),
        JsonScalar::String(Cow::Borrowed(s)) => plain_decimal_cow(unsigned(s)),
        JsonScalar::String(Cow::Owned(s)) => plain_decimal(unsigned(s)).map(Cow::Owned),
        _ => None,
    }
}

/// A number held in a string, without surrounding spaces or a leading `+`.
fn unsigned(s: &str) -> &str {
    let s = s.trim();
    s.strip_prefix('+').unwrap_or(s)
}

/// [`plain_decimal`], borrowing numbers that have no exponent (they come back unchanged).
fn plain_decimal_cow(number: &str) -> Option<Cow<'_, str>> {
    if !number.contains(['e', 'E']) {
        return is_json_number(number).then_some(Cow::Borrowed(number));
    }
    plain_decimal(number).map(Cow::Owned)
}

/// Whether `text` is a JSON number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    let int_start = i;
    let n = digits(&mut i);
    if n == 0 || (n > 1 && b[int_start] == b'0') {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Rewrites a JSON number without exponent, exactly: every digit kept, none invented beyond
/// what the shift needs. Plain numbers come back unchanged.
pub(crate) fn plain_decimal(number: &str) -> Option<String> {
    if !is_json_number(number) {
        return None;
    }
    let Some(e_at) = number.find(['e', 'E']) else {
        return Some(number.to_string());
    };
    let (mantissa, exponent) = (&number[..e_at], &number[e_at + 1..]);
    let exponent: i64 = exponent.parse().ok()?;
    if exponent.abs() > MAX_EXPONENT {
        return None;
    }
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = format!("{int_part}{frac_part}");
    // The decimal point sits after `point` digits of `digits`.
    let point = int_part.len() as i64 + exponent;
    let (mut int_digits, frac_digits) = if point <= 0 {
        (
            "0".to_string(),
            format!("{}{}", "0".repeat((-point) as usize), digits),
        )
    } else if point as usize >= digits.len() {
        (
            format!("{}{}", digits, "0".repeat(point as usize - digits.len())),
            String::new(),
        )
    } else {
        let (i, f) = digits.split_at(point as usize);
        (i.to_string(), f.to_string())
    };
    let trimmed = int_digits.trim_start_matches('0');
    int_digits = if trimmed.is_empty() {
        "0".into()
    } else {
        trimmed.to_string()
    };
    let mut out = String::with_capacity(int_digits.len() + frac_digits.len() + 2);
    if negative {
        out.push('-');
    }
    out.push_str(&int_digits);
    if !frac_digits.is_empty() {
        out.push('.');
        out.push_str(&frac_digits);
    }
    Some(out)
}

/// `42`, `42.0`, `42.000` -> `42`; a non-zero fraction is not a whole number.
fn integer_from_decimal(plain: Cow<'_, str>) -> Option<Cow<'_, str>> {
    let Some(point) = plain.find('.') else {
        return Some(plain);
    };
    if !plain[point + 1..].bytes().all(|b| b == b'0') {
        return None;
    }
    Some(match plain {
        Cow::Borrowed(b) => Cow::Borrowed(&b[..point]),
        Cow::Owned(mut o) => {
            o.truncate(point);
            Cow::Owned(o)
        }
    })
}

fn datetime(s: &str) -> Option<String> {
    let s = s.trim();
    let utc: DateTime<Utc> = if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        dt.with_timezone(&Utc)
    } else if let Ok(dt) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        dt.with_timezone(&Utc)
    } else if let Ok(dt) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%z") {
        dt.with_timezone(&Utc)
    } else if let Ok(naive) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        naive.and_utc()
    } else if let Ok(naive) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f") {
        naive.and_utc()
    } else if let Ok(date) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        date.and_hms_opt(0, 0, 0)?.and_utc()
    } else {
        return None;
    };
    Some(salesforce_datetime(&utc))
}

/// `yyyy-MM-ddTHH:mm:ss.SSSZ`, written directly (chrono's `format` re-parses its pattern on
/// every call, which shows in profiles at a million rows).
fn salesforce_datetime(utc: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let year = utc.year();
    if !(0..=9999).contains(&year) {
        return utc.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    }
    format!(
        "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.month(),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.timestamp_subsec_millis().min(999)
    )
}

/// A date, or a date-time at midnight (warehouses often widen dates to timestamps).
fn date(value: Cow<'_, str>) -> Option<Cow<'_, str>> {
    let s = value.trim();
    let b = s.as_bytes();
    let canonical = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if canonical {
        let number = |range: std::ops::Range<usize>| s[range].parse::<u32>().ok();
        let valid = match (number(0..4), number(5..7), number(8..10)) {
            (Some(y), Some(m), Some(d)) => NaiveDate::from_ymd_opt(y as i32, m, d).is_some(),
            _ => false,
        };
        if !valid {
            return None;
        }
        // Already yyyy-MM-dd.
        return Some(trim_cow(value));
    }
    let (day, rest) = s.split_at_checked(10)?;
    let d = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
    let time = rest.strip_prefix(['T', ' '])?;
    let clock = time.trim_end_matches('Z');
    let clock = clock
        .split_once(['+', '-'])
        .map(|(c, _)| c)
        .unwrap_or(clock);
    let t = NaiveTime::parse_from_str(clock, "%H:%M:%S%.f").ok()?;
    (t == NaiveTime::MIN).then(|| Cow::Owned(d.format("%Y-%m-%d").to_string()))
}

fn time(s: &str) -> Option<String> {
    let clock = s.trim().trim_end_matches('Z');
    let t = NaiveTime::parse_from_str(clock, "%H:%M:%S%.f").ok()?;
    Some(t.format("%H:%M:%S%.3fZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_string()).unwrap()
    }

    fn cell(describe_type: &str, json: &str) -> Result<String, CellError> {
        to_cell(
            &FieldInfo::new("F__c", describe_type),
            &raw(json),
            &Operation::Update,
        )
        .map(Cow::into_owned)
    }

    #[test]
    fn plain_numbers_keep_their_digits() {
        assert_eq!(
            cell("double", "12345678901234567890.123456789").unwrap(),
            "12345678901234567890.123456789"
        );
        assert_eq!(cell("currency", "0.1").unwrap(), "0.1");
        assert_eq!(cell("percent", "-7").unwrap(), "-7");
    }

    #[test]
    fn exponents_are_expanded_exactly() {
        assert_eq!(plain_decimal("1.5E7").unwrap(), "15000000");
        assert_eq!(plain_decimal("9.9213206E7").unwrap(), "99213206");
        assert_eq!(plain_decimal("1.25e-3").unwrap(), "0.00125");
        assert_eq!(plain_decimal("-12.5e1").unwrap(), "-125");
        assert_eq!(plain_decimal("123.456e1").unwrap(), "1234.56");
        assert_eq!(plain_decimal("1e+2").unwrap(), "100");
        assert_eq!(plain_decimal("0e5").unwrap(), "0");
        assert_eq!(plain_decimal("1e999"), None);
    }

    #[test]
    fn numeric_strings_are_accepted_for_number_fields() {
        assert_eq!(cell("double", "\"42.50\"").unwrap(), "42.50");
        assert!(cell("double", "\"forty\"").is_err());
    }

    #[test]
    fn integers_refuse_fractions_but_accept_zero_fractions() {
        assert_eq!(cell("int", "42.0").unwrap(), "42");
        assert_eq!(cell("int", "4.2e1").unwrap(), "42");
        let err = cell("int", "42.5").unwrap_err();
        assert_eq!(err.expected, "a whole number");
        assert_eq!(err.got, "42.5");
    }

    /// Each JSON value of `cases` becomes its cell text in a field of `describe_type`.
    fn assert_cells(describe_type: &str, cases: &[(&str, &str)]) {
        for (json, text) in cases {
            assert_eq!(cell(describe_type, json).unwrap(), *text, "{json}");
        }
    }

    /// Each JSON value is refused in a field of `describe_type`.
    fn assert_refused(describe_type: &str, jsons: &[&str]) {
        for json in jsons {
            assert!(cell(describe_type, json).is_err(), "{json}");
        }
    }

    #[test]
    fn datetimes_become_utc_with_milliseconds() {
        assert_cells(
            "datetime",
            &[
                ("\"2024-05-01T12:00:00+02:00\"", "2024-05-01T10:00:00.000Z"),
                (
                    "\"2024-05-01T10:00:00.123456Z\"",
                    "2024-05-01T10:00:00.123Z",
                ),
                ("\"2024-05-01 10:00:00\"", "2024-05-01T10:00:00.000Z"),
                (
                    "\"2024-05-01T10:00:00.000+0000\"",
                    "2024-05-01T10:00:00.000Z",
                ),
            ],
        );
        assert_refused("datetime", &["\"yesterday\"", "1714557600"]);
    }

    #[test]
    fn dates_accept_midnight_timestamps_only() {
        assert_cells(
            "date",
            &[
                ("\"2024-05-01\"", "2024-05-01"),
                ("\"2024-05-01T00:00:00Z\"", "2024-05-01"),
            ],
        );
        assert_refused("date", &["\"2024-05-01T10:00:00Z\"", "\"2024-13-01\""]);
    }

    #[test]
    fn times_get_milliseconds_and_z() {
        assert_eq!(cell("time", "\"10:30:00\"").unwrap(), "10:30:00.000Z");
    }

    #[test]
    fn booleans_are_lower_case_words() {
        assert_eq!(cell("boolean", "true").unwrap(), "true");
        assert_eq!(cell("boolean", "\"FALSE\"").unwrap(), "false");
        assert_eq!(cell("boolean", "1").unwrap(), "true");
        assert!(cell("boolean", "\"yes\"").is_err());
    }

    #[test]
    fn null_and_empty_string_set_null_where_allowed() {
        assert_eq!(cell("string", "null").unwrap(), NULL_MARKER);
        assert_eq!(cell("string", "\"\"").unwrap(), NULL_MARKER);
        let mut required = FieldInfo::new("Name", "string");
        required.describe.nillable = false;
        assert!(to_cell(&required, &raw("null"), &Operation::Update).is_err());
        assert_eq!(
            to_cell(&required, &raw("null"), &Operation::Insert).unwrap(),
            ""
        );
    }

    #[test]
    fn the_key_can_never_be_null() {
        let id = FieldInfo::new("Id", "id");
        assert!(to_cell(&id, &raw("null"), &Operation::Delete).is_err());
        assert!(to_cell(&id, &raw("\"\""), &Operation::Update).is_err());
    }

    #[test]
    fn text_takes_numbers_and_booleans_as_written_but_not_objects() {
        assert_eq!(cell("string", "1.10").unwrap(), "1.10");
        assert_eq!(cell("string", "\"a,\\\"b\\\"\"").unwrap(), "a,\"b\"");
        assert!(cell("textarea", "{\"a\":1}").is_err());
    }

    #[test]
    fn multipicklists_join_arrays_with_semicolons() {
        assert_eq!(cell("multipicklist", "[\"A\",\"B\"]").unwrap(), "A;B");
    }

    #[test]
    fn ids_must_be_strings() {
        assert!(cell("reference", "12").is_err());
        assert_eq!(
            cell("reference", "\"001000000000001AAA\"").unwrap(),
            "001000000000001AAA"
        );
    }
}
