//! The HTTP core: base URL, path family, timeout, token seam, retries, budget, call count.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use crm_http::{AccessToken, TokenProvider};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use crate::budget::Budget;
use crate::error::{ApiError, Error, RateLimitPolicy, Result};
use crate::paths::ApiPaths;

pub const DEFAULT_BASE_URL: &str = "https://api.hubapi.com";
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_SEARCH_INTERVAL: Duration = Duration::from_millis(220);
const DEFAULT_USER_AGENT: &str = concat!("crm-hubspot/", env!("CARGO_PKG_VERSION"));

/// How often the client retries before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after a 429 on a short window (10-second or search's per-second limit) or a
    /// 423 Locked. Such a request was not processed, so any request may be retried.
    pub rate_limited: u32,
    /// Retries after a 5xx, a 477 or a timeout; only for requests that are safe to repeat
    /// (reads, searches, updates), never for creates.
    pub transient: u32,
    /// The first wait when no `Retry-After` says otherwise; it doubles per attempt.
    pub base_delay: Duration,
    /// The longest single wait (HubSpot's window is 10 s, so waiting longer buys nothing).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            rate_limited: 4,
            transient: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Never retry (401 still gets its one refresh).
    pub fn none() -> Self {
        Self {
            rate_limited: 0,
            transient: 0,
            ..Self::default()
        }
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Builds a [`Client`]; only the token provider is required.
pub struct ClientBuilder {
    base_url: String,
    paths: ApiPaths,
    timeout: Duration,
    user_agent: String,
    retry: RetryPolicy,
    search_interval: Duration,
    tokens: Arc<dyn TokenProvider>,
}

impl ClientBuilder {
    /// `https://api.hubapi.com` by default; tests point this at a simulator.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    pub fn paths(mut self, paths: ApiPaths) -> Self {
        self.paths = paths;
        self
    }

    /// Total time allowed for one HTTP attempt (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Minimum spacing between search calls made through this client. HubSpot allows 5
    /// searches per second per token, counted by arrival in a rolling second; the default
    /// of 220 ms leaves room for network jitter bunching arrivals. `Duration::ZERO` turns
    /// it off.
    pub fn search_interval(mut self, interval: Duration) -> Self {
        self.search_interval = interval;
        self
    }

    pub fn build(self) -> Result<Client> {
        let base = Url::parse(&self.base_url)?;
        if base.cannot_be_a_base() || !matches!(base.scheme(), "http" | "https") {
            return Err(Error::InvalidRequest(format!("base URL must be http(s): {}", self.base_url)));
        }
        let http = crm_http::client(&self.user_agent, self.timeout).map_err(Error::Transport)?;
        let inner = Inner {
            http,
            base,
            paths: self.paths,
            retry: self.retry,
            tokens: self.tokens,
            calls: AtomicU64::new(0),
            budget: Mutex::new(Budget::default()),
            search_interval: self.search_interval,
            next_search: tokio::sync::Mutex::new(None),
        };
        Ok(Client { inner: Arc::new(inner) })
    }
}

/// A HubSpot API client. Cheap to clone; clones share the call count, the budget and
/// the search pacing.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    paths: ApiPaths,
    retry: RetryPolicy,
    tokens: Arc<dyn TokenProvider>,
    calls: AtomicU64,
    budget: Mutex<Budget>,
    search_interval: Duration,
    next_search: tokio::sync::Mutex<Option<Instant>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.inner.base.as_str())
            .field("paths", &self.inner.paths)
            .field("calls_made", &self.calls_made())
            .finish_non_exhaustive()
    }
}

/// One API request, described before it is sent (and possibly re-sent).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub method: Method,
    pub url: Url,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    /// Safe to repeat after a 5xx or timeout.
    pub idempotent: bool,
    /// Counts against the search limit, so it is paced.
    pub search: bool,
}

pub(crate) struct Response {
    pub status: StatusCode,
    pub body: Vec<u8>,
    /// `Retry-After` in seconds, when sent (HubSpot sends it on 477; on 429 it is unconfirmed).
    pub retry_after: Option<Duration>,
}

/// What to do after a failed attempt.
enum Step {
    Refresh(Box<ApiError>),
    Wait {
        rate_limited: bool,
        delay: Option<Duration>,
        error: Error,
    },
    Fail(Error),
}

impl Client {
    pub fn builder(tokens: Arc<dyn TokenProvider>) -> ClientBuilder {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.into(),
            paths: ApiPaths::default(),
            timeout: DEFAULT_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.into(),
            retry: RetryPolicy::default(),
            search_interval: DEFAULT_SEARCH_INTERVAL,
            tokens,
        }
    }

    /// HTTP requests sent so far, retries included: each one counts against HubSpot's limits.
    pub fn calls_made(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// The budget from the latest `X-HubSpot-RateLimit-*` headers.
    pub fn budget(&self) -> Budget {
        *self.inner.budget.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn paths(&self) -> &ApiPaths {
        &self.inner.paths
    }

    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// `base + prefix + segments`, each segment percent-encoded (ids and names come from
    /// callers and must not change the path).
    pub(crate) fn url(&self, prefix: &str, segments: &[&str]) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(prefix.split('/').filter(|s| !s.is_empty()));
            path.extend(segments);
        }
        url
    }

    pub(crate) fn get(&self, url: Url, query: Vec<(&'static str, String)>) -> Call {
        Call {
            method: Method::GET,
            url,
            query,
            body: None,
            idempotent: true,
            search: false,
        }
    }

    /// A request with a JSON body. `idempotent` says whether repeating it after a 5xx or a
    /// timeout is harmless.
    pub(crate) fn with_body<B: Serialize + ?Sized>(&self, method: Method, url: Url, body: &B, idempotent: bool) -> Result<Call> {
        let body = serde_json::to_vec(body).map_err(|e| Error::InvalidRequest(format!("cannot encode body: {e}")))?;
        Ok(Call {
            method,
            url,
            query: Vec::new(),
            body: Some(body),
            idempotent,
            search: false,
        })
    }

    /// A request without a body (DELETE, or a PUT whose path says it all).
    pub(crate) fn bodyless(&self, method: Method, url: Url) -> Call {
        Call {
            method,
            url,
            query: Vec::new(),
            body: None,
            idempotent: true,
            search: false,
        }
    }

    /// Sends and decodes a JSON answer.
    pub(crate) async fn json<T: DeserializeOwned>(&self, call: Call) -> Result<T> {
        let path = call.url.path().to_owned();
        let response = self.execute(&call).await?;
        serde_json::from_slice(&response.body).map_err(|source| Error::Decode { path, source })
    }

    /// Sends and returns the raw answer (for 204s and 207s).
    pub(crate) async fn send(&self, call: Call) -> Result<Response> {
        self.execute(&call).await
    }

    async fn execute(&self, call: &Call) -> Result<Response> {
        let mut token = self.inner.tokens.token().await?;
        let mut refreshed = false;
        let (mut rate_attempts, mut transient_attempts) = (0u32, 0u32);
        loop {
            let step = match self.attempt(call, &token).await {
                Ok(response) if response.status.is_success() => return Ok(response),
                Ok(response) => classify(response),
                Err(error) => Step::Wait {
                    rate_limited: false,
                    delay: None,
                    error,
                },
            };
            let retry = &self.inner.retry;
            let (delay, attempt) = match step {
                Step::Fail(error) => return Err(error),
                Step::Refresh(body) if refreshed => return Err(Error::Unauthorized(body)),
                Step::Refresh(_) => {
                    // HubSpot: a 401 does not prove expiry, so refresh once and retry once.
                    tracing::debug!(path = call.url.path(), "HubSpot answered 401; refreshing the token once");
                    token = self.inner.tokens.refresh(&token).await?;
                    refreshed = true;
                    continue;
                }
                Step::Wait {
                    rate_limited: true,
                    delay,
                    error,
                } => {
                    rate_attempts += 1;
                    if rate_attempts > retry.rate_limited {
                        return Err(with_attempts(error, rate_attempts));
                    }
                    (delay, rate_attempts)
                }
                Step::Wait {
                    rate_limited: false,
                    delay,
                    error,
                } => {
                    transient_attempts += 1;
                    if !call.idempotent || transient_attempts > retry.transient {
                        return Err(with_attempts(error, transient_attempts));
                    }
                    (delay, transient_attempts)
                }
            };
            let wait = delay.unwrap_or_else(|| retry.backoff(attempt)).min(retry.max_delay);
            tracing::debug!(
                path = call.url.path(),
                attempt,
                wait_ms = wait.as_millis() as u64,
                "retrying a HubSpot call"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(&self, call: &Call, token: &AccessToken) -> Result<Response> {
        if call.search {
            self.pace_search().await;
        }
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .bearer_auth(token.secret.expose_secret());
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        if let Some(body) = &call.body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
        }
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        self.inner
            .budget
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .observe(response.headers(), SystemTime::now());
        let retry_after = retry_after(response.headers());
        let body = response.bytes().await.map_err(transport)?.to_vec();
        if !status.is_success() {
            tracing::debug!(path = call.url.path(), status = status.as_u16(), "HubSpot call failed");
        }
        Ok(Response { status, body, retry_after })
    }

    /// Spaces search calls `search_interval` apart across all clones of this client.
    async fn pace_search(&self) {
        let interval = self.inner.search_interval;
        if interval.is_zero() {
            return;
        }
        let wait_until = {
            let mut next = self.inner.next_search.lock().await;
            let now = Instant::now();
            let slot = next.map_or(now, |n| n.max(now));
            *next = Some(slot + interval);
            slot
        };
        tokio::time::sleep_until(wait_until).await;
    }
}

fn transport(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::Timeout
    } else {
        Error::Transport(error)
    }
}

fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn with_attempts(error: Error, attempts: u32) -> Error {
    match error {
        Error::RateLimited { body, .. } => Error::RateLimited { attempts, body },
        Error::Server { status, body, .. } => Error::Server { status, attempts, body },
        other => other,
    }
}

/// Sorts a non-2xx answer into refresh, wait-and-retry, or fail.
fn classify(response: Response) -> Step {
    let retry_after = response.retry_after;
    let status = response.status.as_u16();
    let body = Box::new(ApiError::from_body(&response.body));
    match status {
        401 => Step::Refresh(body),
        429 if body.rate_limit_policy() == Some(RateLimitPolicy::Daily) => Step::Fail(Error::DailyLimit(body)),
        429 => Step::Wait {
            rate_limited: true,
            delay: retry_after,
            error: Error::RateLimited { attempts: 1, body },
        },
        // 423 Locked: too many writes at once; HubSpot asks for at least 2 s.
        423 => Step::Wait {
            rate_limited: true,
            delay: Some(retry_after.unwrap_or_default().max(Duration::from_secs(2))),
            error: Error::RateLimited { attempts: 1, body },
        },
        477 | 500..=599 => Step::Wait {
            rate_limited: false,
            delay: retry_after,
            error: Error::Server { status, attempts: 1, body },
        },
        _ => Step::Fail(Error::Api { status, body }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        let token = crm_http::StaticToken(AccessToken::new("t".to_owned().into()));
        Client::builder(Arc::new(token)).base_url(base).build().unwrap()
    }

    fn response(status: u16, body: &str, retry_after: Option<u64>) -> Response {
        Response {
            status: StatusCode::from_u16(status).unwrap(),
            body: body.as_bytes().to_vec(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn urls_join_the_base_path_the_family_prefix_and_escaped_segments() {
        let c = client("https://proxy.example.com/hubspot/");
        assert_eq!(
            c.url("/crm/v3/objects", &["deals", "a/b?c"]).as_str(),
            "https://proxy.example.com/hubspot/crm/v3/objects/deals/a%2Fb%3Fc"
        );
        let plain = client("http://127.0.0.1:9");
        assert_eq!(
            plain.url(&ApiPaths::dated("2026-03").objects, &["deals"]).as_str(),
            "http://127.0.0.1:9/crm/objects/2026-03/deals"
        );
    }

    #[test]
    fn a_base_url_that_is_not_http_is_refused() {
        let token = Arc::new(crm_http::StaticToken(AccessToken::new("t".to_owned().into())));
        assert!(Client::builder(token.clone()).base_url("mailto:x@example.com").build().is_err());
        assert!(Client::builder(token).base_url("not a url").build().is_err());
    }

    #[test]
    fn the_client_debug_output_shows_no_token() {
        let shown = format!("{:?}", client("https://api.hubapi.com"));
        assert!(shown.contains("api.hubapi.com") && !shown.contains("\"t\""), "{shown}");
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy = RetryPolicy {
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            ..RetryPolicy::default()
        };
        let waits: Vec<u128> = (1..=4).map(|n| policy.backoff(n).as_millis()).collect();
        assert_eq!(waits, vec![100, 200, 350, 350]);
    }

    #[test]
    fn a_daily_429_fails_at_once_and_a_ten_secondly_429_waits() {
        let daily = classify(response(
            429,
            r#"{"policyName":"DAILY","message":"You have reached your daily limit."}"#,
            None,
        ));
        assert!(matches!(daily, Step::Fail(Error::DailyLimit(_))));
        let rolling = classify(response(429, r#"{"policyName":"TEN_SECONDLY_ROLLING"}"#, Some(1)));
        assert!(matches!(rolling, Step::Wait { rate_limited: true, delay: Some(d), .. } if d == Duration::from_secs(1)));
    }

    #[test]
    fn locked_and_migrating_accounts_are_waited_out_and_other_4xx_fail() {
        assert!(
            matches!(classify(response(423, "{}", None)), Step::Wait { rate_limited: true, delay: Some(d), .. } if d >= Duration::from_secs(2))
        );
        assert!(matches!(
            classify(response(477, "{}", Some(30)),),
            Step::Wait { rate_limited: false, .. }
        ));
        assert!(matches!(
            classify(response(502, "<html>", None)),
            Step::Wait { rate_limited: false, .. }
        ));
        assert!(matches!(classify(response(401, "{}", None)), Step::Refresh(_)));
        assert!(matches!(
            classify(response(403, r#"{"category":"MISSING_SCOPES"}"#, None)),
            Step::Fail(Error::Api { status: 403, .. })
        ));
    }
}
