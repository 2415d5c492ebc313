//! HTTP: each area exposes a `router()`, merged here with the shared layers.

mod api;
mod api_invitations;
pub mod error;
mod health;
pub mod portal;
pub mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
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
    /// Project page models the portal keeps in memory (checked against the database's
    /// page version on every use).
    pub pages: portal::PageCache,
}

impl FromRef<WebState> for portal::PageCache {
    fn from_ref(state: &WebState) -> Self {
        state.pages.clone()
    }
}

pub fn router(state: WebState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(api::router(&state))
        .merge(api_invitations::router(&state))
        .merge(webhooks::router())
        .merge(portal::router(&state))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
