//! What the portal reads and writes for a signed-in customer. Every query here is
//! scoped by the person's active memberships in projects customers can see
//! ([`ProjectStatus::visible_to_customers`]); nothing takes a bare project id.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rows::{ProjectRow, project_columns};
use super::{ProjectSummary, Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::{Email, Progress, ProjectId, ProjectStatus, UserId};

#[derive(sqlx::FromRow)]
struct CustomerProjectRow {
    #[sqlx(flatten)]
    project: ProjectRow,
    total_tasks: i64,
    completed_tasks: i64,
}

impl Store {
    /// The person's projects: active memberships in projects customers can see,
    /// self-service ones first, then the most recently started.
    pub async fn customer_projects(&self, user: UserId) -> Result<Vec<ProjectSummary>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            project_columns!(),
            ", (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id) AS total_tasks, \
             (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id AND t.status = 'completed') AS completed_tasks \
             FROM memberships m JOIN projects p ON p.id = m.project_id LEFT JOIN companies c ON c.id = p.company_id \
             WHERE m.user_id = $1 AND m.status = 'active' \
             ORDER BY p.self_service DESC, p.start_date DESC, p.name, p.id"
        );
        let rows: Vec<CustomerProjectRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(user.as_uuid()).fetch_all(pool).await)?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let project: handoff_domain::project::Project = r.project.try_into()?;
            if !project.status.visible_to_customers() {
                continue;
            }
            let progress = Progress {
                completed: usize::try_from(r.completed_tasks).unwrap_or(0),
                total: usize::try_from(r.total_tasks).unwrap_or(0),
            };
            out.push(ProjectSummary { project, progress });
        }
        Ok(out)
    }
}

impl Tx {
    /// How many fresh links were asked for with this address (by its hash) since
    /// `since`, after forgetting the requests before it.
    pub async fn link_requests_since(&mut self, email_hash: &str, since: DateTime<Utc>) -> Result<u64, StoreError> {
        const FORGET: &str = "DELETE FROM portal_link_requests WHERE email_hash = $1 AND requested_at <= $2";
        const RECENT: &str = "SELECT COUNT(*) FROM portal_link_requests WHERE email_hash = $1 AND requested_at > $2";
        on_tx!(self, c => sqlx::query(FORGET).bind(email_hash).bind(since).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        let recent: i64 = on_tx!(self, c => sqlx::query_scalar(RECENT).bind(email_hash).bind(since).fetch_one(&mut **c).await)?;
        Ok(u64::try_from(recent).unwrap_or(0))
    }

    pub async fn record_link_request(&mut self, email_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        const RECORD: &str = "INSERT INTO portal_link_requests (email_hash, requested_at) VALUES ($1, $2)";
        on_tx!(self, c => sqlx::query(RECORD).bind(email_hash).bind(at).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The active memberships of the person with this address, with each project's
    /// status, most recently joined first.
    pub async fn active_memberships_by_email(&mut self, email: &Email) -> Result<Vec<(UserId, ProjectId, ProjectStatus)>, StoreError> {
        const SQL: &str = "SELECT u.id, m.project_id, p.status FROM users u JOIN memberships m ON m.user_id = u.id \
                           JOIN projects p ON p.id = m.project_id WHERE u.email = $1 AND m.status = 'active' \
                           ORDER BY m.created_at DESC";
        let rows: Vec<(Uuid, Uuid, String)> = on_tx!(self, c => sqlx::query_as(SQL).bind(email.as_str()).fetch_all(&mut **c).await)?;
        rows.into_iter()
            .map(|(u, p, status)| {
                Ok((
                    UserId::from_uuid(u),
                    ProjectId::from_uuid(p),
                    super::rows::parse("projects.status", &status)?,
                ))
            })
            .collect()
    }
}
