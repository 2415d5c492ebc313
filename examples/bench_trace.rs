//! Record trace benchmark (issue #14): the Trace page of one HubSpot deal that the hub
//! has received 1,000 changes of, against a page that reads nothing from the database
//! (the console's sign-in page) in the same run.
//!
//!     cargo run --release --example bench_trace                   # SQLite
//!     HANDOFF_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!         cargo run --release --example bench_trace               # PostgreSQL (own database)
//!
//! The deal's history is made the way the hub makes it: each change is stored as a poll
//! page stores it, and the shipped HubSpot workflow runs on it before the next arrives —
//! 499 edits while the deal is open (each decision: skipped, with the stage it saw), the
//! win (fired: a project from a 50-task template with its contact invited), then 500
//! edits of the won deal (kept in step). So the trace holds 1,000 changes, 1,000
//! decisions, the project, its invitation and its writebacks. An admin signs in the real
//! way (an emailed console link), the page is checked once in full, then fetched alone,
//! one request after another on one connection, 500 times; so is the reference page.
//! Figures: p50 / p95 / max of each (goal: the trace's p95 ≤ 50 ms), and the ratio.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "bench_support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use chrono::Utc;
use handoff::app::AppState;
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings};
use handoff::domain::Email;
use handoff::domain::change::{ChangeSource, ContactRole, ObjectKind, RecordChange};
use handoff::domain::people::StaffRole;
use handoff::engine::run::{Planner, run_pending};
use handoff::store::NewStaff;
use secrecy::SecretString;
use support::BenchDb;
use support::load::{Target, each_alone};

const CONNECTION: &str = "hubspot";
const DEAL: &str = "9000000001";
const CHANGES: usize = 1_000;
/// The change (1-based) that moves the deal into closedwon.
const WON_AT: usize = 500;
const REQUESTS: u32 = 500;
const ADMIN: &str = "ada@handoff.example";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    crm_http::install_crypto_provider();
    let db = BenchDb::new("trace").await?;
    let (_dir, dir) = support::temp_dir()?;
    let mut config = support::config(&db, &dir, &[support::HUBSPOT_WORKFLOW])?;
    // The connection the workflow names. Nothing here calls it: the changes are stored
    // as a poll would store them, and no jobs run.
    config.connections = vec![ConnectionConfig {
        name: CONNECTION.into(),
        poll_interval: Duration::from_secs(24 * 3600),
        crm: CrmSettings::Hubspot(HubspotSettings {
            base_url: "http://127.0.0.1:9".parse()?,
            client_id: None,
            auth: HubspotAuth::PrivateApp {
                token: SecretString::from("pat-bench"),
            },
            client_secret: Some(SecretString::from("bench-secret")),
            portal_id: Some(1),
            accept_legacy_signatures: false,
        }),
    }];
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    config.server.base_url = format!("http://{address}").parse()?;
    let state = AppState::build(config).await?;

    let started = Instant::now();
    seed(&state).await?;
    println!(
        "record trace: deal {DEAL} with {CHANGES} changes (won at change {WON_AT}), {} — history made in {:.1} s",
        db.describe,
        started.elapsed().as_secs_f64()
    );

    state
        .engine
        .add_staff(
            &NewStaff {
                email: Email::parse(ADMIN)?,
                first_name: Some("Ada".into()),
                last_name: Some("Admin".into()),
                crm_users: Vec::new(),
                role: StaffRole::Admin,
            },
            "bench",
        )
        .await?;
    state.engine.request_console_link(&Email::parse(ADMIN)?).await?;
    let token = support::link_token(&state, "link_id", handoff::engine::invite::LinkKind::ConsoleSignIn).await?;

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = handoff::web::router(state.web());
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });
    let base = format!("http://{address}");
    let cookie = support::sign_in(&base, &format!("/console/link/{token}"), "handoff_console").await?;
    let trace_path = format!("/console/admin/trace?connection={CONNECTION}&record={DEAL}");
    let reference_path = "/console/sign-in";
    let http = reqwest::Client::new();
    let trace_length = check_trace(&http, &format!("{base}{trace_path}"), &cookie).await?;
    let reference_length = http.get(format!("{base}{reference_path}")).send().await?.text().await?.len();
    let trace = Target::new(address, &trace_path, &cookie, trace_length);
    let reference = Target::new(address, reference_path, "none=1", reference_length);

    let (trace_times, reference_times) = std::thread::spawn(move || {
        // The requests come from their own thread and runtime, so they do not queue
        // behind the server's tasks (the cores are still shared).
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let trace_times = each_alone(&trace, REQUESTS).await?;
            let reference_times = each_alone(&reference, REQUESTS).await?;
            anyhow::Ok((trace_times, reference_times))
        })
    })
    .join()
    .expect("the load thread")?;
    let show = |what: &str, kb: usize, t: &[f64]| {
        println!(
            "  {what} ({:.1} KB): p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms over {REQUESTS} requests, one at a time",
            kb as f64 / 1024.0,
            support::pct(t, 0.50),
            support::pct(t, 0.95),
            t.last().copied().unwrap_or_default()
        );
    };
    show("trace page, 1,000 changes", trace_length, &trace_times);
    show("reference: the sign-in page", reference_length, &reference_times);
    println!(
        "  ratio trace / reference: {:.1} (p95) — goal: the trace's p95 ≤ 50 ms",
        support::pct(&trace_times, 0.95) / support::pct(&reference_times, 0.95)
    );

    // The part of the page that is the database and the engine: the trace itself.
    let mut assembling = Vec::with_capacity(REQUESTS as usize);
    for _ in 0..REQUESTS {
        let at = Instant::now();
        let trace = handoff::engine::trace::trace_record(&state.store, CONNECTION, DEAL, Utc::now()).await?;
        anyhow::ensure!(trace.changes.len() == CHANGES);
        assembling.push(at.elapsed().as_secs_f64() * 1000.0);
    }
    assembling.sort_by(f64::total_cmp);
    let mut reading = Vec::with_capacity(REQUESTS as usize);
    for _ in 0..REQUESTS {
        let at = Instant::now();
        let rows = state
            .store
            .record_trace(CONNECTION, DEAL, handoff::engine::trace::TRACE_LIMIT)
            .await?;
        anyhow::ensure!(rows.changes.len() == CHANGES);
        reading.push(at.elapsed().as_secs_f64() * 1000.0);
    }
    reading.sort_by(f64::total_cmp);
    println!(
        "  of which reading and assembling the trace (engine::trace, no HTTP): p50 {:.2} ms, p95 {:.2} ms",
        support::pct(&assembling, 0.50),
        support::pct(&assembling, 0.95)
    );
    println!(
        "  of which reading the rows (store::record_trace): p50 {:.2} ms, p95 {:.2} ms",
        support::pct(&reading, 0.50),
        support::pct(&reading, 0.95)
    );

    let _ = stop.send(());
    server.await??;
    db.drop_now().await?;
    Ok(())
}

/// The deal at its `n`th change (1-based): its amount moves on every edit; from
/// [`WON_AT`] on it is won.
fn change(n: usize) -> RecordChange {
    let stage = if n < WON_AT { "appointmentscheduled" } else { "closedwon" };
    let fields = serde_json::json!({
        "dealname": "Initech — Analytics rollout",
        "dealstage": stage,
        "pipeline": "default",
        "amount": format!("{}", 10_000 + n * 10),
        "closedate": "2026-12-01T00:00:00Z",
        "product_line": "analytics",
    });
    RecordChange {
        connection: CONNECTION.into(),
        object: ObjectKind::Deal,
        external_id: DEAL.into(),
        fields: fields.as_object().cloned().unwrap_or_default(),
        contacts: vec![ContactRole {
            external_id: "7000000001".into(),
            email: Some("dana@initech.example".into()),
            first_name: Some("Dana".into()),
            last_name: Some("Scully".into()),
            title: None,
            roles: vec!["Decision maker".into()],
            is_primary: true,
        }],
        company: None,
        users: Default::default(),
        company_contacts: Vec::new(),
        modified_at: Utc::now() - chrono::Duration::seconds((CHANGES - n) as i64),
        deleted: false,
        source: ChangeSource::Poll,
    }
}

/// Each change stored as a poll page, then the workflows run on it.
async fn seed(state: &AppState) -> anyhow::Result<()> {
    let sealer = handoff::store::sealed::Sealer::new(state.config.secrets.master_key.as_ref())?;
    let mut projects = 0;
    for n in 1..=CHANGES {
        let c = change(n);
        let cursor = c.modified_at.to_rfc3339();
        state
            .store
            .record_poll_page(CONNECTION, ObjectKind::Deal.as_str(), &[c], &cursor)
            .await?;
        let now = Utc::now();
        let planner = Planner {
            catalog: &state.catalog,
            sealer: Some(&sealer),
            now,
            today: now.date_naive(),
            invitation_validity: state.config.portal.invitation_validity,
        };
        let report = run_pending(&state.store, &state.workflows, &planner, 100).await?;
        anyhow::ensure!(report.failed == 0, "change {n} failed: {report:?}");
        projects += report.projects_created;
    }
    anyhow::ensure!(projects == 1, "the win made {projects} projects, not one");
    Ok(())
}

/// The trace answers 200 with every change, the project and the decisions.
async fn check_trace(client: &reqwest::Client, url: &str, cookie: &str) -> anyhow::Result<usize> {
    let response = client.get(url).header("cookie", cookie).send().await?;
    anyhow::ensure!(response.status() == 200, "{url} answered {}", response.status());
    let body = response.text().await?;
    anyhow::ensure!(body.contains("This record has a project"), "the trace lacks its project");
    let changes = body.matches("id=\"change-").count();
    anyhow::ensure!(changes == CHANGES, "the trace shows {changes} changes, not {CHANGES}");
    for verdict in ["fired", "did not fire", "kept its project in step"] {
        anyhow::ensure!(body.contains(verdict), "the trace has no decision “{verdict}”");
    }
    Ok(body.len())
}
