//! The append-only activity trail.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::people::{Activity, Actor, NewActivity};
use handoff_domain::{ProjectId, UserId};

impl Tx {
    /// Appends an entry to the trail, so it exists exactly when the change it
    /// describes does.
    pub async fn record_activity(&mut self, entry: &NewActivity) -> Result<(), StoreError> {
        record(self, entry).await
    }

    /// Appends several entries in one statement.
    pub async fn record_activities(&mut self, entries: &[NewActivity]) -> Result<(), StoreError> {
        record_many(self, entries).await
    }
}

/// Appends an entry inside the caller's transaction, so the entry exists exactly when
/// the change it describes does.
pub(crate) async fn record(tx: &mut Tx, a: &NewActivity) -> Result<(), StoreError> {
    const SQL: &str = "INSERT INTO activity (at, project_id, actor_user_id, action, source, details) VALUES ($1, $2, $3, $4, $5, $6)";
    let actor = match a.actor {
        Actor::User(id) => Some(id.as_uuid()),
        Actor::System => None,
    };
    on_tx!(tx, c => sqlx::query(SQL)
        .bind(Utc::now())
        .bind(a.project_id.map(|p| p.as_uuid()))
        .bind(actor)
        .bind(&a.action)
        .bind(&a.source)
        .bind(Json(&a.details))
        .execute(&mut **c)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Appends several entries in one statement (see [`record`]).
pub(crate) async fn record_many(tx: &mut Tx, entries: &[NewActivity]) -> Result<(), StoreError> {
    const COLUMNS: usize = 6;
    let now = Utc::now();
    for chunk in entries.chunks(super::bulk::rows_per_statement(COLUMNS)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO activity (at, project_id, actor_user_id, action, source, details) VALUES {}",
            super::bulk::values(COLUMNS, chunk.len(), 1)
        ));
        on_tx!(&mut *tx, c => {
            let mut q = sqlx::query(sql);
            for a in chunk {
                let actor = match a.actor {
                    Actor::User(id) => Some(id.as_uuid()),
                    Actor::System => None,
                };
                q = q.bind(now).bind(a.project_id.map(|p| p.as_uuid())).bind(actor).bind(&a.action).bind(&a.source).bind(Json(&a.details));
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    id: i64,
    at: DateTime<Utc>,
    project_id: Option<Uuid>,
    actor_user_id: Option<Uuid>,
    action: String,
    source: String,
    details: Json<serde_json::Value>,
}

impl Store {
    /// A project's activity, oldest first.
    pub async fn project_activity(&self, project: ProjectId) -> Result<Vec<Activity>, StoreError> {
        const SQL: &str =
            "SELECT id, at, project_id, actor_user_id, action, source, details FROM activity WHERE project_id = $1 ORDER BY id";
        let rows: Vec<ActivityRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|r| Activity {
                id: r.id,
                at: r.at,
                entry: NewActivity {
                    project_id: r.project_id.map(ProjectId::from_uuid),
                    actor: r.actor_user_id.map_or(Actor::System, |u| Actor::User(UserId::from_uuid(u))),
                    action: r.action,
                    source: r.source,
                    details: r.details.0,
                },
            })
            .collect())
    }
}
