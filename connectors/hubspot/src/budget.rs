//! What is left of the API budget, from the `X-HubSpot-RateLimit-*` headers every
//! response carries (<https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines>).

use std::time::SystemTime;

use reqwest::header::HeaderMap;

pub const DAILY: &str = "x-hubspot-ratelimit-daily";
pub const DAILY_REMAINING: &str = "x-hubspot-ratelimit-daily-remaining";
pub const INTERVAL_MS: &str = "x-hubspot-ratelimit-interval-milliseconds";
pub const INTERVAL_MAX: &str = "x-hubspot-ratelimit-max";
pub const INTERVAL_REMAINING: &str = "x-hubspot-ratelimit-remaining";

/// The most recent figures HubSpot reported. Fields stay `None` until a response carries
/// them: daily figures are not sent for OAuth calls, and search responses may carry none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Budget {
    pub daily_max: Option<u64>,
    pub daily_remaining: Option<u64>,
    /// The rolling window's length (10,000 ms today).
    pub interval_ms: Option<u64>,
    pub interval_max: Option<u64>,
    pub interval_remaining: Option<u64>,
    /// When the last response with any of these headers arrived.
    pub observed_at: Option<SystemTime>,
}

impl Budget {
    /// Folds one response's headers in. A response without the headers changes nothing,
    /// so an earlier reading is not wiped by a search call.
    pub fn observe(&mut self, headers: &HeaderMap, at: SystemTime) {
        let read = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
        };
        let mut seen = false;
        for (slot, name) in [
            (&mut self.daily_max, DAILY),
            (&mut self.daily_remaining, DAILY_REMAINING),
            (&mut self.interval_ms, INTERVAL_MS),
            (&mut self.interval_max, INTERVAL_MAX),
            (&mut self.interval_remaining, INTERVAL_REMAINING),
        ] {
            if let Some(value) = read(name) {
                *slot = Some(value);
                seen = true;
            }
        }
        if seen {
            self.observed_at = Some(at);
        }
    }

    /// Calls used today, when HubSpot reports the daily figures.
    pub fn daily_used(&self) -> Option<u64> {
        Some(self.daily_max?.saturating_sub(self.daily_remaining?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn rate_limit_headers_fill_the_budget() {
        let mut headers = HeaderMap::new();
        for (name, value) in [
            (DAILY, "250000"),
            (DAILY_REMAINING, "249990"),
            (INTERVAL_MS, "10000"),
            (INTERVAL_MAX, "100"),
            (INTERVAL_REMAINING, "97"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        let mut budget = Budget::default();
        budget.observe(&headers, SystemTime::UNIX_EPOCH);
        assert_eq!(budget.daily_max, Some(250_000));
        assert_eq!(budget.daily_used(), Some(10));
        assert_eq!(
            (budget.interval_ms, budget.interval_max, budget.interval_remaining),
            (Some(10_000), Some(100), Some(97))
        );
        assert_eq!(budget.observed_at, Some(SystemTime::UNIX_EPOCH));
    }

    #[test]
    fn a_response_without_headers_keeps_the_previous_reading() {
        let mut headers = HeaderMap::new();
        headers.insert(INTERVAL_REMAINING, HeaderValue::from_static("5"));
        let mut budget = Budget::default();
        budget.observe(&headers, SystemTime::UNIX_EPOCH);
        budget.observe(&HeaderMap::new(), SystemTime::now());
        assert_eq!(budget.interval_remaining, Some(5));
        assert_eq!(budget.observed_at, Some(SystemTime::UNIX_EPOCH));
        assert_eq!(budget.daily_used(), None);
    }

    #[test]
    fn unparsable_header_values_are_ignored() {
        let mut headers = HeaderMap::new();
        headers.insert(DAILY_REMAINING, HeaderValue::from_static("lots"));
        let mut budget = Budget::default();
        budget.observe(&headers, SystemTime::UNIX_EPOCH);
        assert_eq!(budget, Budget::default());
    }
}
