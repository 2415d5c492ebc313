//! Webhook delivery to a tiny axum receiver: signatures, batching, sources and retries.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::post;
use common::spawn_with;
use sandbox_hubspot::{Config, ObjectType, RateLimits, RetryPolicy, Subscription, verify_v3};
use serde_json::{Value, json};
use tokio::sync::Notify;

/// What the receiver saw: one entry per request, plus whether its signature checked out.
#[derive(Default)]
struct Received {
    batches: Mutex<Vec<(Vec<Value>, bool)>>,
    fail_first: Mutex<u32>,
    arrived: Notify,
}

async fn receive(State(r): State<Arc<Received>>, uri: Uri, headers: HeaderMap, body: Bytes) -> StatusCode {
    let host = headers["host"].to_str().unwrap();
    let url = format!("http://{host}{uri}");
    let sig = headers["x-hubspot-signature-v3"].to_str().unwrap();
    let ts = headers["x-hubspot-request-timestamp"].to_str().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let valid = verify_v3("handoff-sandbox-secret", "POST", &url, &body, ts, sig, now).is_ok();
    let events: Vec<Value> = serde_json::from_slice(&body).unwrap();
    r.batches.lock().unwrap().push((events, valid));
    r.arrived.notify_waiters();
    let mut fail = r.fail_first.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::NO_CONTENT
}

async fn receiver(fail_first: u32) -> (String, Arc<Received>) {
    let state = Arc::new(Received {
        fail_first: Mutex::new(fail_first),
        ..Received::default()
    });
    let app = Router::new().route("/hooks", post(receive)).with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hooks?portal=2026001"), state)
}

impl Received {
    fn events(&self) -> Vec<Value> {
        self.batches.lock().unwrap().iter().flat_map(|(e, _)| e.clone()).collect()
    }

    /// Waits (up to five seconds) until `done` holds.
    async fn until(&self, done: impl Fn(&Received) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let arrived = self.arrived.notified();
            if done(self) || tokio::time::Instant::now() >= deadline {
                return;
            }
            let _ = tokio::time::timeout_at(deadline, arrived).await;
        }
    }
}

fn config(target: String, subscriptions: Vec<Subscription>) -> Config {
    Config {
        webhook_target: Some(target),
        subscriptions,
        rate_limits: RateLimits::unlimited(),
        webhook_retry: RetryPolicy {
            initial_delay: Duration::from_millis(20),
            ..RetryPolicy::default()
        },
        ..Config::for_tests()
    }
}

#[tokio::test]
async fn a_ui_edit_is_delivered_signed_with_v3_as_a_property_change() {
    let (target, rx) = receiver(0).await;
    let app = spawn_with(config(target, Subscription::defaults())).await;
    app.sandbox
        .update_record(ObjectType::Deals, 3000000009, &[("dealstage", "closedwon")])
        .unwrap();
    rx.until(|r| !r.events().is_empty()).await;
    let batches = rx.batches.lock().unwrap();
    let (events, valid) = &batches[0];
    assert!(valid, "signature did not verify");
    let e = &events[0];
    assert_eq!(e["subscriptionType"], "deal.propertyChange");
    assert_eq!(
        (e["propertyName"].as_str(), e["propertyValue"].as_str()),
        (Some("dealstage"), Some("closedwon"))
    );
    assert_eq!(
        (e["objectId"].as_u64(), e["changeSource"].as_str()),
        (Some(3000000009), Some("CRM_UI"))
    );
    assert_eq!((e["portalId"].as_u64(), e["attemptNumber"].as_u64()), (Some(2026001), Some(0)));
}

#[tokio::test]
async fn api_creations_arrive_in_batches_of_at_most_one_hundred() {
    let (target, rx) = receiver(0).await;
    let app = spawn_with(Config {
        webhook_batch_window: Duration::from_millis(300),
        ..config(target, vec![Subscription::new(1, "deal.creation", None)])
    })
    .await;
    for chunk in 0..2 {
        let inputs: Vec<Value> = (0..75)
            .map(|i| json!({"properties": {"dealname": format!("d{chunk}-{i}")}}))
            .collect();
        let (status, _) = app
            .post_json("/crm/v3/objects/deals/batch/create", &json!({"inputs": inputs}))
            .await;
        assert_eq!(status, 201);
    }
    rx.until(|r| r.events().len() >= 150).await;
    let batches = rx.batches.lock().unwrap();
    assert!(batches.iter().all(|(e, valid)| e.len() <= 100 && *valid));
    assert!(
        batches.iter().any(|(e, _)| e.len() == 100),
        "sizes: {:?}",
        batches.iter().map(|(e, _)| e.len()).collect::<Vec<_>>()
    );
    let all: Vec<&Value> = batches.iter().flat_map(|(e, _)| e).collect();
    assert_eq!(all.len(), 150);
    assert!(
        all.iter()
            .all(|e| e["subscriptionType"] == "deal.creation" && e["changeSource"] == "INTEGRATION")
    );
}

#[tokio::test]
async fn association_changes_fire_events_for_both_sides() {
    let (target, rx) = receiver(0).await;
    let subs = vec![
        Subscription::new(1, "deal.associationChange", None),
        Subscription::new(2, "contact.associationChange", None),
    ];
    let app = spawn_with(config(target, subs)).await;
    let (status, _) = app
        .put_json(
            "/crm/v4/objects/deals/3000000009/associations/contacts/1000000001",
            &json!([{"associationCategory": "USER_DEFINED", "associationTypeId": 101}]),
        )
        .await;
    assert_eq!(status, 201);
    rx.until(|r| r.events().len() >= 4).await;
    let events = rx.events();
    assert!(
        events
            .iter()
            .any(|e| e["associationType"] == "DEAL_TO_CONTACT" && e["fromObjectId"] == 3000000009u64 && e["toObjectId"] == 1000000001u64)
    );
    assert!(
        events
            .iter()
            .any(|e| e["associationType"] == "CONTACT_TO_DEAL" && e["associationRemoved"] == false)
    );
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_a_growing_attempt_number() {
    let (target, rx) = receiver(2).await;
    let app = spawn_with(config(target, vec![Subscription::new(1, "contact.creation", None)])).await;
    app.sandbox
        .create_record(ObjectType::Contacts, &[("email", "new@example.com")])
        .unwrap();
    let attempts = app
        .sandbox
        .wait_for_webhooks(Duration::from_secs(5), |a| a.iter().any(|a| a.delivered))
        .await;
    let statuses: Vec<Option<u16>> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Some(500), Some(500), Some(204)]);
    let numbers: Vec<u64> = rx.events().iter().map(|e| e["attemptNumber"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [0, 1, 2]);
    let ids: Vec<u64> = rx.events().iter().map(|e| e["eventId"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] == w[1]), "retries resend the same event");
}
