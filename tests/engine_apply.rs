//! Applying workflow plans: one transaction, exactly one project per (workflow, CRM
//! record), people matched by CRM id and email, invitations only for live projects.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestDb;
use handoff::catalog::Catalog;
use handoff::domain::people::ProjectRole;
use handoff::domain::project::{ProjectSpec, plan_project};
use handoff::domain::{Email, ProjectStatus};
use handoff::engine::definition::InviteMode;
use handoff::engine::plan::{NewInvitation, Plan, PlannedCompany, PlannedPerson};
use handoff::store::Store;

fn person(id: &str, email: &str, role: ProjectRole, invite: InviteMode) -> PlannedPerson {
    PlannedPerson {
        external_id: id.into(),
        email: Email::parse(email).unwrap(),
        first_name: Some("Dana".into()),
        last_name: None,
        title: None,
        role,
        contact_role: Some("Decision Maker".into()),
        invite,
        invitation: Some(NewInvitation {
            id: uuid::Uuid::now_v7(),
            token_hash: format!("hash-{}", uuid::Uuid::now_v7()),
            sealed_token: "sealed".into(),
            expires_at: chrono::Utc::now() + chrono::Duration::days(7),
        }),
    }
}

fn plan(status: ProjectStatus, people: Vec<PlannedPerson>) -> Plan {
    let catalog = Catalog::load(&common::repo_path("templates/projects")).unwrap();
    let spec = ProjectSpec {
        name: "Acme onboarding".into(),
        template_key: "saas-onboarding".into(),
        company_id: None,
        start_date: "2026-11-23".parse().unwrap(),
        goal_date: None,
    };
    let mut project = plan_project(catalog.get("saas-onboarding").unwrap(), spec).unwrap();
    project.status = status;
    Plan {
        workflow: "salesforce-closed-won".into(),
        connection: "salesforce".into(),
        external_id: "006000000000001AAA".into(),
        project,
        company: Some(PlannedCompany {
            external_id: "001000000000001AAA".into(),
            name: "Acme Corp".into(),
        }),
        people,
        skipped: Vec::new(),
    }
}

async fn counts(store: &Store) -> handoff::store::EngineCounts {
    store.engine_counts().await.unwrap()
}

#[tokio::test]
async fn a_plan_creates_the_project_its_company_and_people_once() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let p = plan(
        ProjectStatus::Active,
        vec![person("003A", "dana@acme.example", ProjectRole::CustomerAdmin, InviteMode::Now)],
    );
    let first = store.apply_plan(&p).await.unwrap();
    assert!(first.created);
    assert_eq!((first.members_added, first.invitations), (1, 1));
    let again = store
        .apply_plan(&plan(
            ProjectStatus::Active,
            vec![person("003A", "dana@acme.example", ProjectRole::CustomerAdmin, InviteMode::Now)],
        ))
        .await
        .unwrap();
    assert_eq!((again.created, again.members_added, again.invitations), (false, 0, 0));
    assert_eq!(again.project_id, first.project_id);

    let project = store.project_details(first.project_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(project.project.company_name.as_deref(), Some("Acme Corp"));
    let members = store.project_members(first.project_id.unwrap()).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].0.contact_role.as_deref(), Some("Decision Maker"));
    assert_eq!(counts(&store).await.projects, 1);
    assert_eq!(counts(&store).await.companies, 1);
    assert_eq!(counts(&store).await.invitations, 1);
    assert_eq!(counts(&store).await.outbox_emails, 1);
}

#[tokio::test]
async fn concurrent_applies_of_one_plan_make_exactly_one_project() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let p = plan(
                ProjectStatus::Draft,
                vec![person("003A", "dana@acme.example", ProjectRole::CustomerAdmin, InviteMode::Now)],
            );
            tokio::spawn(async move { store.apply_plan(&p).await.unwrap() })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        created += usize::from(t.await.unwrap().created);
    }
    assert_eq!(created, 1);
    assert_eq!(counts(&store).await.projects, 1);
    assert_eq!(counts(&store).await.memberships, 1);
    assert_eq!(counts(&store).await.users, 1);
}

#[tokio::test]
async fn a_draft_sends_no_invitations_but_remembers_who_to_invite() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let p = plan(
        ProjectStatus::Draft,
        vec![person("003A", "dana@acme.example", ProjectRole::CustomerAdmin, InviteMode::Now)],
    );
    let applied = store.apply_plan(&p).await.unwrap();
    assert_eq!((applied.members_added, applied.invitations), (1, 0));
    assert_eq!(counts(&store).await.outbox_emails, 0);
    assert_eq!(counts(&store).await.awaiting_invitation, 1);
}

#[tokio::test]
async fn a_contact_matches_an_existing_user_by_email_and_silent_members_get_no_email() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let existing = handoff::store::NewUser::new(
        handoff::domain::people::UserKind::Customer,
        Email::parse("Sam@Acme.example").unwrap(),
    );
    store.upsert_user(&existing).await.unwrap();
    let p = plan(
        ProjectStatus::Active,
        vec![person(
            "003B",
            "sam@acme.example",
            ProjectRole::CustomerMember,
            InviteMode::Silently,
        )],
    );
    let applied = store.apply_plan(&p).await.unwrap();
    assert_eq!((applied.members_added, applied.invitations), (1, 0));
    assert_eq!(counts(&store).await.users, 1, "matched by email, not duplicated");
}

#[tokio::test]
async fn a_later_change_updates_the_mapped_name_of_the_same_project() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let first = store.apply_plan(&plan(ProjectStatus::Draft, vec![])).await.unwrap();
    let mut renamed = plan(ProjectStatus::Draft, vec![]);
    renamed.project.name = "Acme Corp onboarding (renewal)".into();
    let second = store.apply_plan(&renamed).await.unwrap();
    assert_eq!(second.project_id, first.project_id);
    let project = store.project_details(first.project_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(project.project.name, "Acme Corp onboarding (renewal)");
}
