//! Middleware: the request log and fault injection around every route, and bearer-token
//! authentication plus rate limiting around the CRM API.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sandbox_kit::Observed;
use sandbox_kit::faults::{self, Class, Probe, Refusal};

use std::time::Duration;

use crate::auth::{AuthError, Principal};
use crate::error::ApiError;
use crate::ratelimit::{Policy, Usage, WINDOW};
use crate::state::Shared;

/// Route parameters whose values name a kind of thing (not one record), so the request
/// log counts them apart.
const KEEP_VALUES: [&str; 4] = ["{type}", "{from}", "{to}", "{version}"];

pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// What a request is, for fault rules: the OAuth endpoints, CRM reads (GET, search and batch
/// read are POSTs that change nothing) and CRM writes.
fn class_of(method: &Method, path: &str) -> Class {
    if path.starts_with("/oauth/") {
        Class::Token
    } else if method == Method::GET || method == Method::HEAD || path.ends_with("/search") || path.ends_with("/batch/read") {
        Class::Read
    } else {
        Class::Write
    }
}

/// Logs every routed request and applies injected faults before the handler runs.
pub async fn observe(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let seen = Observed::of(&req, false);
    let token = bearer(req.headers());
    let class = class_of(req.method(), seen.path());
    let decision = st.faults.decide(Probe { class, path: seen.path() });
    let resp = faults::run(decision, req, next, &st.shutdown, st.hang_limit, render).await;
    seen.record(&st.log, &KEEP_VALUES, token, resp.status().as_u16());
    resp
}

/// HubSpot's answers to injected faults.
fn render(refusal: Refusal) -> Response {
    match refusal {
        Refusal::Error(code) => ApiError::Fault(code).into_response(),
        Refusal::RateLimit { retry_after } => {
            let mut resp = ApiError::RateLimited(Policy::TenSecondlyRolling).into_response();
            if let Some(v) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
                resp.headers_mut().insert("retry-after", v);
            }
            resp
        }
        // HubSpot's 401 for an expired OAuth token (the token itself stays valid).
        Refusal::Unauthorized => ApiError::Auth(AuthError::Expired { ago: Duration::ZERO }).into_response(),
        Refusal::HoldEnded => ApiError::GatewayTimeout.into_response(),
    }
}

/// Authenticates the bearer token and counts the call against its limits.
pub async fn api_guard(State(st): State<Shared>, mut req: Request, next: Next) -> Response {
    let token = bearer(req.headers()).unwrap_or_default();
    let principal = match st.tokens.check(&token, &st.faults) {
        Ok(p) => p,
        Err(e) => return ApiError::Auth(e).into_response(),
    };
    let search = req.method() == Method::POST && req.uri().path().ends_with("/search");
    let oauth = matches!(principal, Principal::OAuth { .. });
    let usage = match st.limiter.check(&principal.limit_key(), oauth, search) {
        Ok(u) => u,
        Err(p) => return ApiError::RateLimited(p).into_response(),
    };
    req.extensions_mut().insert(principal);
    let mut resp = next.run(req).await;
    // Search responses do not carry the headers in HubSpot either, as far as is known [U].
    if !search {
        add_usage_headers(resp.headers_mut(), usage);
    }
    resp
}

fn add_usage_headers(h: &mut HeaderMap, usage: Usage) {
    let mut put = |name: &'static str, value: String| {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    };
    if let Some((max, remaining)) = usage.window {
        put("x-hubspot-ratelimit-interval-milliseconds", WINDOW.as_millis().to_string());
        put("x-hubspot-ratelimit-max", max.to_string());
        put("x-hubspot-ratelimit-remaining", remaining.to_string());
    }
    if let Some((max, remaining)) = usage.daily {
        put("x-hubspot-ratelimit-daily", max.to_string());
        put("x-hubspot-ratelimit-daily-remaining", remaining.to_string());
    }
}
