//! Outbound messages: SOAP notifications to a receiver, redelivered until acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use common::{V, started};
use reqwest::Method;
use sandbox_salesforce::{Config, RetryPolicy};
use serde_json::{Value, json};
use tokio::sync::Mutex;

const ACK: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#;

/// A receiver that fails the first `fail` deliveries (500, then a false Ack) and keeps every body.
async fn receiver(fail: u32) -> (String, Arc<Mutex<Vec<String>>>) {
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::new(AtomicU32::new(0));
    let b = bodies.clone();
    let app = Router::new().route(
        "/outbound",
        post(move |body: String| {
            let (b, seen) = (b.clone(), seen.clone());
            async move {
                b.lock().await.push(body);
                match seen.fetch_add(1, Ordering::SeqCst) {
                    n if n < fail && n % 2 == 0 => (axum::http::StatusCode::INTERNAL_SERVER_ERROR, String::from("boom")),
                    n if n < fail => (axum::http::StatusCode::OK, ACK.replace("true", "false")),
                    _ => (axum::http::StatusCode::OK, ACK.to_string()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/outbound", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, bodies)
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        initial_delay: Duration::from_millis(50),
        ..RetryPolicy::default()
    }
}

#[tokio::test]
async fn closing_an_opportunity_through_the_api_sends_a_soap_notification_until_acked() {
    let (url, bodies) = receiver(2).await;
    let config = Config {
        outbound_target: Some(url),
        outbound_retry: fast_retry(),
        ..Config::for_tests()
    };
    let (sandbox, api) = started(config).await;
    let opp = sandbox.ids("Opportunity")[1].clone();
    let r = api
        .send(
            Method::PATCH,
            &format!("{V}/sobjects/Opportunity/{opp}"),
            &json!({"StageName": "Closed Won"}),
        )
        .await;
    assert_eq!(r.status(), 204);
    let attempts = sandbox
        .wait_for_outbound(Duration::from_secs(10), |a| a.iter().any(|x| x.acked))
        .await;
    assert_eq!(
        attempts.iter().map(|a| (a.attempt, a.acked)).collect::<Vec<_>>(),
        [(0, false), (1, false), (2, true)]
    );
    assert_eq!(attempts[0].status, Some(500));
    assert_eq!(attempts[0].record_ids, std::slice::from_ref(&opp));
    // Redeliveries keep the Notification id, the receiver's dedupe key.
    assert_eq!(attempts[0].notification_ids, attempts[2].notification_ids);
    let body = bodies.lock().await[2].clone();
    for part in [
        "<notifications xmlns=\"http://soap.sforce.com/2005/09/outbound\">",
        &format!("<OrganizationId>{}</OrganizationId>", sandbox.organization_id()),
        "<ActionId>04k",
        "<SessionId xsi:nil=\"true\"/>",
        "<EnterpriseUrl>",
        "<PartnerUrl>",
        "<Notification><Id>04l",
        "xsi:type=\"sf:Opportunity\"",
        &format!("<sf:Id>{opp}</sf:Id>"),
        "<sf:StageName>Closed Won</sf:StageName>",
    ] {
        assert!(body.contains(part), "{part} missing from {body}");
    }
    // Editing another field of a closed-won opportunity does not fire the rule again.
    api.send(Method::PATCH, &format!("{V}/sobjects/Opportunity/{opp}"), &json!({"NextStep": "x"}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sandbox.outbound_attempts().len(), 3);
    sandbox.shutdown().await;
}

#[tokio::test]
async fn ui_edits_and_collection_updates_fire_the_same_rule_batched_into_one_message() {
    let (url, bodies) = receiver(0).await;
    let config = Config {
        outbound_retry: fast_retry(),
        ..Config::for_tests()
    };
    let (sandbox, api) = started(config).await;
    sandbox.set_outbound_target(Some(url));
    let ids = sandbox.ids("Opportunity");
    sandbox
        .update_record("Opportunity", &ids[2], &[("StageName", Value::from("Closed Won"))])
        .unwrap();
    let a = sandbox.wait_for_outbound(Duration::from_secs(5), |a| !a.is_empty()).await;
    assert_eq!(a[0].record_ids, std::slice::from_ref(&ids[2]));
    let records: Vec<Value> = [4usize, 6, 7]
        .iter()
        .map(|i| json!({"attributes": {"type": "Opportunity"}, "id": ids[*i], "StageName": "Closed Won"}))
        .collect();
    api.send(Method::PATCH, &format!("{V}/composite/sobjects"), &json!({"records": records}))
        .await;
    let a = sandbox.wait_for_outbound(Duration::from_secs(5), |a| a.len() >= 2).await;
    assert_eq!(a[1].record_ids.len(), 3);
    assert_eq!(bodies.lock().await[1].matches("<Notification>").count(), 3);
    sandbox.shutdown().await;
}
