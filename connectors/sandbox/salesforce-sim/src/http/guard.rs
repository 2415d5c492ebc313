//! Middleware: the request log and fault injection around every route; the version check,
//! bearer authentication, the daily API allocation and `Sforce-Limit-Info` around the API.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::faults::Outcome;
use sandbox_kit::{LoggedRequest, endpoint_of};

/// Route parameters whose values name a kind of thing (not one record), so the request
/// log counts them apart.
const KEEP_VALUES: [&str; 1] = ["{object}"];
use crate::state::Shared;

pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    // jsforce and others send `Bearer`; older clients send `OAuth`.
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth")).then(|| token.trim().to_string())
}

/// Logs every routed request and applies injected faults before the handler runs.
pub async fn observe(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().trim_end_matches('/').to_string())
        .unwrap_or_else(|| path.clone());
    let token = bearer(req.headers());
    let api = path.starts_with("/services/data/") && path.len() > "/services/data/".len();
    let resp = with_faults(&st, req, next, api).await;
    let endpoint = format!("{method} {}", endpoint_of(&template, path.trim_end_matches('/'), &KEEP_VALUES));
    st.log.record(LoggedRequest {
        method,
        path,
        endpoint,
        token,
        status: resp.status().as_u16(),
    });
    resp
}

async fn with_faults(st: &Shared, req: Request, next: Next, api: bool) -> Response {
    let (latency, outcome) = st.faults.decide(api);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match outcome {
        Outcome::Pass => next.run(req).await,
        Outcome::Error(code) => ApiError::fault(code).into_response(),
        Outcome::LimitExceeded => with_usage(st, ApiError::limit_exceeded().into_response()),
        Outcome::Hang => {
            let mut shutdown = st.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(st.hang_limit) => {}
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
            ApiError::fault(503).into_response()
        }
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
