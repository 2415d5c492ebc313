//! The record trace's rows (migration 0020): each workflow's decision on each change,
//! written by the engine as it handles changes, and read back with the record's
//! changes, projects, invitations and writebacks for `handoff trace` and the console's
//! Trace page. The engine puts them together (`engine::trace`).

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Store, StoreError, bulk, on_pool};
use handoff_domain::change::RecordChange;
use handoff_domain::{ProjectId, ProjectStatus};

/// What a workflow made of a change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Its trigger fired.
    Fires,
    /// Its trigger did not fire, but the record has a project from it, kept in step.
    Keeps,
    /// It did nothing; the reason says which part of the trigger failed.
    Skips,
    /// It applied, but its plan could not be made; the reason is the error.
    Fails,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Fires => "fires",
            Verdict::Keeps => "keeps",
            Verdict::Skips => "skips",
            Verdict::Fails => "fails",
        }
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "fires" => Verdict::Fires,
            "keeps" => Verdict::Keeps,
            "skips" => Verdict::Skips,
            "fails" => Verdict::Fails,
            other => return Err(format!("unknown verdict `{other}`")),
        })
    }
}

/// A decision to record.
#[derive(Clone, Debug, PartialEq)]
pub struct NewDecision {
    pub change_id: Uuid,
    pub workflow: String,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub project_id: Option<ProjectId>,
    /// What applying the plan did (members, invitations), as the engine describes it.
    pub outcome: Option<serde_json::Value>,
}

/// A change of the record as the trace shows it.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct TracedChange {
    pub id: Uuid,
    pub object: String,
    pub source: String,
    pub fingerprint: String,
    pub modified_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub processed_at: Option<DateTime<Utc>>,
    pub change: Json<RecordChange>,
}

#[derive(sqlx::FromRow)]
struct DecisionRow {
    change_id: Uuid,
    workflow: String,
    verdict: String,
    reason: Option<String>,
    project_id: Option<Uuid>,
    outcome: Option<Json<serde_json::Value>>,
    decided_at: DateTime<Utc>,
}

/// A workflow's decision on one change.
#[derive(Clone, Debug, PartialEq)]
pub struct TracedDecision {
    pub change_id: Uuid,
    pub workflow: String,
    pub verdict: Verdict,
    pub reason: Option<String>,
    pub project_id: Option<ProjectId>,
    pub outcome: Option<serde_json::Value>,
    pub decided_at: DateTime<Utc>,
}

/// A project a workflow made from the record, as it stands.
#[derive(Clone, Debug, PartialEq)]
pub struct TracedProject {
    pub workflow: String,
    pub project_id: ProjectId,
    pub linked_at: DateTime<Utc>,
    pub name: String,
    pub status: ProjectStatus,
}

#[derive(sqlx::FromRow)]
struct ProjectRow {
    workflow: String,
    project_id: Uuid,
    created_at: DateTime<Utc>,
    name: String,
    status: String,
}

/// An invitation into one of the record's projects.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct TracedInvitation {
    pub project_id: Uuid,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
}

/// A writeback to the record, with the CRM's answer: `done` (accepted), or the CRM's
/// own message in `last_error` while it is retried or after it was given up (`dead`).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct TracedWriteback {
    pub id: Uuid,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
    pub payload: Json<serde_json::Value>,
}

/// Everything stored about one CRM record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TraceRows {
    /// The newest changes, at most the limit asked for, oldest first.
    pub changes: Vec<TracedChange>,
    /// How many changes are stored in all (more than `changes` when the limit cut).
    pub changes_stored: i64,
    pub decisions: Vec<TracedDecision>,
    pub projects: Vec<TracedProject>,
    pub invitations: Vec<TracedInvitation>,
    /// Oldest first, at most the limit asked for (the newest ones).
    pub writebacks: Vec<TracedWriteback>,
}

/// The object kinds a record may be: the record's id is looked up under each, so the
/// unique index on (connection, object, external_id, …) answers by seek.
const OBJECTS: &str = "('deal', 'company', 'contact')";

impl Store {
    /// Records the decisions of one engine run, in one statement per few thousand; a
    /// change handled again (after a crash) keeps the later decision.
    pub async fn record_decisions(&self, decisions: &[NewDecision]) -> Result<(), StoreError> {
        const COLUMNS: usize = 7;
        let now = Utc::now();
        for chunk in decisions.chunks(bulk::rows_per_statement(COLUMNS)) {
            let sql = sqlx::AssertSqlSafe(format!(
                "INSERT INTO workflow_decisions (change_id, workflow, verdict, reason, project_id, outcome, decided_at) VALUES {} \
                 ON CONFLICT (change_id, workflow) DO UPDATE SET verdict = excluded.verdict, reason = excluded.reason, \
                 project_id = excluded.project_id, outcome = excluded.outcome, decided_at = excluded.decided_at",
                bulk::values(COLUMNS, chunk.len(), 1)
            ));
            on_pool!(self, pool => {
                let mut q = sqlx::query(sql);
                for d in chunk {
                    q = q
                        .bind(d.change_id)
                        .bind(&d.workflow)
                        .bind(d.verdict.as_str())
                        .bind(&d.reason)
                        .bind(d.project_id.map(|p| p.as_uuid()))
                        .bind(d.outcome.as_ref().map(Json))
                        .bind(now);
                }
                q.execute(pool).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(())
    }

    /// What is stored about the record `external_id` of `connection`: its newest
    /// `limit` changes with the decisions on them, the projects made from it with their
    /// invitations, and its newest `limit` writebacks.
    pub async fn record_trace(&self, connection: &str, external_id: &str, limit: u32) -> Result<TraceRows, StoreError> {
        let changes_sql = sqlx::AssertSqlSafe(format!(
            "SELECT id, object, source, fingerprint, modified_at, received_at, status, attempts, last_error, processed_at, change \
             FROM record_changes WHERE connection = $1 AND object IN {OBJECTS} AND external_id = $2 ORDER BY id DESC LIMIT $3"
        ));
        let count_sql = sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM record_changes WHERE connection = $1 AND object IN {OBJECTS} AND external_id = $2"
        ));
        // The decisions on the same newest `limit` changes, found by the same index, so
        // this query need not wait for the changes' (all five run at once).
        let decisions_sql = sqlx::AssertSqlSafe(format!(
            "SELECT d.change_id, d.workflow, d.verdict, d.reason, d.project_id, d.outcome, d.decided_at \
             FROM workflow_decisions d WHERE d.change_id IN (SELECT id FROM record_changes \
             WHERE connection = $1 AND object IN {OBJECTS} AND external_id = $2 ORDER BY id DESC LIMIT $3) \
             ORDER BY d.change_id, d.workflow"
        ));
        const PROJECTS: &str = "SELECT s.workflow, s.project_id, s.created_at, p.name, p.status FROM project_sources s \
                                JOIN projects p ON p.id = s.project_id WHERE s.connection = $1 AND s.external_id = $2 \
                                ORDER BY s.created_at, s.workflow";
        const INVITATIONS: &str = "SELECT i.project_id, u.email, i.created_at, i.sent_at, i.used_at, i.revoked_at, i.expires_at \
                                   FROM project_sources s JOIN invitations i ON i.project_id = s.project_id \
                                   JOIN users u ON u.id = i.user_id WHERE s.connection = $1 AND s.external_id = $2 \
                                   ORDER BY i.created_at, i.id";
        const WRITEBACKS: &str = "SELECT id, status, attempts, last_error, created_at, done_at, payload FROM outbox \
                                  WHERE connection = $1 AND record = $2 ORDER BY id DESC LIMIT $3";
        let limit = i64::from(limit);
        // Independent reads, run together: on a 1,000-change record the changes and
        // the decisions take most of the time, and each has its own connection.
        let changes = async move {
            let rows: Vec<TracedChange> = on_pool!(self, pool => sqlx::query_as(changes_sql)
                .bind(connection).bind(external_id).bind(limit).fetch_all(pool).await)?;
            Ok::<_, StoreError>(rows)
        };
        let decisions = async move {
            let rows: Vec<DecisionRow> = on_pool!(self, pool => sqlx::query_as(decisions_sql)
                .bind(connection).bind(external_id).bind(limit).fetch_all(pool).await)?;
            rows.into_iter().map(DecisionRow::into_decision).collect::<Result<Vec<_>, _>>()
        };
        let projects = async {
            let rows: Vec<ProjectRow> =
                on_pool!(self, pool => sqlx::query_as(PROJECTS).bind(connection).bind(external_id).fetch_all(pool).await)?;
            rows.into_iter().map(ProjectRow::into_project).collect::<Result<Vec<_>, _>>()
        };
        let invitations = async {
            let rows: Vec<TracedInvitation> =
                on_pool!(self, pool => sqlx::query_as(INVITATIONS).bind(connection).bind(external_id).fetch_all(pool).await)?;
            Ok::<_, StoreError>(rows)
        };
        let writebacks = async {
            let rows: Vec<TracedWriteback> = on_pool!(self, pool => sqlx::query_as(WRITEBACKS)
                .bind(connection).bind(external_id).bind(limit).fetch_all(pool).await)?;
            Ok::<_, StoreError>(rows)
        };
        let (mut changes, decisions, projects, invitations, mut writebacks) =
            tokio::try_join!(changes, decisions, projects, invitations, writebacks)?;
        changes.reverse();
        writebacks.reverse();
        let changes_stored: i64 = if (changes.len() as i64) < limit {
            changes.len() as i64
        } else {
            on_pool!(self, pool => sqlx::query_scalar(count_sql).bind(connection).bind(external_id).fetch_one(pool).await)?
        };
        Ok(TraceRows {
            changes,
            changes_stored,
            decisions,
            projects,
            invitations,
            writebacks,
        })
    }

    /// Deletes handled changes received before `before`, with their decisions, except
    /// each record's newest handled change: a trigger that fires on a field *becoming*
    /// a value compares the next change with it. Pending changes are never deleted.
    pub async fn purge_record_changes(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM record_changes WHERE status <> 'pending' AND received_at < $1 AND EXISTS \
                           (SELECT 1 FROM record_changes n WHERE n.connection = record_changes.connection \
                            AND n.object = record_changes.object AND n.external_id = record_changes.external_id \
                            AND n.id > record_changes.id AND n.status <> 'pending')";
        Ok(on_pool!(self, pool => sqlx::query(SQL).bind(before).execute(pool).await.map(|r| r.rows_affected()))?)
    }
}

impl DecisionRow {
    fn into_decision(self) -> Result<TracedDecision, StoreError> {
        Ok(TracedDecision {
            change_id: self.change_id,
            verdict: super::rows::parse("workflow_decisions.verdict", &self.verdict)?,
            workflow: self.workflow,
            reason: self.reason,
            project_id: self.project_id.map(ProjectId::from_uuid),
            outcome: self.outcome.map(|j| j.0),
            decided_at: self.decided_at,
        })
    }
}

impl ProjectRow {
    fn into_project(self) -> Result<TracedProject, StoreError> {
        Ok(TracedProject {
            status: super::rows::parse("projects.status", &self.status)?,
            workflow: self.workflow,
            project_id: ProjectId::from_uuid(self.project_id),
            linked_at: self.created_at,
            name: self.name,
        })
    }
}
