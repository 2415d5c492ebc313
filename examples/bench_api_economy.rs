//! API economy benchmark (issue #4): how many CRM calls a poll costs.
//!
//!     cargo run --release --example bench_api_economy            # 100,000 deals
//!     cargo run --release --example bench_api_economy -- 20000   # another volume
//!
//! Backfills N generated deals from the bundled HubSpot sandbox through handoff's real
//! poll (search pages of 200, one batch association read and the batch contact reads per
//! page), then runs a poll with nothing changed. Prints calls per record and the time.
//! Everything runs on 127.0.0.1; the sandbox's rate limits are off so the figures show
//! handoff's cost, not the sandbox's throttling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings};
use handoff::config::{Config, ConnectionConfig};
use handoff::sync::poll::poll_once;
use handoff::sync::{ChangeSource, ObjectKind};
use sandbox_hubspot as sandbox;
use secrecy::SecretString;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    crm_http::install_crypto_provider();
    let deals: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(100_000);
    let config = sandbox::Config {
        seed: sandbox::Seed::generate(deals, 42),
        rate_limits: sandbox::RateLimits::unlimited(),
        ..sandbox::Config::for_tests()
    };
    let loading = Instant::now();
    let sb = sandbox::start(config).await?;
    println!(
        "HubSpot sandbox: {} deals, {} contacts (loaded in {:.1} s)",
        sb.count(sandbox::ObjectType::Deals),
        sb.count(sandbox::ObjectType::Contacts),
        loading.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir()?;
    let env = [
        (
            "HANDOFF_DATABASE_URL".to_owned(),
            format!("sqlite://{}", dir.path().join("bench.db").display()),
        ),
        ("HANDOFF_LOG".to_owned(), "warn".to_owned()),
    ];
    let mut config = Config::load(None, env)?.config;
    config.connections = vec![ConnectionConfig {
        name: "hubspot".into(),
        poll_interval: Duration::from_secs(3600),
        crm: CrmSettings::Hubspot(HubspotSettings {
            base_url: sb.base_url().parse()?,
            auth: HubspotAuth::PrivateApp {
                token: SecretString::from(sandbox::DEFAULT_PRIVATE_APP_TOKEN),
            },
            client_secret: None,
            portal_id: None,
            accept_legacy_signatures: false,
        }),
    }];
    let state = handoff::app::AppState::build(config).await?;
    let crm = state.crms.get("hubspot").expect("the connection has an adapter").clone();

    let started = Instant::now();
    let backfill = poll_once(&state.store, crm.as_ref(), ObjectKind::Deal, ChangeSource::Backfill, &mut |_| {}).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "backfill: {} deals with contacts and labels, {} pages, {} API calls = {:.4} calls per record ({:.2} per 100), {:.1} s ({:.0} records/s)",
        backfill.records,
        backfill.pages,
        backfill.calls,
        backfill.calls as f64 / backfill.records as f64,
        backfill.calls as f64 * 100.0 / backfill.records as f64,
        secs,
        backfill.records as f64 / secs
    );
    let idle = poll_once(&state.store, crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {}).await?;
    println!("poll with nothing changed: {} API call(s), {} records", idle.calls, idle.records);
    Ok(())
}
