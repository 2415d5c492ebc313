//! API usage as Salesforce reports it in the `Sforce-Limit-Info` header, and the
//! `/limits` resource.

use std::collections::BTreeMap;

use serde::Deserialize;

/// The response header carrying the org's rolling 24-hour API usage.
pub const LIMIT_INFO_HEADER: &str = "Sforce-Limit-Info";

/// The org's API usage at the time of the last response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiUsage {
    /// Calls made in the rolling 24-hour window.
    pub used: u64,
    /// The org's allocation for that window.
    pub max: u64,
}

impl ApiUsage {
    /// Calls left before Salesforce answers `REQUEST_LIMIT_EXCEEDED`.
    pub fn remaining(&self) -> u64 {
        self.max.saturating_sub(self.used)
    }

    /// The share of the allocation used, 0.0 to 1.0 (or more once exceeded).
    pub fn fraction_used(&self) -> f64 {
        if self.max == 0 {
            return 1.0;
        }
        self.used as f64 / self.max as f64
    }
}

/// Everything one `Sforce-Limit-Info` header said.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LimitInfo {
    pub api_usage: Option<ApiUsage>,
    /// `per-app-api-usage=17/250(appName=sample-app)`: the connected app's own share.
    pub per_app: Option<(ApiUsage, String)>,
}

/// Parses `api-usage=18/5000; per-app-api-usage=17/250(appName=x); api-bursts=1/750`.
/// Unknown or malformed entries are skipped: the header is advisory, never a reason to
/// fail a call.
pub fn parse_limit_info(header: &str) -> LimitInfo {
    let mut info = LimitInfo::default();
    for entry in header.split(';') {
        let Some((key, value)) = entry.trim().split_once('=') else {
            continue;
        };
        match key.trim() {
            "api-usage" => info.api_usage = parse_fraction(value),
            "per-app-api-usage" => {
                let (fraction, app) = match value.split_once('(') {
                    Some((fraction, rest)) => (fraction, rest.trim_end_matches(')')),
                    None => (value, ""),
                };
                let app = app.strip_prefix("appName=").unwrap_or(app).to_owned();
                info.per_app = parse_fraction(fraction).map(|usage| (usage, app));
            }
            _ => {}
        }
    }
    info
}

fn parse_fraction(value: &str) -> Option<ApiUsage> {
    let (used, max) = value.trim().split_once('/')?;
    Some(ApiUsage {
        used: used.trim().parse().ok()?,
        max: max.trim().parse().ok()?,
    })
}

/// One entry of `GET /limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Limit {
    #[serde(rename = "Max")]
    pub max: i64,
    #[serde(rename = "Remaining")]
    pub remaining: i64,
}

/// `GET /limits`: every top-level limit by name (`DailyApiRequests`, …). Nested
/// per-app breakdowns are left out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limits(pub BTreeMap<String, Limit>);

impl Limits {
    pub(crate) fn from_json(value: &serde_json::Value) -> Self {
        let entries = value
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, v)| Some((name.clone(), Limit::deserialize(v).ok()?)));
        Self(entries.collect())
    }

    pub fn get(&self, name: &str) -> Option<Limit> {
        self.0.get(name).copied()
    }

    /// `DailyApiRequests` as an [`ApiUsage`].
    pub fn daily_api_requests(&self) -> Option<ApiUsage> {
        let limit = self.get("DailyApiRequests")?;
        let max = u64::try_from(limit.max).ok()?;
        let remaining = u64::try_from(limit.remaining).unwrap_or(0);
        Some(ApiUsage {
            used: max.saturating_sub(remaining),
            max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_api_usage_header_is_parsed() {
        let info = parse_limit_info("api-usage=18/5000");
        assert_eq!(info.api_usage, Some(ApiUsage { used: 18, max: 5000 }));
        assert_eq!(info.api_usage.unwrap().remaining(), 4982);
        assert_eq!(info.per_app, None);
    }

    #[test]
    fn per_app_usage_and_bursts_are_understood_or_skipped() {
        let info = parse_limit_info("api-usage=25/5000; per-app-api-usage=17/250(appName=sample-app)");
        assert_eq!(info.api_usage, Some(ApiUsage { used: 25, max: 5000 }));
        assert_eq!(info.per_app, Some((ApiUsage { used: 17, max: 250 }, "sample-app".to_owned())));
        let newer = parse_limit_info("api-usage=10018/100000; api-bursts=1/750");
        assert_eq!(newer.api_usage, Some(ApiUsage { used: 10018, max: 100000 }));
    }

    #[test]
    fn malformed_headers_yield_nothing_rather_than_failing() {
        for header in [
            "",
            "api-usage",
            "api-usage=",
            "api-usage=a/b",
            "api-usage=5",
            "api-usage=-1/10",
            ";;;=",
            "x=1/2",
        ] {
            assert_eq!(parse_limit_info(header).api_usage, None, "{header}");
        }
    }

    #[test]
    fn usage_past_the_allocation_has_nothing_remaining() {
        let usage = ApiUsage { used: 5001, max: 5000 };
        assert_eq!(usage.remaining(), 0);
        assert!(usage.fraction_used() > 1.0);
    }

    #[test]
    fn the_limits_resource_keeps_entries_with_max_and_remaining() {
        let json = serde_json::json!({
            "DailyApiRequests": {"Max": 15000, "Remaining": 14998, "Ant Migration Tool": {"Max": 0, "Remaining": 0}},
            "DataStorageMB": {"Max": 5, "Remaining": 5},
            "Odd": "not a limit"
        });
        let limits = Limits::from_json(&json);
        assert_eq!(limits.get("DataStorageMB"), Some(Limit { max: 5, remaining: 5 }));
        assert_eq!(limits.daily_api_requests(), Some(ApiUsage { used: 2, max: 15000 }));
        assert!(limits.get("Odd").is_none());
    }
}
