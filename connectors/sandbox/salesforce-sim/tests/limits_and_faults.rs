//! The limit header, REQUEST_LIMIT_EXCEEDED, getUpdated/getDeleted, fault injection and the request log.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use common::{V, error_code, start, started};
use sandbox_salesforce::Config;
use serde_json::Value;

#[tokio::test]
async fn every_api_response_carries_the_limit_header_until_the_allocation_is_spent() {
    let config = Config {
        daily_api_limit: Some(3),
        ..Config::for_tests()
    };
    let (sandbox, api) = started(config).await;
    let r = api.get(&format!("{V}/limits")).await;
    assert_eq!(r.headers()["sforce-limit-info"], "api-usage=1/3");
    let limits: Value = r.json().await.unwrap();
    assert_eq!(limits["DailyApiRequests"], serde_json::json!({"Max": 3, "Remaining": 2}));
    api.get(&format!("{V}/sobjects")).await;
    api.get(&format!("{V}/sobjects")).await;
    let r = api.get(&format!("{V}/limits")).await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["sforce-limit-info"], "api-usage=3/3");
    assert_eq!(error_code(&r.json().await.unwrap()), "REQUEST_LIMIT_EXCEEDED");
    let versions = api.client.get(format!("{}/services/data/", api.base)).send().await.unwrap();
    assert!(versions.headers().get("sforce-limit-info").is_none());
    let list: Value = versions.json().await.unwrap();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|v| v["version"] == "67.0" && v["label"] == "Summer '26")
    );
    sandbox.shutdown().await;
}

fn iso(d: chrono::DateTime<Utc>) -> String {
    d.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[tokio::test]
async fn get_updated_and_get_deleted_cover_whole_minutes_within_their_windows() {
    let (sandbox, api) = start().await;
    let now = Utc::now();
    let window = |days: i64| {
        format!(
            "?start={}&end={}",
            iso(now - chrono::Duration::days(days)),
            iso(now + chrono::Duration::minutes(5))
        )
    };
    let r: Value = api
        .get(&format!("{V}/sobjects/Opportunity/updated/{}", window(29)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["ids"].as_array().unwrap().len(), sandbox.count("Opportunity"));
    let covered = r["latestDateCovered"].as_str().unwrap();
    assert!(
        covered.ends_with(":00.000+0000") && covered <= iso(now).as_str().replace('Z', ".000+0000").as_str(),
        "{covered}"
    );
    let r = api.get(&format!("{V}/sobjects/Opportunity/updated/{}", window(31))).await;
    assert_eq!(error_code(&r.json().await.unwrap()), "INVALID_REPLICATION_DATE");
    let r = api.get(&format!("{V}/sobjects/Opportunity/deleted/{}", window(16))).await;
    assert_eq!(error_code(&r.json().await.unwrap()), "INVALID_REPLICATION_DATE");
    let backwards = format!("?start={}&end={}", iso(now), iso(now - chrono::Duration::hours(1)));
    let r = api.get(&format!("{V}/sobjects/Account/deleted/{backwards}")).await;
    assert_eq!(r.status(), 400);
    let r: Value = api
        .get(&format!("{V}/sobjects/Account/deleted/{}", window(14)))
        .await
        .json()
        .await
        .unwrap();
    assert!(r["deletedRecords"].as_array().unwrap().is_empty() && r["earliestDateAvailable"].is_string());
    sandbox.shutdown().await;
}

#[tokio::test]
async fn injected_errors_limit_bursts_latency_and_hangs_affect_requests() {
    let (sandbox, api) = start().await;
    let path = format!("{V}/limits");
    sandbox.faults().fail_next(2, 503);
    assert_eq!(api.get(&path).await.status(), 503);
    let r = api.get(&path).await;
    assert_eq!(error_code(&r.json().await.unwrap()), "SERVER_UNAVAILABLE");
    sandbox.faults().limit_burst(1);
    assert_eq!(api.get(&path).await.status(), 403);
    sandbox.faults().set_error_rate(0.5, 500);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(api.get(&path).await.status().as_u16());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 500).count(), 2);
    sandbox.faults().clear();
    sandbox.faults().set_latency(Duration::from_millis(150));
    let t = std::time::Instant::now();
    assert_eq!(api.get(&path).await.status(), 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    sandbox.faults().clear();
    sandbox.faults().hang_next(1);
    let hung = api
        .client
        .get(format!("{}{path}", api.base))
        .bearer_auth(&api.token)
        .timeout(Duration::from_millis(200))
        .send()
        .await;
    assert!(hung.is_err());
    sandbox.faults().expire_access_tokens();
    assert_eq!(api.get(&path).await.status(), 401);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_request_log_counts_calls_per_endpoint_and_per_token() {
    let (sandbox, api) = start().await;
    sandbox.requests().clear();
    let id = sandbox.ids("Account")[0].clone();
    api.get(&format!("{V}/sobjects/Account/{id}")).await;
    api.get(&format!("/services/data/v59.0/sobjects/Account/{id}")).await;
    api.query("SELECT Id FROM Account").await;
    let log = sandbox.requests();
    assert_eq!(log.count("GET /services/data/{version}/sobjects/Account/{id}"), 2);
    assert_eq!(log.count("GET /services/data/{version}/query"), 1);
    assert_eq!(log.count_for_token(&api.token), 3);
    assert_eq!(log.total(), 3);
    sandbox.shutdown().await;
}
