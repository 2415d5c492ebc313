//! Inbound CRM events: committed before the CRM is acknowledged, deduplicated by a key
//! the connector derives, then worked off by the sync processor.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

use super::{Store, StoreError, on_pool, on_tx};

/// How long a handled event is kept so that a redelivery is still recognised. HubSpot
/// retries over 24 hours and Salesforce drops undelivered messages after 24 hours; the
/// promise is at least 72 hours.
pub const RETENTION: Duration = Duration::days(7);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventSource {
    Webhook,
    Poll,
}

impl EventSource {
    fn as_str(self) -> &'static str {
        match self {
            EventSource::Webhook => "webhook",
            EventSource::Poll => "poll",
        }
    }
}

/// An event as received, before it is stored.
#[derive(Clone, Debug, Serialize)]
pub struct NewInboundEvent {
    pub connection: String,
    pub source: EventSource,
    /// Unique per connection for the same event however often it is delivered.
    pub dedupe_key: String,
    /// `deal.propertyChange`, `outbound_message`, …
    pub event_type: String,
    /// The CRM's object name: `deal`, `Opportunity`.
    pub object_type: String,
    pub external_id: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub payload: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct InboundEvent {
    pub id: Uuid,
    pub connection: String,
    pub dedupe_key: String,
    pub event_type: String,
    pub object_type: String,
    pub external_id: String,
    pub occurred_at: Option<DateTime<Utc>>,
    pub payload: Json<serde_json::Value>,
    pub received_at: DateTime<Utc>,
    pub status: String,
    pub attempts: i32,
}

/// Rows per INSERT: a HubSpot batch (100 events × 10 columns) stays far below both
/// databases' limit on bind parameters.
const ROWS_PER_INSERT: usize = 100;
const COLUMNS: usize = 10;

/// `INSERT … VALUES ($1, …, $10), ($11, …) ON CONFLICT DO NOTHING` for `rows` rows. Only
/// placeholders are generated; values are always bound.
fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO inbound_events (id, connection, source, dedupe_key, event_type, object_type, external_id, occurred_at, payload, received_at) VALUES ",
    );
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        let params: Vec<String> = (1..=COLUMNS).map(|c| format!("${}", row * COLUMNS + c)).collect();
        sql.push('(');
        sql.push_str(&params.join(", "));
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (connection, dedupe_key) DO NOTHING");
    sql
}

/// What storing a batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    pub new: usize,
    pub duplicates: usize,
}

impl Store {
    /// Stores a batch in one transaction; events already stored are skipped. When this
    /// returns Ok, every event of the batch is durable and the sender may be told so.
    pub async fn record_inbound_events(&self, events: &[NewInboundEvent]) -> Result<Recorded, StoreError> {
        let now = Utc::now();
        let total = events.len();
        let mut tx = self.begin().await?;
        let mut new = 0;
        // Rows in key order: two concurrent batches that share events (a redelivery
        // racing the original) then take their row locks in the same order, so on
        // PostgreSQL one waits for the other instead of the two deadlocking.
        let mut events: Vec<&NewInboundEvent> = events.iter().collect();
        events.sort_by(|a, b| (&a.connection, &a.dedupe_key).cmp(&(&b.connection, &b.dedupe_key)));
        events.dedup_by(|a, b| a.connection == b.connection && a.dedupe_key == b.dedupe_key);
        // One statement per chunk: a webhook batch is one round trip, not a hundred.
        for chunk in events.chunks(ROWS_PER_INSERT) {
            let sql = sqlx::AssertSqlSafe(insert_sql(chunk.len()));
            let inserted: u64 = on_tx!(&mut tx, c => {
                let mut q = sqlx::query(sql);
                for e in chunk {
                    q = q
                        .bind(Uuid::now_v7())
                        .bind(&e.connection)
                        .bind(e.source.as_str())
                        .bind(&e.dedupe_key)
                        .bind(&e.event_type)
                        .bind(&e.object_type)
                        .bind(&e.external_id)
                        .bind(e.occurred_at)
                        .bind(Json(&e.payload))
                        .bind(now);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
            new += usize::try_from(inserted).unwrap_or(0);
        }
        tx.commit().await?;
        Ok(Recorded {
            new,
            duplicates: total - new,
        })
    }

    /// The oldest pending events, for the processor.
    pub async fn pending_inbound_events(&self, limit: u32) -> Result<Vec<InboundEvent>, StoreError> {
        const SQL: &str = "SELECT id, connection, dedupe_key, event_type, object_type, external_id, occurred_at, payload, received_at, status, attempts \
                           FROM inbound_events WHERE status = 'pending' ORDER BY id LIMIT $1";
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(i64::from(limit)).fetch_all(pool).await)?)
    }

    /// Claims up to `limit` pending events, oldest first, for `claim` (see
    /// [`Store::claim_record_changes`]): overlapping resolve passes and other processes
    /// take different events.
    pub async fn claim_inbound_events(&self, limit: u32, claim: Duration) -> Result<Vec<InboundEvent>, StoreError> {
        let now = Utc::now();
        let sql = sqlx::AssertSqlSafe(super::claims::claim_sql(
            "inbound_events",
            "",
            "id, connection, dedupe_key, event_type, object_type, external_id, occurred_at, payload, received_at, status, attempts",
            self.backend(),
        ));
        let mut claimed: Vec<InboundEvent> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(now + claim).bind(now).bind(i64::from(limit)).fetch_all(pool).await)?;
        claimed.sort_by_key(|e| e.id);
        Ok(claimed)
    }

    /// Gives claimed events back at once (the CRM asked us to wait; the next pass retries).
    pub async fn release_inbound_events(&self, ids: &[Uuid]) -> Result<(), StoreError> {
        super::claims::release(self, "inbound_events", ids).await
    }

    pub async fn inbound_events_for(&self, connection: &str) -> Result<Vec<InboundEvent>, StoreError> {
        const SQL: &str = "SELECT id, connection, dedupe_key, event_type, object_type, external_id, occurred_at, payload, received_at, status, attempts \
                           FROM inbound_events WHERE connection = $1 ORDER BY id";
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(connection).fetch_all(pool).await)?)
    }

    /// Deletes handled events older than [`RETENTION`]; pending ones are never deleted.
    pub async fn purge_inbound_events(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM inbound_events WHERE status <> 'pending' AND received_at < $1";
        Ok(on_pool!(self, pool => sqlx::query(SQL).bind(now - RETENTION).execute(pool).await.map(|r| r.rows_affected()))?)
    }
}
