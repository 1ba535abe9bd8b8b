//! Salesforce's datetimes as text: the one form this connector writes (SOQL literals, emitted
//! records and states) and the dialects it reads back (Salesforce's replies, Airbyte's states).

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};

/// A datetime as a SOQL literal and as every datetime this source emits: `2024-01-01T00:00:00.000Z`.
pub(crate) fn datetime_literal(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses a datetime in any dialect Salesforce or Airbyte writes: `2024-01-01T00:00:00.000Z`,
/// `…+0000`, `…+00:00`, without milliseconds, or a bare date (midnight UTC).
pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(t.and_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn datetime_literals_are_utc_with_milliseconds() {
        let midnight = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(datetime_literal(midnight), "2024-01-01T00:00:00.000Z");
        assert_eq!(
            parse_datetime("2024-01-01"),
            Some(midnight),
            "a bare date is midnight UTC"
        );
    }

    #[test]
    fn datetimes_parse_in_every_dialect() {
        let expected = Utc.with_ymd_and_hms(2024, 1, 1, 10, 0, 0).unwrap();
        for text in [
            "2024-01-01T10:00:00.000Z",
            "2024-01-01T10:00:00Z",
            "2024-01-01T10:00:00.000+0000",
            "2024-01-01T11:00:00.000+01:00",
            "2024-01-01T10:00:00",
        ] {
            assert_eq!(parse_datetime(text), Some(expected), "{text}");
        }
        assert_eq!(parse_datetime("soon"), None);
    }
}
