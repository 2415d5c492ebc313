//! `handoff sandbox`: the bundled CRM simulators, for trying handoff and for
//! evaluating it before a real CRM is connected.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

#[derive(Args, Debug)]
pub struct SandboxArgs {
    /// Where the Salesforce simulator listens.
    #[arg(long, default_value = "127.0.0.1:8701")]
    salesforce_listen: SocketAddr,
    /// Where the HubSpot simulator listens.
    #[arg(long, default_value = "127.0.0.1:8702")]
    hubspot_listen: SocketAddr,
    /// A seed file with `[salesforce]` and/or `[hubspot]` sections (default: the
    /// built-in realistic fixtures).
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Instead of the fixtures, generate this many deals in each CRM (volume tests).
    #[arg(long, value_name = "N", conflicts_with = "seed")]
    generate_deals: Option<usize>,
    /// Where Salesforce Outbound Messages are delivered, e.g.
    /// http://127.0.0.1:8700/webhooks/salesforce/salesforce/<webhook_secret>
    #[arg(long, value_name = "URL")]
    salesforce_outbound_url: Option<String>,
    /// Where HubSpot webhooks are delivered, e.g. http://127.0.0.1:8700/webhooks/hubspot/hubspot
    #[arg(long, value_name = "URL")]
    hubspot_webhook_url: Option<String>,
    /// Fault injection: the share of API requests (0.0–1.0) that fail with --error-status.
    #[arg(long, default_value_t = 0.0, value_parser = share)]
    error_rate: f64,
    /// The status those failures get.
    #[arg(long, default_value_t = 503)]
    error_status: u16,
    /// Fault injection: added to every response, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fault injection: the first N API requests are rate limited (HubSpot 429,
    /// Salesforce REQUEST_LIMIT_EXCEEDED).
    #[arg(long, default_value_t = 0)]
    rate_limit_burst: u32,
}

fn share(s: &str) -> Result<f64, String> {
    let v: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0.0 and 1.0"))
    }
}

/// A combined seed file: one section per CRM.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    salesforce: Option<sandbox_salesforce::Seed>,
    hubspot: Option<sandbox_hubspot::Seed>,
}

fn read_seed(path: &PathBuf) -> anyhow::Result<SeedFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid seed file", path.display()))
}

/// Both simulators, running.
pub struct Sandboxes {
    pub salesforce: sandbox_salesforce::Sandbox,
    pub hubspot: sandbox_hubspot::Sandbox,
}

impl Sandboxes {
    pub async fn shutdown(self) {
        self.salesforce.shutdown().await;
        self.hubspot.shutdown().await;
    }
}

pub async fn start(args: &SandboxArgs) -> anyhow::Result<Sandboxes> {
    let seed = match (&args.seed, args.generate_deals) {
        (Some(path), _) => read_seed(path)?,
        (None, Some(n)) => SeedFile {
            salesforce: Some(sandbox_salesforce::Seed::generate(n, 1)),
            hubspot: Some(sandbox_hubspot::Seed::generate(n, 1)),
        },
        (None, None) => SeedFile::default(),
    };
    let salesforce = sandbox_salesforce::start(sandbox_salesforce::Config {
        listen: args.salesforce_listen,
        seed: seed.salesforce.unwrap_or_else(sandbox_salesforce::Seed::fixture),
        outbound_target: args.salesforce_outbound_url.clone(),
        faults: sandbox_salesforce::Faults {
            error_rate: args.error_rate,
            error_status: Some(args.error_status),
            latency: std::time::Duration::from_millis(args.latency_ms),
            limit_burst: args.rate_limit_burst,
            ..Default::default()
        },
        ..sandbox_salesforce::Config::default()
    })
    .await
    .with_context(|| format!("cannot start the Salesforce sandbox on {}", args.salesforce_listen))?;
    let hubspot = sandbox_hubspot::start(sandbox_hubspot::Config {
        listen: args.hubspot_listen,
        seed: seed.hubspot.unwrap_or_else(sandbox_hubspot::Seed::fixture),
        webhook_target: args.hubspot_webhook_url.clone(),
        faults: sandbox_hubspot::Faults {
            error_rate: args.error_rate,
            error_status: Some(args.error_status),
            latency: std::time::Duration::from_millis(args.latency_ms),
            rate_limit_burst: args.rate_limit_burst,
            ..Default::default()
        },
        ..sandbox_hubspot::Config::default()
    })
    .await
    .with_context(|| format!("cannot start the HubSpot sandbox on {}", args.hubspot_listen))?;
    Ok(Sandboxes { salesforce, hubspot })
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let sandboxes = start(&args).await?;
    let (sf, hs) = (&sandboxes.salesforce, &sandboxes.hubspot);
    println!("Salesforce sandbox  {}", sf.base_url());
    println!("  organization id   {}", sf.organization_id());
    println!(
        "  login             {} (JWT bearer; test key connectors/sandbox/salesforce-sim/fixtures/sandbox_test_only_jwt_private_key.pem)",
        sandbox_salesforce::DEFAULT_USERNAME
    );
    println!(
        "  OAuth client      {} / {}",
        sandbox_salesforce::DEFAULT_CLIENT_ID,
        sandbox_salesforce::DEFAULT_CLIENT_SECRET
    );
    println!(
        "  outbound messages {}",
        args.salesforce_outbound_url
            .as_deref()
            .unwrap_or("(none; pass --salesforce-outbound-url)")
    );
    println!("  opportunities     {}", sf.count("Opportunity"));
    println!("HubSpot sandbox     {}", hs.base_url());
    println!("  private-app token {}", sandbox_hubspot::DEFAULT_PRIVATE_APP_TOKEN);
    println!(
        "  OAuth client      {} / {} (the secret also signs webhooks)",
        sandbox_hubspot::DEFAULT_CLIENT_ID,
        sandbox_hubspot::DEFAULT_CLIENT_SECRET
    );
    println!(
        "  webhooks          {}",
        args.hubspot_webhook_url.as_deref().unwrap_or("(none; pass --hubspot-webhook-url)")
    );
    println!("  deals             {}", hs.count(sandbox_hubspot::ObjectType::Deals));
    if args.error_rate > 0.0 || args.latency_ms > 0 || args.rate_limit_burst > 0 {
        println!(
            "faults            {:.0}% of requests fail with {}, +{} ms latency, first {} rate limited",
            args.error_rate * 100.0,
            args.error_status,
            args.latency_ms,
            args.rate_limit_burst
        );
    }
    println!("press Ctrl-C to stop");
    crate::app::shutdown_signal().await;
    sandboxes.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
