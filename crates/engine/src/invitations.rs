//! Invitation links after the first: staff revoke or regenerate them (CLI, JSON API,
//! console) and customers ask for a fresh one from the portal. One method per change,
//! as in [`super::tasks`], so every channel records the same activity and sends mail
//! the same way (through the outbox).

use chrono::Utc;
use uuid::Uuid;

use super::Engine;
use handoff_domain::people::Actor;
use handoff_domain::{Email, ProjectId, UserId};
use handoff_store::{InvitationRevocation, LinkRequest, NewTeammate, StoreError, TeammateInvite};

impl Engine {
    /// Revokes one invitation link.
    pub async fn revoke_invitation(&self, id: Uuid, actor: Actor, source: &str) -> Result<InvitationRevocation, StoreError> {
        self.store.revoke_invitation(id, actor, source).await
    }

    /// Regenerates a member's link: their unused links to the project stop working and
    /// a new one is emailed. Returns the new invitation's id.
    pub async fn resend_invitation(&self, project: ProjectId, email: &Email, actor: Actor, source: &str) -> Result<Uuid, StoreError> {
        let invitation = self
            .fresh_link(Utc::now())
            .ok_or_else(|| StoreError::Refused("no master key (HANDOFF_MASTER_KEY): invitation links cannot be made without one".into()))?;
        self.store.reissue_invitation(project, email, &invitation, actor, source).await
    }

    /// A customer's "send me a fresh link" (see [`handoff_store::Store::request_sign_in_link`]).
    pub async fn request_fresh_link(&self, email: &Email, preferred: Option<ProjectId>) -> Result<LinkRequest, StoreError> {
        // Hashed so that addresses people type (known or not) are not kept in plain text.
        let email_hash = super::invite::token_hash(email.as_str());
        let limit = self.links.requests_per_hour;
        let now = Utc::now();
        let outcome = self
            .store
            .request_sign_in_link(email, &email_hash, preferred, limit, &|| self.fresh_link(now))
            .await?;
        match &outcome {
            LinkRequest::Sent { invitation, project } => tracing::info!(%invitation, %project, "a fresh sign-in link was requested"),
            LinkRequest::RateLimited => tracing::info!("a fresh sign-in link was refused: too many requests for one address"),
            LinkRequest::CannotSeal => tracing::warn!("a fresh sign-in link cannot be made without a master key (HANDOFF_MASTER_KEY)"),
            LinkRequest::Unknown => {}
        }
        Ok(outcome)
    }

    /// A customer invites a teammate from the portal (see
    /// [`handoff_store::Store::invite_teammate`]): one transaction makes the user if new,
    /// the membership, the invitation and its email in the outbox, and the activity
    /// entry. Refused when there is no master key to seal the link with, before anything
    /// changes.
    pub async fn invite_teammate(&self, project: ProjectId, inviter: UserId, teammate: &NewTeammate) -> Result<TeammateInvite, StoreError> {
        let invitation = self
            .fresh_link(Utc::now())
            .ok_or_else(|| StoreError::Refused("Invitations cannot be sent right now. Please try again later.".into()))?;
        let outcome = self.store.invite_teammate(project, inviter, teammate, &invitation).await?;
        if let TeammateInvite::Invited { user, created, invitation } = &outcome {
            tracing::info!(%project, %user, %invitation, new_user = created, "a teammate was invited from the portal");
        }
        Ok(outcome)
    }
}
