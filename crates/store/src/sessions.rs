//! Portal sessions and signing in with an invitation link. Only hashes of session ids
//! and invitation tokens reach the database; the web layer holds the secrets.

use chrono::{DateTime, Duration, SubsecRound, Utc};
use uuid::Uuid;

use super::rows::{UserRow, user_columns};
use super::{Store, StoreError, activity, on_pool, on_tx};
use handoff_domain::people::{Actor, NewActivity, ProjectRole, User};
use handoff_domain::{ProjectId, ProjectStatus, UserId};

/// `last_seen_at` is written at most this often per session, so browsing is not a
/// write per page; the idle timeout is exact to within this.
const TOUCH_RESOLUTION: Duration = Duration::minutes(1);

/// A live session and its person.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub user: User,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The projects the person may see in the portal, read with the session.
    pub projects: Vec<ProjectAccess>,
}

/// A project a customer may see in the portal — an active membership in a project
/// customers can see — with their role and the project's page version (bumped by the
/// database with every change a project page shows; see migration 0014).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProjectAccess {
    pub project: ProjectId,
    pub role: ProjectRole,
    pub page_version: i64,
}

/// Why an invitation link does not sign anyone in. The pages say the same thing for
/// each (ask for a fresh link); the distinction is for logs and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkProblem {
    Unknown,
    Used,
    Revoked,
    Expired,
    /// The link is fine but the person is no longer an active member of a project
    /// customers can see.
    NoAccess,
}

/// A usable invitation, as the confirmation page shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct UsableInvitation {
    pub id: Uuid,
    pub user_id: UserId,
    pub project_id: ProjectId,
    pub project_name: String,
    pub email: String,
}

/// A new session to store at sign-in.
#[derive(Clone, Debug)]
pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The hash of a session the browser already had: it ends, so a session id planted
    /// before sign-in never becomes a signed-in one.
    pub replacing: Option<&'a str>,
}

#[derive(sqlx::FromRow)]
struct InvitationState {
    id: Uuid,
    user_id: Uuid,
    project_id: Uuid,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    project_status: String,
    project_name: String,
    membership: Option<String>,
    email: String,
}

const INVITATION_STATE: &str = "SELECT i.id, i.user_id, i.project_id, i.expires_at, i.used_at, i.revoked_at, p.status AS project_status, \
     p.name AS project_name, m.status AS membership, u.email \
     FROM invitations i JOIN projects p ON p.id = i.project_id JOIN users u ON u.id = i.user_id \
     LEFT JOIN memberships m ON m.project_id = i.project_id AND m.user_id = i.user_id \
     WHERE i.token_hash = $1";

impl InvitationState {
    fn usable(self, now: DateTime<Utc>) -> Result<UsableInvitation, LinkProblem> {
        if self.revoked_at.is_some() {
            return Err(LinkProblem::Revoked);
        }
        if self.used_at.is_some() {
            return Err(LinkProblem::Used);
        }
        if self.expires_at <= now {
            return Err(LinkProblem::Expired);
        }
        let visible = self
            .project_status
            .parse::<ProjectStatus>()
            .is_ok_and(ProjectStatus::visible_to_customers);
        if !visible || self.membership.as_deref() != Some("active") {
            return Err(LinkProblem::NoAccess);
        }
        Ok(UsableInvitation {
            id: self.id,
            user_id: UserId::from_uuid(self.user_id),
            project_id: ProjectId::from_uuid(self.project_id),
            project_name: self.project_name,
            email: self.email,
        })
    }
}

/// A session with one of its person's memberships (none: all `access_` columns null).
#[derive(sqlx::FromRow)]
struct SessionRow {
    #[sqlx(flatten)]
    user: UserRow,
    session_created_at: DateTime<Utc>,
    last_seen_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    access_project: Option<Uuid>,
    access_role: Option<String>,
    access_status: Option<String>,
    access_version: Option<i64>,
}

impl SessionRow {
    fn access(&self) -> Result<Option<ProjectAccess>, StoreError> {
        let (Some(project), Some(role), Some(status), Some(page_version)) =
            (self.access_project, &self.access_role, &self.access_status, self.access_version)
        else {
            return Ok(None);
        };
        let status: ProjectStatus = super::rows::parse("projects.status", status)?;
        if !status.visible_to_customers() {
            return Ok(None);
        }
        Ok(Some(ProjectAccess {
            project: ProjectId::from_uuid(project),
            role: super::rows::parse("memberships.role", role)?,
            page_version,
        }))
    }
}

impl Store {
    /// What the invitation with this token hash would do, without using it.
    pub async fn check_invitation(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<UsableInvitation, LinkProblem>, StoreError> {
        let found: Option<InvitationState> =
            on_pool!(self, pool => sqlx::query_as(INVITATION_STATE).bind(token_hash).fetch_optional(pool).await)?;
        Ok(found.map_or(Err(LinkProblem::Unknown), |s| s.usable(now)))
    }

    /// Uses the invitation (once: a concurrent second use finds it used) and starts a
    /// session for its person, in one transaction with a `portal.signed_in` entry.
    pub async fn sign_in_with_invitation(
        &self,
        token_hash: &str,
        session: &NewSession<'_>,
    ) -> Result<Result<UsableInvitation, LinkProblem>, StoreError> {
        const USE: &str = "UPDATE invitations SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND revoked_at IS NULL";
        const END: &str = "DELETE FROM portal_sessions WHERE id_hash = $1";
        const START: &str =
            "INSERT INTO portal_sessions (id_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)";
        let mut tx = self.begin().await?;
        let found: Option<InvitationState> =
            on_tx!(&mut tx, c => sqlx::query_as(INVITATION_STATE).bind(token_hash).fetch_optional(&mut **c).await)?;
        let invitation = match found.map_or(Err(LinkProblem::Unknown), |s| s.usable(session.now)) {
            Ok(invitation) => invitation,
            Err(problem) => return Ok(Err(problem)),
        };
        let used: u64 = on_tx!(&mut tx, c => sqlx::query(USE).bind(session.now).bind(invitation.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if used == 0 {
            // Another request used it between our read and our write.
            return Ok(Err(LinkProblem::Used));
        }
        if let Some(old) = session.replacing {
            on_tx!(&mut tx, c => sqlx::query(END).bind(old).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        }
        on_tx!(&mut tx, c => sqlx::query(START)
            .bind(session.id_hash)
            .bind(invitation.user_id.as_uuid())
            .bind(session.now)
            .bind(session.expires_at)
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
        activity::record(
            &mut tx,
            &NewActivity {
                project_id: Some(invitation.project_id),
                actor: Actor::User(invitation.user_id),
                action: "portal.signed_in".into(),
                source: "portal".into(),
                details: serde_json::json!({ "invitation": invitation.id }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(invitation))
    }

    /// The session with this id hash if it is live: not past its absolute expiry and
    /// used within `idle`. A dead session is deleted; a live one is marked as seen.
    ///
    /// One query reads the session, its person and the projects they may see: it runs
    /// on every portal request, and with it a project page needs no other query while
    /// its page model in memory is current (web/portal/page_cache.rs).
    pub async fn live_session(&self, id_hash: &str, now: DateTime<Utc>, idle: Duration) -> Result<Option<Session>, StoreError> {
        const FIND: &str = concat!(
            "SELECT ",
            user_columns!(),
            ", s.created_at AS session_created_at, s.last_seen_at, s.expires_at, \
             m.project_id AS access_project, m.role AS access_role, p.status AS access_status, p.page_version AS access_version \
             FROM portal_sessions s JOIN users u ON u.id = s.user_id \
             LEFT JOIN memberships m ON m.user_id = s.user_id AND m.status = 'active' \
             LEFT JOIN projects p ON p.id = m.project_id \
             WHERE s.id_hash = $1"
        );
        const TOUCH: &str = "UPDATE portal_sessions SET last_seen_at = $1 WHERE id_hash = $2";
        let rows: Vec<SessionRow> = on_pool!(self, pool => sqlx::query_as(FIND).bind(id_hash).fetch_all(pool).await)?;
        let mut projects = Vec::with_capacity(rows.len());
        for row in &rows {
            projects.extend(row.access()?);
        }
        let Some(row) = rows.into_iter().next() else { return Ok(None) };
        if row.expires_at <= now || row.last_seen_at + idle <= now {
            self.end_session(id_hash).await?;
            return Ok(None);
        }
        // Microseconds, as PostgreSQL keeps them, so the returned value is the stored one.
        let now = now.trunc_subsecs(6);
        let mut last_seen_at = row.last_seen_at;
        if now - last_seen_at >= TOUCH_RESOLUTION {
            on_pool!(self, pool => sqlx::query(TOUCH).bind(now).bind(id_hash).execute(pool).await.map(|r| r.rows_affected()))?;
            last_seen_at = now;
        }
        Ok(Some(Session {
            user: row.user.try_into()?,
            created_at: row.session_created_at,
            last_seen_at,
            expires_at: row.expires_at,
            projects,
        }))
    }

    /// Ends a session (sign out); ending one that does not exist changes nothing.
    pub async fn end_session(&self, id_hash: &str) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query("DELETE FROM portal_sessions WHERE id_hash = $1").bind(id_hash).execute(pool).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Deletes sessions past either timeout; returns how many.
    pub async fn purge_sessions(&self, now: DateTime<Utc>, idle: Duration) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM portal_sessions WHERE expires_at <= $1 OR last_seen_at <= $2";
        Ok(on_pool!(self, pool => sqlx::query(SQL).bind(now).bind(now - idle).execute(pool).await.map(|r| r.rows_affected()))?)
    }

    /// How many sessions a person has (tests and the console).
    pub async fn session_count(&self, user: UserId) -> Result<i64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM portal_sessions WHERE user_id = $1";
        Ok(on_pool!(self, pool => sqlx::query_scalar(SQL).bind(user.as_uuid()).fetch_one(pool).await)?)
    }
}
