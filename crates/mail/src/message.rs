//! An email ready to send, independent of SMTP, and its conversion to MIME.

use lettre::message::{Mailbox, MultiPart};

use super::MailError;
use handoff_domain::Email;

/// A rendered email. The sender is not part of it: [`super::Mailer`] adds the configured
/// From, so every email leaves with the same, verified sender.
#[derive(Debug, Clone)]
pub struct OutgoingEmail {
    pub to: Email,
    pub to_name: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Set it from the outbox row, so a resend after a crash carries the same
    /// Message-ID and receivers drop the duplicate. Without one, a random id is used.
    pub message_id: Option<MessageId>,
}

impl OutgoingEmail {
    pub fn with_message_id(mut self, id: MessageId) -> Self {
        self.message_id = Some(id);
        self
    }
}

/// The left part of a Message-ID (`<left@domain>`); the domain is the From address's.
/// Restricted to characters that need no quoting in any header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageId(String);

impl MessageId {
    pub fn parse(left: &str) -> Result<Self, MailError> {
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_');
        let dots_ok = !left.starts_with('.') && !left.ends_with('.') && !left.contains("..");
        if left.is_empty() || left.len() > 200 || !left.chars().all(allowed) || !dots_ok {
            return Err(MailError::InvalidMessageId(left.chars().take(200).collect()));
        }
        Ok(Self(left.to_owned()))
    }

    /// An id that is stable for one outbox row: `handoff.<uuid>`.
    pub fn for_outbox_row(row: uuid::Uuid) -> Self {
        Self(format!("handoff.{}", row.as_simple()))
    }

    fn random() -> Self {
        Self::for_outbox_row(uuid::Uuid::now_v7())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl OutgoingEmail {
    /// The MIME message: multipart/alternative, text first so that clients that prefer
    /// the last part they can show (RFC 2046 §5.1.4) show the HTML one.
    pub(crate) fn to_message(&self, from: &Mailbox) -> Result<lettre::Message, MailError> {
        let invalid = |e: &dyn std::fmt::Display| MailError::InvalidMessage(e.to_string());
        let address = self.to.as_str().parse::<lettre::Address>().map_err(|e| invalid(&e))?;
        let to = Mailbox::new(self.to_name.as_deref().map(one_line), address);
        let id = self.message_id.clone().unwrap_or_else(MessageId::random);
        lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(one_line(&self.subject))
            .message_id(Some(format!("<{}@{}>", id.as_str(), from.email.domain())))
            .multipart(MultiPart::alternative_plain_html(self.text.clone(), self.html.clone()))
            .map_err(|e| invalid(&e))
    }
}

/// Header values come from CRM data: folding control characters (line breaks above
/// all) into spaces keeps one value from spilling into another header.
fn one_line(value: &str) -> String {
    value
        .split(char::is_control)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_accept_outbox_keys_and_refuse_header_breaking_characters() {
        assert!(MessageId::parse("invitation.42-a_b").is_ok());
        for bad in ["", "a b", "a>b", "a@b", "a\r\nBcc: x", ".a", "a..b"] {
            assert!(MessageId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_outbox_row_id_gives_the_same_message_id_every_time() {
        let row = uuid::Uuid::now_v7();
        assert_eq!(MessageId::for_outbox_row(row), MessageId::for_outbox_row(row));
    }

    #[test]
    fn header_values_lose_their_line_breaks() {
        assert_eq!(one_line("Acme\r\nBcc: evil@example.com"), "Acme Bcc: evil@example.com");
    }
}
