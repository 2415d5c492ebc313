//! Per-connection health: last webhook, last poll, last error, API budget. Kept in
//! memory and written to the database (so every process and `handoff connections` see
//! it). A warning is logged when a connection starts failing and an info line when it
//! recovers, so an operator sees transitions, not every retry.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};

use handoff_domain::connection_health::{Budget, ConnectionHealth};
use handoff_store::Store;

/// Webhook arrival times are written at most this often per connection: intake is the
/// hot path, and "last webhook" needs no finer grain.
const WEBHOOK_WRITE_EVERY: Duration = Duration::seconds(10);

#[derive(Clone)]
pub struct Health {
    store: Store,
    current: Arc<Mutex<BTreeMap<String, ConnectionHealth>>>,
}

impl Health {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            current: Arc::default(),
        }
    }

    fn update<T>(&self, connection: &str, f: impl FnOnce(&mut ConnectionHealth) -> T) -> T {
        // A poisoned lock means a panic elsewhere mid-update; the data is still usable.
        let mut map = self.current.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(map.entry(connection.to_owned()).or_default())
    }

    pub async fn webhook_received(&self, connection: &str) {
        let now = Utc::now();
        let due = self.update(connection, |h| {
            let due = h.last_webhook_at.is_none_or(|last| now - last >= WEBHOOK_WRITE_EVERY);
            if due {
                h.last_webhook_at = Some(now);
            }
            due
        });
        if due && let Err(e) = self.store.record_webhook_health(connection, now).await {
            tracing::warn!(%connection, error = %e, "cannot record connection health");
        }
    }

    pub async fn poll_succeeded(&self, connection: &str, budget: Budget) {
        let snapshot = self.update(connection, |h| {
            if h.failing {
                tracing::info!(%connection, "connection recovered");
            }
            h.failing = false;
            h.last_poll_at = Some(Utc::now());
            h.budget = budget;
            h.clone()
        });
        self.persist(connection, &snapshot).await;
    }

    pub async fn failed(&self, connection: &str, error: &str) {
        let snapshot = self.update(connection, |h| {
            if !h.failing {
                tracing::warn!(%connection, %error, "connection is failing");
            }
            h.failing = true;
            h.last_error = Some(error.to_owned());
            h.last_error_at = Some(Utc::now());
            h.clone()
        });
        self.persist(connection, &snapshot).await;
    }

    async fn persist(&self, connection: &str, h: &ConnectionHealth) {
        if let Err(e) = self.store.record_poll_health(connection, h).await {
            tracing::warn!(%connection, error = %e, "cannot record connection health");
        }
    }
}
