//! Emails rendered from the templates in templates/email/, built into the binary so a
//! running handoff never depends on files next to it.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{MailError, OutgoingEmail};
use handoff_domain::Email;

/// Registered under `.html`/`.txt` names (without `.tera`) because Tera turns
/// autoescaping on by the name's suffix: `.html` is escaped, `.txt` is not.
const INVITATION_HTML: &str = "email/invitation.html";
const INVITATION_TEXT: &str = "email/invitation.txt";
pub(crate) const STAFF_SIGN_IN_HTML: &str = "email/staff_sign_in.html";
pub(crate) const STAFF_SIGN_IN_TEXT: &str = "email/staff_sign_in.txt";
pub(crate) const TASK_DIGEST_HTML: &str = "email/task_digest.html";
pub(crate) const TASK_DIGEST_TEXT: &str = "email/task_digest.txt";

static TEMPLATES: LazyLock<Result<tera::Tera, String>> = LazyLock::new(|| {
    let mut tera = tera::Tera::new();
    tera.add_raw_templates([
        (INVITATION_HTML, include_str!("../../../templates/email/invitation.html.tera")),
        (INVITATION_TEXT, include_str!("../../../templates/email/invitation.txt.tera")),
        (STAFF_SIGN_IN_HTML, include_str!("../../../templates/email/staff_sign_in.html.tera")),
        (STAFF_SIGN_IN_TEXT, include_str!("../../../templates/email/staff_sign_in.txt.tera")),
        (TASK_DIGEST_HTML, include_str!("../../../templates/email/task_digest.html.tera")),
        (TASK_DIGEST_TEXT, include_str!("../../../templates/email/task_digest.txt.tera")),
    ])
    .map_err(|e| e.to_string())?;
    Ok(tera)
});

/// Everything an invitation says. `sign_in_url` is the portal link with its single-use
/// token; the caller builds it from `server.base_url`.
#[derive(Debug, Clone)]
pub struct InvitationEmail {
    pub to: Email,
    pub to_name: Option<String>,
    pub inviter_name: Option<String>,
    pub company_name: Option<String>,
    pub project_name: String,
    pub product_name: String,
    pub sign_in_url: String,
    pub expires_at: DateTime<Utc>,
    pub welcome_message: Option<String>,
}

/// What the templates see. Names are trimmed so that a blank CRM field reads as absent.
#[derive(Serialize)]
struct InvitationView<'a> {
    to_name: Option<&'a str>,
    inviter_name: Option<&'a str>,
    company_name: Option<&'a str>,
    project_name: &'a str,
    product_name: &'a str,
    sign_in_url: &'a str,
    expires_at: String,
    /// The welcome message split on blank lines, so each paragraph becomes its own
    /// escaped `<p>` instead of HTML built from the user's text.
    welcome_paragraphs: Vec<String>,
}

/// Renders the invitation: subject "You're invited to {project}", a text and an HTML
/// part, each with the sign-in link once. No Message-ID yet: see
/// [`OutgoingEmail::with_message_id`].
pub fn render_invitation(invitation: &InvitationEmail) -> Result<OutgoingEmail, MailError> {
    check_link(&invitation.sign_in_url)?;
    let view = InvitationView {
        to_name: present(&invitation.to_name),
        inviter_name: present(&invitation.inviter_name),
        company_name: present(&invitation.company_name),
        project_name: invitation.project_name.trim(),
        product_name: invitation.product_name.trim(),
        sign_in_url: &invitation.sign_in_url,
        expires_at: invitation.expires_at.format("%-d %B %Y, %H:%M UTC").to_string(),
        welcome_paragraphs: paragraphs(invitation.welcome_message.as_deref().unwrap_or_default()),
    };
    let context = tera::Context::from_serialize(&view).map_err(|e| MailError::Template {
        template: INVITATION_HTML,
        message: e.to_string(),
    })?;
    Ok(OutgoingEmail {
        to: invitation.to.clone(),
        to_name: view.to_name.map(str::to_owned),
        subject: format!("You're invited to {}", view.project_name),
        text: render(INVITATION_TEXT, &context)?,
        html: render(INVITATION_HTML, &context)?,
        message_id: None,
    })
}

pub(crate) fn render(template: &'static str, context: &tera::Context) -> Result<String, MailError> {
    let fail = |message: String| MailError::Template { template, message };
    let tera = TEMPLATES.as_ref().map_err(|e| fail(e.clone()))?;
    tera.render(template, context).map_err(|e| fail(e.to_string()))
}

/// The link goes into an `href`: escaping stops it breaking out of the attribute, and
/// this stops a `javascript:` or relative link from ever being sent.
pub(crate) fn check_link(link: &str) -> Result<(), MailError> {
    match url::Url::parse(link) {
        Ok(url) if matches!(url.scheme(), "https" | "http") => Ok(()),
        _ => Err(MailError::InvalidMessage("the sign-in link must be an absolute http(s) URL".into())),
    }
}

pub(crate) fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Paragraphs separated by blank lines; single line breaks inside one are kept as
/// spaces, which reads the same in both parts.
fn paragraphs(message: &str) -> Vec<String> {
    let normalized = message.replace("\r\n", "\n");
    normalized
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn invitation() -> InvitationEmail {
        InvitationEmail {
            to: Email::parse("ada@customer.example").unwrap(),
            to_name: Some("Ada Lovelace".into()),
            inviter_name: Some("Grace Hopper".into()),
            company_name: Some("Analytical Engines Ltd".into()),
            project_name: "Acme onboarding".into(),
            product_name: "handoff".into(),
            sign_in_url: "https://hub.example.com/portal/invitations/tok_abc123".into(),
            expires_at: Utc.with_ymd_and_hms(2030, 3, 14, 9, 30, 0).unwrap(),
            welcome_message: Some("Welcome aboard!\n\nWe start on Monday.".into()),
        }
    }

    #[test]
    fn the_templates_compile() {
        assert!(TEMPLATES.is_ok(), "{:?}", TEMPLATES.as_ref().err());
    }

    #[test]
    fn both_parts_name_the_project_and_carry_the_link_once() {
        let email = render_invitation(&invitation()).unwrap();
        assert_eq!(email.subject, "You're invited to Acme onboarding");
        for part in [&email.text, &email.html] {
            assert_eq!(
                part.matches("https://hub.example.com/portal/invitations/tok_abc123").count(),
                1,
                "{part}"
            );
            assert!(part.contains("Grace Hopper"));
            assert!(part.contains("14 March 2030, 09:30 UTC"));
            assert!(part.contains("We start on Monday."));
        }
    }

    #[test]
    fn the_html_part_escapes_user_content_and_the_text_part_keeps_it() {
        let mut inv = invitation();
        inv.project_name = "<script>alert(1)</script>".into();
        inv.welcome_message = Some("<b>bold</b> & \"quoted\"".into());
        let email = render_invitation(&inv).unwrap();
        assert!(!email.html.contains("<script>"));
        assert!(email.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(email.html.contains("&lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot;"));
        assert!(email.text.contains("<script>alert(1)</script>"));
    }

    #[test]
    fn missing_optional_names_read_naturally() {
        let mut inv = invitation();
        inv.to_name = None;
        inv.inviter_name = Some("  ".into());
        inv.company_name = None;
        inv.welcome_message = None;
        let email = render_invitation(&inv).unwrap();
        assert!(email.text.starts_with("Hello,\n"), "{}", email.text);
        assert!(email.text.contains("You have been invited to Acme onboarding on handoff"));
        assert!(email.text.contains("ask the person who invited you"));
        assert!(!email.text.contains("Welcome message"));
        assert!(!email.html.contains("Welcome message"));
        assert_eq!(email.to_name, None);
    }

    #[test]
    fn a_link_that_is_not_http_is_refused() {
        for link in ["javascript:alert(1)", "/portal/invitations/x", ""] {
            let mut inv = invitation();
            inv.sign_in_url = link.into();
            assert!(matches!(render_invitation(&inv), Err(MailError::InvalidMessage(_))), "{link}");
        }
    }

    #[test]
    fn welcome_messages_split_on_blank_lines() {
        assert_eq!(paragraphs("a\r\nb\r\n\r\n\n\nc "), vec!["a b", "c"]);
    }
}
