//! The customer portal: server-rendered pages (templates/web/) for customers who signed
//! in through an invitation link.
//!
//! - [`session`]: the session cookie and the [`Customer`] extractor (the signed-in
//!   person); pages take it, so none can be reached signed out.
//! - [`CsrfForm`] (from [`crate::csrf`]): the extractor every state-changing form goes through.
//! - [`error`]: [`PageError`], the one mapping of failures to pages.
//! - [`pages`]: the Tera templates and the layout's frame.
//! - [`sign_in`], [`projects`]: the pages themselves.
//! - [`routes`]: [`PortalRoute`] and [`Access`]; [`routes()`] below is the table of
//!   every portal route with its declared access, and [`router`] is built from it.

mod access;

pub mod file_type;
mod files;
pub mod page_cache;
pub mod pages;
pub mod profile;
pub mod projects;
pub mod routes;
pub mod session;
mod sign_in;
mod task_actions;
mod tasks;
pub mod team;
pub mod upload;

use axum::Router;
use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{Redirect, Response};

pub use crate::page_error::{PageError, PageResult};
pub use page_cache::PageCache;
pub use routes::{Access, PortalRoute};
pub use session::CsrfForm;
pub use session::Customer;

use crate::WebState;

/// Every portal route: method, path, declared access, handler. The router is built
/// from this table alone, and tests/portal/authz.rs holds every entry to its access.
/// Add a route here, one line, and nowhere else.
pub fn routes() -> Vec<PortalRoute> {
    use Access::{ProjectEditor, ProjectMember, Public, SignedIn};
    type R = PortalRoute;
    vec![
        R::get("/", SignedIn, home),
        R::get("/invite/{token}", Public, sign_in::confirm_page),
        R::post("/invite/{token}", Public, sign_in::sign_in),
        R::get("/sign-in", Public, sign_in::help_page),
        R::post("/sign-in/link", Public, sign_in::request_link),
        R::post("/sign-out", SignedIn, sign_in::sign_out),
        R::get("/projects", SignedIn, projects::list),
        R::get("/projects/{id}", ProjectMember, projects::view),
        R::get("/projects/{id}/tasks/{key}", ProjectMember, projects::task),
        R::post("/projects/{id}/tasks/{key}/complete", ProjectEditor, projects::complete),
        // Task work (#6): forms, questions, approvals (customer admins only, tasks.rs),
        // uploads and downloads, comments, assignment.
        R::post("/projects/{id}/tasks/{key}/form", ProjectEditor, task_actions::submit_form),
        R::post("/projects/{id}/tasks/{key}/answer", ProjectEditor, task_actions::answer),
        R::post("/projects/{id}/tasks/{key}/approval", ProjectEditor, task_actions::decide),
        R::post("/projects/{id}/tasks/{key}/comments", ProjectEditor, task_actions::comment),
        R::post("/projects/{id}/tasks/{key}/assign", ProjectEditor, task_actions::assign),
        files::upload_route("/projects/{id}/tasks/{key}/files"),
        R::get("/projects/{id}/tasks/{key}/files/{file_id}", ProjectMember, files::download),
        R::post("/projects/{id}/tasks/{key}/files-done", ProjectEditor, files::hand_in),
        // Team and profile (#6). Inviting is for customer admins only (team.rs), a
        // narrower rule than ProjectEditor; a picture is shown to its person and to
        // people sharing a visible project with them (profile.rs).
        R::get("/projects/{id}/team", ProjectMember, team::view),
        R::post("/projects/{id}/team/invite", ProjectEditor, team::invite),
        R::get("/profile", SignedIn, profile::view),
        R::post("/profile", SignedIn, profile::save),
        R::get("/profile/picture/{user_id}", SignedIn, profile::picture),
        profile::picture_route(),
        R::post("/profile/remove-picture", SignedIn, profile::remove_picture),
        R::get("/static/portal.css", Public, stylesheet),
        R::get("/static/brand.css", Public, brand_stylesheet),
    ]
}

pub fn router(state: &WebState) -> Router<WebState> {
    router_from(state, routes())
}

/// The portal's router from a table of routes: [`routes()`] in the application; tests
/// add deliberately broken entries to prove the authorization matrix notices them.
pub fn router_from(state: &WebState, routes: Vec<PortalRoute>) -> Router<WebState> {
    routes
        .into_iter()
        // Routes on the same path merge (GET and POST of /invite/{token}).
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), pages::render_error_pages))
        .layer(middleware::from_fn(security_headers))
}

/// `/`: the projects when signed in (the extractor sends everyone else to sign-in).
async fn home(_me: Customer) -> Redirect {
    Redirect::to("/projects")
}

async fn not_found() -> PageError {
    PageError::NotFound
}

/// Cached for a year: its URL carries a hash of its content.
async fn stylesheet() -> Response {
    css(crate::templates::CSS.to_owned())
}

/// The branding colours; its URL carries the colour, so it is cached like the stylesheet.
async fn brand_stylesheet(State(state): State<WebState>) -> Response {
    css(pages::brand_css(&state.config.branding.accent_color))
}

fn css(body: String) -> Response {
    crate::page_headers::immutable_asset("text/css; charset=utf-8", body)
}

/// The portal's content policy allows no script and no inline style at all.
async fn security_headers(request: Request, next: Next) -> Response {
    const CSP: &str =
        "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    crate::page_headers::secure(next.run(request).await, CSP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_each_method_and_path_once_and_guards_every_project_path() {
        let table = routes();
        let mut seen = std::collections::HashSet::new();
        for route in &table {
            assert!(seen.insert((route.method.clone(), route.path)), "{route:?} is in the table twice");
            if route.params().any(|p| p == "id") {
                assert!(
                    matches!(route.access, Access::ProjectMember | Access::ProjectEditor),
                    "{route:?} names a project and must be ProjectMember or ProjectEditor"
                );
            }
            if route.access != Access::Public {
                assert!(!route.path.starts_with("/static/"), "{route:?}: static files are public");
            }
        }
    }
}
