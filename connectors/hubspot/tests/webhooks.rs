//! Webhooks signed and delivered by the HubSpot sandbox verify and parse with this crate;
//! the signature helpers agree with the sandbox's independent implementation.
// Helpers outside #[test] functions may panic too: this is test code.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, SystemTime};

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, Method};
use common::*;
use crm_hubspot::webhook::{self, SignatureVersion, Verifier};
use sandbox_hubspot::{Config, DEFAULT_CLIENT_SECRET, ObjectType};
use tokio::sync::mpsc;

type Received = (Method, String, HeaderMap, Bytes);

/// A plain receiver that records what arrives and answers 204.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel::<Received>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route(
            "/hooks/hubspot",
            axum::routing::post(
                |State(tx): State<mpsc::UnboundedSender<Received>>,
                 method: Method,
                 OriginalUri(uri): OriginalUri,
                 headers: HeaderMap,
                 body: Bytes| async move {
                    let _ = tx.send((method, uri.to_string(), headers, body));
                    axum::http::StatusCode::NO_CONTENT
                },
            ),
        )
        .with_state(tx);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, rx)
}

#[tokio::test]
async fn a_webhook_delivered_by_the_sandbox_verifies_and_parses() {
    let (base, mut received) = receiver().await;
    let target = format!("{base}/hooks/hubspot?connection=main");
    let sb = sandbox_with(Config {
        webhook_target: Some(target),
        ..Config::for_tests()
    })
    .await;
    let deal: u64 = NORTHWIND_CORE.parse().unwrap();
    sb.update_record(ObjectType::Deals, deal, &[("dealstage", "contractsent")]).unwrap();
    let (method, uri, headers, body) = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .unwrap()
        .unwrap();

    let verifier = Verifier::new(DEFAULT_CLIENT_SECRET.to_owned().into());
    let full_uri = format!("{base}{uri}");
    assert_eq!(
        verifier
            .verify(method.as_str(), &full_uri, &headers, &body, SystemTime::now())
            .unwrap(),
        SignatureVersion::V3
    );
    let legacy = Verifier::new(DEFAULT_CLIENT_SECRET.to_owned().into()).accept_legacy(true);
    let mut v1_only = headers.clone();
    v1_only.remove(webhook::SIGNATURE_V3_HEADER);
    assert_eq!(
        legacy
            .verify(method.as_str(), &full_uri, &v1_only, &body, SystemTime::now())
            .unwrap(),
        SignatureVersion::V1
    );

    let events = webhook::parse_batch(&body).unwrap();
    let change = events
        .iter()
        .find(|e| e.property_name.as_deref() == Some("dealstage"))
        .expect("a dealstage change");
    assert_eq!(change.record_id(), Some(deal));
    assert_eq!(change.object_type(), "deal");
    assert_eq!(change.property_value.as_deref(), Some("contractsent"));
    let other = Verifier::new("not-the-secret".to_owned().into());
    assert!(
        other
            .verify(method.as_str(), &full_uri, &headers, &body, SystemTime::now())
            .is_err()
    );
    sb.shutdown().await;
}

#[test]
fn signatures_agree_with_the_sandboxs_independent_signer() {
    let body = br#"[{"eventId":1,"objectId":2}]"#;
    for uri in [
        "https://example.com/hooks",
        "https://example.com/hooks/a%3Ab?x=1&y=%20",
        "http://127.0.0.1:9/w?c=%2Fd%40e",
    ] {
        let ts = "1767600000000";
        assert_eq!(
            webhook::sign_v3("s3", "POST", uri, body, ts),
            sandbox_hubspot::signature_v3("s3", "POST", uri, body, ts),
            "{uri}"
        );
        assert_eq!(
            webhook::sign_v2("s3", "POST", uri, body),
            sandbox_hubspot::signature_v2("s3", "POST", uri, body),
            "{uri}"
        );
        assert_eq!(webhook::decode_uri(uri), sandbox_hubspot::decode_uri(uri), "{uri}");
    }
    assert_eq!(webhook::sign_v1("s3", body), sandbox_hubspot::signature_v1("s3", body));
}
