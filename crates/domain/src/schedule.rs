//! Due dates, from offsets relative to the project start.
//!
//! Templates say explicitly which kind of day they count, so nothing is skipped
//! silently: calendar days land where they land (a weekend included), business days
//! count Monday to Friday only. Holidays are not known to handoff and are never skipped.

use std::fmt;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "unit", content = "days", rename_all = "snake_case")]
pub enum DueOffset {
    CalendarDays(u32),
    BusinessDays(u32),
}

fn is_weekend(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun)
}

impl DueOffset {
    /// The due date for a project that starts on `start`, or `None` past the end of the
    /// calendar (year 262143), which no template can reach with a u32 of days... almost.
    pub fn due_date(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            DueOffset::CalendarDays(n) => start.checked_add_days(Days::new(u64::from(n))),
            DueOffset::BusinessDays(n) => {
                // Day 0 is the start, moved to the next weekday if the project starts on
                // a weekend; each further day is the next weekday after that.
                let mut day = start;
                while is_weekend(day) {
                    day = day.succ_opt()?;
                }
                for _ in 0..n {
                    day = day.succ_opt()?;
                    while is_weekend(day) {
                        day = day.succ_opt()?;
                    }
                }
                Some(day)
            }
        }
    }

    /// A rough size in calendar days, for ordering checks that have no start date.
    pub fn approx_calendar_days(self) -> u64 {
        match self {
            DueOffset::CalendarDays(n) => u64::from(n),
            DueOffset::BusinessDays(n) => u64::from(n) * 7 / 5,
        }
    }
}

impl fmt::Display for DueOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DueOffset::CalendarDays(1) => f.write_str("start + 1 day"),
            DueOffset::CalendarDays(n) => write!(f, "start + {n} days"),
            DueOffset::BusinessDays(1) => f.write_str("start + 1 business day"),
            DueOffset::BusinessDays(n) => write!(f, "start + {n} business days"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn calendar_days_include_weekends() {
        // 2026-11-20 is a Friday.
        assert_eq!(DueOffset::CalendarDays(1).due_date(date("2026-11-20")), Some(date("2026-11-21")));
        assert_eq!(DueOffset::CalendarDays(0).due_date(date("2026-11-20")), Some(date("2026-11-20")));
    }

    #[test]
    fn business_days_skip_weekends() {
        assert_eq!(DueOffset::BusinessDays(1).due_date(date("2026-11-20")), Some(date("2026-11-23")));
        assert_eq!(DueOffset::BusinessDays(5).due_date(date("2026-11-16")), Some(date("2026-11-23")));
    }

    #[test]
    fn a_weekend_start_counts_business_days_from_monday() {
        // 2026-11-21 is a Saturday.
        assert_eq!(DueOffset::BusinessDays(0).due_date(date("2026-11-21")), Some(date("2026-11-23")));
        assert_eq!(DueOffset::BusinessDays(1).due_date(date("2026-11-21")), Some(date("2026-11-24")));
    }

    #[test]
    fn offsets_describe_their_unit() {
        assert_eq!(DueOffset::BusinessDays(3).to_string(), "start + 3 business days");
        assert_eq!(DueOffset::CalendarDays(1).to_string(), "start + 1 day");
    }
}
