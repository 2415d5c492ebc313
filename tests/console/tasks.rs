//! The console's Tasks tab over HTTP: staff complete, reopen, reassign (one task or
//! several at once, all or nothing) and reschedule tasks, and comment — shared with the
//! customer or as internal notes the portal never shows. Each change leaves its
//! activity entry (and a CRM writeback where one applies); bad input and forms without
//! the token change nothing. The same changes through /api/v1. SQLite or PostgreSQL
//! (`HANDOFF_TEST_DATABASE_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use handoff::domain::api_token::{ApiTokenName, NewApiToken};
use handoff::domain::people::{Actor, StaffRole};
use handoff::domain::project::ProjectDetails;
use handoff::domain::{Email, ProjectId, ProjectStatus, TaskStatus, UserId};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::console_support::{ADA, SAM, add_staff, csrf, staff_browser};
use crate::portal_support::{Browser, DANA, OMAR, Page, Portal, VERA, ZOE, spawn_portal};

struct World {
    portal: Portal,
    acme: ProjectId,
    sam: UserId,
    browser: Browser,
    token: String,
}

/// Acme's project (Dana admin, Omar member, Vera viewer; linked to a CRM deal, so
/// completions queue writebacks), Globex's with Zoe, and Sam signed in to the console.
async fn world() -> World {
    let portal = spawn_portal().await;
    let (acme, _globex) = portal.two_companies().await;
    let mut browser = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let token = csrf(&mut browser, &format!("/console/projects/{acme}/tasks")).await;
    let sam = portal
        .app
        .store()
        .staff_by_email(&Email::parse(SAM).unwrap())
        .await
        .unwrap()
        .unwrap()
        .user
        .id;
    World {
        portal,
        acme,
        sam,
        browser,
        token,
    }
}

impl World {
    fn tasks(&self) -> String {
        format!("/console/projects/{}/tasks", self.acme)
    }

    fn task(&self, key: &str) -> String {
        format!("/console/projects/{}/tasks/{key}", self.acme)
    }

    /// Posts `value` to one of a task's change forms (`status`, `assignee`, `due-date`).
    async fn change(&mut self, key: &str, what: &str, value: &str) -> Page {
        let path = format!("{}/{what}", self.task(key));
        let token = self.token.clone();
        self.browser.post(&path, &[("csrf", &token), ("value", value)]).await
    }

    async fn reassign(&mut self, keys: &[&str], assignee: &str) -> Page {
        let token = self.token.clone();
        let mut form = vec![("csrf", token.as_str()), ("assignee", assignee)];
        form.extend(keys.iter().map(|k| ("task", *k)));
        let path = format!("{}/reassign", self.tasks());
        self.browser.post(&path, &form).await
    }

    async fn details(&self) -> ProjectDetails {
        self.portal.app.store().project_details(self.acme).await.unwrap().unwrap()
    }

    async fn assignee(&self, key: &str) -> Option<UserId> {
        self.details().await.task_by_key(key).unwrap().assignee_id
    }

    /// The console's entries of the project: (action, details), oldest first, each
    /// checked to name Sam and the console.
    async fn console_entries(&self) -> Vec<(String, Value)> {
        let all = self.portal.app.store().project_activity(self.acme).await.unwrap();
        all.into_iter()
            .filter(|a| a.entry.source == "console")
            .map(|a| {
                assert_eq!(a.entry.actor, Actor::User(self.sam), "{a:?}");
                (a.entry.action, a.entry.details)
            })
            .collect()
    }

    async fn writebacks(&self) -> i64 {
        self.portal.count("SELECT COUNT(*) FROM outbox WHERE kind = 'writeback'").await
    }

    async fn user(&self, email: &str) -> UserId {
        self.portal.user_id(email).await
    }
}

fn see_other_to(page: &Page, path: &str) {
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(page.location().starts_with(path), "{} does not start with {path}", page.location());
}

#[tokio::test]
async fn the_tasks_tab_lists_every_task_by_phase_with_its_marks_and_the_bulk_form() {
    let mut w = world().await;
    let yesterday = chrono::Utc::now().date_naive() - chrono::Duration::days(1);
    let soon = chrono::Utc::now().date_naive() + chrono::Duration::days(2);
    assert_eq!(w.change("kickoff", "due-date", &yesterday.to_string()).await.status, 303);
    assert_eq!(w.change("invite-team", "due-date", &soon.to_string()).await.status, 303);
    let path = w.tasks();
    let page = w.browser.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    for text in [
        "Getting started",
        "Setup",
        "Internal preparation",
        "Secret risk review",
        "Invite your team",
        "Internal only",
    ] {
        assert!(page.body.contains(text), "{text} missing: {}", page.body);
    }
    assert!(
        page.body.contains(&format!(r#"<span class="overdue">{yesterday} (overdue)"#)),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(&format!(r#"<span class="due-soon">{soon} (due soon)"#)),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-range-select"), "{}", page.body);
    assert!(
        page.body.contains(r#"form="bulk-reassign" name="task" value="sign-contract""#),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"aria-current="page">Tasks"#), "{}", page.body);
}

#[tokio::test]
async fn completing_then_reopening_a_task_records_both_and_queues_writebacks() {
    let mut w = world().await;
    let before = w.writebacks().await;
    let done = w.change("sign-contract", "status", "completed").await;
    see_other_to(&done, &w.task("sign-contract"));
    assert_eq!(
        w.details().await.task_by_key("sign-contract").unwrap().status,
        TaskStatus::Completed
    );
    let after_completion = w.writebacks().await;
    assert!(after_completion > before, "the completion queues writebacks");

    let reopened = w.change("sign-contract", "status", "pending").await;
    see_other_to(&reopened, &w.task("sign-contract"));
    let task = w.details().await.task_by_key("sign-contract").unwrap().clone();
    assert_eq!(task.status, TaskStatus::Pending);
    assert_eq!(task.completed_at, None);
    assert!(w.writebacks().await > after_completion, "reopening queues a progress writeback");
    let progress_rows = w
        .portal
        .count("SELECT COUNT(*) FROM outbox WHERE kind = 'writeback' AND CAST(payload AS TEXT) LIKE '%progress_changed%'")
        .await;
    assert!(progress_rows >= 2, "one progress writeback for each change, {progress_rows}");

    let entries = w.console_entries().await;
    let actions: Vec<&str> = entries.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["task.completed", "task.reopened"]);
    assert_eq!(entries[1].1["task"], "sign-contract");

    // The same status again changes nothing and records nothing.
    let again = w.change("sign-contract", "status", "pending").await;
    assert_eq!(again.status, 303);
    assert_eq!(w.console_entries().await.len(), 2);
    let page = w.browser.get(again.location()).await;
    assert!(page.body.contains("The task&#39;s status was changed."), "{}", page.body);
}

#[tokio::test]
async fn a_quick_complete_from_the_list_goes_back_to_the_list_and_a_blocked_task_says_why() {
    let mut w = world().await;
    let token = w.token.clone();
    let path = format!("{}/status", w.task("invite-team"));
    let refused = w
        .browser
        .post(&path, &[("csrf", &token), ("value", "completed"), ("back", "list")])
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("waits for sign-contract"), "{}", refused.body);
    assert!(refused.body.contains("Nothing was changed."), "{}", refused.body);
    let path = format!("{}/status", w.task("kickoff"));
    let done = w
        .browser
        .post(&path, &[("csrf", &token), ("value", "completed"), ("back", "list")])
        .await;
    see_other_to(&done, &format!("{}?done=status", w.tasks()));
    assert_eq!(w.details().await.task_by_key("kickoff").unwrap().status, TaskStatus::Completed);
    assert_eq!(w.console_entries().await.len(), 1);
}

#[tokio::test]
async fn staff_give_a_task_to_a_teammate_or_to_staff_and_take_it_back() {
    let mut w = world().await;
    let omar = w.user(OMAR).await;
    let ada = add_staff(&w.portal, ADA, StaffRole::Admin).await;
    see_other_to(
        &w.change("sign-contract", "assignee", &omar.to_string()).await,
        &w.task("sign-contract"),
    );
    assert_eq!(w.assignee("sign-contract").await, Some(omar));
    see_other_to(
        &w.change("internal-prep", "assignee", &ada.to_string()).await,
        &w.task("internal-prep"),
    );
    assert_eq!(w.assignee("internal-prep").await, Some(ada));
    see_other_to(&w.change("sign-contract", "assignee", "").await, &w.task("sign-contract"));
    assert_eq!(w.assignee("sign-contract").await, None);

    let entries = w.console_entries().await;
    let actions: Vec<&str> = entries.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["task.reassigned", "task.reassigned", "task.reassigned"]);
    assert_eq!(entries[0].1["to"], json!(omar));
    assert_eq!(entries[2].1["from"], json!(omar));
    assert_eq!(entries[2].1["to"], Value::Null);
    let page = w.browser.get(&w.tasks()).await;
    assert!(page.body.contains("Ada Staff"), "{}", page.body);
}

#[tokio::test]
async fn a_due_date_is_set_and_cleared_and_one_that_does_not_parse_changes_nothing() {
    let mut w = world().await;
    see_other_to(&w.change("kickoff", "due-date", "2027-01-31").await, &w.task("kickoff"));
    assert_eq!(
        w.details().await.task_by_key("kickoff").unwrap().due_date,
        Some("2027-01-31".parse().unwrap())
    );
    let refused = w.change("kickoff", "due-date", "2027-02-30").await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("`2027-02-30` is not a date"), "{}", refused.body);
    assert_eq!(
        w.details().await.task_by_key("kickoff").unwrap().due_date,
        Some("2027-01-31".parse().unwrap())
    );
    see_other_to(&w.change("kickoff", "due-date", "").await, &w.task("kickoff"));
    assert_eq!(w.details().await.task_by_key("kickoff").unwrap().due_date, None);

    let entries = w.console_entries().await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    assert_eq!(entries[0].0, "task.due_date_changed");
    assert_eq!(entries[0].1["to"], "2027-01-31");
    assert_eq!(entries[1].1["from"], "2027-01-31");
    assert_eq!(entries[1].1["to"], Value::Null);
}

#[tokio::test]
async fn bulk_reassign_moves_three_tasks_in_one_post_with_an_entry_for_each() {
    let mut w = world().await;
    let dana = w.user(DANA).await;
    let moved = w
        .reassign(&["sign-contract", "kickoff", "company-profile"], &dana.to_string())
        .await;
    see_other_to(&moved, &format!("{}?done=reassigned&n=3", w.tasks()));
    for key in ["sign-contract", "kickoff", "company-profile"] {
        assert_eq!(w.assignee(key).await, Some(dana), "{key}");
    }
    assert_eq!(w.assignee("invite-team").await, None);
    let entries = w.console_entries().await;
    let tasks: Vec<&Value> = entries.iter().map(|(_, d)| &d["task"]).collect();
    assert_eq!(tasks, [&json!("sign-contract"), &json!("kickoff"), &json!("company-profile")]);
    assert!(entries.iter().all(|(a, d)| a == "task.reassigned" && d["to"] == json!(dana)));
    let page = w.browser.get(moved.location()).await;
    assert!(page.body.contains("3 tasks were reassigned."), "{}", page.body);
}

#[tokio::test]
async fn bulk_reassign_with_one_task_that_cannot_be_reassigned_changes_nothing() {
    let mut w = world().await;
    let dana = w.user(DANA).await;
    // Customers cannot see internal tasks, so they cannot be given one.
    let refused = w.reassign(&["sign-contract", "internal-prep", "kickoff"], &dana.to_string()).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("task `internal-prep` could not be"), "{}", refused.body);
    // The ticks are kept, to correct the choice and send again.
    assert!(
        refused
            .body
            .contains(r#"value="sign-contract" aria-label="Select Sign the contract" checked"#),
        "{}",
        refused.body
    );
    let unknown = w.reassign(&["kickoff", "no-such-task"], &dana.to_string()).await;
    assert_eq!(unknown.status, 409, "{}", unknown.body);
    assert!(unknown.body.contains("task `no-such-task` could not be"), "{}", unknown.body);
    for key in ["sign-contract", "internal-prep", "kickoff"] {
        assert_eq!(w.assignee(key).await, None, "{key} was reassigned");
    }
    assert!(w.console_entries().await.is_empty());
    let none = w.reassign(&[], &dana.to_string()).await;
    assert_eq!(none.status, 409, "{}", none.body);
    assert!(none.body.contains("Choose at least one task"), "{}", none.body);
}

#[tokio::test]
async fn assignees_from_another_project_unknown_ids_viewers_and_archived_projects_are_refused() {
    let mut w = world().await;
    let zoe = w.user(ZOE).await;
    let vera = w.user(VERA).await;
    let other = w.change("sign-contract", "assignee", &zoe.to_string()).await;
    assert_eq!(other.status, 409, "{}", other.body);
    assert!(
        other.body.contains("is not a customer admin or member of this project"),
        "{}",
        other.body
    );
    let viewer = w.change("sign-contract", "assignee", &vera.to_string()).await;
    assert_eq!(viewer.status, 409, "{}", viewer.body);
    let nobody = w.change("sign-contract", "assignee", &uuid::Uuid::now_v7().to_string()).await;
    assert_eq!(nobody.status, 409, "{}", nobody.body);
    assert!(nobody.body.contains("There is no person with the id"), "{}", nobody.body);
    let garbage = w.change("sign-contract", "assignee", "dana").await;
    assert_eq!(garbage.status, 422, "{}", garbage.body);
    let status = w.change("sign-contract", "status", "blocked").await;
    assert_eq!(status.status, 422, "{}", status.body);
    assert_eq!(w.assignee("sign-contract").await, None);
    assert_eq!(w.change("no-such-task", "status", "completed").await.status, 404);

    w.portal
        .app
        .state
        .engine
        .set_project_status(w.acme, ProjectStatus::Archived, Actor::System, "test")
        .await
        .unwrap();
    let archived = w.change("sign-contract", "status", "completed").await;
    assert_eq!(archived.status, 409, "{}", archived.body);
    assert!(archived.body.contains("archived"), "{}", archived.body);
    let due = w.change("sign-contract", "due-date", "2027-03-01").await;
    assert_eq!(due.status, 409, "{}", due.body);
    let details = w.details().await;
    let task = details.task_by_key("sign-contract").unwrap();
    assert_eq!(task.status, TaskStatus::Pending);
    assert_eq!(task.assignee_id, None);
    assert!(w.console_entries().await.is_empty());
}

#[tokio::test]
async fn an_internal_note_is_never_shown_in_the_portal_while_the_shared_comment_is() {
    let mut w = world().await;
    let token = w.token.clone();
    let comments = format!("{}/comments", w.task("sign-contract"));
    let notes = format!("{}/notes", w.task("sign-contract"));
    let shared = "Please sign by Friday, the legal team is waiting.";
    let internal = "Dana's manager is hard to reach; escalate through sales.";
    see_other_to(
        &w.browser.post(&comments, &[("csrf", &token), ("body", shared)]).await,
        &w.task("sign-contract"),
    );
    see_other_to(
        &w.browser.post(&notes, &[("csrf", &token), ("body", internal)]).await,
        &w.task("sign-contract"),
    );
    // The same note sent twice at once (a double click) is one note.
    see_other_to(
        &w.browser.post(&notes, &[("csrf", &token), ("body", internal)]).await,
        &w.task("sign-contract"),
    );
    assert_eq!(w.portal.count("SELECT COUNT(*) FROM task_comments").await, 2);

    let console = w.browser.get(&w.task("sign-contract")).await;
    assert_eq!(console.status, 200, "{}", console.body);
    let escaped = internal.replace('\'', "&#39;");
    assert!(console.body.contains(shared) && console.body.contains(&escaped), "{}", console.body);

    let mut dana = w.portal.signed_in(DANA).await;
    let portal_page = dana.get(&format!("/projects/{}/tasks/sign-contract", w.acme)).await;
    assert_eq!(portal_page.status, 200, "{}", portal_page.body);
    assert!(portal_page.body.contains(shared), "{}", portal_page.body);
    assert!(!portal_page.body.contains("hard to reach"), "{}", portal_page.body);

    let entries = w.console_entries().await;
    let actions: Vec<&str> = entries.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(actions, ["task.commented", "task.noted"]);

    // An internal task takes internal notes only.
    let path = format!("{}/comments", w.task("internal-prep"));
    let refused = w.browser.post(&path, &[("csrf", &token), ("body", "Hello customer")]).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("takes internal notes only"), "{}", refused.body);
    let empty = w.browser.post(&notes, &[("csrf", &token), ("body", "   ")]).await;
    assert_eq!(empty.status, 409, "{}", empty.body);
    assert!(empty.body.contains("Enter an internal note."), "{}", empty.body);
    let long = "x".repeat(20_000);
    let too_long = w.browser.post(&comments, &[("csrf", &token), ("body", &long)]).await;
    assert_eq!(too_long.status, 409);
    assert!(too_long.body.contains(&long), "the text is kept to send again");
    assert_eq!(w.portal.count("SELECT COUNT(*) FROM task_comments").await, 2);
}

#[tokio::test]
async fn posts_without_the_form_token_are_refused_and_change_nothing() {
    let mut w = world().await;
    let dana = w.user(DANA).await.to_string();
    let status = format!("{}/status", w.task("kickoff"));
    let reassign = format!("{}/reassign", w.tasks());
    let note = format!("{}/notes", w.task("kickoff"));
    let posts: [(&str, Vec<(&str, &str)>); 3] = [
        (&status, vec![("value", "completed")]),
        (&reassign, vec![("task", "kickoff"), ("assignee", &dana)]),
        (&note, vec![("body", "A note")]),
    ];
    for (path, form) in &posts {
        let page = w.browser.post(path, form).await;
        assert_eq!(page.status, 403, "{path}: {}", page.body);
        let mut forged = form.clone();
        forged.push(("csrf", "forged"));
        assert_eq!(w.browser.post(path, &forged).await.status, 403, "{path}");
    }
    let details = w.details().await;
    let kickoff = details.task_by_key("kickoff").unwrap();
    assert_eq!((kickoff.status, kickoff.assignee_id), (TaskStatus::Pending, None));
    assert_eq!(w.portal.count("SELECT COUNT(*) FROM task_comments").await, 0);
    assert!(w.console_entries().await.is_empty());
}

#[tokio::test]
async fn the_api_changes_status_assignee_due_date_and_comments_with_the_same_rules() {
    let w = world().await;
    let app = &w.portal.app;
    let new = NewApiToken::generate().unwrap();
    app.store()
        .create_api_token(&ApiTokenName::parse("ops").unwrap(), &new)
        .await
        .unwrap();
    let bearer = new.token.expose_secret().to_owned();
    let base = format!("{}/api/v1/projects/{}/tasks", app.base_url, w.acme);
    let post = |path: String, body: Value| {
        let request = app.client.post(format!("{base}/{path}")).bearer_auth(&bearer).json(&body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let omar = w.user(OMAR).await;
    assert_eq!(post("kickoff/status".into(), json!({"status": "completed"})).await.0, 200);
    let (code, body) = post("kickoff/status".into(), json!({"status": "completed"})).await;
    assert_eq!((code, &body["changed"]), (200, &json!(false)), "{body}");
    let (code, body) = post("sign-contract/assignee".into(), json!({"assignee": omar})).await;
    assert_eq!(code, 200, "{body}");
    let (code, body) = post("sign-contract/due-date".into(), json!({"due_date": "2027-02-30"})).await;
    assert_eq!(code, 400, "{body}");
    let (code, body) = post(
        "reassign".into(),
        json!({"tasks": ["company-profile", "secret-review"], "assignee": omar}),
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert!(body["error"].as_str().unwrap().contains("secret-review"), "{body}");
    let (code, body) = post(
        "reassign".into(),
        json!({"tasks": ["company-profile", "invite-team"], "assignee": omar}),
    )
    .await;
    assert_eq!((code, &body["reassigned"]), (200, &json!(2)), "{body}");
    assert_eq!(post("sign-contract/comments".into(), json!({"body": "Shared"})).await.0, 201);
    assert_eq!(post("sign-contract/notes".into(), json!({"body": "Staff only"})).await.0, 201);
    let listed: Value = app
        .client
        .get(format!("{base}/sign-contract/comments"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["comments"][0]["body"], "Shared", "{listed}");
    assert_eq!(listed["notes"][0]["body"], "Staff only", "{listed}");
    assert_eq!(listed["comments"].as_array().unwrap().len(), 1);

    let trail = app.store().project_activity(w.acme).await.unwrap();
    let api: Vec<&str> = trail
        .iter()
        .filter(|a| a.entry.source == "api:ops")
        .map(|a| a.entry.action.as_str())
        .collect();
    assert_eq!(
        api,
        [
            "task.completed",
            "task.reassigned",
            "task.reassigned",
            "task.reassigned",
            "task.commented",
            "task.noted"
        ]
    );
    let unauthenticated = app
        .client
        .post(format!("{base}/kickoff/status"))
        .json(&json!({"status": "pending"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthenticated.status().as_u16(), 401);
}

#[tokio::test]
async fn the_list_is_rendered_once_and_shows_every_change_made_anywhere() {
    let mut w = world().await;
    let state = w.portal.app.state.clone();
    let path = w.tasks();
    assert_eq!(w.browser.get(&path).await.status, 200);
    let renders = state.console_tasks.renders();
    for _ in 0..3 {
        assert_eq!(w.browser.get(&path).await.status, 200);
    }
    assert_eq!(state.console_tasks.renders(), renders, "an unchanged project is rendered once");

    // A quick completion from the list, through the rows' shared form.
    let token = w.token.clone();
    let done = w
        .browser
        .post(
            &format!("{}/status", w.task("sign-contract")),
            &[("csrf", &token), ("back", "list"), ("value", "completed")],
        )
        .await;
    see_other_to(&done, &path);
    assert!(!done.location().contains("/tasks/"), "back to the list: {}", done.location());
    let page = w.browser.get(&path).await;
    assert!(
        page.body.contains("Reopen<span class=\"visually-hidden\"> Sign the contract"),
        "{}",
        page.body
    );

    // A task given to a staff member who is no member of the project, who then changes
    // their name: the list follows (migration 0018), though no task changed.
    assert_eq!(w.change("kickoff", "assignee", &w.sam.to_string()).await.status, 303);
    assert!(!w.browser.get(&path).await.body.contains("Samwise Renamed"));
    let profile = handoff::domain::profile::Profile {
        first_name: "Samwise".into(),
        last_name: Some("Renamed".into()),
        timezone: None,
        title: None,
        phone: None,
    };
    assert!(state.store.update_profile(w.sam, &profile).await.unwrap());
    let page = w.browser.get(&path).await;
    assert!(page.body.contains("Samwise Renamed"), "{}", page.body);
    let renders = state.console_tasks.renders();
    w.browser.get(&path).await;
    assert_eq!(state.console_tasks.renders(), renders);
}
