//! Poll runs: search pages from a stored cursor, the run's poller kept between pages
//! under a continuation token, and the cursor to store after each page.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use crm_hubspot::Object;
use crm_hubspot::poll::{Cursor, PolledRecord, Poller};
use handoff_domain::change::ObjectKind;

use super::HubspotCrm;
use super::errors::map_error;
use crate::crm::{ChangePage, CrmError};

/// HubSpot's search page limit: fewer searches, which have their own tight rate limit.
const SEARCH_PAGE: u32 = 200;
/// Newly written records take a moment to reach the search index, so a record modified
/// just before a poll ran may have been invisible to it. The next run starts this much
/// before the previous run's start when the cursor is that recent; an older cursor
/// needs no rewind, which keeps an idle poll at one call.
const INDEX_LAG_MS: i64 = 60_000;

/// Runs in progress, by continuation token.
pub(super) type Runs = HashMap<String, Run>;

/// A poll run in progress: its poller and when the run started.
pub(super) struct Run {
    poller: Poller,
    started_ms: i64,
}

impl Run {
    /// The cursor to store once `at`'s page is stored.
    fn cursor_at(&self, at: Cursor) -> Result<String, CrmError> {
        serde_json::to_string(&RunCursor {
            at,
            run_started_ms: self.started_ms,
        })
        .map_err(|e| CrmError::Rejected(e.to_string()))
    }
}

/// The stored cursor: the connector's keyset cursor and when its run started.
#[derive(serde::Serialize, serde::Deserialize)]
struct RunCursor {
    at: Cursor,
    run_started_ms: i64,
}

impl RunCursor {
    fn parse(stored: &str) -> Result<Self, CrmError> {
        serde_json::from_str(stored)
            .map_err(|e| CrmError::Rejected(format!("the stored poll cursor is unreadable ({e}); run `handoff sync --backfill`")))
    }

    fn start(&self) -> Cursor {
        let visible_until = self.run_started_ms - INDEX_LAG_MS;
        self.at.rewound(self.at.modified_ms - visible_until)
    }
}

impl HubspotCrm {
    /// The next page of the run `continuation`, or the first of a new run from `cursor`.
    pub(super) async fn poll_page(
        &self,
        object: ObjectKind,
        cursor: Option<&str>,
        continuation: Option<&str>,
    ) -> Result<ChangePage, CrmError> {
        let (token, mut run) = match continuation.and_then(|c| self.take_run(c)) {
            Some(found) => found,
            None => {
                let run = self.start_run(object, cursor)?;
                (uuid::Uuid::now_v7().to_string(), run)
            }
        };
        let Some(page) = run.poller.next_page(&self.client).await.map_err(map_error)? else {
            // The run is over; its cursor was stored with its last page.
            return Ok(ChangePage {
                changes: Vec::new(),
                cursor: String::new(),
                continuation: None,
                total_hint: None,
            });
        };
        let changes = self.changes(object, with_modified(page.records)).await?;
        let cursor = run.cursor_at(page.cursor)?;
        self.lock_runs().insert(token.clone(), run);
        Ok(ChangePage {
            changes,
            cursor,
            continuation: Some(token),
            total_hint: None,
        })
    }

    /// A new run from the stored `cursor` (none or empty: from the beginning).
    fn start_run(&self, object: ObjectKind, cursor: Option<&str>) -> Result<Run, CrmError> {
        // A new run reads the owners afresh (once, when a deal names one).
        self.expire_owners();
        let start = match cursor.filter(|c| !c.is_empty()) {
            None => Cursor::beginning(),
            Some(c) => RunCursor::parse(c)?.start(),
        };
        let poller = Poller::new(Self::object_type(object), start)
            .properties(self.properties(object))
            .page_size(SEARCH_PAGE);
        Ok(Run {
            poller,
            started_ms: Utc::now().timestamp_millis(),
        })
    }

    /// The run under `token`, taken out while its page is read.
    fn take_run(&self, token: &str) -> Option<(String, Run)> {
        self.lock_runs().remove(token).map(|run| (token.to_owned(), run))
    }

    fn lock_runs(&self) -> std::sync::MutexGuard<'_, Runs> {
        self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Polled records with when each was modified, as the poller saw it.
fn with_modified(records: Vec<PolledRecord>) -> Vec<(Object, DateTime<Utc>)> {
    records
        .into_iter()
        .map(|PolledRecord { object, modified_ms, .. }| (object, DateTime::from_timestamp_millis(modified_ms).unwrap_or_else(Utc::now)))
        .collect()
}
