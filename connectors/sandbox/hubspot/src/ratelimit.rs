//! Per-token rate limits: a rolling 10-second window, a daily count and a separate
//! per-second limit for search (HubSpot's "API usage guidelines and limits").

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::config::RateLimits;
use crate::util::lock;

pub const WINDOW: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    TenSecondlyRolling,
    Daily,
    /// The search API's own limit; HubSpot's policy name for it is not documented [U].
    Secondly,
}

impl Policy {
    pub fn name(self) -> &'static str {
        match self {
            Policy::TenSecondlyRolling => "TEN_SECONDLY_ROLLING",
            Policy::Daily => "DAILY",
            Policy::Secondly => "SECONDLY",
        }
    }
}

/// What the X-HubSpot-RateLimit-* headers report after a request is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub window: Option<(u32, u32)>,
    pub daily: Option<(u64, u64)>,
}

#[derive(Debug, Default)]
struct Bucket {
    window: VecDeque<Instant>,
    search: VecDeque<Instant>,
    day: i64,
    day_count: u64,
}

#[derive(Debug)]
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request for `key`, or says which policy refuses it (refused requests do not count).
    pub fn check(&self, key: &str, oauth: bool, search: bool) -> Result<Usage, Policy> {
        let per_10s = if oauth {
            self.limits.oauth_per_10s
        } else {
            self.limits.private_app_per_10s
        };
        let mut buckets = lock(&self.buckets);
        let b = buckets.entry(key.to_string()).or_default();
        let now = Instant::now();
        let today = Utc::now().timestamp().div_euclid(86_400);
        if b.day != today {
            b.day = today;
            b.day_count = 0;
        }
        if let Some(max) = self.limits.daily
            && b.day_count >= max
        {
            return Err(Policy::Daily);
        }
        if search {
            if let Some(max) = self.limits.search_per_second {
                prune(&mut b.search, now, Duration::from_secs(1));
                if b.search.len() >= max as usize {
                    return Err(Policy::Secondly);
                }
                b.search.push_back(now);
            }
        } else if let Some(max) = per_10s {
            prune(&mut b.window, now, WINDOW);
            if b.window.len() >= max as usize {
                return Err(Policy::TenSecondlyRolling);
            }
            b.window.push_back(now);
        }
        b.day_count += 1;
        let window = per_10s.map(|max| (max, max.saturating_sub(u32::try_from(b.window.len()).unwrap_or(u32::MAX))));
        // HubSpot leaves the daily headers off OAuth calls.
        let daily = if oauth {
            None
        } else {
            self.limits.daily.map(|max| (max, max.saturating_sub(b.day_count)))
        };
        Ok(Usage { window, daily })
    }
}

impl RateLimiter {
    /// Calls counted today for a key, and the daily limit.
    pub fn daily_usage(&self, key: &str) -> (u64, Option<u64>) {
        let today = Utc::now().timestamp().div_euclid(86_400);
        let used = lock(&self.buckets)
            .get(key)
            .filter(|b| b.day == today)
            .map(|b| b.day_count)
            .unwrap_or(0);
        (used, self.limits.daily)
    }
}

fn prune(q: &mut VecDeque<Instant>, now: Instant, span: Duration) {
    while q.front().is_some_and(|t| now.saturating_duration_since(*t) >= span) {
        q.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_refuses_once_full_and_search_counts_separately() {
        let r = RateLimiter::new(RateLimits {
            private_app_per_10s: Some(2),
            oauth_per_10s: None,
            daily: Some(10),
            search_per_second: Some(1),
        });
        assert_eq!(r.check("k", false, false).map(|u| u.window), Ok(Some((2, 1))));
        assert!(r.check("k", false, false).is_ok());
        assert_eq!(r.check("k", false, false), Err(Policy::TenSecondlyRolling));
        assert!(r.check("k", false, true).is_ok());
        assert_eq!(r.check("k", false, true), Err(Policy::Secondly));
        assert!(r.check("other", false, false).is_ok());
    }

    #[test]
    fn the_daily_limit_refuses_with_its_own_policy() {
        let r = RateLimiter::new(RateLimits {
            private_app_per_10s: None,
            oauth_per_10s: None,
            daily: Some(1),
            search_per_second: None,
        });
        assert!(r.check("k", false, false).is_ok());
        assert_eq!(r.check("k", false, false), Err(Policy::Daily));
    }
}
