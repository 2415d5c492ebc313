//! Runs js/proof.js (the real jsforce) against a sandbox on port 0.
//! Skips with a note when js/node_modules is missing, unless CI=true.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use sandbox_salesforce::{Config, Seed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_jsforce_library_works_against_the_sandbox() {
    let js = Path::new(env!("CARGO_MANIFEST_DIR")).join("js");
    if !js.join("node_modules/jsforce").exists() {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "js/node_modules is missing: run `npm ci` in {}",
            js.display()
        );
        eprintln!("skipping the jsforce proof: run `npm ci` in {} to enable it", js.display());
        return;
    }
    // More than one page of opportunities (2,000 per page), so paging is exercised.
    let config = Config {
        seed: Seed::generate(2_500, 1),
        daily_api_limit: None,
        ..Config::for_tests()
    };
    let sandbox = sandbox_salesforce::start(config).await.unwrap();
    let base = sandbox.base_url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg("proof.js")
            .current_dir(&js)
            .env("SALESFORCE_SANDBOX_URL", base)
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
