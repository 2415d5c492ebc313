//! Reads against the HubSpot sandbox: objects, paging, batch read, search, properties,
//! associations with labels, the budget and the call count.
// Helpers outside #[test] functions may panic too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use crm_hubspot::associations::AssociationCategory;
use crm_hubspot::objects::types::{CONTACTS, DEALS};
use crm_hubspot::search::{Filter, FilterGroup, SearchRequest, Sort};
use crm_hubspot::{ApiPaths, ReadOptions};
use sandbox_hubspot::{Config, Seed};

#[tokio::test]
async fn a_deal_is_read_with_the_properties_asked_for() {
    let sb = sandbox().await;
    let client = client(&sb);
    let deal = client
        .get_object(DEALS, NORTHWIND_CORE, &ReadOptions::properties(["dealname", "dealstage", "amount"]))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deal.id, NORTHWIND_CORE);
    assert_eq!(deal.get("dealname"), Some("Northwind Traders — Core platform"));
    assert_eq!(deal.get("dealstage"), Some("closedwon"));
    assert!(deal.updated_at.is_some());
    sb.shutdown().await;
}

#[tokio::test]
async fn a_missing_deal_reads_as_none() {
    let sb = sandbox().await;
    assert!(
        client(&sb)
            .get_object(DEALS, "3999999999", &ReadOptions::default())
            .await
            .unwrap()
            .is_none()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn listing_follows_the_after_cursor_to_the_last_page() {
    let sb = sandbox().await;
    let client = client(&sb);
    let mut after: Option<String> = None;
    let mut ids = Vec::new();
    loop {
        let page = client
            .list_objects(DEALS, &ReadOptions::properties(["dealname"]), 3, after.as_deref())
            .await
            .unwrap();
        ids.extend(page.results.iter().map(|d| d.id.clone()));
        match page.next_after() {
            Some(next) => after = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(ids.len(), sb.count(sandbox_hubspot::ObjectType::Deals));
    let all = client.list_all_objects(DEALS, &ReadOptions::default()).await.unwrap();
    assert_eq!(all.len(), ids.len());
    sb.shutdown().await;
}

#[tokio::test]
async fn the_date_versioned_paths_reach_the_same_records() {
    let sb = sandbox().await;
    let client = client_with(&sb, ApiPaths::dated("2026-03"), fast_retry());
    let deal = client.get_object(DEALS, NORTHWIND_CORE, &ReadOptions::default()).await.unwrap();
    assert!(deal.is_some());
    let contacts = client.associations(DEALS, NORTHWIND_CORE, CONTACTS).await.unwrap();
    assert_eq!(contacts.len(), 3);
    assert!(!client.properties(DEALS).await.unwrap().is_empty());
    let paths: Vec<String> = sb.requests().entries().into_iter().map(|r| r.path).collect();
    assert!(paths.iter().all(|p| p.contains("/2026-03/")), "{paths:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn batch_read_returns_found_records_and_reports_missing_ids() {
    let sb = sandbox().await;
    let ids = vec![NORTHWIND_CORE.to_owned(), "3000000002".to_owned(), "3999999999".to_owned()];
    let result = client(&sb)
        .batch_read(DEALS, &ids, &ReadOptions::properties(["dealname"]))
        .await
        .unwrap();
    assert_eq!(result.results.len(), 2);
    assert_eq!(result.errors.len(), 1, "{result:?}");
    assert!(
        result.errors[0].context.values().flatten().any(|id| id == "3999999999"),
        "{:?}",
        result.errors
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_batch_read_of_250_ids_is_sent_as_three_requests() {
    let sb = sandbox_with(Config {
        seed: Seed::generate(260, 7),
        ..Config::for_tests()
    })
    .await;
    let client = client(&sb);
    let ids: Vec<String> = sb
        .ids(sandbox_hubspot::ObjectType::Deals)
        .into_iter()
        .take(250)
        .map(|id| id.to_string())
        .collect();
    let result = client
        .batch_read(DEALS, &ids, &ReadOptions::properties(["dealname"]))
        .await
        .unwrap();
    assert_eq!(result.results.len(), 250);
    assert_eq!(client.calls_made(), 3);
    assert_eq!(sb.requests().count("POST /crm/v3/objects/deals/batch/read"), 3);
    sb.shutdown().await;
}

#[tokio::test]
async fn search_filters_sorts_and_pages_by_offset() {
    let sb = sandbox().await;
    let client = client(&sb);
    let request = SearchRequest {
        filter_groups: vec![FilterGroup {
            filters: vec![Filter::eq("dealstage", "closedwon")],
        }],
        sorts: vec![Sort::ascending("amount")],
        properties: vec!["amount".into(), "dealstage".into()],
        limit: 2,
        ..SearchRequest::default()
    };
    let first = client.search(DEALS, &request).await.unwrap();
    assert_eq!(first.total, 3);
    assert_eq!(first.results.len(), 2);
    let second = client
        .search(
            DEALS,
            &SearchRequest {
                after: first.next_after().map(str::to_owned),
                ..request
            },
        )
        .await
        .unwrap();
    assert_eq!(second.results.len(), 1);
    assert!(second.next_after().is_none());
    let amounts: Vec<f64> = first
        .results
        .iter()
        .chain(&second.results)
        .map(|d| d.get("amount").unwrap().parse().unwrap())
        .collect();
    assert!(amounts.windows(2).all(|w| w[0] <= w[1]), "{amounts:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn properties_carry_enumeration_options_and_read_only_flags() {
    let sb = sandbox().await;
    let props = client(&sb).properties(DEALS).await.unwrap();
    let status = props.iter().find(|p| p.name == "onboarding_status").unwrap();
    assert!(status.is_enumeration());
    assert!(
        status
            .options
            .iter()
            .any(|o| o.value == "kickoff_scheduled" && o.label == "Kickoff scheduled")
    );
    assert!(!status.is_read_only());
    let id = props.iter().find(|p| p.name == "hs_object_id").unwrap();
    assert!(id.is_read_only());
    sb.shutdown().await;
}

#[tokio::test]
async fn deal_contacts_come_back_in_one_batch_call_with_their_labels() {
    let sb = sandbox().await;
    let client = client(&sb);
    let ids = vec![NORTHWIND_CORE.to_owned(), "3000000003".to_owned()];
    let result = client.batch_read_associations(DEALS, CONTACTS, &ids).await.unwrap();
    assert_eq!(client.calls_made(), 1);
    let northwind = result.results.iter().find(|r| r.from.id == NORTHWIND_CORE).unwrap();
    assert_eq!(northwind.to.len(), 3);
    let labels: Vec<&str> = northwind.to.iter().flat_map(|a| a.labels()).collect();
    for label in ["Decision maker", "Technical contact", "Billing contact"] {
        assert!(labels.contains(&label), "{labels:?}");
    }
    let categories: Vec<AssociationCategory> = northwind
        .to
        .iter()
        .flat_map(|a| a.association_types.iter().map(|t| t.category))
        .collect();
    assert!(categories.contains(&AssociationCategory::HubspotDefined));
    assert!(categories.contains(&AssociationCategory::UserDefined));
    let defined = client.association_labels(DEALS, CONTACTS).await.unwrap();
    assert!(
        defined
            .iter()
            .any(|l| l.label.as_deref() == Some("Decision maker") && l.type_id == 101),
        "{defined:?}"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn every_response_feeds_the_budget_and_every_request_is_counted() {
    let sb = sandbox().await;
    let client = client(&sb);
    assert_eq!(client.budget(), crm_hubspot::Budget::default());
    client.get_object(DEALS, NORTHWIND_CORE, &ReadOptions::default()).await.unwrap();
    client.get_object(DEALS, NORTHWIND_CORE, &ReadOptions::default()).await.unwrap();
    let budget = client.budget();
    assert_eq!(budget.interval_ms, Some(10_000));
    assert_eq!(budget.interval_max, Some(190));
    assert_eq!(budget.interval_remaining, Some(188));
    assert!(budget.observed_at.is_some());
    assert_eq!(client.calls_made(), 2);
    assert_eq!(sb.requests().total(), 2);
    sb.shutdown().await;
}

#[tokio::test]
async fn daily_usage_reports_the_calls_made_today() {
    let sb = sandbox().await;
    let client = client(&sb);
    client.get_object(DEALS, NORTHWIND_CORE, &ReadOptions::default()).await.unwrap();
    let usage = client.daily_usage().await.unwrap();
    let row = usage.iter().find(|u| u.name == "private-apps-api-calls-daily").unwrap();
    assert!(row.current_usage.unwrap() >= 1, "{row:?}");
    assert!(row.usage_limit.is_some());
    assert!(row.resets_at.is_some());
    sb.shutdown().await;
}
