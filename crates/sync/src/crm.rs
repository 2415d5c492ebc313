//! The hub's view of a CRM (seam 1): each connector is adapted to this trait, and the
//! rest of the hub (sync, engine) sees only it.

use std::future::Future;
use std::pin::Pin;

use handoff_domain::change::{ObjectKind, RecordChange};
use handoff_domain::connection_health::Budget;
use handoff_domain::field_catalog::FieldCatalog;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One page of a poll run.
///
/// A run starts from the stored cursor and goes on page by page with the CRM's own
/// continuation (Salesforce's nextRecordsUrl, HubSpot's `after`), never by re-querying
/// from a moved cursor: that would re-read the overlap window on every page and, when
/// thousands of records share one timestamp, never finish.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangePage {
    pub changes: Vec<RecordChange>,
    /// The cursor that is safe to store once `changes` are stored: a later run that
    /// starts there misses nothing of this page or the ones before it. Empty when the
    /// page moves nothing (the stored cursor stays as it is).
    pub cursor: String,
    /// Where the next page of this run starts; `None` when the run is complete.
    pub continuation: Option<String>,
    /// How many records the whole run will return, when the CRM says (progress bars).
    pub total_hint: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum CrmError {
    /// Back off: the CRM said so (429, REQUEST_LIMIT_EXCEEDED).
    #[error("rate limited by the CRM: {0}")]
    RateLimited(String),
    /// The credentials no longer work; a person must reconnect.
    #[error("the CRM refused the credentials: {0}")]
    Unauthorized(String),
    /// The CRM failed or could not be reached; retrying later may help.
    #[error("the CRM is unavailable: {0}")]
    Unavailable(String),
    /// The CRM refused the request itself, with its own message.
    #[error("the CRM refused the request: {0}")]
    Rejected(String),
}

impl CrmError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, CrmError::RateLimited(_) | CrmError::Unavailable(_))
    }
}

/// New values for some fields of one record. Strings, numbers and booleans as JSON;
/// each adapter converts to its CRM's wire format.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldWrite {
    pub external_id: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A completed activity to log on a record.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ActivityWrite {
    pub external_id: String,
    pub subject: String,
    pub body: String,
    /// The CRM contact who acted, when known: the activity is associated with them too.
    pub contact_id: Option<String>,
    /// When it happened.
    pub at: chrono::DateTime<chrono::Utc>,
}

/// How one row of a batch write went.
pub type RowOutcome = Result<(), RowError>;

/// A row the CRM refused, in its own words.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RowError {
    pub message: String,
    /// A lock or a passing condition: the same write may succeed later.
    pub retryable: bool,
}

impl RowError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
        }
    }
}

pub trait Crm: Send + Sync {
    fn connection(&self) -> &str;

    /// The current state of these records, with contacts and their roles, in as few
    /// calls as the CRM allows. Records that no longer exist come back `deleted`.
    fn fetch<'a>(&'a self, object: ObjectKind, ids: &'a [String]) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>>;

    /// A page of the records changed since `cursor` (`None`: from the beginning, a
    /// backfill): the first page of a run with `continuation` `None`, the following
    /// ones with the continuation the previous page returned.
    fn changed_since<'a>(
        &'a self,
        object: ObjectKind,
        cursor: Option<&'a str>,
        continuation: Option<&'a str>,
    ) -> BoxFuture<'a, Result<ChangePage, CrmError>>;

    /// Records deleted since `since`, as deleted changes. CRMs without a delete log
    /// report deletions through webhooks only and return none here.
    fn deleted_since<'a>(
        &'a self,
        object: ObjectKind,
        since: chrono::DateTime<chrono::Utc>,
    ) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>>;

    /// Sets fields on records, as few calls as the CRM allows (Salesforce sObject
    /// Collections of 200, HubSpot batches of 100). One outcome per write, in order;
    /// `Err` for the whole call when nothing could be sent.
    fn write_fields<'a>(&'a self, object: ObjectKind, writes: &'a [FieldWrite]) -> BoxFuture<'a, Result<Vec<RowOutcome>, CrmError>>;

    /// Logs completed activities (a Salesforce Task, a HubSpot task) on records, batched
    /// like [`Crm::write_fields`].
    fn log_activities<'a>(
        &'a self,
        object: ObjectKind,
        activities: &'a [ActivityWrite],
    ) -> BoxFuture<'a, Result<Vec<RowOutcome>, CrmError>>;

    /// Whether `activity` is already on its record, logged at or after `since`: asked
    /// before logging it again after an attempt whose outcome is unknown (a crash, a
    /// timeout), so a retry never logs it twice.
    fn activity_logged<'a>(
        &'a self,
        object: ObjectKind,
        activity: &'a ActivityWrite,
        since: chrono::DateTime<chrono::Utc>,
    ) -> BoxFuture<'a, Result<bool, CrmError>>;

    /// The fields of `object` as the CRM describes them now (Salesforce describe,
    /// HubSpot properties): types, picklist values, which ones may be written. Lookups
    /// that the fields the adapter reads go through (`Account.Name`) are described too.
    fn field_catalog<'a>(&'a self, object: ObjectKind) -> BoxFuture<'a, Result<FieldCatalog, CrmError>>;

    /// The contact roles a deal's contacts can have: the active values of Salesforce's
    /// OpportunityContactRole `Role` picklist, HubSpot's deal→contact association labels.
    fn contact_roles_known<'a>(&'a self) -> BoxFuture<'a, Result<Vec<String>, CrmError>>;

    /// One cheap read that shows the credentials work (the admin pages' Test), and what
    /// it read, in words.
    fn check_access<'a>(&'a self) -> BoxFuture<'a, Result<String, CrmError>>;

    fn budget(&self) -> Budget;

    /// API calls made so far, for reporting the cost of a sync.
    fn calls_made(&self) -> u64;
}
