//! The outbox: side effects written with the change that causes them, claimed and
//! delivered by workers. A claim moves the row's next attempt into the future (a lease),
//! so a worker that dies mid-delivery lets another retry it later, and two workers never
//! deliver one row at the same time.

use chrono::{DateTime, Duration, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Db, Store, StoreError, on_pool};

/// A row a worker has claimed.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: Uuid,
    pub kind: String,
    pub payload: Json<serde_json::Value>,
    /// Including this one.
    pub attempts: i32,
    /// The CRM connection a writeback is for.
    pub connection: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Why the previous attempt did not finish, if one was made and recorded.
    pub last_error: Option<String>,
}

impl OutboxItem {
    /// Whether an earlier attempt may have reached the CRM: it was claimed before (and
    /// its worker died), or it failed or was deferred mid-batch.
    pub fn was_tried(&self) -> bool {
        self.attempts > 1 || self.last_error.is_some()
    }
}

/// A dead-lettered or pending row, for operators.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Claims up to `limit` due rows of `kind` for `lease`.
    pub async fn claim_outbox(&self, kind: &str, limit: u32, lease: Duration) -> Result<Vec<OutboxItem>, StoreError> {
        // PostgreSQL: SKIP LOCKED keeps two nodes from claiming one row. SQLite: writers
        // are serialized, so the plain subquery is enough.
        const PG: &str = "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1 WHERE id IN \
                          (SELECT id FROM outbox WHERE status = 'pending' AND kind = $2 AND next_attempt_at <= $3 \
                           ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING id, kind, payload, attempts, connection, created_at, last_error";
        const LITE: &str = "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1 WHERE id IN \
                            (SELECT id FROM outbox WHERE status = 'pending' AND kind = $2 AND next_attempt_at <= $3 \
                             ORDER BY next_attempt_at LIMIT $4) RETURNING id, kind, payload, attempts, connection, created_at, last_error";
        let now = Utc::now();
        let limit = i64::from(limit);
        Ok(match &self.db {
            Db::Postgres(pool) => {
                sqlx::query_as(PG)
                    .bind(now + lease)
                    .bind(kind)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
            Db::Sqlite(pool) => {
                sqlx::query_as(LITE)
                    .bind(now + lease)
                    .bind(kind)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
        })
    }

    /// The row's effect happened; it is never delivered again.
    pub async fn outbox_done(&self, id: Uuid) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE outbox SET status = 'done', done_at = $1, last_error = NULL WHERE id = $2";
        on_pool!(self, pool => sqlx::query(SQL).bind(Utc::now()).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// [`Store::outbox_done`] for many rows, in one statement per thousand.
    pub async fn outbox_done_many(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        let set = "status = 'done', done_at = $1, last_error = NULL";
        super::bulk::update_ids(self, "outbox", set, Some(Utc::now()), ids).await
    }

    /// A failed attempt: retried at `retry_at`, or dead-lettered (`retry_at` None) with
    /// the error kept for `handoff jobs failed`.
    pub async fn outbox_failed(&self, id: Uuid, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<(), StoreError> {
        const RETRY: &str = "UPDATE outbox SET last_error = $1, next_attempt_at = $2 WHERE id = $3";
        const DEAD: &str = "UPDATE outbox SET last_error = $1, status = 'dead' WHERE id = $2";
        match retry_at {
            Some(at) => {
                on_pool!(self, pool => sqlx::query(RETRY).bind(error).bind(at).bind(id).execute(pool).await.map(|r| r.rows_affected()))?
            }
            None => on_pool!(self, pool => sqlx::query(DEAD).bind(error).bind(id).execute(pool).await.map(|r| r.rows_affected()))?,
        };
        Ok(())
    }

    /// Dead-lettered rows, newest first.
    pub async fn outbox_dead(&self) -> Result<Vec<OutboxEntry>, StoreError> {
        const SQL: &str =
            "SELECT id, kind, status, attempts, last_error, created_at FROM outbox WHERE status = 'dead' ORDER BY created_at DESC";
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?)
    }

    /// Puts a dead-lettered row back in the queue, due now, with a fresh attempt count.
    pub async fn outbox_retry(&self, id: Uuid) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1 WHERE id = $2 AND status = 'dead'";
        let n: u64 = on_pool!(self, pool => sqlx::query(SQL).bind(Utc::now()).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        if n == 0 {
            return Err(StoreError::not_found("failed job", id));
        }
        Ok(())
    }

    /// Notes that an invitation's email went out.
    pub async fn invitation_sent(&self, invitation: Uuid) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE invitations SET sent_at = COALESCE(sent_at, $1) WHERE id = $2";
        on_pool!(self, pool => sqlx::query(SQL).bind(Utc::now()).bind(invitation).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// What an invitation email says, read when it is sent (so it shows current names).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct InvitationContext {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub project_name: String,
    pub company_name: Option<String>,
    pub welcome_message: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The project owner's name, as the inviter.
    pub owner_first_name: Option<String>,
    pub owner_last_name: Option<String>,
    pub revoked: bool,
}

impl Store {
    pub async fn invitation_context(&self, invitation: Uuid) -> Result<Option<InvitationContext>, StoreError> {
        const SQL: &str = "SELECT u.email, u.first_name, u.last_name, p.name AS project_name, c.name AS company_name, p.welcome_message, \
                           i.expires_at, o.first_name AS owner_first_name, o.last_name AS owner_last_name, (i.revoked_at IS NOT NULL) AS revoked \
                           FROM invitations i JOIN users u ON u.id = i.user_id JOIN projects p ON p.id = i.project_id \
                           LEFT JOIN companies c ON c.id = p.company_id \
                           LEFT JOIN memberships om ON om.project_id = p.id AND om.role = 'owner' \
                           LEFT JOIN users o ON o.id = om.user_id \
                           WHERE i.id = $1";
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(invitation).fetch_optional(pool).await)?)
    }
}

impl Store {
    /// Every stored invitation token hash (tests and audits: no token is ever stored).
    pub async fn invitation_hashes(&self) -> Result<Vec<String>, StoreError> {
        const SQL: &str = "SELECT token_hash FROM invitations ORDER BY created_at";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).fetch_all(pool).await)?)
    }
}
