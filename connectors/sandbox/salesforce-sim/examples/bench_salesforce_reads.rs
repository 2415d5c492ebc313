//! Throughput of simple reads against an in-process sandbox on 127.0.0.1.
//!
//!   cargo run --release -p sandbox-salesforce --example bench_salesforce_reads -- [seconds=5] [concurrency=32]
//!
//! Clients and server share the machine's cores, so the figure understates the server alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sandbox_salesforce::{Config, Seed, TEST_JWT_PRIVATE_KEY_PEM, sign_assertion};

fn arg(n: usize, default: u64) -> u64 {
    std::env::args().nth(n).and_then(|a| a.parse().ok()).unwrap_or(default)
}

async fn token(client: &reqwest::Client, base: &str) -> String {
    let exp = chrono::Utc::now().timestamp() + 180;
    let jwt = sign_assertion(
        TEST_JWT_PRIVATE_KEY_PEM,
        "handoff-sandbox",
        "admin@sandbox.example.com",
        "https://login.salesforce.com",
        exp,
    )
    .unwrap();
    let resp: serde_json::Value = client
        .post(format!("{base}/services/oauth2/token"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jwt.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    resp["access_token"].as_str().unwrap().to_string()
}

async fn run(label: &str, client: &reqwest::Client, base: &str, token: &str, paths: Arc<Vec<String>>, seconds: u64, concurrency: u64) {
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|w| {
            let (client, done, failed, paths, base, token) = (
                client.clone(),
                done.clone(),
                failed.clone(),
                paths.clone(),
                base.to_string(),
                token.to_string(),
            );
            tokio::spawn(async move {
                let mut i = w as usize;
                while Instant::now() < deadline {
                    let url = format!("{base}{}", paths[i % paths.len()]);
                    i += concurrency as usize;
                    match client.get(&url).bearer_auth(&token).send().await {
                        Ok(r) if r.status().is_success() => {
                            let _ = r.bytes().await;
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "{label}: {n} requests in {secs:.2} s = {:.0} requests/s ({} failed, {concurrency} concurrent clients)",
        n as f64 / secs,
        failed.load(Ordering::Relaxed)
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (seconds, concurrency) = (arg(1, 5), arg(2, 32));
    let config = Config {
        seed: Seed::generate(10_000, 1),
        daily_api_limit: None,
        ..Config::for_tests()
    };
    let sandbox = sandbox_salesforce::start(config).await.unwrap();
    let base = sandbox.base_url();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()
        .unwrap();
    let token = token(&client, &base).await;
    let ids = sandbox.ids("Opportunity");
    let gets: Vec<String> = ids
        .iter()
        .map(|id| format!("/services/data/v62.0/sobjects/Opportunity/{id}"))
        .collect();
    run("GET one opportunity", &client, &base, &token, Arc::new(gets), seconds, concurrency).await;
    let queries: Vec<String> = ids
        .iter()
        .take(1_000)
        .map(|id| format!("/services/data/v62.0/query?q=SELECT+Id,Name,StageName,Account.Name+FROM+Opportunity+WHERE+Id='{id}'"))
        .collect();
    run(
        "SOQL by Id with a parent field",
        &client,
        &base,
        &token,
        Arc::new(queries),
        seconds,
        concurrency,
    )
    .await;
    println!("sandbox logged {} requests", sandbox.requests().total());
    sandbox.shutdown().await;
}
