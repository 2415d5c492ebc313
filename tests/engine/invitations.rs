//! Invitation emails leave through the outbox over real SMTP (to a capture server):
//! sent once, with a link whose token matches the stored hash; transient SMTP failures
//! are retried, permanent ones dead-lettered and replayable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;
use crate::mail_support;

use std::time::Duration;

use common::TestDb;
use handoff::config::SmtpConfig;
use handoff::domain::people::ProjectRole;
use handoff::domain::plan::{InviteMode, Removals};
use handoff::domain::plan::{Plan, PlannedCompany, PlannedPerson};
use handoff::domain::project::{ProjectSpec, plan_project};
use handoff::domain::{Email, ProjectStatus};
use handoff::engine::invite::{DEFAULT_VALIDITY, new_invitation, token_hash};
use handoff::engine::outbox::email::deliver_emails;
use handoff::engine::templates::Templates;
use handoff::mail::Mailer;
use handoff::store::Store;
use handoff::store::sealed::Sealer;
use mail_support::mime::part;
use mail_support::{Behaviour, SmtpCapture};
use secrecy::SecretString;

fn sealer(db: &TestDb) -> Sealer {
    Sealer::new(db.config().secrets.master_key.as_ref()).unwrap()
}

fn mailer(url: &str) -> Mailer {
    let config = SmtpConfig {
        url: Some(SecretString::from(url.to_owned())),
        from: "handoff <onboarding@handoff.example>".into(),
    };
    Mailer::new(&config, Duration::from_secs(10)).unwrap()
}

async fn invite_dana(store: &Store, sealer: &Sealer) {
    let catalog = Templates::load(&common::repo_path("templates/projects")).unwrap();
    let spec = ProjectSpec {
        name: "Acme onboarding".into(),
        template_key: "saas-onboarding".into(),
        company_id: None,
        start_date: "2026-11-23".parse().unwrap(),
        goal_date: None,
    };
    let mut project = plan_project(catalog.get("saas-onboarding").unwrap(), spec).unwrap();
    project.status = ProjectStatus::Active;
    let plan = Plan {
        workflow: "w".into(),
        connection: "salesforce".into(),
        external_id: "006A".into(),
        project,
        company: Some(PlannedCompany {
            external_id: "001A".into(),
            name: "Acme Corp".into(),
        }),
        people: vec![PlannedPerson {
            external_id: "003A".into(),
            email: Email::parse("dana@acme.example").unwrap(),
            first_name: Some("Dana".into()),
            last_name: Some("Whitfield".into()),
            title: None,
            role: ProjectRole::CustomerAdmin,
            contact_role: Some("Decision Maker".into()),
            invite: InviteMode::Now,
            invitation: Some(new_invitation(sealer, chrono::Utc::now(), DEFAULT_VALIDITY).unwrap()),
        }],
        skipped: vec![],
        contacts_present: vec!["003A".into()],
        removals: Removals::Report,
        staff: Vec::new(),
        custom_fields: Default::default(),
    };
    assert_eq!(handoff::engine::apply::apply_plan(store, &plan).await.unwrap().invitations, 1);
}

fn base() -> url::Url {
    "https://onboard.example.com".parse().unwrap()
}

#[tokio::test]
async fn an_invitation_is_emailed_once_with_a_link_matching_the_stored_hash() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let sealer = sealer(&db);
    invite_dana(&store, &sealer).await;
    let smtp = SmtpCapture::start().await;
    let mailer = mailer(&smtp.url());

    // The configured product name (branding) signs the email.
    let first = deliver_emails(&store, &mailer, &sealer, &base(), "Northwind Launchpad", 10)
        .await
        .unwrap();
    assert_eq!(first.sent, 1);
    let again = deliver_emails(&store, &mailer, &sealer, &base(), "handoff", 10).await.unwrap();
    assert_eq!(again.sent, 0, "sent once");
    let messages = smtp.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].rcpt_to, ["dana@acme.example"]);

    let text = part(&messages[0].raw, "text/plain").unwrap();
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("https://onboard.example.com/invite/"))
        .expect("the sign-in link");
    let token = link.trim_start_matches("https://onboard.example.com/invite/");
    assert!(text.contains("Acme onboarding"), "{text}");
    assert!(text.contains("on Northwind Launchpad") && !text.contains("handoff"), "{text}");
    let stored = store.invitation_hashes().await.unwrap();
    assert_eq!(stored, [token_hash(token)], "the database holds only the token's hash");
}

#[tokio::test]
async fn a_transient_smtp_failure_is_retried_later() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let sealer = sealer(&db);
    invite_dana(&store, &sealer).await;
    let busy = SmtpCapture::start_with(Behaviour::RefuseRcpt("451 4.3.0 try again later")).await;
    let report = deliver_emails(&store, &mailer(&busy.url()), &sealer, &base(), "handoff", 10)
        .await
        .unwrap();
    assert_eq!((report.sent, report.retried, report.dead), (0, 1, 0));
    // Not due again until the backoff has passed.
    let smtp = SmtpCapture::start().await;
    assert_eq!(
        deliver_emails(&store, &mailer(&smtp.url()), &sealer, &base(), "handoff", 10)
            .await
            .unwrap()
            .sent,
        0
    );
    assert!(store.outbox_dead().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_and_can_be_replayed() {
    let db = TestDb::new().await;
    let store = db.store().await;
    let sealer = sealer(&db);
    invite_dana(&store, &sealer).await;
    let refusing = SmtpCapture::start_with(Behaviour::RefuseRcpt("550 5.1.1 no such user")).await;
    let report = deliver_emails(&store, &mailer(&refusing.url()), &sealer, &base(), "handoff", 10)
        .await
        .unwrap();
    assert_eq!(report.dead, 1);
    let dead = store.outbox_dead().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].last_error.as_deref().is_some_and(|e| e.contains("550")), "{dead:?}");

    store.outbox_retry(dead[0].id).await.unwrap();
    let smtp = SmtpCapture::start().await;
    assert_eq!(
        deliver_emails(&store, &mailer(&smtp.url()), &sealer, &base(), "handoff", 10)
            .await
            .unwrap()
            .sent,
        1
    );
    assert_eq!(smtp.messages().len(), 1);
}
