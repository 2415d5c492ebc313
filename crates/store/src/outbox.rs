//! The outbox: side effects written with the change that causes them, claimed and
//! delivered by workers. Every row enters through [`Tx::enqueue`], the one way in, in
//! the transaction of its cause. A claim moves the row's next attempt into the future
//! (a lease), so a worker that dies mid-delivery lets another retry it later, and two
//! workers never deliver one row at the same time.

use chrono::{DateTime, Duration, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Db, Store, StoreError, Tx, bulk, on_pool, on_tx};
use handoff_domain::outbox::{EmailJob, OutboxKind};
use handoff_domain::writeback::QueuedWriteback;

/// A row to add to the outbox.
#[derive(Clone, Debug, PartialEq)]
pub struct Enqueue {
    pub kind: OutboxKind,
    /// A second row with the same key is not added: what it would do is already queued.
    pub idempotency_key: String,
    /// The CRM connection a writeback is for (its worker batches per connection).
    pub connection: Option<String>,
    /// The CRM record a writeback writes to (the record trace finds it by this).
    pub record: Option<String>,
    pub payload: serde_json::Value,
}

impl Enqueue {
    pub fn email(idempotency_key: String, job: &EmailJob) -> Result<Self, StoreError> {
        Ok(Self {
            kind: OutboxKind::Email,
            idempotency_key,
            connection: None,
            record: None,
            payload: payload(job)?,
        })
    }

    /// A writeback is its own row, whatever came before: its key only guards against
    /// writing one row twice.
    pub fn writeback(connection: &str, row: &QueuedWriteback) -> Result<Self, StoreError> {
        Ok(Self {
            kind: OutboxKind::Writeback,
            idempotency_key: format!("writeback:{}", Uuid::now_v7()),
            connection: Some(connection.to_owned()),
            record: Some(row.record_id.clone()),
            payload: payload(row)?,
        })
    }
}

fn payload(value: &impl serde::Serialize) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(value).map_err(|e| StoreError::Corrupt(format!("an outbox payload cannot be written: {e}")))
}

impl Tx {
    /// Adds rows to the outbox, due now, in one statement per few thousand; rows whose
    /// key is queued already are skipped. Returns how many were added.
    pub async fn enqueue(&mut self, rows: &[Enqueue]) -> Result<u64, StoreError> {
        const COLUMNS: usize = 8;
        let now = Utc::now();
        let mut added = 0;
        for chunk in rows.chunks(bulk::rows_per_statement(COLUMNS)) {
            let sql = sqlx::AssertSqlSafe(format!(
                "INSERT INTO outbox (id, kind, idempotency_key, connection, record, payload, next_attempt_at, created_at) VALUES {} \
                 ON CONFLICT (idempotency_key) DO NOTHING",
                bulk::values(COLUMNS, chunk.len(), 1)
            ));
            added += on_tx!(self, c => {
                let mut q = sqlx::query(sql);
                for row in chunk {
                    q = q.bind(Uuid::now_v7()).bind(row.kind.as_str()).bind(&row.idempotency_key).bind(&row.connection)
                        .bind(&row.record).bind(Json(&row.payload)).bind(now).bind(now);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        Ok(added)
    }
}

/// A row a worker has claimed.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: Uuid,
    #[sqlx(try_from = "String")]
    pub kind: OutboxKind,
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
    pub async fn claim_outbox(&self, kind: OutboxKind, limit: u32, lease: Duration) -> Result<Vec<OutboxItem>, StoreError> {
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
                    .bind(kind.as_str())
                    .bind(now)
                    .bind(limit)
                    .fetch_all(pool)
                    .await?
            }
            Db::Sqlite(pool) => {
                sqlx::query_as(LITE)
                    .bind(now + lease)
                    .bind(kind.as_str())
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
    pub async fn outbox_counts(&self, kind: OutboxKind) -> Result<OutboxCounts, StoreError> {
        const SQL: &str = "SELECT COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0), \
                           COALESCE(SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), 0), \
                           COALESCE(SUM(CASE WHEN status = 'dead' THEN 1 ELSE 0 END), 0) FROM outbox WHERE kind = $1";
        let (pending, done, dead): (i64, i64, i64) = on_pool!(self, pool => sqlx::query_as(SQL).bind(kind.as_str()).fetch_one(pool).await)?;
        Ok(OutboxCounts { pending, done, dead })
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub done: i64,
    pub dead: i64,
}
