//! Project creation benchmark (issue #5): won HubSpot deals, announced by signed webhooks,
//! become projects from a 50-task template with 5 contacts each and queued invitations.
//!
//!     cargo run --release --example bench_projects                 # 1,000 deals, SQLite
//!     cargo run --release --example bench_projects -- 2000         # another volume
//!     HANDOFF_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!         cargo run --release --example bench_projects             # PostgreSQL (own databases)
//!
//! The HubSpot sandbox runs in this process with N won deals (pipeline `default`, stage
//! `closedwon`), each with 5 contacts carrying the shipped workflow's association labels:
//! a Decision maker (invited now), three Technical contacts (invited when active: the
//! project starts active, so at once) and a Billing contact (added silently) — 5
//! memberships and 4 invitations per project. The shipped HubSpot workflow runs with one
//! change: it picks a 50-task template (5 phases × 10).
//!
//! Each deal has two events (`deal.creation`, `deal.propertyChange` of dealstage to
//! closedwon); every event is delivered twice (the second as a retry), and the 4N
//! deliveries are shuffled and posted, signed (v3), in batches of 100 to a running handoff.
//! The clock runs from the first POST until all N projects are committed with their
//! memberships, invitations and the outbox rows that will email them (SMTP is not
//! configured: the emails stay queued). Then nothing more may appear: the counts must be
//! exactly N projects, 5N memberships, 4N invitations and 4N email rows. A batch refused
//! with a 5xx is retried, as HubSpot would, and counted. The output also says how often
//! the engine handled each stored change (more than once is wasted work, not a duplicate).
//!
//! Two figures, each on a fresh database and sandbox:
//! 1. **served**: `handoff::app::serve` with its own schedules — the resolve job turns
//!    inbound events into changes and runs the workflows every `RESOLVE_EVERY` (2 s),
//!    and keeps going while changes remain (up to 30 s a tick; claims keep overlapping
//!    ticks apart). This is what a deployment does.
//! 2. **back to back**: the same HTTP intake, with `resolve_inbound` + `run_pending`
//!    called in a loop with no pause: the engine's own capacity, without the schedule.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "bench_support/mod.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use handoff::app::AppState;
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings};
use handoff::engine::run::{Planner, run_pending};
use handoff::store::EngineCounts;
use handoff::sync::process::resolve_inbound;
use sandbox_hubspot as sandbox;
use secrecy::SecretString;
use support::BenchDb;

const SECRET: &str = "bench-client-secret";
const CONTACTS_PER_DEAL: usize = 5;
/// The labels of each deal's contacts, in order (see the module comment).
const LABELS: [&str; CONTACTS_PER_DEAL] = [
    "Decision maker",
    "Technical contact",
    "Technical contact",
    "Billing contact",
    "Technical contact",
];
const INVITED_PER_DEAL: usize = 4;
const EVENTS_PER_BATCH: usize = 100;
const CLIENTS: usize = 4;
/// A run that has not finished by then is reported as such.
const LIMIT: Duration = Duration::from_secs(900);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Served,
    BackToBack,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    crm_http::install_crypto_provider();
    let deals: usize = std::env::args().nth(1).map(|n| n.parse()).transpose()?.unwrap_or(1000);
    println!(
        "{deals} won HubSpot deals × {} contacts, template of {} tasks; each of 2 events per deal delivered twice, shuffled",
        CONTACTS_PER_DEAL,
        support::TASKS
    );
    for mode in [Mode::Served, Mode::BackToBack] {
        let db = BenchDb::new(match mode {
            Mode::Served => "projects_served",
            Mode::BackToBack => "projects_loop",
        })
        .await?;
        if mode == Mode::Served {
            println!("database: {}", db.describe);
        }
        let result = scenario(&db, deals, mode).await;
        db.drop_now().await?;
        result?;
    }
    Ok(())
}

/// The sandbox's seed: the fixture's owners, properties and labels, then per deal one
/// company every 10 deals and 5 contacts of its own.
fn seed(deals: usize) -> sandbox::Seed {
    let mut seed = sandbox::Seed::generate(0, 42);
    seed.companies.clear();
    seed.contacts.clear();
    seed.deals.clear();
    let owners: Vec<String> = seed.owners.iter().map(|o| o.id.clone()).collect();
    let text = |s: String| sandbox::Scalar::Text(s);
    for c in 0..deals.div_ceil(10) {
        seed.companies.push(sandbox::SeedRecord {
            key: Some(format!("co{c}")),
            properties: [
                ("name".to_owned(), text(format!("Bench Company {c}"))),
                ("domain".to_owned(), text(format!("company{c}.example.com"))),
            ]
            .into(),
            ..Default::default()
        });
    }
    for d in 0..deals {
        let mut links = Vec::new();
        for (k, label) in LABELS.iter().enumerate() {
            let key = format!("ct{d}_{k}");
            seed.contacts.push(sandbox::SeedRecord {
                key: Some(key.clone()),
                properties: [
                    ("firstname".to_owned(), text(format!("Person{k}"))),
                    ("lastname".to_owned(), text(format!("Deal{d}"))),
                    ("email".to_owned(), text(format!("person{k}.deal{d}@example.com"))),
                    ("jobtitle".to_owned(), text("Project Lead".to_owned())),
                ]
                .into(),
                company: Some(format!("co{}", d / 10)),
                ..Default::default()
            });
            links.push(sandbox::SeedLink {
                to: key,
                labels: vec![(*label).to_owned()],
            });
        }
        seed.deals.push(sandbox::SeedRecord {
            properties: [
                ("dealname".to_owned(), text(format!("Bench Company {} — deal {d}", d / 10))),
                ("dealstage".to_owned(), text("closedwon".to_owned())),
                ("pipeline".to_owned(), text("default".to_owned())),
                ("amount".to_owned(), sandbox::Scalar::Int(10_000 + d as i64)),
                ("closedate".to_owned(), text("2026-03-02T17:00:00Z".to_owned())),
                ("product_line".to_owned(), text("core".to_owned())),
                ("hubspot_owner_id".to_owned(), text(owners[d % owners.len()].clone())),
            ]
            .into(),
            company: Some(format!("co{}", d / 10)),
            associations: links,
            ..Default::default()
        });
    }
    seed
}

async fn scenario(db: &BenchDb, deals: usize, mode: Mode) -> anyhow::Result<()> {
    let sb = sandbox::start(sandbox::Config {
        seed: seed(deals),
        rate_limits: sandbox::RateLimits::unlimited(),
        ..sandbox::Config::for_tests()
    })
    .await?;
    let deal_ids = sb.ids(sandbox::ObjectType::Deals);
    assert_eq!(deal_ids.len(), deals);

    let (_dir, path) = support::temp_dir()?;
    let mut config = support::config(db, &path, &[support::HUBSPOT_WORKFLOW])?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    config.server.base_url = format!("http://{address}").parse()?;
    config.connections = vec![ConnectionConfig {
        name: "hubspot".into(),
        // The bench is about webhooks: no poll runs during it.
        poll_interval: Duration::from_secs(3600),
        crm: CrmSettings::Hubspot(HubspotSettings {
            base_url: sb.base_url().parse()?,
            client_id: None,
            auth: HubspotAuth::PrivateApp {
                token: SecretString::from(sandbox::DEFAULT_PRIVATE_APP_TOKEN),
            },
            client_secret: Some(SecretString::from(SECRET)),
            portal_id: Some(2_026_001),
            accept_legacy_signatures: false,
        }),
    }];
    let state = AppState::build(config).await?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stop_rx.await;
    };
    let server = match mode {
        // The whole application: HTTP and its schedules.
        Mode::Served => tokio::spawn(handoff::app::serve(listener, state.clone(), shutdown)),
        // HTTP only; the loop below does the schedules' work.
        Mode::BackToBack => {
            let app = handoff::web::router(state.web());
            tokio::spawn(async move {
                axum::serve(listener, app).with_graceful_shutdown(shutdown).await?;
                Ok::<(), anyhow::Error>(())
            })
        }
    };
    let calls_before = sb.requests().by_endpoint();

    let deliveries = deliveries(&deal_ids);
    let posted = deliveries.len();
    let target = format!("http://{address}/webhooks/hubspot/hubspot");
    let started = Instant::now();
    let stop_loop = Arc::new(AtomicBool::new(false));
    let looped = (mode == Mode::BackToBack).then(|| tokio::spawn(engine_loop(state.clone(), stop_loop.clone())));
    let retries = post_all(&target, deliveries).await?;
    let posting = started.elapsed().as_secs_f64();

    let expected = (deals as i64, (deals * CONTACTS_PER_DEAL) as i64, (deals * INVITED_PER_DEAL) as i64);
    let mut finished = None;
    // Projects committed at each 5 s mark: shows the schedule's steps.
    let mut progress = Vec::new();
    while started.elapsed() < LIMIT {
        let c = state.store.engine_counts().await?;
        if started.elapsed().as_secs() / 5 > progress.len() as u64 {
            progress.push(format!("{} s: {}", 5 * (progress.len() + 1), c.projects));
        }
        if c.projects >= expected.0 && c.memberships >= expected.1 && c.invitations >= expected.2 && c.outbox_emails >= c.invitations {
            finished = Some(started.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Anything still to come (a duplicate, a late event) would come now: wait until no
    // inbound event or change is pending, plus a resolve tick.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(60) {
        if state.store.pending_inbound_events(1).await?.is_empty() && state.store.pending_record_changes(1).await?.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(handoff::jobs::RESOLVE_EVERY + Duration::from_secs(1)).await;
    stop_loop.store(true, Ordering::Relaxed);
    let timings = match looped {
        Some(task) => Some(task.await??),
        None => None,
    };
    let counts = state.store.engine_counts().await?;
    let (changes, applications, repeated) = applications(db).await?;
    let crm_calls: Vec<(String, u64)> = sb
        .requests()
        .by_endpoint()
        .into_iter()
        .map(|(e, n)| {
            let n = n - calls_before.get(&e).copied().unwrap_or(0);
            (e, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    let _ = stop_tx.send(());
    server.await??;
    sb.shutdown().await;

    let label = match mode {
        Mode::Served => "served (handoff::app::serve, resolve job every 2 s, working while changes remain)",
        Mode::BackToBack => "back to back (resolve_inbound + run_pending in a loop, no schedule)",
    };
    println!("\n{label}");
    println!(
        "  events posted: {posted} ({} distinct) in {} batches, in {posting:.2} s; batches refused with a 5xx and retried: {retries}",
        posted / 2,
        posted.div_ceil(EVENTS_PER_BATCH)
    );
    match finished {
        Some(secs) => println!(
            "  {deals} projects committed with invitations queued in {secs:.2} s = {:.1} projects/s ({:.0} tasks/s)",
            deals as f64 / secs,
            (deals * support::TASKS) as f64 / secs
        ),
        None => println!("  NOT FINISHED within {} s", LIMIT.as_secs()),
    }
    if !progress.is_empty() {
        println!("  projects committed by {}", progress.join(", "));
    }
    report_counts(&counts, expected);
    println!(
        "  record changes: {changes}, handled {applications} times in all ({repeated} of them more than once{})",
        if repeated > 0 {
            ": overlapping resolve ticks took the same pending changes"
        } else {
            ""
        }
    );
    // Resolving reads (batch reads of deals, their associations and contacts); served,
    // the writeback job also reports each new project's status to its deal.
    let (writes, reads): (Vec<_>, Vec<_>) = crm_calls.iter().partition(|(e, _)| e.ends_with("/batch/update"));
    let reads: u64 = reads.iter().map(|(_, n)| n).sum();
    let writes: u64 = writes.iter().map(|(_, n)| n).sum();
    println!(
        "  HubSpot calls: {reads} to resolve the events ({:.3} per deal), {writes} status writebacks",
        reads as f64 / deals as f64
    );
    if let Some(t) = timings {
        println!(
            "  time in resolve_inbound {:.2} s ({} passes), in run_pending {:.2} s ({} passes, {:.2} ms per project)",
            t.resolve.as_secs_f64(),
            t.resolve_passes,
            t.run.as_secs_f64(),
            t.run_passes,
            t.run.as_secs_f64() * 1000.0 / deals as f64
        );
    }
    Ok(())
}

/// The record changes stored, how often the engine handled them in all (`attempts` counts
/// each handling), and how many it handled more than once. A read-only query: the store
/// has no accessor for it.
async fn applications(db: &BenchDb) -> anyhow::Result<(i64, i64, i64)> {
    const SQL: &str = "SELECT COUNT(*), COALESCE(SUM(attempts), 0), COALESCE(SUM(CASE WHEN attempts > 1 THEN 1 ELSE 0 END), 0) \
                       FROM record_changes";
    Ok(if db.is_postgres() {
        let pool = sqlx::PgPool::connect(&db.url).await?;
        let row = sqlx::query_as(SQL).fetch_one(&pool).await?;
        pool.close().await;
        row
    } else {
        let pool = sqlx::SqlitePool::connect(&db.url).await?;
        let row = sqlx::query_as(SQL).fetch_one(&pool).await?;
        pool.close().await;
        row
    })
}

fn report_counts(c: &EngineCounts, (projects, memberships, invitations): (i64, i64, i64)) {
    let mark = |ok: bool| if ok { "ok" } else { "MISMATCH" };
    println!(
        "  projects {} (expected {projects}, {}), memberships {} (expected {memberships}, {}), invitations {} (expected {invitations}, {}), \
         email outbox rows {} (= invitations: {})",
        c.projects,
        mark(c.projects == projects),
        c.memberships,
        mark(c.memberships == memberships),
        c.invitations,
        mark(c.invitations == invitations),
        c.outbox_emails,
        mark(c.outbox_emails == c.invitations)
    );
    let duplicates = (c.projects - projects).max(0) + (c.memberships - memberships).max(0) + (c.invitations - invitations).max(0);
    println!("  duplicates: {duplicates}");
}

#[derive(Default)]
struct Timings {
    resolve: Duration,
    run: Duration,
    resolve_passes: usize,
    run_passes: usize,
}

/// What the resolve job does, without its 2 s pause.
async fn engine_loop(state: AppState, stop: Arc<AtomicBool>) -> anyhow::Result<Timings> {
    let sealer = handoff::store::sealed::Sealer::new(state.config.secrets.master_key.as_ref())?;
    let mut t = Timings::default();
    while !stop.load(Ordering::Relaxed) {
        let at = Instant::now();
        let resolved = resolve_inbound(&state.store, &state.crms, 500).await?;
        if resolved.events > 0 {
            t.resolve += at.elapsed();
            t.resolve_passes += 1;
        }
        let now = chrono::Utc::now();
        let planner = Planner {
            catalog: &state.catalog,
            sealer: Some(&sealer),
            now,
            today: now.date_naive(),
            invitation_validity: state.config.portal.invitation_validity,
        };
        let at = Instant::now();
        let ran = run_pending(&state.store, &state.workflows, &planner, 200).await?;
        if ran.changes > 0 {
            t.run += at.elapsed();
            t.run_passes += 1;
        }
        anyhow::ensure!(resolved.failed == 0 && ran.failed == 0, "events or changes failed");
        if resolved.events == 0 && ran.changes == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    Ok(t)
}

/// Two events per deal, each twice (the copy as HubSpot's retry), shuffled.
fn deliveries(deal_ids: &[u64]) -> Vec<serde_json::Value> {
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64;
    let mut out = Vec::with_capacity(deal_ids.len() * 4);
    for (i, id) in deal_ids.iter().enumerate() {
        let base = 1_000_000 + 2 * i as u64;
        let created = serde_json::json!({
            "eventId": base, "subscriptionId": 11, "portalId": 2_026_001, "appId": 3_715_530,
            "occurredAt": now_ms - 60_000, "subscriptionType": "deal.creation", "objectId": id,
            "changeSource": "CRM_UI"
        });
        let won = serde_json::json!({
            "eventId": base + 1, "subscriptionId": 12, "portalId": 2_026_001, "appId": 3_715_530,
            "occurredAt": now_ms - 30_000, "subscriptionType": "deal.propertyChange", "objectId": id,
            "changeSource": "CRM_UI", "propertyName": "dealstage", "propertyValue": "closedwon"
        });
        for event in [created, won] {
            for attempt in 0..2 {
                let mut e = event.clone();
                e["attemptNumber"] = attempt.into();
                out.push(e);
            }
        }
    }
    support::Rng::new(7).shuffle(&mut out);
    out
}

/// Posts every delivery, `CLIENTS` batches at a time; returns the retries needed.
async fn post_all(target: &str, deliveries: Vec<serde_json::Value>) -> anyhow::Result<u64> {
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS).build()?;
    let batches: Vec<Vec<serde_json::Value>> = deliveries.chunks(EVENTS_PER_BATCH).map(<[_]>::to_vec).collect();
    let queue = Arc::new(std::sync::Mutex::new(batches.into_iter()));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CLIENTS {
        let (client, target, queue) = (client.clone(), target.to_owned(), queue.clone());
        tasks.spawn(async move {
            let mut retries = 0;
            loop {
                let Some(batch) = queue.lock().unwrap().next() else {
                    return Ok::<u64, anyhow::Error>(retries);
                };
                retries += post(&client, &target, &batch).await?;
            }
        });
    }
    let mut retries = 0;
    for r in tasks.join_all().await {
        retries += r?;
    }
    Ok(retries)
}

/// Posts one signed batch until it is acknowledged (204), as HubSpot does: a 5xx or a
/// failed connection is retried (HubSpot waits longer; the bench retries after 100 ms).
/// Returns the number of retries.
async fn post(client: &reqwest::Client, target: &str, events: &[serde_json::Value]) -> anyhow::Result<u64> {
    let body = serde_json::to_vec(events)?;
    let mut retries = 0;
    loop {
        let ts = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis().to_string();
        let signature = crm_hubspot::webhook::sign_v3(SECRET, "POST", target, &body, &ts);
        let sent = client
            .post(target)
            .header("content-type", "application/json")
            .header("x-hubspot-signature-v3", signature)
            .header("x-hubspot-request-timestamp", ts)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(r) if r.status() == 204 => return Ok(retries),
            Ok(r) if r.status().is_server_error() && retries < 10 => {}
            Ok(r) => {
                let status = r.status();
                anyhow::bail!("status {status}: {}", r.text().await.unwrap_or_default())
            }
            Err(_) if retries < 10 => {}
            Err(e) => return Err(e.into()),
        }
        retries += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
