//! Webhook intake: verified, committed, then acknowledged; refused requests store nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::{TestApp, spawn_app_with};
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings, SalesforceAuth, SalesforceSettings};
use secrecy::SecretString;

const HUBSPOT_SECRET: &str = "handoff-sandbox-secret";
const PATH_SECRET: &str = "9f2c1e7a-path-secret";

/// Record ids with valid checksums, as Salesforce issues them.
fn sf_id(id15: &str) -> String {
    crm_salesforce::id::to_18(id15).unwrap()
}

fn org_id() -> String {
    sf_id("00D000000000001")
}

fn connections() -> Vec<ConnectionConfig> {
    vec![
        ConnectionConfig {
            name: "hubspot-main".into(),
            poll_interval: Duration::from_secs(300),
            crm: CrmSettings::Hubspot(HubspotSettings {
                base_url: "http://127.0.0.1:9".parse().unwrap(),
                client_id: None,
                auth: HubspotAuth::PrivateApp {
                    token: SecretString::from("pat-sandbox-handoff"),
                },
                client_secret: Some(SecretString::from(HUBSPOT_SECRET)),
                portal_id: Some(4242),
                accept_legacy_signatures: false,
            }),
        },
        ConnectionConfig {
            name: "sf".into(),
            poll_interval: Duration::from_secs(300),
            crm: CrmSettings::Salesforce(SalesforceSettings {
                login_url: "http://127.0.0.1:9".parse().unwrap(),
                api_version: "67.0".into(),
                auth: SalesforceAuth::ClientCredentials {
                    client_id: "handoff-sandbox".into(),
                    client_secret: SecretString::from("handoff-sandbox-secret"),
                },
                organization_id: org_id(),
                webhook_secret: SecretString::from(PATH_SECRET),
            }),
        },
    ]
}

async fn app() -> TestApp {
    spawn_app_with(|c| c.connections = connections()).await
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()
}

fn hubspot_events(ids: std::ops::Range<u64>) -> String {
    let events: Vec<_> = ids
        .map(|i| {
            serde_json::json!({
                "eventId": 1000 + i, "subscriptionId": 77, "portalId": 4242, "appId": 9, "occurredAt": 1_764_000_000_000u64 + i,
                "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": 5000 + i,
                "changeSource": "CRM_UI", "propertyName": "dealstage", "propertyValue": "closedwon"
            })
        })
        .collect();
    serde_json::to_string(&events).unwrap()
}

/// Posts a HubSpot batch signed as HubSpot would, with the timestamp given.
async fn post_hubspot(app: &TestApp, connection: &str, body: &str, timestamp_ms: u128, secret: &str) -> reqwest::Response {
    let url = format!("{}/webhooks/hubspot/{connection}", app.base_url);
    let ts = timestamp_ms.to_string();
    let signature = crm_hubspot::webhook::sign_v3(secret, "POST", &url, body.as_bytes(), &ts);
    app.client
        .post(&url)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", signature)
        .header("x-hubspot-request-timestamp", ts)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

async fn stored(app: &TestApp, connection: &str) -> usize {
    app.store().inbound_events_for(connection).await.unwrap().len()
}

#[tokio::test]
async fn a_signed_hubspot_batch_is_stored_then_acknowledged() {
    let app = app().await;
    let res = post_hubspot(&app, "hubspot-main", &hubspot_events(0..100), now_ms(), HUBSPOT_SECRET).await;
    assert_eq!(res.status(), 204);
    let events = app.store().inbound_events_for("hubspot-main").await.unwrap();
    assert_eq!(events.len(), 100);
    assert_eq!(events[0].object_type, "deal");
    assert_eq!(events[0].event_type, "deal.propertyChange");
    assert_eq!(events[0].external_id, "5000");
    assert_eq!(events[0].status, "pending");
}

#[tokio::test]
async fn a_redelivered_hubspot_batch_is_stored_once() {
    let app = app().await;
    let body = hubspot_events(0..10);
    assert_eq!(
        post_hubspot(&app, "hubspot-main", &body, now_ms(), HUBSPOT_SECRET).await.status(),
        204
    );
    // HubSpot's retry: same events, a later attempt number and a new signature.
    let retry = body.replace("\"attemptNumber\":0", "\"attemptNumber\":1");
    assert_eq!(
        post_hubspot(&app, "hubspot-main", &retry, now_ms(), HUBSPOT_SECRET).await.status(),
        204
    );
    assert_eq!(stored(&app, "hubspot-main").await, 10);
}

#[tokio::test]
async fn a_bad_signature_is_401_and_stores_nothing() {
    let app = app().await;
    let res = post_hubspot(&app, "hubspot-main", &hubspot_events(0..3), now_ms(), "not-the-secret").await;
    assert_eq!(res.status(), 401);
    assert_eq!(stored(&app, "hubspot-main").await, 0);
}

#[tokio::test]
async fn stale_and_future_timestamps_are_401() {
    let app = app().await;
    let stale = now_ms() - 6 * 60 * 1000;
    assert_eq!(
        post_hubspot(&app, "hubspot-main", &hubspot_events(0..1), stale, HUBSPOT_SECRET)
            .await
            .status(),
        401
    );
    let future = now_ms() + 10 * 60 * 1000;
    assert_eq!(
        post_hubspot(&app, "hubspot-main", &hubspot_events(0..1), future, HUBSPOT_SECRET)
            .await
            .status(),
        401
    );
    assert_eq!(stored(&app, "hubspot-main").await, 0);
}

#[tokio::test]
async fn a_timestamp_within_the_clock_skew_is_accepted_and_a_signed_plus_sign_is_401() {
    let app = app().await;
    // A sender whose clock runs 5 s ahead of ours: within the documented allowance.
    let ahead = now_ms() + 5_000;
    assert_eq!(
        post_hubspot(&app, "hubspot-main", &hubspot_events(0..1), ahead, HUBSPOT_SECRET)
            .await
            .status(),
        204
    );
    // A leading `+` is another spelling of a number: refused even when the signature
    // covers it as sent.
    let url = format!("{}/webhooks/hubspot/hubspot-main", app.base_url);
    let body = hubspot_events(1..2);
    let ts = format!("+{}", now_ms());
    let signature = crm_hubspot::webhook::sign_v3(HUBSPOT_SECRET, "POST", &url, body.as_bytes(), &ts);
    let res = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", signature)
        .header("x-hubspot-request-timestamp", ts)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert_eq!(stored(&app, "hubspot-main").await, 1);
}

#[tokio::test]
async fn a_missing_signature_is_401() {
    let app = app().await;
    let res = app
        .client
        .post(format!("{}/webhooks/hubspot/hubspot-main", app.base_url))
        .body(hubspot_events(0..1))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_malformed_but_signed_body_is_400_and_stores_nothing() {
    let app = app().await;
    for body in ["{not json", "{\"eventId\": 1}", "[{\"eventId\": \"x\"}]"] {
        let res = post_hubspot(&app, "hubspot-main", body, now_ms(), HUBSPOT_SECRET).await;
        assert_eq!(res.status(), 400, "{body}");
    }
    assert_eq!(stored(&app, "hubspot-main").await, 0);
}

#[tokio::test]
async fn events_for_another_hubspot_account_are_refused() {
    let app = app().await;
    let body = hubspot_events(0..2).replace("\"portalId\":4242", "\"portalId\":1");
    assert_eq!(
        post_hubspot(&app, "hubspot-main", &body, now_ms(), HUBSPOT_SECRET).await.status(),
        401
    );
    assert_eq!(stored(&app, "hubspot-main").await, 0);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let app = app().await;
    let body = format!("[{}]", " ".repeat(1024 * 1024 + 1));
    let res = post_hubspot(&app, "hubspot-main", &body, now_ms(), HUBSPOT_SECRET).await;
    assert_eq!(res.status(), 413);
    assert_json_error(res).await;
    assert_eq!(stored(&app, "hubspot-main").await, 0);
    // The same for an Outbound Message.
    let res = post_salesforce(&app, "sf", PATH_SECRET, format!("<a>{}</a>", " ".repeat(1024 * 1024 + 1))).await;
    assert_eq!(res.status(), 413);
    assert_json_error(res).await;
    assert_eq!(stored(&app, "sf").await, 0);
}

/// Every refusal is `{"error": "…"}` as JSON, whoever made it (a handler or axum).
async fn assert_json_error(res: reqwest::Response) {
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    let text = res.text().await.unwrap();
    assert!(content_type.starts_with("application/json"), "{content_type}: {text}");
    let body: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body.as_object().unwrap().len(), 1, "{text}");
    assert!(!body["error"].as_str().unwrap().is_empty(), "{text}");
}

#[tokio::test]
async fn a_webhook_sent_with_the_wrong_method_is_405_in_the_json_shape() {
    let app = app().await;
    let res = app.get("/webhooks/hubspot/hubspot-main").await;
    assert_eq!(res.status(), 405);
    assert_json_error(res).await;
}

#[tokio::test]
async fn an_unknown_connection_is_404() {
    let app = app().await;
    assert_eq!(
        post_hubspot(&app, "nope", &hubspot_events(0..1), now_ms(), HUBSPOT_SECRET)
            .await
            .status(),
        404
    );
    // A Salesforce connection's name under the HubSpot path is unknown too.
    assert_eq!(
        post_hubspot(&app, "sf", &hubspot_events(0..1), now_ms(), HUBSPOT_SECRET)
            .await
            .status(),
        404
    );
}

fn outbound_message(org: &str, notification_ids: &[&str]) -> String {
    let notifications: Vec<_> = notification_ids
        .iter()
        .map(|id| (*id, "006000000000001", "2026-11-23T10:15:00.000Z"))
        .collect();
    outbound_message_of(org, &notifications)
}

/// An Outbound Message of (notification id, opportunity id, SystemModstamp) notifications.
fn outbound_message_of(org: &str, notifications: &[(&str, &str, &str)]) -> String {
    let action = sf_id("04k000000000001");
    let notifications: String = notifications
        .iter()
        .map(|(id, opportunity, stamp)| {
            let (id, opportunity) = (sf_id(id), sf_id(opportunity));
            format!(
                r#"<Notification><Id>{id}</Id><sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>{opportunity}</sf:Id><sf:StageName>Closed Won</sf:StageName><sf:SystemModstamp>{stamp}</sf:SystemModstamp></sObject></Notification>"#
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{org}</OrganizationId><ActionId>{action}</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/67.0/00D000000000001</EnterpriseUrl><PartnerUrl>https://example.my.salesforce.com/services/Soap/u/67.0/00D000000000001</PartnerUrl>{notifications}</notifications></soapenv:Body></soapenv:Envelope>"#
    )
}

async fn post_salesforce(app: &TestApp, connection: &str, secret: &str, body: String) -> reqwest::Response {
    app.client
        .post(format!("{}/webhooks/salesforce/{connection}/{secret}", app.base_url))
        .header("content-type", "text/xml; charset=utf-8")
        .header("soapaction", "\"\"")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_outbound_message_is_stored_then_acked() {
    let app = app().await;
    let res = post_salesforce(
        &app,
        "sf",
        PATH_SECRET,
        outbound_message(&org_id(), &["04l000000000001", "04l000000000002"]),
    )
    .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("<Ack>true</Ack>"), "{text}");
    let events = app.store().inbound_events_for("sf").await.unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[0].object_type.as_str(), events[0].external_id.as_str()),
        ("Opportunity", sf_id("006000000000001").as_str())
    );
    assert_eq!(events[0].payload.0["fields"]["StageName"], "Closed Won");
    assert!(events[0].occurred_at.is_some());
}

#[tokio::test]
async fn a_redelivered_outbound_message_is_stored_once() {
    let app = app().await;
    for _ in 0..3 {
        let res = post_salesforce(&app, "sf", PATH_SECRET, outbound_message(&org_id(), &["04l000000000001"])).await;
        assert_eq!(res.status(), 200);
    }
    assert_eq!(stored(&app, "sf").await, 1);
}

#[tokio::test]
async fn notifications_sharing_an_id_in_one_message_are_each_stored_unless_they_are_the_same_change() {
    let app = app().await;
    let body = outbound_message_of(
        &org_id(),
        &[
            ("04l000000000001", "006000000000001", "2026-11-23T10:15:00.000Z"),
            ("04l000000000001", "006000000000002", "2026-11-23T10:15:00.000Z"),
            ("04l000000000001", "006000000000001", "2026-11-23T10:16:00.000Z"),
            // An exact copy of the first: the same change, stored once.
            ("04l000000000001", "006000000000001", "2026-11-23T10:15:00.000Z"),
            ("04l000000000002", "006000000000003", "2026-11-23T10:15:00.000Z"),
        ],
    );
    for _ in 0..2 {
        let res = post_salesforce(&app, "sf", PATH_SECRET, body.clone()).await;
        assert_eq!(res.status(), 200);
        assert!(res.text().await.unwrap().contains("<Ack>true</Ack>"));
    }
    let events = app.store().inbound_events_for("sf").await.unwrap();
    let mut stored: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.external_id.clone(), e.occurred_at.unwrap().to_rfc3339()))
        .collect();
    stored.sort();
    assert_eq!(
        stored,
        [
            (sf_id("006000000000001"), "2026-11-23T10:15:00+00:00".to_owned()),
            (sf_id("006000000000001"), "2026-11-23T10:16:00+00:00".to_owned()),
            (sf_id("006000000000002"), "2026-11-23T10:15:00+00:00".to_owned()),
            (sf_id("006000000000003"), "2026-11-23T10:15:00+00:00".to_owned()),
        ]
    );
    // A notification id that occurs once keeps its plain key, as stored before.
    assert!(events.iter().any(|e| e.dedupe_key == format!("om:{}", sf_id("04l000000000002"))));
}

#[tokio::test]
async fn an_outbound_message_with_a_wrong_secret_or_org_is_401() {
    let app = app().await;
    let res = post_salesforce(&app, "sf", "guess", outbound_message(&org_id(), &["04l000000000001"])).await;
    assert_eq!(res.status(), 401);
    let res = post_salesforce(
        &app,
        "sf",
        PATH_SECRET,
        outbound_message(&sf_id("00D000000000009"), &["04l000000000001"]),
    )
    .await;
    assert_eq!(res.status(), 401);
    assert_eq!(stored(&app, "sf").await, 0);
}

#[tokio::test]
async fn a_malformed_outbound_message_is_400() {
    let app = app().await;
    for body in ["<not-xml".to_owned(), "<a/>".to_owned(), outbound_message(&org_id(), &[])] {
        assert_eq!(post_salesforce(&app, "sf", PATH_SECRET, body).await.status(), 400);
    }
    assert_eq!(stored(&app, "sf").await, 0);
}

#[tokio::test]
async fn an_unknown_salesforce_connection_is_404() {
    let app = app().await;
    let res = post_salesforce(&app, "nope", PATH_SECRET, outbound_message(&org_id(), &["04l000000000001"])).await;
    assert_eq!(res.status(), 404);
}
