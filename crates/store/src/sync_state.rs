//! Per-connection sync state: sealed OAuth tokens, poll cursors and leases.
//!
//! On SQLite, timestamps are RFC 3339 text, always in UTC (`+00:00`), which compares
//! correctly as text; the lease query relies on that.

use chrono::{DateTime, Duration, Utc};

use super::{Store, StoreError, on_pool, on_tx};
use handoff_domain::people::NewActivity;

/// A token as stored: sealed (see `crate::sealed`), with the version it was written at.
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct StoredToken {
    pub sealed: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub version: i64,
}

impl Store {
    pub async fn connection_token(&self, connection: &str) -> Result<Option<StoredToken>, StoreError> {
        const SQL: &str = "SELECT sealed, expires_at, version FROM connection_tokens WHERE connection = $1";
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(connection).fetch_optional(pool).await)?)
    }

    /// Writes a token only if the stored one is still at `expected_version` (`None`: no
    /// token stored yet). Returns whether it was written; `false` means another process
    /// wrote a newer token first, which the caller should use instead.
    pub async fn put_connection_token(
        &self,
        connection: &str,
        sealed: &str,
        expires_at: Option<DateTime<Utc>>,
        expected_version: Option<i64>,
    ) -> Result<bool, StoreError> {
        const INSERT: &str = "INSERT INTO connection_tokens (connection, sealed, expires_at, version, updated_at) VALUES ($1, $2, $3, 1, $4) \
                              ON CONFLICT (connection) DO NOTHING";
        const UPDATE: &str = "UPDATE connection_tokens SET sealed = $2, expires_at = $3, version = version + 1, updated_at = $4 \
                              WHERE connection = $1 AND version = $5";
        let now = Utc::now();
        let written: u64 = match expected_version {
            None => on_pool!(self, pool => sqlx::query(INSERT)
                .bind(connection).bind(sealed).bind(expires_at).bind(now)
                .execute(pool).await.map(|r| r.rows_affected()))?,
            Some(v) => on_pool!(self, pool => sqlx::query(UPDATE)
                .bind(connection).bind(sealed).bind(expires_at).bind(now).bind(v)
                .execute(pool).await.map(|r| r.rows_affected()))?,
        };
        Ok(written == 1)
    }

    /// Stores the token an admin just connected, over whatever was there (a token of
    /// the account it replaces, or an unreadable one), with the admin's activity entry
    /// in the same transaction. The version still moves on, so a process refreshing the
    /// old token at that moment loses its conditional write and takes this one.
    pub async fn replace_connection_token(
        &self,
        connection: &str,
        sealed: &str,
        expires_at: Option<DateTime<Utc>>,
        entry: &NewActivity,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO connection_tokens (connection, sealed, expires_at, version, updated_at) VALUES ($1, $2, $3, 1, $4) \
                           ON CONFLICT (connection) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at, \
                           version = connection_tokens.version + 1, updated_at = excluded.updated_at";
        let mut tx = self.begin().await?;
        on_tx!(&mut tx, c => sqlx::query(SQL)
            .bind(connection).bind(sealed).bind(expires_at).bind(Utc::now())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.record_activity(entry).await?;
        tx.commit().await
    }

    /// Forgets a connection's token (it was revoked at the CRM), with the admin's
    /// activity entry in the same transaction. Whether there was one to forget.
    pub async fn forget_connection_token(&self, connection: &str, entry: &NewActivity) -> Result<bool, StoreError> {
        const SQL: &str = "DELETE FROM connection_tokens WHERE connection = $1";
        let mut tx = self.begin().await?;
        let deleted: u64 = on_tx!(&mut tx, c => sqlx::query(SQL).bind(connection).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.record_activity(entry).await?;
        tx.commit().await?;
        Ok(deleted > 0)
    }

    /// Takes the named lease for `ttl` if it is free, expired, or already `holder`'s
    /// (which extends it). Exactly one holder wins a contested lease.
    pub async fn acquire_lease(&self, name: &str, holder: &str, ttl: Duration) -> Result<bool, StoreError> {
        const SQL: &str = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                           ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                           WHERE leases.expires_at < $4 OR leases.holder = excluded.holder";
        let now = Utc::now();
        let taken: u64 = on_pool!(self, pool => sqlx::query(SQL)
            .bind(name).bind(holder).bind(now + ttl).bind(now)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(taken == 1)
    }

    /// Gives the lease up early, if `holder` still has it.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        const SQL: &str = "DELETE FROM leases WHERE name = $1 AND holder = $2";
        on_pool!(self, pool => sqlx::query(SQL).bind(name).bind(holder).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn poll_cursor(&self, connection: &str, object: &str) -> Result<Option<String>, StoreError> {
        const SQL: &str = "SELECT cursor FROM poll_cursors WHERE connection = $1 AND object = $2";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).bind(connection).bind(object).fetch_optional(pool).await)?)
    }

    /// Moves a poll cursor. Callers do this only after the records it covers are stored.
    pub async fn set_poll_cursor(&self, connection: &str, object: &str, cursor: &str) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO poll_cursors (connection, object, cursor, updated_at) VALUES ($1, $2, $3, $4) \
                           ON CONFLICT (connection, object) DO UPDATE SET cursor = excluded.cursor, updated_at = excluded.updated_at";
        on_pool!(self, pool => sqlx::query(SQL).bind(connection).bind(object).bind(cursor).bind(Utc::now())
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}
