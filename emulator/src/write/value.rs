//! A cell's text turned into a [`Value`] of the field's describe type, with Salesforce's checks.
//!
//! Accepted forms (Bulk API 2.0 "Valid Date Format in Records", "Valid CSV Record Rows"):
//! booleans `true`/`false` in any case and `1`/`0`; integers with an optional sign; doubles in
//! plain or scientific notation; dates `yyyy-MM-dd` (a documented sample adds `Z`); datetimes
//! `yyyy-MM-ddTHH:mm:ss[.SSS](Z|±HH:mm|±HHmm)`; times `HH:mm:ss[.SSS][Z]`.
//! Id and reference fields are resolved against the org by [`super::record`], not here.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};

use super::error::RecordError;
use crate::schema::{Field, FieldType, Value};

/// Parses a non-empty cell for `field` (not an id or reference field).
pub(crate) fn parse_text(field: &Field, text: &str) -> Result<Value, RecordError> {
    let invalid = || RecordError::invalid_type(&field.label, &field.name, text);
    match field.field_type {
        FieldType::Boolean => parse_bool(text).map(Value::Bool).ok_or_else(invalid),
        FieldType::Int | FieldType::Long => {
            let n: i64 = text
                .trim_start_matches('+')
                .parse()
                .map_err(|_| invalid())?;
            let digits = if field.field_type == FieldType::Int {
                field.digits.min(9)
            } else {
                18
            };
            let limit = 10i64.pow(digits.max(1));
            if n.abs() >= limit {
                return Err(RecordError::number_outside_range(
                    &field.label,
                    &field.name,
                    text,
                ));
            }
            Ok(Value::Int(n))
        }
        FieldType::Double | FieldType::Currency | FieldType::Percent => {
            let looks_numeric = text
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
            let x: f64 = if looks_numeric {
                text.parse().map_err(|_| invalid())?
            } else {
                return Err(invalid());
            };
            if !x.is_finite() {
                return Err(invalid());
            }
            let integer_digits = field.precision.saturating_sub(field.scale).max(1);
            if x.abs() >= 10f64.powi(integer_digits as i32) {
                return Err(RecordError::number_outside_range(
                    &field.label,
                    &field.name,
                    text,
                ));
            }
            Ok(Value::Double(x))
        }
        FieldType::Date => parse_date(text).map(Value::Date).ok_or_else(invalid),
        FieldType::DateTime => parse_datetime(text)
            .map(Value::DateTime)
            .ok_or_else(invalid),
        FieldType::Time => parse_time(text).map(Value::Time).ok_or_else(invalid),
        FieldType::Picklist => {
            check_length(field, text)?;
            check_picklist(field, text)?;
            Ok(Value::Text(text.to_string()))
        }
        FieldType::Multipicklist => {
            check_length(field, text)?;
            for item in text.split(';') {
                check_picklist(field, item)?;
            }
            Ok(Value::Text(text.to_string()))
        }
        FieldType::Email => {
            check_length(field, text)?;
            if !is_email(text) {
                return Err(RecordError::invalid_email(&field.label, &field.name, text));
            }
            Ok(Value::Text(text.to_string()))
        }
        FieldType::String
        | FieldType::Textarea
        | FieldType::Combobox
        | FieldType::Phone
        | FieldType::Url
        | FieldType::EncryptedString
        | FieldType::AnyType
        | FieldType::Json => {
            check_length(field, text)?;
            Ok(Value::Text(text.to_string()))
        }
        FieldType::Id | FieldType::Reference => Ok(Value::Text(text.to_string())),
        // Binary and compound values cannot be written through these APIs' text cells.
        FieldType::Base64 | FieldType::Address | FieldType::Location => Err(invalid()),
    }
}

fn check_length(field: &Field, text: &str) -> Result<(), RecordError> {
    if field.length > 0 && text.chars().count() > field.length as usize {
        return Err(RecordError::string_too_long(
            &field.label,
            &field.name,
            text,
            field.length,
        ));
    }
    Ok(())
}

fn check_picklist(field: &Field, value: &str) -> Result<(), RecordError> {
    if field.restricted_picklist
        && !field
            .picklist_values
            .iter()
            .any(|p| p.active && p.value == value)
    {
        return Err(RecordError::restricted_picklist(
            &field.label,
            &field.name,
            value,
        ));
    }
    Ok(())
}

/// `local@domain.tld`, no spaces: the shape Salesforce's email fields insist on.
fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace)
        && !domain.contains('@')
}

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") || text == "1" {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") || text == "0" {
        Some(false)
    } else {
        None
    }
}

pub(crate) fn parse_date(text: &str) -> Option<NaiveDate> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    if text.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    let (date_time, offset_minutes) = split_offset(text)?;
    let naive = ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(date_time, f).ok())?;
    if date_time.len() < 19 {
        return None;
    }
    Some(naive.and_utc() - chrono::Duration::minutes(offset_minutes))
}

/// Splits `…Z`, `…+HH:mm` or `…+HHmm` into the local part and the offset in minutes.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(rest) = text.strip_suffix('Z') {
        return Some((rest, 0));
    }
    let bytes = text.as_bytes();
    for width in [6usize, 5] {
        if bytes.len() <= width {
            continue;
        }
        let at = bytes.len() - width;
        let sign = match bytes[at] {
            b'+' => 1,
            b'-' => -1,
            _ => continue,
        };
        let digits: String = text[at + 1..].chars().filter(|c| *c != ':').collect();
        if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if width == 6 && bytes[at + 3] != b':' {
            continue;
        }
        let hours: i64 = digits[..2].parse().ok()?;
        let minutes: i64 = digits[2..].parse().ok()?;
        if hours > 14 || minutes > 59 {
            return None;
        }
        return Some((&text[..at], sign * (hours * 60 + minutes)));
    }
    None
}

pub(crate) fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    ["%H:%M:%S%.f", "%H:%M:%S"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(text, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::PicklistValue;

    fn field(t: FieldType) -> Field {
        Field::new("F__c", "Eff", t)
    }

    #[test]
    fn booleans_take_any_case_and_digits() {
        let f = field(FieldType::Boolean);
        assert_eq!(parse_text(&f, "TRUE"), Ok(Value::Bool(true)));
        assert_eq!(parse_text(&f, "0"), Ok(Value::Bool(false)));
        assert_eq!(
            parse_text(&f, "yes").unwrap_err().sf_error(),
            "INVALID_TYPE_ON_FIELD_IN_RECORD:Eff: value not of required type: yes:F__c --"
        );
    }

    #[test]
    fn doubles_take_scientific_notation_and_respect_precision() {
        let mut f = field(FieldType::Currency);
        f.precision = 18;
        f.scale = 2;
        assert_eq!(parse_text(&f, "9.9213206E7"), Ok(Value::Double(99213206.0)));
        assert_eq!(parse_text(&f, "-12.5"), Ok(Value::Double(-12.5)));
        assert_eq!(
            parse_text(&f, "1e17").unwrap_err().sf_error(),
            "NUMBER_OUTSIDE_VALID_RANGE:Eff: value outside of valid range on numeric field: 1e17:F__c --"
        );
        assert!(parse_text(&f, "NaN").is_err());
        assert!(parse_text(&f, "1,5").is_err());
    }

    #[test]
    fn integers_refuse_fractions_and_overflow() {
        let f = field(FieldType::Int);
        assert_eq!(parse_text(&f, "+42"), Ok(Value::Int(42)));
        assert_eq!(
            parse_text(&f, "4.2").unwrap_err().code,
            "INVALID_TYPE_ON_FIELD_IN_RECORD"
        );
        assert_eq!(
            parse_text(&f, "1000000000").unwrap_err().code,
            "NUMBER_OUTSIDE_VALID_RANGE"
        );
    }

    #[test]
    fn datetimes_take_every_documented_offset_form() {
        let expected = "2024-01-01T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        for text in [
            "2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00.000Z",
            "2024-01-01T12:00:00+02:00",
            "2024-01-01T12:00:00.000+0200",
            "2024-01-01T05:00:00-05:00",
        ] {
            assert_eq!(parse_datetime(text), Some(expected), "{text}");
        }
        for bad in [
            "2024-01-01",
            "2024-01-01 10:00:00Z",
            "2024-01-01T10:00:00",
            "2024-13-01T00:00:00Z",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn dates_take_plain_and_z_forms_only() {
        let d = NaiveDate::from_ymd_opt(1940, 6, 7).unwrap();
        assert_eq!(parse_date("1940-06-07"), Some(d));
        assert_eq!(parse_date("1940-06-07Z"), Some(d));
        assert_eq!(parse_date("06/07/1940"), None);
        assert_eq!(parse_date("1940-6-7"), None);
        let f = field(FieldType::Date);
        assert_eq!(
            parse_text(&f, "2024-02-30").unwrap_err().sf_error(),
            "INVALID_TYPE_ON_FIELD_IN_RECORD:Eff: value not of required type: 2024-02-30:F__c --"
        );
    }

    #[test]
    fn text_longer_than_length_is_string_too_long() {
        let mut f = field(FieldType::String);
        f.length = 5;
        assert_eq!(parse_text(&f, "héllo"), Ok(Value::Text("héllo".into())));
        assert_eq!(
            parse_text(&f, "toolong").unwrap_err().sf_error(),
            "STRING_TOO_LONG:Eff: data value too large: toolong (max length=5):F__c --"
        );
    }

    #[test]
    fn restricted_picklist_refuses_unknown_and_inactive_values() {
        let mut f = field(FieldType::Multipicklist);
        f.restricted_picklist = true;
        for (v, active) in [("A", true), ("B", true), ("Old", false)] {
            f.picklist_values.push(PicklistValue {
                value: v.into(),
                label: v.into(),
                active,
                default_value: false,
            });
        }
        assert_eq!(parse_text(&f, "A;B"), Ok(Value::Text("A;B".into())));
        assert_eq!(
            parse_text(&f, "A;Old").unwrap_err().sf_error(),
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST:Eff: bad value for restricted picklist field: Old:F__c --"
        );
        f.restricted_picklist = false;
        assert!(parse_text(&f, "Anything").is_ok());
    }

    #[test]
    fn email_needs_a_local_part_and_a_dotted_domain() {
        let f = field(FieldType::Email);
        assert!(parse_text(&f, "a.b@example.com").is_ok());
        assert_eq!(
            parse_text(&f, "not an email").unwrap_err().sf_error(),
            "INVALID_EMAIL_ADDRESS:Eff: invalid email address: not an email:F__c --"
        );
    }

    #[test]
    fn times_parse_with_optional_millis_and_z() {
        assert_eq!(
            parse_time("10:00:00.000Z"),
            NaiveTime::from_hms_opt(10, 0, 0)
        );
        assert_eq!(parse_time("10:00:00"), NaiveTime::from_hms_opt(10, 0, 0));
        assert_eq!(parse_time("25:00:00"), None);
    }
}
