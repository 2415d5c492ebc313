//! Background work on apalis workers driven by apalis-cron schedules. Each tick handler
//! only coordinates (takes a lease, records health) and calls a plain function from
//! `sync`, which tests call directly.
//!
//! apalis-cron ticks on every node; "exactly one node runs a given schedule at a time"
//! comes from the lease each tick takes (`poll:<connection>`), held for the run.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use apalis::prelude::{BoxDynError, Data, WorkerBuilder};
use apalis_cron::timezone::Utc as CronUtc;
use apalis_cron::{CronScheduler, Schedule, Tick};
use tokio::sync::watch;
use tokio::task::JoinSet;

use handoff_domain::change::{ChangeSource, ObjectKind};
use handoff_store::Store;
use handoff_sync::Crm;
use handoff_sync::health::Health;
use handoff_sync::poll::{PollReport, SyncError, poll_once};
use handoff_sync::process::{Crms, resolve_inbound};

/// How often pending inbound events are resolved (webhook to change).
pub const RESOLVE_EVERY: Duration = Duration::from_secs(2);
/// How often handled inbound events past their retention are deleted.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// A poll run holds its lease at most this long; a node that died mid-run frees it then.
pub const POLL_LEASE: chrono::Duration = chrono::Duration::minutes(15);
/// The objects a poll reads, in this order.
pub const POLLED: &[ObjectKind] = &[ObjectKind::Deal];

/// A fixed interval, measured from the end of the previous tick.
#[derive(Clone, Copy, Debug)]
pub struct Every(pub Duration);

impl Schedule<CronUtc> for Every {
    fn next_tick(&mut self, _: &CronUtc) -> Option<Tick<CronUtc>> {
        let at = SystemTime::now().checked_add(self.0)?;
        Some(Tick::new(at.duration_since(UNIX_EPOCH).ok()?.as_secs()))
    }
}

#[derive(Clone)]
pub struct PollJob {
    pub store: Store,
    pub crm: Arc<dyn Crm>,
    pub health: Health,
    /// This process, as a lease holder.
    pub holder: String,
}

/// One scheduled poll of one connection, if this node wins the lease. `None` when
/// another node is polling it.
pub async fn poll_connection(job: &PollJob) -> Result<Option<Vec<PollReport>>, SyncError> {
    let connection = job.crm.connection().to_owned();
    let lease = format!("poll:{connection}");
    if !job.store.acquire_lease(&lease, &job.holder, POLL_LEASE).await? {
        return Ok(None);
    }
    let mut reports = Vec::new();
    let mut outcome = Ok(());
    for object in POLLED {
        match poll_once(&job.store, job.crm.as_ref(), *object, ChangeSource::Poll, &mut |_| {}).await {
            Ok(r) => reports.push(r),
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    let _ = job.store.release_lease(&lease, &job.holder).await;
    match outcome {
        Ok(()) => {
            job.health.poll_succeeded(&connection, job.crm.budget()).await;
            Ok(Some(reports))
        }
        Err(e) => {
            job.health.failed(&connection, &e.to_string()).await;
            Err(e)
        }
    }
}

async fn poll_tick(_tick: Tick<CronUtc>, job: Data<PollJob>) -> Result<(), BoxDynError> {
    match poll_connection(&job).await {
        Ok(Some(reports)) => {
            let changes: usize = reports.iter().map(|r| r.new_changes).sum();
            let calls: u64 = reports.iter().map(|r| r.calls).sum();
            tracing::debug!(connection = job.crm.connection(), changes, calls, "polled");
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) => {
            tracing::warn!(connection = job.crm.connection(), error = %e, "poll failed; retrying on the next tick");
            Err(e.into())
        }
    }
}

#[derive(Clone)]
struct ResolveJob {
    store: Store,
    crms: Crms,
    catalog: Arc<handoff_engine::templates::Templates>,
    workflows: Arc<Vec<handoff_engine::definition::Workflow>>,
    /// Seals invitation tokens; without a master key nobody is invited.
    sealer: Option<Arc<handoff_store::sealed::Sealer>>,
    invitation_validity: chrono::Duration,
}

/// A resolve tick keeps working while events or changes keep coming, up to this long,
/// so a burst is worked off at the engine's pace rather than a batch per tick. Claims
/// keep an overlapping tick (or another process) off the same rows.
const RESOLVE_BUDGET: Duration = Duration::from_secs(30);

async fn resolve_tick(_tick: Tick<CronUtc>, job: Data<ResolveJob>) -> Result<(), BoxDynError> {
    let started = std::time::Instant::now();
    let mut total = handoff_engine::run::RunReport::default();
    loop {
        let resolved = match resolve_inbound(&job.store, &job.crms, 500).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "resolving inbound events failed; retrying on the next tick");
                return Err(e.into());
            }
        };
        // Then the workflows act on the new changes, polled or pushed alike.
        let now = chrono::Utc::now();
        let planner = handoff_engine::run::Planner {
            catalog: &job.catalog,
            sealer: job.sealer.as_deref(),
            now,
            today: now.date_naive(),
            invitation_validity: job.invitation_validity,
        };
        let report = match handoff_engine::run::run_pending(&job.store, &job.workflows, &planner, 200).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "running workflows failed; retrying on the next tick");
                return Err(e.into());
            }
        };
        total.changes += report.changes;
        total.projects_created += report.projects_created;
        total.members_added += report.members_added;
        total.invitations += report.invitations;
        total.failed += report.failed;
        // Failed or deferred events wait for their retry time, so only progress counts.
        let idle = resolved.events == 0 && report.changes == 0;
        if idle || started.elapsed() >= RESOLVE_BUDGET {
            break;
        }
    }
    if total.projects_created > 0 || total.failed > 0 {
        tracing::info!(
            created = total.projects_created,
            members = total.members_added,
            invitations = total.invitations,
            failed = total.failed,
            "workflows ran"
        );
    }
    Ok(())
}

/// How long handled record changes are kept for the trace (`workflows.trace_retention`).
#[derive(Clone, Copy)]
struct TraceRetention(chrono::Duration);

/// Deletes what has passed its retention: handled inbound events, and handled record
/// changes with their decisions (the trace's). Deleting is idempotent, so every node
/// may run this; no lease is needed.
async fn purge_tick(_tick: Tick<CronUtc>, store: Data<Store>, retention: Data<TraceRetention>) -> Result<(), BoxDynError> {
    let now = chrono::Utc::now();
    let events = store.purge_inbound_events(now).await;
    let changes = store.purge_record_changes(now - (*retention).0).await;
    for (what, outcome) in [("inbound events", &events), ("record changes", &changes)] {
        match outcome {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "purged handled {what} past their retention"),
            Err(e) => tracing::warn!(error = %e, "purging {what} failed; retrying on the next tick"),
        }
    }
    events?;
    changes?;
    Ok(())
}

/// How often due outbox emails are sent.
pub const DELIVER_EVERY: Duration = Duration::from_secs(2);

#[derive(Clone)]
struct DeliverJob {
    store: Store,
    mailer: Arc<handoff_mail::Mailer>,
    sealer: Arc<handoff_store::sealed::Sealer>,
    base_url: url::Url,
    product_name: String,
}

async fn deliver_tick(_tick: Tick<CronUtc>, job: Data<DeliverJob>) -> Result<(), BoxDynError> {
    match handoff_engine::outbox::email::deliver_emails(&job.store, &job.mailer, &job.sealer, &job.base_url, &job.product_name, 50).await {
        Ok(d) => {
            if d.sent + d.retried + d.dead > 0 {
                tracing::info!(sent = d.sent, retried = d.retried, dead = d.dead, "invitation emails");
            }
            Ok(())
        }
        Err(e) => {
            tracing::warn!(error = %e, "delivering invitation emails failed; retrying on the next tick");
            Err(e.into())
        }
    }
}

/// How often due CRM writebacks are sent: with batching, a second's wait costs little
/// and keeps completion-to-CRM well under five seconds.
pub const WRITEBACK_EVERY: Duration = Duration::from_secs(1);
/// Rows per writeback tick: enough for several full batches per connection.
const WRITEBACK_ROWS: u32 = 2000;

#[derive(Clone)]
struct WritebackJob {
    store: Store,
    crms: Crms,
    workflows: Arc<Vec<handoff_engine::definition::Workflow>>,
    base_url: url::Url,
}

async fn writeback_tick(_tick: Tick<CronUtc>, job: Data<WritebackJob>) -> Result<(), BoxDynError> {
    // Several rounds while rows keep coming, so a burst is not paced at one claim a tick.
    for _ in 0..10 {
        match handoff_engine::outbox::writeback::deliver_writebacks(&job.store, &job.crms, &job.workflows, &job.base_url, WRITEBACK_ROWS)
            .await
        {
            Ok(d) => {
                if d.retried + d.dead + d.deferred > 0 || d.records_written + d.activities_logged > 0 {
                    tracing::info!(
                        rows = d.done,
                        records = d.records_written,
                        activities = d.activities_logged,
                        retried = d.retried,
                        deferred = d.deferred,
                        dead = d.dead,
                        "CRM writebacks"
                    );
                }
                let claimed = d.done + d.retried + d.deferred + d.dead;
                if claimed < WRITEBACK_ROWS as usize {
                    return Ok(());
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "delivering CRM writebacks failed; retrying on the next tick");
                return Err(e.into());
            }
        }
    }
    Ok(())
}

/// What the schedules run with: the parts of the application they use, nothing more.
pub struct Setup {
    pub store: Store,
    pub crms: Crms,
    pub health: Health,
    pub catalog: Arc<handoff_engine::templates::Templates>,
    pub workflows: Arc<Vec<handoff_engine::definition::Workflow>>,
    /// Seals invitation tokens (and opens them to email the links).
    pub links: handoff_engine::LinkSettings,
    pub smtp: handoff_config::SmtpConfig,
    /// Links in emails and in the CRM point here.
    pub base_url: url::Url,
    /// Signs the emails (branding).
    pub product_name: String,
    /// How long handled record changes are kept (`workflows.trace_retention`).
    pub trace_retention: chrono::Duration,
}

/// Starts the schedules; they stop when `stop` turns true.
pub fn spawn(setup: Setup, intervals: Vec<(Arc<dyn Crm>, Duration)>, stop: watch::Receiver<bool>) -> JoinSet<()> {
    let Setup {
        store,
        crms,
        health,
        catalog,
        workflows,
        links,
        smtp,
        base_url,
        product_name,
        trace_retention,
    } = setup;
    let sealer = links.sealer.clone();
    let holder = uuid::Uuid::now_v7().to_string();
    let mut set = JoinSet::new();
    let until = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stopped| *stopped).await;
        Ok::<(), std::io::Error>(())
    };
    for (crm, interval) in intervals {
        let name = format!("poll:{}", crm.connection());
        let job = PollJob {
            store: store.clone(),
            crm,
            health: health.clone(),
            holder: holder.clone(),
        };
        let worker = WorkerBuilder::new(name.as_str())
            .backend(CronScheduler::new(Every(interval)))
            .data(job)
            .build(poll_tick);
        let signal = until(stop.clone());
        set.spawn(async move {
            if let Err(e) = worker.run_until(signal).await {
                tracing::error!(worker = %name, error = %e, "worker stopped");
            }
        });
    }
    let purge = WorkerBuilder::new("purge-inbound")
        .backend(CronScheduler::new(Every(PURGE_EVERY)))
        .data(store.clone())
        .data(TraceRetention(trace_retention))
        .build(purge_tick);
    let signal = until(stop.clone());
    set.spawn(async move {
        if let Err(e) = purge.run_until(signal).await {
            tracing::error!(worker = "purge-inbound", error = %e, "worker stopped");
        }
    });
    match (&smtp.url, &sealer) {
        (Some(_), Some(sealer)) => match handoff_mail::Mailer::new(&smtp, handoff_mail::Mailer::DEFAULT_TIMEOUT) {
            Ok(mailer) => {
                let job = DeliverJob {
                    store: store.clone(),
                    mailer: Arc::new(mailer),
                    sealer: sealer.clone(),
                    base_url: base_url.clone(),
                    product_name: product_name.clone(),
                };
                let deliver = WorkerBuilder::new("deliver-email")
                    .backend(CronScheduler::new(Every(DELIVER_EVERY)))
                    .data(job)
                    .build(deliver_tick);
                let signal = until(stop.clone());
                set.spawn(async move {
                    if let Err(e) = deliver.run_until(signal).await {
                        tracing::error!(worker = "deliver-email", error = %e, "worker stopped");
                    }
                });
            }
            Err(e) => tracing::error!(error = %e, "email is not sent: the SMTP settings are unusable"),
        },
        _ => tracing::info!("invitation emails wait in the outbox until HANDOFF_SMTP_URL and HANDOFF_MASTER_KEY are set"),
    }
    let writebacks = WorkerBuilder::new("deliver-writebacks")
        .backend(CronScheduler::new(Every(WRITEBACK_EVERY)))
        .data(WritebackJob {
            store: store.clone(),
            crms: crms.clone(),
            workflows: workflows.clone(),
            base_url,
        })
        .build(writeback_tick);
    let signal = until(stop.clone());
    set.spawn(async move {
        if let Err(e) = writebacks.run_until(signal).await {
            tracing::error!(worker = "deliver-writebacks", error = %e, "worker stopped");
        }
    });
    let worker = WorkerBuilder::new("resolve-inbound")
        .backend(CronScheduler::new(Every(RESOLVE_EVERY)))
        .data(ResolveJob {
            store,
            crms,
            catalog,
            workflows,
            sealer,
            invitation_validity: links.validity,
        })
        .build(resolve_tick);
    let signal = until(stop);
    set.spawn(async move {
        if let Err(e) = worker.run_until(signal).await {
            tracing::error!(worker = "resolve-inbound", error = %e, "worker stopped");
        }
    });
    set
}
