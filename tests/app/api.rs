//! The JSON API (`/api/v1`) on the real app, and the `handoff api-token` commands that
//! make its tokens: bearer authentication, completing tasks, and what is stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::Path;
use std::process::{Command, Output};

use common::{TestApp, spawn_app};
use handoff::domain::ProjectId;
use handoff::domain::TaskStatus;
use handoff::domain::api_token::{ApiTokenName, NewApiToken, token_hash};
use handoff::domain::people::{Activity, Actor};
use handoff::domain::project::ProjectDetails;
use secrecy::ExposeSecret;
use serde_json::Value;

/// Makes a token as `handoff api-token create` does and returns it.
async fn make_token(app: &TestApp, name: &str) -> String {
    let new = NewApiToken::generate().unwrap();
    app.store()
        .create_api_token(&ApiTokenName::parse(name).unwrap(), &new)
        .await
        .unwrap();
    new.token.expose_secret().to_owned()
}

async fn complete(app: &TestApp, project: &str, task: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app
        .client
        .post(format!("{}/api/v1/projects/{project}/tasks/{task}/complete", app.base_url));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

async fn get_project(app: &TestApp, project: &str, token: Option<&str>) -> reqwest::Response {
    let mut req = app.client.get(format!("{}/api/v1/projects/{project}", app.base_url));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

async fn details(app: &TestApp, project: ProjectId) -> ProjectDetails {
    app.store().project_details(project).await.unwrap().unwrap()
}

async fn stored_status(app: &TestApp, project: ProjectId, task: &str) -> TaskStatus {
    details(app, project).await.task_by_key(task).unwrap().status
}

async fn completions(app: &TestApp, project: ProjectId) -> Vec<Activity> {
    let all = app.store().project_activity(project).await.unwrap();
    all.into_iter().filter(|a| a.entry.action == "task.completed").collect()
}

fn challenge(res: &reqwest::Response) -> String {
    res.headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_request_without_a_valid_token_is_401_with_a_bearer_challenge_and_changes_nothing() {
    let app = spawn_app().await;
    let project = app.create_project("saas-onboarding", "Acme onboarding").await;
    let id = project.to_string();
    make_token(&app, "zapier").await;

    let res = complete(&app, &id, "review-deal", None).await;
    assert_eq!(res.status(), 401);
    assert_eq!(challenge(&res), r#"Bearer realm="handoff""#);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("Authorization: Bearer"), "{body}");

    let basic = app
        .client
        .post(format!("{}/api/v1/projects/{id}/tasks/review-deal/complete", app.base_url))
        .basic_auth("user", Some("password"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401, "only bearer tokens are accepted");

    let unknown = NewApiToken::generate().unwrap();
    for bad in [unknown.token.expose_secret(), "hnd_short", "not-a-token"] {
        let res = complete(&app, &id, "review-deal", Some(bad)).await;
        assert_eq!(res.status(), 401, "{bad}");
        assert_eq!(challenge(&res), r#"Bearer realm="handoff", error="invalid_token""#);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "the API token is unknown or revoked");
    }

    assert_eq!(get_project(&app, &id, None).await.status(), 401, "reading needs a token too");
    assert_eq!(stored_status(&app, project, "review-deal").await, TaskStatus::Pending);
    assert!(completions(&app, project).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_good_token_completes_the_task_once_and_the_activity_names_the_token() {
    let app = spawn_app().await;
    let project = app.create_project("saas-onboarding", "Acme onboarding").await;
    let id = project.to_string();
    let token = make_token(&app, "zapier").await;

    let res = complete(&app, &id, "review-deal", Some(&token)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        serde_json::json!({ "project_id": id, "task": "review-deal", "status": "completed", "changed": true })
    );
    let task = details(&app, project).await.task_by_key("review-deal").unwrap().clone();
    assert_eq!(task.status, TaskStatus::Completed);
    assert!(task.completed_at.is_some());
    let done = completions(&app, project).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].entry.source, "api:zapier");
    assert_eq!(done[0].entry.actor, Actor::System);
    assert_eq!(done[0].entry.details["task"], "review-deal");

    let again = complete(&app, &id, "review-deal", Some(&token)).await;
    assert_eq!(again.status(), 200, "a retried request succeeds");
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["changed"], false);
    assert_eq!(body["status"], "completed");
    assert_eq!(completions(&app, project).await.len(), 1, "and records nothing new");

    let listed = app.store().list_api_tokens().await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "use is noted");
    app.stop().await;
}

#[tokio::test]
async fn the_project_endpoint_shows_derived_statuses_and_progress() {
    let app = spawn_app().await;
    let project = app.create_project("saas-onboarding", "Acme onboarding").await;
    let id = project.to_string();
    let token = make_token(&app, "dashboard").await;
    assert_eq!(complete(&app, &id, "review-deal", Some(&token)).await.status(), 200);

    let res = get_project(&app, &id, Some(&token)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["id"], id);
    assert_eq!(body["name"], "Acme onboarding");
    assert_eq!(body["status"], "draft");
    assert_eq!(body["progress"], serde_json::json!({ "completed": 1, "total": 27, "percent": 3 }));
    let tasks: Vec<&Value> = body["phases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["tasks"].as_array().unwrap())
        .collect();
    assert_eq!(tasks.len(), 27);
    let task = |key: &str| *tasks.iter().find(|t| t["key"] == key).unwrap();
    assert_eq!(task("review-deal")["status"], "completed");
    assert_eq!(task("provision-tenant")["status"], "pending", "its dependency is done");
    assert_eq!(task("enable-sso")["status"], "blocked");
    assert_eq!(
        task("enable-sso")["depends_on"],
        serde_json::json!(["provision-tenant", "sso-config"])
    );
    assert_eq!(body["phases"][0]["progress"]["completed"], 1);

    let unknown = get_project(&app, &ProjectId::new().to_string(), Some(&token)).await;
    assert_eq!(unknown.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn a_revoked_token_is_refused() {
    let app = spawn_app().await;
    let project = app.create_project("saas-onboarding", "Acme onboarding").await;
    let id = project.to_string();
    let token = make_token(&app, "old-integration").await;
    assert_eq!(get_project(&app, &id, Some(&token)).await.status(), 200);

    let listed = app.store().list_api_tokens().await.unwrap();
    app.store().revoke_api_token(listed[0].id).await.unwrap();

    let res = complete(&app, &id, "review-deal", Some(&token)).await;
    assert_eq!(res.status(), 401);
    assert!(challenge(&res).starts_with("Bearer"));
    assert_eq!(stored_status(&app, project, "review-deal").await, TaskStatus::Pending);
    assert!(completions(&app, project).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn unknown_tasks_and_projects_are_404_and_a_malformed_id_is_400() {
    let app = spawn_app().await;
    let project = app.create_project("saas-onboarding", "Acme onboarding").await;
    let token = make_token(&app, "zapier").await;

    let res = complete(&app, &project.to_string(), "no-such-task", Some(&token)).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("no-such-task"), "{body}");

    let res = complete(&app, &ProjectId::new().to_string(), "review-deal", Some(&token)).await;
    assert_eq!(res.status(), 404);

    for malformed in ["not-a-uuid", "12345"] {
        let res = complete(&app, malformed, "review-deal", Some(&token)).await;
        assert_eq!(res.status(), 400, "{malformed}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().unwrap().contains("is not a valid project id"), "{body}");
        assert_eq!(get_project(&app, malformed, Some(&token)).await.status(), 400);
    }
    assert!(completions(&app, project).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_blocked_task_is_422_naming_what_it_waits_for() {
    let app = spawn_app().await;
    let project = app.create_project("saas-onboarding", "Acme onboarding").await;
    let token = make_token(&app, "zapier").await;

    let res = complete(&app, &project.to_string(), "enable-sso", Some(&token)).await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"],
        "task `enable-sso` is blocked: it waits for provision-tenant, sso-config"
    );
    assert_eq!(stored_status(&app, project, "enable-sso").await, TaskStatus::Pending);
    assert!(completions(&app, project).await.is_empty());
    app.stop().await;
}

/// Reads the api_tokens table directly, not through the code under test.
async fn stored_rows(app: &TestApp) -> Vec<(String, String, String)> {
    const SQL: &str = "SELECT name, token_hash, prefix FROM api_tokens ORDER BY name";
    if app.db.is_postgres() {
        let pool = sqlx::PgPool::connect(app.db.url()).await.unwrap();
        let rows = sqlx::query_as(SQL).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    } else {
        let pool = sqlx::SqlitePool::connect(app.db.url()).await.unwrap();
        let rows = sqlx::query_as(SQL).fetch_all(&pool).await.unwrap();
        pool.close().await;
        rows
    }
}

#[tokio::test]
async fn only_a_tokens_hash_and_first_characters_are_stored() {
    let app = spawn_app().await;
    let a = make_token(&app, "a").await;
    let b = make_token(&app, "b").await;
    let rows = stored_rows(&app).await;
    assert_eq!(rows.len(), 2);
    for ((name, hash, prefix), token) in rows.iter().zip([&a, &b]) {
        assert_eq!(hash, &token_hash(token), "{name}");
        assert_eq!(hash.len(), 64);
        assert_eq!(prefix, &token[..8]);
        assert!(prefix.starts_with("hnd_"));
        for column in [name, hash, prefix] {
            assert!(
                !column.contains(token.as_str()) && !column.contains(&token[8..]),
                "{name}: the token is stored"
            );
        }
    }
    let listed = format!("{:?}", app.store().list_api_tokens().await.unwrap());
    assert!(!listed.contains(&a[8..]) && !listed.contains(&token_hash(&a)), "{listed}");
    app.stop().await;
}

#[tokio::test]
async fn last_use_is_written_at_most_once_a_minute() {
    let app = spawn_app().await;
    let token = secrecy::SecretString::from(make_token(&app, "busy").await);
    assert_eq!(app.store().list_api_tokens().await.unwrap()[0].last_used_at, None);
    let first = app.store().authenticate_api_token(&token).await.unwrap().unwrap();
    let noted = app.store().list_api_tokens().await.unwrap()[0].last_used_at;
    assert!(noted.is_some());
    assert_eq!(first.last_used_at, noted);
    let second = app.store().authenticate_api_token(&token).await.unwrap().unwrap();
    assert_eq!(second.last_used_at, noted, "a second use within the minute writes nothing");
    assert_eq!(app.store().list_api_tokens().await.unwrap()[0].last_used_at, noted);
    app.stop().await;
}

/// Runs the binary in a fresh directory against `app`'s database.
fn handoff(app: &TestApp, cwd: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_handoff"));
    cmd.current_dir(cwd).args(args);
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("HANDOFF_")) {
        cmd.env_remove(k);
    }
    cmd.env("HANDOFF_LOG", "warn").env("HANDOFF_DATABASE_URL", app.db.url());
    cmd.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[tokio::test]
async fn api_token_create_prints_a_token_that_works_until_revoked() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let project = app.create_project("saas-onboarding", "Acme onboarding").await;
    let id = project.to_string();

    let created = handoff(&app, dir.path(), &["api-token", "create", "--name", "ci-bot"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let token = stdout(&created).trim().to_owned();
    assert!(token.starts_with("hnd_") && token.len() == 47, "stdout is just the token: {token}");
    assert!(stderr(&created).contains("not shown again"), "{}", stderr(&created));

    let res = complete(&app, &id, "review-deal", Some(&token)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(completions(&app, project).await[0].entry.source, "api:ci-bot");

    let listed = handoff(&app, dir.path(), &["api-token", "list"]);
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    assert!(text.contains("ci-bot") && text.contains(&token[..8]), "{text}");
    assert!(
        !text.contains(&token) && !text.contains(&token[8..]),
        "list must not show the token: {text}"
    );
    let line = text.lines().find(|l| l.contains("ci-bot")).unwrap();
    assert!(line.trim_end().ends_with('-'), "not revoked: {line}");
    let token_id = line.split_whitespace().next().unwrap().to_owned();

    let revoked = handoff(&app, dir.path(), &["api-token", "revoke", &token_id]);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(stdout(&revoked).contains("revoked API token `ci-bot`"), "{}", stdout(&revoked));
    let res = complete(&app, &id, "provision-tenant", Some(&token)).await;
    assert_eq!(res.status(), 401);
    assert_eq!(stored_status(&app, project, "provision-tenant").await, TaskStatus::Pending);

    let again = handoff(&app, dir.path(), &["api-token", "revoke", &token_id]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains("already revoked"), "{}", stdout(&again));
    let listed = stdout(&handoff(&app, dir.path(), &["api-token", "list"]));
    let line = listed.lines().find(|l| l.contains("ci-bot")).unwrap();
    assert!(!line.trim_end().ends_with('-'), "revoked, with a date: {line}");
    app.stop().await;
}

#[tokio::test]
async fn api_token_commands_refuse_a_reused_name_a_bad_name_and_an_unknown_id() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let out = handoff(&app, dir.path(), &["api-token", "list"]);
    assert!(stdout(&out).contains("no API tokens"), "{}", stdout(&out));
    assert!(
        handoff(&app, dir.path(), &["api-token", "create", "--name", "zapier"])
            .status
            .success()
    );

    let out = handoff(&app, dir.path(), &["api-token", "create", "--name", "zapier"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("an API token named `zapier` already exists"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "no token printed: {}", stdout(&out));

    let out = handoff(&app, dir.path(), &["api-token", "create", "--name", "two words"]);
    assert_eq!(out.status.code(), Some(2), "clap rejects it as a usage error");
    assert!(stderr(&out).contains("may contain only letters"), "{}", stderr(&out));

    let out = handoff(&app, dir.path(), &["api-token", "revoke", "0192f6a4-5c1e-7abc-8def-0123456789ab"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert_eq!(app.store().list_api_tokens().await.unwrap().len(), 1);
    app.stop().await;
}

/// The one error shape of the API: `{"error": "<text>"}`, served as JSON.
async fn json_error(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = res.text().await.unwrap();
    assert!(content_type.starts_with("application/json"), "{status} {content_type}: {text}");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} not JSON ({e}): {text}"));
    let object = body.as_object().unwrap_or_else(|| panic!("{status}: {text}"));
    assert_eq!(object.len(), 1, "{status}: only `error`: {text}");
    let message = object["error"].as_str().unwrap_or_else(|| panic!("{status}: {text}")).to_owned();
    assert!(!message.is_empty(), "{status}: {text}");
    (status, message)
}

#[tokio::test]
async fn unknown_api_paths_wrong_methods_and_bad_bodies_answer_the_json_error_shape() {
    let app = spawn_app().await;
    let token = make_token(&app, "zapier").await;
    let project = app.create_project("saas-onboarding", "Acme onboarding").await;
    let url = |path: &str| format!("{}{path}", app.base_url);
    // Unknown paths under /api/v1, with and without a token: the API's 404, not the portal's page.
    for path in [
        "/api/v1",
        "/api/v1/",
        "/api/v1/nope",
        // `/api/v1/projects` is the project list (docs/API.md); its singular is nothing.
        "/api/v1/project",
        &format!("/api/v1/projects/{project}/nope"),
        &format!("/api/v1/projects/{project}/tasks/review-deal"),
    ] {
        for bearer in [None, Some(token.as_str())] {
            let mut req = app.client.get(url(path));
            if let Some(t) = bearer {
                req = req.bearer_auth(t);
            }
            let (status, _) = json_error(req.send().await.unwrap()).await;
            assert_eq!(status, 404, "{path}");
        }
    }
    // A method the endpoint does not take: 405, still JSON, `Allow` kept.
    let res = app
        .client
        .get(url(&format!("/api/v1/projects/{project}/tasks/review-deal/complete")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("allow").is_some());
    assert_eq!(json_error(res).await.0, 405);
    // A body that is not the JSON asked for: axum's rejection, in the one shape.
    for (content_type, body) in [("application/json", "{not json"), ("text/plain", "x")] {
        let res = app
            .client
            .post(url(&format!("/api/v1/projects/{project}/invitations")))
            .bearer_auth(&token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, _) = json_error(res).await;
        assert!((400..500).contains(&status), "{content_type}: {status}");
    }
    // An API body over the limit: 413 in the one shape.
    let res = app
        .client
        .post(url(&format!("/api/v1/projects/{project}/invitations")))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"email\": \"{}\"}}", "a".repeat(3 * 1024 * 1024)))
        .send()
        .await
        .unwrap();
    assert_eq!(json_error(res).await.0, 413);
    // The portal keeps its own HTML 404.
    let res = app.get("/nope").await;
    assert_eq!(res.status(), 404);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}
