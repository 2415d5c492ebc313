//! Webhook ingest benchmark (issue #4): signed HubSpot batches of 100 events posted
//! concurrently to handoff's HTTP intake, each batch verified and durably committed
//! before the 204.
//!
//!     cargo run --release --example bench_webhooks                 # SQLite (temporary file)
//!     HANDOFF_BENCH_DATABASE_URL=postgres:///test?host=/var/run/postgresql&user=postgres \
//!         cargo run --release --example bench_webhooks             # PostgreSQL (own database)
//!
//! Phase 1 posts as fast as 32 clients can for 10 s and prints verified events/s.
//! Phase 2 posts at a fixed 5,000 events/s (50 batches/s) for 10 s and prints latency
//! percentiles. The server and the load generator share this machine's cores, so the
//! figures are a floor. Traffic goes to 127.0.0.1 only and stops by itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings};
use handoff::config::{Config, ConnectionConfig};
use secrecy::SecretString;
use sqlx::Connection;

const SECRET: &str = "bench-client-secret";
const EVENTS_PER_BATCH: u64 = 100;
const CLIENTS: usize = 32;
const PHASE: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    crm_http::install_crypto_provider();
    let dir = tempfile::tempdir()?;
    let (url, durability, pg_admin) = match std::env::var("HANDOFF_BENCH_DATABASE_URL") {
        Ok(admin) if admin.starts_with("postgres") => {
            let name = format!("handoff_bench_{}", std::process::id());
            let mut conn = sqlx::PgConnection::connect(&admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await?;
            let sync: String = sqlx::query_scalar("SHOW synchronous_commit").fetch_one(&mut conn).await?;
            let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(&mut conn).await?;
            let url = admin.replacen("/test", &format!("/{name}"), 1);
            let durability =
                format!("PostgreSQL, synchronous_commit={sync}, fsync={fsync}: a committed batch is flushed to disk before the 204");
            (url, durability, Some((admin, name)))
        }
        _ => (
            format!("sqlite://{}", dir.path().join("bench.db").display()),
            "SQLite WAL, synchronous=NORMAL: a committed batch survives a crash of the handoff process".to_owned(),
            None,
        ),
    };
    let result = run(&url).await;
    if let Some((admin, name)) = pg_admin {
        let mut conn = sqlx::PgConnection::connect(&admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
            .execute(&mut conn)
            .await?;
    }
    let (throughput, latencies) = result?;
    println!("durability: {durability}");
    println!("max throughput: {throughput:.0} verified events/s committed ({CLIENTS} clients, batches of {EVENTS_PER_BATCH})");
    println!(
        "at 5,000 events/s: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} batches)",
        pct(&latencies, 0.50),
        pct(&latencies, 0.95),
        pct(&latencies, 0.99),
        pct(&latencies, 1.0),
        latencies.len()
    );
    Ok(())
}

fn pct(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted_ms.len() as f64 - 1.0) * p).round() as usize;
    sorted_ms[i.min(sorted_ms.len() - 1)]
}

async fn run(url: &str) -> anyhow::Result<(f64, Vec<f64>)> {
    let env = [
        ("HANDOFF_DATABASE_URL".to_owned(), url.to_owned()),
        ("HANDOFF_LOG".to_owned(), "warn".to_owned()),
    ];
    let mut config = Config::load(None, env)?.config;
    config.database.max_connections = 16;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    config.server.base_url = format!("http://{address}").parse()?;
    config.connections = vec![ConnectionConfig {
        name: "bench".into(),
        poll_interval: Duration::from_secs(3600),
        crm: CrmSettings::Hubspot(HubspotSettings {
            // Nothing is polled or fetched: the benchmark measures intake only.
            base_url: "http://127.0.0.1:9".parse()?,
            client_id: None,
            auth: HubspotAuth::PrivateApp {
                token: SecretString::from("unused"),
            },
            client_secret: Some(SecretString::from(SECRET)),
            portal_id: Some(7),
            accept_legacy_signatures: false,
        }),
    }];
    let state = handoff::app::AppState::build(config).await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(handoff::app::serve(listener, state.clone(), async move {
        let _ = stop_rx.await;
    }));
    let target = format!("http://{address}/webhooks/hubspot/bench");
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build()?;
    let next_id = Arc::new(AtomicU64::new(1));

    // Phase 1: as fast as possible.
    let committed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + PHASE;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (client, target, next_id, committed) = (client.clone(), target.clone(), next_id.clone(), committed.clone());
        tasks.spawn(async move {
            while Instant::now() < deadline {
                if post(&client, &target, &next_id).await.is_ok() {
                    committed.fetch_add(EVENTS_PER_BATCH, Ordering::Relaxed);
                }
            }
        });
    }
    tasks.join_all().await;
    let throughput = committed.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();

    // Phase 2: a steady 5,000 events/s, measuring each batch from send to 204.
    let mut ticker = tokio::time::interval(Duration::from_millis(20));
    let mut tasks = tokio::task::JoinSet::new();
    let end = Instant::now() + PHASE;
    while Instant::now() < end {
        ticker.tick().await;
        let (client, target, next_id) = (client.clone(), target.clone(), next_id.clone());
        tasks.spawn(async move {
            let t = Instant::now();
            post(&client, &target, &next_id)
                .await
                .ok()
                .map(|()| t.elapsed().as_secs_f64() * 1000.0)
        });
    }
    let mut latencies: Vec<f64> = tasks.join_all().await.into_iter().flatten().collect();
    latencies.sort_by(f64::total_cmp);

    let stored = state.store.inbound_events_for("bench").await?.len() as u64;
    let expected = next_id.load(Ordering::Relaxed) - 1;
    assert_eq!(stored, expected, "every acknowledged event is stored, once");
    let _ = stop_tx.send(());
    server.await??;
    Ok((throughput, latencies))
}

/// Posts one signed batch of 100 new events; Ok only on 204.
async fn post(client: &reqwest::Client, target: &str, next_id: &AtomicU64) -> anyhow::Result<()> {
    let first = next_id.fetch_add(EVENTS_PER_BATCH, Ordering::Relaxed);
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let events: Vec<serde_json::Value> = (first..first + EVENTS_PER_BATCH)
        .map(|id| {
            serde_json::json!({
                "eventId": id, "subscriptionId": 1, "portalId": 7, "appId": 1, "occurredAt": now_ms,
                "subscriptionType": "deal.propertyChange", "attemptNumber": 0, "objectId": id,
                "changeSource": "CRM_UI", "propertyName": "dealstage", "propertyValue": "closedwon"
            })
        })
        .collect();
    let body = serde_json::to_vec(&events)?;
    let ts = now_ms.to_string();
    let signature = crm_hubspot::webhook::sign_v3(SECRET, "POST", target, &body, &ts);
    let response = client
        .post(target)
        .header("content-type", "application/json")
        .header("x-hubspot-signature-v3", signature)
        .header("x-hubspot-request-timestamp", ts)
        .body(body)
        .send()
        .await?;
    anyhow::ensure!(response.status() == 204, "status {}", response.status());
    Ok(())
}
