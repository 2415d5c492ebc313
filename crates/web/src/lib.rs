//! HTTP: each area exposes a `router()`, merged here with the shared layers.

mod api;
mod api_invitations;
mod api_projects;
// Members and task emails (issue #13).
mod api_members;
// Staff task changes (#13).
mod api_tasks;
// Documents and activity (#13).
mod api_review;
pub mod console;
pub mod cookie;
pub mod csrf;
pub mod error;
pub mod form_token;
mod health;
pub mod page_error;
mod page_headers;
pub mod portal;
pub mod route;
mod templates;
mod versioned;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRef, MatchedPath, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::any;
use tower_http::trace::TraceLayer;

use handoff_config::Config;
use handoff_engine::Engine;
use handoff_store::Store;
use handoff_sync::health::Health;

/// What the web layer's handlers reach; cheap to clone. The application builds it
/// (`app::WebState::web`); the page cache is the web layer's own.
#[derive(Clone)]
pub struct WebState {
    pub config: Arc<Config>,
    pub store: Store,
    /// Every change to a project goes through it.
    pub engine: Engine,
    /// Webhook arrivals are noted here.
    pub health: Health,
    /// Each connection's CRM, for the admin pages' test read.
    pub crms: handoff_sync::process::Crms,
    /// Project page models the portal keeps in memory (checked against the database's
    /// page version on every use).
    pub pages: portal::PageCache,
    /// The console's rendered Tasks tabs, checked the same way.
    pub console_tasks: console::TaskListCache,
}

impl FromRef<WebState> for portal::PageCache {
    fn from_ref(state: &WebState) -> Self {
        state.pages.clone()
    }
}

pub fn router(state: WebState) -> Router {
    let hsts = state.config.server.base_url.scheme() == "https";
    // Everything that answers JSON, errors included: one shape, `{"error": "…"}`, for
    // axum's own answers (413, 405, rejections) and for unknown `/api/v1` paths too.
    let json = Router::new()
        .merge(health::router())
        .merge(api::router(&state))
        .merge(api_invitations::router(&state))
        .merge(api_projects::router(&state))
        .merge(api_members::router(&state))
        .merge(api_tasks::router(&state))
        .merge(api_review::router(&state))
        .merge(webhooks::router())
        .route("/api/v1", any(error::api_not_found))
        .route("/api/v1/", any(error::api_not_found))
        .route("/api/v1/{*rest}", any(error::api_not_found))
        .layer(middleware::from_fn(error::json_errors));
    Router::new()
        .merge(json)
        .merge(portal::router(&state))
        .merge(console::router(&state))
        .layer(middleware::from_fn(move |request: Request, next: Next| {
            strict_transport_security(hsts, request, next)
        }))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span every request's log lines carry: method and the matched *route template*
/// (`/invite/{token}`, `/webhooks/salesforce/{connection}/{secret}`), never the URI.
/// Paths hold secrets (a Salesforce connection's Outbound Message secret, unused
/// invitation tokens) and a query string may hold anything (OAuth codes and states,
/// a token pasted into a link), at every log level. Headers (the API's bearer token,
/// the session cookie) are not recorded either. A path that matches no route is
/// logged as `(no route)`.
fn request_span(request: &Request) -> tracing::Span {
    let route = request.extensions().get::<MatchedPath>().map_or("(no route)", MatchedPath::as_str);
    tracing::debug_span!("request", method = %request.method(), route, version = ?request.version())
}

/// `Strict-Transport-Security` on every response (portal, API, webhooks, health, error
/// pages) when the public base URL is https: browsers then never try the portal over
/// plain http, where a session cookie or an invitation link could be read on the way.
/// Not over http: a deployment reached by plain http (a laptop, the demo) would pin
/// browsers to an https it does not serve.
const HSTS: HeaderValue = HeaderValue::from_static("max-age=31536000; includeSubDomains");

async fn strict_transport_security(enabled: bool, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if enabled {
        response.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}
