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
    /// Method and route with object types filled in: `GET /crm/v3/objects/deals/{id}`.
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

    /// Calls to one endpoint, e.g. `count("POST /crm/v3/objects/deals/search")`.
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

/// Fills type-like parameters of a route template with the values called, keeping ids as
/// placeholders: (`/crm/v3/objects/{type}/{id}`, `/crm/v3/objects/deals/12`) → `/crm/v3/objects/deals/{id}`.
pub(crate) fn endpoint_of(template: &str, path: &str) -> String {
    const KEEP_VALUE: [&str; 4] = ["{type}", "{from}", "{to}", "{version}"];
    let mut actual = path.split('/');
    template
        .split('/')
        .map(|seg| {
            let value = actual.next().unwrap_or("");
            if KEEP_VALUE.contains(&seg) { value } else { seg }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_object_types_and_hide_ids() {
        assert_eq!(
            endpoint_of("/crm/v3/objects/{type}/{id}", "/crm/v3/objects/deals/12"),
            "/crm/v3/objects/deals/{id}"
        );
        assert_eq!(
            endpoint_of("/crm/objects/{version}/{type}/search", "/crm/objects/2026-03/contacts/search"),
            "/crm/objects/2026-03/contacts/search"
        );
    }
}
