//! Salesforce's datetime formats.
//!
//! Responses write `2013-05-07T22:07:19.000+0000` (no colon in the offset, which
//! RFC 3339 parsers refuse); SOQL literals and replication parameters take ISO 8601.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer};

/// Parses `2013-05-07T22:07:19.000+0000`, and RFC 3339 forms (`…Z`, `…+00:00`).
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|dt| dt.with_timezone(&Utc))
}

/// A SOQL datetime literal, `2024-05-01T00:00:00Z`. Fractions of a second are cut:
/// SOQL documents only whole seconds, and callers comparing with `>=` lose nothing
/// by starting up to a second early.
pub fn soql_literal(dt: DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    let s = String::deserialize(d)?;
    parse(&s).ok_or_else(|| serde::de::Error::custom(format!("not a Salesforce datetime: {s:?}")))
}

pub(crate) fn deserialize_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(None),
        Some(s) => parse(&s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("not a Salesforce datetime: {s:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn response_datetimes_without_an_offset_colon_are_parsed() {
        let dt = parse("2013-05-07T22:07:19.000+0000").unwrap();
        assert_eq!(dt, Utc.with_ymd_and_hms(2013, 5, 7, 22, 7, 19).unwrap());
        assert_eq!(parse("2013-05-07T23:07:19.000+0100").unwrap(), dt);
    }

    #[test]
    fn rfc3339_datetimes_are_parsed_and_garbage_is_not() {
        assert!(parse("2024-05-01T00:00:00Z").is_some());
        assert!(parse("2024-05-01T00:00:00.123+00:00").is_some());
        assert!(parse("yesterday").is_none());
        assert!(parse("").is_none());
    }

    #[test]
    fn soql_literals_are_utc_whole_seconds() {
        let dt = parse("2024-05-01T10:11:12.999+0000").unwrap();
        assert_eq!(soql_literal(dt), "2024-05-01T10:11:12Z");
    }
}
