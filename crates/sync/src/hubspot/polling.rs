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

/// Runs in progress by continuation token: the poller and when the run started.
pub(super) type Runs = HashMap<String, (Poller, i64)>;

/// The stored cursor: the connector's keyset cursor and when its run started.
#[derive(serde::Serialize, serde::Deserialize)]
struct RunCursor {
    at: Cursor,
    run_started_ms: i64,
}

impl RunCursor {
    fn start(&self) -> Cursor {
        let visible_until = self.run_started_ms - INDEX_LAG_MS;
        self.at.rewound(self.at.modified_ms - visible_until)
    }
}

impl HubspotCrm {
    pub(super) async fn poll_page(
        &self,
        object: ObjectKind,
        cursor: Option<&str>,
        continuation: Option<&str>,
    ) -> Result<ChangePage, CrmError> {
        let (token, (mut poller, run_started_ms)) = match continuation.and_then(|c| self.lock_runs().remove(c).map(|p| (c.to_owned(), p))) {
            Some(found) => found,
            None => {
                // A new run reads the owners afresh (once, when a deal names one).
                self.expire_owners();
                let start = match cursor.filter(|c| !c.is_empty()) {
                    None => Cursor::beginning(),
                    Some(c) => serde_json::from_str::<RunCursor>(c)
                        .map_err(|e| {
                            CrmError::Rejected(format!("the stored poll cursor is unreadable ({e}); run `handoff sync --backfill`"))
                        })?
                        .start(),
                };
                let poller = Poller::new(Self::object_type(object), start)
                    .properties(self.properties(object))
                    .page_size(SEARCH_PAGE);
                (uuid::Uuid::now_v7().to_string(), (poller, Utc::now().timestamp_millis()))
            }
        };
        let Some(page) = poller.next_page(&self.client).await.map_err(map_error)? else {
            // The run is over; its cursor was stored with its last page.
            return Ok(ChangePage {
                changes: Vec::new(),
                cursor: String::new(),
                continuation: None,
                total_hint: None,
            });
        };
        let records: Vec<(Object, DateTime<Utc>)> = page
            .records
            .into_iter()
            .map(
                |PolledRecord {
                     object: o, modified_ms, ..
                 }| (o, DateTime::from_timestamp_millis(modified_ms).unwrap_or_else(Utc::now)),
            )
            .collect();
        let changes = self.changes(object, records).await?;
        let cursor = serde_json::to_string(&RunCursor {
            at: page.cursor,
            run_started_ms,
        })
        .map_err(|e| CrmError::Rejected(e.to_string()))?;
        self.lock_runs().insert(token.clone(), (poller, run_started_ms));
        Ok(ChangePage {
            changes,
            cursor,
            continuation: Some(token),
            total_hint: None,
        })
    }

    fn lock_runs(&self) -> std::sync::MutexGuard<'_, Runs> {
        self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
