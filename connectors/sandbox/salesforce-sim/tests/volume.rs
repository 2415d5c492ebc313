//! Large generated orgs load quickly and queries over them stay fast.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::started;
use sandbox_salesforce::{Config, Seed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_opportunities_load_in_seconds_and_poll_quickly() {
    let t = Instant::now();
    let config = Config {
        seed: Seed::generate(100_000, 42),
        daily_api_limit: None,
        ..Config::for_tests()
    };
    let (sandbox, api) = started(config).await;
    let load = t.elapsed();
    println!("loaded 100,000 opportunities in {load:?}");
    assert_eq!(sandbox.count("Opportunity"), 100_000);
    assert!(load < Duration::from_secs(if cfg!(debug_assertions) { 60 } else { 10 }));
    let t = Instant::now();
    let body = api
        .query_ok("SELECT Id, Name, Account.Name, (SELECT Role, Contact.Email FROM OpportunityContactRoles) FROM Opportunity WHERE SystemModstamp >= 2020-01-01T00:00:00Z ORDER BY SystemModstamp, Id")
        .await;
    println!("first page of a 100,000-row poll in {:?}", t.elapsed());
    assert_eq!(body["totalSize"], 100_000);
    assert_eq!(body["records"].as_array().unwrap().len(), 2_000);
    assert!(t.elapsed() < Duration::from_secs(if cfg!(debug_assertions) { 30 } else { 3 }));
    sandbox.shutdown().await;
}
