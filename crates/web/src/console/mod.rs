//! The staff console: server-rendered pages (templates/web/console/) for staff, who
//! sign in with their CRM identity or an emailed link.
//!
//! - [`session`]: the console's own session cookie and table, and the [`Staff`] and
//!   [`Admin`] extractors; a customer's portal session never opens the console.
//! - [`sign_in`]: signing in (with the CRM, or by email) and out.
//! - [`pages`]: the console's frame and its error pages.
//! - [`routes()`]: every console route with its declared access; [`router`] is built
//!   from that table alone, and the authorization matrix test holds every entry to it.

pub(crate) mod activity;
mod connections;
mod dashboard;
mod documents;
mod emails;
mod members;
mod overview;
pub mod pages;
pub mod project_frame;
mod projects;
pub mod session;
mod sign_in;
mod task_detail;
pub mod task_list;
mod tasks;
mod trace;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;

pub use session::{Admin, Staff, StaffForm};
pub use task_list::TaskListCache;

use crate::WebState;
use crate::page_error::PageError;

/// Who may use a console route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone (sign-in pages, the console's stylesheet and script).
    Public,
    /// Any signed-in staff member, admin or staff.
    Staff,
    /// Admins only.
    Admin,
}

/// One console route: method, path, declared access, handler.
pub type ConsoleRoute = crate::route::Route<Access>;

/// Every console route. The router is built from this table alone; add a route here,
/// one line, and nowhere else.
pub fn routes() -> Vec<ConsoleRoute> {
    use Access::{Admin as AdminOnly, Public, Staff as StaffOnly};
    type R = ConsoleRoute;
    vec![
        // Signing in and out, and the console's own stylesheet and script.
        R::get("/console/sign-in", Public, sign_in::page),
        R::post("/console/sign-in/email", Public, sign_in::request_link),
        R::get("/console/sign-in/{connection}", Public, sign_in::start_crm),
        R::get("/console/oauth/callback", Public, sign_in::callback),
        R::get("/console/link/{token}", Public, sign_in::link_page),
        R::post("/console/link/{token}", Public, sign_in::use_link),
        R::post("/console/sign-out", StaffOnly, sign_in::sign_out),
        R::get("/console/static/console.css", Public, stylesheet),
        R::get("/console/static/console.js", Public, script),
        // The dashboard, the projects list, a project's overview and its lifecycle steps.
        R::get("/console", StaffOnly, dashboard::page),
        R::get("/console/projects", StaffOnly, projects::list),
        R::get("/console/projects/{id}", StaffOnly, overview::page),
        R::post("/console/projects/{id}/status", StaffOnly, overview::change_status),
        // A project's Tasks tab: the list, bulk reassign, one task and its changes.
        R::get("/console/projects/{id}/tasks", StaffOnly, tasks::list),
        R::post("/console/projects/{id}/tasks/reassign", StaffOnly, tasks::reassign),
        R::get("/console/projects/{id}/tasks/{key}", StaffOnly, task_detail::page),
        R::post("/console/projects/{id}/tasks/{key}/status", StaffOnly, task_detail::set_status),
        R::post("/console/projects/{id}/tasks/{key}/assignee", StaffOnly, task_detail::set_assignee),
        R::post("/console/projects/{id}/tasks/{key}/due-date", StaffOnly, task_detail::set_due_date),
        R::post("/console/projects/{id}/tasks/{key}/comments", StaffOnly, task_detail::add_comment),
        R::post("/console/projects/{id}/tasks/{key}/notes", StaffOnly, task_detail::add_note),
        // A project's Members and Emails tabs.
        R::get("/console/projects/{id}/members", StaffOnly, members::view),
        R::post("/console/projects/{id}/members", StaffOnly, members::add_customer),
        R::post("/console/projects/{id}/members/{user}/remove", StaffOnly, members::remove_customer),
        R::post("/console/projects/{id}/members/{user}/resend", StaffOnly, members::resend),
        R::post("/console/projects/{id}/members/{user}/regenerate", StaffOnly, members::regenerate),
        R::post("/console/projects/{id}/invitations/{invitation}/revoke", StaffOnly, members::revoke),
        R::post("/console/projects/{id}/staff", StaffOnly, members::add_staff),
        R::post("/console/projects/{id}/staff/{user}/remove", StaffOnly, members::remove_staff),
        R::get("/console/projects/{id}/emails", StaffOnly, emails::view),
        R::post("/console/projects/{id}/emails", StaffOnly, emails::send),
        // Documents (the review inbox, a decision, a download) and the activity trail.
        R::get("/console/documents", StaffOnly, documents::inbox),
        R::get("/console/projects/{id}/documents", StaffOnly, documents::project_tab),
        R::post("/console/projects/{id}/files/{file_id}/review", StaffOnly, documents::review),
        R::get("/console/projects/{id}/files/{file_id}", StaffOnly, documents::download),
        R::get("/console/activity", StaffOnly, activity::global),
        R::get("/console/projects/{id}/activity", StaffOnly, activity::project_tab),
        // Administration: connections (connect, test, disconnect) and the trace of a CRM record.
        R::get("/console/admin/connections", AdminOnly, connections::page),
        R::get("/console/admin/connections/{name}/connect", AdminOnly, connections::start),
        R::post("/console/admin/connections/{name}/test", AdminOnly, connections::test),
        R::post("/console/admin/connections/{name}/disconnect", AdminOnly, connections::disconnect),
        R::get("/console/admin/trace", AdminOnly, trace::page),
        // Anything else under /console is not found, in the console's layout.
        R::get("/console/{*rest}", Public, not_found),
    ]
}

pub fn router(state: &WebState) -> Router<WebState> {
    router_from(state, routes())
}

/// The console's router from a table of routes: [`routes()`] in the application; tests
/// add deliberately broken entries to prove the authorization matrix notices them.
pub fn router_from(state: &WebState, routes: Vec<ConsoleRoute>) -> Router<WebState> {
    routes
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        .layer(middleware::from_fn_with_state(state.clone(), pages::render_error_pages))
        .layer(middleware::from_fn(security_headers))
}

/// Not found, in the console's layout.
async fn not_found() -> PageError {
    PageError::NotFound
}

async fn stylesheet() -> Response {
    asset("text/css; charset=utf-8", crate::templates::CONSOLE_CSS)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", crate::templates::CONSOLE_JS)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    crate::page_headers::immutable_asset(content_type, body)
}

/// Like the portal's, with one difference: the console's own script may run
/// (`script-src 'self'`), and nothing else — no inline script, no other origin.
async fn security_headers(request: Request, next: Next) -> Response {
    const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    crate::page_headers::secure(next.run(request).await, CSP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_names_each_method_and_path_once_and_every_page_sits_under_console() {
        let table = routes();
        let mut seen = std::collections::HashSet::new();
        for route in &table {
            assert!(seen.insert((route.method.clone(), route.path)), "{route:?} is in the table twice");
            assert!(route.path.starts_with("/console"), "{route:?}");
            if route.path.starts_with("/console/static/") {
                assert_eq!(route.access, Access::Public, "{route:?}: static files are public");
            }
        }
    }
}
