//! The storage suite. It runs against SQLite by default and against PostgreSQL when
//! HANDOFF_TEST_DATABASE_URL names one (see tests/common); CI runs it both ways.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use handoff::engine::EngineError;

use common::TestDb;
use handoff::domain::people::{Actor, ProjectRole, UserKind};
use handoff::domain::project::{ProjectSpec, plan_project};
use handoff::domain::{Email, ProjectId, ProjectStatus, TaskStatus};
use handoff::engine::Completion;
use handoff::engine::templates::Templates;
use handoff::store::{NewUser, Store, StoreError};

fn catalog() -> Templates {
    Templates::load(&common::repo_path("templates/projects")).unwrap()
}

async fn new_project(store: &Store, template: &str, name: &str, company: Option<&str>) -> ProjectId {
    let catalog = catalog();
    let company_id = match company {
        Some(c) => Some(store.find_or_create_company(c).await.unwrap().id),
        None => None,
    };
    let spec = ProjectSpec {
        name: name.into(),
        template_key: template.into(),
        company_id,
        start_date: "2026-11-23".parse().unwrap(),
        goal_date: None,
    };
    let planned = plan_project(catalog.get(template).unwrap(), spec).unwrap();
    store.create_project(&planned, Actor::System, "test").await.unwrap()
}

#[tokio::test]
async fn migrations_apply_once_and_then_are_a_no_op() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.config().database).await.unwrap();
    assert!(store.migrate().await.unwrap() >= 1);
    assert_eq!(store.migrate().await.unwrap(), 0);
    store.ping().await.unwrap();
}

#[tokio::test]
async fn a_project_round_trips_with_phases_tasks_dependencies_and_due_dates() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let id = new_project(&store, "saas-onboarding", "Acme onboarding", Some("Acme Corp")).await;

    let d = store.project_details(id).await.unwrap().expect("project exists");
    let template = catalog();
    let template = template.get("saas-onboarding").unwrap();
    assert_eq!(d.project.name, "Acme onboarding");
    assert_eq!(d.project.company_name.as_deref(), Some("Acme Corp"));
    assert_eq!(d.project.status, ProjectStatus::Draft);
    assert_eq!(d.phases.len(), template.phases.len());
    assert_eq!(d.tasks.len(), template.tasks().count());
    assert_eq!(d.phases[0].key.as_str(), template.phases[0].key.as_str());

    // Task order, types and dependencies survive the trip.
    let keys: Vec<_> = d.tasks.iter().map(|t| t.key.as_str().to_owned()).collect();
    let expected: Vec<_> = template.tasks().map(|t| t.key.as_str().to_owned()).collect();
    assert_eq!(keys, expected);
    let form = d.task_by_key("company-profile").unwrap();
    assert_eq!(
        form.kind,
        template.tasks().find(|t| t.key.as_str() == "company-profile").unwrap().kind
    );
    let enable_sso = d.task_by_key("enable-sso").unwrap();
    let dep_keys: Vec<_> = enable_sso
        .depends_on
        .iter()
        .map(|id| d.tasks.iter().find(|t| t.id == *id).unwrap().key.as_str())
        .collect();
    assert_eq!(dep_keys, ["provision-tenant", "sso-config"], "in project order");
    assert_eq!(form.due_date, Some("2026-11-30".parse().unwrap()));

    // Derived statuses: nothing done yet, so dependants are blocked.
    assert_eq!(d.status_of(d.task_by_key("review-deal").unwrap()), TaskStatus::Pending);
    assert_eq!(d.status_of(enable_sso), TaskStatus::Blocked);
    assert_eq!(d.progress().completed, 0);
}

#[tokio::test]
async fn an_unknown_project_is_none_not_an_error() {
    let db = TestDb::new().await;
    let store = db.store().await;
    assert!(store.project_details(ProjectId::new()).await.unwrap().is_none());
}

#[tokio::test]
async fn completing_tasks_respects_dependencies_and_is_idempotent() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let id = new_project(&store, "saas-onboarding", "Acme", None).await;

    let err = crate::common::engine(&store)
        .complete_task(id, "provision-tenant", Actor::System, "test")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, EngineError::Refused(m) if m.to_string().contains("waits for review-deal")),
        "{err}"
    );

    assert_eq!(
        crate::common::engine(&store)
            .complete_task(id, "review-deal", Actor::System, "test")
            .await
            .unwrap(),
        Completion::Completed
    );
    assert_eq!(
        crate::common::engine(&store)
            .complete_task(id, "review-deal", Actor::System, "test")
            .await
            .unwrap(),
        Completion::AlreadyCompleted
    );
    assert_eq!(
        crate::common::engine(&store)
            .complete_task(id, "provision-tenant", Actor::System, "test")
            .await
            .unwrap(),
        Completion::Completed
    );

    let d = store.project_details(id).await.unwrap().unwrap();
    assert_eq!(d.progress().completed, 2);
    assert!(d.task_by_key("review-deal").unwrap().completed_at.is_some());
    assert_eq!(
        d.status_of(d.task_by_key("sales-handoff-call").unwrap()),
        TaskStatus::Pending,
        "unblocked by review-deal"
    );

    let completions = store
        .project_activity(id)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.entry.action == "task.completed")
        .count();
    assert_eq!(completions, 2, "the repeated completion wrote no second entry");

    let missing = crate::common::engine(&store)
        .complete_task(id, "no-such-task", Actor::System, "test")
        .await
        .unwrap_err();
    assert!(matches!(missing, EngineError::Store(StoreError::NotFound { .. })), "{missing}");
    let no_project = crate::common::engine(&store)
        .complete_task(ProjectId::new(), "review-deal", Actor::System, "test")
        .await
        .unwrap_err();
    assert!(no_project.to_string().starts_with("project "), "{no_project}");

    // An archived project's tasks no longer change.
    crate::common::engine(&store)
        .set_project_status(id, ProjectStatus::Archived, Actor::System, "test")
        .await
        .unwrap();
    let archived = crate::common::engine(&store)
        .complete_task(id, "sales-handoff-call", Actor::System, "test")
        .await
        .unwrap_err();
    assert!(
        matches!(&archived, EngineError::Refused(m) if m.to_string().contains("archived")),
        "{archived}"
    );
    let d = store.project_details(id).await.unwrap().unwrap();
    assert!(d.task_by_key("sales-handoff-call").unwrap().completed_at.is_none());
}

#[tokio::test]
async fn lifecycle_changes_follow_the_allowed_transitions() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let id = new_project(&store, "implementation", "Globex rollout", None).await;

    let err = crate::common::engine(&store)
        .set_project_status(id, ProjectStatus::Completed, Actor::System, "test")
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Refused(_)), "{err}");
    assert_eq!(
        store.project_details(id).await.unwrap().unwrap().project.status,
        ProjectStatus::Draft,
        "a refused change changes nothing"
    );

    crate::common::engine(&store)
        .set_project_status(id, ProjectStatus::Active, Actor::System, "test")
        .await
        .unwrap();
    // Completed only once its work is: open tasks hold it back, and are counted.
    let open = store.project_details(id).await.unwrap().unwrap().tasks.len() as u64;
    let err = crate::common::engine(&store)
        .set_project_status(id, ProjectStatus::Completed, Actor::System, "test")
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Refused(handoff::engine::Refusal::OpenTasks { open: n }) if n == open),
        "{err}"
    );
    crate::common::complete_every_task(&crate::common::engine(&store), &store, id).await;
    crate::common::engine(&store)
        .set_project_status(id, ProjectStatus::Completed, Actor::System, "test")
        .await
        .unwrap();
    assert_eq!(
        store.project_details(id).await.unwrap().unwrap().project.status,
        ProjectStatus::Completed
    );

    let err = crate::common::engine(&store)
        .set_project_status(ProjectId::new(), ProjectStatus::Active, Actor::System, "test")
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Store(StoreError::NotFound { .. })));

    let actions: Vec<_> = store
        .project_activity(id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.entry.action)
        .collect();
    let changes: Vec<_> = actions.iter().filter(|a| !a.starts_with("task.")).collect();
    assert_eq!(changes, ["project.created", "project.status_changed", "project.status_changed"]);
}

#[tokio::test]
async fn the_project_list_shows_progress_newest_first() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let first = new_project(&store, "saas-onboarding", "First", None).await;
    let second = new_project(&store, "implementation", "Second", None).await;
    crate::common::engine(&store)
        .complete_task(first, "review-deal", Actor::System, "test")
        .await
        .unwrap();

    let list = store.list_projects().await.unwrap();
    assert_eq!(list.iter().map(|s| s.project.id).collect::<Vec<_>>(), [second, first]);
    assert_eq!(list[1].progress.completed, 1);
    assert_eq!(list[1].progress.total, 27);
}

#[tokio::test]
async fn companies_are_matched_by_name_ignoring_case() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let a = store.find_or_create_company("Acme Corp").await.unwrap();
    let b = store.find_or_create_company("  acme corp ").await.unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(store.company(a.id).await.unwrap().unwrap().name, "Acme Corp");
    assert!(store.find_or_create_company("   ").await.is_err());
}

#[tokio::test]
async fn users_are_unique_by_email_whatever_its_case() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let company = store.find_or_create_company("Acme").await.unwrap();
    let mut new = NewUser::new(UserKind::Customer, Email::parse("Ana.Silva@Acme.com").unwrap());
    new.first_name = Some("Ana".into());
    new.company_id = Some(company.id);
    let (ana, created) = store.upsert_user(&new).await.unwrap();
    assert!(created);

    let again = NewUser::new(UserKind::Customer, Email::parse("ana.silva@ACME.com").unwrap());
    let (same, created) = store.upsert_user(&again).await.unwrap();
    assert!(!created);
    assert_eq!(same.id, ana.id);
    assert_eq!(same.first_name.as_deref(), Some("Ana"), "an existing user is not overwritten");
    assert_eq!(store.user(ana.id).await.unwrap().unwrap().company_id, Some(company.id));
}

#[tokio::test]
async fn concurrent_upserts_of_one_email_make_one_user() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let email = Email::parse("race@example.com").unwrap();
    let attempts = (0..8).map(|_| {
        let store = store.clone();
        let new = NewUser::new(UserKind::Customer, email.clone());
        tokio::spawn(async move { store.upsert_user(&new).await.unwrap() })
    });
    let mut created = 0;
    let mut ids = std::collections::HashSet::new();
    for a in attempts {
        let (user, was_created) = a.await.unwrap();
        created += usize::from(was_created);
        ids.insert(user.id);
    }
    assert_eq!((created, ids.len()), (1, 1));
}

#[tokio::test]
async fn memberships_are_added_once_with_roles_that_fit_the_person() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let project = new_project(&store, "saas-onboarding", "Acme", Some("Acme")).await;
    let (staff, _) = store
        .upsert_user(&NewUser::new(UserKind::Internal, Email::parse("owner@handoff.example").unwrap()))
        .await
        .unwrap();
    let (customer, _) = store
        .upsert_user(&NewUser::new(UserKind::Customer, Email::parse("cto@acme.com").unwrap()))
        .await
        .unwrap();

    assert!(
        crate::common::engine(&store)
            .add_member(project, staff.id, ProjectRole::Owner, None, Actor::System, "test")
            .await
            .unwrap()
    );
    assert!(
        crate::common::engine(&store)
            .add_member(
                project,
                customer.id,
                ProjectRole::CustomerAdmin,
                Some("Decision Maker"),
                Actor::System,
                "test"
            )
            .await
            .unwrap()
    );
    assert!(
        !crate::common::engine(&store)
            .add_member(
                project,
                customer.id,
                ProjectRole::CustomerAdmin,
                Some("Decision Maker"),
                Actor::System,
                "test"
            )
            .await
            .unwrap()
    );

    let err = crate::common::engine(&store)
        .add_member(project, customer.id, ProjectRole::Owner, None, Actor::System, "test")
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Refused(_)), "{err}");
    let err = crate::common::engine(&store)
        .add_member(
            ProjectId::new(),
            customer.id,
            ProjectRole::CustomerMember,
            None,
            Actor::System,
            "test",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Store(StoreError::NotFound { .. })), "{err}");

    let members = store.project_members(project).await.unwrap();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0].1.id, staff.id, "staff are listed first");
    assert_eq!(members[1].0.contact_role.as_deref(), Some("Decision Maker"));
    let added = store
        .project_activity(project)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.entry.action == "member.added")
        .count();
    assert_eq!(added, 2);
}

#[tokio::test]
async fn a_database_that_cannot_be_opened_says_so() {
    let config = handoff::config::Config::with_database("postgres://nobody:secret@127.0.0.1:1/none").unwrap();
    let err = Store::connect(&config.database).await.unwrap_err().to_string();
    assert!(
        err.starts_with("cannot open the database postgres://nobody:***@127.0.0.1:1/none"),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
}

#[tokio::test]
async fn inbound_events_are_stored_once_per_dedupe_key() {
    use handoff::store::inbound::{EventSource, NewInboundEvent};
    let db = TestDb::new().await;
    let store = db.store().await;
    let event = |key: &str| NewInboundEvent {
        connection: "hs".into(),
        source: EventSource::Webhook,
        dedupe_key: key.into(),
        event_type: "deal.creation".into(),
        object_type: "deal".into(),
        external_id: "42".into(),
        occurred_at: Some(chrono::Utc::now()),
        payload: serde_json::json!({ "objectId": 42 }),
    };
    let first = store.record_inbound_events(&[event("a"), event("b")]).await.unwrap();
    assert_eq!((first.new, first.duplicates), (2, 0));
    let again = store.record_inbound_events(&[event("b"), event("c")]).await.unwrap();
    assert_eq!((again.new, again.duplicates), (1, 1));
    let pending = store.pending_inbound_events(10).await.unwrap();
    assert_eq!(pending.iter().map(|e| e.dedupe_key.as_str()).collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(pending[0].payload.0["objectId"], 42);
    // Pending events are never purged, however old.
    assert_eq!(
        store
            .purge_inbound_events(chrono::Utc::now() + chrono::Duration::days(30))
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn a_token_write_loses_to_a_newer_one() {
    let db = TestDb::new().await;
    let store = db.store().await;
    assert!(store.connection_token("hs").await.unwrap().is_none());
    assert!(store.put_connection_token("hs", "sealed-1", None, None).await.unwrap());
    assert!(
        !store.put_connection_token("hs", "sealed-x", None, None).await.unwrap(),
        "a second first write loses"
    );
    let t = store.connection_token("hs").await.unwrap().unwrap();
    assert_eq!((t.sealed.as_str(), t.version), ("sealed-1", 1));
    assert!(store.put_connection_token("hs", "sealed-2", None, Some(1)).await.unwrap());
    assert!(
        !store.put_connection_token("hs", "stale", None, Some(1)).await.unwrap(),
        "written against an old version"
    );
    assert_eq!(store.connection_token("hs").await.unwrap().unwrap().sealed, "sealed-2");
}

#[tokio::test]
async fn a_lease_has_one_holder_until_it_expires_or_is_released() {
    use chrono::Duration;
    let db = TestDb::new().await;
    let store = db.store().await;
    assert!(store.acquire_lease("refresh:hs", "node-a", Duration::seconds(30)).await.unwrap());
    assert!(!store.acquire_lease("refresh:hs", "node-b", Duration::seconds(30)).await.unwrap());
    assert!(
        store.acquire_lease("refresh:hs", "node-a", Duration::seconds(30)).await.unwrap(),
        "the holder extends it"
    );
    store.release_lease("refresh:hs", "node-b").await.unwrap();
    assert!(
        !store.acquire_lease("refresh:hs", "node-b", Duration::seconds(30)).await.unwrap(),
        "only the holder releases"
    );
    store.release_lease("refresh:hs", "node-a").await.unwrap();
    assert!(store.acquire_lease("refresh:hs", "node-b", Duration::seconds(30)).await.unwrap());
    // An expired lease is free for the taking.
    assert!(store.acquire_lease("poll:hs", "node-a", Duration::seconds(-1)).await.unwrap());
    assert!(store.acquire_lease("poll:hs", "node-b", Duration::seconds(30)).await.unwrap());
}

#[tokio::test]
async fn concurrent_lease_attempts_have_exactly_one_winner() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .acquire_lease("poll:sf", &format!("node-{i}"), chrono::Duration::seconds(30))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for a in attempts {
        winners += usize::from(a.await.unwrap());
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn poll_cursors_are_kept_per_connection_and_object() {
    let db = TestDb::new().await;
    let store = db.store().await;
    assert_eq!(store.poll_cursor("sf", "Opportunity").await.unwrap(), None);
    store
        .set_poll_cursor("sf", "Opportunity", "2026-11-23T10:00:00Z|006A")
        .await
        .unwrap();
    store
        .set_poll_cursor("sf", "Opportunity", "2026-11-23T11:00:00Z|006B")
        .await
        .unwrap();
    store.set_poll_cursor("hs", "deals", "1764000000000|77").await.unwrap();
    assert_eq!(
        store.poll_cursor("sf", "Opportunity").await.unwrap().as_deref(),
        Some("2026-11-23T11:00:00Z|006B")
    );
    assert_eq!(store.poll_cursor("hs", "deals").await.unwrap().as_deref(), Some("1764000000000|77"));
}

fn change(id: &str, modified: &str, source: handoff::domain::change::ChangeSource) -> handoff::domain::change::RecordChange {
    use handoff::domain::change::{ContactRole, ObjectKind, RecordChange};
    let mut fields = serde_json::Map::new();
    fields.insert("StageName".into(), serde_json::json!("Closed Won"));
    RecordChange {
        connection: "sf".into(),
        object: ObjectKind::Deal,
        external_id: id.into(),
        fields,
        contacts: vec![ContactRole {
            external_id: "003000000000001AAA".into(),
            email: Some("dana@acme.example".into()),
            first_name: Some("Dana".into()),
            last_name: None,
            title: None,
            roles: vec!["Decision Maker".into()],
            is_primary: true,
        }],
        company: None,
        users: Default::default(),
        company_contacts: Vec::new(),
        modified_at: modified.parse().unwrap(),
        deleted: false,
        source,
    }
}

#[tokio::test]
async fn the_same_change_by_webhook_and_by_poll_is_stored_once() {
    use handoff::domain::change::ChangeSource;
    use handoff::store::inbound::{EventSource, NewInboundEvent};
    let db = TestDb::new().await;
    let store = db.store().await;
    let inbound = NewInboundEvent {
        connection: "sf".into(),
        source: EventSource::Webhook,
        dedupe_key: "om:04l000000000001AAA".into(),
        event_type: "outbound_message".into(),
        object_type: "Opportunity".into(),
        external_id: "006A".into(),
        occurred_at: None,
        payload: serde_json::json!({}),
    };
    store.record_inbound_events(&[inbound]).await.unwrap();
    let event = store.pending_inbound_events(10).await.unwrap().remove(0);

    let by_webhook = change("006A", "2026-11-23T10:00:00Z", ChangeSource::Webhook);
    let r = store.resolve_inbound_events(&[by_webhook], &[event.id]).await.unwrap();
    assert_eq!(r.new, 1);
    assert!(store.pending_inbound_events(10).await.unwrap().is_empty(), "the event is processed");

    let by_poll = change("006A", "2026-11-23T10:00:00Z", ChangeSource::Poll);
    let later_edit = change("006A", "2026-11-23T10:05:00Z", ChangeSource::Poll);
    let r = store
        .record_poll_page("sf", "deal", &[by_poll, later_edit], "2026-11-23T10:05:00Z|006A")
        .await
        .unwrap();
    assert_eq!(
        (r.new, r.duplicates),
        (1, 1),
        "a repeated edit is a new change; the same edit is not"
    );
    assert_eq!(
        store.poll_cursor("sf", "deal").await.unwrap().as_deref(),
        Some("2026-11-23T10:05:00Z|006A")
    );

    // A contact's role changed; the deal's own stamp did not.
    let mut role_change = change("006A", "2026-11-23T10:05:00Z", ChangeSource::Poll);
    role_change.contacts[0].roles.push("Technical Buyer".into());
    let r = store
        .record_poll_page("sf", "deal", &[role_change], "2026-11-23T10:05:00Z|006A")
        .await
        .unwrap();
    assert_eq!(r.new, 1, "a role change is a change even with the same stamp");

    let pending = store.pending_record_changes(10).await.unwrap();
    assert_eq!(pending.len(), 3);
    assert_eq!(pending[0].change.0.contacts[0].roles, ["Decision Maker"]);
    assert_eq!(pending[0].change.0.source, ChangeSource::Webhook);
}

#[tokio::test]
async fn an_inbound_event_that_keeps_failing_is_set_aside() {
    use handoff::store::inbound::{EventSource, NewInboundEvent};
    let db = TestDb::new().await;
    let store = db.store().await;
    let e = NewInboundEvent {
        connection: "hs".into(),
        source: EventSource::Webhook,
        dedupe_key: "k".into(),
        event_type: "deal.creation".into(),
        object_type: "deal".into(),
        external_id: "1".into(),
        occurred_at: None,
        payload: serde_json::json!({}),
    };
    store.record_inbound_events(&[e]).await.unwrap();
    let id = store.pending_inbound_events(1).await.unwrap()[0].id;
    store.fail_inbound_event(id, "CRM unavailable", 2).await.unwrap();
    assert_eq!(store.pending_inbound_events(1).await.unwrap().len(), 1, "retried after one failure");
    store.fail_inbound_event(id, "CRM unavailable", 2).await.unwrap();
    assert!(store.pending_inbound_events(1).await.unwrap().is_empty());
    let all = store.inbound_events_for("hs").await.unwrap();
    assert_eq!((all[0].status.as_str(), all[0].attempts), ("failed", 2));
    // Handled (here: failed) events go once their retention has passed, not before.
    assert_eq!(store.purge_inbound_events(chrono::Utc::now()).await.unwrap(), 0);
    assert_eq!(
        store
            .purge_inbound_events(chrono::Utc::now() + chrono::Duration::days(8))
            .await
            .unwrap(),
        1
    );
}
