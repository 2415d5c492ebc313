//! The test database read whole, to tell whether a request changed anything: the
//! authorization matrices (portal and console) hold every refused request to "nothing
//! changed" with it.
// Shared by several test binaries, each of which uses only part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use handoff::domain::UserId;

use crate::portal_support::Portal;

pub enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    pub async fn connect(portal: &Portal) -> Db {
        let db = &portal.app.db;
        if db.is_postgres() {
            Db::Postgres(sqlx::PgPool::connect(db.url()).await.unwrap())
        } else {
            Db::Sqlite(sqlx::SqlitePool::connect(db.url()).await.unwrap())
        }
    }

    pub async fn has_table(&self, name: &str) -> bool {
        self.fingerprint().await.iter().any(|(table, _)| table == name)
    }

    /// `png` as `user`'s picture (as the portal's profile page would store it).
    pub async fn add_picture(&self, user: UserId, png: &[u8]) {
        const SQL: &str = "INSERT INTO user_pictures (user_id, content_type, bytes, updated_at) VALUES ($1, 'image/png', $2, $3)";
        let (id, now) = (user.as_uuid(), chrono::Utc::now());
        match self {
            Db::Sqlite(pool) => sqlx::query(SQL).bind(id).bind(png).bind(now).execute(pool).await.map(drop).unwrap(),
            Db::Postgres(pool) => sqlx::query(SQL).bind(id).bind(png).bind(now).execute(pool).await.map(drop).unwrap(),
        }
    }

    pub async fn scalar(&self, sql: &'static str) -> i64 {
        match self {
            Db::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
            Db::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await.unwrap(),
        }
    }

    /// Every row of every table as text, but for sessions' last-seen time (every
    /// signed-in request touches it, refused or not).
    pub async fn fingerprint(&self) -> Vec<(String, String)> {
        const SKIP_COLUMNS: [&str; 1] = ["last_seen_at"];
        let mut out = Vec::new();
        match self {
            Db::Sqlite(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY name",
                )
                .fetch_all(pool)
                .await
                .unwrap();
                for table in tables {
                    let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
                    )))
                    .fetch_all(pool)
                    .await
                    .unwrap();
                    let row = columns
                        .iter()
                        .filter(|c| !SKIP_COLUMNS.contains(&c.as_str()))
                        .map(|c| format!("quote(\"{c}\")"))
                        .collect::<Vec<_>>()
                        .join(" || '|' || ");
                    let sql =
                        format!("SELECT COALESCE(group_concat(r, char(10)), '') FROM (SELECT {row} AS r FROM \"{table}\" ORDER BY r)");
                    let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.unwrap();
                    out.push((table, rows));
                }
            }
            Db::Postgres(pool) => {
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() \
                     AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_sqlx%' ORDER BY 1",
                )
                .fetch_all(pool)
                .await
                .unwrap();
                for table in tables {
                    let columns: Vec<String> = sqlx::query_scalar(
                        "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() \
                         AND table_name = $1 ORDER BY ordinal_position",
                    )
                    .bind(&table)
                    .fetch_all(pool)
                    .await
                    .unwrap();
                    let row = columns
                        .iter()
                        .filter(|c| !SKIP_COLUMNS.contains(&c.as_str()))
                        .map(|c| format!("COALESCE(\"{c}\"::text, '<null>')"))
                        .collect::<Vec<_>>()
                        .join(" || '|' || ");
                    let sql = format!("SELECT COALESCE(string_agg(r, E'\\n' ORDER BY r), '') FROM (SELECT {row} AS r FROM \"{table}\") s");
                    let rows: String = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).fetch_one(pool).await.unwrap();
                    out.push((table, rows));
                }
            }
        }
        out
    }
}
