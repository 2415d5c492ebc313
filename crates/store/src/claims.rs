//! Claims: how workers on one or many processes take rows of a queue table
//! (`inbound_events`, `record_changes`) without two of them working the same row. A
//! claim sets `claimed_until`; a worker that dies lets its claims run out, and
//! another takes the rows over.

use uuid::Uuid;

use super::{Backend, Store, StoreError};

/// `UPDATE … SET claimed_until = $1 … RETURNING` taking up to `$3` pending rows of
/// `table` (aliased `r`) whose claim ran out before `$2`, oldest first, with `extra`
/// conditions. On PostgreSQL the rows are locked `SKIP LOCKED`, so concurrent claimers
/// take different rows instead of queueing on the same ones; the outer conditions are
/// checked again on the row as it stands after any concurrent claim committed. SQLite
/// has one writer at a time, so the statement alone is atomic.
pub(super) fn claim_sql(table: &str, extra: &str, returning: &str, backend: Backend) -> String {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    format!(
        "UPDATE {table} SET claimed_until = $1 WHERE id IN (SELECT r.id FROM {table} r WHERE r.status = 'pending' \
         AND (r.claimed_until IS NULL OR r.claimed_until < $2) {extra} ORDER BY r.id LIMIT $3{lock}) \
         AND status = 'pending' AND (claimed_until IS NULL OR claimed_until < $2) RETURNING {returning}"
    )
}

/// Clears the claim on rows of `table` (see [`claim_sql`]).
pub(super) async fn release(store: &Store, table: &str, ids: &[Uuid]) -> Result<(), StoreError> {
    super::bulk::update_ids(store, table, "claimed_until = NULL", None, ids).await
}
