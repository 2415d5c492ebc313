//! Per-connection health: last webhook, last poll, last error. Kept in memory by the
//! process that did the work; a warning is logged when a connection starts failing and
//! an info line when it recovers, so an operator sees transitions, not every retry.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Budget;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConnectionHealth {
    pub last_webhook_at: Option<DateTime<Utc>>,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub failing: bool,
    pub budget: Budget,
}

#[derive(Clone, Default)]
pub struct Health(Arc<Mutex<BTreeMap<String, ConnectionHealth>>>);

impl Health {
    fn update(&self, connection: &str, f: impl FnOnce(&mut ConnectionHealth)) {
        // A poisoned lock means a panic elsewhere mid-update; the data is still usable.
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(map.entry(connection.to_owned()).or_default());
    }

    pub fn webhook_received(&self, connection: &str) {
        self.update(connection, |h| h.last_webhook_at = Some(Utc::now()));
    }

    pub fn poll_succeeded(&self, connection: &str, budget: Budget) {
        self.update(connection, |h| {
            if h.failing {
                tracing::info!(%connection, "connection recovered");
            }
            h.failing = false;
            h.last_poll_at = Some(Utc::now());
            h.budget = budget;
        });
    }

    pub fn failed(&self, connection: &str, error: &str) {
        self.update(connection, |h| {
            if !h.failing {
                tracing::warn!(%connection, %error, "connection is failing");
            }
            h.failing = true;
            h.last_error = Some(error.to_owned());
            h.last_error_at = Some(Utc::now());
        });
    }

    pub fn snapshot(&self) -> BTreeMap<String, ConnectionHealth> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}
