//! The customer portal: server-rendered pages (templates/web/) for customers who signed
//! in through an invitation link.
//!
//! - [`session`]: the session cookie and the [`Customer`] extractor (the signed-in
//!   person); pages take it, so none can be reached signed out.
//! - [`csrf`]: [`CsrfForm`], the extractor every state-changing form goes through.
//! - [`error`]: [`PortalError`], the one mapping of failures to pages.
//! - [`pages`]: the Tera templates and the layout's frame.
//! - [`sign_in`], [`projects`]: the pages themselves.

pub mod csrf;
pub mod error;
pub mod pages;
pub mod projects;
pub mod session;
mod sign_in;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

pub use csrf::CsrfForm;
pub use error::{PortalError, PortalResult};
pub use session::Customer;

use crate::app::AppState;

pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/invite/{token}", get(sign_in::confirm_page).post(sign_in::sign_in))
        .route("/sign-in", get(sign_in::help_page))
        .route("/sign-in/link", post(sign_in::request_link))
        .route("/sign-out", post(sign_in::sign_out))
        .route("/projects", get(projects::list))
        .route("/projects/{id}", get(projects::view))
        .route("/projects/{id}/tasks/{key}", get(projects::task))
        .route("/projects/{id}/tasks/{key}/complete", post(projects::complete))
        .route("/static/portal.css", get(stylesheet))
        .route("/static/brand.css", get(brand_stylesheet))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), error::render_error_pages))
        .layer(middleware::from_fn(security_headers))
}

/// `/`: the projects when signed in (the extractor sends everyone else to sign-in).
async fn home(_me: Customer) -> Redirect {
    Redirect::to("/projects")
}

async fn not_found() -> PortalError {
    PortalError::NotFound
}

/// Cached for a year: its URL carries a hash of its content.
async fn stylesheet() -> Response {
    css(pages::CSS.to_owned())
}

/// The branding colours; its URL carries the colour, so it is cached like the stylesheet.
async fn brand_stylesheet(State(state): State<AppState>) -> Response {
    css(pages::brand_css(&state.config.branding.accent_color))
}

fn css(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}

/// Headers every portal response carries unless it set its own: no framing, no
/// sniffing, no referrer to other sites (invitation URLs hold tokens), and a content
/// policy that allows no script and no inline style at all.
async fn security_headers(request: Request, next: Next) -> Response {
    const HEADERS: [(&str, &str); 4] = [
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("x-frame-options", "DENY"),
    ];
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers
            .entry(HeaderName::from_static(name))
            .or_insert(HeaderValue::from_static(value));
    }
    response
}
