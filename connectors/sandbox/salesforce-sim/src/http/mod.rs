//! The HTTP surface: OAuth under `/services/oauth2`, the REST API under `/services/data/vNN.0`,
//! and the sandbox's own fault switchboard under `/__sandbox/faults`.

mod composite;
mod guard;
mod meta;
mod oauth;
mod query;
mod sobjects;

use axum::Router;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use serde_json::json;

use crate::state::Shared;

/// Registers a route with and without a trailing slash: Salesforce's docs and clients use both.
fn both(r: Router<Shared>, path: &str, m: MethodRouter<Shared>) -> Router<Shared> {
    r.route(path, m.clone()).route(&format!("{path}/"), m)
}

/// The authenticated API, relative to nothing (paths are absolute): also what composite runs.
pub fn api_routes() -> Router<Shared> {
    let v = "/services/data/{version}";
    let mut r = Router::new();
    r = both(r, v, get(meta::resources));
    r = both(r, &format!("{v}/limits"), get(meta::limits));
    r = both(r, &format!("{v}/query"), get(query::query));
    r = both(r, &format!("{v}/queryAll"), get(query::query_all));
    r = r.route(&format!("{v}/query/{{locator}}"), get(query::more));
    r = r.route(&format!("{v}/queryAll/{{locator}}"), get(query::more));
    r = both(r, &format!("{v}/sobjects"), get(meta::describe_global));
    r = both(
        r,
        &format!("{v}/sobjects/{{object}}"),
        get(meta::object_info).post(sobjects::create),
    );
    r = both(r, &format!("{v}/sobjects/{{object}}/describe"), get(meta::describe));
    r = both(r, &format!("{v}/sobjects/{{object}}/updated"), get(meta::updated));
    r = both(r, &format!("{v}/sobjects/{{object}}/deleted"), get(meta::deleted));
    r = r.route(
        &format!("{v}/sobjects/{{object}}/{{id}}"),
        get(sobjects::get).patch(sobjects::update).delete(sobjects::delete),
    );
    r = both(
        r,
        &format!("{v}/composite/sobjects"),
        post(composite::collection_create)
            .patch(composite::collection_update)
            .delete(composite::collection_delete),
    );
    r = r.route(&format!("{v}/composite/sobjects/{{object}}"), get(composite::collection_get));
    both(r, &format!("{v}/composite"), post(composite::composite))
}

fn oauth_routes() -> Router<Shared> {
    Router::new()
        .route("/services/oauth2/token", post(oauth::token))
        .route("/services/oauth2/authorize", get(oauth::authorize).post(oauth::decide))
        .route("/services/oauth2/revoke", post(oauth::revoke).get(oauth::revoke_get))
        .route("/services/oauth2/userinfo", get(oauth::userinfo))
        .route("/id/{org}/{user}", get(oauth::identity))
}

async fn not_found() -> impl IntoResponse {
    let body = json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]);
    (StatusCode::NOT_FOUND, axum::Json(body))
}

pub fn router(state: Shared) -> Router {
    let api = api_routes().route_layer(from_fn_with_state(state.clone(), guard::api_guard));
    let versions = Router::new()
        .route("/services/data", get(meta::versions))
        .route("/services/data/", get(meta::versions));
    let admin = sandbox_kit::faults::admin_router(sandbox_kit::Switchboard::clone(&state.faults));
    api.merge(oauth_routes())
        .merge(versions)
        .route_layer(from_fn_with_state(state.clone(), guard::observe))
        .fallback(not_found)
        .with_state(state)
        // The fault switchboard: outside the simulated API, neither logged nor faulted.
        .merge(admin)
}

/// The API routes without guards, for composite subrequests (authenticated by the outer call).
pub fn inner_router(state: Shared) -> Router {
    api_routes().fallback(not_found).with_state(state)
}
