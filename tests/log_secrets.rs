//! No secret reaches the log, at any level: a demo-like run (Outbound Messages to the
//! secret path, signed HubSpot webhooks, invitation emails over SMTP with a password,
//! the invitation sign-in page and button, portal pages with the session cookie, the
//! JSON API with a bearer token, secrets in query strings) with every target logging at
//! trace, in both of handoff's log formats, into memory; then the log is searched for
//! every secret and token used.
//!
//! The subscriber is process-wide (the server's tasks run on every runtime thread), so
//! this binary holds this one test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod mail_support;
mod portal_support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings, SalesforceAuth, SalesforceSettings};
use handoff::domain::api_token::{ApiTokenName, NewApiToken};
use handoff::domain::people::ProjectRole;
use mail_support::SmtpCapture;
use portal_support::{Setup, spawn_portal_with};
use secrecy::{ExposeSecret, SecretString};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

const OM_SECRET: &str = "om-path-secret-5c1d9e0b7a";
const OM_GUESS: &str = "om-guessed-secret-77aa1c";
const HUBSPOT_CLIENT_SECRET: &str = "hs-client-secret-0d8e6f42";
const HUBSPOT_PAT: &str = "pat-na1-secret-3b9f0c71";
const SALESFORCE_CLIENT_SECRET: &str = "sf-client-secret-9a4b2e1d";
const SMTP_USER: &str = "mailer";
const SMTP_PASSWORD: &str = "smtp-password-6e2c8d";
const QUERY_SECRET: &str = "query-secret-1f7e3a9c";
const WRONG_BEARER: &str = "wrong-bearer-secret-4d2a";

/// Everything logged, in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn sf_id(id15: &str) -> String {
    crm_salesforce::id::to_18(id15).unwrap()
}

fn outbound_message(org: &str) -> String {
    let (note, opp, action) = (sf_id("04l000000000001"), sf_id("006000000000001"), sf_id("04k000000000001"));
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{org}</OrganizationId><ActionId>{action}</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/67.0/00D000000000001</EnterpriseUrl><PartnerUrl>https://example.my.salesforce.com/services/Soap/u/67.0/00D000000000001</PartnerUrl><Notification><Id>{note}</Id><sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>{opp}</sf:Id><sf:StageName>Closed Won</sf:StageName><sf:SystemModstamp>2026-11-23T10:15:00.000Z</sf:SystemModstamp></sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_reaches_the_log_at_trace_level() {
    let log = Captured::default();
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("trace"))
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(log.clone()))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(log.clone()),
        )
        .init();

    let smtp = SmtpCapture::start().await;
    let smtp_url = format!("smtp://{SMTP_USER}:{SMTP_PASSWORD}@{}", smtp.addr());
    let org = sf_id("00D000000000001");
    let org_for_config = org.clone();
    let portal = spawn_portal_with(move |c| {
        c.smtp.url = Some(SecretString::from(smtp_url));
        c.connections = vec![
            ConnectionConfig {
                name: "salesforce".into(),
                poll_interval: Duration::from_secs(300),
                crm: CrmSettings::Salesforce(SalesforceSettings {
                    login_url: "http://127.0.0.1:9".parse().unwrap(),
                    api_version: "67.0".into(),
                    auth: SalesforceAuth::ClientCredentials {
                        client_id: "handoff".into(),
                        client_secret: SecretString::from(SALESFORCE_CLIENT_SECRET),
                    },
                    organization_id: org_for_config,
                    webhook_secret: SecretString::from(OM_SECRET),
                }),
            },
            ConnectionConfig {
                name: "hubspot".into(),
                poll_interval: Duration::from_secs(300),
                crm: CrmSettings::Hubspot(HubspotSettings {
                    base_url: "http://127.0.0.1:9".parse().unwrap(),
                    client_id: None,
                    auth: HubspotAuth::PrivateApp {
                        token: SecretString::from(HUBSPOT_PAT),
                    },
                    client_secret: Some(SecretString::from(HUBSPOT_CLIENT_SECRET)),
                    portal_id: Some(4242),
                    accept_legacy_signatures: false,
                }),
            },
        ];
    })
    .await;
    let base = portal.base().to_owned();
    let client = common::http_client();
    let master_key = common::TestDb::new().await.config().secrets.master_key.unwrap();
    let mut secrets: Vec<(String, String)> = vec![
        ("Outbound Message secret".into(), OM_SECRET.into()),
        ("guessed Outbound Message secret".into(), OM_GUESS.into()),
        ("HubSpot client secret".into(), HUBSPOT_CLIENT_SECRET.into()),
        ("HubSpot private app token".into(), HUBSPOT_PAT.into()),
        ("Salesforce client secret".into(), SALESFORCE_CLIENT_SECRET.into()),
        ("SMTP password".into(), SMTP_PASSWORD.into()),
        (
            "SMTP AUTH PLAIN payload".into(),
            base64::engine::general_purpose::STANDARD.encode(format!("\0{SMTP_USER}\0{SMTP_PASSWORD}")),
        ),
        ("secret in a query string".into(), QUERY_SECRET.into()),
        ("wrong bearer token".into(), WRONG_BEARER.into()),
        (
            "master key".into(),
            base64::engine::general_purpose::STANDARD.encode(master_key.bytes()),
        ),
    ];

    // Webhooks: an Outbound Message to the secret path, one to a guessed path, a signed
    // HubSpot batch.
    let om = |secret: &str| {
        client
            .post(format!("{base}/webhooks/salesforce/salesforce/{secret}?key={QUERY_SECRET}"))
            .header("content-type", "text/xml; charset=utf-8")
            .body(outbound_message(&org))
            .send()
    };
    assert_eq!(om(OM_SECRET).await.unwrap().status(), 200);
    assert_eq!(om(OM_GUESS).await.unwrap().status(), 401);
    let url = format!("{base}/webhooks/hubspot/hubspot");
    let body = r#"[{"eventId":1,"subscriptionId":7,"portalId":4242,"occurredAt":1764000000000,"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":5000,"propertyName":"dealstage","propertyValue":"closedwon"}]"#;
    let ts = chrono::Utc::now().timestamp_millis().to_string();
    let signature = crm_hubspot::webhook::sign_v3(HUBSPOT_CLIENT_SECRET, "POST", &url, body.as_bytes(), &ts);
    let res = client
        .post(&url)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", &signature)
        .header("x-hubspot-request-timestamp", &ts)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    // Invitations, emailed by the served job through SMTP with a password.
    let customers = [
        ("dana@acme.example", ProjectRole::CustomerAdmin),
        ("omar@acme.example", ProjectRole::CustomerMember),
    ];
    let project = portal.project(Setup::active("Acme onboarding", "Acme", &customers)).await;
    let prefix = format!("{base}/invite/");
    let emailed_links = |count: usize| {
        let (smtp, prefix, base) = (&smtp, &prefix, &base);
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let links: Vec<String> = smtp
                    .messages()
                    .iter()
                    .filter_map(|m| {
                        let body = m.raw.replace("=\r\n", "");
                        body.split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
                            .find(|w| w.starts_with(prefix.as_str()))
                            .map(|l| l.trim_start_matches(base.as_str()).to_owned())
                    })
                    .collect();
                if links.len() >= count {
                    return links;
                }
                assert!(tokio::time::Instant::now() < deadline, "the invitations were not emailed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let links = emailed_links(customers.len()).await;
    assert_eq!(smtp.messages()[0].auth_user.as_deref(), Some(SMTP_USER), "the mailer authenticated");
    for link in &links {
        secrets.push(("invitation token".into(), link.trim_start_matches("/invite/").to_owned()));
    }

    // Sign in with the first link: its page, then its button; the second link is only
    // looked at (an unused token); a mistyped one under an unknown path.
    let mut browser = portal.browser();
    assert_eq!(browser.get(&links[0]).await.status, 200);
    assert_eq!(browser.get(&links[1]).await.status, 200);
    let landed = browser.post(&links[0], &[]).await;
    assert_eq!(landed.status, 303, "{}", landed.body);
    assert_eq!(browser.get(&links[0]).await.status, 410, "a used link");
    assert_eq!(browser.get(&format!("{}/extra", links[1])).await.status, 404);
    let session = browser.session().expect("signed in").clone();
    secrets.push(("session cookie".into(), session));
    let page = browser.get(&format!("/projects/{project}")).await;
    assert_eq!(page.status, 200);
    secrets.push(("form token".into(), page.csrf()));
    browser.get(&format!("/projects/{project}?token={QUERY_SECRET}")).await;
    browser.get(&format!("/sign-in?next=/projects/{project}&code={QUERY_SECRET}")).await;
    // A fresh link asked for on the sign-in page, emailed too.
    let sent = portal.browser().post("/sign-in/link", &[("email", "omar@acme.example")]).await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let fresh = emailed_links(customers.len() + 1).await;
    let fresh = fresh.last().unwrap();
    assert!(!links.contains(fresh));
    secrets.push(("fresh invitation token".into(), fresh.trim_start_matches("/invite/").to_owned()));
    // A form without its token (refused, and logged).
    assert_eq!(browser.post("/sign-out", &[]).await.status, 403);

    // The JSON API with a bearer token, a wrong one, and one in the query.
    let new = NewApiToken::generate().unwrap();
    portal
        .app
        .store()
        .create_api_token(&ApiTokenName::parse("zapier").unwrap(), &new)
        .await
        .unwrap();
    let token = new.token.expose_secret().to_owned();
    secrets.push(("API token".into(), token.clone()));
    let api = format!("{base}/api/v1/projects/{project}");
    assert_eq!(client.get(&api).bearer_auth(&token).send().await.unwrap().status(), 200);
    let complete = format!("{api}/tasks/sign-contract/complete");
    assert_eq!(client.post(&complete).bearer_auth(&token).send().await.unwrap().status(), 200);
    assert_eq!(client.get(&api).bearer_auth(WRONG_BEARER).send().await.unwrap().status(), 401);
    let in_query = client.get(format!("{api}?access_token={token}")).send().await.unwrap();
    assert_eq!(in_query.status(), 401);

    // Let the jobs run a little (a writeback to the unreachable Salesforce, with its
    // client secret; the resolve job).
    tokio::time::sleep(Duration::from_secs(2)).await;
    portal.app.stop().await;

    let text = log.text();
    for (what, secret) in &secrets {
        assert!(!secret.is_empty(), "{what}");
        if let Some(at) = text.find(secret.as_str()) {
            let start = text[..at].char_indices().rev().nth(300).map_or(0, |(i, _)| i);
            let end = (at + secret.len() + 300).min(text.len());
            let end = (end..text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
            panic!("the {what} is in the log:\n…{}…", &text[start..end]);
        }
    }
    for route in [
        "/webhooks/salesforce/{connection}/{secret}",
        "/webhooks/hubspot/{connection}",
        "/invite/{token}",
        "/sign-in/link",
        "/projects/{id}",
        "/api/v1/projects/{id}",
        "/api/v1/projects/{id}/tasks/{key}/complete",
        "(no route)",
    ] {
        assert!(text.contains(route), "the log names the route {route}");
    }
    // Not vacuous: the log has the requests, by route, at every level.
    assert!(text.contains("TRACE") && text.contains("DEBUG"), "everything was logged");
}
