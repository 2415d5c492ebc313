//! Sandbox configuration and its documented defaults.

use std::net::SocketAddr;
use std::time::Duration;

use sandbox_kit::serve::{backoff, loopback};
use serde::{Deserialize, Serialize};

use crate::faults::Faults;
use crate::seed::Seed;

pub const DEFAULT_PORT: u16 = 8702;
pub const DEFAULT_CLIENT_ID: &str = "handoff-sandbox";
pub const DEFAULT_CLIENT_SECRET: &str = "handoff-sandbox-secret";
pub const DEFAULT_PRIVATE_APP_TOKEN: &str = "pat-sandbox-handoff";

#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    pub seed: Seed,
    pub client_id: String,
    /// Signs webhooks too (X-HubSpot-Signature-v3), as in HubSpot.
    pub client_secret: String,
    /// Private-app tokens that never expire.
    pub private_app_tokens: Vec<String>,
    pub access_token_ttl: Duration,
    pub rate_limits: RateLimits,
    /// Where webhooks are POSTed; none means events are dropped.
    pub webhook_target: Option<String>,
    pub subscriptions: Vec<Subscription>,
    pub webhook_retry: RetryPolicy,
    /// How long the dispatcher waits to gather events into one batch (at most 100).
    pub webhook_batch_window: Duration,
    /// Faults active from the start; they can be changed at runtime through `Sandbox::faults`.
    pub faults: Faults,
    pub portal_id: u64,
    pub app_id: u64,
    /// The app's redirect URLs: `authorize` sends the browser back only to one of these (exact
    /// match) or, with `allow_loopback_redirects`, to a loopback URL.
    pub redirect_uris: Vec<String>,
    /// Also accept any `http://127.0.0.1:*`, `http://localhost:*` or `http://[::1]:*` redirect
    /// URL (on by default, so tests on random ports need no registration).
    pub allow_loopback_redirects: bool,
    /// Approve every `authorize` request at once as this user (email or user id), without the
    /// consent page: for tests that drive the code flow with a plain HTTP client.
    pub auto_approve: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: loopback(DEFAULT_PORT),
            seed: Seed::fixture(),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            private_app_tokens: vec![DEFAULT_PRIVATE_APP_TOKEN.into()],
            access_token_ttl: Duration::from_secs(30 * 60),
            rate_limits: RateLimits::default(),
            webhook_target: None,
            subscriptions: Subscription::defaults(),
            webhook_retry: RetryPolicy::default(),
            webhook_batch_window: Duration::from_millis(50),
            faults: Faults::default(),
            portal_id: 2_026_001,
            app_id: 3_715_530,
            redirect_uris: Vec::new(),
            allow_loopback_redirects: true,
            auto_approve: None,
        }
    }
}

impl Config {
    /// Defaults on an ephemeral port of 127.0.0.1, for tests.
    pub fn for_tests() -> Self {
        Self {
            listen: loopback(0),
            ..Self::default()
        }
    }
}

/// Per-token limits (HubSpot's "API usage guidelines and limits"). `None` switches a limit off (benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateLimits {
    /// Requests per rolling 10 seconds for private-app tokens (HubSpot Professional: 190).
    pub private_app_per_10s: Option<u32>,
    /// Requests per rolling 10 seconds for an OAuth installation (HubSpot: 110).
    pub oauth_per_10s: Option<u32>,
    /// Requests per day, reset at midnight UTC (the sandbox portal's time zone).
    pub daily: Option<u64>,
    /// Search requests per second (HubSpot: 5), counted separately.
    pub search_per_second: Option<u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            private_app_per_10s: Some(190),
            oauth_per_10s: Some(110),
            daily: Some(1_000_000),
            search_per_second: Some(5),
        }
    }
}

impl RateLimits {
    pub fn unlimited() -> Self {
        Self {
            private_app_per_10s: None,
            oauth_per_10s: None,
            daily: None,
            search_per_second: None,
        }
    }
}

/// A webhook subscription, as configured in an app's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscription {
    pub id: u64,
    /// For example `deal.propertyChange`.
    pub subscription_type: String,
    /// For propertyChange: the property watched; `None` watches every property (a sandbox convenience).
    #[serde(default)]
    pub property_name: Option<String>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl Subscription {
    pub fn new(id: u64, subscription_type: &str, property_name: Option<&str>) -> Self {
        Self {
            id,
            subscription_type: subscription_type.into(),
            property_name: property_name.map(Into::into),
            active: true,
        }
    }

    pub fn defaults() -> Vec<Subscription> {
        let types = [
            "deal.creation",
            "deal.propertyChange",
            "deal.associationChange",
            "deal.deletion",
            "contact.creation",
            "contact.propertyChange",
            "contact.associationChange",
            "contact.deletion",
            "company.creation",
            "company.propertyChange",
        ];
        types
            .iter()
            .zip(1u64..)
            .map(|(t, i)| Subscription::new(2_764_000 + i, t, None))
            .collect()
    }
}

/// Retries of failed webhook deliveries: HubSpot makes at most 10, spread over 24 hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_retries: u32,
    pub initial_delay: Duration,
    pub max_delay: Duration,
    /// A delivery that takes longer than this counts as failed (HubSpot: 5 s).
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 10,
            initial_delay: Duration::from_secs(60),
            max_delay: Duration::from_secs(4 * 3600),
            timeout: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `n` (1-based): doubling, capped.
    pub fn delay(&self, n: u32) -> Duration {
        backoff(self.initial_delay, self.max_delay, n)
    }
}
