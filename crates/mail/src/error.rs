//! What can go wrong with an email, sorted by what the outbox should do about it.

use std::time::Duration;

/// Reply codes that mean "your credentials are wrong", not "this message is bad": 530
/// (authentication required), 534 (mechanism too weak), 535 (credentials invalid), 538
/// (encryption required for the mechanism). Fixing the configuration makes the same
/// message deliverable, so these are retried instead of dead-lettered.
const AUTH_REPLY_CODES: [u16; 4] = [530, 534, 535, 538];

/// Server replies are kept for the dead-letter entry, but bounded: they end up in logs.
const MAX_REPLY_CHARS: usize = 300;

/// An email error. [`MailError::is_transient`] tells the outbox whether retrying the
/// same message later can succeed. No variant ever holds the SMTP URL or password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("email is not configured (set HANDOFF_SMTP_URL)")]
    NotConfigured,
    /// The reason only: the URL itself may hold a password.
    #[error("smtp.url is invalid: {0}")]
    InvalidUrl(String),
    #[error("smtp.from `{from}` is not a valid mailbox: {reason}")]
    InvalidFrom { from: String, reason: String },
    #[error("invalid Message-ID `{0}`: use 1 to 200 letters, digits, `.`, `-` or `_`")]
    InvalidMessageId(String),
    #[error("cannot render the email template `{template}`: {message}")]
    Template { template: &'static str, message: String },
    #[error("cannot build the message: {0}")]
    InvalidMessage(String),
    /// A 5xx reply: the server will never accept this message (unknown mailbox, policy).
    #[error("the SMTP server rejected the message ({code}): {reply}")]
    Rejected { code: u16, reply: String },
    /// A 4xx reply: try again later (greylisting, mailbox busy, rate limit).
    #[error("the SMTP server deferred the message ({code}): {reply}")]
    Deferred { code: u16, reply: String },
    #[error("the SMTP server refused our credentials ({code}): {reply}")]
    Authentication { code: u16, reply: String },
    #[error("TLS with the SMTP server failed: {0}")]
    Tls(String),
    #[error("cannot talk to the SMTP server: {0}")]
    Connection(String),
    #[error("the SMTP server did not finish within {0:?}")]
    Timeout(Duration),
}

impl MailError {
    /// Whether the same message may go through later, so the outbox should retry it.
    /// Everything that is not transient is permanent: retrying cannot help until the
    /// message or the code changes, so the outbox dead-letters it with this error.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Deferred { .. } | Self::Authentication { .. } | Self::Tls(_) | Self::Connection(_) | Self::Timeout(_)
        )
    }

    pub fn is_permanent(&self) -> bool {
        !self.is_transient()
    }

    /// Sorts a lettre SMTP error. Only the error's own text is kept; lettre's errors
    /// carry no URL or credentials because the transport is built from parts.
    pub(crate) fn from_smtp(error: &lettre::transport::smtp::Error, timeout: Duration) -> Self {
        if error.is_timeout() {
            return Self::Timeout(timeout);
        }
        if let Some(code) = error.status() {
            let code = u16::from(code);
            let reply = bounded(std::error::Error::source(error).map(ToString::to_string).unwrap_or_default());
            return if error.is_transient() {
                Self::Deferred { code, reply }
            } else if AUTH_REPLY_CODES.contains(&code) {
                Self::Authentication { code, reply }
            } else {
                Self::Rejected { code, reply }
            };
        }
        if error.is_tls() {
            return Self::Tls(bounded(error.to_string()));
        }
        // Refused or dropped connections, unparsable replies, a server without STARTTLS
        // or without a usable AUTH mechanism: nothing wrong with the message itself.
        Self::Connection(bounded(error.to_string()))
    }
}

fn bounded(mut text: String) -> String {
    if let Some((cut, _)) = text.char_indices().nth(MAX_REPLY_CHARS) {
        text.truncate(cut);
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_failures_that_can_pass_later_are_transient() {
        let transient = [
            MailError::Deferred {
                code: 451,
                reply: String::new(),
            },
            MailError::Authentication {
                code: 535,
                reply: String::new(),
            },
            MailError::Tls(String::new()),
            MailError::Connection(String::new()),
            MailError::Timeout(Duration::from_secs(1)),
        ];
        assert!(transient.iter().all(MailError::is_transient));
    }

    #[test]
    fn a_rejected_or_malformed_message_is_permanent() {
        assert!(
            MailError::Rejected {
                code: 550,
                reply: String::new()
            }
            .is_permanent()
        );
        assert!(MailError::InvalidMessage(String::new()).is_permanent());
        assert!(MailError::NotConfigured.is_permanent());
    }

    #[test]
    fn long_server_replies_are_cut() {
        let cut = bounded("x".repeat(1000));
        assert_eq!(cut.chars().count(), MAX_REPLY_CHARS + 1);
    }
}
