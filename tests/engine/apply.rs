//! Applying workflow plans: one transaction, exactly one project per (workflow, CRM
//! record), people matched by CRM id and email, invitations only for live projects.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestDb;
use handoff::domain::people::ProjectRole;
use handoff::domain::plan::{InviteMode, Removals};
use handoff::domain::plan::{NewInvitation, Plan, PlannedCompany, PlannedPerson};
use handoff::domain::project::{ProjectSpec, plan_project};
use handoff::domain::{Email, ProjectStatus};
use handoff::engine::templates::Templates;
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
    let catalog = Templates::load(&common::repo_path("templates/projects")).unwrap();
    let spec = ProjectSpec {
        name: "Acme onboarding".into(),
        template_key: "saas-onboarding".into(),
        company_id: None,
        start_date: "2026-11-23".parse().unwrap(),
        goal_date: None,
    };
    let mut project = plan_project(catalog.get("saas-onboarding").unwrap(), spec).unwrap();
    project.status = status;
    let present = people.iter().map(|p| p.external_id.clone()).collect();
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
        contacts_present: present,
        removals: Removals::Report,
        staff: Vec::new(),
        custom_fields: Default::default(),
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
    let first = handoff::engine::apply::apply_plan(&store, &p).await.unwrap();
    assert!(first.created);
    assert_eq!((first.members_added, first.invitations), (1, 1));
    let again = handoff::engine::apply::apply_plan(
        &store,
        &plan(
            ProjectStatus::Active,
            vec![person("003A", "dana@acme.example", ProjectRole::CustomerAdmin, InviteMode::Now)],
        ),
    )
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
            tokio::spawn(async move { handoff::engine::apply::apply_plan(&store, &p).await.unwrap() })
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
    let applied = handoff::engine::apply::apply_plan(&store, &p).await.unwrap();
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
    let applied = handoff::engine::apply::apply_plan(&store, &p).await.unwrap();
    assert_eq!((applied.members_added, applied.invitations), (1, 0));
    assert_eq!(counts(&store).await.users, 1, "matched by email, not duplicated");
}

#[tokio::test]
async fn a_later_change_updates_the_mapped_name_of_the_same_project() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let first = handoff::engine::apply::apply_plan(&store, &plan(ProjectStatus::Draft, vec![]))
        .await
        .unwrap();
    let mut renamed = plan(ProjectStatus::Draft, vec![]);
    renamed.project.name = "Acme Corp onboarding (renewal)".into();
    let second = handoff::engine::apply::apply_plan(&store, &renamed).await.unwrap();
    assert_eq!(second.project_id, first.project_id);
    let project = store.project_details(first.project_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(project.project.name, "Acme Corp onboarding (renewal)");
}

/// The project's members as (email, role, CRM role, active).
async fn members(store: &Store, project: handoff::domain::ProjectId) -> Vec<(String, String, Option<String>, bool)> {
    let mut out: Vec<_> = store
        .project_members(project)
        .await
        .unwrap()
        .into_iter()
        .map(|(m, u)| {
            (
                u.email.as_str().to_owned(),
                m.role.as_str().to_owned(),
                m.contact_role,
                m.status == handoff::domain::people::MembershipStatus::Active,
            )
        })
        .collect();
    out.sort();
    out
}

async fn actions(store: &Store, project: handoff::domain::ProjectId) -> Vec<String> {
    store
        .project_activity(project)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.entry.action)
        .filter(|a| a.starts_with("member."))
        .collect()
}

#[tokio::test]
async fn role_changes_after_launch_re_role_and_removals_follow_the_workflow() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let dana = person("003A", "dana@acme.example", ProjectRole::CustomerAdmin, InviteMode::Now);
    let omar = person("003B", "omar@acme.example", ProjectRole::CustomerMember, InviteMode::Now);
    let first = plan(ProjectStatus::Active, vec![dana.clone(), omar.clone()]);
    let project = handoff::engine::apply::apply_plan(&store, &first)
        .await
        .unwrap()
        .project_id
        .unwrap();

    // In the CRM, Omar becomes the Economic Buyer (a viewer) and Dana leaves the deal.
    let mut omar_viewer = omar.clone();
    omar_viewer.role = ProjectRole::CustomerViewer;
    omar_viewer.contact_role = Some("Economic Buyer".into());
    let mut reported = plan(ProjectStatus::Active, vec![omar_viewer.clone()]);
    reported.removals = Removals::Report;
    let applied = handoff::engine::apply::apply_plan(&store, &reported).await.unwrap();
    assert_eq!(applied.members_removed, 1);
    assert_eq!(
        members(&store, project).await,
        vec![
            ("dana@acme.example".into(), "customer_admin".into(), None, true),
            (
                "omar@acme.example".into(),
                "customer_viewer".into(),
                Some("Economic Buyer".into()),
                true
            ),
        ],
        "reported, not deactivated; Dana's CRM role is gone"
    );
    // Reported once, however often the record changes again.
    assert_eq!(
        handoff::engine::apply::apply_plan(&store, &reported).await.unwrap().members_removed,
        0
    );

    // Dana is back on the deal: her CRM role returns.
    let back = plan(ProjectStatus::Active, vec![dana.clone(), omar_viewer.clone()]);
    handoff::engine::apply::apply_plan(&store, &back).await.unwrap();
    // Then Omar leaves, under a workflow that applies removals.
    let mut applying = plan(ProjectStatus::Active, vec![dana.clone()]);
    applying.removals = Removals::Apply;
    assert_eq!(
        handoff::engine::apply::apply_plan(&store, &applying).await.unwrap().members_removed,
        1
    );
    let now = members(&store, project).await;
    assert_eq!(
        now[1],
        (
            "omar@acme.example".into(),
            "customer_viewer".into(),
            Some("Economic Buyer".into()),
            false
        )
    );
    assert_eq!(now[0].2.as_deref(), Some("Decision Maker"));

    // Re-added in the CRM: reactivated, not duplicated.
    handoff::engine::apply::apply_plan(&store, &back).await.unwrap();
    assert!(members(&store, project).await.iter().all(|m| m.3));
    assert_eq!(
        actions(&store, project).await,
        vec![
            "member.added",
            "member.added",
            "member.role_changed",
            "member.removed_in_crm",
            "member.role_changed",
            "member.deactivated",
            "member.reactivated",
        ]
    );
    assert_eq!(counts(&store).await.invitations, 2, "nobody is invited twice");
}

#[tokio::test]
async fn members_waiting_for_activation_are_invited_once_when_the_project_goes_live() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let people = vec![
        person("003A", "dana@acme.example", ProjectRole::CustomerAdmin, InviteMode::Now),
        person("003B", "omar@acme.example", ProjectRole::CustomerMember, InviteMode::WhenActive),
        person("003C", "ann@acme.example", ProjectRole::CustomerViewer, InviteMode::Silently),
    ];
    let project = handoff::engine::apply::apply_plan(&store, &plan(ProjectStatus::Draft, people))
        .await
        .unwrap()
        .project_id
        .unwrap();
    assert_eq!((counts(&store).await.invitations, counts(&store).await.awaiting_invitation), (0, 2));

    let system = handoff::domain::people::Actor::System;
    let engine = crate::common::engine(&store);
    engine
        .set_project_status(project, ProjectStatus::Active, system.clone(), "test")
        .await
        .unwrap();
    let after = counts(&store).await;
    assert_eq!((after.invitations, after.outbox_emails, after.awaiting_invitation), (2, 2, 0));

    // Completed and reopened: already invited, nobody is invited again.
    crate::common::complete_every_task(&engine, &store, project).await;
    for to in [ProjectStatus::Completed, ProjectStatus::Active] {
        engine.set_project_status(project, to, system.clone(), "test").await.unwrap();
    }
    assert_eq!(counts(&store).await.invitations, 2);
}

#[tokio::test]
async fn a_dry_run_shows_what_would_happen_to_an_existing_project_and_changes_nothing() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let dana = person("003A", "dana@acme.example", ProjectRole::CustomerAdmin, InviteMode::Now);
    let omar = person("003B", "omar@acme.example", ProjectRole::CustomerMember, InviteMode::Now);
    let first = plan(ProjectStatus::Active, vec![dana.clone()]);

    // No project yet: it would be created, Dana invited.
    let preview = handoff::engine::apply::preview_plan(&store, &first).await.unwrap();
    assert!(preview.created);
    assert_eq!(preview.invited, std::slice::from_ref(&dana.email));
    assert_eq!(
        counts(&store).await,
        handoff::store::EngineCounts::default(),
        "a preview writes nothing"
    );

    let project = handoff::engine::apply::apply_plan(&store, &first)
        .await
        .unwrap()
        .project_id
        .unwrap();
    let before = counts(&store).await;

    // The record now also has Omar, and Dana's CRM role changed: the preview says so
    // about the existing project, and invites only the newcomer.
    let mut dana_promoted = dana.clone();
    dana_promoted.contact_role = Some("Economic Buyer".into());
    let second = plan(ProjectStatus::Active, vec![dana_promoted, omar.clone()]);
    let preview = handoff::engine::apply::preview_plan(&store, &second).await.unwrap();
    assert!(!preview.created);
    assert_eq!(preview.project_id, Some(project));
    assert_eq!(preview.members_added.len(), 1);
    assert_eq!(preview.invited, std::slice::from_ref(&omar.email));
    assert_eq!(preview.members_changed.len(), 1);
    assert_eq!(preview.members_changed[0].action, "member.role_changed");
    assert_eq!(
        counts(&store).await,
        before,
        "a preview of an existing project writes nothing either"
    );
}
