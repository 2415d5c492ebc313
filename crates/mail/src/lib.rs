//! Outgoing email: invitations and staff sign-in links rendered from the Tera templates in templates/email/
//! (built into the binary) and sent over SMTP with lettre.
//!
//! The outbox owns retries: [`Mailer::send`] makes one attempt, and its error says
//! whether another attempt can succeed ([`MailError::is_transient`]). Giving each
//! email a [`MessageId`] derived from its outbox row makes a resend after a crash
//! recognisable as the same message.

pub mod capture;
mod endpoint;
mod error;
mod mailer;
mod message;
mod render;
mod staff_sign_in;
mod task_digest;

pub use endpoint::Security;
pub use error::MailError;
pub use mailer::Mailer;
pub use message::{MessageId, OutgoingEmail};
pub use render::{InvitationEmail, render_invitation};
pub use staff_sign_in::{StaffSignInEmail, render_staff_sign_in};
pub use task_digest::{DigestKind, DigestTask, TaskDigestEmail, render_task_digest};
