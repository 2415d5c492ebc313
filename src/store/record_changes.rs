//! The stream of record changes (see migrations 0004) and the bookkeeping that feeds it.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::inbound::Recorded;
use super::{Store, StoreError, Tx, on_pool, on_tx};
use crate::sync::RecordChange;

/// A stored change waiting for the engine.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct StoredChange {
    pub id: Uuid,
    pub change: Json<RecordChange>,
    pub received_at: DateTime<Utc>,
    pub attempts: i32,
}

async fn insert_changes(tx: &mut Tx, changes: &[RecordChange]) -> Result<Recorded, StoreError> {
    const SQL: &str = "INSERT INTO record_changes (id, connection, object, external_id, fingerprint, modified_at, source, change, received_at) \
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                       ON CONFLICT (connection, object, external_id, modified_at, fingerprint) DO NOTHING";
    let now = Utc::now();
    let mut new = 0;
    for c in changes {
        let inserted: u64 = on_tx!(tx, conn => sqlx::query(SQL)
            .bind(Uuid::now_v7())
            .bind(&c.connection)
            .bind(c.object.as_str())
            .bind(&c.external_id)
            .bind(c.fingerprint())
            .bind(c.modified_at)
            .bind(c.source.as_str())
            .bind(Json(c))
            .bind(now)
            .execute(&mut **conn)
            .await
            .map(|r| r.rows_affected()))?;
        new += usize::from(inserted == 1);
    }
    Ok(Recorded {
        new,
        duplicates: changes.len() - new,
    })
}

impl Store {
    /// Stores the changes that inbound events resolved to and marks those events
    /// processed, in one transaction: either both happen or neither does.
    pub async fn resolve_inbound_events(&self, changes: &[RecordChange], events: &[Uuid]) -> Result<Recorded, StoreError> {
        const DONE: &str = "UPDATE inbound_events SET status = 'processed', processed_at = $1, attempts = attempts + 1 WHERE id = $2";
        let mut tx = self.begin().await?;
        let recorded = insert_changes(&mut tx, changes).await?;
        let now = Utc::now();
        for id in events {
            on_tx!(&mut tx, c => sqlx::query(DONE).bind(now).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        tx.commit().await?;
        Ok(recorded)
    }

    /// Stores one page of a poll and moves the cursor past it, in one transaction, so
    /// the cursor never gets ahead of what is stored.
    pub async fn record_poll_page(
        &self,
        connection: &str,
        object: &str,
        changes: &[RecordChange],
        cursor: &str,
    ) -> Result<Recorded, StoreError> {
        const CURSOR: &str = "INSERT INTO poll_cursors (connection, object, cursor, updated_at) VALUES ($1, $2, $3, $4) \
                              ON CONFLICT (connection, object) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at";
        let mut tx = self.begin().await?;
        let recorded = insert_changes(&mut tx, changes).await?;
        on_tx!(&mut tx, c => sqlx::query(CURSOR).bind(connection).bind(object).bind(cursor).bind(Utc::now())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Notes a failed attempt at an inbound event; after `max_attempts` it is set aside
    /// as failed (kept, with the error, for an operator) instead of blocking the queue.
    pub async fn fail_inbound_event(&self, id: Uuid, error: &str, max_attempts: i32) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE inbound_events SET attempts = attempts + 1, last_error = $1, \
                           status = CASE WHEN attempts + 1 >= $2 THEN 'failed' ELSE status END WHERE id = $3";
        on_pool!(self, pool => sqlx::query(SQL).bind(error).bind(max_attempts).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The oldest changes the engine has not handled yet.
    pub async fn pending_record_changes(&self, limit: u32) -> Result<Vec<StoredChange>, StoreError> {
        const SQL: &str = "SELECT id, change, received_at, attempts FROM record_changes WHERE status = 'pending' ORDER BY id LIMIT $1";
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(i64::from(limit)).fetch_all(pool).await)?)
    }

    pub async fn count_record_changes(&self, connection: &str) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM record_changes WHERE connection = $1";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).bind(connection).fetch_one(pool).await)?)
    }
}

impl Store {
    /// The change of the same record stored just before `before` (by arrival), for
    /// triggers that fire on a field *becoming* a value.
    pub async fn previous_change(&self, change: &RecordChange, before: Uuid) -> Result<Option<RecordChange>, StoreError> {
        const SQL: &str = "SELECT change FROM record_changes WHERE connection = $1 AND object = $2 AND external_id = $3 AND id < $4 \
                           ORDER BY id DESC LIMIT 1";
        let row: Option<Json<RecordChange>> = on_pool!(self, pool => sqlx::query_scalar(SQL)
            .bind(&change.connection)
            .bind(change.object.as_str())
            .bind(&change.external_id)
            .bind(before)
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(|j| j.0))
    }

    /// Marks a change handled by the engine; `error` keeps it (as failed) for an operator.
    pub async fn finish_record_change(&self, id: Uuid, error: Option<&str>) -> Result<(), StoreError> {
        const SQL: &str =
            "UPDATE record_changes SET status = $1, last_error = $2, processed_at = $3, attempts = attempts + 1 WHERE id = $4";
        let status = if error.is_some() { "failed" } else { "processed" };
        on_pool!(self, pool => sqlx::query(SQL).bind(status).bind(error).bind(Utc::now()).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
