//! Staff changing who is on a project (the console's Members tab, the API): taking a
//! removed member back, ending the portal sessions of someone left with no project,
//! handing the project to another owner, and when each person was last seen.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::people::ProjectRole;
use handoff_domain::plan::InviteMode;
use handoff_domain::{ProjectId, UserId};

impl Tx {
    /// Makes a deactivated membership active again with a new role (and contact role,
    /// and invite mode); returns whether there was one to reactivate.
    pub async fn reactivate_membership(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
        contact_role: Option<&str>,
        invite: InviteMode,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "UPDATE memberships SET status = 'active', role = $1, contact_role = $2, invite = $3 \
                           WHERE project_id = $4 AND user_id = $5 AND status = 'deactivated'";
        let n = on_tx!(self, c => sqlx::query(SQL).bind(role.as_str()).bind(contact_role).bind(invite.as_str())
            .bind(project.as_uuid()).bind(user.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(n == 1)
    }

    /// Changes an active member's role (an owner handing over becomes staff).
    pub async fn set_member_role(&mut self, project: ProjectId, user: UserId, role: ProjectRole) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE memberships SET role = $1 WHERE project_id = $2 AND user_id = $3";
        on_tx!(self, c => sqlx::query(SQL).bind(role.as_str()).bind(project.as_uuid()).bind(user.as_uuid())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The project's active owners (one, normally; none for a project without one).
    pub async fn project_owners(&mut self, project: ProjectId) -> Result<Vec<UserId>, StoreError> {
        const SQL: &str = "SELECT user_id FROM memberships WHERE project_id = $1 AND role = 'owner' AND status = 'active'";
        let ids: Vec<Uuid> = on_tx!(self, c => sqlx::query_scalar(SQL).bind(project.as_uuid()).fetch_all(&mut **c).await)?;
        Ok(ids.into_iter().map(UserId::from_uuid).collect())
    }

    /// Ends the person's portal sessions when they are an active member of no project
    /// any more; returns how many ended. (A session's projects are read with it on
    /// every request, so a project they left closes to them at the commit either way.)
    pub async fn end_sessions_without_projects(&mut self, user: UserId) -> Result<u64, StoreError> {
        const SQL: &str = "DELETE FROM portal_sessions WHERE user_id = $1 \
                           AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = $1 AND m.status = 'active')";
        Ok(on_tx!(self, c => sqlx::query(SQL).bind(user.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?)
    }
}

impl Store {
    /// When each member of the project was last seen in the portal (their latest live
    /// session), for those who have a session.
    pub async fn members_last_seen(&self, project: ProjectId) -> Result<HashMap<UserId, DateTime<Utc>>, StoreError> {
        const SQL: &str = "SELECT s.user_id, s.last_seen_at FROM portal_sessions s \
                           JOIN memberships m ON m.user_id = s.user_id WHERE m.project_id = $1";
        let rows: Vec<(Uuid, DateTime<Utc>)> = on_pool!(self, pool => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_all(pool).await)?;
        let mut seen: HashMap<UserId, DateTime<Utc>> = HashMap::new();
        for (user, at) in rows {
            let entry = seen.entry(UserId::from_uuid(user)).or_insert(at);
            *entry = (*entry).max(at);
        }
        Ok(seen)
    }
}
