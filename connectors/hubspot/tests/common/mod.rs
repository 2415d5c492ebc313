//! A sandbox per test and a client pointed at it.
#![allow(dead_code, clippy::expect_used)]

use std::time::Duration;

use crm_hubspot::{ApiPaths, Client, RetryPolicy, private_app_token};
use sandbox_hubspot::{Config, DEFAULT_PRIVATE_APP_TOKEN, Sandbox};

pub const NORTHWIND_CORE: &str = "3000000001";

/// Retries that finish in milliseconds: the sandbox's `Retry-After: 1` is capped by `max_delay`.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        rate_limited: 3,
        transient: 2,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(20),
    }
}

pub async fn sandbox() -> Sandbox {
    sandbox_with(Config::for_tests()).await
}

pub async fn sandbox_with(config: Config) -> Sandbox {
    sandbox_hubspot::start(config).await.expect("sandbox starts")
}

pub fn client(sandbox: &Sandbox) -> Client {
    client_with(sandbox, ApiPaths::legacy(), fast_retry())
}

pub fn client_with(sandbox: &Sandbox, paths: ApiPaths, retry: RetryPolicy) -> Client {
    Client::builder(private_app_token(DEFAULT_PRIVATE_APP_TOKEN.to_owned().into()))
        .base_url(sandbox.base_url())
        .paths(paths)
        .timeout(Duration::from_secs(5))
        .retry(retry)
        .build()
        .expect("client builds")
}
