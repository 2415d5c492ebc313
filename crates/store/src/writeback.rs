//! Queuing CRM writebacks: when something a workflow may report happens to a project
//! that came from a CRM record, an outbox row per (source record, event) is written in
//! the same transaction. What the row writes is decided when it is delivered, from the
//! workflow's rules (see `engine::writeback`), so the store needs no workflow.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::writeback::{QueuedWriteback, Snapshot, WritebackEvent};
use handoff_domain::{Progress, ProjectId, ProjectStatus};

/// What the event is about, beyond the project.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventContext {
    pub task_title: Option<String>,
    pub phase_name: Option<String>,
    /// The hub user who acted; their CRM contact id is looked up per connection.
    pub actor: Option<handoff_domain::UserId>,
}

const SNAPSHOT: &str = "SELECT p.status, p.start_date, p.goal_date, \
     (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id) AS total, \
     (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id AND t.status = 'completed') AS completed, \
     (SELECT ph.name FROM phases ph WHERE ph.project_id = p.id AND EXISTS \
        (SELECT 1 FROM tasks t WHERE t.project_id = p.id AND t.phase_id = ph.id AND t.status <> 'completed') \
      ORDER BY ph.position LIMIT 1) AS current_phase \
     FROM projects p WHERE p.id = $1";

#[derive(sqlx::FromRow)]
struct SnapshotRow {
    status: String,
    start_date: NaiveDate,
    goal_date: Option<NaiveDate>,
    total: i64,
    completed: i64,
    current_phase: Option<String>,
}

impl SnapshotRow {
    fn into_snapshot(self) -> Result<Snapshot, StoreError> {
        let progress = Progress {
            completed: usize::try_from(self.completed).unwrap_or(0),
            total: usize::try_from(self.total).unwrap_or(0),
        };
        Ok(Snapshot {
            status: super::rows::parse::<ProjectStatus>("projects.status", &self.status)?,
            progress: progress.percent(),
            current_phase: self.current_phase,
            start_date: Some(self.start_date),
            goal_date: self.goal_date,
        })
    }
}

/// The project as a writeback sees it, inside the caller's transaction.
pub(crate) async fn snapshot_in(tx: &mut Tx, project: ProjectId) -> Result<Option<Snapshot>, StoreError> {
    let row: Option<SnapshotRow> = on_tx!(tx, c => sqlx::query_as(SNAPSHOT).bind(project.as_uuid()).fetch_optional(&mut **c).await)?;
    row.map(SnapshotRow::into_snapshot).transpose()
}

/// Writes one outbox row per (CRM record the project came from, event). Projects made
/// by hand have no source and queue nothing. `snapshot` is the project as the events left
/// it, when the caller already read it. Returns the rows written.
pub(crate) async fn queue(
    tx: &mut Tx,
    project: ProjectId,
    events: &[(WritebackEvent, EventContext)],
    snapshot: Option<Snapshot>,
) -> Result<usize, StoreError> {
    const SOURCES: &str = "SELECT workflow, connection, external_id FROM project_sources WHERE project_id = $1 ORDER BY workflow";
    const CONTACT: &str = "SELECT external_id FROM crm_links WHERE connection = $1 AND object = 'contact' AND local_id = $2 LIMIT 1";
    const OUTBOX: &str = "INSERT INTO outbox (id, kind, idempotency_key, connection, payload, next_attempt_at, created_at) \
                          VALUES ($1, 'writeback', $2, $3, $4, $5, $5) ON CONFLICT (idempotency_key) DO NOTHING";
    if events.is_empty() {
        return Ok(0);
    }
    let sources: Vec<(String, String, String)> =
        on_tx!(&mut *tx, c => sqlx::query_as(SOURCES).bind(project.as_uuid()).fetch_all(&mut **c).await)?;
    if sources.is_empty() {
        return Ok(0);
    }
    let snapshot = match snapshot {
        Some(s) => s,
        None => snapshot_in(tx, project)
            .await?
            .ok_or_else(|| StoreError::not_found("project", project))?,
    };
    let now = Utc::now();
    let mut written = 0;
    for (workflow, connection, record_id) in &sources {
        // One actor per call in practice; their contact id is looked up once per source.
        let mut contacts: Vec<(handoff_domain::UserId, Option<String>)> = Vec::new();
        for (event, context) in events {
            let contact_id = match context.actor {
                Some(user) => match contacts.iter().find(|(u, _)| *u == user) {
                    Some((_, id)) => id.clone(),
                    None => {
                        let id: Option<String> = on_tx!(&mut *tx, c => sqlx::query_scalar(CONTACT).bind(connection).bind(user.as_uuid()).fetch_optional(&mut **c).await)?;
                        contacts.push((user, id.clone()));
                        id
                    }
                },
                None => None,
            };
            let row = QueuedWriteback {
                workflow: workflow.clone(),
                record_id: record_id.clone(),
                project_id: project,
                event: *event,
                task_title: context.task_title.clone(),
                phase_name: context.phase_name.clone(),
                contact_id,
                at: now,
                snapshot: snapshot.clone(),
            };
            let id = Uuid::now_v7();
            // Every event is its own row: the key only guards against writing one row twice.
            let key = format!("writeback:{id}");
            on_tx!(&mut *tx, c => sqlx::query(OUTBOX).bind(id).bind(key).bind(connection).bind(Json(&row)).bind(now)
                .execute(&mut **c).await.map(|r| r.rows_affected()))?;
            written += 1;
        }
    }
    Ok(written)
}

impl Store {
    /// The project as it stands now, for rendering field writebacks at delivery.
    pub async fn project_snapshot(&self, project: ProjectId) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<SnapshotRow> = on_pool!(self, pool => sqlx::query_as(SNAPSHOT).bind(project.as_uuid()).fetch_optional(pool).await)?;
        row.map(SnapshotRow::into_snapshot).transpose()
    }

    /// Puts claimed rows back without counting the attempt: the CRM asked us to wait
    /// (a rate limit), which says nothing about the rows themselves.
    pub async fn outbox_defer(&self, ids: &[Uuid], until: DateTime<Utc>, reason: &str) -> Result<(), StoreError> {
        const SQL: &str =
            "UPDATE outbox SET attempts = attempts - 1, next_attempt_at = $1, last_error = $2 WHERE id = $3 AND status = 'pending'";
        for id in ids {
            on_pool!(self, pool => sqlx::query(SQL).bind(until).bind(reason).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Outbox rows by kind and status, for reports, benchmarks and tests.
    pub async fn outbox_counts(&self, kind: &str) -> Result<OutboxCounts, StoreError> {
        const SQL: &str = "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), \
                           COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0), \
                           COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) FROM outbox WHERE kind = $1";
        let (pending, done, dead): (i64, i64, i64) = on_pool!(self, pool => sqlx::query_as(SQL).bind(kind).fetch_one(pool).await)?;
        Ok(OutboxCounts { pending, done, dead })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub done: i64,
    pub dead: i64,
}
