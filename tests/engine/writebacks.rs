//! CRM writebacks end to end against both sandboxes with the shipped workflows: a won
//! deal becomes a project, its status and link reach the CRM, task completions reach it
//! as progress and as one completed activity per finished phase — batched, coalesced,
//! retried through the sandboxes' faults, never written twice, dead-lettered with the
//! CRM's own words when it refuses.
//!
//! The app state is built without serving, so no background worker races the test's
//! own calls to the delivery function.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::TestDb;
use handoff::app::AppState;
use handoff::config::ConnectionConfig;
use handoff::config::connections::{CrmSettings, HubspotAuth, HubspotSettings, SalesforceAuth, SalesforceSettings};
use handoff::domain::ProjectId;
use handoff::domain::change::{ChangeSource, ObjectKind};
use handoff::domain::people::Actor;
use handoff::engine::outbox::writeback::{Delivered, deliver_writebacks};
use handoff::engine::run::{Planner, run_pending};
use handoff::store::sealed::Sealer;
use handoff::sync::poll::poll_once;
use sandbox_hubspot as hs;
use sandbox_salesforce as sf;
use secrecy::SecretString;
use serde_json::json;

struct World {
    sf: sf::Sandbox,
    hs: hs::Sandbox,
    state: AppState,
    db: TestDb,
}

async fn start() -> World {
    common::init_test_log();
    crm_http::install_crypto_provider();
    let sf = sf::start(sf::Config::for_tests()).await.unwrap();
    let hs = hs::start(hs::Config::for_tests()).await.unwrap();
    let db = TestDb::new().await;
    let mut config = db.config();
    config.server.base_url = "https://handoff.example.com".parse().unwrap();
    config.connections = vec![
        ConnectionConfig {
            name: "salesforce".into(),
            poll_interval: Duration::from_secs(300),
            crm: CrmSettings::Salesforce(SalesforceSettings {
                login_url: sf.base_url().parse().unwrap(),
                api_version: "67.0".into(),
                auth: SalesforceAuth::JwtBearer {
                    client_id: sf::DEFAULT_CLIENT_ID.into(),
                    username: sf::DEFAULT_USERNAME.into(),
                    private_key: SecretString::from(sf::TEST_JWT_PRIVATE_KEY_PEM),
                    client_secret: None,
                },
                organization_id: sf.organization_id().to_owned(),
                webhook_secret: SecretString::from("secret"),
            }),
        },
        ConnectionConfig {
            name: "hubspot".into(),
            poll_interval: Duration::from_secs(300),
            crm: CrmSettings::Hubspot(HubspotSettings {
                base_url: hs.base_url().parse().unwrap(),
                client_id: None,
                auth: HubspotAuth::PrivateApp {
                    token: SecretString::from("pat-sandbox-handoff"),
                },
                client_secret: Some(SecretString::from("handoff-sandbox-secret")),
                portal_id: Some(hs::Config::for_tests().portal_id),
                accept_legacy_signatures: false,
            }),
        },
    ];
    let state = AppState::build(config).await.unwrap();
    World { sf, hs, state, db }
}

impl World {
    /// Polls a connection and runs the workflows on what came in.
    async fn sync(&self, connection: &str) {
        let crm = self.state.crms.get(connection).unwrap().clone();
        poll_once(&self.state.store, crm.as_ref(), ObjectKind::Deal, ChangeSource::Poll, &mut |_| {})
            .await
            .unwrap();
        let sealer = Sealer::new(self.state.config.secrets.master_key.as_ref()).unwrap();
        let now = chrono::Utc::now();
        let planner = Planner {
            catalog: &self.state.catalog,
            sealer: Some(&sealer),
            now,
            today: now.date_naive(),
            invitation_validity: self.state.config.portal.invitation_validity,
        };
        let report = run_pending(&self.state.store, &self.state.workflows, &planner, 10_000)
            .await
            .unwrap();
        assert_eq!(report.failed, 0, "{report:?}");
    }

    async fn deliver(&self) -> Delivered {
        deliver_writebacks(
            &self.state.store,
            &self.state.crms,
            &self.state.workflows,
            &self.state.config.server.base_url,
            5000,
        )
        .await
        .unwrap()
    }

    /// Makes every pending outbox row due now, as if its backoff had passed.
    async fn time_passes(&self) {
        common::sql(&self.db, "UPDATE outbox SET next_attempt_at = created_at WHERE status = 'pending'").await;
    }

    async fn project_of(&self, workflow: &str, connection: &str, record: &str) -> ProjectId {
        self.state
            .store
            .project_for_source(workflow, connection, record)
            .await
            .unwrap()
            .expect("a project for the record")
    }

    /// A Salesforce deal won after the first sync, its project made and its first
    /// status delivered: (opportunity id, project).
    async fn won_salesforce_project(&self) -> (String, ProjectId) {
        self.sync("salesforce").await;
        let deal = win_salesforce_deal(&self.sf);
        self.sync("salesforce").await;
        self.deliver().await;
        let project = self.project_of("salesforce-closed-won", "salesforce", &deal).await;
        (deal, project)
    }

    /// Completes the tasks of the project's first phase, in order.
    async fn finish_first_phase(&self, project: ProjectId) -> String {
        let details = self.state.store.project_details(project).await.unwrap().unwrap();
        let phase = &details.phases[0];
        for task in details.tasks.iter().filter(|t| t.phase_id == phase.id) {
            self.state
                .engine
                .complete_task(project, task.key.as_str(), Actor::System, "test")
                .await
                .unwrap();
        }
        phase.name.clone()
    }

    /// Salesforce Tasks on a record with this subject.
    fn sf_tasks(&self, what: &str, subject: &str) -> usize {
        self.sf
            .ids("Task")
            .iter()
            .filter_map(|id| self.sf.record("Task", id))
            .filter(|t| t["WhatId"] == what && t["Subject"] == subject)
            .count()
    }
}

/// An open New Business opportunity moved to Closed Won; its id.
fn win_salesforce_deal(sb: &sf::Sandbox) -> String {
    let open = sb
        .ids("Opportunity")
        .into_iter()
        .find(|id| {
            let r = sb.record("Opportunity", id).unwrap();
            r["StageName"] != "Closed Won" && r["Amount"].as_f64().unwrap_or(0.0) > 0.0 && r["Type"] == "New Business"
        })
        .expect("an open New Business opportunity in the fixture");
    sb.update_record("Opportunity", &open, &[("StageName", json!("Closed Won"))])
        .unwrap();
    open
}

#[tokio::test]
async fn salesforce_gets_status_link_progress_and_one_task_per_finished_phase() {
    let w = start().await;
    w.sync("salesforce").await;
    let deal = win_salesforce_deal(&w.sf);
    w.sync("salesforce").await;
    let project = w.project_of("salesforce-closed-won", "salesforce", &deal).await;

    // Creation: the project's status and link.
    let first = w.deliver().await;
    assert_eq!((first.dead, first.retried), (0, 0), "{first:?}");
    let opp = w.sf.record("Opportunity", &deal).unwrap();
    assert_eq!(opp["Onboarding_Status__c"], "In Progress");
    assert_eq!(opp["Project_URL__c"], format!("https://handoff.example.com/projects/{project}"));

    // A phase's worth of completions: one update with the latest progress, one Task.
    let before = w.sf.requests().total();
    let phase = w.finish_first_phase(project).await;
    let delivered = w.deliver().await;
    assert_eq!(
        (delivered.dead, delivered.retried, delivered.activities_logged),
        (0, 0, 1),
        "{delivered:?}"
    );
    let details = w.state.store.project_details(project).await.unwrap().unwrap();
    let done = details.tasks.iter().filter(|t| t.completed_at.is_some()).count();
    let expected = u8::try_from(done * 100 / details.tasks.len()).unwrap();
    let opp = w.sf.record("Opportunity", &deal).unwrap();
    assert_eq!(opp["Onboarding_Progress__c"].as_f64(), Some(f64::from(expected)));
    let subject = format!("Onboarding: {phase} completed");
    assert_eq!(w.sf_tasks(&deal, &subject), 1);
    let task_id =
        w.sf.ids("Task")
            .into_iter()
            .find(|id| w.sf.record("Task", id).unwrap()["Subject"] == subject.as_str())
            .unwrap();
    let task = w.sf.record("Task", &task_id).unwrap();
    assert_eq!(task["Status"], "Completed");
    assert!(task["Description"].as_str().unwrap().contains(&format!("projects/{project}")));
    // Several completions, one fields call and one activities call (plus at most a token call).
    let calls = w.sf.requests().total() - before;
    assert!(calls <= 3, "{calls} calls for one phase of completions");

    // Delivered rows are not delivered again.
    let again = w.deliver().await;
    assert_eq!(again, Delivered::default());
    assert_eq!(w.sf_tasks(&deal, &subject), 1);
}

#[tokio::test]
async fn hubspot_gets_status_link_progress_and_one_completed_task_per_finished_phase() {
    let w = start().await;
    w.sync("hubspot").await;
    // An open deal in the default pipeline enters closedwon.
    let deal =
        w.hs.ids(hs::ObjectType::Deals)
            .into_iter()
            .find(|id| {
                let p = w.hs.record(hs::ObjectType::Deals, *id).unwrap().properties;
                p.get("dealstage").map(String::as_str) != Some("closedwon") && p.get("pipeline").map(String::as_str) == Some("default")
            })
            .expect("an open deal in the fixture");
    w.hs.update_record(hs::ObjectType::Deals, deal, &[("dealstage", "closedwon")])
        .unwrap();
    w.sync("hubspot").await;
    let project = w.project_of("hubspot-closedwon", "hubspot", &deal.to_string()).await;
    let tasks_before = w.hs.count(hs::ObjectType::Tasks);

    let phase = w.finish_first_phase(project).await;
    let delivered = w.deliver().await;
    assert_eq!((delivered.dead, delivered.retried), (0, 0), "{delivered:?}");
    let props = w.hs.record(hs::ObjectType::Deals, deal).unwrap().properties;
    assert_eq!(props["onboarding_status"], "in_progress");
    assert_eq!(
        props["onboarding_project_url"],
        format!("https://handoff.example.com/projects/{project}")
    );
    let progress: u32 = props["onboarding_progress"].parse().unwrap();
    assert!(progress > 0);
    assert_eq!(w.hs.count(hs::ObjectType::Tasks), tasks_before + 1);
    let task =
        w.hs.ids(hs::ObjectType::Tasks)
            .into_iter()
            .filter_map(|id| w.hs.record(hs::ObjectType::Tasks, id))
            .find(|t| t.properties.get("hs_task_subject").map(String::as_str) == Some(&*format!("Onboarding: {phase} completed")))
            .expect("the completed task");
    assert_eq!(task.properties["hs_task_status"], "COMPLETED");
}

#[tokio::test]
async fn many_projects_and_completions_cost_one_collection_call() {
    let w = start().await;
    // The fixture's won opportunities become projects on the first sync.
    w.sync("salesforce").await;
    w.deliver().await;
    let mut projects = Vec::new();
    for id in w.sf.ids("Opportunity") {
        if let Ok(Some(p)) = w.state.store.project_for_source("salesforce-closed-won", "salesforce", &id).await {
            projects.push(p);
        }
    }
    assert!(projects.len() >= 2, "the fixture has several won opportunities");
    let completions = projects.len() * 3;
    for p in &projects {
        let details = w.state.store.project_details(*p).await.unwrap().unwrap();
        for task in details.tasks.iter().filter(|t| t.depends_on.is_empty()).take(3) {
            w.state
                .engine
                .complete_task(*p, task.key.as_str(), Actor::System, "test")
                .await
                .unwrap();
        }
    }
    w.sf.requests().clear();
    let delivered = w.deliver().await;
    assert_eq!(delivered.dead, 0, "{delivered:?}");
    assert_eq!(delivered.records_written, projects.len());
    let patches = w.sf.requests().count("PATCH /services/data/{version}/composite/sobjects");
    assert_eq!(
        patches,
        1,
        "{completions} completions on {} records: {:?}",
        projects.len(),
        w.sf.requests().by_endpoint()
    );
}

#[tokio::test]
async fn a_server_error_is_retried_and_the_task_is_still_logged_once() {
    let w = start().await;
    let (deal, project) = w.won_salesforce_project().await;
    let phase = w.finish_first_phase(project).await;
    let subject = format!("Onboarding: {phase} completed");

    // Salesforce is down for longer than the client's own quick retries: the rows wait
    // and are retried later.
    w.sf.faults().fail_next(50, 503);
    let failed = w.deliver().await;
    assert!(failed.retried > 0, "{failed:?}");
    w.sf.faults().clear();
    w.time_passes().await;
    let retried = w.deliver().await;
    assert_eq!((retried.retried, retried.dead), (0, 0), "{retried:?}");
    assert_eq!(w.sf_tasks(&deal, &subject), 1);
    assert_eq!(
        w.state
            .store
            .outbox_counts(handoff::domain::outbox::OutboxKind::Writeback)
            .await
            .unwrap()
            .pending,
        0
    );
}

#[tokio::test]
async fn a_worker_that_dies_after_the_crm_answered_does_not_log_the_task_twice() {
    let w = start().await;
    let (deal, project) = w.won_salesforce_project().await;
    let phase = w.finish_first_phase(project).await;
    let subject = format!("Onboarding: {phase} completed");
    w.deliver().await;
    assert_eq!(w.sf_tasks(&deal, &subject), 1);

    // As if the worker had died before marking its rows done: they come back after the lease.
    common::sql(
        &w.db,
        "UPDATE outbox SET status = 'pending', done_at = NULL WHERE kind = 'writeback'",
    )
    .await;
    w.time_passes().await;
    let replay = w.deliver().await;
    assert_eq!(replay.dead, 0, "{replay:?}");
    assert_eq!(replay.activities_logged, 0, "the Task was found, not created again");
    assert_eq!(w.sf_tasks(&deal, &subject), 1);
}

#[tokio::test]
async fn a_rate_limit_defers_without_spending_attempts_and_an_expired_token_is_renewed() {
    let w = start().await;
    w.sync("hubspot").await;
    let crm_rows = w
        .state
        .store
        .outbox_counts(handoff::domain::outbox::OutboxKind::Writeback)
        .await
        .unwrap()
        .pending;
    assert!(crm_rows > 0, "the fixture's won deals queue their status");

    w.hs.faults().rate_limit_burst(1000);
    let limited = w.deliver().await;
    assert!(limited.deferred > 0 && limited.dead == 0, "{limited:?}");
    w.hs.faults().clear();
    w.hs.faults().expire_access_tokens();
    w.time_passes().await;
    let later = w.deliver().await;
    assert_eq!((later.dead, later.retried, later.deferred), (0, 0, 0), "{later:?}");
    assert_eq!(
        w.state
            .store
            .outbox_counts(handoff::domain::outbox::OutboxKind::Writeback)
            .await
            .unwrap()
            .pending,
        0
    );
}

#[tokio::test]
async fn a_refused_write_is_dead_lettered_with_the_crms_words_and_replayable() {
    let w = start().await;
    let (deal, project) = w.won_salesforce_project().await;
    // The opportunity is deleted in Salesforce before the progress reaches it.
    w.sf.delete_record("Opportunity", &deal).unwrap();
    w.state
        .engine
        .complete_task(project, first_open_task(&w, project).await.as_str(), Actor::System, "test")
        .await
        .unwrap();
    let delivered = w.deliver().await;
    assert!(delivered.dead > 0, "{delivered:?}");
    let dead = w.state.store.outbox_dead().await.unwrap();
    let entry = dead.iter().find(|d| d.kind == "writeback").expect("a dead writeback");
    let error = entry.last_error.clone().unwrap();
    assert!(error.contains(&deal) && error.contains("ENTITY_IS_DELETED"), "{error}");

    // Replayed by an operator (`handoff jobs retry ID`): the record is still gone, so it
    // fails again with the same words — nothing is dropped silently.
    w.state.store.outbox_retry(entry.id).await.unwrap();
    let replayed = w.deliver().await;
    assert_eq!(replayed.dead, 1, "{replayed:?}");
}

async fn first_open_task(w: &World, project: ProjectId) -> String {
    let details = w.state.store.project_details(project).await.unwrap().unwrap();
    details
        .tasks
        .iter()
        .find(|t| t.completed_at.is_none() && t.depends_on.is_empty())
        .map(|t| t.key.as_str().to_owned())
        .unwrap()
}
