//! The console's task emails (open tasks, a phase's, a reminder): the open tasks they
//! may list, and their outbox rows, keyed by the sending form's one-time nonce so a
//! double click queues one email per person, and read back to show what was sent.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::outbox::Enqueue;
use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::outbox::{EmailJob, TaskDigestScope};
use handoff_domain::people::ProjectRole;
use handoff_domain::{Email, ProjectId, UserId};

/// The outbox key of one task email: project, the sending form's nonce, recipient.
fn key_prefix(project: ProjectId, nonce: &str) -> String {
    format!("task-digest:{project}:{}:", like_escaped(nonce))
}

/// `%`, `_` and the escape character itself, escaped for `LIKE … ESCAPE '\'`.
fn like_escaped(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A task email as the Emails tab lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct SentTaskDigest {
    pub id: Uuid,
    pub email: Email,
    pub scope: TaskDigestScope,
    /// `pending`, `done` or `dead` (see the outbox).
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub done_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct DigestRow {
    id: Uuid,
    payload: Json<serde_json::Value>,
    status: String,
    attempts: i32,
    last_error: Option<String>,
    created_at: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
}

impl Tx {
    /// Whether task emails were queued already with this nonce for the project.
    pub async fn task_digest_nonce_used(&mut self, project: ProjectId, nonce: &str) -> Result<bool, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM outbox WHERE idempotency_key LIKE $1 ESCAPE '\\'";
        let pattern = format!("{}%", key_prefix(project, nonce));
        let n: i64 = on_tx!(self, c => sqlx::query_scalar(SQL).bind(pattern).fetch_one(&mut **c).await)?;
        Ok(n > 0)
    }

    /// Queues one task email per recipient, keyed by `nonce`; a key queued already is
    /// skipped. Returns how many were queued.
    pub async fn queue_task_digests(
        &mut self,
        project: ProjectId,
        nonce: &str,
        recipients: &[(UserId, Email)],
        scope: &TaskDigestScope,
        sent_by: Option<UserId>,
    ) -> Result<u64, StoreError> {
        let rows = recipients
            .iter()
            .map(|(user, email)| {
                let job = EmailJob::TaskDigest {
                    project_id: project,
                    user_id: *user,
                    email: email.clone(),
                    scope: scope.clone(),
                    sent_by,
                };
                Enqueue::email(format!("{}{user}", key_prefix(project, nonce)), &job)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.enqueue(&rows).await
    }

    /// The role and address of an active member of the project.
    pub async fn active_member_contact(&mut self, project: ProjectId, user: UserId) -> Result<Option<(ProjectRole, Email)>, StoreError> {
        const SQL: &str = "SELECT m.role, u.email FROM memberships m JOIN users u ON u.id = m.user_id \
                           WHERE m.project_id = $1 AND m.user_id = $2 AND m.status = 'active'";
        let row: Option<(String, String)> =
            on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).bind(user.as_uuid()).fetch_optional(&mut **c).await)?;
        row.map(|(role, email)| {
            Ok((
                super::rows::parse("memberships.role", &role)?,
                Email::parse(&email).map_err(|e| StoreError::Corrupt(format!("users.email: {e}")))?,
            ))
        })
        .transpose()
    }

    /// The open (not completed) tasks customers can see, as (task key, phase key), in
    /// project order.
    pub async fn open_customer_tasks(&mut self, project: ProjectId) -> Result<Vec<(String, String)>, StoreError> {
        const SQL: &str = "SELECT t.key, ph.key FROM tasks t JOIN phases ph ON ph.id = t.phase_id \
                           WHERE t.project_id = $1 AND t.visibility = 'customer' AND t.status <> 'completed' \
                           ORDER BY ph.position, t.position";
        Ok(on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_all(&mut **c).await)?)
    }

    /// Whether the project has a phase with this key.
    pub async fn phase_exists(&mut self, project: ProjectId, key: &str) -> Result<bool, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM phases WHERE project_id = $1 AND key = $2";
        let n: i64 = on_tx!(self, c => sqlx::query_scalar(SQL).bind(project.as_uuid()).bind(key).fetch_one(&mut **c).await)?;
        Ok(n > 0)
    }
}

impl Store {
    /// The project's latest task emails, newest first.
    pub async fn task_digests(&self, project: ProjectId, limit: u32) -> Result<Vec<SentTaskDigest>, StoreError> {
        const SQL: &str = "SELECT id, payload, status, attempts, last_error, created_at, done_at FROM outbox \
                           WHERE kind = 'email' AND idempotency_key LIKE $1 ESCAPE '\\' ORDER BY created_at DESC, id DESC LIMIT $2";
        let pattern = format!("task-digest:{project}:%");
        let rows: Vec<DigestRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(pattern).bind(i64::from(limit)).fetch_all(pool).await)?;
        rows.into_iter()
            .filter_map(|r| match serde_json::from_value::<EmailJob>(r.payload.0) {
                Ok(EmailJob::TaskDigest { email, scope, .. }) => Some(Ok(SentTaskDigest {
                    id: r.id,
                    email,
                    scope,
                    status: r.status,
                    attempts: r.attempts,
                    last_error: r.last_error,
                    created_at: r.created_at,
                    done_at: r.done_at,
                })),
                Ok(_) => None,
                Err(e) => Some(Err(StoreError::Corrupt(format!("outbox payload: {e}")))),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_wildcards_in_a_nonce_match_only_themselves() {
        assert_eq!(like_escaped("a_b%c\\d"), "a\\_b\\%c\\\\d");
    }
}
