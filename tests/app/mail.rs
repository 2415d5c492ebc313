//! The mail module against a real SMTP conversation with the capture server in
//! tests/mail_support: what arrives, and how each kind of failure is classified.
// A panic in a test helper is a test failure, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::mail_support;

use std::time::Duration;

use chrono::{TimeZone, Utc};
use handoff::config::SmtpConfig;
use handoff::domain::Email;
use handoff::mail::{InvitationEmail, MailError, Mailer, MessageId, render_invitation};
use mail_support::mime::{header, part};
use mail_support::{Behaviour, SmtpCapture};
use secrecy::SecretString;

const LINK: &str = "https://hub.example.com/portal/invitations/9f2c1d7e8a6b4c3d2e1f0a9b8c7d6e5f?next=%2Fprojects%2F42";
const FROM: &str = "Acme Onboarding <onboarding@hub.example.com>";

fn mailer(url: &str) -> Mailer {
    mailer_with_timeout(url, Duration::from_secs(10))
}

fn mailer_with_timeout(url: &str, timeout: Duration) -> Mailer {
    let config = SmtpConfig {
        url: Some(SecretString::from(url.to_owned())),
        from: FROM.into(),
    };
    Mailer::new(&config, timeout).unwrap()
}

fn invitation() -> InvitationEmail {
    InvitationEmail {
        to: Email::parse("ada@customer.example").unwrap(),
        to_name: Some("Ada Lovelace".into()),
        inviter_name: Some("Grace Hopper".into()),
        company_name: Some("Analytical Engines".into()),
        project_name: "Acme onboarding".into(),
        product_name: "handoff".into(),
        sign_in_url: LINK.into(),
        expires_at: Utc.with_ymd_and_hms(2030, 3, 14, 9, 30, 0).unwrap(),
        welcome_message: Some("Welcome aboard!\n\nWe start on Monday.".into()),
    }
}

async fn send_to(behaviour: Behaviour) -> MailError {
    let capture = SmtpCapture::start_with(behaviour).await;
    let email = render_invitation(&invitation()).unwrap();
    let error = mailer(&capture.url()).send(&email).await.unwrap_err();
    assert!(capture.messages().is_empty(), "a refused message must not be stored");
    error
}

#[tokio::test]
async fn an_invitation_arrives_with_text_and_html_parts_headers_and_the_link() {
    let capture = SmtpCapture::start().await;
    let email = render_invitation(&invitation()).unwrap();
    mailer(&capture.url()).send(&email).await.unwrap();

    let messages = capture.messages();
    assert_eq!(messages.len(), 1);
    let message = &messages[0];
    assert_eq!(message.mail_from, "onboarding@hub.example.com");
    assert_eq!(message.rcpt_to, ["ada@customer.example"]);
    let raw = &message.raw;
    // lettre quotes display names with spaces.
    assert_eq!(header(raw, "From").unwrap(), "\"Acme Onboarding\" <onboarding@hub.example.com>");
    assert!(header(raw, "To").unwrap().contains("Ada Lovelace"));
    assert!(header(raw, "To").unwrap().contains("<ada@customer.example>"));
    assert_eq!(header(raw, "Subject").unwrap(), "You're invited to Acme onboarding");
    assert!(header(raw, "Date").is_some());
    let id = header(raw, "Message-ID").unwrap();
    assert!(id.starts_with("<handoff.") && id.ends_with("@hub.example.com>"), "{id}");
    assert!(header(raw, "Content-Type").unwrap().starts_with("multipart/alternative"));

    let text = part(raw, "text/plain").unwrap();
    let html = part(raw, "text/html").unwrap();
    assert!(text.starts_with("Hello Ada Lovelace,"), "{text}");
    assert!(html.contains("<h1") && html.contains("You're invited to Acme onboarding"));
    assert_eq!(text.matches(LINK).count(), 1, "{text}");
    // In HTML the `&`-free link appears as is, inside the one href.
    assert_eq!(html.matches(LINK).count(), 1, "{html}");
    assert!(html.contains(&format!("href=\"{LINK}\"")));
}

#[tokio::test]
async fn user_content_is_escaped_in_the_delivered_html_part() {
    let capture = SmtpCapture::start().await;
    let mut inv = invitation();
    inv.project_name = "<script>alert('x')</script>".into();
    inv.company_name = Some("Smith & \"Sons\"".into());
    mailer(&capture.url()).send(&render_invitation(&inv).unwrap()).await.unwrap();

    let raw = &capture.messages()[0].raw;
    let html = part(raw, "text/html").unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(html.contains("Smith &amp; &quot;Sons&quot;"));
    // The text part is not HTML: it says what the user wrote.
    assert!(part(raw, "text/plain").unwrap().contains("<script>alert('x')</script>"));
}

#[tokio::test]
async fn a_caller_supplied_message_id_is_used_on_every_attempt() {
    let capture = SmtpCapture::start().await;
    let mailer = mailer(&capture.url());
    let id = MessageId::parse("invitation.0192f3a4-row-17").unwrap();
    let email = render_invitation(&invitation()).unwrap().with_message_id(id);
    // A resend after a crash: the same row, so the same Message-ID.
    mailer.send(&email).await.unwrap();
    mailer.send(&email).await.unwrap();

    let ids: Vec<_> = capture.messages().iter().map(|m| header(&m.raw, "Message-ID").unwrap()).collect();
    assert_eq!(ids, ["<invitation.0192f3a4-row-17@hub.example.com>"; 2]);
}

#[tokio::test]
async fn a_550_to_the_recipient_is_permanent() {
    let error = send_to(Behaviour::RefuseRcpt("550 5.1.1 <ada@customer.example>: no such user")).await;
    assert!(matches!(error, MailError::Rejected { code: 550, .. }), "{error:?}");
    assert!(error.is_permanent());
    assert!(error.to_string().contains("no such user"), "{error}");
}

#[tokio::test]
async fn a_554_after_data_is_permanent() {
    let error = send_to(Behaviour::RefuseData("554 5.7.1 message refused by policy")).await;
    assert!(matches!(error, MailError::Rejected { code: 554, .. }), "{error:?}");
    assert!(error.is_permanent());
}

#[tokio::test]
async fn a_451_is_transient_at_rcpt_and_after_data() {
    for behaviour in [
        Behaviour::RefuseRcpt("451 4.7.1 greylisted, try again later"),
        Behaviour::RefuseData("451 4.3.0 local error in processing"),
    ] {
        let error = send_to(behaviour).await;
        assert!(matches!(error, MailError::Deferred { code: 451, .. }), "{error:?}");
        assert!(error.is_transient());
    }
}

#[tokio::test]
async fn a_refused_connection_is_transient() {
    // A port that was just free: nothing listens on it any more.
    let addr = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap()
    };
    let email = render_invitation(&invitation()).unwrap();
    let error = mailer(&format!("smtp://{addr}")).send(&email).await.unwrap_err();
    assert!(matches!(error, MailError::Connection(_)), "{error:?}");
    assert!(error.is_transient());
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_as_transient() {
    let capture = SmtpCapture::start_with(Behaviour::Silent).await;
    let email = render_invitation(&invitation()).unwrap();
    let error = mailer_with_timeout(&capture.url(), Duration::from_millis(300))
        .send(&email)
        .await
        .unwrap_err();
    assert!(matches!(error, MailError::Timeout(_)), "{error:?}");
    assert!(error.is_transient());
}

#[tokio::test]
async fn required_starttls_that_the_server_does_not_offer_fails_before_any_data_is_sent() {
    let capture = SmtpCapture::start().await;
    let email = render_invitation(&invitation()).unwrap();
    let url = format!("smtp://127.0.0.1:{}?tls=required", capture.addr().port());
    let error = mailer(&url).send(&email).await.unwrap_err();
    assert!(error.is_transient(), "{error:?}");
    assert!(capture.messages().is_empty());
}

#[tokio::test]
async fn credentials_from_the_url_are_used_for_auth() {
    let capture = SmtpCapture::start().await;
    let url = format!("smtp://mailer%40hub.example.com:s3cr%40t@{}", capture.addr());
    mailer(&url).send(&render_invitation(&invitation()).unwrap()).await.unwrap();
    assert_eq!(capture.messages()[0].auth_user.as_deref(), Some("mailer@hub.example.com"));
}

#[tokio::test]
async fn the_smtp_password_never_appears_in_the_mailer_or_its_errors() {
    let password = "hunter2-very-secret";
    let capture = SmtpCapture::start_with(Behaviour::RefuseAuth("535 5.7.8 authentication credentials invalid")).await;
    let mailer = mailer(&format!("smtp://robot:{password}@{}", capture.addr()));
    for shown in [format!("{mailer:?}"), mailer.to_string()] {
        assert!(!shown.contains(password), "{shown}");
    }

    let error = mailer.send(&render_invitation(&invitation()).unwrap()).await.unwrap_err();
    assert!(matches!(error, MailError::Authentication { code: 535, .. }), "{error:?}");
    // Wrong credentials are fixed in the configuration, then the same email can go.
    assert!(error.is_transient());
    for shown in [format!("{error:?}"), error.to_string()] {
        assert!(!shown.contains(password), "{shown}");
    }

    let invalid = SmtpConfig {
        url: Some(SecretString::from(format!(
            "smtp://robot:{password}@mail.example.com?tls=sometimes"
        ))),
        from: FROM.into(),
    };
    let error = Mailer::new(&invalid, Duration::from_secs(1)).unwrap_err();
    for shown in [format!("{error:?}"), error.to_string()] {
        assert!(!shown.contains(password), "{shown}");
    }
}

#[tokio::test]
async fn a_mailer_needs_an_smtp_url_and_a_valid_from() {
    let missing = SmtpConfig {
        url: None,
        from: FROM.into(),
    };
    assert!(matches!(
        Mailer::new(&missing, Duration::from_secs(1)),
        Err(MailError::NotConfigured)
    ));
    let bad_from = SmtpConfig {
        url: Some(SecretString::from("smtp://127.0.0.1:2525".to_owned())),
        from: "not an address".into(),
    };
    assert!(matches!(
        Mailer::new(&bad_from, Duration::from_secs(1)),
        Err(MailError::InvalidFrom { .. })
    ));
}

#[tokio::test]
async fn tls_mailers_are_built_with_the_ring_provider_and_the_system_trust_store() {
    use handoff::mail::Security;
    let config = |url: &str| SmtpConfig {
        url: Some(SecretString::from(url.to_owned())),
        from: FROM.into(),
    };
    let starttls = Mailer::new(&config("smtp://user:pw@mail.example.com"), Duration::from_secs(5)).unwrap();
    assert_eq!(starttls.security(), Security::StartTls);
    let smtps = Mailer::new(&config("smtps://mail.example.com"), Duration::from_secs(5)).unwrap();
    assert_eq!(smtps.security(), Security::ImplicitTls);
    assert_eq!(smtps.to_string(), "smtp mail.example.com:465 (tls)");
}
