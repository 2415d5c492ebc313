//! People and their memberships, as the engine's rules read and write them inside one
//! transaction: who has an address, what someone's part in a project is, and adding
//! a membership.

use chrono::Utc;
use uuid::Uuid;

use super::{StoreError, Tx, on_tx};
use handoff_domain::people::{MembershipStatus, ProjectRole, UserKind};
use handoff_domain::plan::InviteMode;
use handoff_domain::{CompanyId, Email, ProjectId, ProjectStatus, UserId};

/// Who has an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: UserId,
    pub kind: UserKind,
    pub company: Option<CompanyId>,
}

/// A customer user to create.
#[derive(Clone, Debug)]
pub struct NewCustomer<'a> {
    pub email: &'a Email,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub company: Option<CompanyId>,
}

impl Tx {
    pub async fn person_by_email(&mut self, email: &Email) -> Result<Option<Person>, StoreError> {
        const SQL: &str = "SELECT id, kind, company_id FROM users WHERE email = $1";
        let row: Option<(Uuid, String, Option<Uuid>)> =
            on_tx!(self, c => sqlx::query_as(SQL).bind(email.as_str()).fetch_optional(&mut **c).await)?;
        row.map(|(id, kind, company)| {
            Ok(Person {
                id: UserId::from_uuid(id),
                kind: super::rows::parse("users.kind", &kind)?,
                company: company.map(CompanyId::from_uuid),
            })
        })
        .transpose()
    }

    pub async fn user_kind(&mut self, user: UserId) -> Result<Option<UserKind>, StoreError> {
        const SQL: &str = "SELECT kind FROM users WHERE id = $1";
        let kind: Option<String> = on_tx!(self, c => sqlx::query_scalar(SQL).bind(user.as_uuid()).fetch_optional(&mut **c).await)?;
        kind.map(|k| super::rows::parse("users.kind", &k)).transpose()
    }

    /// Creates the customer unless someone has the address already (then nothing
    /// changes); returns whether it was created.
    pub async fn create_customer(&mut self, new: &NewCustomer<'_>) -> Result<bool, StoreError> {
        const SQL: &str = "INSERT INTO users (id, kind, email, first_name, last_name, company_id, created_at) \
                           VALUES ($1, 'customer', $2, $3, $4, $5, $6) ON CONFLICT (email) DO NOTHING";
        let inserted = on_tx!(self, c => sqlx::query(SQL).bind(UserId::new().as_uuid()).bind(new.email.as_str())
            .bind(new.first_name).bind(new.last_name).bind(new.company.map(|c| c.as_uuid())).bind(Utc::now())
            .execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(inserted == 1)
    }

    /// The person's part in the project, active or not.
    pub async fn membership(&mut self, project: ProjectId, user: UserId) -> Result<Option<(ProjectRole, MembershipStatus)>, StoreError> {
        const SQL: &str = "SELECT role, status FROM memberships WHERE project_id = $1 AND user_id = $2";
        let row: Option<(String, String)> =
            on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).bind(user.as_uuid()).fetch_optional(&mut **c).await)?;
        row.map(|(role, status)| {
            Ok((
                super::rows::parse("memberships.role", &role)?,
                super::rows::parse("memberships.status", &status)?,
            ))
        })
        .transpose()
    }

    /// Adds an active membership unless the person has one (active or not) already;
    /// returns whether it was added. An unknown project is not found.
    pub async fn add_membership(
        &mut self,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
        contact_role: Option<&str>,
        invite: Option<InviteMode>,
    ) -> Result<bool, StoreError> {
        const SQL: &str = "INSERT INTO memberships (project_id, user_id, role, contact_role, status, created_at, invite) \
                           VALUES ($1, $2, $3, $4, 'active', $5, COALESCE($6, 'silently')) ON CONFLICT (project_id, user_id) DO NOTHING";
        let result = on_tx!(self, c => sqlx::query(SQL)
            .bind(project.as_uuid())
            .bind(user.as_uuid())
            .bind(role.as_str())
            .bind(contact_role)
            .bind(Utc::now())
            .bind(invite.map(InviteMode::as_str))
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()));
        match result {
            Ok(rows) => Ok(rows == 1),
            Err(e) if e.as_database_error().is_some_and(|d| d.is_foreign_key_violation()) => Err(StoreError::not_found("project", project)),
            Err(e) => Err(e.into()),
        }
    }

    /// The project's status and company, or `None` if there is no such project.
    pub async fn project_status_and_company(
        &mut self,
        project: ProjectId,
    ) -> Result<Option<(ProjectStatus, Option<CompanyId>)>, StoreError> {
        const SQL: &str = "SELECT status, company_id FROM projects WHERE id = $1";
        let row: Option<(String, Option<Uuid>)> =
            on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_optional(&mut **c).await)?;
        row.map(|(status, company)| Ok((super::rows::parse("projects.status", &status)?, company.map(CompanyId::from_uuid))))
            .transpose()
    }
}
