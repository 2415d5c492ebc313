//! Companies, users and project memberships.

use chrono::Utc;

use super::rows::{CompanyRow, MemberRow, UserRow, user_columns};
use super::{Store, StoreError, on_pool, on_tx};
use handoff_domain::people::{Company, Membership, User, UserKind};
use handoff_domain::{CompanyId, Email, ProjectId, UserId};

/// A person to add; see [`Store::upsert_user`].
#[derive(Clone, Debug)]
pub struct NewUser {
    pub kind: UserKind,
    pub email: Email,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub company_id: Option<CompanyId>,
    pub title: Option<String>,
    pub phone: Option<String>,
}

impl NewUser {
    pub fn new(kind: UserKind, email: Email) -> Self {
        Self {
            kind,
            email,
            first_name: None,
            last_name: None,
            company_id: None,
            title: None,
            phone: None,
        }
    }
}

impl Store {
    /// The company with this name (ignoring case and surrounding space), created if new.
    pub async fn find_or_create_company(&self, name: &str) -> Result<Company, StoreError> {
        const FIND: &str = "SELECT id, name, created_at FROM companies WHERE lower(name) = lower($1) ORDER BY created_at, id LIMIT 1";
        const INSERT: &str = "INSERT INTO companies (id, name, created_at) VALUES ($1, $2, $3) RETURNING id, name, created_at";
        // Blank names are refused before this (engine::Engine::find_or_create_company).
        let name = name.trim();
        let mut tx = self.begin().await?;
        let row: CompanyRow = on_tx!(&mut tx, c => {
            match sqlx::query_as(FIND).bind(name).fetch_optional(&mut **c).await? {
                Some(found) => found,
                None => sqlx::query_as(INSERT).bind(CompanyId::new().as_uuid()).bind(name).bind(Utc::now()).fetch_one(&mut **c).await?,
            }
        });
        tx.commit().await?;
        Ok(row.into())
    }

    pub async fn company(&self, id: CompanyId) -> Result<Option<Company>, StoreError> {
        const SQL: &str = "SELECT id, name, created_at FROM companies WHERE id = $1";
        let row: Option<CompanyRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(id.as_uuid()).fetch_optional(pool).await)?;
        Ok(row.map(Into::into))
    }

    /// The user with this email, created from `new` if there is none. An existing user
    /// is returned unchanged (emails are unique, so this never makes a duplicate, even
    /// when two requests race). The flag says whether the user was created.
    pub async fn upsert_user(&self, new: &NewUser) -> Result<(User, bool), StoreError> {
        const INSERT: &str = "INSERT INTO users (id, kind, email, first_name, last_name, company_id, title, phone, created_at) \
                              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (email) DO NOTHING";
        let inserted: u64 = on_pool!(self, pool => sqlx::query(INSERT)
            .bind(UserId::new().as_uuid())
            .bind(new.kind.as_str())
            .bind(new.email.as_str())
            .bind(&new.first_name)
            .bind(&new.last_name)
            .bind(new.company_id.map(|c| c.as_uuid()))
            .bind(&new.title)
            .bind(&new.phone)
            .bind(Utc::now())
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        let user = self
            .user_by_email(&new.email)
            .await?
            .ok_or_else(|| StoreError::not_found("user", &new.email))?;
        Ok((user, inserted == 1))
    }

    pub async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.email = $1");
        let row: Option<UserRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(email.as_str()).fetch_optional(pool).await)?;
        row.map(TryInto::try_into).transpose()
    }

    pub async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        const SQL: &str = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
        let row: Option<UserRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(id.as_uuid()).fetch_optional(pool).await)?;
        row.map(TryInto::try_into).transpose()
    }

    /// A project's members with their user records, staff first, then by name.
    pub async fn project_members(&self, project: ProjectId) -> Result<Vec<(Membership, User)>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            user_columns!(),
            ", m.project_id, m.role, m.contact_role, m.status, m.created_at AS joined_at \
             FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 \
             ORDER BY u.kind DESC, u.last_name, u.first_name, u.email"
        );
        let rows: Vec<MemberRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_all(pool).await)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
