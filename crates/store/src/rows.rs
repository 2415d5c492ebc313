//! Rows as the database returns them, and their checked conversion into domain types.
//! The same structs decode on both backends (sqlx's derive is generic over the row type).

use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::StoreError;
use handoff_domain::people::{Company, Membership, User};
use handoff_domain::project::{Phase, Project, Task};
use handoff_domain::{CompanyId, Email, Key, PhaseId, ProjectId, TaskId, TaskKind, UserId};

/// Parses a text column into a domain enum; a value the code does not know means the
/// database was written by something else, which is reported, not papered over.
pub(super) fn parse<T: FromStr>(column: &str, value: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

fn key(column: &str, value: &str) -> Result<Key, StoreError> {
    Key::parse(value).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

#[derive(sqlx::FromRow)]
pub(super) struct ProjectRow {
    id: Uuid,
    name: String,
    template_key: String,
    company_id: Option<Uuid>,
    company_name: Option<String>,
    status: String,
    start_date: NaiveDate,
    goal_date: Option<NaiveDate>,
    welcome_message: Option<String>,
    self_service: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// The columns [`ProjectRow`] reads, with the company's name joined in as `c`. (A macro,
/// not a const, so `concat!` can build whole `&'static str` queries from it.)
macro_rules! project_columns {
    () => {
        "p.id, p.name, p.template_key, p.company_id, c.name AS company_name, p.status, \
         p.start_date, p.goal_date, p.welcome_message, p.self_service, p.created_at, p.updated_at"
    };
}
pub(super) use project_columns;

impl TryFrom<ProjectRow> for Project {
    type Error = StoreError;
    fn try_from(r: ProjectRow) -> Result<Self, StoreError> {
        Ok(Project {
            id: ProjectId::from_uuid(r.id),
            name: r.name,
            template_key: r.template_key,
            company_id: r.company_id.map(CompanyId::from_uuid),
            company_name: r.company_name,
            status: parse("projects.status", &r.status)?,
            start_date: r.start_date,
            goal_date: r.goal_date,
            welcome_message: r.welcome_message,
            self_service: r.self_service,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PhaseRow {
    id: Uuid,
    key: String,
    name: String,
    description: Option<String>,
    position: i32,
}

impl TryFrom<PhaseRow> for Phase {
    type Error = StoreError;
    fn try_from(r: PhaseRow) -> Result<Self, StoreError> {
        Ok(Phase {
            id: PhaseId::from_uuid(r.id),
            key: key("phases.key", &r.key)?,
            name: r.name,
            description: r.description,
            position: r.position,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct TaskRow {
    pub(super) id: Uuid,
    phase_id: Uuid,
    key: String,
    title: String,
    description: Option<String>,
    kind: Json<TaskKind>,
    visibility: String,
    owner_side: String,
    priority: String,
    status: String,
    due_date: Option<NaiveDate>,
    assignee_id: Option<Uuid>,
    completed_at: Option<DateTime<Utc>>,
}

macro_rules! task_columns {
    () => {
        "id, phase_id, key, title, description, kind, visibility, owner_side, priority, status, due_date, assignee_id, completed_at"
    };
}
pub(super) use task_columns;

impl TaskRow {
    /// `depends_on` comes from another table; the caller fills it in.
    pub(super) fn into_task(self, depends_on: Vec<TaskId>) -> Result<Task, StoreError> {
        Ok(Task {
            id: TaskId::from_uuid(self.id),
            phase_id: PhaseId::from_uuid(self.phase_id),
            key: key("tasks.key", &self.key)?,
            title: self.title,
            description: self.description,
            kind: self.kind.0,
            visibility: parse("tasks.visibility", &self.visibility)?,
            owner: parse("tasks.owner_side", &self.owner_side)?,
            priority: parse("tasks.priority", &self.priority)?,
            status: parse_task_status(&self.status)?,
            due_date: self.due_date,
            assignee_id: self.assignee_id.map(UserId::from_uuid),
            depends_on,
            completed_at: self.completed_at,
        })
    }
}

pub(super) fn parse_task_status(s: &str) -> Result<handoff_domain::TaskStatus, StoreError> {
    use handoff_domain::TaskStatus::*;
    match s {
        "pending" => Ok(Pending),
        "in_progress" => Ok(InProgress),
        "completed" => Ok(Completed),
        other => Err(StoreError::Corrupt(format!("tasks.status: `{other}`"))),
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct CompanyRow {
    id: Uuid,
    name: String,
    created_at: DateTime<Utc>,
}

impl From<CompanyRow> for Company {
    fn from(r: CompanyRow) -> Self {
        Company {
            id: CompanyId::from_uuid(r.id),
            name: r.name,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: Uuid,
    kind: String,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    company_id: Option<Uuid>,
    title: Option<String>,
    phone: Option<String>,
    timezone: Option<String>,
    created_at: DateTime<Utc>,
}

macro_rules! user_columns {
    () => {
        "u.id, u.kind, u.email, u.first_name, u.last_name, u.company_id, u.title, u.phone, u.timezone, u.created_at"
    };
}
pub(super) use user_columns;

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            id: UserId::from_uuid(r.id),
            kind: parse("users.kind", &r.kind)?,
            email: Email::parse(&r.email).map_err(|e| StoreError::Corrupt(format!("users.email: {e}")))?,
            first_name: r.first_name,
            last_name: r.last_name,
            company_id: r.company_id.map(CompanyId::from_uuid),
            title: r.title,
            phone: r.phone,
            timezone: r.timezone,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct MemberRow {
    #[sqlx(flatten)]
    user: UserRow,
    project_id: Uuid,
    role: String,
    contact_role: Option<String>,
    status: String,
    joined_at: DateTime<Utc>,
}

impl TryFrom<MemberRow> for (Membership, User) {
    type Error = StoreError;
    fn try_from(r: MemberRow) -> Result<Self, StoreError> {
        let user = User::try_from(r.user)?;
        let membership = Membership {
            project_id: ProjectId::from_uuid(r.project_id),
            user_id: user.id,
            role: parse("memberships.role", &r.role)?,
            contact_role: r.contact_role,
            status: parse("memberships.status", &r.status)?,
            created_at: r.joined_at,
        };
        Ok((membership, user))
    }
}
