//! The record trace against the Salesforce sandbox: a deal seen open, then won, shows
//! both changes, the workflow's decision on each (the failed condition with the value
//! it saw, then the project it made), the members and invitations, and the writeback
//! queued; retention deletes old changes but keeps each record's newest.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::Utc;
use handoff::engine::trace::trace_record;
use handoff::store::Verdict;

use crate::run::{start, sync_and_run};

#[tokio::test]
async fn a_won_deal_traces_its_changes_decisions_project_and_writebacks() {
    let (sb, app) = start().await;
    sync_and_run(&app).await;
    let open = sb
        .ids("Opportunity")
        .into_iter()
        .find(|id| {
            let r = sb.record("Opportunity", id).unwrap();
            r["StageName"] != "Closed Won" && r["Amount"].as_f64().unwrap_or(0.0) > 0.0 && r["Type"] == "New Business"
        })
        .expect("an open New Business opportunity in the fixture");
    let stage = sb.record("Opportunity", &open).unwrap()["StageName"].as_str().unwrap().to_owned();

    // Seen open: the workflow did not fire, and says which condition failed.
    let trace = trace_record(app.store(), "salesforce", &open, Utc::now()).await.unwrap();
    assert_eq!(trace.changes.len(), 1);
    let seen = &trace.changes[0];
    assert!(seen.first && seen.status == "processed" && seen.source == "poll", "{seen:?}");
    let decision = &seen.decisions[0];
    assert_eq!((decision.workflow.as_str(), decision.verdict), ("salesforce-closed-won", Verdict::Skips));
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
    let stage_change = won.fields_changed.iter().find(|f| f.field == "StageName").expect("the stage changed");
    assert_eq!((stage_change.before.as_str(), stage_change.after.as_str()), (stage.as_str(), "Closed Won"));
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

    let text = handoff::cli::trace_text(&trace);
    assert!(text.contains("workflow salesforce-closed-won: fired"), "{text}");
    assert!(text.contains(&format!("StageName: {stage} → Closed Won")), "{text}");
    assert!(text.contains("did not fire — `StageName` is"), "{text}");

    // Past the retention the first change goes; the newest stays (a trigger on a field
    // becoming a value compares the next change with it), and so does a record's only one.
    let others = app.store().count_record_changes("salesforce").await.unwrap();
    let deleted = app.store().purge_record_changes(Utc::now() + chrono::Duration::days(1)).await.unwrap();
    assert_eq!(deleted, 1, "only the won deal had an older change");
    assert_eq!(app.store().count_record_changes("salesforce").await.unwrap(), others - 1);
    let trace = trace_record(app.store(), "salesforce", &open, Utc::now()).await.unwrap();
    assert_eq!(trace.changes.len(), 1);
    assert_eq!(trace.changes[0].decisions[0].verdict, Verdict::Fires);

    let unknown = trace_record(app.store(), "salesforce", "006NOSUCHRECORD", Utc::now()).await.unwrap();
    assert!(unknown.changes.is_empty() && unknown.projects.is_empty());
}
