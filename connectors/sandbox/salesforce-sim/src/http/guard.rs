//! Middleware: the request log and fault injection around every route; the version check,
//! bearer authentication, the daily API allocation and `Sforce-Limit-Info` around the API.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sandbox_kit::Observed;
use sandbox_kit::faults::{self, Class, Probe, Refusal};

use crate::error::ApiError;
use crate::state::Shared;

/// Route parameters whose values name a kind of thing (not one record), so the request
/// log counts them apart.
const KEEP_VALUES: [&str; 1] = ["{object}"];

pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    // jsforce and others send `Bearer`; older clients send `OAuth`.
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth")).then(|| token.trim().to_string())
}

/// What a request is, for fault rules: the REST API's reads and writes, the OAuth endpoints,
/// or other (the versions list).
fn class_of(method: &Method, path: &str) -> Class {
    let api = path.starts_with("/services/data/") && path.len() > "/services/data/".len();
    if api {
        if method == Method::GET || method == Method::HEAD {
            Class::Read
        } else {
            Class::Write
        }
    } else if path.starts_with("/services/oauth2/") || path.starts_with("/id/") {
        Class::Token
    } else {
        Class::Other
    }
}

/// Logs every routed request and applies injected faults before the handler runs.
pub async fn observe(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let seen = Observed::of(&req, true);
    let token = bearer(req.headers());
    let class = class_of(req.method(), seen.path());
    let decision = st.faults.decide(Probe { class, path: seen.path() });
    let resp = faults::run(decision, req, next, &st.shutdown, st.hang_limit, |r| render(&st, r, class)).await;
    seen.record(&st.log, &KEEP_VALUES, token, resp.status().as_u16());
    resp
}

/// Salesforce's answers to injected faults. API answers carry `Sforce-Limit-Info`, as every
/// API response does; a rate limit is Salesforce's REQUEST_LIMIT_EXCEEDED (403, not 429), with
/// `Retry-After` only when the rule asks for one (Salesforce sends none).
fn render(st: &Shared, refusal: Refusal, class: Class) -> Response {
    let resp = match refusal {
        Refusal::Error(code) => ApiError::fault(code).into_response(),
        Refusal::Unauthorized => ApiError::invalid_session().into_response(),
        Refusal::RateLimit { retry_after } => {
            let mut resp = ApiError::limit_exceeded().into_response();
            if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                resp.headers_mut().insert("retry-after", v);
            }
            resp
        }
        Refusal::HoldEnded => ApiError::fault(503).into_response(),
    };
    let api = matches!(class, Class::Read | Class::Write);
    if api && !matches!(refusal, Refusal::HoldEnded | Refusal::Error(_)) {
        with_usage(st, resp)
    } else {
        resp
    }
}

fn with_usage(st: &Shared, mut resp: Response) -> Response {
    let (used, max) = st.usage.peek();
    put_limit_info(resp.headers_mut(), used, max);
    resp
}

fn put_limit_info(h: &mut HeaderMap, used: u64, max: u64) {
    if let Ok(v) = HeaderValue::from_str(&format!("api-usage={used}/{max}")) {
        h.insert("sforce-limit-info", v);
    }
}

/// `v` followed by a version number: `v62.0`, `v67.0`, `v50.0`.
fn valid_version(v: &str) -> bool {
    let Some(n) = v.strip_prefix('v') else { return false };
    let mut parts = n.split('.');
    let major = parts.next().is_some_and(|m| !m.is_empty() && m.chars().all(|c| c.is_ascii_digit()));
    let minor = parts.next().is_some_and(|m| m == "0");
    major && minor && parts.next().is_none()
}

/// Authenticates the session and counts the call against the daily allocation.
pub async fn api_guard(State(st): State<Shared>, mut req: Request, next: Next) -> Response {
    let version = req.uri().path().split('/').nth(3).unwrap_or("");
    if !valid_version(version) {
        return with_usage(&st, ApiError::not_found().into_response());
    }
    let token = bearer(req.headers()).unwrap_or_default();
    let session = match st.tokens.check(&token, &st.faults) {
        Ok(s) => s,
        Err(e) => return with_usage(&st, e.into_response()),
    };
    let (used, max) = match st.usage.take() {
        Ok(u) => u,
        Err(_) => return with_usage(&st, ApiError::limit_exceeded().into_response()),
    };
    req.extensions_mut().insert(session);
    let mut resp = next.run(req).await;
    put_limit_info(resp.headers_mut(), used, max);
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_look_like_salesforce_ones() {
        assert!(valid_version("v62.0") && valid_version("v50.0"));
        assert!(!valid_version("62.0") && !valid_version("v62") && !valid_version("v62.1") && !valid_version("vx.0"));
    }
}
