//! Search over real HTTP: filters, sorts, paging, the 10,000-result cap and ties.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{spawn, spawn_with};
use sandbox_hubspot::{Config, RateLimits, Seed};
use serde_json::{Value, json};

#[tokio::test]
async fn filter_groups_are_ored_and_filters_anded() {
    let app = spawn().await;
    let body = json!({
        "filterGroups": [
            {"filters": [{"propertyName": "dealstage", "operator": "EQ", "value": "closedwon"}, {"propertyName": "amount", "operator": "GT", "value": "30000"}]},
            {"filters": [{"propertyName": "dealname", "operator": "CONTAINS_TOKEN", "value": "tidal*"}]}
        ],
        "properties": ["dealname", "amount"],
        "limit": 50
    });
    let (status, v) = app.post_json("/crm/v3/objects/deals/search", &body).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["dealname"].as_str().unwrap())
        .collect();
    assert_eq!(v["total"], 4, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("Helix")) && names.iter().any(|n| n.starts_with("Northwind Traders — Core")));
    assert!(!names.iter().any(|n| n.starts_with("Bluefin")));
}

#[tokio::test]
async fn sorting_descending_by_amount_and_filtering_on_associations_work() {
    let app = spawn().await;
    let body = json!({"sorts": [{"propertyName": "amount", "direction": "DESCENDING"}], "properties": ["amount"], "limit": 3});
    let (_, v) = app.post_json("/crm/objects/2026-03/deals/search", &body).await;
    let amounts: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["amount"].as_str().unwrap())
        .collect();
    assert_eq!(amounts, ["125000", "48000", "36000"]);
    assert_eq!(v["paging"]["next"]["after"], "3");
    let nora = "1000000001";
    let body = json!({"filterGroups": [{"filters": [{"propertyName": "associations.contact", "operator": "EQ", "value": nora}]}]});
    let (_, v) = app.post_json("/crm/v3/objects/deals/search", &body).await;
    assert_eq!(v["total"], 2);
}

#[tokio::test]
async fn search_limits_are_enforced_with_validation_errors() {
    let app = spawn().await;
    let (status, v) = app.post_json("/crm/v3/objects/deals/search", &json!({"limit": 201})).await;
    assert_eq!((status, v["category"].as_str()), (400, Some("VALIDATION_ERROR")));
    let filter = json!({"propertyName": "amount", "operator": "GT", "value": "1"});
    let group = json!({"filters": vec![filter.clone(); 7]});
    let (status, _) = app
        .post_json("/crm/v3/objects/deals/search", &json!({"filterGroups": [group]}))
        .await;
    assert_eq!(status, 400);
    let (status, _) = app
        .post_json(
            "/crm/v3/objects/deals/search",
            &json!({"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": "1"}]}]}),
        )
        .await;
    assert_eq!(status, 400);
    let sorts = json!([{"propertyName": "amount"}, {"propertyName": "dealname"}]);
    let (status, _) = app.post_json("/crm/v3/objects/deals/search", &json!({"sorts": sorts})).await;
    assert_eq!(status, 400);
    let (status, _) = app
        .post_json("/crm/v3/objects/deals/search", &json!({"query": "x".repeat(3_001)}))
        .await;
    assert_eq!(status, 400);
}

async fn page_ids(app: &common::TestApp, cursor: &str, after: usize) -> (u16, Value) {
    let body = json!({
        "filterGroups": [{"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": cursor}]}],
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        "properties": ["hs_lastmodifieddate"],
        "limit": 200,
        "after": after.to_string(),
    });
    app.post_json("/crm/v3/objects/deals/search", &body).await
}

#[tokio::test]
async fn paging_stops_at_ten_thousand_results_even_when_all_tie_on_the_sort_key() {
    let seed = Seed::generate(12_000, 7).with_shared_modified_date(12_000);
    let app = spawn_with(Config {
        seed,
        rate_limits: RateLimits::unlimited(),
        ..Config::for_tests()
    })
    .await;
    let (_, first) = page_ids(&app, "0", 0).await;
    assert_eq!(first["total"], 12_000);
    // Ties on the sort key are broken by id, so pages neither overlap nor skip.
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let (status, v) = page_ids(&app, "0", after).await;
        assert_eq!(status, 200);
        seen.extend(
            v["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_str().unwrap().parse::<u64>().unwrap()),
        );
        match v["paging"]["next"]["after"].as_str() {
            Some(a) if a.parse::<usize>().unwrap() < 10_000 => after = a.parse().unwrap(),
            _ => break,
        }
    }
    assert_eq!(seen.len(), 10_000);
    assert!(seen.windows(2).all(|w| w[0] < w[1]));
    let (status, v) = page_ids(&app, "0", 10_000).await;
    assert_eq!((status, v["category"].as_str()), (400, Some("VALIDATION_ERROR")));
    // The way past the cap: restart from the tie and page on the id.
    let last = *seen.last().unwrap();
    let body = json!({
        "filterGroups": [{"filters": [{"propertyName": "hs_object_id", "operator": "GT", "value": last.to_string()}]}],
        "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
        "limit": 200,
    });
    let (_, rest) = app.post_json("/crm/v3/objects/deals/search", &body).await;
    assert_eq!(rest["total"], 2_000);
}
