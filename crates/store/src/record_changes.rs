//! The stream of record changes (see migrations 0004) and the bookkeeping that feeds it.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::inbound::Recorded;
use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::change::RecordChange;

/// How long an inbound event whose attempt failed waits before the next one.
pub const RETRY_AFTER: chrono::Duration = chrono::Duration::seconds(5);

/// A stored change waiting for the engine.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct StoredChange {
    pub id: Uuid,
    pub change: Json<RecordChange>,
    pub received_at: DateTime<Utc>,
    pub attempts: i32,
}

/// Stores changes, skipping ones already stored, in a few multi-row statements. Rows go
/// in key order, so two transactions storing the same change (two events about one
/// record, resolved by two processes) lock it in the same order and cannot deadlock.
async fn insert_changes(tx: &mut Tx, changes: &[RecordChange]) -> Result<Recorded, StoreError> {
    const COLUMNS: usize = 9;
    let now = Utc::now();
    let mut rows: Vec<(&RecordChange, String)> = changes.iter().map(|c| (c, c.fingerprint())).collect();
    rows.sort_by(|(a, fa), (b, fb)| {
        (&a.connection, a.object.as_str(), &a.external_id, a.modified_at, fa).cmp(&(
            &b.connection,
            b.object.as_str(),
            &b.external_id,
            b.modified_at,
            fb,
        ))
    });
    let mut new = 0;
    for chunk in rows.chunks(super::bulk::rows_per_statement(COLUMNS)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO record_changes (id, connection, object, external_id, fingerprint, modified_at, source, change, received_at) \
             VALUES {} ON CONFLICT (connection, object, external_id, modified_at, fingerprint) DO NOTHING",
            super::bulk::values(COLUMNS, chunk.len(), 1)
        ));
        let inserted: u64 = on_tx!(tx, conn => {
            let mut q = sqlx::query(sql);
            for (c, fingerprint) in chunk {
                q = q
                    .bind(Uuid::now_v7())
                    .bind(&c.connection)
                    .bind(c.object.as_str())
                    .bind(&c.external_id)
                    .bind(fingerprint)
                    .bind(c.modified_at)
                    .bind(c.source.as_str())
                    .bind(Json(*c))
                    .bind(now);
            }
            q.execute(&mut **conn).await.map(|r| r.rows_affected())
        })?;
        new += usize::try_from(inserted).unwrap_or(0);
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
        let mut tx = self.begin().await?;
        let recorded = insert_changes(&mut tx, changes).await?;
        let now = Utc::now();
        let mut events = events.to_vec();
        events.sort();
        for chunk in events.chunks(1000) {
            let sql = sqlx::AssertSqlSafe(format!(
                "UPDATE inbound_events SET status = 'processed', processed_at = $1, attempts = attempts + 1 WHERE id IN ({})",
                super::bulk::list(chunk.len(), 2)
            ));
            on_tx!(&mut tx, c => {
                let mut q = sqlx::query(sql).bind(now);
                for id in chunk {
                    q = q.bind(id);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
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
    /// Until then it stays claimed for [`RETRY_AFTER`], so a pass that keeps working
    /// through a burst does not retry it at once.
    pub async fn fail_inbound_event(&self, id: Uuid, error: &str, max_attempts: i32) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE inbound_events SET attempts = attempts + 1, last_error = $1, claimed_until = $2, \
                           status = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE status END WHERE id = $4";
        let retry_at = Utc::now() + RETRY_AFTER;
        on_pool!(self, pool => sqlx::query(SQL).bind(error).bind(retry_at).bind(max_attempts).bind(id).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The oldest changes the engine has not handled yet.
    pub async fn pending_record_changes(&self, limit: u32) -> Result<Vec<StoredChange>, StoreError> {
        const SQL: &str = "SELECT id, change, received_at, attempts FROM record_changes WHERE status = 'pending' ORDER BY id LIMIT $1";
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(i64::from(limit)).fetch_all(pool).await)?)
    }

    /// Claims up to `limit` pending changes, oldest first, for `claim`: other processes
    /// (and overlapping ticks of this one) skip them meanwhile, so no change is handled
    /// twice at once. A change waits while an older change of the same record is still
    /// pending, so each record's changes are handled in the order they arrived.
    pub async fn claim_record_changes(&self, limit: u32, claim: chrono::Duration) -> Result<Vec<StoredChange>, StoreError> {
        let now = Utc::now();
        let sql = sqlx::AssertSqlSafe(super::claims::claim_sql(
            "record_changes",
            "AND NOT EXISTS (SELECT 1 FROM record_changes o WHERE o.connection = r.connection AND o.object = r.object \
             AND o.external_id = r.external_id AND o.status = 'pending' AND o.id < r.id)",
            "id, change, received_at, attempts",
            self.backend(),
        ));
        let mut claimed: Vec<StoredChange> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(now + claim).bind(now).bind(i64::from(limit)).fetch_all(pool).await)?;
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
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

    /// Clears every claim (see `app::serve`: only for a database one process uses).
    pub async fn release_all_claims(&self) -> Result<(), StoreError> {
        for table in ["record_changes", "inbound_events"] {
            let sql = sqlx::AssertSqlSafe(format!("UPDATE {table} SET claimed_until = NULL WHERE claimed_until IS NOT NULL"));
            on_pool!(self, pool => sqlx::query(sql).execute(pool).await.map(|r| r.rows_affected()))?;
        }
        Ok(())
    }

    /// Gives claimed changes back at once, for the next run.
    pub async fn release_record_changes(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        super::claims::release(self, "record_changes", ids).await
    }

    /// Marks changes handled by the engine, in one statement per thousand.
    pub async fn finish_record_changes(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        let set = "status = 'processed', processed_at = $1, attempts = attempts + 1";
        super::bulk::update_ids(self, "record_changes", set, Some(Utc::now()), ids).await
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
