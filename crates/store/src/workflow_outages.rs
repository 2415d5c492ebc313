//! Workflows switched off because they did not fit their CRM (see migrations 0013 and
//! `AppState::validate_workflows_live`), so that what they missed is caught up later.

use chrono::{DateTime, Utc};

use super::{Store, StoreError, on_pool, on_tx};

impl Store {
    /// Notes that `workflow` is not running from `since` on. An outage already noted
    /// keeps its start: a workflow broken across several restarts missed everything
    /// since the first.
    pub async fn workflow_off(
        &self,
        workflow: &str,
        connection: &str,
        object: &str,
        since: DateTime<Utc>,
        reason: &str,
    ) -> Result<(), StoreError> {
        const SQL: &str = "INSERT INTO workflow_outages (workflow, connection, object, since, reason) VALUES ($1, $2, $3, $4, $5) \
                           ON CONFLICT (workflow) DO NOTHING";
        on_pool!(self, pool => sqlx::query(SQL).bind(workflow).bind(connection).bind(object).bind(since).bind(reason)
            .execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// `workflow` runs again: the record changes of its connection and object that were
    /// handled during its outage are put back in the queue, and the outage is closed, in
    /// one transaction. Returns how many changes will be handled again (None: there was
    /// no outage).
    pub async fn workflow_back(&self, workflow: &str) -> Result<Option<u64>, StoreError> {
        const OUTAGE: &str = "SELECT connection, object, since FROM workflow_outages WHERE workflow = $1";
        const REQUEUE: &str = "UPDATE record_changes SET status = 'pending', claimed_until = NULL \
                               WHERE connection = $1 AND object = $2 AND received_at >= $3 AND status = 'processed'";
        const CLOSE: &str = "DELETE FROM workflow_outages WHERE workflow = $1";
        let mut tx = self.begin().await?;
        let outage: Option<(String, String, DateTime<Utc>)> =
            on_tx!(&mut tx, c => sqlx::query_as(OUTAGE).bind(workflow).fetch_optional(&mut **c).await)?;
        let Some((connection, object, since)) = outage else {
            return Ok(None);
        };
        let requeued: u64 = on_tx!(&mut tx, c => sqlx::query(REQUEUE).bind(&connection).bind(&object).bind(since)
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(&mut tx, c => sqlx::query(CLOSE).bind(workflow).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        tx.commit().await?;
        Ok(Some(requeued))
    }
}
