//! The request log tests inspect: counts per endpoint and per token, plus recent entries.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::util::lock;

/// Entries kept for inspection; counters keep counting past it.
const KEEP: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// The path as called, without the query.
    pub path: String,
    /// Method and route with object names filled in and ids, locators and the API version as
    /// placeholders: `GET /services/data/{version}/sobjects/Opportunity/{id}`.
    pub endpoint: String,
    /// The bearer token, if one was sent.
    pub token: Option<String>,
    pub status: u16,
}

#[derive(Debug, Default)]
struct Inner {
    total: u64,
    by_endpoint: HashMap<String, u64>,
    by_token: HashMap<String, u64>,
    recent: VecDeque<LoggedRequest>,
}

/// A handle on the log; clones share it.
#[derive(Debug, Clone, Default)]
pub struct RequestLog {
    inner: Arc<Mutex<Inner>>,
}

impl RequestLog {
    pub(crate) fn record(&self, entry: LoggedRequest) {
        let mut i = lock(&self.inner);
        i.total += 1;
        *i.by_endpoint.entry(entry.endpoint.clone()).or_default() += 1;
        if let Some(t) = &entry.token {
            *i.by_token.entry(t.clone()).or_default() += 1;
        }
        if i.recent.len() >= KEEP {
            i.recent.pop_front();
        }
        i.recent.push_back(entry);
    }

    pub fn total(&self) -> u64 {
        lock(&self.inner).total
    }

    /// Calls to one endpoint, e.g. `count("GET /services/data/{version}/query")`.
    pub fn count(&self, endpoint: &str) -> u64 {
        lock(&self.inner).by_endpoint.get(endpoint).copied().unwrap_or(0)
    }

    pub fn count_for_token(&self, token: &str) -> u64 {
        lock(&self.inner).by_token.get(token).copied().unwrap_or(0)
    }

    pub fn by_endpoint(&self) -> BTreeMap<String, u64> {
        lock(&self.inner).by_endpoint.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    pub fn by_token(&self) -> BTreeMap<String, u64> {
        lock(&self.inner).by_token.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    /// The most recent entries (up to 100,000), oldest first.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        lock(&self.inner).recent.iter().cloned().collect()
    }

    pub fn clear(&self) {
        *lock(&self.inner) = Inner::default();
    }
}

/// Fills the `{object}` parameter of a route template with the value called and keeps the
/// others as placeholders: (`/services/data/{version}/sobjects/{object}/{id}`,
/// `/services/data/v62.0/sobjects/Account/001…`) → `/services/data/{version}/sobjects/Account/{id}`.
pub(crate) fn endpoint_of(template: &str, path: &str) -> String {
    let mut actual = path.split('/');
    template
        .split('/')
        .map(|seg| {
            let value = actual.next().unwrap_or("");
            if seg == "{object}" { value } else { seg }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_object_names_and_hide_ids_and_versions() {
        assert_eq!(
            endpoint_of(
                "/services/data/{version}/sobjects/{object}/{id}",
                "/services/data/v62.0/sobjects/Account/001Dn0000000001AAA"
            ),
            "/services/data/{version}/sobjects/Account/{id}"
        );
    }
}
