//! Values as Salesforce writes them on the wire: REST JSON (`…T10:00:00.000+0000`, compound
//! fields as objects, base64 as a blob URL) and Bulk API 2.0 CSV (`…T10:00:00.000Z`, Java-style
//! doubles `100.0` / `9.9213206E7`, null as an empty quoted value). See facts §4, §8, §13.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde_json::{Map, Number, Value as Json};

use crate::schema::{Field, FieldType, SObject, Value};

/// A double as Java's `Double.toString` writes it (Salesforce's servers are Java):
/// plain decimal with at least one fractional digit in [1e-3, 1e7), otherwise computerized
/// scientific notation with an upper-case `E` (`9.9213206E7`, `1.0E-4`).
pub(crate) fn java_double(d: f64) -> String {
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    if !d.is_finite() {
        return if d.is_nan() {
            "NaN".into()
        } else if d > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let magnitude = d.abs();
    if (1e-3..1e7).contains(&magnitude) {
        let mut s = format!("{d}");
        if !s.contains('.') {
            s.push_str(".0");
        }
        s
    } else {
        let s = format!("{d:e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        let mantissa = if mantissa.contains('.') {
            mantissa.to_string()
        } else {
            format!("{mantissa}.0")
        };
        format!("{mantissa}E{exponent}")
    }
}

/// `2024-01-01T10:00:00.000+0000` (REST JSON).
pub(crate) fn rest_datetime(d: &DateTime<Utc>) -> String {
    d.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn date(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn time(t: &NaiveTime) -> String {
    t.format("%H:%M:%S%.3fZ").to_string()
}

fn number_of(field: &Field, v: &Value) -> Option<f64> {
    let _ = field;
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Double(d) => Some(*d),
        _ => None,
    }
}

/// A JSON number from Java-style text (keeps `9.9213206E7` as Salesforce writes it).
fn json_double(d: f64) -> Json {
    match serde_json::from_str::<Number>(&java_double(d)) {
        Ok(n) => Json::Number(n),
        Err(_) => Json::Null,
    }
}

/// The REST JSON value of field `field_index` of a record. `row` gives compound fields their
/// components; `blob_url` the path of a base64 field's blob (`None` → null).
pub(crate) fn rest_value(
    sobject: &SObject,
    field_index: usize,
    row: &dyn Fn(usize) -> Value,
    blob_url: Option<String>,
) -> Json {
    let field = &sobject.fields[field_index];
    let value = row(field_index);
    match field.field_type {
        FieldType::Address => compound_json(
            sobject,
            &field.name,
            row,
            &[
                ("city", "City"),
                ("country", "Country"),
                ("geocodeAccuracy", "GeocodeAccuracy"),
                ("latitude", "Latitude"),
                ("longitude", "Longitude"),
                ("postalCode", "PostalCode"),
                ("state", "State"),
                ("street", "Street"),
            ],
        ),
        FieldType::Location => compound_json(
            sobject,
            &field.name,
            row,
            &[("latitude", "Latitude"), ("longitude", "Longitude")],
        ),
        FieldType::Base64 => match (&value, blob_url) {
            (Value::Base64(_), Some(url)) => Json::String(url),
            _ => Json::Null,
        },
        FieldType::Double | FieldType::Currency | FieldType::Percent => {
            match number_of(field, &value) {
                Some(d) => json_double(d),
                None => Json::Null,
            }
        }
        _ => plain_json(&value),
    }
}

fn plain_json(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::Double(d) => json_double(*d),
        Value::Text(s) => Json::String(s.clone()),
        Value::Date(d) => Json::String(date(d)),
        Value::DateTime(d) => Json::String(rest_datetime(d)),
        Value::Time(t) => Json::String(time(t)),
        Value::Base64(b) => Json::String(crate::seed::base64_text(b)),
    }
}

/// The object value of a compound field from its components (those whose
/// `compoundFieldName` is `compound`); null when every component is null.
fn compound_json(
    sobject: &SObject,
    compound: &str,
    row: &dyn Fn(usize) -> Value,
    keys: &[(&str, &str)],
) -> Json {
    let mut object = Map::new();
    let mut any = false;
    for (key, suffix) in keys {
        let component = sobject.fields.iter().enumerate().find(|(_, f)| {
            f.compound_field_name.as_deref() == Some(compound)
                && component_suffix(&f.name).eq_ignore_ascii_case(suffix)
        });
        let v = match component {
            Some((i, _)) => plain_json(&row(i)),
            None => Json::Null,
        };
        any |= !v.is_null();
        object.insert(key.to_string(), v);
    }
    if any {
        Json::Object(object)
    } else {
        Json::Null
    }
}

/// `BillingCity` → `City`; `Location__Latitude__s` → `Latitude`.
fn component_suffix(name: &str) -> &str {
    if let Some(stripped) = name.strip_suffix("__s") {
        return stripped.rsplit("__").next().unwrap_or(stripped);
    }
    for suffix in [
        "GeocodeAccuracy",
        "PostalCode",
        "Latitude",
        "Longitude",
        "Country",
        "Street",
        "State",
        "City",
    ] {
        if name.ends_with(suffix) {
            return &name[name.len() - suffix.len()..];
        }
    }
    name
}

fn push_digits(out: &mut String, value: u32, width: u32) {
    let mut divisor = 10u32.pow(width.saturating_sub(1));
    for _ in 0..width {
        out.push(char::from(b'0' + (value / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// `2024-01-01` without chrono's format-string interpretation (hot in Bulk results).
fn push_date(out: &mut String, d: &NaiveDate) {
    use chrono::Datelike;
    let year = d.year();
    if !(0..=9999).contains(&year) {
        let _ = write!(out, "{}", d.format("%Y-%m-%d"));
        return;
    }
    push_digits(out, year as u32, 4);
    out.push('-');
    push_digits(out, d.month(), 2);
    out.push('-');
    push_digits(out, d.day(), 2);
}

/// `10:00:00.000`.
fn push_time(out: &mut String, t: &NaiveTime) {
    use chrono::Timelike;
    push_digits(out, t.hour(), 2);
    out.push(':');
    push_digits(out, t.minute(), 2);
    out.push(':');
    push_digits(out, t.second(), 2);
    out.push('.');
    push_digits(out, (t.nanosecond() / 1_000_000).min(999), 3);
}

/// Appends the Bulk CSV text of a value (unquoted; the caller quotes).
pub(crate) fn csv_value(out: &mut String, field: &Field, value: &Value) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => match field.field_type {
            FieldType::Double | FieldType::Currency | FieldType::Percent => {
                out.push_str(&java_double(*i as f64));
            }
            _ => {
                let _ = write!(out, "{i}");
            }
        },
        Value::Double(d) => out.push_str(&java_double(*d)),
        Value::Text(s) => out.push_str(s),
        Value::Date(d) => push_date(out, d),
        Value::DateTime(d) => {
            push_date(out, &d.date_naive());
            out.push('T');
            push_time(out, &d.time());
            out.push('Z');
        }
        Value::Time(t) => {
            let _ = write!(out, "{}", t.format("%H:%M:%S%.3fZ"));
        }
        Value::Base64(b) => out.push_str(&crate::seed::base64_text(b)),
    }
}

/// Parses a JSON value given for a field (admin API) into the field's type.
pub(crate) fn value_from_json(field: &Field, json: &Json) -> Result<Value, String> {
    use base64::Engine;
    if json.is_null() {
        return Ok(Value::Null);
    }
    let expected = |what: &str| format!("field {}: expected {what}, got {json}", field.name);
    Ok(match field.field_type {
        FieldType::Boolean => Value::Bool(json.as_bool().ok_or_else(|| expected("true or false"))?),
        FieldType::Int | FieldType::Long => {
            Value::Int(json.as_i64().ok_or_else(|| expected("an integer"))?)
        }
        FieldType::Double | FieldType::Currency | FieldType::Percent => {
            Value::Double(json.as_f64().ok_or_else(|| expected("a number"))?)
        }
        FieldType::Date => {
            let s = json.as_str().ok_or_else(|| expected("a date YYYY-MM-DD"))?;
            Value::Date(
                NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| expected("a date YYYY-MM-DD"))?,
            )
        }
        FieldType::DateTime => {
            let s = json
                .as_str()
                .ok_or_else(|| expected("an ISO-8601 datetime"))?;
            Value::DateTime(parse_datetime(s).ok_or_else(|| expected("an ISO-8601 datetime"))?)
        }
        FieldType::Time => {
            let s = json
                .as_str()
                .ok_or_else(|| expected("a time HH:MM:SS.sssZ"))?;
            let s = s.trim_end_matches('Z');
            Value::Time(
                NaiveTime::parse_from_str(s, "%H:%M:%S%.f")
                    .map_err(|_| expected("a time HH:MM:SS.sssZ"))?,
            )
        }
        FieldType::Base64 => {
            let s = json.as_str().ok_or_else(|| expected("base64 text"))?;
            Value::Base64(
                base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|_| expected("base64 text"))?,
            )
        }
        FieldType::Address | FieldType::Location => {
            return Err(format!(
                "field {}: compound fields are read-only; set their components",
                field.name
            ))
        }
        FieldType::AnyType => match json {
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Double(n.as_f64().unwrap_or_default()),
            Json::String(s) => Value::Text(s.clone()),
            _ => return Err(expected("a string, number or boolean")),
        },
        _ => {
            let s = json.as_str().ok_or_else(|| expected("a string"))?;
            // Salesforce stores no empty strings: saving "" stores null.
            if s.is_empty() {
                Value::Null
            } else {
                Value::Text(s.to_string())
            }
        }
    })
}

/// `2024-01-01T10:00:00Z`, `…00.000+0000`, `…+01:00`.
pub(crate) fn parse_datetime(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(d) = DateTime::parse_from_str(s, format) {
            return Some(d.with_timezone(&Utc));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn doubles_are_written_like_java() {
        assert_eq!(java_double(100.0), "100.0");
        assert_eq!(java_double(99_213_206.0), "9.9213206E7");
        assert_eq!(java_double(90_000_000.0), "9.0E7");
        assert_eq!(java_double(0.0001), "1.0E-4");
        assert_eq!(java_double(23.5), "23.5");
        assert_eq!(java_double(-1234.25), "-1234.25");
    }

    #[test]
    fn datetimes_have_two_dialects() {
        let d = Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).unwrap();
        assert_eq!(rest_datetime(&d), "2024-01-01T10:00:00.000+0000");
    }

    #[test]
    fn datetime_inputs_take_offsets_and_millis() {
        let d = Utc.with_ymd_and_hms(2024, 1, 1, 9, 0, 0).unwrap();
        assert_eq!(parse_datetime("2024-01-01T10:00:00+01:00"), Some(d));
        assert_eq!(parse_datetime("2024-01-01T09:00:00.000+0000"), Some(d));
        assert_eq!(parse_datetime("2024-01-01T09:00:00Z"), Some(d));
    }

    #[test]
    fn compound_component_suffixes() {
        assert_eq!(component_suffix("BillingCity"), "City");
        assert_eq!(component_suffix("Location__Latitude__s"), "Latitude");
        assert_eq!(component_suffix("GeocodeAccuracy"), "GeocodeAccuracy");
    }
}
