//! The hub's view of a CRM (seam 1): each connector is adapted to this trait, and the
//! rest of the hub (sync, engine) sees only it.

use std::future::Future;
use std::pin::Pin;

use super::change::{ObjectKind, RecordChange};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One page of a poll: the changes, where to continue, and whether there is more.
#[derive(Clone, Debug, PartialEq)]
pub struct ChangePage {
    pub changes: Vec<RecordChange>,
    /// The cursor after this page; store it only once `changes` are stored.
    pub cursor: String,
    pub more: bool,
}

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

pub trait Crm: Send + Sync {
    fn connection(&self) -> &str;

    /// The current state of these records, with contacts and their roles, in as few
    /// calls as the CRM allows. Records that no longer exist come back `deleted`.
    fn fetch<'a>(&'a self, object: ObjectKind, ids: &'a [String]) -> BoxFuture<'a, Result<Vec<RecordChange>, CrmError>>;

    /// The next page of records changed since `cursor` (`None`: from the beginning).
    fn changed_since<'a>(&'a self, object: ObjectKind, cursor: Option<&'a str>) -> BoxFuture<'a, Result<ChangePage, CrmError>>;

    fn budget(&self) -> Budget;

    /// API calls made so far, for reporting the cost of a sync.
    fn calls_made(&self) -> u64;
}
