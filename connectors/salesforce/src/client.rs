//! The REST client: where requests go, how they are authorised, retried and counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crm_http::{AccessToken, TokenProvider};
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result, codes, parse_error_body};
use crate::limits::{ApiUsage, LIMIT_INFO_HEADER, LimitInfo, Limits, parse_limit_info};

/// Summer '26. Pin the version you tested against; Salesforce keeps old ones for years.
pub const DEFAULT_API_VERSION: &str = "67.0";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_USER_AGENT: &str = concat!("crm-salesforce/", env!("CARGO_PKG_VERSION"));

/// How server failures and timeouts of idempotent calls are retried. Other failures
/// are never retried here; `REQUEST_LIMIT_EXCEEDED` in particular is returned at once.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0 disables retrying).
    pub max_retries: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 2,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// Exponential, with up to 50% jitter so that parallel callers do not retry in step.
    fn delay(&self, attempt: u32) -> Duration {
        let exp = self.initial_backoff.saturating_mul(2u32.saturating_pow(attempt));
        let base = exp.min(self.max_backoff);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        base + base.mul_f64(f64::from(nanos % 1000) / 2000.0)
    }
}

pub struct ClientBuilder {
    tokens: Arc<dyn TokenProvider>,
    api_version: String,
    timeout: Duration,
    user_agent: String,
    instance_url: Option<String>,
    retry: RetryPolicy,
}

impl ClientBuilder {
    /// `67.0` or `v67.0`.
    pub fn api_version(mut self, version: &str) -> Self {
        self.api_version = version.trim_start_matches('v').to_owned();
        self
    }

    /// The total time allowed for one HTTP request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = user_agent.to_owned();
        self
    }

    /// Used only when a token comes without an `instance_url` (a token that was stored
    /// without it, or a provider that does not know it).
    pub fn instance_url(mut self, url: &str) -> Self {
        self.instance_url = Some(url.trim_end_matches('/').to_owned());
        self
    }

    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn build(self) -> Result<Client> {
        let valid_version = self
            .api_version
            .split_once('.')
            .is_some_and(|(major, minor)| !major.is_empty() && [major, minor].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit())));
        if !valid_version {
            return Err(Error::InvalidInput(format!("API version {:?} is not like 67.0", self.api_version)));
        }
        let http = crm_http::client(&self.user_agent, self.timeout).map_err(|e| Error::Transport(e.to_string()))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                tokens: self.tokens,
                api_version: self.api_version,
                instance_url: self.instance_url,
                retry: self.retry,
                calls: AtomicU64::new(0),
                limit_info: Mutex::new(None),
            }),
        })
    }
}

/// A Salesforce REST client. Cheap to clone; clones share the call counter and the
/// last seen API usage.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    tokens: Arc<dyn TokenProvider>,
    api_version: String,
    instance_url: Option<String>,
    retry: RetryPolicy,
    calls: AtomicU64,
    limit_info: Mutex<Option<LimitInfo>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api_version", &self.inner.api_version)
            .field("calls_made", &self.calls_made())
            .finish_non_exhaustive()
    }
}

/// Where a request goes: a path under `/services/data/vNN.0/`, or a server-given
/// absolute path such as `nextRecordsUrl`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target<'a> {
    Api(&'a str),
    ServerPath(&'a str),
}

/// One logical call; [`Client::execute`] may send it more than once.
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub method: Method,
    pub target: Target<'a>,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
    pub headers: Vec<(&'static str, String)>,
    /// Whether sending it twice is harmless, which allows retrying after a timeout or
    /// a 5xx (where the first attempt may have been applied).
    pub idempotent: bool,
}

impl<'a> Call<'a> {
    pub fn get(target: Target<'a>) -> Self {
        Self {
            method: Method::GET,
            target,
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
            idempotent: true,
        }
    }

    pub fn with_body(method: Method, target: Target<'a>, body: serde_json::Value, idempotent: bool) -> Self {
        Self {
            method,
            target,
            query: Vec::new(),
            body: Some(body),
            headers: Vec::new(),
            idempotent,
        }
    }
}

pub(crate) struct Reply {
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json<T: DeserializeOwned>(&self, context: &str) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| Error::decode(context, e))
    }
}

enum Attempt {
    Done(Reply),
    Failed(Error),
    Unauthorized(Vec<crate::error::ApiError>),
}

impl Client {
    pub fn builder(tokens: Arc<dyn TokenProvider>) -> ClientBuilder {
        ClientBuilder {
            tokens,
            api_version: DEFAULT_API_VERSION.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            instance_url: None,
            retry: RetryPolicy::default(),
        }
    }

    /// A client with the defaults: API v67.0, 60 s timeout, two retries.
    pub fn new(tokens: Arc<dyn TokenProvider>) -> Result<Self> {
        Self::builder(tokens).build()
    }

    pub fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    /// HTTP requests sent to the REST API by this client and its clones, retries and
    /// failures included (token requests are not counted: they do not use API quota).
    pub fn calls_made(&self) -> u64 {
        self.inner.calls.load(Ordering::Relaxed)
    }

    /// The org's API usage from the last response that carried `Sforce-Limit-Info`.
    pub fn budget(&self) -> Option<ApiUsage> {
        self.limit_info().and_then(|info| info.api_usage)
    }

    /// Everything the last `Sforce-Limit-Info` header said.
    pub fn limit_info(&self) -> Option<LimitInfo> {
        self.inner.limit_info.lock().ok().and_then(|guard| guard.clone())
    }

    /// `GET /limits`: the org's limits and what remains of each.
    pub async fn limits(&self) -> Result<Limits> {
        let reply = self.execute(&Call::get(Target::Api("limits"))).await?;
        Ok(Limits::from_json(&reply.json::<serde_json::Value>("limits")?))
    }

    /// Sends a call: with a fresh token, refreshing once on 401, and retrying server
    /// failures and timeouts of idempotent calls with backoff.
    pub(crate) async fn execute(&self, call: &Call<'_>) -> Result<Reply> {
        let mut token = self.inner.tokens.token().await?;
        let mut refreshed = false;
        let mut retries = 0;
        loop {
            let error = match self.attempt(call, &token).await {
                Attempt::Done(reply) => return Ok(reply),
                // Salesforce's only 401 is INVALID_SESSION_ID: the session expired or was
                // revoked. Refresh once (the provider collapses concurrent refreshes) and
                // retry once; a request refused with 401 was not applied, so even
                // non-idempotent calls may be resent.
                Attempt::Unauthorized(_) if !refreshed => {
                    refreshed = true;
                    tracing::debug!("salesforce session rejected; refreshing the token");
                    token = self.inner.tokens.refresh(&token).await?;
                    continue;
                }
                Attempt::Unauthorized(errors) => Error::Unauthorized { errors },
                Attempt::Failed(error) => error,
            };
            let retryable = matches!(error, Error::Server { .. } | Error::Timeout | Error::Transport(_));
            if !(retryable && call.idempotent && retries < self.inner.retry.max_retries) {
                return Err(error);
            }
            let delay = self.inner.retry.delay(retries);
            retries += 1;
            tracing::debug!(%error, ?delay, retries, "retrying salesforce call");
            tokio::time::sleep(delay).await;
        }
    }

    async fn attempt(&self, call: &Call<'_>, token: &AccessToken) -> Attempt {
        let url = match self.url(call.target, token) {
            Ok(url) => url,
            Err(e) => return Attempt::Failed(e),
        };
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url)
            .bearer_auth(token.secret.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json");
        if !call.query.is_empty() {
            request = request.query(&call.query);
        }
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        if let Some(body) = &call.body {
            request = request.json(body);
        }
        self.inner.calls.fetch_add(1, Ordering::Relaxed);
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return Attempt::Failed(transport_error(&e)),
        };
        let status = response.status();
        self.record_limit_info(response.headers());
        let body = match response.bytes().await {
            Ok(body) => body.to_vec(),
            Err(e) => return Attempt::Failed(transport_error(&e)),
        };
        if status.is_success() {
            return Attempt::Done(Reply { body });
        }
        let errors = parse_error_body(&body);
        Attempt::Failed(match status.as_u16() {
            401 => return Attempt::Unauthorized(errors),
            // Salesforce says 403 REQUEST_LIMIT_EXCEEDED; a 429 (from a proxy or gateway in
            // front of it) means the same to a caller: stop and wait.
            429 => Error::RequestLimitExceeded {
                errors,
                usage: self.budget(),
            },
            _ if errors.iter().any(|e| e.error_code == codes::REQUEST_LIMIT_EXCEEDED) => {
                tracing::warn!("salesforce request limit exceeded");
                Error::RequestLimitExceeded {
                    errors,
                    usage: self.budget(),
                }
            }
            404 => Error::NotFound { errors },
            code @ 500.. => Error::Server { status: code, errors },
            code => Error::Api { status: code, errors },
        })
    }

    fn url(&self, target: Target<'_>, token: &AccessToken) -> Result<String> {
        let instance = token
            .instance_url
            .as_deref()
            .or(self.inner.instance_url.as_deref())
            .ok_or(Error::NoInstanceUrl)?
            .trim_end_matches('/');
        match target {
            Target::Api(path) => Ok(format!("{instance}/services/data/v{}/{path}", self.inner.api_version)),
            // A path the server handed us: keep it on the instance host.
            Target::ServerPath(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains("..") => {
                Ok(format!("{instance}{path}"))
            }
            Target::ServerPath(path) => Err(Error::decode("nextRecordsUrl", format!("not a server path: {path:?}"))),
        }
    }

    fn record_limit_info(&self, headers: &reqwest::header::HeaderMap) {
        let Some(value) = headers.get(LIMIT_INFO_HEADER).and_then(|v| v.to_str().ok()) else {
            return;
        };
        let info = parse_limit_info(value);
        if info.api_usage.is_none() {
            return;
        }
        if let Ok(mut guard) = self.inner.limit_info.lock() {
            *guard = Some(info);
        }
    }
}

fn transport_error(e: &reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout
    } else {
        Error::Transport(e.to_string())
    }
}

/// Refuses names that would change the shape of a URL path: object and field API
/// names are letters, digits and underscores.
pub(crate) fn check_api_name(kind: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty() && name.len() <= 80 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!("{kind} {name:?} is not an API name")))
    }
}

/// Record ids go into URL paths, so they must be plain 15/18-character ids.
pub(crate) fn check_record_id(id: &str) -> Result<()> {
    if crate::id::normalize(id).is_some() {
        Ok(())
    } else {
        Err(Error::InvalidInput(format!("{id:?} is not a Salesforce id")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let policy = RetryPolicy {
            max_retries: 5,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
        };
        assert!(policy.delay(0) >= Duration::from_millis(100) && policy.delay(0) <= Duration::from_millis(150));
        assert!(policy.delay(1) >= Duration::from_millis(200));
        assert!(policy.delay(10) <= Duration::from_millis(450));
        assert!(policy.delay(u32::MAX) <= Duration::from_millis(450), "no overflow");
    }

    #[test]
    fn api_versions_must_look_like_salesforce_versions() {
        let tokens: Arc<dyn TokenProvider> = Arc::new(crm_http::StaticToken(AccessToken::new("t".to_owned().into())));
        assert_eq!(
            Client::builder(tokens.clone()).api_version("v66.0").build().unwrap().api_version(),
            "66.0"
        );
        assert!(Client::builder(tokens.clone()).api_version("66").build().is_err());
        assert!(Client::builder(tokens.clone()).api_version("66.0/../x").build().is_err());
        assert_eq!(Client::new(tokens).unwrap().api_version(), DEFAULT_API_VERSION);
    }

    #[test]
    fn names_and_ids_that_would_bend_a_url_are_refused() {
        assert!(check_api_name("object", "Opportunity").is_ok());
        assert!(check_api_name("object", "Custom__c").is_ok());
        for bad in ["", "Opp/../x", "a b", "x?y", "é"] {
            assert!(check_api_name("object", bad).is_err(), "{bad}");
        }
        assert!(check_record_id("006000000000001").is_ok());
        assert!(check_record_id("006000000000001/x").is_err());
    }

    #[test]
    fn server_paths_stay_on_the_instance() {
        let tokens: Arc<dyn TokenProvider> = Arc::new(crm_http::StaticToken(AccessToken::new("t".to_owned().into())));
        let client = Client::builder(tokens)
            .instance_url("https://x.my.salesforce.com/")
            .build()
            .unwrap();
        let token = AccessToken::new("t".to_owned().into());
        let url = client
            .url(Target::ServerPath("/services/data/v67.0/query/01g-2000"), &token)
            .unwrap();
        assert_eq!(url, "https://x.my.salesforce.com/services/data/v67.0/query/01g-2000");
        assert!(client.url(Target::ServerPath("//evil.example/x"), &token).is_err());
        assert!(client.url(Target::ServerPath("https://evil.example/x"), &token).is_err());
        let mut with_instance = token.clone();
        with_instance.instance_url = Some("https://na1.salesforce.com".into());
        assert_eq!(
            client.url(Target::Api("limits"), &with_instance).unwrap(),
            "https://na1.salesforce.com/services/data/v67.0/limits"
        );
    }
}
