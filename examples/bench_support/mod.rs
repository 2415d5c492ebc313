//! Shared by the benchmarks (bench_projects, bench_writebacks, bench_console, bench_trace): a fresh database
//! per scenario, a 50-task project template, the shipped workflows pointed at it, and
//! percentiles. Not an example of its own (Cargo only builds examples/*.rs and
//! examples/*/main.rs).
#![allow(dead_code)]

pub mod load;

use std::path::{Path, PathBuf};

use handoff::config::Config;
use secrecy::ExposeSecret;
use sqlx::Connection;

/// The fixed master key of the benchmarks: invitations need one, and the databases are
/// thrown away.
pub const MASTER_KEY: &str = "YmVuY2gtb25seS1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=";
/// The template the bench workflows choose.
pub const TEMPLATE: &str = "bench-50";
pub const PHASES: usize = 5;
pub const TASKS_PER_PHASE: usize = 10;
pub const TASKS: usize = PHASES * TASKS_PER_PHASE;

/// A database that exists for one scenario: a SQLite file in a temporary folder, or, when
/// `HANDOFF_BENCH_DATABASE_URL` names a PostgreSQL server, a database created there and
/// dropped by [`BenchDb::drop_now`].
pub struct BenchDb {
    pub url: String,
    pub describe: String,
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl BenchDb {
    pub async fn new(tag: &str) -> anyhow::Result<BenchDb> {
        match std::env::var("HANDOFF_BENCH_DATABASE_URL") {
            Ok(admin) if admin.starts_with("postgres") => {
                let name = format!("handoff_bench_{tag}_{}", std::process::id());
                let mut conn = sqlx::PgConnection::connect(&admin).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                    .execute(&mut conn)
                    .await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&mut conn)
                    .await?;
                let sync: String = sqlx::query_scalar("SHOW synchronous_commit").fetch_one(&mut conn).await?;
                let fsync: String = sqlx::query_scalar("SHOW fsync").fetch_one(&mut conn).await?;
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin)?;
                url.set_path(&format!("/{name}"));
                Ok(BenchDb {
                    url: url.to_string(),
                    describe: format!("PostgreSQL (synchronous_commit={sync}, fsync={fsync})"),
                    pg: Some((admin, name)),
                    _dir: None,
                })
            }
            _ => {
                let dir = tempfile::tempdir()?;
                Ok(BenchDb {
                    url: format!("sqlite://{}", dir.path().join("bench.db").display()),
                    describe: "SQLite (WAL, synchronous=NORMAL)".to_owned(),
                    pg: None,
                    _dir: Some(dir),
                })
            }
        }
    }

    /// Drops the PostgreSQL database (the SQLite folder goes with the value).
    pub async fn drop_now(self) -> anyhow::Result<()> {
        if let Some((admin, name)) = &self.pg {
            let mut conn = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                .execute(&mut conn)
                .await?;
        }
        Ok(())
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }
}

/// The configuration every scenario starts from: this database, the fixed master key,
/// no SMTP (invitation emails stay queued), warnings only, and the bench template and
/// workflows written under `dir`.
pub fn config(db: &BenchDb, dir: &Path, workflows: &[(&str, &str)]) -> anyhow::Result<Config> {
    let env = [
        ("HANDOFF_DATABASE_URL".to_owned(), db.url.clone()),
        ("HANDOFF_MASTER_KEY".to_owned(), MASTER_KEY.to_owned()),
        ("HANDOFF_LOG".to_owned(), "warn".to_owned()),
    ];
    let mut config = Config::load(None, env)?.config;
    // Warnings and errors only, on stderr: a failure inside handoff is seen, not guessed.
    // (sqlx's slow-statement warnings would print whole 1,000-parameter statements.)
    let mut log = config.log.clone();
    log.filter = "warn,sqlx::query=error".into();
    handoff::telemetry::init(&log);
    let templates = dir.join("templates");
    let flows = dir.join("workflows");
    std::fs::create_dir_all(&templates)?;
    std::fs::create_dir_all(&flows)?;
    std::fs::write(templates.join(format!("{TEMPLATE}.toml")), template())?;
    for (name, text) in workflows {
        std::fs::write(flows.join(name), bench_workflow(text))?;
    }
    config.templates.dir = templates;
    config.workflows.dir = flows;
    Ok(config)
}

/// A 50-task template: 5 phases of 10 tasks, each task waiting for the one before it, so
/// completing them in template order is always allowed.
pub fn template() -> String {
    let mut t = String::from(
        "name = \"Benchmark onboarding (50 tasks)\"\n\
         description = \"Five phases of ten tasks, for the issue #5 benchmarks.\"\n\
         welcome_message = \"Welcome! This plan lists every step until go-live.\"\n",
    );
    let kinds = ["todo", "todo", "meeting", "todo", "question"];
    for p in 0..PHASES {
        t.push_str(&format!(
            "\n[[phases]]\nkey = \"phase-{p}\"\nname = \"Phase {}\"\ndescription = \"Tasks {} to {}.\"\n",
            p + 1,
            p * TASKS_PER_PHASE + 1,
            (p + 1) * TASKS_PER_PHASE
        ));
        for k in 0..TASKS_PER_PHASE {
            let n = p * TASKS_PER_PHASE + k;
            let kind = kinds[n % kinds.len()];
            t.push_str(&format!(
                "\n[[phases.tasks]]\nkey = \"{}\"\ntitle = \"Step {} of the onboarding\"\ntype = \"{kind}\"\n",
                task_key(n),
                n + 1
            ));
            match kind {
                "meeting" => t.push_str("duration_minutes = 30\n"),
                "question" => t.push_str("prompt = \"Anything blocking the next step?\"\n"),
                _ => {}
            }
            if n.is_multiple_of(3) {
                t.push_str("visibility = \"internal\"\n");
            }
            t.push_str(&format!("due_in_business_days = {}\n", 1 + n / 2));
            if n > 0 {
                t.push_str(&format!("depends_on = [\"{}\"]\n", task_key(n - 1)));
            }
        }
    }
    t
}

pub fn task_key(n: usize) -> String {
    format!("task-{n:02}")
}

/// A shipped workflow with only its template choice replaced by the bench template:
/// trigger, customers and writeback rules stay as shipped.
pub fn bench_workflow(shipped: &str) -> String {
    let start = shipped.find("[template]").expect("a shipped workflow has a [template] table");
    let end = shipped.find("[project]").expect("a shipped workflow has a [project] table");
    format!("{}[template]\nname = \"{TEMPLATE}\"\n\n{}", &shipped[..start], &shipped[end..])
}

pub const HUBSPOT_WORKFLOW: (&str, &str) = ("hubspot-closedwon.toml", include_str!("../../workflows/hubspot-closedwon.toml"));
pub const SALESFORCE_WORKFLOW: (&str, &str) = (
    "salesforce-closed-won.toml",
    include_str!("../../workflows/salesforce-closed-won.toml"),
);

/// The value at `p` (0..=1) of sorted values.
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A small deterministic generator (SplitMix64) for shuffling.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

pub fn temp_dir() -> anyhow::Result<(tempfile::TempDir, PathBuf)> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().to_owned();
    Ok((dir, path))
}

/// The token of the link in a queued email, as the email would carry it (`id_field`
/// names the link's id in the outbox payload: the first queued email that has one).
/// Nothing sends the emails in a benchmark; the ones looked at stay claimed.
pub async fn link_token(state: &handoff::app::AppState, id_field: &str, kind: handoff::engine::invite::LinkKind) -> anyhow::Result<String> {
    let item = state
        .store
        .claim_outbox(handoff::domain::outbox::OutboxKind::Email, 1_000, chrono::Duration::minutes(5))
        .await?
        .into_iter()
        .find(|item| !item.payload[id_field].is_null())
        .ok_or_else(|| anyhow::anyhow!("no queued email has a {id_field}"))?;
    let id: uuid::Uuid = serde_json::from_value(item.payload[id_field].clone())?;
    let sealed = item.payload["sealed_token"].as_str().expect("a sealed token");
    let sealer = handoff::store::sealed::Sealer::new(state.config.secrets.master_key.as_ref())?;
    Ok(handoff::engine::invite::unseal_link(kind, &sealer, id, sealed)?
        .expose_secret()
        .to_owned())
}

/// Signs in with a link (its confirmation page's POST); returns the session cookie.
pub async fn sign_in(base: &str, path: &str, cookie_name: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let response = client.post(format!("{base}{path}")).send().await?;
    anyhow::ensure!(response.status() == 303, "signing in at {path} answered {}", response.status());
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{cookie_name}=")))
        .expect("a session cookie");
    Ok(cookie.split(';').next().unwrap_or_default().to_owned())
}
