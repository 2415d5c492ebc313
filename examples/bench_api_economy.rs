//! API economy benchmark (issue #4): how many CRM calls a poll costs.
//!
//!     cargo run --release --example bench_api_economy            # 100,000 deals
//!     cargo run --release --example bench_api_economy -- 20000   # another volume
//!
//! Backfills N generated deals from each bundled sandbox through handoff's real poll,
//! then runs a poll with nothing changed, and prints calls per record and the time.
//! Salesforce: one SOQL per 2,000 opportunities, contact roles in the same query.
//! HubSpot: search pages of 200, a batch association read per 100 deals and the batch
//! contact reads their contacts need.
//! Everything runs on 127.0.0.1; the sandbox's rate limits are off so the figures show
//! handoff's cost, not the sandbox's throttling.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings, SalesforceAuth, SalesforceSettings};
use handoff::config::{Config, ConnectionConfig};
use handoff::domain::change::{ChangeSource, ObjectKind};
use handoff::sync::poll::poll_once;
use sandbox_hubspot as sandbox;
use sandbox_salesforce as sf_sandbox;
use secrecy::SecretString;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    crm_http::install_crypto_provider();
    let deals: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(100_000);
    salesforce(deals).await?;
    hubspot(deals).await
}

async fn measure(config: Config, connection: &str) -> anyhow::Result<()> {
    let state = handoff::app::AppState::build(config).await?;
    let crm = state.crms.get(connection).expect("the connection has an adapter").clone();
    let started = Instant::now();
    let backfill = poll_once(&state.store, crm.as_ref(), ObjectKind::Deal, ChangeSource::Backfill, &mut |_| {}).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  backfill: {} deals with contacts and roles, {} pages, {} API calls = {:.4} calls per record, {:.1} s ({:.0} records/s)",
        backfill.records,
        backfill.pages,
        backfill.calls,
        backfill.calls as f64 / backfill.records as f64,
        secs,
        backfill.records as f64 / secs
    );
    let idle = poll_once(&state.store, crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {}).await?;
    println!("  poll with nothing changed: {} API call(s), {} records", idle.calls, idle.records);
    Ok(())
}

fn base_config(dir: &tempfile::TempDir) -> anyhow::Result<Config> {
    let env = [
        (
            "HANDOFF_DATABASE_URL".to_owned(),
            format!("sqlite://{}", dir.path().join("bench.db").display()),
        ),
        (
            "HANDOFF_MASTER_KEY".to_owned(),
            "YmVuY2gtb25seS1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=".to_owned(),
        ),
        ("HANDOFF_LOG".to_owned(), "warn".to_owned()),
    ];
    Ok(Config::load(None, env)?.config)
}

async fn salesforce(deals: usize) -> anyhow::Result<()> {
    let loading = Instant::now();
    let config = sf_sandbox::Config {
        seed: sf_sandbox::Seed::generate(deals, 42),
        daily_api_limit: None,
        ..sf_sandbox::Config::for_tests()
    };
    let sb = sf_sandbox::start(config).await?;
    println!(
        "Salesforce sandbox: {} opportunities (loaded in {:.1} s)",
        sb.count("Opportunity"),
        loading.elapsed().as_secs_f64()
    );
    let dir = tempfile::tempdir()?;
    let mut config = base_config(&dir)?;
    config.connections = vec![ConnectionConfig {
        name: "salesforce".into(),
        poll_interval: Duration::from_secs(3600),
        crm: CrmSettings::Salesforce(SalesforceSettings {
            login_url: sb.base_url().parse()?,
            api_version: "67.0".into(),
            auth: SalesforceAuth::JwtBearer {
                client_id: sf_sandbox::DEFAULT_CLIENT_ID.into(),
                username: sf_sandbox::DEFAULT_USERNAME.into(),
                private_key: SecretString::from(sf_sandbox::TEST_JWT_PRIVATE_KEY_PEM),
                client_secret: None,
            },
            organization_id: sb.organization_id().to_owned(),
            webhook_secret: SecretString::from("unused"),
        }),
    }];
    measure(config, "salesforce").await
}

async fn hubspot(deals: usize) -> anyhow::Result<()> {
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
    let mut config = base_config(&dir)?;
    config.connections = vec![ConnectionConfig {
        name: "hubspot".into(),
        poll_interval: Duration::from_secs(3600),
        crm: CrmSettings::Hubspot(HubspotSettings {
            base_url: sb.base_url().parse()?,
            client_id: None,
            auth: HubspotAuth::PrivateApp {
                token: SecretString::from(sandbox::DEFAULT_PRIVATE_APP_TOKEN),
            },
            client_secret: None,
            portal_id: Some(sandbox::Config::for_tests().portal_id),
            accept_legacy_signatures: false,
        }),
    }];
    measure(config, "hubspot").await
}
