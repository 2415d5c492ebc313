//! Queuing CRM writebacks: when something a workflow may report happens to a project
//! that came from a CRM record, an outbox row per (source record, event) is written in
//! the same transaction (the engine decides which events a change fires). What the row writes is decided when it is delivered, from the
//! workflow's rules (see `engine::writeback`), so the store needs no workflow.

use chrono::{NaiveDate, Utc};

use super::outbox::Enqueue;
use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::writeback::{EventContext, QueuedWriteback, Snapshot, WritebackEvent};
use handoff_domain::{Progress, ProjectId, ProjectStatus};

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

impl Tx {
    /// The project as a writeback sees it, as this transaction leaves it.
    pub async fn writeback_snapshot(&mut self, project: ProjectId) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<SnapshotRow> = on_tx!(self, c => sqlx::query_as(SNAPSHOT).bind(project.as_uuid()).fetch_optional(&mut **c).await)?;
        row.map(SnapshotRow::into_snapshot).transpose()
    }

    /// Queues one writeback row per (CRM record the project came from, event), through
    /// the outbox. Projects made by hand have no source and queue nothing. `snapshot` is
    /// the project as the events left it, when the caller already read it. Returns the
    /// rows written.
    pub async fn queue_writebacks(
        &mut self,
        project: ProjectId,
        events: &[(WritebackEvent, EventContext)],
        snapshot: Option<Snapshot>,
    ) -> Result<usize, StoreError> {
        const SOURCES: &str = "SELECT workflow, connection, external_id FROM project_sources WHERE project_id = $1 ORDER BY workflow";
        const CONTACT: &str = "SELECT external_id FROM crm_links WHERE connection = $1 AND object = 'contact' AND local_id = $2 LIMIT 1";
        if events.is_empty() {
            return Ok(0);
        }
        let sources: Vec<(String, String, String)> =
            on_tx!(self, c => sqlx::query_as(SOURCES).bind(project.as_uuid()).fetch_all(&mut **c).await)?;
        if sources.is_empty() {
            return Ok(0);
        }
        let snapshot = match snapshot {
            Some(s) => s,
            None => self
                .writeback_snapshot(project)
                .await?
                .ok_or_else(|| StoreError::not_found("project", project))?,
        };
        let now = Utc::now();
        let mut rows = Vec::new();
        for (workflow, connection, record_id) in &sources {
            // One actor per call in practice; their contact id is looked up once per source.
            let mut contacts: Vec<(handoff_domain::UserId, Option<String>)> = Vec::new();
            for (event, context) in events {
                let contact_id = match context.actor {
                    Some(user) => match contacts.iter().find(|(u, _)| *u == user) {
                        Some((_, id)) => id.clone(),
                        None => {
                            let id: Option<String> = on_tx!(self, c => sqlx::query_scalar(CONTACT).bind(connection).bind(user.as_uuid()).fetch_optional(&mut **c).await)?;
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
                rows.push(Enqueue::writeback(connection, &row)?);
            }
        }
        self.enqueue(&rows).await?;
        Ok(rows.len())
    }
}

impl Store {
    /// The project as it stands now, for rendering field writebacks at delivery.
    pub async fn project_snapshot(&self, project: ProjectId) -> Result<Option<Snapshot>, StoreError> {
        let row: Option<SnapshotRow> = on_pool!(self, pool => sqlx::query_as(SNAPSHOT).bind(project.as_uuid()).fetch_optional(pool).await)?;
        row.map(SnapshotRow::into_snapshot).transpose()
    }
}
