//! The portal keeps project page models in memory and trusts them only at the project's
//! page version, which database triggers bump with every change a project page shows
//! (migration 0014, web/portal/page_cache.rs). These tests hold both halves to that:
//! every kind of write to every table a page reads bumps the version, and pages show
//! changes made behind the portal's back at once, while an unchanged project is not
//! read again. On SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::portal_support;

use handoff::domain::people::Actor;
use portal_support::{DANA, OMAR, Portal, spawn_portal};

const ACME: &str = "(SELECT id FROM projects WHERE name = 'Acme onboarding')";

/// Runs one statement; `{acme}` is Acme's project id and `{new_id}` a fresh id.
async fn run(portal: &Portal, sql: &str) {
    let db = &portal.app.db;
    let new_id = if db.is_postgres() { "gen_random_uuid()" } else { "randomblob(16)" };
    let sql = sql.replace("{acme}", ACME).replace("{new_id}", new_id);
    let done = if db.is_postgres() {
        let pool = sqlx::PgPool::connect(db.url()).await.unwrap();
        let done = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&pool)
            .await
            .map(|r| r.rows_affected());
        pool.close().await;
        done
    } else {
        let pool = sqlx::SqlitePool::connect(db.url()).await.unwrap();
        let done = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
            .execute(&pool)
            .await
            .map(|r| r.rows_affected());
        pool.close().await;
        done
    };
    let rows = done.unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert!(rows > 0, "the statement changed nothing, so it tests nothing: {sql}");
}

async fn versions(portal: &Portal) -> (i64, i64) {
    let acme = portal
        .count("SELECT page_version FROM projects WHERE name = 'Acme onboarding'")
        .await;
    let globex = portal
        .count("SELECT page_version FROM projects WHERE name = 'Globex onboarding'")
        .await;
    (acme, globex)
}

#[tokio::test]
async fn every_change_a_project_page_shows_bumps_its_page_version() {
    let portal = spawn_portal().await;
    portal.two_companies().await;
    // Each table a project page reads, with each kind of write.
    let changes = [
        "UPDATE projects SET welcome_message = 'Hello again' WHERE id = {acme}",
        "UPDATE projects SET status = 'completed' WHERE id = {acme}",
        "UPDATE companies SET name = 'Acme Corporation' WHERE name = 'Acme'",
        "INSERT INTO phases (id, project_id, position, key, name) VALUES ({new_id}, {acme}, 9, 'extra', 'Extra')",
        "UPDATE phases SET name = 'Setting up' WHERE key = 'setup' AND project_id = {acme}",
        "INSERT INTO tasks (id, project_id, phase_id, position, key, title, kind, visibility, owner_side, priority, status) \
         SELECT {new_id}, project_id, phase_id, 99, 'extra-step', 'Extra step', kind, visibility, owner_side, priority, 'pending' \
         FROM tasks WHERE key = 'kickoff' AND project_id = {acme}",
        "UPDATE tasks SET status = 'completed' WHERE key = 'sign-contract' AND project_id = {acme}",
        "UPDATE tasks SET assignee_id = (SELECT id FROM users WHERE email = 'omar@acme.example') \
         WHERE key = 'kickoff' AND project_id = {acme}",
        "INSERT INTO task_dependencies (task_id, depends_on_id) \
         SELECT t.id, d.id FROM tasks t, tasks d WHERE t.key = 'extra-step' AND d.key = 'kickoff' \
         AND t.project_id = {acme} AND d.project_id = {acme}",
        "DELETE FROM task_dependencies WHERE task_id IN (SELECT id FROM tasks WHERE key = 'extra-step' AND project_id = {acme})",
        "DELETE FROM tasks WHERE key = 'extra-step' AND project_id = {acme}",
        "DELETE FROM phases WHERE key = 'extra' AND project_id = {acme}",
        "UPDATE memberships SET status = 'deactivated' WHERE project_id = {acme} \
         AND user_id = (SELECT id FROM users WHERE email = 'vera@acme.example')",
        "DELETE FROM memberships WHERE project_id = {acme} AND user_id = (SELECT id FROM users WHERE email = 'vera@acme.example')",
        "INSERT INTO memberships (project_id, user_id, role, status, created_at) \
         SELECT {acme}, id, 'customer_viewer', 'active', created_at FROM users WHERE email = 'vera@acme.example'",
        "UPDATE users SET first_name = 'Omar', last_name = 'Haddad' WHERE email = 'omar@acme.example'",
    ];
    for sql in changes {
        let (acme, globex) = versions(&portal).await;
        run(&portal, sql).await;
        let (acme_after, globex_after) = versions(&portal).await;
        assert!(acme_after > acme, "Acme's page version stayed at {acme} after: {sql}");
        assert_eq!(globex_after, globex, "Globex's page changed with Acme's: {sql}");
    }

    // What project pages do not show leaves the version (and so the cache) alone.
    let (acme, globex) = versions(&portal).await;
    run(
        &portal,
        "INSERT INTO activity (at, project_id, action, source) SELECT created_at, id, 'note', 'test' FROM projects WHERE id = {acme}",
    )
    .await;
    // Nor do updates that change nothing shown (CRM syncs upsert people and companies).
    run(
        &portal,
        "UPDATE users SET first_name = first_name, phone = '+1 555 0100' WHERE email = 'omar@acme.example'",
    )
    .await;
    run(&portal, "UPDATE companies SET name = name WHERE name = 'Acme Corporation'").await;
    assert_eq!(versions(&portal).await, (acme, globex));
}

#[tokio::test]
async fn a_project_page_shows_changes_made_anywhere_at_once_and_reads_an_unchanged_project_once() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    portal.deliver().await;
    let mut dana = portal.signed_in(DANA).await;
    let page_path = format!("/projects/{acme}");
    let state = portal.app.state.clone();

    let first = dana.get(&page_path).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let loads = state.portal_pages.loads();
    for _ in 0..3 {
        assert_eq!(dana.get(&page_path).await.status, 200);
        dana.get(&format!("/projects/{acme}/tasks/sign-contract")).await;
    }
    assert_eq!(state.portal_pages.loads(), loads, "an unchanged project is read from memory");

    // Staff complete a task through the engine (as the console or the CRM would).
    state
        .engine
        .complete_task(acme, "sign-contract", Actor::System, "test")
        .await
        .unwrap();
    let page = dana.get(&page_path).await;
    assert!(
        page.body.contains("Sign the contract") && task_row(&page.body, "sign-contract").contains("Completed"),
        "the completion shows at once"
    );

    // Dana assigns a task to Omar; Omar renames himself on his profile.
    let omar = portal.user_id(OMAR).await;
    let task_page = dana.get(&format!("/projects/{acme}/tasks/company-profile")).await;
    let assigned = dana
        .post(
            &format!("/projects/{acme}/tasks/company-profile/assign"),
            &[("csrf", &task_page.csrf()), ("assignee", &omar.to_string())],
        )
        .await;
    assert_eq!(assigned.status, 303, "{}", assigned.body);
    assert!(task_row(&dana.get(&page_path).await.body, "company-profile").contains("Assigned to omar"));
    let mut omar_browser = portal.signed_in(OMAR).await;
    let profile = omar_browser.get("/profile").await;
    let saved = omar_browser
        .post(
            "/profile",
            &[
                ("csrf", &profile.csrf()),
                ("first_name", "Omar"),
                ("last_name", "Haddad"),
                ("timezone", "Europe/Berlin"),
                ("title", ""),
                ("phone", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let page = dana.get(&page_path).await;
    assert!(
        task_row(&page.body, "company-profile").contains("Assigned to Omar Haddad"),
        "a member's new name shows at once"
    );

    // A change straight in the database, as another handoff process would make it.
    run(
        &portal,
        "UPDATE projects SET welcome_message = 'Kickoff moved to Tuesday.' WHERE id = {acme}",
    )
    .await;
    assert!(dana.get(&page_path).await.body.contains("Kickoff moved to Tuesday."));
    assert_eq!(state.portal_pages.len(), 1, "one project was viewed");
}

/// The part of a project page that lists the task `key`.
fn task_row<'a>(body: &'a str, key: &str) -> &'a str {
    let start = body
        .find(&format!(r#"id="task-{key}""#))
        .unwrap_or_else(|| panic!("no row for {key}"));
    let rest = &body[start..];
    &rest[..rest[1..].find(r#"id="task-"#).map_or(rest.len(), |end| end + 1)]
}
