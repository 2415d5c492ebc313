//! Rate limits, fault injection and the request log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{PAT, spawn, spawn_with};
use sandbox_hubspot::{Config, Faults, RateLimits};
use serde_json::{Value, json};

fn limited(per_10s: u32, daily: u64) -> Config {
    let rate_limits = RateLimits {
        private_app_per_10s: Some(per_10s),
        oauth_per_10s: Some(per_10s),
        daily: Some(daily),
        search_per_second: Some(2),
    };
    Config {
        rate_limits,
        ..Config::for_tests()
    }
}

#[tokio::test]
async fn responses_carry_rate_limit_headers_and_the_window_ends_in_a_ten_secondly_429() {
    let app = spawn_with(limited(3, 1000)).await;
    let r = app.get("/crm/v3/objects/deals").await;
    let h = r.headers();
    assert_eq!(h["x-hubspot-ratelimit-interval-milliseconds"], "10000");
    assert_eq!(h["x-hubspot-ratelimit-max"], "3");
    assert_eq!(h["x-hubspot-ratelimit-remaining"], "2");
    assert_eq!(h["x-hubspot-ratelimit-daily"], "1000");
    assert_eq!(h["x-hubspot-ratelimit-daily-remaining"], "999");
    app.get("/crm/v3/objects/deals").await;
    app.get("/crm/v3/objects/deals").await;
    let r = app.get("/crm/v3/objects/deals").await;
    assert_eq!(r.status().as_u16(), 429);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(v["errorType"], "RATE_LIMIT");
    assert_eq!(v["status"], "error");
}

#[tokio::test]
async fn the_daily_limit_answers_with_policy_daily() {
    let app = spawn_with(limited(100, 2)).await;
    app.get("/crm/v3/objects/deals").await;
    app.get("/crm/v3/objects/deals").await;
    let r = app.get("/crm/v3/objects/deals").await;
    assert_eq!(r.status().as_u16(), 429);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["policyName"].as_str(), v["message"].as_str()),
        (Some("DAILY"), Some("You have reached your daily limit."))
    );
}

#[tokio::test]
async fn search_has_its_own_per_second_limit_and_oauth_calls_omit_daily_headers() {
    let app = spawn_with(limited(100, 1000)).await;
    let statuses: Vec<u16> = futures_statuses(&app, 3).await;
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1, "{statuses:?}");
    let (access, _) = app.oauth_tokens().await;
    let r = app
        .http
        .get(app.url("/crm/v3/objects/deals"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("x-hubspot-ratelimit-daily").is_none());
    assert!(r.headers().get("x-hubspot-ratelimit-max").is_some());
}

async fn futures_statuses(app: &common::TestApp, n: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(app.post("/crm/v3/objects/deals/search", &json!({})).await.status().as_u16());
    }
    out
}

#[tokio::test]
async fn an_injected_error_rate_fails_that_share_of_requests() {
    let app = spawn().await;
    app.sandbox.faults().set_error_rate(0.5, 503);
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(app.get("/crm/v3/objects/contacts").await.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 503).count(), 5);
    app.sandbox.faults().clear();
    assert_eq!(app.get("/crm/v3/objects/contacts").await.status().as_u16(), 200);
}

#[tokio::test]
async fn a_429_burst_and_one_shot_errors_run_out() {
    let app = spawn().await;
    app.sandbox.faults().rate_limit_burst(2);
    assert_eq!(app.get("/crm/v3/objects/deals").await.status().as_u16(), 429);
    let v: Value = app.get("/crm/v3/objects/deals").await.json().await.unwrap();
    assert_eq!(v["policyName"], "TEN_SECONDLY_ROLLING");
    app.sandbox.faults().fail_next(1, 500);
    assert_eq!(app.get("/crm/v3/objects/deals").await.status().as_u16(), 500);
    assert_eq!(app.get("/crm/v3/objects/deals").await.status().as_u16(), 200);
}

#[tokio::test]
async fn a_hanging_request_times_out_on_the_client_and_latency_is_added() {
    let app = spawn().await;
    app.sandbox.faults().hang_next(1);
    let r = app
        .http
        .get(app.url("/crm/v3/objects/deals"))
        .bearer_auth(PAT)
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(r.unwrap_err().is_timeout());
    app.sandbox.faults().set_latency(Duration::from_millis(100));
    let started = std::time::Instant::now();
    assert_eq!(app.get("/crm/v3/objects/deals").await.status().as_u16(), 200);
    assert!(started.elapsed() >= Duration::from_millis(100));
}

#[tokio::test]
async fn revoked_tokens_and_forced_expiry_get_401() {
    let app = spawn_with(Config {
        faults: Faults {
            revoked_tokens: vec!["pat-other".into()],
            ..Faults::default()
        },
        private_app_tokens: vec![PAT.into(), "pat-other".into()],
        ..Config::for_tests()
    })
    .await;
    let r = app
        .http
        .get(app.url("/crm/v3/objects/deals"))
        .bearer_auth("pat-other")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let (access, refresh) = app.oauth_tokens().await;
    app.sandbox.faults().expire_access_tokens();
    let v: Value = app
        .http
        .get(app.url("/crm/v3/objects/deals"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["category"], "EXPIRED_AUTHENTICATION");
    app.sandbox.faults().revoke_token(&refresh);
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
        ("client_id", "handoff-sandbox"),
        ("client_secret", "handoff-sandbox-secret"),
    ];
    let v: Value = app.post_form("/oauth/v1/token", &form).await;
    assert_eq!(v["status"], "BAD_REFRESH_TOKEN");
}

#[tokio::test]
async fn the_request_log_counts_calls_per_endpoint_and_per_token() {
    let app = spawn().await;
    app.get("/crm/v3/objects/deals/3000000001").await;
    app.get("/crm/v3/objects/deals/3000000002").await;
    app.post("/crm/v3/objects/deals/search", &json!({})).await;
    app.http
        .get(app.url("/crm/v3/objects/deals"))
        .bearer_auth("someone-else")
        .send()
        .await
        .unwrap();
    let log = app.sandbox.requests();
    assert_eq!(log.count("GET /crm/v3/objects/deals/{id}"), 2);
    assert_eq!(log.count("POST /crm/v3/objects/deals/search"), 1);
    assert_eq!(log.count_for_token(PAT), 3);
    assert_eq!(log.count_for_token("someone-else"), 1);
    assert_eq!(log.total(), 4);
    assert_eq!(log.entries().last().unwrap().status, 401);
}
