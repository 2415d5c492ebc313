//! Invitation links after the first: staff revoke or regenerate them (CLI, JSON API,
//! console), customers ask for a fresh one and invite teammates from the portal. One
//! method per change, as in [`super::tasks`], so every channel records the same
//! activity and sends mail the same way (through the outbox).

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use uuid::Uuid;

use handoff_domain::people::{Actor, MembershipStatus, ProjectRole, UserKind};
use handoff_domain::plan::InviteMode;
use handoff_domain::{Email, ProjectId, UserId};
use handoff_store::{InvitationInfo, InvitationKey, NewCustomer};

use super::Engine;
use super::error::{EngineError, EngineResult, Refusal};
use super::tasks::record;

/// The window of the per-address limit on fresh-link requests.
const LINK_REQUEST_WINDOW: Duration = Duration::hours(1);

/// What revoking an invitation did.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum InvitationRevocation {
    Revoked {
        invitation: InvitationInfo,
    },
    /// Revoked before; nothing changed.
    AlreadyRevoked {
        invitation: InvitationInfo,
    },
    /// It was used already; a used link signs no one in again, so nothing changed.
    AlreadyUsed {
        invitation: InvitationInfo,
    },
}

/// What a request for a fresh sign-in link did. The person asking is told the same
/// thing in every case; this is for logs and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkRequest {
    Sent {
        invitation: Uuid,
        project: ProjectId,
    },
    /// No active member of a visible project has this address.
    Unknown,
    /// The address asked too often in the last hour; nothing was recorded or sent.
    RateLimited,
    /// The person is known but no link could be made (no master key).
    CannotSeal,
}

/// A teammate to invite, parsed (see [`handoff_domain::profile`]).
#[derive(Clone, Debug)]
pub struct NewTeammate {
    pub email: Email,
    pub first_name: String,
    pub last_name: Option<String>,
    pub role: ProjectRole,
}

/// What inviting a teammate did.
#[derive(Clone, Debug, PartialEq)]
pub enum TeammateInvite {
    /// Added to the project and emailed a link (through the outbox). `created`: the
    /// person was new to handoff.
    Invited { user: UserId, created: bool, invitation: Uuid },
    /// Already an active member: nothing changed, nothing was sent.
    AlreadyMember { user: UserId },
    /// Nothing changed; the reason concerns the address.
    Refused(TeammateRefusal),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TeammateRefusal {
    /// The address belongs to a staff user: staff are never turned into customers.
    Staff,
    /// The address belongs to a customer of another company.
    OtherCompany,
    /// The person was a member and their access was removed (by staff or the CRM);
    /// a teammate does not undo that.
    Removed,
}

impl Engine {
    /// Revokes one invitation link: from the commit on it signs no one in, and an email
    /// not yet sent for it is not sent (the mailer checks).
    pub async fn revoke_invitation(&self, id: Uuid, actor: Actor, source: &str) -> EngineResult<InvitationRevocation> {
        let mut tx = self.store.begin().await?;
        let revoked = tx.revoke_invitation(id).await?;
        if let Some(project) = revoked {
            record(
                &mut tx,
                project,
                actor,
                "invitation.revoked",
                source,
                serde_json::json!({ "invitation": id }),
            )
            .await?;
        }
        tx.commit().await?;
        let invitation = self
            .store
            .invitation(id)
            .await?
            .ok_or_else(|| EngineError::not_found("invitation", id))?;
        Ok(if revoked.is_some() {
            InvitationRevocation::Revoked { invitation }
        } else if invitation.used_at.is_some() {
            InvitationRevocation::AlreadyUsed { invitation }
        } else {
            InvitationRevocation::AlreadyRevoked { invitation }
        })
    }

    /// Regenerates a member's link: their unused links to the project stop working and
    /// a new one is emailed. The person must be an active member of a project customers
    /// can see (a Draft invites no one). Returns the new invitation's id.
    pub async fn resend_invitation(&self, project: ProjectId, email: &Email, actor: Actor, source: &str) -> EngineResult<Uuid> {
        let invitation = self.fresh_link(Utc::now()).ok_or(Refusal::NoMasterKey)?;
        let mut tx = self.store.begin().await?;
        let status = tx.project_status(project).await?;
        let user = tx.active_member_by_email(project, email).await?;
        let (Some(status), Some(user)) = (status, user) else {
            return Err(EngineError::not_found("active member", format!("{email} of project {project}")));
        };
        if !status.visible_to_customers() {
            return Err(Refusal::NotVisibleToCustomers { project, status }.into());
        }
        let revoked = tx.revoke_unused_invitations(project, user).await?;
        tx.issue_invitations(project, &[(user, email, &invitation)], InvitationKey::Reissued)
            .await?;
        let details = serde_json::json!({ "invitation": invitation.id, "user": user, "revoked": revoked });
        record(&mut tx, project, actor, "invitation.reissued", source, details).await?;
        tx.commit().await?;
        Ok(invitation.id)
    }

    /// "Send me a fresh link": at most `portal.link_requests_per_hour` requests per
    /// address (counted by the address's hash, so addresses people type — known or not —
    /// are not kept in plain text); a known member of a visible project gets a new
    /// invitation, for `preferred` if they belong to it, else their most recently joined
    /// project.
    pub async fn request_fresh_link(&self, email: &Email, preferred: Option<ProjectId>) -> EngineResult<LinkRequest> {
        let email_hash = super::invite::token_hash(email.as_str());
        let now: DateTime<Utc> = Utc::now();
        let mut tx = self.store.begin().await?;
        let outcome = 'decided: {
            if tx.link_requests_since(&email_hash, now - LINK_REQUEST_WINDOW).await? >= u64::from(self.links.requests_per_hour) {
                break 'decided LinkRequest::RateLimited;
            }
            tx.record_link_request(&email_hash, now).await?;
            let visible: Vec<(UserId, ProjectId)> = tx
                .active_memberships_by_email(email)
                .await?
                .into_iter()
                .filter(|(_, _, status)| status.visible_to_customers())
                .map(|(u, p, _)| (u, p))
                .collect();
            let target = preferred
                .and_then(|want| visible.iter().find(|(_, p)| *p == want))
                .or_else(|| visible.first())
                .copied();
            let Some((user, project)) = target else {
                break 'decided LinkRequest::Unknown;
            };
            let Some(invitation) = self.fresh_link(now) else {
                break 'decided LinkRequest::CannotSeal;
            };
            tx.issue_invitations(project, &[(user, email, &invitation)], InvitationKey::Reissued)
                .await?;
            let details = serde_json::json!({ "invitation": invitation.id });
            record(&mut tx, project, Actor::User(user), "invitation.requested", "portal", details).await?;
            LinkRequest::Sent {
                invitation: invitation.id,
                project,
            }
        };
        tx.commit().await?;
        match &outcome {
            LinkRequest::Sent { invitation, project } => tracing::info!(%invitation, %project, "a fresh sign-in link was requested"),
            LinkRequest::RateLimited => tracing::info!("a fresh sign-in link was refused: too many requests for one address"),
            LinkRequest::CannotSeal => tracing::warn!("a fresh sign-in link cannot be made without a master key (HANDOFF_MASTER_KEY)"),
            LinkRequest::Unknown => {}
        }
        Ok(outcome)
    }

    /// A customer invites a teammate from the portal, in one transaction: the customer
    /// user (created at the project's company if no one has the address), the
    /// membership, the invitation and its email in the outbox (keyed like a first
    /// invitation, so one person is emailed once per project), and a `member.invited`
    /// entry. The inviter's right to give `teammate.role`, and the project being
    /// visible to customers, are checked inside it. Refused before anything changes
    /// when there is no master key to seal the link with.
    pub async fn invite_teammate(&self, project: ProjectId, inviter: UserId, teammate: &NewTeammate) -> EngineResult<TeammateInvite> {
        let invitation = self.fresh_link(Utc::now()).ok_or(Refusal::NoMasterKey)?;
        let mut tx = self.store.begin().await?;
        let (status, company) = tx
            .project_status_and_company(project)
            .await?
            .ok_or_else(|| EngineError::not_found("project", project))?;
        let inviter_role = match tx.membership(project, inviter).await? {
            Some((role, MembershipStatus::Active)) if status.visible_to_customers() => role,
            _ => return Err(EngineError::not_found("project", project)),
        };
        if !inviter_role.invitable_roles().contains(&teammate.role) {
            return Err(Refusal::CannotInviteRole {
                inviter: inviter_role,
                role: teammate.role,
            }
            .into());
        }
        let mut created = false;
        let person = match tx.person_by_email(&teammate.email).await? {
            Some(p) => p,
            None => {
                let new = NewCustomer {
                    email: &teammate.email,
                    first_name: Some(&teammate.first_name),
                    last_name: teammate.last_name.as_deref(),
                    company,
                };
                created = tx.create_customer(&new).await?;
                tx.person_by_email(&teammate.email)
                    .await?
                    .ok_or_else(|| EngineError::not_found("user", &teammate.email))?
            }
        };
        if person.kind == UserKind::Internal {
            return Ok(TeammateInvite::Refused(TeammateRefusal::Staff));
        }
        if person.company.is_some() && company.is_some() && person.company != company {
            return Ok(TeammateInvite::Refused(TeammateRefusal::OtherCompany));
        }
        let user = person.id;
        match tx.membership(project, user).await? {
            Some((_, MembershipStatus::Active)) => return Ok(TeammateInvite::AlreadyMember { user }),
            Some(_) => return Ok(TeammateInvite::Refused(TeammateRefusal::Removed)),
            None => {}
        }
        if !tx.add_membership(project, user, teammate.role, None, Some(InviteMode::Now)).await? {
            // Another request added them meanwhile (PostgreSQL); theirs sent the email.
            return Ok(TeammateInvite::AlreadyMember { user });
        }
        tx.issue_invitations(project, &[(user, &teammate.email, &invitation)], InvitationKey::FirstToProject)
            .await?;
        let details = serde_json::json!({ "user": user, "role": teammate.role, "invitation": invitation.id, "new_user": created });
        record(&mut tx, project, Actor::User(inviter), "member.invited", "portal", details).await?;
        tx.commit().await?;
        tracing::info!(%project, %user, invitation = %invitation.id, new_user = created, "a teammate was invited from the portal");
        Ok(TeammateInvite::Invited {
            user,
            created,
            invitation: invitation.id,
        })
    }

    /// Adds a person to a project. A role that does not fit the person (a staff role
    /// for a customer) is refused. Adding someone already in the project changes
    /// nothing and returns `false`.
    pub async fn add_member(
        &self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
        contact_role: Option<&str>,
        actor: Actor,
        source: &str,
    ) -> EngineResult<bool> {
        let mut tx = self.store.begin().await?;
        let kind = tx.user_kind(user).await?.ok_or_else(|| EngineError::not_found("user", user))?;
        if !role.fits(kind) {
            return Err(Refusal::RoleDoesNotFit { role, kind }.into());
        }
        let added = tx.add_membership(project, user, role, contact_role, None).await?;
        if added {
            let details = serde_json::json!({ "user": user, "role": role, "contact_role": contact_role });
            record(&mut tx, project, actor, "member.added", source, details).await?;
        }
        tx.commit().await?;
        Ok(added)
    }
}
