//! Incremental polling against the HubSpot sandbox, including more than 10,000 deals
//! sharing one last-modified timestamp.
// Helpers outside #[test] functions may panic too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::*;
use crm_hubspot::objects::types::DEALS;
use crm_hubspot::{Client, Cursor, Poller, private_app_token};
use sandbox_hubspot::{Config, DEFAULT_PRIVATE_APP_TOKEN, ObjectType, RateLimits, Sandbox, Seed};

async fn generated(deals: usize, sharing_one_timestamp: usize) -> Sandbox {
    let seed = Seed::generate(deals, 11).with_shared_modified_date(sharing_one_timestamp);
    sandbox_with(Config {
        seed,
        rate_limits: RateLimits::unlimited(),
        ..Config::for_tests()
    })
    .await
}

/// Unpaced, for big polls against an unlimited sandbox.
fn fast_client(sb: &Sandbox) -> Client {
    Client::builder(private_app_token(DEFAULT_PRIVATE_APP_TOKEN.to_owned().into()))
        .base_url(sb.base_url())
        .search_interval(Duration::ZERO)
        .retry(fast_retry())
        .build()
        .unwrap()
}

/// Runs a poller to the end; returns the ids in order, the final cursor and the pages.
async fn drain(client: &Client, poller: &mut Poller) -> (Vec<u64>, Cursor, usize) {
    let (mut ids, mut pages) = (Vec::new(), 0);
    let mut last_modified = i64::MIN;
    while let Some(page) = poller.next_page(client).await.unwrap() {
        pages += 1;
        assert!(pages < 10_000, "the poll does not end");
        for r in &page.records {
            assert!(r.modified_ms >= last_modified, "records come in modification order");
            last_modified = r.modified_ms;
            ids.push(r.id);
        }
    }
    (ids, poller.cursor(), pages)
}

#[tokio::test]
async fn a_backfill_returns_every_deal_once_in_about_records_per_page_calls() {
    let sb = generated(450, 0).await;
    let client = fast_client(&sb);
    let mut poller = Poller::new(DEALS, Cursor::beginning())
        .properties(["dealname", "dealstage"])
        .page_size(100);
    let (ids, _, _) = drain(&client, &mut poller).await;
    let unique: HashSet<u64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicates within one poll");
    assert_eq!(unique.len(), sb.count(ObjectType::Deals));
    assert!(client.calls_made() <= 10, "{} calls for {} deals", client.calls_made(), ids.len());
    eprintln!("backfill of {} deals: {} calls", ids.len(), client.calls_made());
    sb.shutdown().await;
}

#[tokio::test]
async fn a_poll_with_nothing_changed_costs_one_call() {
    let sb = sandbox().await;
    let client = client(&sb);
    let (_, cursor, _) = drain(&client, &mut Poller::new(DEALS, Cursor::beginning())).await;
    let before = client.calls_made();
    let (ids, again, _) = drain(&client, &mut Poller::new(DEALS, cursor)).await;
    assert!(ids.is_empty(), "{ids:?}");
    assert_eq!(again, cursor);
    assert_eq!(client.calls_made() - before, 1);
    sb.shutdown().await;
}

#[tokio::test]
async fn changes_after_the_stored_cursor_are_picked_up_and_nothing_else() {
    let sb = sandbox().await;
    let client = client(&sb);
    let (_, cursor, _) = drain(&client, &mut Poller::new(DEALS, Cursor::beginning())).await;
    let id: u64 = NORTHWIND_CORE.parse().unwrap();
    sb.update_record(ObjectType::Deals, id, &[("onboarding_progress", "55")]).unwrap();
    let mut poller = Poller::new(DEALS, cursor).properties(["onboarding_progress"]);
    let page = poller.next_page(&client).await.unwrap().unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].id, id);
    assert_eq!(page.records[0].object.get("onboarding_progress"), Some("55"));
    assert!(page.cursor.modified_ms > cursor.modified_ms);
    sb.shutdown().await;
}

#[tokio::test]
async fn more_than_ten_thousand_deals_sharing_one_timestamp_are_polled_without_looping_or_stalling() {
    let sb = generated(10_400, 10_250).await;
    let client = fast_client(&sb);
    let mut poller = Poller::new(DEALS, Cursor::beginning()).page_size(200);
    let (ids, _, pages) = drain(&client, &mut poller).await;
    let unique: HashSet<u64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicates within one poll");
    assert_eq!(unique.len(), 10_400);
    // 52 pages of new records, plus at most one re-read page at each switch of mode.
    assert!(client.calls_made() <= 60, "{} calls, {pages} pages", client.calls_made());
    eprintln!(
        "10,400 deals (10,250 sharing one timestamp): {} calls, {pages} pages",
        client.calls_made()
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_cursor_stored_in_the_middle_of_a_shared_timestamp_resumes_without_gaps() {
    let sb = generated(1_200, 1_000).await;
    let client = fast_client(&sb);
    let mut first = Poller::new(DEALS, Cursor::beginning()).page_size(100);
    let mut seen = HashSet::new();
    let mut stored = Cursor::beginning();
    for _ in 0..4 {
        let page = first.next_page(&client).await.unwrap().unwrap();
        seen.extend(page.records.iter().map(|r| r.id));
        stored = page.cursor;
    }
    assert!(
        stored.after_id.is_some(),
        "four pages in, the poll walks the shared timestamp by id: {stored:?}"
    );
    // A new process resumes from the stored cursor.
    let (rest, _, _) = drain(&client, &mut Poller::new(DEALS, stored).page_size(100)).await;
    seen.extend(rest);
    assert_eq!(seen.len(), 1_200);
    sb.shutdown().await;
}

#[tokio::test]
async fn contacts_are_polled_on_their_own_modified_date() {
    let sb = sandbox().await;
    let client = client(&sb);
    let (ids, _, _) = drain(&client, &mut Poller::new("contacts", Cursor::beginning())).await;
    assert_eq!(ids.len(), sb.count(ObjectType::Contacts));
    sb.shutdown().await;
}
