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
    /// Where the HubSpot simulator listens.
    #[arg(long, default_value = "127.0.0.1:8702")]
    hubspot_listen: SocketAddr,
    /// A seed file with a `[hubspot]` section (default: the built-in realistic fixture).
    #[arg(long, value_name = "FILE")]
    seed: Option<PathBuf>,
    /// Instead of the fixture, generate this many deals (for volume tests).
    #[arg(long, value_name = "N", conflicts_with = "seed")]
    generate_deals: Option<usize>,
    /// Where HubSpot webhooks are delivered, e.g. http://127.0.0.1:8700/webhooks/hubspot/hubspot
    #[arg(long, value_name = "URL")]
    hubspot_webhook_url: Option<String>,
}

/// A combined seed file: one section per CRM.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    hubspot: Option<sandbox_hubspot::Seed>,
}

fn read_seed(path: &PathBuf) -> anyhow::Result<SeedFile> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{} is not a valid seed file", path.display()))
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let seed = match (&args.seed, args.generate_deals) {
        (Some(path), _) => read_seed(path)?,
        (None, Some(n)) => SeedFile {
            hubspot: Some(sandbox_hubspot::Seed::generate(n, 1)),
        },
        (None, None) => SeedFile::default(),
    };
    let config = sandbox_hubspot::Config {
        listen: args.hubspot_listen,
        seed: seed.hubspot.unwrap_or_else(sandbox_hubspot::Seed::fixture),
        webhook_target: args.hubspot_webhook_url.clone(),
        ..sandbox_hubspot::Config::default()
    };
    let (client_id, secret, portal) = (config.client_id.clone(), config.client_secret.clone(), config.portal_id);
    let hubspot = sandbox_hubspot::start(config)
        .await
        .with_context(|| format!("cannot start the HubSpot sandbox on {}", args.hubspot_listen))?;

    println!("HubSpot sandbox   {}", hubspot.base_url());
    println!("  portal id        {portal}");
    println!("  private-app token {}", sandbox_hubspot::DEFAULT_PRIVATE_APP_TOKEN);
    println!("  OAuth client     {client_id} / {secret} (the secret also signs webhooks)");
    println!(
        "  webhooks to      {}",
        args.hubspot_webhook_url.as_deref().unwrap_or("(none; pass --hubspot-webhook-url)")
    );
    println!("  deals            {}", hubspot.count(sandbox_hubspot::ObjectType::Deals));
    println!("press Ctrl-C to stop");
    crate::app::shutdown_signal().await;
    hubspot.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
