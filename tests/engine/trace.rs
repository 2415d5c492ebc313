//! The record trace against the Salesforce sandbox: a deal seen open, then won, shows
//! both changes, the workflow's decision on each (the failed condition with the value
//! it saw, then the project it made), the members and invitations, and the writeback
//! queued; retention deletes old changes but keeps each record's newest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use handoff::engine::trace::trace_record;
use handoff::store::Verdict;

use crate::common::TestApp;
use crate::run::{open_new_business, start, sync_and_run};
use handoff::domain::Email;
use handoff::domain::people::StaffRole;
use handoff::store::{NewConsoleSession, NewStaff};

/// A console session cookie for a staff account made with `role`.
async fn console_cookie(app: &TestApp, email: &str, role: StaffRole) -> String {
    let new = NewStaff {
        email: Email::parse(email).unwrap(),
        first_name: Some("Test".into()),
        last_name: Some("Staff".into()),
        crm_users: Vec::new(),
        role,
    };
    let user = app.state.engine.add_staff(&new, "test").await.unwrap().user_id;
    // Shaped as the console's ids are (43 base64url characters).
    let id = format!("test{}{}", uuid::Uuid::now_v7().simple(), "x".repeat(7));
    let now = Utc::now();
    let session = NewConsoleSession {
        id_hash: &handoff::engine::invite::token_hash(&id),
        signed_in_with: "test",
        now,
        expires_at: now + chrono::Duration::hours(8),
        replacing: None,
    };
    app.store().start_console_session(user, &session).await.unwrap();
    id
}

async fn get(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let response = app
        .client
        .get(format!("{}{path}", app.base_url))
        .header("cookie", format!("handoff_console={cookie}"))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_won_deal_traces_its_changes_decisions_project_and_writebacks() {
    let (sb, app) = start().await;
    sync_and_run(&app).await;
    let open = open_new_business(&sb);
    let stage = sb.record("Opportunity", &open).unwrap()["StageName"].as_str().unwrap().to_owned();

    // Seen open: the workflow did not fire, and says which condition failed.
    let trace = trace_record(app.store(), "salesforce", &open, Utc::now()).await.unwrap();
    assert_eq!(trace.changes.len(), 1);
    let seen = &trace.changes[0];
    assert!(seen.first && seen.status == "processed" && seen.source == "poll", "{seen:?}");
    let decision = &seen.decisions[0];
    assert_eq!(
        (decision.workflow.as_str(), decision.verdict),
        ("salesforce-closed-won", Verdict::Skips)
    );
    assert_eq!(
        decision.reason.as_deref(),
        Some(format!("`StageName` is \"{stage}\", not \"Closed Won\"").as_str())
    );
    assert!(trace.projects.is_empty() && trace.writebacks.is_empty());

    sb.update_record("Opportunity", &open, &[("StageName", serde_json::json!("Closed Won"))])
        .unwrap();
    assert_eq!(sync_and_run(&app).await.projects_created, 1);
    let trace = trace_record(app.store(), "salesforce", &open, Utc::now()).await.unwrap();
    assert_eq!(trace.changes.len(), 2);
    assert_eq!(trace.changes_stored, 2);
    let won = &trace.changes[1];
    assert!(!won.first);
    let stage_change = won
        .fields_changed
        .iter()
        .find(|f| f.field == "StageName")
        .expect("the stage changed");
    assert_eq!(
        (stage_change.before.as_str(), stage_change.after.as_str()),
        (stage.as_str(), "Closed Won")
    );
    let fired = &won.decisions[0];
    assert_eq!(fired.verdict, Verdict::Fires);
    assert!(fired.project_created && fired.reason.is_none(), "{fired:?}");
    assert!(!fired.members_added.is_empty(), "the contacts joined: {fired:?}");
    assert_eq!(trace.projects.len(), 1);
    let project = &trace.projects[0];
    assert_eq!(Some(&project.project_id), fired.project_id.as_ref());
    let invited = fired.invited.len() + fired.waiting.len();
    assert_eq!(project.invitations.len(), invited, "one invitation per invited member");
    assert!(
        trace.writebacks.iter().any(|w| w.event == "status_changed" && w.state == "waiting"),
        "the project's first status waits to be written back: {:?}",
        trace.writebacks
    );

    // The console's Trace page shows the same to an admin, and only to an admin.
    let admin = console_cookie(&app, "ada@handoff.example", StaffRole::Admin).await;
    let path = format!("/console/admin/trace?connection=salesforce&record={open}");
    let (status, page) = get(&app, &path, &admin).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("This record has a project"), "{page}");
    assert!(page.contains("<strong>Workflow salesforce-closed-won</strong> fired"), "{page}");
    assert!(
        page.contains("<strong>Workflow salesforce-closed-won</strong> did not fire: `StageName` is"),
        "{page}"
    );
    assert!(page.contains("<code>StageName</code>: "), "{page}");
    assert!(page.contains("status_changed"), "the writeback is listed: {page}");
    let staff = console_cookie(&app, "sam@handoff.example", StaffRole::Staff).await;
    assert_eq!(get(&app, &path, &staff).await.0, 403, "staff cannot trace");
    let (status, page) = get(&app, "/console/admin/trace?connection=nope&record=", &admin).await;
    assert_eq!(status, 422);
    assert!(
        page.contains("There is no connection named “nope”") && page.contains("Enter the record’s id"),
        "{page}"
    );

    let text = handoff::cli::trace_text(&trace);
    assert!(text.contains("workflow salesforce-closed-won: fired"), "{text}");
    assert!(text.contains(&format!("StageName: {stage} → Closed Won")), "{text}");
    assert!(text.contains("did not fire — `StageName` is"), "{text}");

    // Past the retention the first change goes; the newest stays (a trigger on a field
    // becoming a value compares the next change with it), and so does a record's only one.
    let others = app.store().count_record_changes("salesforce").await.unwrap();
    let deleted = app
        .store()
        .purge_record_changes(Utc::now() + chrono::Duration::days(1))
        .await
        .unwrap();
    assert_eq!(deleted, 1, "only the won deal had an older change");
    assert_eq!(app.store().count_record_changes("salesforce").await.unwrap(), others - 1);
    let trace = trace_record(app.store(), "salesforce", &open, Utc::now()).await.unwrap();
    assert_eq!(trace.changes.len(), 1);
    assert_eq!(trace.changes[0].decisions[0].verdict, Verdict::Fires);

    let unknown = trace_record(app.store(), "salesforce", "006NOSUCHRECORD", Utc::now())
        .await
        .unwrap();
    assert!(unknown.changes.is_empty() && unknown.projects.is_empty());
}
