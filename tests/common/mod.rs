//! Test harness: a fresh database per test on the backend chosen by the environment,
//! and `spawn_app()`, which runs the real application on port 0.
//!
//! Backend: SQLite (a temporary file) unless `HANDOFF_TEST_DATABASE_URL` names a
//! PostgreSQL server, e.g. `postgres://postgres@127.0.0.1:5432/test`; then each test
//! creates its own database there and drops it afterwards.
//! Logs: set `TEST_LOG=1` (or a filter such as `TEST_LOG=handoff=debug`) to see them.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;

use handoff::app::{self, AppState};
use handoff::config::Config;
use handoff::domain::ProjectId;
use handoff::domain::people::Actor;
use handoff::domain::project::{ProjectSpec, plan_project};
use handoff::store::Store;
use sqlx::Connection;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const TEST_DATABASE_ENV: &str = "HANDOFF_TEST_DATABASE_URL";

/// The engine over `store`, as the application makes it from this harness's settings
/// (the fixed test master key).
pub fn engine(store: &Store) -> handoff::engine::Engine {
    let env = [("HANDOFF_MASTER_KEY".to_owned(), TEST_MASTER_KEY.to_owned())];
    let config = Config::load(None, env).unwrap().config;
    handoff::engine::Engine::new(store.clone(), handoff::engine::LinkSettings::from_config(&config))
}

/// Completes every task of `project` (dependencies first, whatever their order), as
/// completing a project requires.
pub async fn complete_every_task(engine: &handoff::engine::Engine, store: &Store, project: ProjectId) {
    let details = store.project_details(project).await.unwrap().unwrap();
    let mut open: Vec<String> = details.tasks.iter().map(|t| t.key.as_str().to_owned()).collect();
    while !open.is_empty() {
        let before = open.len();
        let mut left = Vec::new();
        for key in open {
            match engine.complete_task(project, &key, Actor::System, "test").await {
                Ok(_) => {}
                Err(handoff::engine::EngineError::Refused(handoff::engine::Refusal::Blocked { .. })) => left.push(key),
                Err(e) => panic!("completing `{key}`: {e}"),
            }
        }
        assert!(left.len() < before, "tasks blocked for good: {left:?}");
        open = left;
    }
}

/// A fixed key: test databases are thrown away, and a fixed key makes a failure
/// reproducible.
pub const TEST_MASTER_KEY: &str = "dGVzdC1vbmx5LW1hc3Rlci1rZXktMzItYnl0ZXMhISE=";

/// A database that exists for one test.
pub enum TestDb {
    Sqlite { _dir: tempfile::TempDir, url: String },
    Postgres { admin_url: String, name: String, url: String },
}

impl TestDb {
    pub async fn new() -> TestDb {
        match std::env::var(TEST_DATABASE_ENV) {
            Ok(admin_url) if admin_url.starts_with("postgres") => {
                let name = format!("handoff_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = sqlx::PgConnection::connect(&admin_url)
                    .await
                    .expect("cannot reach the PostgreSQL named by HANDOFF_TEST_DATABASE_URL");
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut admin)
                    .await
                    .unwrap();
                admin.close().await.ok();
                let url = with_database(&admin_url, &name);
                TestDb::Postgres { admin_url, name, url }
            }
            Ok(other) if !other.is_empty() => panic!("{TEST_DATABASE_ENV} must be a postgres:// URL, not {other}"),
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}", dir.path().join("handoff.db").display());
                TestDb::Sqlite { _dir: dir, url }
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            TestDb::Sqlite { url, .. } | TestDb::Postgres { url, .. } => url,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, TestDb::Postgres { .. })
    }

    /// The application's configuration for this database: built-in defaults otherwise,
    /// with the repository's templates.
    pub fn config(&self) -> Config {
        let env = [
            ("HANDOFF_DATABASE_URL".to_owned(), self.url().to_owned()),
            ("HANDOFF_MASTER_KEY".to_owned(), TEST_MASTER_KEY.to_owned()),
        ];
        let mut config = Config::load(None, env).unwrap().config;
        config.templates.dir = repo_path("templates/projects");
        config.workflows.dir = repo_path("workflows");
        config.server.listen = "127.0.0.1:0".parse().unwrap();
        config
    }

    /// A migrated store on this database.
    pub async fn store(&self) -> Store {
        let store = Store::connect(&self.config().database).await.unwrap();
        store.migrate().await.unwrap();
        store
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, name, .. } = self {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs outside async; a thread with its own runtime does the cleanup.
            let cleanup = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async {
                    if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut admin).await;
                    }
                });
            });
            let _ = cleanup.join();
        }
    }
}

fn with_database(admin_url: &str, name: &str) -> String {
    let mut url = url::Url::parse(admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// An HTTP client for tests. reqwest is built without a default TLS provider (see
/// connectors/http), so the provider is installed first.
pub fn http_client() -> reqwest::Client {
    crm_http::install_crypto_provider();
    reqwest::Client::new()
}

pub fn init_test_log() {
    if let Ok(filter) = std::env::var("TEST_LOG") {
        let filter = if filter == "1" || filter.is_empty() {
            "info".to_owned()
        } else {
            filter
        };
        handoff::telemetry::init(&handoff::config::LogConfig {
            filter,
            format: handoff::config::LogFormat::Pretty,
        });
    }
}

/// The running application.
pub struct TestApp {
    pub address: SocketAddr,
    pub base_url: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: TestDb,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], letting the test adjust the configuration first (connections, …).
/// The base URL is the bound address, as a deployment's public URL would be.
pub async fn spawn_app_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    init_test_log();
    let db = TestDb::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut config = db.config();
    config.server.base_url = format!("http://{address}").parse().unwrap();
    customize(&mut config);
    let state = AppState::build(config).await.unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let server = tokio::spawn(app::serve(listener, state.clone(), async move {
        let _ = rx.await;
    }));
    TestApp {
        address,
        base_url: format!("http://{address}"),
        client: http_client(),
        state,
        db,
        shutdown: Some(tx),
        server: Some(server),
    }
}

impl TestApp {
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base_url)).send().await.unwrap()
    }

    /// Creates a Draft project from a shipped template, as `handoff project create` does.
    pub async fn create_project(&self, template: &str, name: &str) -> ProjectId {
        let tpl = self.state.catalog.get(template).expect("no such template");
        let spec = ProjectSpec {
            name: name.into(),
            template_key: template.into(),
            company_id: None,
            start_date: "2026-11-23".parse().unwrap(),
            goal_date: None,
        };
        self.store()
            .create_project(&plan_project(tpl, spec).unwrap(), Actor::System, "test")
            .await
            .unwrap()
    }

    /// Asks the server to stop and waits until it has.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }
}

/// Runs a statement directly on a test database: for putting the world in a state
/// (time passed, a worker died) that the application would reach only slowly.
#[allow(dead_code)]
pub async fn sql(db: &TestDb, statement: &'static str) {
    if db.is_postgres() {
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        sqlx::query(statement).execute(&pool).await.unwrap();
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
        sqlx::query(statement).execute(&pool).await.unwrap();
        pool.close().await;
    }
}
