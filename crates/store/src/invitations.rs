//! Invitation links: each is an `invitations` row (the token's hash only) and an
//! outbox row that emails it, written in the transaction that decides to send it; what
//! the email says is read when it is sent.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::outbox::Enqueue;
use super::{Store, StoreError, Tx, bulk, on_pool, on_tx};
use handoff_domain::outbox::EmailJob;
use handoff_domain::plan::NewInvitation;
use handoff_domain::{Email, ProjectId, UserId};

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

/// What makes an invitation email a repeat of one already queued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationKey {
    /// A member's first invitation to a project: one email per (project, person),
    /// however often the plan or the activation that invites them runs again.
    FirstToProject,
    /// A link made again on request (staff resend, the customer's "send me a fresh
    /// link"): each is a new email by design.
    Reissued,
}

impl Tx {
    /// Records invitations (hash only) and the outbox rows that email them.
    pub async fn issue_invitations(
        &mut self,
        project: ProjectId,
        rows: &[(UserId, &Email, &NewInvitation)],
        key: InvitationKey,
    ) -> Result<(), StoreError> {
        const COLUMNS: usize = 6;
        let now = Utc::now();
        for chunk in rows.chunks(bulk::rows_per_statement(COLUMNS)) {
            let sql = sqlx::AssertSqlSafe(format!(
                "INSERT INTO invitations (id, user_id, project_id, token_hash, created_at, expires_at) VALUES {}",
                bulk::values(COLUMNS, chunk.len(), 1)
            ));
            on_tx!(self, c => {
                let mut q = sqlx::query(sql);
                for (user, _, inv) in chunk {
                    q = q.bind(inv.id).bind(user.as_uuid()).bind(project.as_uuid()).bind(&inv.token_hash).bind(now).bind(inv.expires_at);
                }
                q.execute(&mut **c).await.map(|r| r.rows_affected())
            })?;
        }
        let emails = rows
            .iter()
            .map(|(user, email, inv)| {
                let idempotency_key = match key {
                    InvitationKey::FirstToProject => format!("invite:{project}:{user}"),
                    InvitationKey::Reissued => format!("invite:{}", inv.id),
                };
                let job = EmailJob::Invitation {
                    invitation_id: inv.id,
                    project_id: project,
                    user_id: *user,
                    email: (*email).clone(),
                    sealed_token: inv.sealed_token.clone(),
                };
                Enqueue::email(idempotency_key, &job)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.enqueue(&emails).await?;
        Ok(())
    }

    /// The active member of `project` with this address, if any.
    pub async fn active_member_by_email(&mut self, project: ProjectId, email: &Email) -> Result<Option<UserId>, StoreError> {
        const SQL: &str = "SELECT u.id FROM users u JOIN memberships m ON m.user_id = u.id \
                           WHERE m.project_id = $1 AND u.email = $2 AND m.status = 'active'";
        let user: Option<Uuid> =
            on_tx!(self, c => sqlx::query_scalar(SQL).bind(project.as_uuid()).bind(email.as_str()).fetch_optional(&mut **c).await)?;
        Ok(user.map(UserId::from_uuid))
    }

    /// Revokes the person's unused links to the project; returns how many.
    pub async fn revoke_unused_invitations(&mut self, project: ProjectId, user: UserId) -> Result<u64, StoreError> {
        const SQL: &str =
            "UPDATE invitations SET revoked_at = $1 WHERE project_id = $2 AND user_id = $3 AND used_at IS NULL AND revoked_at IS NULL";
        Ok(
            on_tx!(self, c => sqlx::query(SQL).bind(Utc::now()).bind(project.as_uuid()).bind(user.as_uuid())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?,
        )
    }

    /// Revokes one link if it is neither used nor revoked; returns its project when it
    /// was revoked now.
    pub async fn revoke_invitation(&mut self, id: Uuid) -> Result<Option<ProjectId>, StoreError> {
        const SQL: &str =
            "UPDATE invitations SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL AND used_at IS NULL RETURNING project_id";
        let project: Option<Uuid> = on_tx!(self, c => sqlx::query_scalar(SQL).bind(Utc::now()).bind(id).fetch_optional(&mut **c).await)?;
        Ok(project.map(ProjectId::from_uuid))
    }
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

    /// Notes that an invitation's email went out.
    pub async fn invitation_sent(&self, invitation: Uuid) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE invitations SET sent_at = COALESCE(sent_at, $1) WHERE id = $2";
        on_pool!(self, pool => sqlx::query(SQL).bind(Utc::now()).bind(invitation).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

/// What an invitation email says, read when it is sent (so it shows current names).
#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct InvitationContext {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub project_name: String,
    pub company_name: Option<String>,
    pub welcome_message: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The project owner's name, as the inviter.
    pub owner_first_name: Option<String>,
    pub owner_last_name: Option<String>,
    pub revoked: bool,
}

impl Store {
    pub async fn invitation_context(&self, invitation: Uuid) -> Result<Option<InvitationContext>, StoreError> {
        const SQL: &str = "SELECT u.email, u.first_name, u.last_name, p.name AS project_name, c.name AS company_name, p.welcome_message, \
                           i.expires_at, o.first_name AS owner_first_name, o.last_name AS owner_last_name, (i.revoked_at IS NOT NULL) AS revoked \
                           FROM invitations i JOIN users u ON u.id = i.user_id JOIN projects p ON p.id = i.project_id \
                           LEFT JOIN companies c ON c.id = p.company_id \
                           LEFT JOIN memberships om ON om.project_id = p.id AND om.role = 'owner' \
                           LEFT JOIN users o ON o.id = om.user_id \
                           WHERE i.id = $1";
        Ok(on_pool!(self, pool => sqlx::query_as(SQL).bind(invitation).fetch_optional(pool).await)?)
    }
}

impl Store {
    /// Every stored invitation token hash (tests and audits: no token is ever stored).
    pub async fn invitation_hashes(&self) -> Result<Vec<String>, StoreError> {
        const SQL: &str = "SELECT token_hash FROM invitations ORDER BY created_at";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).fetch_all(pool).await)?)
    }
}
