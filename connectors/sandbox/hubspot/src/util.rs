//! Small helpers shared by the modules: HubSpot's time formats and ids, plus the kit's
//! poison-tolerant locks and deterministic generator.

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};

pub use sandbox_kit::{SplitMix, lock, read, write};

pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// HubSpot's timestamp format: `2024-01-17T19:55:04.281Z`.
pub fn iso_ms(ms: i64) -> String {
    match Utc.timestamp_millis_opt(ms).single() {
        Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
        None => String::new(),
    }
}

/// Parses what HubSpot accepts for datetime values: epoch milliseconds, RFC 3339, or a bare date.
pub fn parse_time_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<i64>() {
        return Some(n);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.timestamp_millis());
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

pub fn correlation_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// A fresh opaque token with a recognisable prefix.
pub fn opaque_token(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::now_v7().simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip_through_hubspot_format() {
        let ms = 1_705_521_304_281;
        assert_eq!(iso_ms(ms), "2024-01-17T19:55:04.281Z");
        assert_eq!(parse_time_ms("2024-01-17T19:55:04.281Z"), Some(ms));
        assert_eq!(parse_time_ms("1705521304281"), Some(ms));
        assert_eq!(parse_time_ms("2024-01-17"), Some(1_705_449_600_000));
        assert_eq!(parse_time_ms("nope"), None);
    }
}
