//! Runs js/proof.js (the real @hubspot/api-client) against a sandbox on port 0.
//! Skips with a note when js/node_modules is missing, unless CI=true.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use sandbox_hubspot::{Config, RateLimits, RetryPolicy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_hubspot_client_library_works_against_the_sandbox() {
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    if !js.join("node_modules/@hubspot/api-client").exists() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "js/node_modules is missing: run `npm ci` in {}",
            js.display()
        );
        eprintln!(
            "skipping the @hubspot/api-client proof: run `npm ci` in {} to enable it",
            js.display()
        );
        return;
    }
    // A free port for the script's webhook receiver: bind, read, release.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = Config {
        rate_limits: RateLimits::unlimited(),
        webhook_target: Some(format!("http://127.0.0.1:{port}/webhooks")),
        webhook_retry: RetryPolicy {
            initial_delay: Duration::from_millis(200),
            ..RetryPolicy::default()
        },
        ..Config::for_tests()
    };
    let sandbox = sandbox_hubspot::start(config).await.unwrap();
    let base = sandbox.base_url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("proof.js")
            .current_dir(&js)
            .env("HUBSPOT_SANDBOX_URL", base)
            .env("HUBSPOT_WEBHOOK_PORT", port.to_string())
            .output()
    })
    .await
    .unwrap()
    .expect("node must be installed to run the proof");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(out.status.success(), "proof.js failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all checks passed"));
    sandbox.shutdown().await;
}
