//! Invitation links after the first one: staff revoke and regenerate them, customers
//! ask for a fresh one. Each new link is an `invitations` row (hash only) and an outbox
//! row that emails it, in the transaction that decides to send it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

use super::{Store, StoreError, Tx, activity, on_pool, on_tx};
use handoff_domain::people::{Actor, NewActivity};
use handoff_domain::plan::NewInvitation;
use handoff_domain::{Email, ProjectId, ProjectStatus, UserId};

/// An invitation as staff see it (never its token).
#[derive(Clone, Debug, PartialEq, Serialize, sqlx::FromRow)]
pub struct InvitationInfo {
    pub id: Uuid,
    pub project_id: Uuid,
    pub user_id: Uuid,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

macro_rules! invitation_columns {
    () => {
        "i.id, i.project_id, i.user_id, u.email, i.created_at, i.expires_at, i.sent_at, i.used_at, i.revoked_at"
    };
}

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

/// Records a new invitation and the outbox row that emails it. The outbox key is the
/// invitation's own id: unlike the first invitation of a member (keyed per project and
/// person, see store/engine.rs), a regenerated link is a new email by design.
pub(super) async fn issue(tx: &mut Tx, project: ProjectId, user: UserId, email: &Email, inv: &NewInvitation) -> Result<(), StoreError> {
    const INVITE: &str =
        "INSERT INTO invitations (id, user_id, project_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
    const OUTBOX: &str =
        "INSERT INTO outbox (id, kind, idempotency_key, payload, next_attempt_at, created_at) VALUES ($1, 'email', $2, $3, $4, $4)";
    let now = Utc::now();
    on_tx!(&mut *tx, c => sqlx::query(INVITE).bind(inv.id).bind(user.as_uuid()).bind(project.as_uuid()).bind(&inv.token_hash).bind(now).bind(inv.expires_at)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    // The payload the invitation mailer reads (engine/deliver.rs).
    let payload = serde_json::json!({
        "type": "invitation",
        "invitation_id": inv.id,
        "project_id": project,
        "user_id": user,
        "email": email,
        "sealed_token": inv.sealed_token,
    });
    let key = format!("invite:{}", inv.id);
    on_tx!(&mut *tx, c => sqlx::query(OUTBOX).bind(Uuid::now_v7()).bind(key).bind(Json(&payload)).bind(now)
        .execute(&mut **c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

impl Store {
    /// A project's invitations, newest first.
    pub async fn project_invitations(&self, project: ProjectId) -> Result<Vec<InvitationInfo>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations i JOIN users u ON u.id = i.user_id WHERE i.project_id = $1 ORDER BY i.created_at DESC, i.id DESC"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_all(pool).await)?)
    }

    pub async fn invitation(&self, id: Uuid) -> Result<Option<InvitationInfo>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            invitation_columns!(),
            " FROM invitations i JOIN users u ON u.id = i.user_id WHERE i.id = $1"
        );
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(id).fetch_optional(pool).await)?)
    }

    /// Revokes an invitation link: from the commit on it signs no one in, and an email
    /// not yet sent for it is not sent (engine/deliver.rs checks).
    pub async fn revoke_invitation(&self, id: Uuid, actor: Actor, source: &str) -> Result<InvitationRevocation, StoreError> {
        const REVOKE: &str = "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL AND used_at IS NULL";
        let mut tx = self.begin().await?;
        let revoked: u64 =
            on_tx!(&mut tx, c => sqlx::query(REVOKE).bind(Utc::now()).bind(id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if revoked == 1 {
            let project: Uuid = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT project_id FROM invitations WHERE id = $1").bind(id).fetch_one(&mut **c).await)?;
            activity::record(
                &mut tx,
                &NewActivity {
                    project_id: Some(ProjectId::from_uuid(project)),
                    actor,
                    action: "invitation.revoked".into(),
                    source: source.into(),
                    details: serde_json::json!({ "invitation": id }),
                },
            )
            .await?;
        }
        tx.commit().await?;
        let invitation = self.invitation(id).await?.ok_or_else(|| StoreError::not_found("invitation", id))?;
        Ok(if revoked == 1 {
            InvitationRevocation::Revoked { invitation }
        } else if invitation.used_at.is_some() {
            InvitationRevocation::AlreadyUsed { invitation }
        } else {
            InvitationRevocation::AlreadyRevoked { invitation }
        })
    }

    /// Regenerates a member's link: their unused links to the project are revoked and
    /// `invitation` is emailed through the outbox. The person must be an active member
    /// of a project customers can see (a Draft invites no one).
    pub async fn reissue_invitation(
        &self,
        project: ProjectId,
        email: &Email,
        invitation: &NewInvitation,
        actor: Actor,
        source: &str,
    ) -> Result<Uuid, StoreError> {
        const MEMBER: &str = "SELECT u.id, p.status FROM users u JOIN memberships m ON m.user_id = u.id JOIN projects p ON p.id = m.project_id \
                              WHERE m.project_id = $1 AND u.email = $2 AND m.status = 'active'";
        const REVOKE_OLD: &str =
            "UPDATE invitations SET revoked_at = $1 WHERE project_id = $2 AND user_id = $3 AND used_at IS NULL AND revoked_at IS NULL";
        let mut tx = self.begin().await?;
        let member: Option<(Uuid, String)> =
            on_tx!(&mut tx, c => sqlx::query_as(MEMBER).bind(project.as_uuid()).bind(email.as_str()).fetch_optional(&mut **c).await)?;
        let (user, status) = member.ok_or_else(|| StoreError::not_found("active member", format!("{email} of project {project}")))?;
        let status: ProjectStatus = super::rows::parse("projects.status", &status)?;
        if !status.visible_to_customers() {
            return Err(StoreError::Refused(format!(
                "project {project} is {status}: customers cannot see it, so no invitation is sent"
            )));
        }
        let user = UserId::from_uuid(user);
        let revoked: u64 = on_tx!(&mut tx, c => sqlx::query(REVOKE_OLD).bind(Utc::now()).bind(project.as_uuid()).bind(user.as_uuid())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        issue(&mut tx, project, user, email, invitation).await?;
        activity::record(
            &mut tx,
            &NewActivity {
                project_id: Some(project),
                actor,
                action: "invitation.reissued".into(),
                source: source.into(),
                details: serde_json::json!({ "invitation": invitation.id, "user": user, "revoked": revoked }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(invitation.id)
    }
}
