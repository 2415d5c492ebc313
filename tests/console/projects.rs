//! The dashboard, the projects list, a project's overview and lifecycle steps, over
//! HTTP on SQLite or PostgreSQL: my open tasks (overdue first,
//! nobody else's), filters and keyset pages, phase progress, activating a Draft (its
//! invitations reach the SMTP capture), completing with open tasks refused with the
//! count, forms without their token refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;

use chrono::{Duration, NaiveDate, Utc};
use handoff::domain::people::{Actor, ProjectRole, StaffRole};
use handoff::domain::project::{ProjectSpec, plan_project};
use handoff::domain::{CompanyId, ProjectId, ProjectStatus, UserId};

use crate::console_support::{ADA, SAM, add_staff, csrf, staff_browser};
use crate::portal_support::{DANA, OMAR, Portal, Setup, spawn_portal};

pub(crate) fn today() -> NaiveDate {
    Utc::now().date_naive()
}

/// Gives task `key` of `project` an assignee and a due date, as the tasks tab would.
pub(crate) async fn set_task(portal: &Portal, project: ProjectId, key: &str, assignee: Option<UserId>, due: Option<NaiveDate>) {
    const SQL: &str = "UPDATE tasks SET assignee_id = $1, due_date = $2 WHERE project_id = $3 AND key = $4";
    let db = &portal.app.db;
    let (assignee, id) = (assignee.map(|u| u.as_uuid()), project.as_uuid());
    let changed = if db.is_postgres() {
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        let r = sqlx::query(SQL)
            .bind(assignee)
            .bind(due)
            .bind(id)
            .bind(key)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        r.rows_affected()
    } else {
        let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
        let r = sqlx::query(SQL)
            .bind(assignee)
            .bind(due)
            .bind(id)
            .bind(key)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        r.rows_affected()
    };
    assert_eq!(changed, 1, "no task `{key}`");
}

pub(crate) async fn make_owner(portal: &Portal, project: ProjectId, user: UserId) {
    let added = portal
        .app
        .state
        .engine
        .add_member(project, user, ProjectRole::Owner, None, Actor::System, "test")
        .await
        .unwrap();
    assert!(added);
}

/// A one-task project made straight in the store (fast enough for a hundred).
pub(crate) async fn quick_project(portal: &Portal, name: &str, company: Option<CompanyId>, status: ProjectStatus) -> ProjectId {
    const TEMPLATE: &str = r#"
name = "Quick"
[[phases]]
key = "only"
name = "Only"
[[phases.tasks]]
key = "one"
title = "The one task"
type = "todo"
"#;
    let template = handoff::domain::template::parse("quick.toml", TEMPLATE).unwrap();
    let spec = ProjectSpec {
        name: name.into(),
        template_key: "quick".into(),
        company_id: company,
        start_date: "2026-11-23".parse().unwrap(),
        goal_date: None,
    };
    let mut project = plan_project(&template, spec).unwrap();
    project.status = status;
    portal.app.store().create_project(&project, Actor::System, "test").await.unwrap()
}

pub(crate) async fn company(portal: &Portal, name: &str) -> CompanyId {
    portal.app.store().find_or_create_company(name).await.unwrap().id
}

/// The project ids the rows of a project table link to, in order.
fn listed(body: &str) -> Vec<String> {
    const ROW: &str = r#"<th scope="row"><a href="/console/projects/"#;
    body.match_indices(ROW)
        .map(|(at, _)| body[at + ROW.len()..at + ROW.len() + 36].to_owned())
        .collect()
}

/// The "Next page" link, unescaped.
fn next_page(body: &str) -> Option<String> {
    let at = body.find(r#"rel="next""#)?;
    let start = body[..at].rfind("href=\"")? + "href=\"".len();
    let end = start + body[start..].find('"')?;
    Some(body[start..end].replace("&amp;", "&"))
}

pub(crate) async fn status_of(portal: &Portal, project: ProjectId) -> ProjectStatus {
    portal.app.store().project_details(project).await.unwrap().unwrap().project.status
}

async fn status_writebacks(portal: &Portal) -> i64 {
    portal
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'writeback' AND CAST(payload AS TEXT) LIKE '%status_changed%'")
        .await
}

pub(crate) async fn status_changes(portal: &Portal, project: ProjectId) -> Vec<handoff::domain::people::Activity> {
    let all = portal.app.store().project_activity(project).await.unwrap();
    all.into_iter().filter(|a| a.entry.action == "project.status_changed").collect()
}

#[tokio::test]
async fn the_dashboard_lists_my_open_tasks_overdue_first_and_not_anyone_elses() {
    let portal = spawn_portal().await;
    let mut browser = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let sam = portal.user_id(SAM).await;
    let ada = add_staff(&portal, ADA, StaffRole::Admin).await;
    let acme = portal.project(Setup::active("Acme onboarding", "Acme", &[])).await;
    let zeta = portal.project(Setup::active("Zeta rollout", "Zeta", &[])).await;
    let mut draft = Setup::active("Draft deal", "Drafty", &[]);
    draft.status = ProjectStatus::Draft;
    let draft = portal.project(draft).await;
    make_owner(&portal, zeta, sam).await;
    make_owner(&portal, acme, ada).await;

    let day = |n: i64| Some(today() + Duration::days(n));
    set_task(&portal, acme, "secret-review", Some(sam), day(30)).await;
    set_task(&portal, acme, "internal-prep", Some(sam), day(2)).await;
    set_task(&portal, zeta, "kickoff", Some(sam), day(-5)).await;
    set_task(&portal, zeta, "company-profile", Some(sam), None).await;
    set_task(&portal, acme, "kickoff", Some(ada), day(-9)).await;
    set_task(&portal, draft, "kickoff", Some(sam), day(-20)).await;
    set_task(&portal, acme, "sign-contract", Some(sam), day(-30)).await;
    portal
        .app
        .state
        .engine
        .complete_task(acme, "sign-contract", Actor::System, "test")
        .await
        .unwrap();

    let page = browser.get("/console").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    let (tasks, projects) = body.split_at(body.find(r#"id="active-projects""#).unwrap());
    let rows: Vec<&str> = tasks.split("<tr").skip(2).collect();
    let titles: Vec<&str> = ["Kickoff meeting", "Internal preparation", "Secret risk review", "Company profile"]
        .into_iter()
        .collect();
    assert_eq!(rows.len(), titles.len(), "only my open tasks in active projects: {tasks}");
    for (row, title) in rows.iter().zip(&titles) {
        assert!(row.contains(title), "{title} out of order: {row}");
    }
    assert!(
        rows[0].contains(r#"class="row-overdue""#) && rows[0].contains("Overdue"),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].contains(&format!(r#"href="/console/projects/{zeta}/tasks#task-kickoff""#)),
        "{}",
        rows[0]
    );
    assert!(rows[1].contains(r#"class="row-due-soon""#), "{}", rows[1]);
    assert!(!rows[2].contains("row-"), "due in a month is not flagged: {}", rows[2]);
    assert!(rows[3].contains("No due date"), "{}", rows[3]);
    assert!(tasks.contains("1 overdue"), "{tasks}");
    assert!(!tasks.contains("Sign the contract"), "a completed task is not open");
    assert!(!tasks.contains("Draft deal"), "a draft's tasks are not shown");

    // Active projects with progress bars, mine first; drafts are not active.
    assert_eq!(listed(projects), [zeta.to_string(), acme.to_string()], "{projects}");
    assert!(projects.contains(r#"<progress max="100" value="16""#), "{projects}");
    assert!(projects.contains("you</span>"), "{projects}");

    // Ada has the other kickoff, and nothing else.
    let mut ada_browser = staff_browser(&portal, ADA, StaffRole::Admin).await;
    let theirs = ada_browser.get("/console").await.body;
    let (tasks, _) = theirs.split_at(theirs.find(r#"id="active-projects""#).unwrap());
    assert_eq!(tasks.matches("<tr").count(), 2, "a header and Ada's one task: {tasks}");
    assert!(tasks.contains(&format!("/console/projects/{acme}/tasks#task-kickoff")), "{tasks}");
}

#[tokio::test]
async fn a_dashboard_with_nothing_to_do_says_what_to_do() {
    let portal = spawn_portal().await;
    let mut browser = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let page = browser.get("/console").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("No open tasks are assigned to you"), "{}", page.body);
    assert!(page.body.contains("No project is active"), "{}", page.body);
    assert!(page.body.contains(r#"href="/console/projects?status=draft""#), "{}", page.body);
}

#[tokio::test]
async fn the_projects_list_filters_by_status_and_owner_and_searches_names_and_companies() {
    let portal = spawn_portal().await;
    let mut browser = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let sam = portal.user_id(SAM).await;
    let ada = add_staff(&portal, ADA, StaffRole::Admin).await;
    let acme = portal.project(Setup::active("Acme onboarding", "Acme", &[])).await;
    let mut globex = Setup::active("Globex rollout", "Globex", &[]);
    globex.status = ProjectStatus::Draft;
    let globex = portal.project(globex).await;
    let initech = company(&portal, "Initech").await;
    let pilot = quick_project(&portal, "Pilot 100%_done", Some(initech), ProjectStatus::Active).await;
    make_owner(&portal, acme, sam).await;
    make_owner(&portal, pilot, ada).await;
    set_task(&portal, acme, "kickoff", None, Some(today() - Duration::days(1))).await;
    set_task(&portal, acme, "sign-contract", None, Some(today() - Duration::days(3))).await;

    let all = browser.get("/console/projects").await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(
        listed(&all.body),
        [acme.to_string(), globex.to_string(), pilot.to_string()],
        "by name"
    );
    let acme_row = all.body.split("<tr").find(|r| r.contains("Acme onboarding")).unwrap();
    for shown in ["Acme", "active", "Sam Staff", "2027-01-15", "2 overdue", "<progress"] {
        assert!(acme_row.contains(shown), "{shown}: {acme_row}");
    }
    assert!(
        all.body.contains(&format!(r#"<option value="{sam}">Sam Staff</option>"#)),
        "{}",
        all.body
    );

    let cases: Vec<(String, Vec<ProjectId>)> = vec![
        ("status=draft".into(), vec![globex]),
        ("status=active".into(), vec![acme, pilot]),
        (format!("owner={ada}"), vec![pilot]),
        (format!("owner={sam}&status=active"), vec![acme]),
        (format!("owner={sam}&status=draft"), vec![]),
        ("q=GLOB".into(), vec![globex]),
        ("q=initech".into(), vec![pilot]),
        ("q=onboard".into(), vec![acme]),
        ("q=100%25_".into(), vec![pilot]),
        ("q=_".into(), vec![pilot]),
        ("q=nothing+like+it".into(), vec![]),
        ("status=&owner=&q=".into(), vec![acme, globex, pilot]),
    ];
    for (query, expected) in cases {
        let page = browser.get(&format!("/console/projects?{query}")).await;
        assert_eq!(page.status, 200, "{query}: {}", page.body);
        let expected: Vec<String> = expected.iter().map(ToString::to_string).collect();
        assert_eq!(listed(&page.body), expected, "{query}");
        if expected.is_empty() {
            assert!(page.body.contains("No project matches these filters"), "{query}: {}", page.body);
        }
    }
    for bad in ["status=live", "owner=sam", "after=not-a-cursor"] {
        let page = browser.get(&format!("/console/projects?{bad}")).await;
        assert_eq!(page.status, 400, "{bad}: {}", page.body);
    }
}

#[tokio::test]
async fn the_projects_list_pages_through_many_projects_by_keyset_without_repeats_or_gaps() {
    let portal = spawn_portal().await;
    let mut browser = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let mut made = Vec::new();
    for i in 0..118 {
        // Mixed case sorts as one; three share a name, so the id breaks the tie.
        let name = match i % 3 {
            0 => format!("project {i:03}"),
            1 => format!("Project {i:03}"),
            _ => format!("PROJECT {i:03}"),
        };
        made.push(quick_project(&portal, &name, None, ProjectStatus::Active).await.to_string());
    }
    for _ in 0..3 {
        made.push(quick_project(&portal, "Project 050", None, ProjectStatus::Active).await.to_string());
    }

    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut next = Some("/console/projects".to_owned());
    while let Some(path) = next {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        assert!(!path.contains("offset"), "{path}");
        let ids = listed(&page.body);
        pages.push(ids.len());
        seen.extend(ids);
        next = next_page(&page.body);
        if pages.len() == 1 {
            // A project made while someone pages, sorting before where they are, is not
            // slipped into a later page.
            quick_project(&portal, "Aardvark", None, ProjectStatus::Active).await;
        }
        assert!(pages.len() < 5, "the pages never end");
    }
    assert_eq!(pages, [50, 50, 21]);
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no project twice");
    let expected: HashSet<&String> = made.iter().collect();
    assert_eq!(unique, expected, "every project once");

    // In name order, any case.
    let details = portal.app.store();
    let mut names = Vec::new();
    for id in &seen {
        let id: ProjectId = id.parse().unwrap();
        names.push(details.project_details(id).await.unwrap().unwrap().project.name.to_lowercase());
    }
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "{names:?}");

    // The filters go along from page to page.
    let filtered = browser.get("/console/projects?status=active&q=project").await;
    let next = next_page(&filtered.body).unwrap();
    assert!(
        next.contains("status=active") && next.contains("q=project") && next.contains("after="),
        "{next}"
    );
}

#[tokio::test]
async fn the_overview_shows_phase_progress_task_counts_and_the_owner() {
    let portal = spawn_portal().await;
    let mut browser = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let sam = portal.user_id(SAM).await;
    let acme = portal.project(Setup::active("Acme onboarding", "Acme", &[])).await;
    make_owner(&portal, acme, sam).await;
    for key in ["internal-prep", "kickoff"] {
        portal
            .app
            .state
            .engine
            .complete_task(acme, key, Actor::System, "test")
            .await
            .unwrap();
    }
    set_task(&portal, acme, "secret-review", None, Some(today() - Duration::days(2))).await;

    let page = browser.get(&format!("/console/projects/{acme}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    assert!(body.contains(r#"aria-current="page">Overview"#), "the project's tabs: {body}");
    assert!(body.contains(r#"aria-label="Getting started: 66% complete""#), "{body}");
    assert!(body.contains(r#"aria-label="Setup: 0% complete""#), "{body}");
    assert!(body.contains("66% · 2 of 3") && body.contains("0% · 0 of 3"), "{body}");
    for (status, count) in [("pending", 3), ("in_progress", 0), ("blocked", 1), ("completed", 2)] {
        let shown = format!(r#"<li class="count-{status}"><span class="count">{count}</span>"#);
        assert!(body.contains(&shown), "{shown}: {body}");
    }
    assert!(body.contains("<dd>Sam Staff</dd>"), "{body}");
    assert!(
        body.contains("2026-11-23") && body.contains("2027-01-15"),
        "start and goal dates: {body}"
    );
    assert!(body.contains("1 overdue"), "{body}");

    // Active: complete (held back by 4 open tasks) and archive; nothing else.
    assert!(body.contains(r#"name="to" value="completed""#) && body.contains(r#"name="to" value="archived""#));
    assert!(!body.contains(r#"name="to" value="active""#) && !body.contains(r#"name="to" value="converted""#));
    assert!(body.contains(r#"disabled aria-describedby="why-completed""#), "{body}");
    assert!(body.contains("4 tasks open"), "{body}");

    assert_eq!(browser.get(&format!("/console/projects/{}", ProjectId::new())).await.status, 404);
    assert_eq!(browser.get("/console/projects/not-an-id").await.status, 404);
}

#[tokio::test]
async fn activating_a_draft_from_the_console_sends_its_waiting_invitations() {
    let mut portal = spawn_portal().await;
    let mut browser = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let sam = portal.user_id(SAM).await;
    let mut setup = Setup::active(
        "Acme onboarding",
        "Acme",
        &[(DANA, ProjectRole::CustomerAdmin), (OMAR, ProjectRole::CustomerMember)],
    );
    setup.status = ProjectStatus::Draft;
    let acme = portal.project(setup).await;
    // Invited "now", which in a Draft means: when it goes live.
    portal
        .exec(
            "UPDATE memberships SET invite = 'now', created_at = $1 WHERE role LIKE 'customer%'",
            Utc::now(),
            None,
        )
        .await;
    assert_eq!(portal.deliver().await, 0, "a draft invites nobody");

    let path = format!("/console/projects/{acme}");
    let page = browser.get(&path).await;
    assert!(page.body.contains(r#"name="to" value="active""#) && page.body.contains(">Activate</button>"));
    assert!(
        !page.body.contains(r#"name="to" value="completed""#),
        "a draft is not completed: {}",
        page.body
    );
    let before = status_writebacks(&portal).await;
    let token = page.csrf();
    let done = browser.post(&format!("{path}/status"), &[("csrf", &token), ("to", "active")]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("{path}?done=activated"));

    assert_eq!(status_of(&portal, acme).await, ProjectStatus::Active);
    assert_eq!(portal.deliver().await, 2, "both waiting members are emailed");
    let mut to: Vec<String> = portal.smtp.messages().iter().map(|m| m.rcpt_to[0].clone()).collect();
    to.sort();
    assert_eq!(to, [DANA, OMAR]);
    assert!(portal.link(DANA).starts_with("/invite/"));

    let changes = status_changes(&portal, acme).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].entry.source, "console");
    assert_eq!(changes[0].entry.actor, Actor::User(sam));
    assert_eq!(changes[0].entry.details, serde_json::json!({ "from": "draft", "to": "active" }));
    assert_eq!(status_writebacks(&portal).await, before + 1, "a StatusChanged writeback is queued");

    let back = browser.get(done.location()).await;
    assert!(back.body.contains("have been sent their invitations"), "{}", back.body);
    assert!(back.body.contains(r#"role="status""#), "{}", back.body);

    // The same form again (a double click) changes nothing and says so.
    let again = browser.post(&format!("{path}/status"), &[("csrf", &token), ("to", "active")]).await;
    assert_eq!(again.status, 303);
    assert_eq!(again.location(), format!("{path}?done=unchanged"));
    assert_eq!(status_changes(&portal, acme).await.len(), 1);
    assert_eq!(portal.deliver().await, 0, "nobody is emailed twice");
}

#[tokio::test]
async fn completing_a_project_with_open_tasks_is_refused_with_the_count_and_changes_nothing() {
    let portal = spawn_portal().await;
    let mut browser = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let acme = portal.project(Setup::active("Acme onboarding", "Acme", &[])).await;
    let engine = &portal.app.state.engine;
    for key in ["internal-prep", "sign-contract", "kickoff", "invite-team"] {
        engine.complete_task(acme, key, Actor::System, "test").await.unwrap();
    }
    let path = format!("/console/projects/{acme}");
    let token = csrf(&mut browser, &path).await;
    let before = (
        status_writebacks(&portal).await,
        portal.app.store().project_activity(acme).await.unwrap().len(),
    );

    let refused = browser
        .post(&format!("{path}/status"), &[("csrf", &token), ("to", "completed")])
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("Nothing was changed"), "{}", refused.body);
    assert!(refused.body.contains("2 tasks open"), "{}", refused.body);
    assert!(refused.body.contains(r#"role="alert""#), "{}", refused.body);
    assert_eq!(status_of(&portal, acme).await, ProjectStatus::Active);
    let after = (
        status_writebacks(&portal).await,
        portal.app.store().project_activity(acme).await.unwrap().len(),
    );
    assert_eq!(after, before, "no activity, no writeback");

    // A step the lifecycle does not have is refused with where the project can go.
    let skipped = browser
        .post(&format!("{path}/status"), &[("csrf", &token), ("to", "converted")])
        .await;
    assert_eq!(skipped.status, 409, "{}", skipped.body);
    assert!(skipped.body.contains("completed or archived"), "{}", skipped.body);
    let unknown = browser.post(&format!("{path}/status"), &[("csrf", &token), ("to", "live")]).await;
    assert_eq!(unknown.status, 400, "{}", unknown.body);

    // Once the work is done, the project completes.
    for key in ["company-profile", "secret-review"] {
        engine.complete_task(acme, key, Actor::System, "test").await.unwrap();
    }
    let page = browser.get(&path).await;
    assert!(!page.body.contains("disabled"), "{}", page.body);
    let done = browser
        .post(&format!("{path}/status"), &[("csrf", &token), ("to", "completed")])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(status_of(&portal, acme).await, ProjectStatus::Completed);
    let page = browser.get(done.location()).await;
    assert!(page.body.contains("The project is completed."), "{}", page.body);
    for step in ["Reopen", "Convert", "Archive"] {
        assert!(page.body.contains(&format!(">{step}</button>")), "{step}: {}", page.body);
    }

    // Archiving cannot be undone: without the ticked box it changes nothing.
    assert!(page.body.contains(r#"name="confirm" value="yes" required"#), "{}", page.body);
    let unconfirmed = browser
        .post(&format!("{path}/status"), &[("csrf", &token), ("to", "archived")])
        .await;
    assert_eq!(unconfirmed.status, 422, "{}", unconfirmed.body);
    assert!(unconfirmed.body.contains("it cannot be undone"), "{}", unconfirmed.body);
    assert_eq!(status_of(&portal, acme).await, ProjectStatus::Completed);
    let archived = browser
        .post(
            &format!("{path}/status"),
            &[("csrf", &token), ("to", "archived"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(archived.status, 303, "{}", archived.body);
    assert_eq!(status_of(&portal, acme).await, ProjectStatus::Archived);
}

#[tokio::test]
async fn a_status_form_without_its_token_is_refused_and_changes_nothing() {
    let mut portal = spawn_portal().await;
    let mut browser = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let mut setup = Setup::active("Acme onboarding", "Acme", &[(DANA, ProjectRole::CustomerAdmin)]);
    setup.status = ProjectStatus::Draft;
    let acme = portal.project(setup).await;
    portal
        .exec("UPDATE memberships SET invite = 'now', created_at = $1", Utc::now(), None)
        .await;
    let path = format!("/console/projects/{acme}/status");

    let without = browser.post(&path, &[("to", "active")]).await;
    assert_eq!(without.status, 403, "{}", without.body);
    let other = staff_browser(&portal, ADA, StaffRole::Admin).await.get("/console").await.csrf();
    let wrong = browser.post(&path, &[("csrf", &other), ("to", "active")]).await;
    assert_eq!(wrong.status, 403, "another session's token: {}", wrong.body);
    let signed_out = portal.browser().post(&path, &[("csrf", &other), ("to", "active")]).await;
    assert_eq!(signed_out.status, 303, "{}", signed_out.body);
    assert!(signed_out.location().starts_with("/console/sign-in"));

    assert_eq!(status_of(&portal, acme).await, ProjectStatus::Draft);
    assert!(status_changes(&portal, acme).await.is_empty());
    assert_eq!(portal.deliver().await, 0, "nobody was invited");
}
