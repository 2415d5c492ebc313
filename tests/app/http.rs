//! The HTTP server: health endpoints and shutdown, on the real app.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::spawn_app;

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
async fn shutdown_waits_and_then_the_port_is_closed() {
    let app = spawn_app().await;
    let address = app.address;
    app.stop().await;
    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}
