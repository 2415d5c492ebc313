//! Connection health rows (see migration 0005).

use chrono::{DateTime, Utc};

use super::{Store, StoreError, on_pool};
use handoff_domain::connection_health::{Budget, ConnectionHealth};

#[derive(sqlx::FromRow)]
struct HealthRow {
    connection: String,
    last_webhook_at: Option<DateTime<Utc>>,
    last_poll_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
    last_error_at: Option<DateTime<Utc>>,
    failing: bool,
    budget_used: Option<i64>,
    budget_limit: Option<i64>,
}

impl Store {
    /// Records the outcome of a poll: success (with the API budget) or the error.
    pub async fn record_poll_health(&self, connection: &str, h: &ConnectionHealth) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO connection_health (connection, last_poll_at, last_error, last_error_at, failing, budget_used, budget_limit) \
                           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (connection) DO UPDATE SET \
                           last_poll_at = COALESCE(excluded.last_poll_at, connection_health.last_poll_at), \
                           last_error = COALESCE(excluded.last_error, connection_health.last_error), \
                           last_error_at = COALESCE(excluded.last_error_at, connection_health.last_error_at), \
                           failing = excluded.failing, \
                           budget_used = COALESCE(excluded.budget_used, connection_health.budget_used), \
                           budget_limit = COALESCE(excluded.budget_limit, connection_health.budget_limit)";
        let to_i64 = |v: Option<u64>| v.and_then(|n| i64::try_from(n).ok());
        on_pool!(self, pool => sqlx::query(SQL)
            .bind(connection)
            .bind(h.last_poll_at)
            .bind(&h.last_error)
            .bind(h.last_error_at)
            .bind(h.failing)
            .bind(to_i64(h.budget.used))
            .bind(to_i64(h.budget.limit))
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn record_webhook_health(&self, connection: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO connection_health (connection, last_webhook_at) VALUES ($1, $2) \
                           ON CONFLICT (connection) DO UPDATE SET last_webhook_at = excluded.last_webhook_at";
        on_pool!(self, pool => sqlx::query(SQL).bind(connection).bind(at).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn connection_health(&self) -> Result<Vec<(String, ConnectionHealth)>, StoreError> {
        const SQL: &str = "SELECT connection, last_webhook_at, last_poll_at, last_error, last_error_at, failing, budget_used, budget_limit \
                           FROM connection_health ORDER BY connection";
        let rows: Vec<HealthRow> = on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
        let to_u64 = |v: Option<i64>| v.and_then(|n| u64::try_from(n).ok());
        Ok(rows
            .into_iter()
            .map(|r| {
                let h = ConnectionHealth {
                    last_webhook_at: r.last_webhook_at,
                    last_poll_at: r.last_poll_at,
                    last_error: r.last_error,
                    last_error_at: r.last_error_at,
                    failing: r.failing,
                    budget: Budget {
                        used: to_u64(r.budget_used),
                        limit: to_u64(r.budget_limit),
                    },
                };
                (r.connection, h)
            })
            .collect())
    }
}
