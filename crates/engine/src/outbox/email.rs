//! Delivering emails from the outbox (invitations, staff sign-in links): a plain function the scheduled job
//! calls and tests drive directly.
//!
//! Delivery is at least once: a crash between the SMTP server's acceptance and marking
//! the row done sends it again on retry — with the same Message-ID (derived from the
//! outbox row), which mail systems use to drop the duplicate.

use chrono::Utc;

use super::{LEASE, retry_at};
use crate::invite::{LinkKind, console_link_url, sign_in_url, unseal_link, unseal_token};
use handoff_domain::Email;
use handoff_domain::outbox::{EmailJob, OutboxKind};
use handoff_mail::{InvitationEmail, Mailer, MessageId, OutgoingEmail, StaffSignInEmail, render_invitation, render_staff_sign_in};
use handoff_store::outbox::OutboxItem;
use handoff_store::sealed::Sealer;
use handoff_store::{Store, StoreError};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delivered {
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
}

/// Sends up to `limit` due emails (invitations, staff sign-in links), signed with `product_name` (the
/// configured branding, as the portal shows it).
pub async fn deliver_emails(
    store: &Store,
    mailer: &Mailer,
    sealer: &Sealer,
    base_url: &url::Url,
    product_name: &str,
    limit: u32,
) -> Result<Delivered, StoreError> {
    let mut out = Delivered::default();
    for item in store.claim_outbox(OutboxKind::Email, limit, LEASE).await? {
        match send_one(store, mailer, sealer, base_url, product_name, &item).await {
            Ok(()) => {
                store.outbox_done(item.id).await?;
                out.sent += 1;
            }
            Err((error, permanent)) => {
                let retry_at = retry_at(item.attempts, permanent, Utc::now());
                if retry_at.is_some() {
                    out.retried += 1;
                } else {
                    tracing::warn!(outbox = %item.id, %error, "an invitation email could not be delivered; see handoff jobs failed");
                    out.dead += 1;
                }
                store.outbox_failed(item.id, &error, retry_at).await?;
            }
        }
    }
    Ok(out)
}

/// Err carries the message and whether retrying is pointless.
async fn send_one(
    store: &Store,
    mailer: &Mailer,
    sealer: &Sealer,
    base_url: &url::Url,
    product_name: &str,
    item: &OutboxItem,
) -> Result<(), (String, bool)> {
    let job: EmailJob = serde_json::from_value(item.payload.0.clone()).map_err(|e| (format!("unreadable outbox payload: {e}"), true))?;
    // The invitation whose email this is, to note it as sent.
    let mut sent_invitation = None;
    let message = match job {
        EmailJob::Invitation {
            invitation_id,
            sealed_token,
            ..
        } => {
            let Some(message) = invitation(store, sealer, base_url, product_name, invitation_id, &sealed_token).await? else {
                // Revoked before it went out: nothing to send, and nothing to retry.
                return Ok(());
            };
            sent_invitation = Some(invitation_id);
            message
        }
        EmailJob::StaffSignIn { link_id, sealed_token, .. } => {
            let Some((staff, expires_at)) = store.console_link_to_send(link_id).await.map_err(|e| (e.to_string(), false))? else {
                // Used already, or the account was revoked: nothing to send.
                return Ok(());
            };
            let token = unseal_link(LinkKind::ConsoleSignIn, sealer, link_id, &sealed_token).map_err(|e| (e.to_string(), true))?;
            render_staff_sign_in(&StaffSignInEmail {
                to: staff.user.email.clone(),
                to_name: Some(staff.user.display_name()),
                product_name: product_name.to_owned(),
                sign_in_url: console_link_url(base_url, &token),
                expires_at,
            })
            .map_err(|e| (e.to_string(), true))?
        }
        EmailJob::TaskDigest {
            project_id,
            user_id,
            email,
            scope,
            sent_by,
        } => {
            let to = super::task_digest::Recipient {
                project: project_id,
                user: user_id,
                email: &email,
            };
            let rendered = super::task_digest::render(store, base_url, product_name, &to, &scope, sent_by).await?;
            let Some(message) = rendered else {
                // The person left, or nothing listed is open any more: nothing to send.
                return Ok(());
            };
            message
        }
    };
    let message = message.with_message_id(MessageId::for_outbox_row(item.id));
    mailer.send(&message).await.map_err(|e| (e.to_string(), e.is_permanent()))?;
    if let Some(invitation_id) = sent_invitation {
        store.invitation_sent(invitation_id).await.map_err(|e| (e.to_string(), false))?;
    }
    Ok(())
}

/// The invitation email, or `None` when the invitation was revoked before it went out.
async fn invitation(
    store: &Store,
    sealer: &Sealer,
    base_url: &url::Url,
    product_name: &str,
    invitation_id: uuid::Uuid,
    sealed_token: &str,
) -> Result<Option<OutgoingEmail>, (String, bool)> {
    let context = store
        .invitation_context(invitation_id)
        .await
        .map_err(|e| (e.to_string(), false))?
        .ok_or_else(|| ("the invitation no longer exists".to_owned(), true))?;
    if context.revoked {
        return Ok(None);
    }
    let token = unseal_token(sealer, invitation_id, sealed_token).map_err(|e| (e.to_string(), true))?;
    let name = |f: &Option<String>, l: &Option<String>| match (f, l) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(n), None) | (None, Some(n)) => Some(n.clone()),
        (None, None) => None,
    };
    let email = InvitationEmail {
        to: Email::parse(&context.email).map_err(|e| (e.to_string(), true))?,
        to_name: name(&context.first_name, &context.last_name),
        inviter_name: name(&context.owner_first_name, &context.owner_last_name),
        company_name: context.company_name.clone(),
        project_name: context.project_name.clone(),
        product_name: product_name.to_owned(),
        sign_in_url: sign_in_url(base_url, &token),
        expires_at: context.expires_at,
        welcome_message: context.welcome_message.clone(),
    };
    render_invitation(&email).map(Some).map_err(|e| (e.to_string(), true))
}
