//! The request log tests inspect: counts per endpoint and per token, plus recent entries.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request};

use crate::lock;

/// Entries kept for inspection; counters keep counting past it.
const KEEP: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    /// The path as called, without the query.
    pub path: String,
    /// Method and route with the CRM's type-like parameters filled in and ids kept as
    /// placeholders: `GET /crm/v3/objects/deals/{id}`.
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
    /// Notes one request; called by the simulators' request guards.
    pub fn record(&self, entry: LoggedRequest) {
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

    /// Calls to one endpoint, e.g. `count("POST /crm/v3/objects/deals/search")` or
    /// `count("GET /services/data/{version}/query")`.
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

/// A request as the log notes it before it is answered; `record` completes the entry.
#[derive(Debug, Clone)]
pub struct Observed {
    method: String,
    path: String,
    template: String,
    trim_slash: bool,
}

impl Observed {
    /// `trim_slash` counts `/x/` and `/x` as one endpoint (for CRMs whose clients use both).
    pub fn of(req: &Request, trim_slash: bool) -> Self {
        let path = req.uri().path().to_string();
        let template = req
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str().to_string())
            .unwrap_or_else(|| path.clone());
        Self {
            method: req.method().to_string(),
            path,
            template,
            trim_slash,
        }
    }

    /// The path as called.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Logs the request with its answer's status; `keep` as for [`endpoint_of`].
    pub fn record(self, log: &RequestLog, keep: &[&str], token: Option<String>, status: u16) {
        let (template, path) = if self.trim_slash {
            (self.template.trim_end_matches('/'), self.path.trim_end_matches('/'))
        } else {
            (self.template.as_str(), self.path.as_str())
        };
        let endpoint = format!("{} {}", self.method, endpoint_of(template, path, keep));
        log.record(LoggedRequest {
            method: self.method,
            path: self.path,
            endpoint,
            token,
            status,
        });
    }
}

/// Fills the parameters of a route template listed in `keep` with the values called and
/// keeps the others (ids, locators) as placeholders, so calls to different records of
/// one kind count as one endpoint: (`/crm/v3/objects/{type}/{id}`,
/// `/crm/v3/objects/deals/12`, keep `{type}`) → `/crm/v3/objects/deals/{id}`.
pub fn endpoint_of(template: &str, path: &str, keep: &[&str]) -> String {
    let mut actual = path.split('/');
    template
        .split('/')
        .map(|seg| {
            let value = actual.next().unwrap_or("");
            if keep.contains(&seg) { value } else { seg }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_the_listed_parameters_and_hide_the_rest() {
        let keep = ["{type}", "{version}"];
        assert_eq!(
            endpoint_of("/crm/v3/objects/{type}/{id}", "/crm/v3/objects/deals/12", &keep),
            "/crm/v3/objects/deals/{id}"
        );
        assert_eq!(
            endpoint_of(
                "/crm/objects/{version}/{type}/search",
                "/crm/objects/2026-03/contacts/search",
                &keep
            ),
            "/crm/objects/2026-03/contacts/search"
        );
        assert_eq!(
            endpoint_of(
                "/services/data/{version}/sobjects/{object}/{id}",
                "/services/data/v62.0/sobjects/Account/001Dn0000000001AAA",
                &["{object}"]
            ),
            "/services/data/{version}/sobjects/Account/{id}"
        );
    }

    #[test]
    fn the_log_counts_per_endpoint_and_token() {
        let log = RequestLog::default();
        for token in [Some("a"), Some("a"), None] {
            log.record(LoggedRequest {
                method: "GET".into(),
                path: "/x/1".into(),
                endpoint: "GET /x/{id}".into(),
                token: token.map(str::to_owned),
                status: 200,
            });
        }
        assert_eq!((log.total(), log.count("GET /x/{id}"), log.count_for_token("a")), (3, 3, 2));
        assert_eq!(log.entries().len(), 3);
        log.clear();
        assert_eq!(log.total(), 0);
    }
}
