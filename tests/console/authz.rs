//! The authorization matrix of the console, built from its router's own table
//! (`handoff::web::console::routes()`), and of the portal for staff: every console route
//! × {admin, staff, a customer of the project, a customer of another company, signed
//! out}, and every portal route × {admin, staff} (the portal's own matrix, in
//! tests/portal/authz.rs, holds it to its customers and the signed-out). Nobody gets
//! further than a route's declared access allows, and a refused request changes
//! nothing in the database. A route added without its check fails here —
//! `a_console_route_that_forgets_its_check_fails_the_matrix` proves it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::extract::{Path, State};
use axum::http::Method;
use handoff::domain::people::{Actor, ProjectRole, StaffRole};
use handoff::domain::{ProjectId, UserId};
use handoff::web::WebState;
use handoff::web::console::{self, Access, ConsoleRoute, Staff};
use handoff::web::portal::{self, Access as PortalAccess};
use secrecy::SecretString;

use crate::console_support::{ADA, SAM, staff_browser};
use crate::db_support::Db;
use crate::portal_support::{Browser, Page, Portal, Setup, spawn_portal_with};

/// A customer (admin) of the project every path points at.
const CUSTOMER: &str = "mia@acme.example";
/// A customer of another company.
const STRANGER: &str = "zed@globex.example";
const PROJECT_NAME: &str = "Acme rollout";

/// The project: a task of each kind a console route may act on.
const TEMPLATE: &str = r#"
name = "Console authorization matrix"
[[phases]]
key = "start"
name = "Getting started"
[[phases.tasks]]
key = "sign-contract"
title = "Sign the contract"
type = "todo"
owner = "customer"
[[phases.tasks]]
key = "logo"
title = "Upload your logo"
type = "upload"
owner = "customer"
accept = ["png"]
max_files = 5
[[phases.tasks]]
key = "internal-prep"
title = "Internal preparation"
type = "todo"
owner = "staff"
visibility = "internal"
"#;

/// A 1×1 PNG: the file the customer uploads.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63,
    0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    SignedOut,
    Stranger,
    Customer,
    Staff,
    Admin,
}

impl Who {
    /// In this order: the refusals run against the project untouched by staff.
    const ALL: [Who; 5] = [Who::SignedOut, Who::Stranger, Who::Customer, Who::Staff, Who::Admin];

    fn is_staff(self) -> bool {
        matches!(self, Who::Staff | Who::Admin)
    }
}

struct World {
    portal: Portal,
    project: ProjectId,
    customer: UserId,
    staff: UserId,
    /// The file the customer uploaded to the upload task.
    file: String,
    /// The customer's invitation to the project.
    invitation: String,
    /// The customers' portal session cookies.
    customer_cookie: String,
    stranger_cookie: String,
    db: Db,
}

/// The CRM connection the admin pages' routes name: a HubSpot OAuth app, not yet
/// connected, at an address nothing listens on (its test read is refused without a
/// token; nothing here reaches a CRM). Polled once a day, so no poll runs mid-matrix.
const CONNECTION: &str = "crm";

fn connection() -> handoff::config::ConnectionConfig {
    use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings};
    handoff::config::ConnectionConfig {
        name: CONNECTION.into(),
        poll_interval: std::time::Duration::from_secs(24 * 3600),
        crm: CrmSettings::Hubspot(HubspotSettings {
            base_url: "http://127.0.0.1:9".parse().unwrap(),
            auth: HubspotAuth::OAuth {
                client_id: "matrix-app".into(),
                client_secret: SecretString::from("matrix-secret"),
                refresh_token: None,
            },
            client_id: None,
            client_secret: Some(SecretString::from("matrix-secret")),
            portal_id: Some(1),
            accept_legacy_signatures: false,
        }),
    }
}

async fn world() -> World {
    let mut portal = spawn_portal_with(|c| c.connections = vec![connection()]).await;
    let project = portal
        .project_from(
            Setup::active(PROJECT_NAME, "Acme", &[(CUSTOMER, ProjectRole::CustomerAdmin)]),
            TEMPLATE,
        )
        .await;
    portal
        .project(Setup::active(
            "Globex onboarding",
            "Globex",
            &[(STRANGER, ProjectRole::CustomerAdmin)],
        ))
        .await;
    portal.deliver().await;
    let mut customer = portal.signed_in(CUSTOMER).await;
    let stranger = portal.signed_in(STRANGER).await;
    let token = form_token(customer.session().unwrap());
    let uploaded = customer
        .post_file(
            &format!("/projects/{project}/tasks/logo/files"),
            &[("csrf", &token)],
            ("file", "logo.png", PNG),
        )
        .await;
    assert!(uploaded.status < 400, "the customer uploads a file: {}", uploaded.body);
    let task = customer.get(&format!("/projects/{project}/tasks/logo")).await;
    let prefix = format!("/projects/{project}/tasks/logo/files/");
    let at = task.body.find(&prefix).expect("the task page links the file") + prefix.len();
    let file = task.body[at..].chars().take_while(|c| c.is_ascii_hexdigit() || *c == '-').collect();
    // The staff member the console's team routes name, on the project's team.
    let staff = crate::console_support::add_staff(&portal, "tess@handoff.example", StaffRole::Staff).await;
    portal
        .app
        .state
        .engine
        .add_member(project, staff, ProjectRole::Staff, None, Actor::System, "test")
        .await
        .unwrap();
    // A live invitation of the customer's (the first was used to sign in), as the
    // Members tab links it.
    portal
        .app
        .state
        .engine
        .resend_invitation(project, &handoff::domain::Email::parse(CUSTOMER).unwrap(), Actor::System, "test")
        .await
        .unwrap();
    let mut admin = staff_browser(&portal, ADA, StaffRole::Admin).await;
    let members = admin.get(&format!("/console/projects/{project}/members")).await;
    let marker = format!("/console/projects/{project}/invitations/");
    let at = members
        .body
        .find(&marker)
        .expect("the Members tab offers to revoke the customer's link")
        + marker.len();
    let invitation = members.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit() || *c == '-')
        .collect();
    let customer_id = portal.user_id(CUSTOMER).await;
    let db = Db::connect(&portal).await;
    World {
        customer_cookie: customer.session().unwrap().clone(),
        stranger_cookie: stranger.session().unwrap().clone(),
        portal,
        project,
        customer: customer_id,
        staff,
        file,
        invitation,
        db,
    }
}

fn form_token(session: &str) -> String {
    handoff::web::form_token::token_for(&SecretString::from(session.to_owned()))
}

/// A value for each path parameter a console route may have, pointing at the project
/// and its things. A route with a parameter not named here fails the matrix until it
/// is added.
fn fill(param: &str, path: &str, world: &World) -> Option<String> {
    Some(match param {
        "id" => world.project.to_string(),
        // A customer-visible task; a staff task where the route is about internal work.
        "key" => "sign-contract".into(),
        "file_id" => world.file.clone(),
        // Under /staff/ a staff member on the project's team; elsewhere its customer.
        "user" if path.contains("/staff/") => world.staff.to_string(),
        "user" | "user_id" => world.customer.to_string(),
        // The customer's invitation to the project.
        "invitation" => world.invitation.clone(),
        // Sign-in: a well-formed token that names no link; a connection that is not one.
        "token" => "A".repeat(43),
        "connection" => "no-such-crm".into(),
        // The admin pages' connection.
        "name" => CONNECTION.into(),
        "rest" => "no/such/page".into(),
        _ => return None,
    })
}

/// What the matrix needs of a route (the handler stays in the router).
struct Entry {
    method: Method,
    path: &'static str,
    /// The console's access, or `None` for a portal route (then `portal_public` says
    /// whether it is open to anyone).
    access: Option<Access>,
    portal_public: bool,
}

fn console_entries(routes: &[ConsoleRoute]) -> Vec<Entry> {
    routes
        .iter()
        .map(|r| Entry {
            method: r.method.clone(),
            path: r.path,
            access: Some(r.access),
            portal_public: false,
        })
        .collect()
}

fn portal_entries() -> Vec<Entry> {
    portal::routes()
        .iter()
        .map(|r| Entry {
            method: r.method.clone(),
            path: r.path,
            access: None,
            portal_public: r.access == PortalAccess::Public,
        })
        .collect()
}

impl World {
    /// A browser on `base` as `who`. Staff get a fresh console session every time (a
    /// route may sign them out); customers keep their portal session.
    async fn browser(&self, who: Who, base: &str) -> (Browser, String) {
        let mut browser = Browser::new(base);
        let token = match who {
            Who::SignedOut => "none".to_owned(),
            Who::Customer | Who::Stranger => {
                let cookie = if who == Who::Customer {
                    &self.customer_cookie
                } else {
                    &self.stranger_cookie
                };
                browser.cookies.insert("handoff_session".into(), cookie.clone());
                form_token(cookie)
            }
            Who::Staff | Who::Admin => {
                let (email, role) = if who == Who::Admin {
                    (ADA, StaffRole::Admin)
                } else {
                    (SAM, StaffRole::Staff)
                };
                let signed_in = staff_browser(&self.portal, email, role).await;
                let cookie = signed_in.cookies["handoff_console"].clone();
                browser.cookies.insert("handoff_console".into(), cookie.clone());
                form_token(&cookie)
            }
        };
        (browser, token)
    }

    /// Sends every route in `table` to `base` as each of `visitors`; returns what went
    /// wrong.
    async fn matrix(&self, base: &str, table: &[Entry], visitors: &[Who]) -> Vec<String> {
        let mut wrong = Vec::new();
        for route in table {
            let mut path = route.path.to_owned();
            let mut unfilled = false;
            for param in route
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            {
                let name = param.trim_start_matches('*');
                match fill(name, route.path, self) {
                    Some(value) => path = path.replace(&format!("{{{param}}}"), &value),
                    None => {
                        wrong.push(format!(
                            "{} {}: no value for {{{param}}} — add one to fill()",
                            route.method, route.path
                        ));
                        unfilled = true;
                    }
                }
            }
            if unfilled {
                continue;
            }
            let mut row = format!("{:<5}{:<50}", route.method.as_str(), route.path);
            for &who in visitors {
                let (mut browser, token) = self.browser(who, base).await;
                let before = self.db.fingerprint().await;
                let page = match route.method {
                    Method::GET => browser.get(&path).await,
                    Method::POST => browser.post(&path, &[("csrf", &token)]).await,
                    ref other => panic!("the matrix does not send {other} yet: add it here"),
                };
                let changed = self.db.fingerprint().await != before;
                row.push_str(&format!(" {who:?} {}", page.status));
                if let Err(why) = judge(route, who, &page, changed) {
                    wrong.push(format!(
                        "{} {} as {who:?}: {why} (got {} {})",
                        route.method,
                        route.path,
                        page.status,
                        page.location()
                    ));
                }
            }
            // The matrix as it ran (`cargo test --test console authz -- --nocapture`).
            println!("{row}");
        }
        wrong
    }
}

/// Whether `page` is what `who` may get from `route`.
fn judge(route: &Entry, who: Who, page: &Page, changed: bool) -> Result<(), String> {
    let status = page.status;
    if status >= 500 {
        return Err("a server error".into());
    }
    let success = (200..300).contains(&status);
    let redirect = (300..400).contains(&status);
    let refused_unchanged = |refused: bool, what: &str| -> Result<(), String> {
        if !refused {
            Err(format!("{what}, yet it answered"))
        } else if changed {
            Err(format!("{what} and refused, yet the database changed"))
        } else {
            Ok(())
        }
    };
    let Some(access) = route.access else {
        // A portal route, visited with nothing but a console session: staff are not
        // the portal's customers.
        if route.portal_public {
            return Ok(());
        }
        let to_sign_in = redirect && page.location().starts_with("/sign-in");
        return refused_unchanged(to_sign_in || status == 404, "staff on a customer's portal page");
    };
    let to_console_sign_in = redirect && page.location().starts_with("/console/sign-in");
    match (access, who) {
        (Access::Public, _) => Ok(()),
        // Everyone but staff: to the console's sign-in, as if signed out.
        (_, Who::SignedOut | Who::Customer | Who::Stranger) => refused_unchanged(to_console_sign_in, "not staff"),
        (Access::Admin, Who::Staff) => refused_unchanged(status == 403, "staff on an admin route"),
        // Allowed: a GET shows something (or leads somewhere other than sign-in); a POST
        // with no fields but the form token may answer a form error (400, 409, 422),
        // never as if the visitor had no access.
        _ => {
            debug_assert!(who.is_staff());
            let refused = match route.method {
                Method::GET => !(success || redirect) || to_console_sign_in,
                _ => matches!(status, 401 | 403 | 404) || (to_console_sign_in && !route.path.ends_with("/sign-out")),
            };
            if refused {
                Err("allowed by the declared access, yet refused".into())
            } else {
                Ok(())
            }
        }
    }
}

#[tokio::test]
async fn every_console_route_and_every_portal_route_answers_only_those_its_access_allows() {
    let world = world().await;
    let base = world.portal.base().to_owned();
    let mut console_table = console_entries(&console::routes());
    // Removals last: the routes after them would find nobody to act on (and rightly
    // answer 404 for a person no longer in the project).
    console_table.sort_by_key(|e| e.path.ends_with("/remove"));
    assert!(console_table.len() >= 10, "the whole table is checked");
    let mut wrong = world.matrix(&base, &console_table, &Who::ALL).await;
    wrong.extend(world.matrix(&base, &portal_entries(), &[Who::Staff, Who::Admin]).await);
    assert!(wrong.is_empty(), "the authorization matrix found:\n{}", wrong.join("\n"));
}

/// A handler that forgets to ask who is signed in — the mistake the matrix exists to
/// catch.
async fn unchecked(State(state): State<WebState>, Path(id): Path<String>) -> String {
    let project = state.store.project_details(id.parse().unwrap()).await.unwrap().unwrap();
    project.project.name
}

/// A handler declared for admins that checks only for staff.
async fn admin_unchecked(me: Staff) -> String {
    me.account.user.display_name()
}

#[tokio::test]
async fn a_console_route_that_forgets_its_check_fails_the_matrix() {
    let world = world().await;
    let mut routes = console::routes();
    routes.retain(|r| r.path != "/console/{*rest}");
    routes.push(ConsoleRoute::get("/console/projects/{id}/leak", Access::Staff, unchecked));
    routes.push(ConsoleRoute::get("/console/settings-leak", Access::Admin, admin_unchecked));
    let table: Vec<Entry> = console_entries(&routes).into_iter().filter(|e| e.path.contains("leak")).collect();
    let web = world.portal.app.state.web();
    let router = console::router_from(&web, routes).with_state(web.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let wrong = world.matrix(&base, &table, &Who::ALL).await;
    assert_eq!(
        wrong,
        [
            "GET /console/projects/{id}/leak as SignedOut: not staff, yet it answered (got 200 )",
            "GET /console/projects/{id}/leak as Stranger: not staff, yet it answered (got 200 )",
            "GET /console/projects/{id}/leak as Customer: not staff, yet it answered (got 200 )",
            "GET /console/settings-leak as Staff: staff on an admin route, yet it answered (got 200 )",
        ],
        "only the unchecked routes, only for those they should have refused"
    );
}
