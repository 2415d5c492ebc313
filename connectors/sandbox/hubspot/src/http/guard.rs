//! Middleware: the request log and fault injection around every route, and bearer-token
//! authentication plus rate limiting around the CRM API.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::auth::Principal;
use crate::error::ApiError;
use crate::faults::Outcome;
use crate::ratelimit::{Policy, Usage, WINDOW};
use sandbox_kit::{LoggedRequest, endpoint_of};

/// Route parameters whose values name a kind of thing (not one record), so the request
/// log counts them apart.
const KEEP_VALUES: [&str; 4] = ["{type}", "{from}", "{to}", "{version}"];
use crate::state::Shared;

pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get("authorization")?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// Logs every routed request and applies injected faults before the handler runs.
pub async fn observe(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    let token = bearer(req.headers());
    let resp = with_faults(&st, req, next).await;
    let endpoint = format!("{method} {}", endpoint_of(&template, &path, &KEEP_VALUES));
    st.log.record(LoggedRequest {
        method,
        path,
        endpoint,
        token,
        status: resp.status().as_u16(),
    });
    resp
}

async fn with_faults(st: &Shared, req: Request, next: Next) -> Response {
    let (latency, outcome) = st.faults.decide();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match outcome {
        Outcome::Pass => next.run(req).await,
        Outcome::Error(code) => ApiError::Fault(code).into_response(),
        Outcome::RateLimited => ApiError::RateLimited(Policy::TenSecondlyRolling).into_response(),
        Outcome::Hang => {
            let mut shutdown = st.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(st.hang_limit) => {}
                _ = shutdown.wait_for(|stop| *stop) => {}
            }
            ApiError::GatewayTimeout.into_response()
        }
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
