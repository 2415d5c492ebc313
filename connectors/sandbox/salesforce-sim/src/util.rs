//! Small helpers shared by the modules: Salesforce time formats and opaque strings, plus the
//! kit's poison-tolerant locks and deterministic generator.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};

pub use sandbox_kit::{SplitMix, lock, read, write};

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Salesforce's datetime format in responses: `2026-11-23T10:15:00.000+0000`.
pub fn sf_datetime(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        None => String::new(),
    }
}

/// Parses the datetimes Salesforce accepts: `…Z`, `…+0000`, `…+00:00`, with or without
/// milliseconds. Returns epoch milliseconds.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"] {
        if let Ok(t) = DateTime::parse_from_str(s, fmt) {
            return Some(t.timestamp_millis());
        }
    }
    // A datetime without zone is read as UTC, as the REST API does.
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp_millis())
}

/// Days since the epoch for a `YYYY-MM-DD` date.
pub fn parse_date(s: &str) -> Option<i64> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis().div_euclid(86_400_000))
}

pub fn format_date(days: i64) -> String {
    match Utc.timestamp_millis_opt(days.saturating_mul(86_400_000)).single() {
        Some(t) => t.format("%Y-%m-%d").to_string(),
        None => String::new(),
    }
}

/// A fresh opaque string for tokens and cursors.
pub fn opaque(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::now_v7().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes_use_salesforce_format_and_parse_back() {
        let ms = 1_795_429_300_123;
        let s = sf_datetime(ms);
        assert_eq!(s, "2026-11-23T10:21:40.123+0000");
        assert_eq!(parse_datetime(&s), Some(ms));
        assert_eq!(parse_datetime("2026-11-23T10:21:40.123Z"), Some(ms));
        assert_eq!(parse_datetime("2026-11-23T10:21:40.123+00:00"), Some(ms));
        assert_eq!(parse_date("2026-11-23").map(format_date).as_deref(), Some("2026-11-23"));
        assert_eq!(parse_datetime("nope"), None);
    }
}
