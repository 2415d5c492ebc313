//! Volume: 100,000 generated deals load quickly and incremental search pages stay cheap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::spawn_with;
use sandbox_hubspot::{Config, ObjectType, RateLimits, Seed};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hundred_thousand_deals_generate_load_and_search_in_seconds() {
    let started = Instant::now();
    let seed = Seed::generate(100_000, 42);
    let generated = started.elapsed();
    let app = spawn_with(Config {
        seed,
        rate_limits: RateLimits::unlimited(),
        ..Config::for_tests()
    })
    .await;
    let loaded = started.elapsed();
    assert_eq!(app.sandbox.count(ObjectType::Deals), 100_000);
    let search_started = Instant::now();
    let body = json!({
        "filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "2026-01-06T00:00:00Z"}]}],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "limit": 200,
        "after": "9800",
    });
    let (status, v) = app.post_json("/crm/v3/objects/deals/search", &body).await;
    let searched = search_started.elapsed();
    assert_eq!(status, 200);
    assert!(v["total"].as_u64().unwrap() > 10_000);
    println!("generate {generated:?}, generate+load {loaded:?}, one search page over 100k deals {searched:?}");
    // Generous bounds: debug builds on a busy 2-core machine; release is several times faster.
    assert!(loaded < Duration::from_secs(60), "{loaded:?}");
    assert!(searched < Duration::from_secs(5), "{searched:?}");
}
