//! A CRM connection's health as every process and `handoff connections` see it: the
//! last webhook, the last poll, the last error, and what is left of the API allowance.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// What is left of the CRM's API allowance, as its last response said.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Budget {
    pub used: Option<u64>,
    pub limit: Option<u64>,
}

impl Budget {
    pub fn remaining(&self) -> Option<u64> {
        Some(self.limit?.saturating_sub(self.used?))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ConnectionHealth {
    pub last_webhook_at: Option<DateTime<Utc>>,
    pub last_poll_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub failing: bool,
    pub budget: Budget,
}
