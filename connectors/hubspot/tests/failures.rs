//! Failures against the HubSpot sandbox's fault injection: 4xx, 5xx, 429, timeouts and
//! revoked tokens.
// Helpers outside #[test] functions may panic too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use crm_hubspot::objects::NewObject;
use crm_hubspot::objects::types::DEALS;
use crm_hubspot::search::{Filter, FilterGroup, SearchRequest};
use crm_hubspot::{ApiPaths, Error, ReadOptions, RetryPolicy};
use sandbox_hubspot::{Config, DEFAULT_PRIVATE_APP_TOKEN, RateLimits};

async fn read_northwind(client: &crm_hubspot::Client) -> crm_hubspot::Result<Option<crm_hubspot::Object>> {
    client.get_object(DEALS, NORTHWIND_CORE, &ReadOptions::default()).await
}

#[tokio::test]
async fn a_validation_error_carries_hubspots_error_body() {
    let sb = sandbox().await;
    let request = SearchRequest {
        filter_groups: vec![FilterGroup {
            filters: vec![Filter::eq("no_such_property", "x")],
        }],
        ..SearchRequest::default()
    };
    let err = client(&sb).search(DEALS, &request).await.unwrap_err();
    let Error::Api { status, body } = &err else { panic!("{err:?}") };
    assert_eq!(*status, 400);
    assert_eq!(body.category.as_deref(), Some("VALIDATION_ERROR"));
    assert!(body.correlation_id.is_some());
    assert!(body.message.contains("no_such_property"), "{}", body.message);
    assert!(!err.is_transient());
    sb.shutdown().await;
}

#[tokio::test]
async fn a_server_error_on_a_read_is_retried_and_then_succeeds() {
    let sb = sandbox().await;
    let client = client(&sb);
    sb.faults().fail_next(2, 500);
    assert!(read_northwind(&client).await.unwrap().is_some());
    assert_eq!(client.calls_made(), 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn server_errors_that_outlast_the_retries_become_a_typed_error() {
    let sb = sandbox().await;
    let client = client(&sb);
    sb.faults().fail_next(10, 503);
    let err = read_northwind(&client).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Server {
                status: 503,
                attempts: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
    assert_eq!(client.calls_made(), 3, "one try and two retries");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_create_is_not_retried_after_a_server_error() {
    let sb = sandbox().await;
    let client = client(&sb);
    sb.faults().fail_next(1, 500);
    let deal = NewObject {
        properties: [("dealname".to_owned(), "Maybe twice".to_owned())].into(),
        ..NewObject::default()
    };
    let err = client.create_object(DEALS, &deal).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Server {
                status: 500,
                attempts: 1,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(client.calls_made(), 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_ten_secondly_rate_limit_is_waited_out() {
    let sb = sandbox().await;
    let client = client(&sb);
    sb.faults().rate_limit_burst(2);
    assert!(read_northwind(&client).await.unwrap().is_some());
    assert_eq!(client.calls_made(), 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_rate_limit_that_outlasts_the_retries_is_a_typed_error() {
    let sb = sandbox().await;
    let client = client(&sb);
    sb.faults().rate_limit_burst(10);
    let err = read_northwind(&client).await.unwrap_err();
    let Error::RateLimited { attempts, body } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(*attempts, 4);
    assert_eq!(body.policy_name.as_deref(), Some("TEN_SECONDLY_ROLLING"));
    assert!(err.is_transient());
    sb.shutdown().await;
}

#[tokio::test]
async fn the_retry_after_hint_is_honoured_up_to_the_longest_wait() {
    let sb = sandbox().await;
    let retry = RetryPolicy {
        max_delay: Duration::from_millis(300),
        ..fast_retry()
    };
    let client = client_with(&sb, ApiPaths::legacy(), retry);
    sb.faults().rate_limit_burst(1);
    let started = Instant::now();
    read_northwind(&client).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300), "waited {:?}", started.elapsed());
    sb.shutdown().await;
}

#[tokio::test]
async fn the_daily_limit_is_a_typed_error_and_is_not_retried() {
    let limits = RateLimits {
        daily: Some(1),
        ..RateLimits::default()
    };
    let sb = sandbox_with(Config {
        rate_limits: limits,
        ..Config::for_tests()
    })
    .await;
    let client = client(&sb);
    read_northwind(&client).await.unwrap();
    assert_eq!(client.budget().daily_remaining, Some(0));
    let err = read_northwind(&client).await.unwrap_err();
    let Error::DailyLimit(body) = &err else { panic!("{err:?}") };
    assert_eq!(body.rate_limit_policy(), Some(crm_hubspot::RateLimitPolicy::Daily));
    assert_eq!(client.calls_made(), 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn searches_are_paced_under_five_per_second() {
    let sb = sandbox().await;
    let client = client(&sb);
    let started = Instant::now();
    for _ in 0..7 {
        client
            .search(
                DEALS,
                &SearchRequest {
                    limit: 1,
                    ..SearchRequest::default()
                },
            )
            .await
            .unwrap();
    }
    assert!(started.elapsed() >= Duration::from_millis(1_200), "{:?}", started.elapsed());
    let statuses: Vec<u16> = sb.requests().entries().iter().map(|r| r.status).collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(client.calls_made(), 7, "no 429 had to be retried");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_hanging_request_times_out_with_a_typed_error() {
    let sb = sandbox().await;
    let client = crm_hubspot::Client::builder(crm_hubspot::private_app_token(DEFAULT_PRIVATE_APP_TOKEN.to_owned().into()))
        .base_url(sb.base_url())
        .timeout(Duration::from_secs(1))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    sb.faults().hang_next(1);
    let err = read_northwind(&client).await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert!(err.is_transient());
    sb.shutdown().await;
}

#[tokio::test]
async fn a_read_that_times_out_is_retried() {
    let sb = sandbox().await;
    let client = crm_hubspot::Client::builder(crm_hubspot::private_app_token(DEFAULT_PRIVATE_APP_TOKEN.to_owned().into()))
        .base_url(sb.base_url())
        .timeout(Duration::from_secs(1))
        .retry(fast_retry())
        .build()
        .unwrap();
    sb.faults().hang_next(1);
    assert!(read_northwind(&client).await.unwrap().is_some());
    assert_eq!(client.calls_made(), 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_revoked_private_app_token_needs_reauthorization() {
    let sb = sandbox().await;
    let client = client(&sb);
    sb.faults().revoke_token(DEFAULT_PRIVATE_APP_TOKEN);
    let err = read_northwind(&client).await.unwrap_err();
    assert!(err.needs_reauthorization(), "{err:?}");
    assert_eq!(client.calls_made(), 1, "a static token cannot be refreshed, so nothing is retried");
    sb.shutdown().await;
}

#[tokio::test]
async fn an_unknown_token_is_rejected_as_unauthorized() {
    let sb = sandbox().await;
    let client = crm_hubspot::Client::builder(crm_hubspot::private_app_token("pat-wrong".to_owned().into()))
        .base_url(sb.base_url())
        .build()
        .unwrap();
    let err = read_northwind(&client).await.unwrap_err();
    assert!(err.needs_reauthorization(), "{err:?}");
    sb.shutdown().await;
}
