//! The JSON API of the projects list and the lifecycle (`/api/v1/projects`), over HTTP
//! on SQLite or PostgreSQL: filters and cursors, lifecycle steps and their refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{Duration, Utc};
use serde_json::Value;

use handoff::domain::people::{Actor, ProjectRole, StaffRole};
use handoff::domain::{ProjectId, ProjectStatus};

use crate::console_support::{SAM, add_staff, api_get, api_post, api_token};
use crate::portal_support::{DANA, Portal, Setup, spawn_portal};
use crate::projects::{make_owner, quick_project, set_task, status_changes, status_of, today};

/// `POST /api/v1/projects/{project}/status` with `body`.
async fn api_status(portal: &Portal, token: &str, project: &str, body: Value) -> (u16, Value) {
    api_post(portal, token, &format!("/api/v1/projects/{project}/status"), body).await
}

#[tokio::test]
async fn the_api_lists_projects_by_filter_and_cursor() {
    let portal = spawn_portal().await;
    let token = api_token(&portal, "reports").await;
    let sam = add_staff(&portal, SAM, StaffRole::Staff).await;
    let acme = portal.project(Setup::active("Acme onboarding", "Acme", &[])).await;
    make_owner(&portal, acme, sam).await;
    set_task(&portal, acme, "kickoff", None, Some(today() - Duration::days(1))).await;
    let mut drafts = Vec::new();
    for i in 0..5 {
        drafts.push(
            quick_project(&portal, &format!("Draft {i}"), None, ProjectStatus::Draft)
                .await
                .to_string(),
        );
    }

    let (status, body) = api_get(&portal, &token, "/api/v1/projects?status=active").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["next"], Value::Null);
    let line = &body["projects"][0];
    assert_eq!(body["projects"].as_array().unwrap().len(), 1);
    assert_eq!(line["id"], acme.to_string());
    assert_eq!(line["company"], "Acme");
    assert_eq!(line["status"], "active");
    assert_eq!(line["progress"], serde_json::json!({ "completed": 0, "total": 6, "percent": 0 }));
    assert_eq!(line["owner"], serde_json::json!({ "id": sam.to_string(), "name": "Sam Staff" }));
    assert_eq!(line["goal_date"], "2027-01-15");
    assert_eq!(line["overdue_tasks"], 1);
    let (_, mine) = api_get(&portal, &token, &format!("/api/v1/projects?owner={sam}&q=ACME")).await;
    assert_eq!(mine["projects"].as_array().unwrap().len(), 1);

    // Two at a time through the drafts: every one once, in name order.
    let mut seen = Vec::new();
    let mut path = "/api/v1/projects?status=draft&limit=2".to_owned();
    loop {
        let (status, page) = api_get(&portal, &token, &path).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["projects"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned()),
        );
        match page["next"].as_str() {
            Some(cursor) => path = format!("/api/v1/projects?status=draft&limit=2&after={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, drafts);

    for bad in ["status=live", "owner=x", "after=junk", "limit=0", "limit=201"] {
        let (status, body) = api_get(&portal, &token, &format!("/api/v1/projects?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body["error"].is_string(), "{body}");
    }
    let anonymous = portal.app.get("/api/v1/projects").await;
    assert_eq!(anonymous.status(), 401);
}

#[tokio::test]
async fn the_api_moves_a_project_through_its_lifecycle_and_says_why_not() {
    let mut portal = spawn_portal().await;
    let token = api_token(&portal, "zapier").await;
    let mut setup = Setup::active("Acme onboarding", "Acme", &[(DANA, ProjectRole::CustomerAdmin)]);
    setup.status = ProjectStatus::Draft;
    let acme = portal.project(setup).await;
    portal
        .exec("UPDATE memberships SET invite = 'now', created_at = $1", Utc::now(), None)
        .await;
    let id = acme.to_string();

    let (status, body) = api_status(&portal, &token, &id, serde_json::json!({ "to": "active" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({ "project_id": id, "from": "draft", "status": "active", "changed": true })
    );
    assert_eq!(portal.deliver().await, 1, "the waiting member is invited");
    let changes = status_changes(&portal, acme).await;
    assert_eq!(
        (changes[0].entry.source.as_str(), &changes[0].entry.actor),
        ("api:zapier", &Actor::System)
    );

    let (status, body) = api_status(&portal, &token, &id, serde_json::json!({ "to": "active" })).await;
    assert_eq!((status, &body["changed"]), (200, &Value::Bool(false)), "a retry changes nothing");

    let (status, body) = api_status(&portal, &token, &id, serde_json::json!({ "to": "completed" })).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("6 tasks open"), "{body}");
    assert_eq!(status_of(&portal, acme).await, ProjectStatus::Active);
    assert_eq!(status_changes(&portal, acme).await.len(), 1);

    let (status, _) = api_status(&portal, &token, &id, serde_json::json!({ "to": "draft" })).await;
    assert_eq!(status, 422, "back to draft is not a step");
    let (status, _) = api_status(&portal, &token, &id, serde_json::json!({ "to": "live" })).await;
    assert_eq!(status, 400);
    let (status, _) = api_status(
        &portal,
        &token,
        &ProjectId::new().to_string(),
        serde_json::json!({ "to": "active" }),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = api_status(&portal, &token, "nope", serde_json::json!({ "to": "active" })).await;
    assert_eq!(status, 400);
}
