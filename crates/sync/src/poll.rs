//! One poll run for one object of one connection: a plain function, called by the
//! scheduled job, by `handoff sync`, and directly by tests.

use chrono::{DateTime, Duration, Utc};

use super::{ChangePage, Crm, CrmError};
use handoff_domain::change::{ChangeSource, ObjectKind};
use handoff_store::{Store, StoreError};

/// The delete log is read at most this often: it is a second API call, and Salesforce
/// keeps deletions for 15 days, so an hourly look loses nothing and keeps an idle poll
/// at one call per object.
pub const DELETE_CHECK_EVERY: Duration = Duration::hours(1);

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crm(#[from] CrmError),
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PollReport {
    pub pages: usize,
    pub records: usize,
    pub new_changes: usize,
    pub deleted: usize,
    pub calls: u64,
}

/// Reads everything changed since the stored cursor, page by page; each page and the
/// cursor after it are committed together, so a crash mid-run resumes where the last
/// committed page ended and loses nothing. `on_page` sees each page (progress bars).
/// A backfill (`source` [`ChangeSource::Backfill`]) ignores the stored cursor and reads
/// everything; the changes it finds are deduplicated against those already stored.
pub async fn poll_once(
    store: &Store,
    crm: &dyn Crm,
    object: ObjectKind,
    source: ChangeSource,
    on_page: &mut (dyn FnMut(&ChangePage) + Send),
) -> Result<PollReport, SyncError> {
    let connection = crm.connection().to_owned();
    let calls_before = crm.calls_made();
    let started = Utc::now();
    let cursor = match source {
        ChangeSource::Backfill => None,
        _ => store.poll_cursor(&connection, object.as_str()).await?,
    };
    let mut report = PollReport::default();
    let mut continuation: Option<String> = None;
    loop {
        let mut page = crm.changed_since(object, cursor.as_deref(), continuation.as_deref()).await?;
        for c in &mut page.changes {
            c.source = source;
        }
        on_page(&page);
        report.pages += 1;
        report.records += page.changes.len();
        if !page.cursor.is_empty() {
            report.new_changes += store
                .record_poll_page(&connection, object.as_str(), &page.changes, &page.cursor)
                .await?
                .new;
        }
        match page.continuation {
            Some(next) => continuation = Some(next),
            None => break,
        }
    }
    report.deleted = check_deletions(store, crm, object, started).await?;
    report.calls = crm.calls_made() - calls_before;
    Ok(report)
}

/// Reads the delete log if the last look was more than [`DELETE_CHECK_EVERY`] ago. The
/// first run only notes the time: nothing the hub knew about can have been deleted
/// before it knew about it.
async fn check_deletions(store: &Store, crm: &dyn Crm, object: ObjectKind, now: DateTime<Utc>) -> Result<usize, SyncError> {
    let key = format!("{}#deleted", object.as_str());
    let connection = crm.connection().to_owned();
    let last = store
        .poll_cursor(&connection, &key)
        .await?
        .and_then(|c| DateTime::parse_from_rfc3339(&c).ok())
        .map(|t| t.with_timezone(&Utc));
    let deleted = match last {
        Some(last) if now - last < DELETE_CHECK_EVERY => return Ok(0),
        Some(last) => crm.deleted_since(object, last).await?,
        None => Vec::new(),
    };
    store.record_poll_page(&connection, &key, &deleted, &now.to_rfc3339()).await?;
    Ok(deleted.len())
}
