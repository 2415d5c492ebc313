//! The Emails tab over HTTP, with emails delivered over real SMTP to the capture: all
//! open tasks, one phase's, or a reminder for one task, to chosen customer members; a
//! form posted twice (same one-time nonce) sends once; bad sends queue nothing; the
//! JSON API with an `Idempotency-Key`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use handoff::domain::ProjectId;
use handoff::domain::api_token::{ApiTokenName, NewApiToken};
use handoff::domain::outbox::OutboxKind;
use handoff::domain::people::{Actor, StaffRole};
use secrecy::ExposeSecret;

use crate::console_support::{SAM, staff_browser};
use crate::mail_support::Captured;
use crate::mail_support::mime;
use crate::portal_support::{Browser, DANA, OMAR, Page, Portal, VERA, ZOE, spawn_portal};

fn emails_path(project: ProjectId) -> String {
    format!("/console/projects/{project}/emails")
}

/// The page's form token and one-time nonce.
async fn form_keys(browser: &mut Browser, project: ProjectId) -> (String, String) {
    let page = browser.get(&emails_path(project)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let at = page.body.find(r#"name="nonce" value=""#).expect("a nonce in the form") + r#"name="nonce" value=""#.len();
    let nonce = page.body[at..at + page.body[at..].find('"').unwrap()].to_owned();
    (page.csrf(), nonce)
}

async fn send(browser: &mut Browser, project: ProjectId, keys: &(String, String), fields: &[(&str, &str)]) -> Page {
    let mut form = vec![("csrf", keys.0.as_str()), ("nonce", keys.1.as_str())];
    form.extend_from_slice(fields);
    browser.post(&emails_path(project), &form).await
}

/// Delivers the outbox and returns the messages that arrived.
async fn delivered(portal: &mut Portal) -> Vec<Captured> {
    let before = portal.smtp.messages().len();
    portal.deliver().await;
    portal.smtp.messages()[before..].to_vec()
}

fn text_of(message: &Captured) -> String {
    mime::part(&message.raw, "text/plain").expect("a text part")
}

async fn queued_emails(portal: &Portal) -> i64 {
    let counts = portal.app.store().outbox_counts(OutboxKind::Email).await.unwrap();
    counts.pending + counts.done + counts.dead
}

async fn sends_recorded(portal: &Portal, project: ProjectId) -> usize {
    let trail = portal.app.store().project_activity(project).await.unwrap();
    trail.iter().filter(|a| a.entry.action == "email.tasks_sent").count()
}

#[tokio::test]
async fn a_phase_s_open_tasks_sent_to_two_members_arrive_as_two_emails_listing_them() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    portal.deliver().await; // the invitations
    let (dana, omar) = (portal.user_id(DANA).await, portal.user_id(OMAR).await);
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let keys = form_keys(&mut staff, acme).await;
    let sent = send(
        &mut staff,
        acme,
        &keys,
        &[
            ("recipient", &dana.to_string()),
            ("recipient", &omar.to_string()),
            ("scope", "phase"),
            ("phase", "setup"),
            ("task", "sign-contract"),
        ],
    )
    .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    assert!(sent.location().contains("done=sent&n=2"), "{}", sent.location());

    let messages = delivered(&mut portal).await;
    let mut to: Vec<&str> = messages.iter().map(|m| m.rcpt_to[0].as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, [DANA, OMAR]);
    for message in &messages {
        let subject = mime::header(&message.raw, "Subject").unwrap();
        assert!(subject.contains("Setup") && subject.contains("Acme onboarding"), "{subject}");
        let text = text_of(message);
        assert!(text.contains("Invite your team") && text.contains("Company profile"), "{text}");
        assert!(
            text.contains(&format!("{}/projects/{acme}/tasks/company-profile", portal.base())),
            "{text}"
        );
        assert!(!text.contains("Sign the contract"), "another phase's task: {text}");
        assert!(!text.contains("Secret risk review"), "an internal task: {text}");
        assert!(text.contains("Sam Staff"), "the sender is named: {text}");
        let html = mime::part(&message.raw, "text/html").unwrap();
        assert!(html.contains(&format!("/projects/{acme}/tasks/invite-team")), "{html}");
    }
    assert_eq!(sends_recorded(&portal, acme).await, 1);

    let page = staff.get(&format!("{}?done=sent&n=2", emails_path(acme))).await;
    assert!(page.body.contains("2 emails are on their way."), "{}", page.body);
    assert!(
        page.body.contains("Open tasks of Setup") && page.body.contains(">Sent<"),
        "{}",
        page.body
    );
    assert_ne!(form_keys(&mut staff, acme).await.1, keys.1, "every page has a fresh nonce");
}

#[tokio::test]
async fn the_same_nonce_posted_twice_sends_one_email() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    portal.deliver().await;
    let dana = portal.user_id(DANA).await.to_string();
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let keys = form_keys(&mut staff, acme).await;
    let fields = [("recipient", dana.as_str()), ("scope", "all")];
    let first = send(&mut staff, acme, &keys, &fields).await;
    assert!(first.location().contains("done=sent&n=1"), "{} {}", first.status, first.body);
    let second = send(&mut staff, acme, &keys, &fields).await;
    assert_eq!(second.status, 303, "{}", second.body);
    assert!(second.location().contains("done=already-sent"), "{}", second.location());
    let page = staff.get(second.location()).await;
    assert!(page.body.contains("Already sent"), "{}", page.body);

    let messages = delivered(&mut portal).await;
    assert_eq!(messages.len(), 1, "one email for a double click");
    assert_eq!(sends_recorded(&portal, acme).await, 1);
}

#[tokio::test]
async fn a_reminder_names_its_one_task_and_all_open_tasks_skip_the_done_and_the_internal() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    portal.deliver().await;
    let dana = portal.user_id(DANA).await.to_string();
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;

    let keys = form_keys(&mut staff, acme).await;
    let reminder = send(
        &mut staff,
        acme,
        &keys,
        &[("recipient", &dana), ("scope", "reminder"), ("task", "sign-contract")],
    )
    .await;
    assert_eq!(reminder.status, 303, "{}", reminder.body);
    let messages = delivered(&mut portal).await;
    assert_eq!(messages.len(), 1);
    let subject = mime::header(&messages[0].raw, "Subject").unwrap();
    assert!(subject.starts_with("Reminder: Sign the contract"), "{subject}");
    let text = text_of(&messages[0]);
    assert!(
        text.contains(&format!("/projects/{acme}/tasks/sign-contract")) && !text.contains("Company profile"),
        "{text}"
    );

    portal
        .app
        .state
        .engine
        .complete_task(acme, "sign-contract", Actor::System, "test")
        .await
        .unwrap();
    let keys = form_keys(&mut staff, acme).await;
    let all = send(&mut staff, acme, &keys, &[("recipient", &dana), ("scope", "all")]).await;
    assert_eq!(all.status, 303, "{}", all.body);
    let messages = delivered(&mut portal).await;
    let text = text_of(&messages[0]);
    for open in ["Kickoff meeting", "Invite your team", "Company profile"] {
        assert!(text.contains(open), "{open}: {text}");
    }
    for left_out in ["Sign the contract", "Internal preparation", "Secret risk review"] {
        assert!(!text.contains(left_out), "{left_out}: {text}");
    }
    // A reminder for the task done now is refused.
    let keys = form_keys(&mut staff, acme).await;
    let done = send(
        &mut staff,
        acme,
        &keys,
        &[("recipient", &dana), ("scope", "reminder"), ("task", "sign-contract")],
    )
    .await;
    assert_eq!(done.status, 409, "{}", done.body);
}

#[tokio::test]
async fn bad_sends_are_refused_and_queue_nothing() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    portal.deliver().await;
    let (dana, zoe) = (portal.user_id(DANA).await.to_string(), portal.user_id(ZOE).await.to_string());
    let sam = crate::console_support::add_staff(&portal, SAM, StaffRole::Staff).await.to_string();
    let mut staff = staff_browser(&portal, SAM, StaffRole::Staff).await;
    let before = (queued_emails(&portal).await, sends_recorded(&portal, acme).await);

    let keys = form_keys(&mut staff, acme).await;
    let cases: [(&[(&str, &str)], u16); 7] = [
        (&[("recipient", &zoe), ("scope", "all")], 409),
        (&[("recipient", &dana), ("recipient", &zoe), ("scope", "all")], 409),
        (&[("recipient", &sam), ("scope", "all")], 409),
        (&[("scope", "all")], 422),
        (&[("recipient", &dana), ("scope", "phase"), ("phase", "nope")], 409),
        (&[("recipient", &dana), ("scope", "reminder"), ("task", "secret-review")], 409),
        (&[("recipient", &dana), ("scope", "everything")], 422),
    ];
    for (fields, status) in cases {
        let page = send(&mut staff, acme, &keys, fields).await;
        assert_eq!(page.status, status, "{fields:?}: {}", page.body);
        assert!(page.body.contains("Nothing was sent."), "{}", page.body);
    }
    let bad_nonce = staff
        .post(
            &emails_path(acme),
            &[("csrf", &keys.0), ("nonce", "x"), ("recipient", &dana), ("scope", "all")],
        )
        .await;
    assert_eq!(bad_nonce.status, 409, "{}", bad_nonce.body);
    let no_token = staff
        .post(&emails_path(acme), &[("nonce", &keys.1), ("recipient", &dana), ("scope", "all")])
        .await;
    assert_eq!(no_token.status, 403);

    assert_eq!((queued_emails(&portal).await, sends_recorded(&portal, acme).await), before);
    assert!(delivered(&mut portal).await.is_empty());
    // The refused attempts did not use the nonce up.
    let ok = send(&mut staff, acme, &keys, &[("recipient", &dana), ("scope", "all")]).await;
    assert!(ok.location().contains("done=sent"), "{} {}", ok.status, ok.body);
}

#[tokio::test]
async fn the_api_sends_once_per_idempotency_key() {
    let mut portal = spawn_portal().await;
    let (acme, _) = portal.two_companies().await;
    portal.deliver().await;
    let new = NewApiToken::generate().unwrap();
    portal
        .app
        .store()
        .create_api_token(&ApiTokenName::parse("reminders").unwrap(), &new)
        .await
        .unwrap();
    let token = new.token.expose_secret().to_owned();
    let (dana, vera) = (portal.user_id(DANA).await, portal.user_id(VERA).await);
    let url = format!("{}/api/v1/projects/{acme}/emails", portal.base());
    let body = serde_json::json!({ "scope": "reminder", "task": "company-profile", "recipients": [dana, vera] });
    let client = reqwest::Client::new();
    let call = |key: Option<&'static str>| {
        let mut req = client.post(&url).bearer_auth(&token).json(&body);
        if let Some(key) = key {
            req = req.header("Idempotency-Key", key);
        }
        req.send()
    };
    let first = call(Some("reminder-2026-12-03-a")).await.unwrap();
    assert_eq!(first.status(), 202);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!((first["outcome"].as_str(), first["emails"].as_u64()), (Some("queued"), Some(2)));
    let again = call(Some("reminder-2026-12-03-a")).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.json::<serde_json::Value>().await.unwrap()["outcome"], "already_sent");
    assert_eq!(call(None).await.unwrap().status(), 400, "a key is required");

    let messages = delivered(&mut portal).await;
    assert_eq!(messages.len(), 2);
    assert!(text_of(&messages[0]).contains("Company profile"));
    let trail = portal.app.store().project_activity(acme).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|a| a.entry.action == "email.tasks_sent" && a.entry.source == "api:reminders")
    );
}
