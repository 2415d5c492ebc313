//! The portal's project pages: the list, one project with its filters, a task's page
//! and completing a task — each scoped to the signed-in customer's own projects and to
//! customer-visible tasks. Over HTTP, on SQLite or PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::portal_support;

use handoff::domain::people::ProjectRole;
use handoff::domain::{ProjectId, ProjectStatus};
use portal_support::{DANA, OMAR, Portal, Setup, VERA, ZOE, spawn_portal};

/// Acme's project with Dana (admin), Omar (member) and Vera (viewer); Globex's with Zoe.
async fn two_companies(portal: &mut Portal) -> (ProjectId, ProjectId) {
    let projects = portal.two_companies().await;
    portal.deliver().await;
    projects
}

async fn writebacks(portal: &Portal) -> i64 {
    portal.count("SELECT COUNT(*) FROM outbox WHERE kind = 'writeback'").await
}

async fn task_status(portal: &Portal, project: ProjectId, key: &str) -> String {
    let details = portal.app.store().project_details(project).await.unwrap().unwrap();
    details.task_by_key(key).unwrap().status.as_str().to_owned()
}

#[tokio::test]
async fn the_list_shows_only_the_customer_s_visible_projects_self_service_first() {
    let mut portal = spawn_portal().await;
    let (acme, globex) = two_companies(&mut portal).await;
    let training = portal
        .project(Setup {
            self_service: true,
            ..Setup::active("Product training", "Acme", &[(DANA, ProjectRole::CustomerMember)])
        })
        .await;
    let draft = portal
        .project(Setup {
            status: ProjectStatus::Draft,
            ..Setup::active("Acme expansion (draft)", "Acme", &[(DANA, ProjectRole::CustomerAdmin)])
        })
        .await;
    let mut dana = portal.signed_in(DANA).await;

    let page = dana.get("/projects").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let at = |text: &str| page.body.find(text);
    assert!(
        at("Product training").unwrap() < at("Acme onboarding").unwrap(),
        "self-service first"
    );
    assert!(at("Globex onboarding").is_none(), "another company's project");
    assert!(at("Acme expansion").is_none(), "a draft");
    assert!(page.body.contains(&format!(r#"href="/projects/{training}""#)));
    assert!(
        page.body.contains("2026-11-23") && page.body.contains("2027-01-15"),
        "start and goal dates"
    );
    assert!(page.body.contains("0% complete"));
    assert!(page.body.contains("Self-service"));

    assert_eq!(dana.get(&format!("/projects/{draft}")).await.status, 404, "a draft is not found");
    assert_eq!(dana.get(&format!("/projects/{globex}")).await.status, 404);
    assert_eq!(dana.get(&format!("/projects/{acme}")).await.status, 200);
}

#[tokio::test]
async fn the_project_view_shows_progress_welcome_next_task_and_only_customer_visible_tasks() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    let page = dana.get(&format!("/projects/{acme}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = &page.body;
    for shown in [
        "Acme onboarding",
        "Welcome to Acme onboarding!",
        "We start on Monday.",
        "Getting started",
        "Setup",
        "Sign the contract",
        "Kickoff meeting",
        "Invite your team",
        "Company profile",
        "0% complete",
    ] {
        assert!(body.contains(shown), "{shown} missing in {body}");
    }
    for hidden in ["Internal preparation", "Secret risk review", "internal-prep", "secret-review"] {
        assert!(!body.contains(hidden), "{hidden} shown to a customer");
    }
    // Next task: the first open customer task.
    let next = &body[body.find(r#"id="next""#).unwrap()..body.find(r#"id="plan""#).unwrap()];
    assert!(next.contains("Sign the contract"), "{next}");
    assert_eq!(body.matches(r#"id="task-sign-contract""#).count(), 1, "ids stay unique");
    assert!(body.contains("Blocked"), "invite-team waits for sign-contract");
    assert!(body.contains("Welcome</h2>"));
}

#[tokio::test]
async fn filters_show_all_my_or_company_tasks() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let dana_id = portal.user_id(DANA).await;
    portal
        .exec(
            "UPDATE tasks SET assignee_id = $2 WHERE key = 'company-profile' AND completed_at IS NULL AND $1 IS NOT NULL",
            chrono::Utc::now(),
            Some(dana_id.as_uuid()),
        )
        .await;
    let mut dana = portal.signed_in(DANA).await;

    let all = dana.get(&format!("/projects/{acme}?filter=all")).await.body;
    assert!(all.contains("Kickoff meeting") && all.contains("Sign the contract") && all.contains("Company profile"));
    assert!(all.contains(r#"aria-current="page">All tasks"#), "{all}");

    let mine = dana.get(&format!("/projects/{acme}?filter=mine")).await.body;
    let plan = &mine[mine.find(r#"id="plan""#).unwrap()..];
    assert!(plan.contains("Company profile") && plan.contains("Assigned to you"), "{plan}");
    assert!(!plan.contains("Sign the contract") && !plan.contains("Kickoff meeting"), "{plan}");
    assert!(mine.contains(r#"aria-current="page">My tasks"#));

    let company = dana.get(&format!("/projects/{acme}?filter=company")).await.body;
    let plan = &company[company.find(r#"id="plan""#).unwrap()..];
    assert!(plan.contains("Sign the contract") && plan.contains("Invite your team"), "{plan}");
    assert!(!plan.contains("Kickoff meeting"), "the onboarding team's task: {plan}");

    let omar_mine = portal
        .signed_in(OMAR)
        .await
        .get(&format!("/projects/{acme}?filter=mine"))
        .await
        .body;
    assert!(omar_mine.contains("No tasks match this filter."), "{omar_mine}");
}

#[tokio::test]
async fn the_task_page_shows_the_description_and_internal_tasks_are_not_found() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    let page = dana.get(&format!("/projects/{acme}/tasks/sign-contract")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Sign it.\nThen tick it off."), "{}", page.body);
    assert!(page.body.contains("Getting started"));
    let blocked = dana.get(&format!("/projects/{acme}/tasks/invite-team")).await;
    assert!(blocked.body.contains("This task waits for: Sign the contract."), "{}", blocked.body);
    for missing in ["internal-prep", "secret-review", "no-such-task"] {
        let page = dana.get(&format!("/projects/{acme}/tasks/{missing}")).await;
        assert_eq!(page.status, 404, "{missing}");
        assert!(page.body.contains("Page not found"));
    }
    assert_eq!(dana.get("/projects/not-a-uuid").await.status, 404);
    assert_eq!(dana.get(&format!("/projects/{}", ProjectId::new())).await.status, 404);
}

#[tokio::test]
async fn completing_a_task_records_the_activity_and_queues_a_writeback() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let dana_id = portal.user_id(DANA).await;
    let mut dana = portal.signed_in(DANA).await;
    let page = dana.get(&format!("/projects/{acme}")).await;
    assert!(
        page.body
            .contains(&format!(r#"action="/projects/{acme}/tasks/sign-contract/complete""#)),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("/tasks/kickoff/complete"),
        "the onboarding team's task has no button"
    );
    assert!(!page.body.contains("/tasks/invite-team/complete"), "a blocked task has no button");
    let before = writebacks(&portal).await;

    let done = dana
        .post(&format!("/projects/{acme}/tasks/sign-contract/complete"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location(), format!("/projects/{acme}#task-sign-contract"));
    assert_eq!(task_status(&portal, acme, "sign-contract").await, "completed");
    let activity = portal.app.store().project_activity(acme).await.unwrap();
    let entry = activity
        .iter()
        .find(|a| a.entry.action == "task.completed")
        .expect("an activity entry");
    assert_eq!(entry.entry.source, "portal");
    assert_eq!(entry.entry.actor, handoff::domain::people::Actor::User(dana_id));
    assert!(writebacks(&portal).await > before, "a CRM writeback is queued");

    let after = dana.get(&format!("/projects/{acme}")).await.body;
    assert!(after.contains("Completed"));
    assert!(after.contains("/tasks/invite-team/complete"), "unblocked now");
}

#[tokio::test]
async fn a_post_without_the_right_form_token_is_refused_and_changes_nothing() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    let before = writebacks(&portal).await;
    let url = format!("/projects/{acme}/tasks/sign-contract/complete");
    // Another session's token is as wrong as a made-up one.
    let omar_token = portal.signed_in(OMAR).await.get(&format!("/projects/{acme}")).await.csrf();
    for form in [
        vec![],
        vec![("csrf", "")],
        vec![("csrf", "forged")],
        vec![("csrf", omar_token.as_str())],
    ] {
        let page = dana.post(&url, &form).await;
        assert_eq!(page.status, 403, "{form:?}: {}", page.body);
    }
    assert_eq!(task_status(&portal, acme, "sign-contract").await, "pending");
    assert_eq!(writebacks(&portal).await, before);
    let activity = portal.app.store().project_activity(acme).await.unwrap();
    assert!(!activity.iter().any(|a| a.entry.action == "task.completed"));

    let signed_out = portal.browser().post(&url, &[("csrf", "x")]).await;
    assert_eq!(signed_out.status, 303);
    assert_eq!(signed_out.location(), "/sign-in");
}

#[tokio::test]
async fn another_company_s_customer_gets_not_found_everywhere_and_changes_nothing() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut zoe = portal.signed_in(ZOE).await;
    let token = zoe.get("/projects").await.csrf();
    for path in [format!("/projects/{acme}"), format!("/projects/{acme}/tasks/sign-contract")] {
        let page = zoe.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(!page.body.contains("Acme"), "nothing about the project leaks: {}", page.body);
    }
    let page = zoe
        .post(&format!("/projects/{acme}/tasks/sign-contract/complete"), &[("csrf", &token)])
        .await;
    assert_eq!(page.status, 404);
    assert_eq!(task_status(&portal, acme, "sign-contract").await, "pending");
}

#[tokio::test]
async fn viewers_staff_tasks_and_blocked_tasks_cannot_be_completed() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut vera = portal.signed_in(VERA).await;
    let page = vera.get(&format!("/projects/{acme}")).await;
    assert!(!page.body.contains("/complete\""), "a viewer sees no buttons");
    let refused = vera
        .post(&format!("/projects/{acme}/tasks/sign-contract/complete"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(refused.status, 409);
    assert!(refused.body.contains("not change it"), "{}", refused.body);

    let mut dana = portal.signed_in(DANA).await;
    let token = dana.get(&format!("/projects/{acme}")).await.csrf();
    for (key, why) in [
        ("kickoff", "onboarding team completes"),
        ("invite-team", "waits for another"),
        ("company-profile", "its own page"),
    ] {
        let page = dana
            .post(&format!("/projects/{acme}/tasks/{key}/complete"), &[("csrf", &token)])
            .await;
        assert_eq!(page.status, 409, "{key}");
        assert!(page.body.contains(why), "{key}: {}", page.body);
        assert_eq!(task_status(&portal, acme, key).await, "pending");
    }
    let internal = dana
        .post(&format!("/projects/{acme}/tasks/internal-prep/complete"), &[("csrf", &token)])
        .await;
    assert_eq!(internal.status, 404);
}

#[tokio::test]
async fn a_deactivated_member_loses_the_project() {
    let mut portal = spawn_portal().await;
    let (acme, _) = two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    assert_eq!(dana.get(&format!("/projects/{acme}")).await.status, 200);
    let dana_id = portal.user_id(DANA).await;
    portal
        .exec(
            "UPDATE memberships SET status = 'deactivated' WHERE user_id = $2 AND $1 IS NOT NULL",
            chrono::Utc::now(),
            Some(dana_id.as_uuid()),
        )
        .await;
    assert_eq!(dana.get(&format!("/projects/{acme}")).await.status, 404);
    assert!(!dana.get("/projects").await.body.contains("Acme onboarding"));
}

#[tokio::test]
async fn the_home_page_leads_to_the_projects_or_to_sign_in() {
    let mut portal = spawn_portal().await;
    two_companies(&mut portal).await;
    let mut dana = portal.signed_in(DANA).await;
    assert_eq!(dana.get("/").await.location(), "/projects");
    let anonymous = portal.browser().get("/").await;
    assert_eq!(anonymous.status, 303);
    assert!(anonymous.location().starts_with("/sign-in"));
}
