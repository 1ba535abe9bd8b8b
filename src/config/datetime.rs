//! The date forms Airbyte's `start_date` / `end_date` accept.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use super::ConfigError;

const EXPECTED: &str = "expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ";

/// Parses `YYYY-MM-DD` (midnight UTC) or `YYYY-MM-DDTHH:MM:SSZ`, the two forms of Airbyte's
/// pattern `^([0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?)$`.
pub(crate) fn parse_config_datetime(key: &str, text: &str) -> Result<DateTime<Utc>, ConfigError> {
    let fail = || ConfigError::new(key, format!("{EXPECTED}, got {text:?}"));
    match text.len() {
        10 => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|dt| dt.and_utc())
            .ok_or_else(fail),
        20 => NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ")
            .map(|dt| dt.and_utc())
            .map_err(|_| fail()),
        _ => Err(fail()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_and_datetime_forms_parse_as_utc() {
        assert_eq!(
            parse_config_datetime("start_date", "2021-07-25")
                .unwrap()
                .to_rfc3339(),
            "2021-07-25T00:00:00+00:00"
        );
        assert_eq!(
            parse_config_datetime("start_date", "2021-07-25T10:11:12Z")
                .unwrap()
                .to_rfc3339(),
            "2021-07-25T10:11:12+00:00"
        );
    }

    #[test]
    fn other_forms_are_rejected_with_the_expected_format() {
        for bad in [
            "yesterday",
            "2021-7-25",
            "2021-07-25T10:11:12",
            "2021-02-30",
            "2021-07-25 10:11:12Z",
            "2021-07-25T10:11:12+01:00",
        ] {
            assert_eq!(
                parse_config_datetime("start_date", bad)
                    .unwrap_err()
                    .to_string(),
                format!("start_date: expected YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, got {bad:?}")
            );
        }
    }
}
