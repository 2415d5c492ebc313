//! The HTTP server: health endpoints and shutdown, on the real app.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_answers_while_the_process_runs() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["status"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_ready_when_the_database_answers() {
    let app = spawn_app().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["database"], "ok");
    app.stop().await;
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_gone_but_healthz_stays_up() {
    let app = spawn_app().await;
    app.store().close().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "service unavailable", "no internals leak: {body}");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let app = spawn_app().await;
    assert_eq!(app.get("/nope").await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_hsts_when_the_base_url_is_https() {
    let app = spawn_app_with(|c| c.server.base_url = "https://handoff.example.com".parse().unwrap()).await;
    // Health, the portal (a page, a redirect, its 404), the API (a 401) and a webhook (a 404).
    let answers = [
        app.get("/healthz").await,
        app.get("/sign-in").await,
        app.get("/projects").await,
        app.get("/nope").await,
        app.get("/api/v1/projects/x").await,
        app.client
            .post(format!("{}/webhooks/hubspot/nope", app.base_url))
            .send()
            .await
            .unwrap(),
    ];
    for res in answers {
        let hsts = res
            .headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(
            hsts.as_deref(),
            Some("max-age=31536000; includeSubDomains"),
            "{} {}",
            res.url(),
            res.status()
        );
    }
    app.stop().await;
}

#[tokio::test]
async fn no_response_carries_hsts_when_the_base_url_is_http() {
    let app = spawn_app().await;
    for path in ["/healthz", "/sign-in", "/projects", "/nope", "/api/v1/projects/x"] {
        let res = app.get(path).await;
        assert!(res.headers().get("strict-transport-security").is_none(), "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn shutdown_waits_and_then_the_port_is_closed() {
    let app = spawn_app().await;
    let address = app.address;
    app.stop().await;
    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}
