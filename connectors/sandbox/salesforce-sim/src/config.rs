//! Sandbox configuration and its documented defaults.

use std::net::SocketAddr;
use std::time::Duration;

use sandbox_kit::serve::{backoff, loopback};
use serde::{Deserialize, Serialize};

use crate::faults::Faults;
use crate::seed::Seed;

pub const DEFAULT_PORT: u16 = 8701;
pub const DEFAULT_CLIENT_ID: &str = "handoff-sandbox";
pub const DEFAULT_CLIENT_SECRET: &str = "handoff-sandbox-secret";
pub const DEFAULT_USERNAME: &str = "admin@sandbox.example.com";
/// The organization id of the default sandbox org (15 characters plus a valid checksum).
pub const DEFAULT_ORGANIZATION_ID: &str = "00DDn0000000001MAA";
/// The public half of the sandbox-only JWT test key pair shipped in `fixtures/`.
pub const TEST_JWT_PUBLIC_KEY_PEM: &str = include_str!("../fixtures/sandbox_test_only_jwt_public_key.pem");
/// The private half: sandbox-only, never use it for a real org. Lets tests and demos sign assertions.
pub const TEST_JWT_PRIVATE_KEY_PEM: &str = include_str!("../fixtures/sandbox_test_only_jwt_private_key.pem");

#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; port 0 picks a free port (tests).
    pub listen: SocketAddr,
    pub seed: Seed,
    /// The connected app's consumer key (JWT `iss`, OAuth `client_id`).
    pub client_id: String,
    pub client_secret: String,
    /// The user every flow runs as (JWT `sub`); must be one of the seed's users or is added to it.
    pub username: String,
    /// Verifies JWT bearer assertions: SPKI `PUBLIC KEY` or PKCS#1 `RSA PUBLIC KEY` PEM.
    pub jwt_public_key_pem: String,
    /// Session lifetime; calls with an older token get 401 INVALID_SESSION_ID.
    pub access_token_ttl: Duration,
    /// API calls allowed per 24 hours (`/limits` DailyApiRequests); `None` is unlimited.
    pub daily_api_limit: Option<u64>,
    pub outbound_rules: Vec<OutboundRule>,
    /// Where outbound messages are POSTed; none means they are dropped.
    pub outbound_target: Option<String>,
    pub outbound_retry: RetryPolicy,
    /// Faults active from the start; they can be changed at runtime through `Sandbox::faults`.
    pub faults: Faults,
    pub organization_id: String,
    /// The connected app's callback URLs: `authorize` redirects only to one of these (exact
    /// match) or, with `allow_loopback_redirects`, to a loopback URL.
    pub redirect_uris: Vec<String>,
    /// Also accept any `http://127.0.0.1:*`, `http://localhost:*` or `http://[::1]:*` callback
    /// (on by default, so tests on random ports need no registration).
    pub allow_loopback_redirects: bool,
    /// Approve every `authorize` request at once as this user (username or email), without
    /// the consent page: for tests that drive the code flow with a plain HTTP client.
    pub auto_approve: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: loopback(DEFAULT_PORT),
            seed: Seed::fixture(),
            client_id: DEFAULT_CLIENT_ID.into(),
            client_secret: DEFAULT_CLIENT_SECRET.into(),
            username: DEFAULT_USERNAME.into(),
            jwt_public_key_pem: TEST_JWT_PUBLIC_KEY_PEM.into(),
            access_token_ttl: Duration::from_secs(2 * 3600),
            daily_api_limit: Some(100_000),
            outbound_rules: vec![OutboundRule::closed_won()],
            outbound_target: None,
            outbound_retry: RetryPolicy::default(),
            faults: Faults::default(),
            organization_id: DEFAULT_ORGANIZATION_ID.into(),
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

/// When an outbound-message rule fires, as a workflow rule's evaluation criteria.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// On create, or on an edit that makes the criteria true when they were false before.
    BecomesTrue,
    /// On create and on every edit while the criteria hold.
    EveryEdit,
}

/// A workflow rule with an outbound-message action (SOAP API Developer Guide, "Outbound Messaging").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboundRule {
    pub name: String,
    /// `Opportunity`, `Contact`, …
    pub object: String,
    /// Criteria: `field` equals `equals` (case-sensitive, as picklist values are). No field: always.
    #[serde(default)]
    pub field: Option<String>,
    #[serde(default)]
    pub equals: Option<String>,
    pub trigger: Trigger,
    /// Fields sent in each Notification's sObject (Id is always sent).
    pub fields: Vec<String>,
}

impl OutboundRule {
    /// Opportunity whose StageName becomes Closed Won → the fields handoff needs to start onboarding.
    pub fn closed_won() -> Self {
        Self {
            name: "Opportunity Closed Won".into(),
            object: "Opportunity".into(),
            field: Some("StageName".into()),
            equals: Some("Closed Won".into()),
            trigger: Trigger::BecomesTrue,
            fields: ["Name", "AccountId", "StageName", "Amount", "CloseDate", "OwnerId", "SystemModstamp"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }
}

/// Redelivery of unacknowledged outbound messages: Salesforce retries with exponential backoff,
/// at most 2 hours apart, and drops a message 24 hours after the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub initial_delay: Duration,
    pub max_delay: Duration,
    pub give_up_after: Duration,
    /// A delivery that takes longer than this counts as failed.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_secs(15),
            max_delay: Duration::from_secs(2 * 3600),
            give_up_after: Duration::from_secs(24 * 3600),
            timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Delay before retry number `n` (1-based): doubling, capped.
    pub fn delay(&self, n: u32) -> Duration {
        backoff(self.initial_delay, self.max_delay, n)
    }
}
