//! The portal's authorization matrix, built from the router's own table
//! (`handoff::web::portal::routes()`): every route × every kind of visitor, asserting
//! that nobody gets further than the route's declared access allows and that a refused
//! request changes nothing in the database. A route added to the table whose handler
//! forgets its check fails here — `a_route_that_forgets_its_check_fails_the_matrix`
//! proves it with a deliberately unchecked route. Plus the sign-in attacks
//! tests/portal/sign_in.rs does not already cover. Over HTTP, on SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::portal_support;

use crate::db_support::Db;
use axum::extract::{Path, State};
use axum::http::Method;
use handoff::domain::people::{Actor, ProjectRole, UserKind};
use handoff::domain::project::{ProjectSpec, plan_project};
use handoff::domain::{Email, ProjectId, ProjectStatus, UserId};
use handoff::store::NewUser;
use handoff::web::WebState;
use handoff::web::portal::{self, Access, Customer, PortalRoute};
use portal_support::{Browser, Page, Portal, Setup, spawn_portal};
use secrecy::SecretString;

/// A member (admin) of Acme's project — the project every path points at.
const MEMBER: &str = "mia@acme.example";
/// A viewer of the same project: a member, but not one who may change it.
const VIEWER: &str = "vic@acme.example";
/// A customer of another project at the same company.
const COLLEAGUE: &str = "sam@acme.example";
/// A customer of another company.
const STRANGER: &str = "zed@globex.example";
const PROJECT_NAME: &str = "Acme rollout";

/// The member's project: a task of every kind a route may act on, all open.
const TEMPLATE: &str = r#"
name = "Authorization matrix"
[[phases]]
key = "start"
name = "Getting started"
[[phases.tasks]]
key = "sign-contract"
title = "Sign the contract"
type = "todo"
owner = "customer"
[[phases.tasks]]
key = "company-profile"
title = "Company profile"
type = "question"
prompt = "Tell us about you"
owner = "customer"
[[phases.tasks]]
key = "stakeholders"
title = "Name your project team"
type = "form"
owner = "customer"
fields = [{ key = "sponsor", label = "Executive sponsor (email)", type = "email", required = true }]
[[phases.tasks]]
key = "charter"
title = "Approve the charter"
type = "approval"
owner = "customer"
subject = "The project charter"
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
visibility = "internal"
"#;

/// A 1×1 PNG: the file every upload sends.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63,
    0xf8, 0xcf, 0xc0, 0xf0, 0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

/// The task a route's `{key}` names: one of the kind the route acts on.
fn task_key(path: &str) -> &'static str {
    let action = path.rsplit("{key}").next().unwrap_or("");
    match action.split('/').nth(1).unwrap_or("") {
        "form" => "stakeholders",
        "answer" => "company-profile",
        "approval" => "charter",
        "files" | "files-done" => "logo",
        _ => "sign-contract",
    }
}

/// POSTs that take a multipart form, and the name of their file field.
fn multipart_field(path: &str) -> Option<&'static str> {
    match path {
        "/projects/{id}/tasks/{key}/files" => Some("file"),
        "/profile/picture" => Some("picture"),
        _ => None,
    }
}

/// A value for each path parameter a portal route may have, pointing at the member's
/// project and things. A route with a parameter not named here fails the matrix until
/// it is added (with, in [`world`], whatever makes it exist).
fn fill(param: &str, path: &str, world: &World) -> Option<String> {
    Some(match param {
        "id" => world.project.to_string(),
        // The member, who has a picture (see `world`).
        "user_id" => world.member.to_string(),
        // An open, customer-owned, customer-visible task of the route's kind.
        "key" => task_key(path).into(),
        // The file the member uploaded to the upload task (see `world`).
        "file_id" => world.file.clone()?,
        // Public sign-in routes: a well-formed token that names no invitation.
        "token" => "A".repeat(43),
        _ => return None,
    })
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    SignedOut,
    Stranger,
    Colleague,
    Viewer,
    Member,
}

impl Who {
    /// In this order: the refusals run against the project untouched by the member.
    const ALL: [Who; 5] = [Who::SignedOut, Who::Stranger, Who::Colleague, Who::Viewer, Who::Member];

    fn email(self) -> Option<&'static str> {
        match self {
            Who::SignedOut => None,
            Who::Stranger => Some(STRANGER),
            Who::Colleague => Some(COLLEAGUE),
            Who::Viewer => Some(VIEWER),
            Who::Member => Some(MEMBER),
        }
    }
}

struct World {
    portal: Portal,
    /// The project every path points at (Acme's, with the member and the viewer).
    project: ProjectId,
    member: UserId,
    /// A file of the member's upload task, when uploads exist.
    file: Option<String>,
    /// Each visitor's own project, for fresh sign-in links.
    own: Vec<(&'static str, ProjectId)>,
    db: Db,
}

async fn world() -> World {
    let mut portal = spawn_portal().await;
    let project = project_from_template(
        &portal,
        "Acme",
        &[(MEMBER, ProjectRole::CustomerAdmin), (VIEWER, ProjectRole::CustomerViewer)],
    )
    .await;
    let colleague = portal
        .project(Setup::active(
            "Acme second site",
            "Acme",
            &[(COLLEAGUE, ProjectRole::CustomerAdmin)],
        ))
        .await;
    let stranger = portal
        .project(Setup::active(
            "Globex onboarding",
            "Globex",
            &[(STRANGER, ProjectRole::CustomerAdmin)],
        ))
        .await;
    portal.deliver().await;
    let db = Db::connect(&portal).await;
    let member = portal.user_id(MEMBER).await;
    if db.has_table("user_pictures").await {
        db.add_picture(member, PNG).await;
    }
    World {
        portal,
        project,
        member,
        file: None,
        own: vec![(MEMBER, project), (VIEWER, project), (COLLEAGUE, colleague), (STRANGER, stranger)],
        db,
    }
}

/// Acme's live project from [`TEMPLATE`] with `customers`, their invitations queued.
async fn project_from_template(portal: &Portal, company: &str, customers: &[(&str, ProjectRole)]) -> ProjectId {
    let store = portal.app.store();
    let template = handoff::domain::template::parse("authz.toml", TEMPLATE).unwrap();
    let spec = ProjectSpec {
        name: PROJECT_NAME.into(),
        template_key: "authz".into(),
        company_id: None,
        start_date: "2026-11-23".parse().unwrap(),
        goal_date: None,
    };
    let mut project = plan_project(&template, spec).unwrap();
    let company = store.find_or_create_company(company).await.unwrap();
    project.company_id = Some(company.id);
    project.status = ProjectStatus::Active;
    let id = store.create_project(&project, Actor::System, "test").await.unwrap();
    for (email, role) in customers {
        let email = Email::parse(email).unwrap();
        let mut new = NewUser::new(UserKind::Customer, email.clone());
        new.company_id = Some(company.id);
        let (user, _) = store.upsert_user(&new).await.unwrap();
        crate::common::engine(store)
            .add_member(id, user.id, *role, None, Actor::System, "test")
            .await
            .unwrap();
        portal
            .app
            .state
            .engine
            .resend_invitation(id, &email, Actor::System, "test")
            .await
            .unwrap();
    }
    id
}

/// The member uploads a file to the upload task, over HTTP as a browser would; its id
/// from the task page's link. None while the portal has no uploads.
async fn upload_a_file(member: &mut Browser, base: &str, project: ProjectId) -> Option<String> {
    let task = format!("/projects/{project}/tasks/logo");
    let sent = send(member, base, &Method::POST, &format!("{task}/files"), Some("file")).await;
    if sent.status == 404 || sent.status == 405 {
        return None;
    }
    let page = member.get(&task).await;
    let prefix = format!("{task}/files/");
    let at = page.body.find(&prefix)? + prefix.len();
    Some(page.body[at..].chars().take_while(|c| c.is_ascii_hexdigit() || *c == '-').collect())
}

/// What the matrix needs of a route (the handler stays in the router).
struct Entry {
    method: Method,
    path: &'static str,
    access: Access,
}

fn entries(routes: &[PortalRoute]) -> Vec<Entry> {
    routes
        .iter()
        .map(|r| Entry {
            method: r.method.clone(),
            path: r.path,
            access: r.access,
        })
        .collect()
}

impl World {
    /// A browser on `base` signed in as `who`: its session in `sessions`, or a fresh
    /// sign-in (at first, and after a request ended the session, as signing out does).
    async fn browser(&mut self, who: Who, base: &str, sessions: &mut Vec<(Who, String)>) -> Browser {
        let mut browser = Browser::new(base);
        let Some(email) = who.email() else {
            return browser;
        };
        if let Some((_, cookie)) = sessions.iter().find(|(w, _)| *w == who) {
            browser.cookies.insert("handoff_session".into(), cookie.clone());
            return browser;
        }
        let project = self.own.iter().find(|(e, _)| *e == email).unwrap().1;
        let address = Email::parse(email).unwrap();
        self.portal
            .app
            .state
            .engine
            .resend_invitation(project, &address, Actor::System, "test")
            .await
            .unwrap();
        self.portal.deliver().await;
        let signed_in = self.portal.signed_in(email).await;
        let cookie = signed_in.session().unwrap().clone();
        sessions.retain(|(w, _)| *w != who);
        sessions.push((who, cookie.clone()));
        browser.cookies.insert("handoff_session".into(), cookie);
        browser
    }

    /// Sends every route in `table` to `base` as every visitor; returns what went wrong.
    async fn matrix(&mut self, base: &str, table: &[Entry]) -> Vec<String> {
        let mut wrong = Vec::new();
        let mut sessions = Vec::new();
        let mut member = self.browser(Who::Member, base, &mut sessions).await;
        self.file = upload_a_file(&mut member, base, self.project).await;
        for route in table {
            let mut path = route.path.to_owned();
            let mut unfilled = false;
            for param in route
                .path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            {
                match fill(param, route.path, self) {
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
            let mut row = format!("{:<5}{:<45}", route.method.as_str(), route.path);
            for who in Who::ALL {
                let mut browser = self.browser(who, base, &mut sessions).await;
                let before = self.db.fingerprint().await;
                let page = send(&mut browser, base, &route.method, &path, multipart_field(route.path)).await;
                let changed = self.db.fingerprint().await != before;
                if browser.session().is_none() {
                    // Signed out (or the session refused): sign in afresh next time.
                    sessions.retain(|(w, _)| *w != who);
                }
                row.push_str(&format!(" {who:?} {}", page.status));
                let verdict = judge(route, who, &page, changed);
                if let Err(why) = verdict {
                    wrong.push(format!(
                        "{} {} as {who:?}: {why} (got {} {})",
                        route.method,
                        route.path,
                        page.status,
                        page.location()
                    ));
                }
            }
            // The matrix as it ran (`cargo test --test portal_authz -- --nocapture`).
            println!("{row}");
        }
        wrong
    }
}

/// One request: a GET, or a POST carrying this visitor's own valid form token, so the
/// form token is never what stops it.
async fn send(browser: &mut Browser, base: &str, method: &Method, path: &str, file_field: Option<&str>) -> Page {
    let token = browser.session().map_or_else(
        || "none".to_owned(),
        |id| handoff::web::form_token::token_for(&SecretString::from(id.clone())),
    );
    match (method.clone(), file_field) {
        (Method::GET, _) => browser.get(path).await,
        (Method::POST, None) => browser.post(path, &[("csrf", &token)]).await,
        (Method::POST, Some(field)) => post_multipart(browser, base, path, &token, field).await,
        (other, _) => panic!("the matrix does not send {other} yet: add it to send()"),
    }
}

/// A multipart form as a browser sends it: the form token first, then [`PNG`] in
/// `field`. (The cookie jar is read, not updated: an upload sets no cookie.)
async fn post_multipart(browser: &Browser, base: &str, path: &str, token: &str, field: &str) -> Page {
    const BOUNDARY: &str = "----handoffAuthzBoundary5c1d";
    let mut body = format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n").into_bytes();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"logo.png\"\r\nContent-Type: image/png\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(PNG);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let cookies: Vec<String> = browser.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{base}{path}"))
        .header("cookie", cookies.join("; "))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    Page { status, headers, body }
}

/// Whether `page` is what `who` may get from `route`.
fn judge(route: &Entry, who: Who, page: &Page, changed: bool) -> Result<(), String> {
    let status = page.status;
    if status >= 500 {
        return Err("a server error".into());
    }
    let success = (200..300).contains(&status);
    let to_sign_in = (300..400).contains(&status) && page.location().starts_with("/sign-in");
    // A path that names something (a project, a person) is only for those it belongs
    // to; to everyone else that thing does not exist. Signed-in routes included: the
    // member's picture is no business of a stranger's.
    let project_route = matches!(route.access, Access::ProjectMember | Access::ProjectEditor) || route.path.contains('{');
    match (route.access, who) {
        (Access::Public, _) => Ok(()),
        (_, Who::SignedOut) => {
            if success || (300..400).contains(&status) && !to_sign_in {
                Err("signed out, yet answered".into())
            } else if changed {
                Err("signed out and refused, yet the database changed".into())
            } else {
                Ok(())
            }
        }
        (_, Who::Stranger | Who::Colleague) if project_route => {
            if status != 404 {
                Err("another project's customer must get 404, as if the project did not exist".into())
            } else if page.body.contains(PROJECT_NAME) {
                Err("the refusal names the project".into())
            } else if changed {
                Err("refused, yet the database changed".into())
            } else {
                Ok(())
            }
        }
        (Access::ProjectEditor, Who::Viewer) => {
            if status < 400 {
                Err("a viewer may not change the project, yet it answered".into())
            } else if changed {
                Err("a viewer was refused, yet the database changed".into())
            } else {
                Ok(())
            }
        }
        // Signed-in routes for anyone signed in, project routes for their members.
        // A GET must show something (or lead somewhere other than sign-in); a POST may
        // answer a form error (400, 409, 422), but not as if the visitor had no access.
        // (Signing out rightly leads to sign-in, so POSTs may.)
        _ => {
            let refused = if route.method == Method::GET {
                !(200..400).contains(&status) || to_sign_in
            } else {
                matches!(status, 401 | 403 | 404)
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
async fn every_portal_route_answers_only_those_its_access_allows() {
    let mut world = world().await;
    let table = entries(&portal::routes());
    assert!(table.len() >= 12, "the whole table is checked");
    let base = world.portal.base().to_owned();
    let wrong = world.matrix(&base, &table).await;
    assert!(wrong.is_empty(), "the authorization matrix found:\n{}", wrong.join("\n"));
    // The member's requests went through (so the refusals before them were real):
    // the to-do and, with uploads, the upload task were completed.
    let done = world
        .db
        .scalar("SELECT COUNT(*) FROM activity WHERE action = 'task.completed'")
        .await;
    assert!(done >= 1, "the member completed tasks: {done}");
}

/// A handler that takes the signed-in customer but never asks whether they belong to
/// the project — the mistake the matrix exists to catch.
async fn unchecked(_me: Customer, State(state): State<WebState>, Path(id): Path<String>) -> String {
    let project = state.store.project_details(id.parse().unwrap()).await.unwrap().unwrap();
    project.project.name
}

#[tokio::test]
async fn a_route_that_forgets_its_check_fails_the_matrix() {
    let mut world = world().await;
    let mut routes = portal::routes();
    routes.push(PortalRoute::get("/projects/{id}/leak", Access::ProjectMember, unchecked));
    let table = entries(&routes);
    let web = world.portal.app.state.web();
    let router = portal::router_from(&web, routes).with_state(web.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let wrong = world.matrix(&base, &table).await;
    assert_eq!(
        wrong,
        [
            "GET /projects/{id}/leak as Stranger: another project's customer must get 404, as if the project did not exist (got 200 )",
            "GET /projects/{id}/leak as Colleague: another project's customer must get 404, as if the project did not exist (got 200 )",
        ],
        "only the unchecked route, only for the outsiders"
    );
}

// --- Sign-in attacks not already in tests/portal/sign_in.rs ---

#[tokio::test]
async fn one_link_posted_many_times_at_once_signs_in_once() {
    let world = world().await;
    let link = world.portal.link(MEMBER);
    let mut browsers: Vec<Browser> = (0..8).map(|_| world.portal.browser()).collect();
    let pages = futures_join(browsers.iter_mut().map(|b| b.post(&link, &[])).collect()).await;
    let statuses: Vec<u16> = pages.iter().map(|p| p.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 303 || *s == 410), "{statuses:?}");
    assert_eq!(browsers.iter().filter(|b| b.session().is_some()).count(), 1);
    let user = world.portal.user_id(MEMBER).await;
    assert_eq!(world.portal.app.store().session_count(user).await.unwrap(), 1);
}

/// Runs the futures concurrently on this task (no extra dependency for join_all).
async fn futures_join<F: std::future::Future<Output = Page>>(futures: Vec<F>) -> Vec<Page> {
    let mut futures: Vec<_> = futures.into_iter().map(Box::pin).collect();
    let mut out: Vec<Option<Page>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (slot, fut) in out.iter_mut().zip(futures.iter_mut()) {
            if slot.is_none() {
                match fut.as_mut().poll(cx) {
                    std::task::Poll::Ready(page) => *slot = Some(page),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn a_tampered_link_signs_no_one_in() {
    let world = world().await;
    let link = world.portal.link(MEMBER);
    let flipped = if link.ends_with('A') { 'B' } else { 'A' };
    let tampered = format!("{}{flipped}", &link[..link.len() - 1]);
    let mut browser = world.portal.browser();
    for page in [browser.get(&tampered).await, browser.post(&tampered, &[]).await] {
        assert!((400..500).contains(&page.status), "{}: {}", page.status, page.body);
        assert!(!page.body.contains(PROJECT_NAME));
    }
    assert!(browser.session().is_none());
    assert_eq!(world.db.scalar("SELECT COUNT(*) FROM portal_sessions").await, 0);
    // The real link still works: a wrong guess does not burn it.
    assert_eq!(world.portal.browser().post(&link, &[]).await.status, 303);
}

#[tokio::test]
async fn an_expired_link_shows_no_confirm_button_either() {
    let world = world().await;
    world
        .portal
        .exec(
            "UPDATE invitations SET expires_at = $1",
            chrono::Utc::now() - chrono::Duration::minutes(1),
            None,
        )
        .await;
    let page = world.portal.browser().get(&world.portal.link(MEMBER)).await;
    assert_eq!(page.status, 410, "{}", page.body);
    assert!(page.body.contains("expired"), "{}", page.body);
    assert!(!page.body.contains(PROJECT_NAME));
}

#[tokio::test]
async fn a_session_cookie_replayed_after_signing_out_is_refused() {
    let mut world = world().await;
    let mut browser = world.portal.signed_in(MEMBER).await;
    let cookie = browser.session().unwrap().clone();
    let token = handoff::web::form_token::token_for(&SecretString::from(cookie.clone()));
    assert_eq!(browser.post("/sign-out", &[("csrf", &token)]).await.status, 303);

    let mut replay = world.portal.browser();
    replay.cookies.insert("handoff_session".into(), cookie.clone());
    let page = replay.get(&format!("/projects/{}", world.project)).await;
    assert_eq!(page.status, 303);
    assert!(page.location().starts_with("/sign-in"), "{}", page.location());
    assert!(replay.session().is_none(), "the browser is told to forget it");
    let before = world.db.fingerprint().await;
    replay.cookies.insert("handoff_session".into(), cookie);
    let page = replay
        .post(
            &format!("/projects/{}/tasks/sign-contract/complete", world.project),
            &[("csrf", &token)],
        )
        .await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/sign-in");
    assert_eq!(world.db.fingerprint().await, before, "the old session's token changes nothing");
}

#[tokio::test]
async fn a_form_token_in_the_query_string_does_not_count() {
    let mut world = world().await;
    let mut browser = world.portal.signed_in(MEMBER).await;
    let token = handoff::web::form_token::token_for(&SecretString::from(browser.session().unwrap().clone()));
    let before = world.db.fingerprint().await;
    let page = browser
        .post(
            &format!("/projects/{}/tasks/sign-contract/complete?csrf={token}", world.project),
            &[],
        )
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert_eq!(world.db.fingerprint().await, before);
}
