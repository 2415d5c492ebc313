//! Helpers for the portal tests: projects with invited customers, invitation emails delivered over SMTP to a capture, and a
//! small browser (cookies by hand, no redirects followed) to sign in with their links.
// Shared by several test binaries, each of which uses only part of it.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::time::Duration;

use handoff::config::SmtpConfig;
use handoff::domain::people::{Actor, ProjectRole, UserKind};
use handoff::domain::project::{NewProject, ProjectSpec, plan_project};
use handoff::domain::{Email, ProjectId, ProjectStatus, UserId};
use handoff::engine::outbox::email::deliver_emails;
use handoff::mail::Mailer;
use handoff::store::NewUser;
use handoff::store::sealed::Sealer;
use secrecy::SecretString;

use crate::common::{TestApp, spawn_app_with};
use crate::mail_support::SmtpCapture;

/// A template with every kind of task the portal must tell apart.
pub const TEMPLATE: &str = r#"
name = "Portal test"
[[phases]]
key = "start"
name = "Getting started"
[[phases.tasks]]
key = "internal-prep"
title = "Internal preparation"
type = "todo"
visibility = "internal"
[[phases.tasks]]
key = "sign-contract"
title = "Sign the contract"
description = "Sign it.\nThen tick it off."
type = "todo"
owner = "customer"
[[phases.tasks]]
key = "kickoff"
title = "Kickoff meeting"
type = "todo"
owner = "staff"
[[phases]]
key = "setup"
name = "Setup"
[[phases.tasks]]
key = "invite-team"
title = "Invite your team"
type = "todo"
owner = "customer"
depends_on = ["sign-contract"]
[[phases.tasks]]
key = "company-profile"
title = "Company profile"
type = "question"
prompt = "Tell us about you"
owner = "customer"
[[phases.tasks]]
key = "secret-review"
title = "Secret risk review"
type = "todo"
visibility = "internal"
"#;

pub struct Portal {
    pub app: TestApp,
    pub smtp: SmtpCapture,
    mailer: Mailer,
    pub sealer: Sealer,
    /// The latest sign-in link emailed to each address.
    links: HashMap<String, String>,
    seen: usize,
}

pub async fn spawn_portal() -> Portal {
    spawn_portal_with(|_| {}).await
}

pub async fn spawn_portal_with(customize: impl FnOnce(&mut handoff::config::Config)) -> Portal {
    let app = spawn_app_with(customize).await;
    let smtp = SmtpCapture::start().await;
    let mailer = Mailer::new(
        &SmtpConfig {
            url: Some(SecretString::from(smtp.url())),
            from: "handoff <onboarding@handoff.example>".into(),
        },
        Duration::from_secs(10),
    )
    .unwrap();
    let sealer = Sealer::new(app.state.config.secrets.master_key.as_ref()).unwrap();
    Portal {
        app,
        smtp,
        mailer,
        sealer,
        links: HashMap::new(),
        seen: 0,
    }
}

/// The cast most portal tests use: Acme's admin, member and viewer, and Globex's admin.
pub const DANA: &str = "dana@acme.example";
pub const OMAR: &str = "omar@acme.example";
pub const VERA: &str = "vera@acme.example";
pub const ZOE: &str = "zoe@globex.example";

/// One project to make: its name, company, status, and the customers in it.
pub struct Setup<'a> {
    pub name: &'a str,
    pub company: &'a str,
    pub status: ProjectStatus,
    pub self_service: bool,
    pub customers: &'a [(&'a str, ProjectRole)],
}

impl<'a> Setup<'a> {
    pub fn active(name: &'a str, company: &'a str, customers: &'a [(&'a str, ProjectRole)]) -> Self {
        Setup {
            name,
            company,
            status: ProjectStatus::Active,
            self_service: false,
            customers,
        }
    }
}

impl Portal {
    pub fn base(&self) -> &str {
        &self.app.base_url
    }

    fn planned(&self, setup: &Setup<'_>) -> NewProject {
        self.planned_from(setup, TEMPLATE)
    }

    fn planned_from(&self, setup: &Setup<'_>, template: &str) -> NewProject {
        let template = handoff::domain::template::parse("portal-test.toml", template).unwrap();
        let spec = ProjectSpec {
            name: setup.name.into(),
            template_key: "portal-test".into(),
            company_id: None,
            start_date: "2026-11-23".parse().unwrap(),
            goal_date: Some("2027-01-15".parse().unwrap()),
        };
        let mut project = plan_project(&template, spec).unwrap();
        project.status = setup.status;
        project.self_service = setup.self_service;
        project.welcome_message = Some(format!("Welcome to {}!\n\nWe start on Monday.", setup.name));
        project
    }

    /// Makes the project with its company and customers, linked to a CRM deal (so
    /// completions queue writebacks), and, when it is live, emails each customer a
    /// link through the staff "resend" path.
    pub async fn project(&self, setup: Setup<'_>) -> ProjectId {
        self.project_from(setup, TEMPLATE).await
    }

    /// [`Portal::project`] from another template (TOML text).
    pub async fn project_from(&self, setup: Setup<'_>, template: &str) -> ProjectId {
        let store = self.app.store();
        let company = store.find_or_create_company(setup.company).await.unwrap();
        let mut project = self.planned_from(&setup, template);
        project.company_id = Some(company.id);
        let id = store.create_project(&project, Actor::System, "test").await.unwrap();
        self.link_to_crm(id).await;
        for (email, role) in setup.customers {
            let email = Email::parse(email).unwrap();
            let mut new = NewUser::new(UserKind::Customer, email.clone());
            new.first_name = Some(email.as_str().split('@').next().unwrap().to_owned());
            new.company_id = Some(company.id);
            let (user, _) = store.upsert_user(&new).await.unwrap();
            crate::common::engine(store)
                .add_member(id, user.id, *role, None, Actor::System, "test")
                .await
                .unwrap();
            if setup.status.visible_to_customers() {
                self.app
                    .state
                    .engine
                    .resend_invitation(id, &email, Actor::System, "test")
                    .await
                    .unwrap();
            }
        }
        id
    }

    /// Acme's project with Dana (admin), Omar (member) and Vera (viewer), and Globex's
    /// with Zoe; their links are not delivered yet.
    pub async fn two_companies(&self) -> (ProjectId, ProjectId) {
        let acme = self
            .project(Setup::active(
                "Acme onboarding",
                "Acme",
                &[
                    (DANA, ProjectRole::CustomerAdmin),
                    (OMAR, ProjectRole::CustomerMember),
                    (VERA, ProjectRole::CustomerViewer),
                ],
            ))
            .await;
        let globex = self
            .project(Setup::active("Globex onboarding", "Globex", &[(ZOE, ProjectRole::CustomerAdmin)]))
            .await;
        (acme, globex)
    }

    /// As if a workflow had made the project from a CRM deal.
    async fn link_to_crm(&self, project: ProjectId) {
        const SQL: &str = "INSERT INTO project_sources (workflow, connection, external_id, project_id, created_at) \
                           VALUES ('portal-test', 'salesforce', $1, $2, $3)";
        let db = &self.app.db;
        let (external, id, now) = (format!("deal-{project}"), project.as_uuid(), chrono::Utc::now());
        if db.is_postgres() {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            sqlx::query(SQL).bind(external).bind(id).bind(now).execute(&pool).await.unwrap();
            pool.close().await;
        } else {
            let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
            sqlx::query(SQL).bind(external).bind(id).bind(now).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }

    /// Sends the due invitation emails; returns how many went out.
    pub async fn deliver(&mut self) -> usize {
        let base: url::Url = self.app.base_url.parse().unwrap();
        let sent = deliver_emails(
            self.app.store(),
            &self.mailer,
            &self.sealer,
            &base,
            &self.app.state.config.branding.product_name,
            50,
        )
        .await
        .unwrap()
        .sent;
        let messages = self.smtp.messages();
        let prefix = format!("{}/invite/", self.app.base_url);
        for message in &messages[self.seen..] {
            let body = message.raw.replace("=\r\n", "");
            // Staff sign-in emails carry a console link instead; the console tests read those.
            if let Some(link) = body
                .split(|c: char| c.is_whitespace() || c == '"' || c == '<' || c == '>')
                .find(|w| w.starts_with(&prefix))
            {
                self.links.insert(message.rcpt_to[0].clone(), link.to_owned());
            }
        }
        self.seen = messages.len();
        sent
    }

    /// The latest link emailed to `email`, as a path (`/invite/…`).
    pub fn link(&self, email: &str) -> String {
        let link = self.links.get(email).unwrap_or_else(|| panic!("no link was emailed to {email}"));
        link.trim_start_matches(&self.app.base_url).to_owned()
    }

    pub fn browser(&self) -> Browser {
        Browser::new(&self.app.base_url)
    }

    /// A browser signed in with `email`'s latest link, on the page it landed on.
    pub async fn signed_in(&mut self, email: &str) -> Browser {
        if !self.links.contains_key(email) {
            self.deliver().await;
        }
        let mut browser = self.browser();
        let landed = browser.post(&self.link(email), &[]).await;
        assert_eq!(landed.status, 303, "{}", landed.body);
        browser
    }

    pub async fn user_id(&self, email: &str) -> UserId {
        self.app
            .store()
            .user_by_email(&Email::parse(email).unwrap())
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// Runs a statement with bound timestamps/ids on the test database (both backends).
    pub async fn exec(&self, sql: &'static str, at: chrono::DateTime<chrono::Utc>, id: Option<uuid::Uuid>) {
        let db = &self.app.db;
        if db.is_postgres() {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            let q = sqlx::query(sql).bind(at);
            let q = if let Some(id) = id { q.bind(id) } else { q };
            q.execute(&pool).await.unwrap();
            pool.close().await;
        } else {
            let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
            let q = sqlx::query(sql).bind(at);
            let q = if let Some(id) = id { q.bind(id) } else { q };
            q.execute(&pool).await.unwrap();
            pool.close().await;
        }
    }

    /// The text column a `SELECT` finds, row by row.
    pub async fn strings(&self, sql: &'static str) -> Vec<String> {
        let db = &self.app.db;
        if db.is_postgres() {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        } else {
            let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
            let rows = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
            pool.close().await;
            rows
        }
    }

    /// How many rows a `SELECT COUNT(*)` finds.
    pub async fn count(&self, sql: &'static str) -> i64 {
        let db = &self.app.db;
        if db.is_postgres() {
            let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
            let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            n
        } else {
            let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
            let n = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
            pool.close().await;
            n
        }
    }
}

/// A response, read.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn location(&self) -> &str {
        self.headers.get("location").map_or("", |v| v.to_str().unwrap())
    }

    /// The form token in the page (`name="csrf" value="…"`).
    pub fn csrf(&self) -> String {
        let at = self.body.find(r#"name="csrf" value=""#).expect("a form token on the page");
        let rest = &self.body[at + r#"name="csrf" value=""#.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }
}

/// Cookies kept by hand (the portal sets one), redirects not followed so tests see them.
pub struct Browser {
    base: String,
    client: reqwest::Client,
    pub cookies: HashMap<String, String>,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        crm_http::install_crypto_provider();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            base: base.to_owned(),
            client,
            cookies: HashMap::new(),
        }
    }

    pub fn session(&self) -> Option<&String> {
        self.cookies.get("handoff_session")
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    async fn read(&mut self, response: reqwest::Response) -> Page {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        for cookie in headers.get_all("set-cookie") {
            let cookie = cookie.to_str().unwrap();
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().await.unwrap();
        Page { status, headers, body }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    pub async fn head(&mut self, path: &str) -> Page {
        let response = self
            .client
            .head(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// A multipart form (encoded by hand): the text fields in order, then one file
    /// field `(field name, file name, bytes)`.
    pub async fn post_file(&mut self, path: &str, fields: &[(&str, &str)], file: (&str, &str, &[u8])) -> Page {
        const BOUNDARY: &str = "handoff-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (k, v) in fields {
            body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes());
        }
        let (field, name, bytes) = file;
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"))
            .body(body)
            .send()
            .await
            .unwrap();
        self.read(response).await
    }

    /// The whole response body as bytes (downloads).
    pub async fn get_bytes(&mut self, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        (status, headers, response.bytes().await.unwrap().to_vec())
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.read(response).await
    }
}
