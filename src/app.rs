//! Builds the application state from a configuration, serves HTTP and shuts down cleanly.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use handoff_config::Config;
use handoff_engine::definition::{Workflow, load_dir};
use handoff_engine::templates::Templates;
use handoff_engine::{Engine, LinkSettings};
use handoff_store::Store;
use handoff_sync::health::Health;
use handoff_sync::process::Crms;
use handoff_web::WebState;

/// What every request handler and job can reach; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub catalog: Arc<Templates>,
    /// An adapter per configured CRM connection.
    pub crms: Crms,
    pub health: Health,
    /// The workflow definitions (workflows/*.toml).
    pub workflows: Arc<Vec<Workflow>>,
    /// Every change to a project goes through it (CLI, web).
    pub engine: Engine,
    /// The portal's project page models, shared by every router built from this state.
    pub portal_pages: handoff_web::portal::PageCache,
    /// The console's rendered Tasks tabs, likewise shared.
    pub console_tasks: handoff_web::console::TaskListCache,
}

impl AppState {
    /// Opens the database, applies migrations and loads the templates.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let store = Store::connect(&config.database).await?;
        let applied = store.migrate().await?;
        if applied > 0 {
            tracing::info!(applied, "applied database migrations");
        }
        let catalog = Templates::load(&config.templates.dir).context("cannot load the project templates")?;
        let workflows = load_workflows(&config.workflows.dir)?;
        let crms = handoff_sync::adapters::build(&config, &store, &handoff_engine::definition::deal_reads(&workflows))?;
        let health = Health::new(store.clone());
        let engine = Engine::new(store.clone(), LinkSettings::from_config(&config));
        Ok(Self {
            config: Arc::new(config),
            store,
            catalog: Arc::new(catalog),
            crms,
            health,
            workflows: Arc::new(workflows),
            engine,
            portal_pages: handoff_web::portal::PageCache::default(),
            console_tasks: handoff_web::console::TaskListCache::default(),
        })
    }

    /// The web layer's share of the state.
    pub fn web(&self) -> WebState {
        WebState {
            config: self.config.clone(),
            store: self.store.clone(),
            engine: self.engine.clone(),
            health: self.health.clone(),
            crms: self.crms.clone(),
            pages: self.portal_pages.clone(),
            console_tasks: self.console_tasks.clone(),
        }
    }

    /// What the background jobs run with.
    fn jobs(&self) -> crate::jobs::Setup {
        crate::jobs::Setup {
            store: self.store.clone(),
            crms: self.crms.clone(),
            health: self.health.clone(),
            catalog: self.catalog.clone(),
            workflows: self.workflows.clone(),
            links: LinkSettings::from_config(&self.config),
            smtp: self.config.smtp.clone(),
            base_url: self.config.server.base_url.clone(),
            product_name: self.config.branding.product_name.clone(),
            trace_retention: self.config.workflows.trace_retention,
        }
    }

    /// Checks the workflows against their connections' live field catalogs before
    /// anything runs, and keeps the ones that may run:
    ///
    /// - a workflow that does not fit its CRM (unknown field, wrong type, a picklist
    ///   value or contact role the CRM lacks, a read-only writeback target) is logged as
    ///   an error, each problem with file, line, key and reason, and is not run. The
    ///   hub itself keeps serving: refusing to start would also stop webhook intake, the
    ///   API and every other workflow because a CRM admin renamed a picklist value.
    ///   Writebacks already queued for its projects are kept for `handoff jobs failed`.
    /// - a workflow whose CRM cannot be asked now (down, rate limited, credentials
    ///   refused) runs as parsed, with a warning: nothing reaches it from that CRM
    ///   until the CRM answers again, and it was checked when it was deployed
    ///   (`handoff check`). It is checked again at the next start; there is no
    ///   background re-check, so what runs only changes when handoff starts.
    ///
    /// Record changes keep flowing while a workflow is off, and other workflows handle
    /// them. So that the deals won meanwhile still get their projects, the outage is
    /// noted (from its first start, across restarts), and when the workflow runs again
    /// the changes of its connection and object received since then are queued again.
    pub async fn validate_workflows_live(mut self) -> Self {
        use handoff_engine::validate_live::{Verdict, validate_live, workflow_file};
        let dir = self.config.workflows.dir.clone();
        let verdicts = validate_live(&self.workflows, &dir, &self.crms).await;
        let mut running = Vec::with_capacity(self.workflows.len());
        for (w, verdict) in self.workflows.iter().zip(verdicts) {
            match verdict {
                Verdict::Valid => {
                    tracing::info!(workflow = %w.name, connection = %w.trigger.connection, "workflow fits the CRM's fields");
                    self.catch_up(w).await;
                    running.push(w.clone());
                }
                Verdict::NoConnection => running.push(w.clone()),
                Verdict::Unchecked(error) => {
                    tracing::warn!(
                        workflow = %w.name,
                        connection = %w.trigger.connection,
                        %error,
                        "cannot read the CRM's fields: the workflow runs unchecked until the next start"
                    );
                    self.catch_up(w).await;
                    running.push(w.clone());
                }
                Verdict::Invalid(problems) => {
                    for p in &problems {
                        tracing::error!(workflow = %w.name, "{p}");
                    }
                    tracing::error!(
                        workflow = %w.name,
                        file = %workflow_file(&dir, w),
                        problems = problems.len(),
                        "the workflow does not fit the CRM's fields and will not run; fix it and restart (`handoff check` lists the problems)"
                    );
                    let reason = problems.first().map(ToString::to_string).unwrap_or_default();
                    let (connection, object) = (&w.trigger.connection, w.trigger.object.as_str());
                    if let Err(e) = self
                        .store
                        .workflow_off(&w.name, connection, object, chrono::Utc::now(), &reason)
                        .await
                    {
                        tracing::warn!(workflow = %w.name, error = %e, "cannot note that the workflow is off; what it misses will not be caught up");
                    }
                }
            }
        }
        self.workflows = Arc::new(running);
        self
    }

    /// A workflow that was off runs again: what it missed is queued again.
    async fn catch_up(&self, w: &Workflow) {
        match self.store.workflow_back(&w.name).await {
            Ok(Some(requeued)) => tracing::info!(
                workflow = %w.name,
                requeued,
                "the workflow runs again: record changes received while it was off are handled again"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!(workflow = %w.name, error = %e, "cannot catch up on what the workflow missed while it was off"),
        }
    }
}

/// The workflows of `dir`; none when the folder does not exist (handoff then only
/// syncs). A folder with an invalid workflow stops start-up: an invalid workflow never runs.
fn load_workflows(dir: &std::path::Path) -> anyhow::Result<Vec<Workflow>> {
    if !dir.exists() {
        tracing::info!(dir = %dir.display(), "no workflows folder; no workflows will run");
        return Ok(Vec::new());
    }
    load_dir(dir).with_context(|| format!("cannot load the workflows in {}", dir.display()))
}

/// Serves HTTP on `listener` until `shutdown` resolves, then lets requests in flight
/// finish. Taking a bound listener lets tests run the real app on port 0. The
/// scheduled work (polls, inbound event resolution) runs beside HTTP and stops with it.
pub async fn serve(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    for warning in state.config.connections.iter().flat_map(|c| c.warnings()) {
        tracing::warn!("{warning}");
    }
    let app = handoff_web::router(state.web());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let intervals = state
        .config
        .connections
        .iter()
        .filter_map(|c| state.crms.get(&c.name).map(|crm| (crm.clone(), c.poll_interval)))
        .collect();
    if state.store.backend() == handoff_store::Backend::Sqlite {
        // An SQLite database has one handoff process: claims still held are from this
        // process's previous life (killed mid-batch), so they need not wait to expire.
        // Best effort: if the database is unreachable now, the claims lapse on their
        // own and serving (health checks included) must not depend on it.
        if let Err(e) = state.store.release_all_claims().await {
            tracing::warn!(error = %e, "cannot release work claimed before the restart; it is picked up when the claims lapse");
        }
    }
    let mut jobs = crate::jobs::spawn(state.jobs(), intervals, stopped);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .context("HTTP server failed");
    let _ = stop.send(true);
    while jobs.join_next().await.is_some() {}
    state.store.close().await;
    served
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
