//! ISO 8601 durations (`P30D`, `PT10M`, `P1M`, `P1Y2M3DT4H5M6S`, `P2W`), as Airbyte's
//! `stream_slice_step` and `lookback_window` use them.

use chrono::{DateTime, Months, TimeDelta, Utc};

use super::ConfigError;

/// A calendar-aware duration: months (and years) are kept apart from the exact part because
/// a month has no fixed length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsoDuration {
    /// Whole months (a year is 12).
    pub months: u32,
    /// Weeks, days, hours, minutes and seconds.
    pub exact: TimeDelta,
}

impl IsoDuration {
    /// Parses the text form; `key` names the config key in the error.
    pub fn parse(key: &str, text: &str) -> Result<Self, ConfigError> {
        let fail = |why: &str| {
            ConfigError::new(
                key,
                format!("expected an ISO 8601 duration such as PT12H, P7D, P1M or P1Y{why}, got {text:?}"),
            )
        };
        let rest = text.strip_prefix('P').ok_or_else(|| fail(""))?;
        if rest.is_empty() || rest == "T" {
            return Err(fail(""));
        }
        let mut months: u64 = 0;
        let mut seconds: f64 = 0.0;
        let mut in_time = false;
        let mut time_units = 0;
        let mut number = String::new();
        for c in rest.chars() {
            match c {
                '0'..='9' | '.' | ',' => number.push(if c == ',' { '.' } else { c }),
                'T' if !in_time && number.is_empty() => in_time = true,
                unit => {
                    let value: f64 = number.parse().map_err(|_| fail(""))?;
                    number.clear();
                    let whole = || {
                        if value.fract() == 0.0 {
                            Ok(value as u64)
                        } else {
                            Err(fail(" (years and months must be whole)"))
                        }
                    };
                    match (in_time, unit) {
                        (false, 'Y') => months += whole()? * 12,
                        (false, 'M') => months += whole()?,
                        (false, 'W') => seconds += value * 7.0 * 86_400.0,
                        (false, 'D') => seconds += value * 86_400.0,
                        (true, 'H') => seconds += value * 3_600.0,
                        (true, 'M') => seconds += value * 60.0,
                        (true, 'S') => seconds += value,
                        _ => return Err(fail("")),
                    }
                    if in_time {
                        time_units += 1;
                    }
                }
            }
        }
        if !number.is_empty() || (in_time && time_units == 0) {
            return Err(fail(""));
        }
        let months = u32::try_from(months).map_err(|_| fail(" (too long)"))?;
        let millis = (seconds * 1000.0).round();
        if !millis.is_finite() || millis > 1e15 {
            return Err(fail(" (too long)"));
        }
        Ok(IsoDuration {
            months,
            exact: TimeDelta::milliseconds(millis as i64),
        })
    }

    /// `time + self`; `None` past the end of chrono's calendar.
    pub fn add_to(&self, time: DateTime<Utc>) -> Option<DateTime<Utc>> {
        time.checked_add_months(Months::new(self.months))?
            .checked_add_signed(self.exact)
    }

    /// `time - self`; `None` before the start of chrono's calendar.
    pub fn subtract_from(&self, time: DateTime<Utc>) -> Option<DateTime<Utc>> {
        time.checked_sub_months(Months::new(self.months))?
            .checked_sub_signed(self.exact)
    }

    /// An exact duration (no months).
    pub fn exact(delta: TimeDelta) -> IsoDuration {
        IsoDuration {
            months: 0,
            exact: delta,
        }
    }

    /// Whether it is zero or negative (no whole window fits in it).
    pub fn is_empty(&self) -> bool {
        self.months == 0 && self.exact <= TimeDelta::zero()
    }

    /// A fixed-length approximation (a month counts 30 days), for comparisons and limits.
    pub fn approximate(&self) -> TimeDelta {
        TimeDelta::days(30 * i64::from(self.months)) + self.exact
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn airbyte_examples_parse() {
        let d = |s| IsoDuration::parse("k", s).unwrap();
        assert_eq!(d("P30D").exact, TimeDelta::days(30));
        assert_eq!(d("PT10M").exact, TimeDelta::minutes(10));
        assert_eq!(d("PT12H").exact, TimeDelta::hours(12));
        assert_eq!(d("P7D").exact, TimeDelta::days(7));
        assert_eq!(d("P2W").exact, TimeDelta::days(14));
        assert_eq!(d("P1M").months, 1);
        assert_eq!(d("P1Y").months, 12);
        assert_eq!(d("PT0S").exact, TimeDelta::zero());
        assert_eq!(d("PT1.5S").exact, TimeDelta::milliseconds(1500));
        let full = d("P1Y2M3DT4H5M6S");
        assert_eq!(full.months, 14);
        assert_eq!(
            full.exact,
            TimeDelta::days(3)
                + TimeDelta::hours(4)
                + TimeDelta::minutes(5)
                + TimeDelta::seconds(6)
        );
    }

    #[test]
    fn months_follow_the_calendar() {
        let jan31 = Utc.with_ymd_and_hms(2024, 1, 31, 0, 0, 0).unwrap();
        let one_month = IsoDuration::parse("k", "P1M").unwrap();
        assert_eq!(
            one_month.add_to(jan31).unwrap(),
            Utc.with_ymd_and_hms(2024, 2, 29, 0, 0, 0).unwrap()
        );
    }

    #[test]
    fn malformed_durations_name_the_key_and_the_form() {
        for bad in [
            "30 days", "P", "PT", "30D", "P1H", "PT1D", "P1.5M", "P1DT", "-P1D",
        ] {
            assert_eq!(
                IsoDuration::parse("stream_slice_step", bad)
                    .unwrap_err()
                    .key,
                "stream_slice_step",
                "{bad}"
            );
        }
        assert_eq!(
            IsoDuration::parse("lookback_window", "10 minutes").unwrap_err().to_string(),
            "lookback_window: expected an ISO 8601 duration such as PT12H, P7D, P1M or P1Y, got \"10 minutes\""
        );
    }
}
