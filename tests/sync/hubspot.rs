//! Sync against the HubSpot sandbox (connectors/sandbox/hubspot), a second, independent
//! implementation of HubSpot's wire protocol: polling with contacts and labels, API
//! economy, webhooks through intake to changes, and the same change by both paths.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::{TestApp, spawn_app_with};
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings};
use handoff::domain::change::{ChangeSource, ObjectKind};
use handoff::sync::poll::poll_once;
use handoff::sync::process::resolve_inbound;
use sandbox_hubspot as sandbox;
use secrecy::SecretString;

const CONNECTION: &str = "hubspot-main";

async fn start() -> (sandbox::Sandbox, TestApp) {
    start_with(sandbox::Config::for_tests()).await
}

async fn start_with(config: sandbox::Config) -> (sandbox::Sandbox, TestApp) {
    // The sandbox builds an HTTP client for webhook delivery; in this workspace reqwest
    // has no default TLS provider, so it must be installed first.
    crm_http::install_crypto_provider();
    let sb = sandbox::start(config).await.unwrap();
    let portal = sandbox::Config::for_tests().portal_id;
    let base = sb.base_url();
    let app = spawn_app_with(move |c| {
        c.connections = vec![ConnectionConfig {
            name: CONNECTION.into(),
            poll_interval: Duration::from_secs(300),
            crm: CrmSettings::Hubspot(HubspotSettings {
                base_url: base.parse().unwrap(),
                client_id: None,
                auth: HubspotAuth::PrivateApp {
                    token: SecretString::from("pat-sandbox-handoff"),
                },
                client_secret: Some(SecretString::from("handoff-sandbox-secret")),
                portal_id: Some(portal),
                accept_legacy_signatures: false,
            }),
        }]
    })
    .await;
    sb.set_webhook_target(Some(format!("{}/webhooks/hubspot/{CONNECTION}", app.base_url)));
    (sb, app)
}

#[tokio::test]
async fn a_first_poll_reads_every_deal_with_its_contacts_and_labels() {
    let (sb, app) = start().await;
    let crm = app.state.crms.get(CONNECTION).unwrap().clone();
    let report = poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {})
        .await
        .unwrap();
    let deals = sb.count(sandbox::ObjectType::Deals);
    assert!(deals > 0);
    assert_eq!(report.records, deals);
    assert_eq!(report.new_changes, deals);
    assert!(
        report.calls <= 3 * report.pages as u64,
        "search + associations + contacts per page: {report:?}"
    );

    let changes = app.store().pending_record_changes(1000).await.unwrap();
    let with_labels = changes
        .iter()
        .find(|c| c.change.0.contacts.iter().any(|p| !p.roles.is_empty()))
        .expect("a deal with labelled contacts");
    let person = with_labels.change.0.contacts.iter().find(|p| !p.roles.is_empty()).unwrap();
    assert!(person.email.as_deref().is_some_and(|e| e.contains('@')), "{person:?}");
    assert!(with_labels.change.0.fields.contains_key("dealstage"));
}

#[tokio::test]
async fn a_poll_with_nothing_changed_costs_one_call_and_stores_nothing() {
    let (_sb, app) = start().await;
    let crm = app.state.crms.get(CONNECTION).unwrap().clone();
    poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {})
        .await
        .unwrap();
    let again = poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(again.new_changes, 0, "{again:?}");
    assert_eq!(again.calls, 1, "{again:?}");
}

#[tokio::test]
async fn a_webhook_and_a_poll_of_the_same_edit_make_one_change() {
    let (sb, app) = start().await;
    let crm = app.state.crms.get(CONNECTION).unwrap().clone();
    poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {})
        .await
        .unwrap();
    let before = app.store().count_record_changes(CONNECTION).await.unwrap();

    let deal = sb.ids(sandbox::ObjectType::Deals)[0];
    sb.update_record(sandbox::ObjectType::Deals, deal, &[("amount", "123456")]).unwrap();
    let delivered = sb
        .wait_for_webhooks(Duration::from_secs(10), |attempts| attempts.iter().any(|a| a.status == Some(204)))
        .await;
    assert!(delivered.iter().any(|a| a.status == Some(204)), "{:?}", sb.webhook_attempts());

    let resolved = resolve_inbound(app.store(), &app.state.crms, 100).await.unwrap();
    assert_eq!((resolved.failed, resolved.new_changes), (0, 1), "{resolved:?}");
    let polled = poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        polled.new_changes, 0,
        "the poll saw the edit the webhook already brought: {polled:?}"
    );
    assert_eq!(app.store().count_record_changes(CONNECTION).await.unwrap(), before + 1);

    let latest = app
        .store()
        .pending_record_changes(1000)
        .await
        .unwrap()
        .into_iter()
        .last()
        .unwrap()
        .change
        .0;
    assert_eq!((latest.external_id, latest.source), (deal.to_string(), ChangeSource::Webhook));
    assert_eq!(latest.fields["amount"], "123456");
}

async fn poll(app: &TestApp) -> Result<handoff::sync::poll::PollReport, handoff::sync::poll::SyncError> {
    let crm = app.state.crms.get(CONNECTION).unwrap().clone();
    poll_once(app.store(), crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {}).await
}

#[tokio::test]
async fn a_poll_rides_out_a_burst_of_429s() {
    let (sb, app) = start().await;
    sb.faults().rate_limit_burst(4);
    let report = poll(&app).await.unwrap();
    assert_eq!(report.records, sb.count(sandbox::ObjectType::Deals));
    // Every call reached the sandbox, the four refused ones included: they were retried.
    assert_eq!(sb.requests().total(), report.calls);
    assert!(report.calls >= 4 + 3, "{report:?}");
}

#[tokio::test]
async fn an_outage_fails_the_poll_without_moving_the_cursor_and_the_next_poll_catches_up() {
    let (sb, app) = start().await;
    sb.faults().set_error_rate(1.0, 503);
    let err = poll(&app).await.unwrap_err();
    assert!(err.to_string().contains("unavailable"), "{err}");
    assert_eq!(app.store().poll_cursor(CONNECTION, "deal").await.unwrap(), None);
    assert_eq!(app.store().count_record_changes(CONNECTION).await.unwrap(), 0);

    sb.faults().clear();
    let report = poll(&app).await.unwrap();
    assert_eq!(report.new_changes, sb.count(sandbox::ObjectType::Deals));
}

#[tokio::test]
async fn more_than_ten_thousand_deals_with_one_timestamp_neither_loop_nor_stall() {
    let config = sandbox::Config {
        seed: sandbox::Seed::generate(10_500, 7).with_shared_modified_date(10_200),
        rate_limits: sandbox::RateLimits::unlimited(),
        ..sandbox::Config::for_tests()
    };
    let (sb, app) = start_with(config).await;
    let deals = sb.count(sandbox::ObjectType::Deals);
    assert!(deals > 10_000);
    let report = poll(&app).await.unwrap();
    assert_eq!(report.records, deals, "{report:?}");
    assert_eq!(report.new_changes, deals);
    // Per 200 deals: one search; for contacts, two association reads and the contact
    // reads their distinct contacts need (100 per call); for companies, two association
    // reads and the company reads.
    let per_hundred = report.calls as f64 * 100.0 / deals as f64;
    assert!(per_hundred < 7.0, "{per_hundred:.2} calls per 100 deals: {report:?}");
    assert_eq!(poll(&app).await.unwrap().new_changes, 0, "a second poll finds nothing new");
}

#[tokio::test]
async fn the_poll_job_records_health_failure_and_recovery() {
    use handoff::jobs::{PollJob, poll_connection};
    let (sb, app) = start().await;
    let job = PollJob {
        store: app.store().clone(),
        crm: app.state.crms.get(CONNECTION).unwrap().clone(),
        health: app.state.health.clone(),
        holder: "test".into(),
    };

    poll_connection(&job).await.unwrap().expect("the lease was free");
    let (_, h) = app
        .store()
        .connection_health()
        .await
        .unwrap()
        .into_iter()
        .find(|(c, _)| c == CONNECTION)
        .unwrap();
    assert!(h.last_poll_at.is_some() && !h.failing);
    assert!(h.budget.limit.is_some(), "the API budget from the rate-limit headers: {h:?}");

    sb.faults().set_error_rate(1.0, 500);
    assert!(poll_connection(&job).await.is_err());
    let (_, h) = app
        .store()
        .connection_health()
        .await
        .unwrap()
        .into_iter()
        .find(|(c, _)| c == CONNECTION)
        .unwrap();
    assert!(h.failing && h.last_error.as_deref().is_some_and(|e| e.contains("500")), "{h:?}");

    sb.faults().clear();
    poll_connection(&job).await.unwrap();
    let (_, h) = app
        .store()
        .connection_health()
        .await
        .unwrap()
        .into_iter()
        .find(|(c, _)| c == CONNECTION)
        .unwrap();
    assert!(!h.failing, "recovered: {h:?}");
}

/// Posts one signed event to the app as HubSpot would.
async fn post_event(app: &TestApp, deal: u64, event_id: u64, occurred_at: i64, value: &str) -> u16 {
    let url = format!("{}/webhooks/hubspot/{CONNECTION}", app.base_url);
    let body = serde_json::json!([{
        "eventId": event_id, "subscriptionId": 2, "portalId": sandbox::Config::for_tests().portal_id, "appId": 1,
        "occurredAt": occurred_at, "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": deal,
        "propertyName": "amount", "propertyValue": value
    }])
    .to_string();
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let signature = crm_hubspot::webhook::sign_v3(sandbox::DEFAULT_CLIENT_SECRET, "POST", &url, body.as_bytes(), &ts);
    let res = app
        .client
        .post(&url)
        .header("x-hubspot-signature-v3", signature)
        .header("x-hubspot-request-timestamp", ts)
        .body(body)
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

#[tokio::test]
async fn out_of_order_and_repeated_events_resolve_to_the_records_current_state_once() {
    let (sb, app) = start().await;
    let deal = sb.ids(sandbox::ObjectType::Deals)[1];
    sb.set_webhook_target(None);
    sb.update_record(sandbox::ObjectType::Deals, deal, &[("amount", "100")]).unwrap();
    sb.update_record(sandbox::ObjectType::Deals, deal, &[("amount", "200")]).unwrap();
    let t = chrono::Utc::now().timestamp_millis();
    // The later edit arrives first, the earlier one after it, then the later one again.
    assert_eq!(post_event(&app, deal, 2, t, "200").await, 204);
    assert_eq!(post_event(&app, deal, 1, t - 1000, "100").await, 204);
    assert_eq!(post_event(&app, deal, 2, t, "200").await, 204);
    assert_eq!(
        app.store().inbound_events_for(CONNECTION).await.unwrap().len(),
        2,
        "the repeat is stored once"
    );

    let resolved = resolve_inbound(app.store(), &app.state.crms, 100).await.unwrap();
    assert_eq!((resolved.events, resolved.new_changes), (2, 1), "{resolved:?}");
    let change = app.store().pending_record_changes(10).await.unwrap().remove(0).change.0;
    assert_eq!(change.fields["amount"], "200", "the CRM's current state, not the order of arrival");
}

#[tokio::test]
async fn a_deletion_webhook_becomes_a_deleted_change() {
    let (sb, app) = start().await;
    let deal = sb.ids(sandbox::ObjectType::Deals)[2];
    sb.archive_record(sandbox::ObjectType::Deals, deal).unwrap();
    let delivered = sb
        .wait_for_webhooks(Duration::from_secs(10), |a| a.iter().any(|a| a.status == Some(204)))
        .await;
    assert!(
        delivered.iter().any(|a| a.status == Some(204)),
        "{:?} {:?}",
        sb.webhook_attempts(),
        app.store().inbound_events_for(CONNECTION).await.unwrap()
    );
    let resolved = resolve_inbound(app.store(), &app.state.crms, 100).await.unwrap();
    assert_eq!(resolved.failed, 0, "{resolved:?}");
    let changes = app.store().pending_record_changes(10).await.unwrap();
    let deleted = changes
        .iter()
        .find(|c| c.change.0.external_id == deal.to_string())
        .expect("a change for the deleted deal");
    assert!(deleted.change.0.deleted);
}
