//! The client against the Salesforce simulator (`sandbox-salesforce`): success paths,
//! 4xx, 5xx, REQUEST_LIMIT_EXCEEDED, timeouts and expired tokens, using its fault
//! injection and request log.

// Helpers outside #[test] functions set up fixtures; a panic there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod faults;
mod outbound;
mod reads;
mod writes;

use std::sync::Arc;
use std::time::Duration;

use crm_salesforce::auth::{Grant, JwtBearer, RefreshingTokenProvider};
use crm_salesforce::{Client, RetryPolicy};
use sandbox_salesforce::{Config, DEFAULT_CLIENT_ID, DEFAULT_USERNAME, Sandbox, Seed, TEST_JWT_PRIVATE_KEY_PEM};
use secrecy::SecretString;

/// A sandbox, a JWT-bearer token provider for it, and a client with fast retries.
pub struct Env {
    pub sandbox: Sandbox,
    pub tokens: Arc<RefreshingTokenProvider>,
    pub client: Client,
}

pub fn fast_retries(max_retries: u32) -> RetryPolicy {
    RetryPolicy {
        max_retries,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    }
}

pub fn jwt(sandbox: &Sandbox) -> JwtBearer {
    let key = SecretString::from(TEST_JWT_PRIVATE_KEY_PEM);
    JwtBearer::new(&sandbox.base_url(), DEFAULT_CLIENT_ID, DEFAULT_USERNAME, &key).unwrap()
}

pub async fn env_with(config: Config, timeout: Duration, retry: RetryPolicy) -> Env {
    let sandbox = sandbox_salesforce::start(config).await.unwrap();
    let tokens = Arc::new(RefreshingTokenProvider::new(Grant::JwtBearer(jwt(&sandbox))).unwrap());
    let client = Client::builder(tokens.clone()).timeout(timeout).retry(retry).build().unwrap();
    Env { sandbox, tokens, client }
}

/// The embedded fixture org.
pub async fn env() -> Env {
    env_with(Config::for_tests(), Duration::from_secs(10), fast_retries(2)).await
}

/// An org with `n` generated opportunities (each with two contact roles).
pub async fn env_with_opportunities(n: usize) -> Env {
    let config = Config {
        seed: Seed::generate(n, 7),
        ..Config::for_tests()
    };
    env_with(config, Duration::from_secs(10), fast_retries(2)).await
}
