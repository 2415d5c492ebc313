//! HTTP: each area exposes a `router()`, merged here with the shared layers.

mod api;
mod api_invitations;
pub mod error;
mod health;
pub mod portal;
pub mod webhooks;

use axum::Router;
use tower_http::trace::TraceLayer;

use crate::app::AppState;

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(api::router(&state))
        .merge(api_invitations::router(&state))
        .merge(webhooks::router())
        .merge(portal::router(&state))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
