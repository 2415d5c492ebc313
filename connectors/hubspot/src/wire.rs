//! Shapes several endpoints share: a page of results with its cursor, a batch
//! answer with its failing rows, a record reference.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// HubSpot's limit on inputs per batch request.
pub const BATCH_LIMIT: usize = 100;

/// A page of results; `paging.next.after` is absent on the last page.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Page<T> {
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

impl<T> Page<T> {
    /// The cursor for the next page, or `None` on the last one.
    pub fn next_after(&self) -> Option<&str> {
        self.paging.as_ref()?.next.as_ref().map(|n| n.after.as_str())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paging {
    #[serde(default)]
    pub next: Option<NextPage>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextPage {
    pub after: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdRef {
    pub id: String,
}

/// The result of one or more batch requests, merged. `errors` lists the failing rows of
/// partial failures (HTTP 207).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResult<T> {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default = "Vec::new")]
    pub results: Vec<T>,
    #[serde(default)]
    pub errors: Vec<BatchError>,
}

impl<T> Default for BatchResult<T> {
    fn default() -> Self {
        Self {
            status: None,
            results: Vec::new(),
            errors: Vec::new(),
        }
    }
}

/// One failure inside a batch answer; `context` names the inputs (`{"ids":["7"]}`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchError {
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub context: BTreeMap<String, Vec<String>>,
}
