//! The console sign-in link emailed to a staff member (the fallback to signing in with
//! the CRM).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::render::{STAFF_SIGN_IN_HTML, STAFF_SIGN_IN_TEXT, check_link, present, render};
use super::{MailError, OutgoingEmail};
use handoff_domain::Email;

#[derive(Debug, Clone)]
pub struct StaffSignInEmail {
    pub to: Email,
    pub to_name: Option<String>,
    pub product_name: String,
    pub sign_in_url: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct View<'a> {
    to_name: Option<&'a str>,
    product_name: &'a str,
    sign_in_url: &'a str,
    expires_at: String,
}

pub fn render_staff_sign_in(email: &StaffSignInEmail) -> Result<OutgoingEmail, MailError> {
    check_link(&email.sign_in_url)?;
    let view = View {
        to_name: present(&email.to_name),
        product_name: email.product_name.trim(),
        sign_in_url: &email.sign_in_url,
        expires_at: email.expires_at.format("%-d %B %Y, %H:%M UTC").to_string(),
    };
    let context = tera::Context::from_serialize(&view).map_err(|e| MailError::Template {
        template: STAFF_SIGN_IN_HTML,
        message: e.to_string(),
    })?;
    Ok(OutgoingEmail {
        to: email.to.clone(),
        to_name: view.to_name.map(str::to_owned),
        subject: format!("Sign in to the {} console", view.product_name),
        text: render(STAFF_SIGN_IN_TEXT, &context)?,
        html: render(STAFF_SIGN_IN_HTML, &context)?,
        message_id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_parts_carry_the_link_once_and_the_html_escapes_names() {
        let email = render_staff_sign_in(&StaffSignInEmail {
            to: Email::parse("maria@handoff.example").unwrap(),
            to_name: Some("<Maria>".into()),
            product_name: "handoff".into(),
            sign_in_url: "https://hub.example.com/console/link/tok".into(),
            expires_at: Utc::now(),
        })
        .unwrap();
        assert_eq!(email.subject, "Sign in to the handoff console");
        for part in [&email.text, &email.html] {
            assert_eq!(part.matches("https://hub.example.com/console/link/tok").count(), 1, "{part}");
        }
        assert!(email.html.contains("&lt;Maria&gt;") && !email.html.contains("<Maria>"));
    }
}
