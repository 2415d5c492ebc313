//! Nothing acknowledged is lost: a `handoff serve` killed with SIGKILL right after
//! answering a webhook processes the event after a restart, exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::TestDb;
use sandbox_hubspot as sandbox;

const CONNECTION: &str = "hubspot-main";

/// A free port on 127.0.0.1 (the webhook signature covers the URL, so the server must
/// know its own address before it starts).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn serve(db: &TestDb, config: &std::path::Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_handoff"))
        .args(["--config", config.to_str().unwrap(), "serve"])
        .env("HANDOFF_DATABASE_URL", db.url())
        .env("HANDOFF_LISTEN", format!("127.0.0.1:{port}"))
        .env("HANDOFF_MASTER_KEY", "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=")
        .env(
            "HANDOFF_CONNECTION_HUBSPOT_MAIN_PRIVATE_APP_TOKEN",
            sandbox::DEFAULT_PRIVATE_APP_TOKEN,
        )
        .env("HANDOFF_CONNECTION_HUBSPOT_MAIN_CLIENT_SECRET", sandbox::DEFAULT_CLIENT_SECRET)
        .env("HANDOFF_LOG", "info")
        .env("HANDOFF_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("handoff exited before serving").unwrap();
        if line.contains("handoff is serving") {
            break;
        }
    }
    // Keep draining its log so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            eprintln!("handoff: {line}");
        }
    });
    child
}

#[tokio::test]
async fn an_event_acknowledged_just_before_a_sigkill_is_processed_after_restart() {
    crm_http::install_crypto_provider();
    let sb = sandbox::start(sandbox::Config::for_tests()).await.unwrap();
    let db = TestDb::new().await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("handoff.toml");
    let portal = sandbox::Config::for_tests().portal_id;
    std::fs::write(
        &config,
        format!(
            "[connections.{CONNECTION}]\ncrm = \"hubspot\"\nbase_url = \"{}\"\nportal_id = {portal}\n",
            sb.base_url()
        ),
    )
    .unwrap();

    let port = free_port();
    let mut first = serve(&db, &config, port);
    let deal = sb.ids(sandbox::ObjectType::Deals)[0];
    let url = format!("http://127.0.0.1:{port}/webhooks/hubspot/{CONNECTION}");
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis();
    let body = serde_json::json!([{
        "eventId": 1, "subscriptionId": 1, "portalId": portal, "appId": 1, "occurredAt": now_ms,
        "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": deal,
        "propertyName": "dealstage", "propertyValue": "closedwon"
    }])
    .to_string();
    let ts = now_ms.to_string();
    let signature = crm_hubspot::webhook::sign_v3(sandbox::DEFAULT_CLIENT_SECRET, "POST", &url, body.as_bytes(), &ts);
    let response = common::http_client()
        .post(&url)
        .header("x-hubspot-signature-v3", signature)
        .header("x-hubspot-request-timestamp", ts)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    // Killed the moment it acknowledged: no graceful shutdown, no chance to finish work.
    first.kill().unwrap();
    first.wait().unwrap();

    let store = db.store().await;
    assert_eq!(
        store.inbound_events_for(CONNECTION).await.unwrap().len(),
        1,
        "the acknowledged event was durable"
    );

    let mut second = serve(&db, &config, free_port());
    let deadline = Instant::now() + Duration::from_secs(30);
    while store.count_record_changes(CONNECTION).await.unwrap() == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();
    // The restarted server resolved the event into exactly one change (and, with no
    // workflows configured here, the engine then marked it handled).
    assert_eq!(
        store.count_record_changes(CONNECTION).await.unwrap(),
        1,
        "processed exactly once after the restart"
    );
    assert!(store.pending_inbound_events(10).await.unwrap().is_empty());
}
