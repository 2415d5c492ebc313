//! The command line. Each command is a small function over the library; output meant
//! for scripts (ids, tables) goes to stdout, logs and errors to stderr.

mod api_token;
mod check;
mod connections;
mod demo;
mod invitations;
mod jobs;
mod project;
mod sandbox;
mod sync;
mod templates;
mod trace;
mod users;
mod workflows;

pub use trace::text as trace_text;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{self, AppState};
use handoff_config::Config;

#[derive(Parser, Debug)]
#[command(
    name = "handoff",
    version,
    about = "Turns won CRM deals into customer onboarding projects.",
    propagate_version = true
)]
pub struct Cli {
    /// A configuration file layered over the built-in defaults (see config/default.toml).
    #[arg(long, global = true, env = "HANDOFF_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Try handoff: a fresh demo database (data/demo.db) with realistic projects, then the server.
    Demo,
    /// Run the HTTP server until Ctrl-C or SIGTERM.
    Serve,
    /// Run the bundled CRM simulators (Salesforce and HubSpot) until Ctrl-C.
    Sandbox(sandbox::SandboxArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Check the configuration, the project templates and the workflows (against the
    /// CRMs' live field catalogs too); exit 1 on any problem.
    Check {
        /// Do not ask the CRMs (nor open the database): check only what the files say.
        #[arg(long)]
        offline: bool,
    },
    /// List and inspect project templates.
    #[command(subcommand)]
    Templates(templates::TemplatesCommand),
    /// Create, list and inspect projects.
    #[command(subcommand)]
    Project(project::ProjectCommand),
    /// Work on tasks.
    #[command(subcommand)]
    Task(project::TaskCommand),
    /// List workflows, or show what one would do for a CRM record (dry run).
    #[command(subcommand)]
    Workflows(workflows::WorkflowsCommand),
    /// Side effects that failed for good: list them, queue one again.
    #[command(subcommand)]
    Jobs(jobs::JobsCommand),
    /// Staff accounts: add one (projects whose CRM owner it is then find it).
    #[command(subcommand)]
    Users(users::UsersCommand),
    /// Portal sign-in links: list a project's, revoke one, email a member a fresh one.
    #[command(subcommand)]
    Invitations(invitations::InvitationsCommand),
    /// Tokens for the JSON API (/api/v1): create (shown once), list, revoke.
    #[command(subcommand)]
    ApiToken(api_token::ApiTokenCommand),
    /// The configured CRM connections and their health (last webhook, last poll, errors, API budget).
    Connections,
    /// What became of a CRM record: every change received, each workflow's decision
    /// (and which condition failed), the project, members, invitations and writebacks.
    Trace(trace::TraceArgs),
    /// Read changed records from the CRMs now (what the scheduled poll does), or
    /// everything with --backfill.
    Sync {
        /// Only this connection (default: all).
        #[arg(long)]
        connection: Option<String>,
        /// Read every record, not only those changed since the last poll.
        #[arg(long)]
        backfill: bool,
    },
}

/// Runs the command line and turns any failure into a message and exit status 1.
pub fn main() -> ExitCode {
    // Before any HTTP client exists: reqwest is built without a default TLS provider.
    crm_http::install_crypto_provider();
    let cli = Cli::parse();
    let loaded = match Config::load(cli.config.as_deref(), std::env::vars()) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    crate::telemetry::init(&loaded.config.log);
    for warning in &loaded.warnings {
        tracing::warn!("{warning}");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, loaded.config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo => demo::run(config).await,
        Command::Serve => serve(config).await,
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Migrate => migrate(config).await,
        Command::Check { offline } => check::run(&config, offline).await,
        Command::Templates(cmd) => templates::run(cmd, &config),
        Command::Project(cmd) => project::run_project(cmd, AppState::build(config).await?).await,
        Command::Task(cmd) => project::run_task(cmd, AppState::build(config).await?).await,
        Command::Connections => connections::run(AppState::build(config).await?).await,
        Command::Jobs(cmd) => jobs::run(cmd, AppState::build(config).await?).await,
        Command::ApiToken(cmd) => api_token::run(cmd, AppState::build(config).await?).await,
        Command::Invitations(cmd) => invitations::run(cmd, AppState::build(config).await?).await,
        Command::Users(cmd) => users::run(cmd, AppState::build(config).await?).await,
        Command::Workflows(cmd) => workflows::run(cmd, AppState::build(config).await?).await,
        Command::Trace(args) => trace::run(args, AppState::build(config).await?).await,
        Command::Sync { connection, backfill } => sync::run(AppState::build(config).await?, connection, backfill).await,
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let listen = config.server.listen;
    // A workflow that does not fit its CRM's fields is not run (see the method).
    let state = AppState::build(config).await?.validate_workflows_live().await;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr().context("the listener has no address")?;
    tracing::info!(%address, base_url = %state.config.server.base_url, "handoff is serving");
    app::serve(listener, state, app::shutdown_signal()).await?;
    Ok(ExitCode::SUCCESS)
}

async fn migrate(config: Config) -> anyhow::Result<ExitCode> {
    let store = handoff_store::Store::connect(&config.database).await?;
    let applied = store.migrate().await?;
    println!("{applied} migration(s) applied; the database is up to date.");
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
