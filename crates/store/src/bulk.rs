//! Multi-row statements: one round trip and one parse for many rows. Creating a project
//! from a 50-task template was ~150 single-row INSERTs; as multi-row statements it is a
//! handful (see `examples/bench_projects.rs`).
//!
//! Only placeholders are generated here; values are always bound.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, StoreError, on_pool};

/// Bind parameters one statement may carry: below SQLite's 32,766 and PostgreSQL's
/// 65,535, with room for a few fixed parameters.
const MAX_PARAMS: usize = 30_000;

/// Rows of `columns` values that fit one statement.
pub(super) fn rows_per_statement(columns: usize) -> usize {
    (MAX_PARAMS / columns.max(1)).max(1)
}

/// `($1, …, $c), ($c+1, …), …` for `rows` rows of `columns` parameters, numbered from
/// `first` (1 unless fixed parameters come before the rows).
pub(super) fn values(columns: usize, rows: usize, first: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(first + row * columns + column).to_string());
        }
        sql.push(')');
    }
    sql
}

/// `$first, $first+1, …` for an `IN (…)` list of `n` values.
pub(super) fn list(n: usize, first: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// `UPDATE {table} SET {set} WHERE id IN (…)` over `ids`, a thousand at a time, with
/// `at` bound as `$1` when given: one statement where a loop would run one per row.
pub(super) async fn update_ids(store: &Store, table: &str, set: &str, at: Option<DateTime<Utc>>, ids: &[Uuid]) -> Result<(), StoreError> {
    let first = if at.is_some() { 2 } else { 1 };
    for chunk in ids.chunks(1000) {
        let sql = sqlx::AssertSqlSafe(format!("UPDATE {table} SET {set} WHERE id IN ({})", list(chunk.len(), first)));
        on_pool!(store, pool => {
            let mut q = sqlx::query(sql);
            if let Some(at) = at {
                q = q.bind(at);
            }
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(pool).await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_row_by_row() {
        assert_eq!(values(3, 2, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(values(2, 1, 3), "($3, $4)");
        assert_eq!(list(3, 2), "$2, $3, $4");
    }

    #[test]
    fn a_statement_stays_under_the_bind_limits() {
        assert_eq!(rows_per_statement(15), 2000);
        assert!(rows_per_statement(15) * 15 <= 32_766);
        assert_eq!(rows_per_statement(100_000), 1);
    }
}
