//! The HTTP surface: one set of handlers mounted under both path families
//! (`/crm/v3`, `/crm/v4` and the date-versioned `/crm/objects/2026-03/…`), OAuth, and the
//! sandbox's own fault switchboard under `/__sandbox/faults`.

mod assoc;
mod batch;
mod extract;
pub(crate) mod guard;
mod meta;
mod model;
mod oauth;
mod objects;
mod render;
mod search;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use serde_json::json;

use crate::state::Shared;
use crate::util::correlation_id;

/// Record endpoints relative to an objects prefix. `v3_assoc` adds the v3 association
/// routes, which the date-versioned family replaces with v4 ones at the same paths.
fn object_routes(v3_assoc: bool) -> Router<Shared> {
    let r = Router::new()
        .route("/{type}", get(objects::list).post(objects::create))
        .route("/{type}/search", post(search::search))
        .route("/{type}/batch/read", post(batch::read_batch))
        .route("/{type}/batch/create", post(batch::create_batch))
        .route("/{type}/batch/update", post(batch::update_batch))
        .route("/{type}/batch/archive", post(batch::archive_batch))
        .route("/{type}/{id}", get(objects::get).patch(objects::update).delete(objects::archive));
    if v3_assoc {
        r.route("/{type}/{id}/associations/{to}", get(assoc::list_v3)).route(
            "/{type}/{id}/associations/{to}/{to_id}/{type_id}",
            put(assoc::put_v3).delete(assoc::delete_v3),
        )
    } else {
        r
    }
}

/// v4 association endpoints on a record, relative to an objects prefix.
fn record_assoc_routes() -> Router<Shared> {
    Router::new()
        .route("/{type}/{id}/associations/{to}", get(assoc::list_v4))
        .route(
            "/{type}/{id}/associations/{to}/{to_id}",
            put(assoc::put_labels).delete(assoc::delete_pair),
        )
        .route("/{type}/{id}/associations/default/{to}/{to_id}", put(assoc::put_default))
}

/// v4 batch association endpoints, relative to an associations prefix.
fn assoc_batch_routes() -> Router<Shared> {
    Router::new()
        .route("/{from}/{to}/batch/read", post(assoc::batch_read))
        .route("/{from}/{to}/batch/create", post(assoc::batch_create))
        .route("/{from}/{to}/batch/associate/default", post(assoc::batch_default))
        .route("/{from}/{to}/batch/archive", post(assoc::batch_archive))
        .route("/{from}/{to}/batch/labels/archive", post(assoc::batch_archive_labels))
        .route("/{from}/{to}/labels", get(assoc::labels))
}

fn api_routes() -> Router<Shared> {
    let properties = Router::new()
        .route("/{type}", get(meta::properties))
        .route("/{type}/{name}", get(meta::property));
    let pipelines = Router::new()
        .route("/{type}", get(meta::pipelines))
        .route("/{type}/{pipeline_id}", get(meta::pipeline));
    let owners = Router::new().route("/", get(meta::owners)).route("/{owner_id}", get(meta::owner));
    Router::new()
        .nest("/crm/v3/objects", object_routes(true))
        .nest("/crm/objects/{version}", object_routes(false).merge(record_assoc_routes()))
        .nest("/crm/v4/objects", record_assoc_routes())
        .nest("/crm/v4/associations", assoc_batch_routes())
        .nest("/crm/associations/{version}", assoc_batch_routes())
        .nest("/crm/v3/properties", properties.clone())
        .nest("/crm/properties/{version}", properties)
        .nest("/crm/v3/pipelines", pipelines.clone())
        .nest("/crm/pipelines/{version}", pipelines)
        .route("/account-info/v3/api-usage/daily/private-apps", get(meta::usage))
        .nest("/crm/v3/owners", owners.clone())
        .nest("/crm/owners/{version}", owners)
}

fn oauth_routes() -> Router<Shared> {
    Router::new()
        .route("/oauth/authorize", get(oauth::authorize).post(oauth::decide))
        .route("/oauth/{version}/authorize", get(oauth::authorize).post(oauth::decide))
        .route("/oauth/{version}/token", post(oauth::token))
        .route("/oauth/{version}/token/introspect", post(oauth::introspect))
        .route("/oauth/{version}/token/revoke", post(oauth::revoke))
        .route("/oauth/{version}/access-tokens/{token}", get(oauth::access_token_info))
        .route(
            "/oauth/{version}/refresh-tokens/{token}",
            get(oauth::refresh_token_info).delete(oauth::delete_refresh_token),
        )
}

async fn not_found() -> impl IntoResponse {
    let body = json!({"status": "error", "message": "Not found", "correlationId": correlation_id(), "category": "OBJECT_NOT_FOUND"});
    (StatusCode::NOT_FOUND, axum::Json(body))
}

pub fn router(state: Shared) -> Router {
    let api = api_routes().route_layer(from_fn_with_state(state.clone(), guard::api_guard));
    let admin = sandbox_kit::faults::admin_router(sandbox_kit::Switchboard::clone(&state.faults));
    api.merge(oauth_routes())
        .route_layer(from_fn_with_state(state.clone(), guard::observe))
        .fallback(not_found)
        .with_state(state)
        // The fault switchboard: outside the simulated API, neither logged nor faulted.
        .merge(admin)
}
