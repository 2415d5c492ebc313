//! Throughput of simple reads against an in-process sandbox on 127.0.0.1.
//!
//!   cargo run --release -p sandbox-hubspot --example bench_hubspot_reads -- [seconds=5] [concurrency=32]
//!
//! Clients and server share the machine's cores, so the figure understates the server alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sandbox_hubspot::{Config, DEFAULT_PRIVATE_APP_TOKEN, ObjectType, RateLimits};

fn arg(n: usize, default: u64) -> u64 {
    std::env::args().nth(n).and_then(|a| a.parse().ok()).unwrap_or(default)
}

async fn run(label: &str, base: &str, paths: Arc<Vec<String>>, seconds: u64, concurrency: u64) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency as usize)
        .build()
        .unwrap();
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|w| {
            let (client, done, failed, paths, base) = (client.clone(), done.clone(), failed.clone(), paths.clone(), base.to_string());
            tokio::spawn(async move {
                let mut i = w as usize;
                while Instant::now() < deadline {
                    let url = format!("{base}{}", paths[i % paths.len()]);
                    i += concurrency as usize;
                    match client.get(&url).bearer_auth(DEFAULT_PRIVATE_APP_TOKEN).send().await {
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
    let (seconds, concurrency) = (arg(1, 5), arg(2, 32));
    let config = Config {
        rate_limits: RateLimits::unlimited(),
        ..Config::for_tests()
    };
    let sandbox = sandbox_hubspot::start(config).await.unwrap();
    let base = sandbox.base_url();
    let ids = sandbox.ids(ObjectType::Deals);
    let gets: Vec<String> = ids
        .iter()
        .map(|id| format!("/crm/v3/objects/deals/{id}?properties=dealname,dealstage,amount"))
        .collect();
    run("GET one deal", &base, Arc::new(gets), seconds, concurrency).await;
    let lists = vec!["/crm/v3/objects/contacts?limit=10".to_string()];
    run("GET a page of 10 contacts", &base, Arc::new(lists), seconds, concurrency).await;
    println!("sandbox logged {} requests", sandbox.requests().total());
    sandbox.shutdown().await;
}
