//! Opening the database: SQLite with pragmas chosen on purpose, or PostgreSQL.

use std::str::FromStr;
use std::time::Duration;

use secrecy::ExposeSecret;
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::{Db, Store, StoreError};
use handoff_config::{DatabaseConfig, SqliteSynchronous as SyncSetting};

/// How long a request waits for a free connection before failing, rather than hanging.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

impl Store {
    pub async fn connect(config: &DatabaseConfig) -> Result<Store, StoreError> {
        let url = config.url.expose_secret();
        let fail = |source| StoreError::Connect {
            url: redact_url(url),
            source,
        };
        let db = if url.starts_with("sqlite:") {
            let options = sqlite_options(url, config.sqlite_synchronous).map_err(fail)?;
            if let Some(dir) = options.get_filename().parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| fail(sqlx::Error::Io(e)))?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(fail)?;
            Db::Sqlite(pool)
        } else {
            let options = PgConnectOptions::from_str(url).map_err(fail)?;
            // One direct attempt first: the pool retries failed connections until its
            // timeout, which would make a wrong URL hang instead of failing at once.
            sqlx::PgConnection::connect_with(&options)
                .await
                .map_err(fail)?
                .close()
                .await
                .map_err(fail)?;
            let pool = PgPoolOptions::new()
                .max_connections(config.max_connections)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect_with(options)
                .await
                .map_err(fail)?;
            Db::Postgres(pool)
        };
        Ok(Store { db })
    }
}

/// The pragmas every SQLite connection gets (set per connection, because some libraries
/// — apalis-sqlite among them — change them on connections they set up):
/// - WAL, so readers never wait for the writer;
/// - foreign keys on (SQLite leaves them off by default);
/// - a busy timeout, so writers queue for the lock instead of failing at once;
/// - `synchronous` as configured: NORMAL (with WAL, commits survive a process crash;
///   an OS crash may lose the last few) or FULL (fsync on every commit). See
///   config/default.toml, `database.sqlite_synchronous`.
fn sqlite_options(url: &str, sync: SyncSetting) -> Result<SqliteConnectOptions, sqlx::Error> {
    Ok(SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .synchronous(match sync {
            SyncSetting::Normal => SqliteSynchronous::Normal,
            SyncSetting::Full => SqliteSynchronous::Full,
        }))
}

/// The URL with any password replaced, fit for logs and error messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // set_password only fails for URLs that cannot have one, which this has.
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        Ok(_) => url.to_owned(),
        Err(_) => String::from("(an unparsable database URL)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(redact_url("postgres://u:hunter2@db:5432/h"), "postgres://u:***@db:5432/h");
        assert_eq!(redact_url("sqlite://data/handoff.db"), "sqlite://data/handoff.db");
        assert!(!redact_url("postgres://u:hunter2@db:5432/h?x").contains("hunter2"));
    }
}
