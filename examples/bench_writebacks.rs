//! Writeback economy benchmark (issue #5): a burst of 10,000 task completions, and what
//! it costs in CRM API calls and time until the CRM has heard of each completion.
//!
//!     cargo run --release --example bench_writebacks               # 10,000 completions over 200 projects
//!     cargo run --release --example bench_writebacks -- 1000       # the same over 1,000 projects (10 each)
//!     HANDOFF_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!         cargo run --release --example bench_writebacks           # PostgreSQL (own databases)
//!
//! For each bundled CRM (Salesforce, then HubSpot), on a fresh database: the sandbox runs
//! in this process with P won deals; handoff backfills them and the shipped workflow (with
//! a 50-task template instead of the shipped ones) makes P projects. Then handoff is served
//! (`handoff::app::serve`) so that its own `deliver-writebacks` job (every second, batched
//! and coalesced per record) delivers, and the projects' creation writebacks are drained.
//!
//! The burst: 8 workers complete 10,000 tasks through `Engine::complete_task`, in
//! dependency order, spread evenly over the P projects (10,000 / P each, interleaved so
//! that every project changes throughout the burst — the hard case for coalescing). Each
//! completion queues its writebacks (progress changed, and phase completed after a
//! phase's tenth task); the shipped rules write the progress field to the deal and log a
//! completed activity per finished phase.
//!
//! Calls: the sandbox's request log from the start of the burst until every writeback is
//! delivered; nothing else calls the CRM then (no poll, no webhook to resolve).
//! Latency: per completion, from its commit to the `done_at` of the last outbox row it
//! queued (stamped after the CRM answered the call carrying it), read from the outbox.
//! The sandbox's rate limits are off so the figures show handoff's cost; at these rates
//! they would not bind anyway (HubSpot: 190 calls per 10 s).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "bench_support/mod.rs"]
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use handoff::app::AppState;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings, SalesforceAuth, SalesforceSettings};
use handoff::config::{Config, ConnectionConfig};
use handoff::domain::ProjectId;
use handoff::domain::change::{ChangeSource, ObjectKind};
use handoff::domain::people::Actor;
use handoff::domain::writeback::QueuedWriteback;
use handoff::engine::run::{Planner, run_pending};
use handoff::sync::poll::poll_once;
use sandbox_hubspot as hs;
use sandbox_salesforce as sf;
use secrecy::SecretString;
use sqlx::types::Json;
use support::BenchDb;

const COMPLETIONS: usize = 10_000;
const WORKERS: usize = 8;
/// A burst whose writebacks are not all delivered by then is reported as such.
const LIMIT: Duration = Duration::from_secs(300);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    crm_http::install_crypto_provider();
    let projects: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(200);
    anyhow::ensure!(
        projects * support::TASKS >= COMPLETIONS && COMPLETIONS.is_multiple_of(projects),
        "10,000 completions must fit evenly in the projects' 50 tasks: use 200, 250, 400, 500, 1000, 2000, …"
    );
    println!(
        "{COMPLETIONS} task completions over {projects} projects ({} each, so {projects} CRM records change throughout the burst)",
        COMPLETIONS / projects
    );
    for crm in [Crm::Salesforce, Crm::Hubspot] {
        let db = BenchDb::new(match crm {
            Crm::Salesforce => "wb_salesforce",
            Crm::Hubspot => "wb_hubspot",
        })
        .await?;
        if crm == Crm::Salesforce {
            println!("database: {}", db.describe);
        }
        let result = scenario(&db, crm, projects).await;
        db.drop_now().await?;
        result?;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Crm {
    Salesforce,
    Hubspot,
}

/// The running sandbox, for its request log.
enum Sandbox {
    Salesforce(sf::Sandbox),
    Hubspot(hs::Sandbox),
}

impl Sandbox {
    fn requests(&self) -> hs::RequestLog {
        match self {
            Sandbox::Salesforce(s) => s.requests(),
            Sandbox::Hubspot(s) => s.requests(),
        }
    }

    async fn shutdown(self) {
        match self {
            Sandbox::Salesforce(s) => s.shutdown().await,
            Sandbox::Hubspot(s) => s.shutdown().await,
        }
    }
}

async fn start_salesforce(deals: usize, config: &mut Config) -> anyhow::Result<Sandbox> {
    let mut seed = sf::Seed::generate(0, 42);
    seed.accounts.clear();
    seed.contacts.clear();
    seed.contact_roles.clear();
    let owners: Vec<String> = seed.users.iter().filter_map(|u| u.key.clone()).collect();
    let text = |s: String| sf::Scalar::Text(s);
    for a in 0..deals.div_ceil(4) {
        seed.accounts.push(sf::SeedRecord::new(
            Some(format!("bacc{a}")),
            &[("Name", text(format!("Bench Account {a}"))), ("Type", text("Customer".into()))],
        ));
    }
    for i in 0..deals {
        let account = format!("@bacc{}", i / 4);
        seed.contacts.push(sf::SeedRecord::new(
            Some(format!("bct{i}")),
            &[
                ("FirstName", text("Dana".into())),
                ("LastName", text(format!("Deal{i}"))),
                ("Email", text(format!("dana.deal{i}@example.com"))),
                ("AccountId", text(account.clone())),
            ],
        ));
        let mut fields = vec![
            ("Name", text(format!("Bench Opportunity {i}"))),
            ("AccountId", text(account)),
            ("StageName", text("Closed Won".into())),
            ("CloseDate", text("2026-03-02".into())),
            ("Amount", sf::Scalar::Int(10_000 + i as i64)),
            ("Type", text("New Business".into())),
            ("Product_Line__c", text("Core Platform".into())),
        ];
        if !owners.is_empty() {
            fields.push(("OwnerId", text(format!("@{}", owners[i % owners.len()]))));
        }
        seed.opportunities.push(sf::SeedRecord::new(Some(format!("bopp{i}")), &fields));
        seed.contact_roles.push(sf::SeedRecord::new(
            None,
            &[
                ("OpportunityId", text(format!("@bopp{i}"))),
                ("ContactId", text(format!("@bct{i}"))),
                ("Role", text("Decision Maker".into())),
                ("IsPrimary", sf::Scalar::Bool(true)),
            ],
        ));
    }
    let sb = sf::start(sf::Config {
        seed,
        daily_api_limit: None,
        ..sf::Config::for_tests()
    })
    .await?;
    config.connections = vec![ConnectionConfig {
        name: "salesforce".into(),
        poll_interval: Duration::from_secs(3600),
        crm: CrmSettings::Salesforce(SalesforceSettings {
            login_url: sb.base_url().parse()?,
            api_version: "67.0".into(),
            auth: SalesforceAuth::JwtBearer {
                client_id: sf::DEFAULT_CLIENT_ID.into(),
                username: sf::DEFAULT_USERNAME.into(),
                private_key: SecretString::from(sf::TEST_JWT_PRIVATE_KEY_PEM),
                client_secret: None,
            },
            organization_id: sb.organization_id().to_owned(),
            webhook_secret: SecretString::from("unused"),
        }),
    }];
    Ok(Sandbox::Salesforce(sb))
}

async fn start_hubspot(deals: usize, config: &mut Config) -> anyhow::Result<Sandbox> {
    let mut seed = hs::Seed::generate(0, 42);
    seed.companies.clear();
    seed.contacts.clear();
    seed.deals.clear();
    let owners: Vec<String> = seed.owners.iter().map(|o| o.id.clone()).collect();
    let text = |s: String| hs::Scalar::Text(s);
    for d in 0..deals {
        seed.contacts.push(hs::SeedRecord {
            key: Some(format!("ct{d}")),
            properties: [
                ("firstname".to_owned(), text("Lena".into())),
                ("lastname".to_owned(), text(format!("Deal{d}"))),
                ("email".to_owned(), text(format!("lena.deal{d}@example.com"))),
            ]
            .into(),
            ..Default::default()
        });
        let mut properties: std::collections::BTreeMap<String, hs::Scalar> = [
            ("dealname".to_owned(), text(format!("Bench deal {d}"))),
            ("dealstage".to_owned(), text("closedwon".into())),
            ("pipeline".to_owned(), text("default".into())),
            ("amount".to_owned(), hs::Scalar::Int(10_000 + d as i64)),
            ("closedate".to_owned(), text("2026-03-02T17:00:00Z".into())),
            ("product_line".to_owned(), text("core".into())),
        ]
        .into();
        if !owners.is_empty() {
            properties.insert("hubspot_owner_id".into(), text(owners[d % owners.len()].clone()));
        }
        seed.deals.push(hs::SeedRecord {
            properties,
            associations: vec![hs::SeedLink {
                to: format!("ct{d}"),
                labels: vec!["Decision maker".into()],
            }],
            ..Default::default()
        });
    }
    let sb = hs::start(hs::Config {
        seed,
        rate_limits: hs::RateLimits::unlimited(),
        ..hs::Config::for_tests()
    })
    .await?;
    config.connections = vec![ConnectionConfig {
        name: "hubspot".into(),
        poll_interval: Duration::from_secs(3600),
        crm: CrmSettings::Hubspot(HubspotSettings {
            base_url: sb.base_url().parse()?,
            client_id: None,
            auth: HubspotAuth::PrivateApp {
                token: SecretString::from(hs::DEFAULT_PRIVATE_APP_TOKEN),
            },
            client_secret: None,
            portal_id: Some(hs::Config::for_tests().portal_id),
            accept_legacy_signatures: false,
        }),
    }];
    Ok(Sandbox::Hubspot(sb))
}

async fn scenario(db: &BenchDb, crm: Crm, projects: usize) -> anyhow::Result<()> {
    let (_dir, path) = support::temp_dir()?;
    let workflow = match crm {
        Crm::Salesforce => support::SALESFORCE_WORKFLOW,
        Crm::Hubspot => support::HUBSPOT_WORKFLOW,
    };
    let mut config = support::config(db, &path, &[workflow])?;
    let sb = match crm {
        Crm::Salesforce => start_salesforce(projects, &mut config).await?,
        Crm::Hubspot => start_hubspot(projects, &mut config).await?,
    };
    let connection = config.connections[0].name.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    config.server.base_url = format!("http://{}", listener.local_addr()?).parse()?;
    let state = AppState::build(config).await?;

    // Setup: the won deals become projects (backfill, then the workflow).
    let setup = Instant::now();
    let adapter = state.crms.get(&connection).expect("the connection has an adapter").clone();
    poll_once(
        &state.store,
        adapter.as_ref(),
        ObjectKind::Deal,
        ChangeSource::Backfill,
        &mut |_| {},
    )
    .await?;
    let sealer = handoff::store::sealed::Sealer::new(state.config.secrets.master_key.as_ref())?;
    loop {
        let now = Utc::now();
        let planner = Planner {
            catalog: &state.catalog,
            sealer: Some(&sealer),
            now,
            today: now.date_naive(),
            invitation_validity: state.config.portal.invitation_validity,
        };
        if run_pending(&state.store, &state.workflows, &planner, 500).await?.changes == 0 {
            break;
        }
    }
    let ids: Vec<ProjectId> = state.store.list_projects().await?.into_iter().map(|s| s.project.id).collect();
    anyhow::ensure!(ids.len() == projects, "{} projects made from {projects} won deals", ids.len());

    // Served: its deliver-writebacks job delivers from now on; first the creations' rows.
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(handoff::app::serve(listener, state.clone(), async move {
        let _ = stop_rx.await;
    }));
    wait_delivered(&state, Duration::from_secs(120)).await?;
    let setup_secs = setup.elapsed().as_secs_f64();

    // The burst.
    let log = sb.requests();
    let (calls_before, endpoints_before) = (log.total(), log.by_endpoint());
    let burst_start_at = Utc::now();
    let started = Instant::now();
    let per_project = COMPLETIONS / projects;
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..WORKERS {
        let mine: Vec<ProjectId> = ids.iter().copied().skip(w).step_by(WORKERS).collect();
        let state = state.clone();
        workers.spawn(async move {
            let mut done = Vec::with_capacity(mine.len() * per_project);
            for n in 0..per_project {
                let key = support::task_key(n);
                for project in &mine {
                    let outcome = state.engine.complete_task(*project, &key, Actor::System, "bench").await?;
                    anyhow::ensure!(outcome == handoff::engine::Completion::Completed, "{key} was already completed");
                    done.push((*project, n, Utc::now()));
                }
            }
            Ok(done)
        });
    }
    let mut completions = Vec::with_capacity(COMPLETIONS);
    for r in workers.join_all().await {
        completions.extend(r?);
    }
    let burst_secs = started.elapsed().as_secs_f64();
    let burst_end_at = Utc::now();
    wait_delivered(&state, LIMIT).await?;
    let drained_secs = started.elapsed().as_secs_f64();
    let log = sb.requests();
    let calls = log.total() - calls_before;
    let endpoints: Vec<String> = log
        .by_endpoint()
        .into_iter()
        .filter_map(|(e, n)| {
            let n = n - endpoints_before.get(&e).copied().unwrap_or(0);
            (n > 0).then(|| format!("{n} {e}"))
        })
        .collect();
    let outbox = state.store.outbox_counts(handoff::domain::outbox::OutboxKind::Writeback).await?;
    let rows = burst_rows(db, burst_start_at).await?;
    let _ = stop_tx.send(());
    server.await??;
    sb.shutdown().await;

    // Per completion: the last of its rows to be done.
    let mut done_at: HashMap<(ProjectId, String), DateTime<Utc>> = HashMap::new();
    let mut unsettled = 0;
    for (queued, done) in &rows {
        let Some(title) = &queued.task_title else { continue };
        match done {
            Some(at) => {
                let slot = done_at.entry((queued.project_id, title.clone())).or_insert(*at);
                *slot = (*slot).max(*at);
            }
            None => unsettled += 1,
        }
    }
    let mut latencies: Vec<f64> = completions
        .iter()
        .filter_map(|(project, n, at)| {
            let title = format!("Step {} of the onboarding", n + 1);
            done_at
                .get(&(*project, title))
                .map(|done| (*done - *at).num_microseconds().unwrap_or(0).max(0) as f64 / 1e6)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);

    let name = match crm {
        Crm::Salesforce => "Salesforce",
        Crm::Hubspot => "HubSpot",
    };
    println!("\n{name}: {projects} projects from won deals (setup {setup_secs:.1} s)");
    println!(
        "  burst: {} completions in {burst_secs:.1} s ({:.0}/s, {WORKERS} workers); all writebacks delivered {:.1} s after the burst began",
        completions.len(),
        completions.len() as f64 / burst_secs,
        drained_secs
    );
    println!(
        "  CRM API calls: {calls} = {:.4} per completion ({})",
        calls as f64 / completions.len() as f64,
        endpoints.join(", ")
    );
    println!(
        "  completion → CRM: p50 {:.2} s, p95 {:.2} s, max {:.2} s ({} of {} completions seen delivered)",
        support::pct(&latencies, 0.50),
        support::pct(&latencies, 0.95),
        support::pct(&latencies, 1.0),
        latencies.len(),
        completions.len()
    );
    let during = rows.iter().filter(|(_, done)| done.is_some_and(|d| d <= burst_end_at)).count();
    println!(
        "  delivery pace: {during} of the burst's {} rows were done while the burst ran ({:.0} rows/s), the other {} in the {:.1} s after it",
        rows.len(),
        during as f64 / burst_secs,
        rows.len() - during,
        drained_secs - burst_secs
    );
    println!(
        "  outbox writeback rows: {} queued by the burst, {} done in all, {} pending, {} dead{}",
        rows.len(),
        outbox.done,
        outbox.pending,
        outbox.dead,
        if unsettled > 0 {
            format!(" ({unsettled} of the burst's rows never delivered)")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// Waits until no writeback is pending.
async fn wait_delivered(state: &AppState, limit: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if state
            .store
            .outbox_counts(handoff::domain::outbox::OutboxKind::Writeback)
            .await?
            .pending
            == 0
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    println!("  (writebacks still pending after {} s)", limit.as_secs());
    Ok(())
}

/// The writeback rows queued since `since`, with when each was done. A read-only query on
/// the outbox table: the store has no accessor for rows' delivery times.
async fn burst_rows(db: &BenchDb, since: DateTime<Utc>) -> anyhow::Result<Vec<(QueuedWriteback, Option<DateTime<Utc>>)>> {
    const SQL: &str = "SELECT payload, done_at FROM outbox WHERE kind = 'writeback' AND created_at >= $1";
    let rows: Vec<(Json<QueuedWriteback>, Option<DateTime<Utc>>)> = if db.is_postgres() {
        let pool = sqlx::PgPool::connect(&db.url).await?;
        let rows = sqlx::query_as(SQL).bind(since).fetch_all(&pool).await?;
        pool.close().await;
        rows
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url).await?;
        let rows = sqlx::query_as(SQL).bind(since).fetch_all(&pool).await?;
        pool.close().await;
        rows
    };
    Ok(rows.into_iter().map(|(q, done)| (q.0, done)).collect())
}
