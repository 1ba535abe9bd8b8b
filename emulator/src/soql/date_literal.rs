//! SOQL's relative date literals (`TODAY`, `LAST_N_DAYS:30`, `THIS_MONTH`…): each names a range
//! of whole days relative to the day of a clock the caller passes in (UTC; weeks start on
//! Sunday, as in the default en_US locale).
//!
//! Reference: SOQL and SOSL Reference, "Date Formats and Date Literals".

use chrono::{Datelike, Days, Months, NaiveDate};

/// The calendar unit a relative date literal counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateUnit {
    Day,
    Week,
    Month,
    Year,
}

/// A range of days `[start, end)` counted in `unit`s from the unit holding today: `TODAY` is
/// `Day 0..1`, `LAST_MONTH` `Month -1..0`, `LAST_N_DAYS:7` `Day -7..1` (it includes today).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RelativeDate {
    pub unit: DateUnit,
    pub start: i64,
    pub end: i64,
}

impl RelativeDate {
    /// The literal named `word` (upper case); `n` is the number after `:` for the `_N_`
    /// forms. `None` for an unknown word.
    pub(crate) fn named(word: &str, n: Option<i64>) -> Option<RelativeDate> {
        use DateUnit::*;
        let fixed = |unit, start, end| Some(RelativeDate { unit, start, end });
        match (word, n) {
            ("YESTERDAY", None) => fixed(Day, -1, 0),
            ("TODAY", None) => fixed(Day, 0, 1),
            ("TOMORROW", None) => fixed(Day, 1, 2),
            ("LAST_WEEK", None) => fixed(Week, -1, 0),
            ("THIS_WEEK", None) => fixed(Week, 0, 1),
            ("NEXT_WEEK", None) => fixed(Week, 1, 2),
            ("LAST_MONTH", None) => fixed(Month, -1, 0),
            ("THIS_MONTH", None) => fixed(Month, 0, 1),
            ("NEXT_MONTH", None) => fixed(Month, 1, 2),
            ("LAST_90_DAYS", None) => fixed(Day, -90, 1),
            ("NEXT_90_DAYS", None) => fixed(Day, 1, 91),
            ("LAST_YEAR", None) => fixed(Year, -1, 0),
            ("THIS_YEAR", None) => fixed(Year, 0, 1),
            ("NEXT_YEAR", None) => fixed(Year, 1, 2),
            ("LAST_N_DAYS", Some(n)) => fixed(Day, -n, 1),
            ("NEXT_N_DAYS", Some(n)) => fixed(Day, 1, n + 1),
            ("N_DAYS_AGO", Some(n)) => fixed(Day, -n, 1 - n),
            ("LAST_N_WEEKS", Some(n)) => fixed(Week, -n, 0),
            ("NEXT_N_WEEKS", Some(n)) => fixed(Week, 1, n + 1),
            ("N_WEEKS_AGO", Some(n)) => fixed(Week, -n, 1 - n),
            ("LAST_N_MONTHS", Some(n)) => fixed(Month, -n, 0),
            ("NEXT_N_MONTHS", Some(n)) => fixed(Month, 1, n + 1),
            ("N_MONTHS_AGO", Some(n)) => fixed(Month, -n, 1 - n),
            ("LAST_N_YEARS", Some(n)) => fixed(Year, -n, 0),
            ("NEXT_N_YEARS", Some(n)) => fixed(Year, 1, n + 1),
            ("N_YEARS_AGO", Some(n)) => fixed(Year, -n, 1 - n),
            _ => None,
        }
    }

    /// True for the literals written with `:n`.
    pub(crate) fn takes_number(word: &str) -> bool {
        (word.starts_with("LAST_N_") || word.starts_with("NEXT_N_") || word.starts_with("N_"))
            && Self::named(word, Some(1)).is_some()
    }

    /// The first day in the range and the first day after it; `None` past the calendar's end.
    pub(crate) fn days(&self, today: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let origin = match self.unit {
            DateUnit::Day => today,
            DateUnit::Week => today
                .checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_sunday())))?,
            DateUnit::Month => today.with_day(1)?,
            DateUnit::Year => NaiveDate::from_ymd_opt(today.year(), 1, 1)?,
        };
        Some((
            self.shift(origin, self.start)?,
            self.shift(origin, self.end)?,
        ))
    }

    fn shift(&self, origin: NaiveDate, count: i64) -> Option<NaiveDate> {
        let magnitude = count.unsigned_abs();
        match self.unit {
            DateUnit::Day | DateUnit::Week => {
                let days = Days::new(if self.unit == DateUnit::Week {
                    magnitude.checked_mul(7)?
                } else {
                    magnitude
                });
                if count >= 0 {
                    origin.checked_add_days(days)
                } else {
                    origin.checked_sub_days(days)
                }
            }
            DateUnit::Month | DateUnit::Year => {
                let months = if self.unit == DateUnit::Year {
                    magnitude.checked_mul(12)?
                } else {
                    magnitude
                };
                let months = Months::new(u32::try_from(months).ok()?);
                if count >= 0 {
                    origin.checked_add_months(months)
                } else {
                    origin.checked_sub_months(months)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn days(word: &str, n: Option<i64>) -> (NaiveDate, NaiveDate) {
        // Saturday 15 June 2024.
        RelativeDate::named(word, n)
            .unwrap()
            .days(date(2024, 6, 15))
            .unwrap()
    }

    #[test]
    fn day_literals() {
        assert_eq!(days("TODAY", None), (date(2024, 6, 15), date(2024, 6, 16)));
        assert_eq!(
            days("YESTERDAY", None),
            (date(2024, 6, 14), date(2024, 6, 15))
        );
        assert_eq!(
            days("TOMORROW", None),
            (date(2024, 6, 16), date(2024, 6, 17))
        );
        assert_eq!(
            days("LAST_N_DAYS", Some(1)),
            (date(2024, 6, 14), date(2024, 6, 16))
        );
        assert_eq!(
            days("NEXT_N_DAYS", Some(2)),
            (date(2024, 6, 16), date(2024, 6, 18))
        );
        assert_eq!(
            days("N_DAYS_AGO", Some(3)),
            (date(2024, 6, 12), date(2024, 6, 13))
        );
        assert_eq!(days("LAST_90_DAYS", None).0, date(2024, 3, 17));
    }

    #[test]
    fn weeks_start_on_sunday() {
        assert_eq!(
            days("THIS_WEEK", None),
            (date(2024, 6, 9), date(2024, 6, 16))
        );
        assert_eq!(
            days("LAST_WEEK", None),
            (date(2024, 6, 2), date(2024, 6, 9))
        );
        assert_eq!(
            days("NEXT_N_WEEKS", Some(2)),
            (date(2024, 6, 16), date(2024, 6, 30))
        );
    }

    #[test]
    fn months_and_years_follow_the_calendar() {
        assert_eq!(
            days("THIS_MONTH", None),
            (date(2024, 6, 1), date(2024, 7, 1))
        );
        assert_eq!(
            days("LAST_MONTH", None),
            (date(2024, 5, 1), date(2024, 6, 1))
        );
        assert_eq!(
            days("LAST_N_MONTHS", Some(3)),
            (date(2024, 3, 1), date(2024, 6, 1))
        );
        assert_eq!(
            days("THIS_YEAR", None),
            (date(2024, 1, 1), date(2025, 1, 1))
        );
        assert_eq!(
            days("N_YEARS_AGO", Some(1)),
            (date(2023, 1, 1), date(2024, 1, 1))
        );
    }

    #[test]
    fn numbered_forms_are_recognised() {
        assert!(RelativeDate::takes_number("LAST_N_DAYS"));
        assert!(RelativeDate::takes_number("N_MONTHS_AGO"));
        assert!(!RelativeDate::takes_number("TODAY"));
        assert!(!RelativeDate::takes_number("NAME"));
        assert_eq!(RelativeDate::named("LAST_N_DAYS", None), None);
    }
}
