//! What staff change on a project's tasks (console, JSON API), as rows: a task's state
//! as those changes need it, who can be given a task, the assignee, the due date, a
//! reopened task, comments shared with the customer and internal notes. What may be
//! done when is the engine's (engine/staff_tasks.rs), inside the transaction these
//! primitives run in.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::task_work::TaskComment;
use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::{OwnerSide, PhaseId, ProjectId, ProjectStatus, TaskId, TaskStatus, UserId, Visibility};

/// A task as a staff change needs it, read inside the change's transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct StaffTaskState {
    pub id: TaskId,
    pub title: String,
    pub phase_id: PhaseId,
    pub status: TaskStatus,
    pub visibility: Visibility,
    pub owner: OwnerSide,
    pub assignee: Option<UserId>,
    pub due_date: Option<NaiveDate>,
    pub project_status: ProjectStatus,
}

/// Where a person stands as a possible assignee of a project's task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssigneeStanding {
    /// A staff account that is not revoked.
    Staff,
    /// A staff account that was revoked.
    RevokedStaff,
    /// An active customer admin or member of the project.
    Teammate,
    /// A customer who is not an active admin or member of this project (another
    /// project's customer, a viewer, someone removed).
    NotOnProject,
}

/// Someone a task of a project can be given to.
#[derive(Clone, Debug, PartialEq)]
pub struct Assignable {
    pub id: UserId,
    pub name: String,
    /// True for staff, false for the project's customers.
    pub staff: bool,
}

fn name_of(first: Option<String>, last: Option<String>, email: String) -> String {
    match (first, last) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(n), None) | (None, Some(n)) => n,
        (None, None) => email,
    }
}

/// A comment row with its author's names: (id, author, body, at, first, last, email).
type CommentRow = (
    Uuid,
    Option<Uuid>,
    String,
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn comment(row: CommentRow) -> TaskComment {
    let (id, author, body, at, first, last, email) = row;
    // No email: the author's account is gone (LEFT JOIN), and so is their name.
    let author_name = email.map(|email| name_of(first, last, email));
    TaskComment {
        id,
        author: author.map(UserId::from_uuid),
        author_name,
        body,
        at,
    }
}

impl Store {
    /// The task's internal notes (staff only, never shown to customers), oldest first.
    pub async fn task_internal_notes(&self, task: TaskId) -> Result<Vec<TaskComment>, StoreError> {
        const SQL: &str = "SELECT c.id, c.author_id, c.body, c.created_at, u.first_name, u.last_name, u.email \
                           FROM task_comments c LEFT JOIN users u ON u.id = c.author_id \
                           WHERE c.task_id = $1 AND c.internal ORDER BY c.created_at, c.id";
        let rows: Vec<CommentRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(task.as_uuid()).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(comment).collect())
    }

    /// The project's page version (bumped by triggers with every change its pages
    /// show, migrations 0014 and 0018), or `None` if there is no such project: what a
    /// page kept in memory is checked against.
    pub async fn project_page_version(&self, project: ProjectId) -> Result<Option<i64>, StoreError> {
        const SQL: &str = "SELECT page_version FROM projects WHERE id = $1";
        let row: Option<(i64,)> = on_pool!(self, pool => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_optional(pool).await)?;
        Ok(row.map(|(v,)| v))
    }

    /// Who a task of `project` can be given to: staff who are not revoked, then the
    /// project's active customer admins and members, each by name.
    pub async fn assignable_people(&self, project: ProjectId) -> Result<Vec<Assignable>, StoreError> {
        const SQL: &str = "SELECT u.id, u.first_name, u.last_name, u.email, u.kind FROM users u \
                           WHERE (u.kind = 'internal' AND u.staff_revoked_at IS NULL) \
                           OR (u.kind = 'customer' AND EXISTS (SELECT 1 FROM memberships m WHERE m.project_id = $1 AND m.user_id = u.id \
                               AND m.status = 'active' AND m.role IN ('customer_admin', 'customer_member'))) \
                           ORDER BY u.kind DESC, u.first_name, u.last_name, u.email";
        type Row = (Uuid, Option<String>, Option<String>, String, String);
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(id, first, last, email, kind)| Assignable {
                id: UserId::from_uuid(id),
                name: name_of(first, last, email),
                staff: kind == "internal",
            })
            .collect())
    }

    /// The names of the people the project's tasks are assigned to (including anyone
    /// who could no longer be given a task, such as a removed customer).
    pub async fn task_assignee_names(&self, project: ProjectId) -> Result<HashMap<UserId, String>, StoreError> {
        const SQL: &str = "SELECT DISTINCT u.id, u.first_name, u.last_name, u.email FROM tasks t JOIN users u ON u.id = t.assignee_id \
                           WHERE t.project_id = $1";
        type Row = (Uuid, Option<String>, Option<String>, String);
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(id, first, last, email)| (UserId::from_uuid(id), name_of(first, last, email)))
            .collect())
    }
}

impl Tx {
    /// The task `key` of `project` as a staff change needs it, or `None`.
    pub async fn staff_task_state(&mut self, project: ProjectId, key: &str) -> Result<Option<StaffTaskState>, StoreError> {
        const SQL: &str = "SELECT t.id, t.title, t.phase_id, t.status, t.visibility, t.owner_side, t.assignee_id, t.due_date, p.status \
                           FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.project_id = $1 AND t.key = $2";
        type Row = (Uuid, String, Uuid, String, String, String, Option<Uuid>, Option<NaiveDate>, String);
        let row: Option<Row> = on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).bind(key).fetch_optional(&mut **c).await)?;
        row.map(
            |(id, title, phase, status, visibility, owner, assignee, due_date, project_status)| {
                Ok(StaffTaskState {
                    id: TaskId::from_uuid(id),
                    title,
                    phase_id: PhaseId::from_uuid(phase),
                    status: super::rows::parse_task_status(&status)?,
                    visibility: super::rows::parse("tasks.visibility", &visibility)?,
                    owner: super::rows::parse("tasks.owner_side", &owner)?,
                    assignee: assignee.map(UserId::from_uuid),
                    due_date,
                    project_status: super::rows::parse("projects.status", &project_status)?,
                })
            },
        )
        .transpose()
    }

    /// Where `user` stands as an assignee of a task of `project`, with their name; `None`
    /// when there is no such user.
    pub async fn assignee_standing(&mut self, project: ProjectId, user: UserId) -> Result<Option<(String, AssigneeStanding)>, StoreError> {
        const SQL: &str = "SELECT u.first_name, u.last_name, u.email, u.kind, u.staff_revoked_at IS NOT NULL, \
                           EXISTS (SELECT 1 FROM memberships m WHERE m.project_id = $1 AND m.user_id = u.id AND m.status = 'active' \
                                   AND m.role IN ('customer_admin', 'customer_member')) \
                           FROM users u WHERE u.id = $2";
        type Row = (Option<String>, Option<String>, String, String, bool, bool);
        let row: Option<Row> =
            on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).bind(user.as_uuid()).fetch_optional(&mut **c).await)?;
        Ok(row.map(|(first, last, email, kind, revoked, teammate)| {
            let standing = match (kind.as_str(), revoked, teammate) {
                ("internal", false, _) => AssigneeStanding::Staff,
                ("internal", true, _) => AssigneeStanding::RevokedStaff,
                (_, _, true) => AssigneeStanding::Teammate,
                _ => AssigneeStanding::NotOnProject,
            };
            (name_of(first, last, email), standing)
        }))
    }

    /// Gives the task to `user`, or to no one.
    pub async fn set_task_assignee(&mut self, task: TaskId, user: Option<UserId>) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE tasks SET assignee_id = $1 WHERE id = $2";
        on_tx!(self, c => sqlx::query(SQL).bind(user.map(|u| u.as_uuid())).bind(task.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sets (or clears) the task's due date.
    pub async fn set_task_due_date(&mut self, task: TaskId, due: Option<NaiveDate>) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE tasks SET due_date = $1 WHERE id = $2";
        on_tx!(self, c => sqlx::query(SQL).bind(due).bind(task.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Sets an open status (`pending` or `in_progress`) on the task; a completed task
    /// loses its completion (reopened). The project's `updated_at` moves too.
    pub async fn set_open_task_status(&mut self, project: ProjectId, task: TaskId, to: TaskStatus) -> Result<(), StoreError> {
        const SET: &str = "UPDATE tasks SET status = $1, completed_at = NULL, completed_by = NULL WHERE id = $2";
        const TOUCH: &str = "UPDATE projects SET updated_at = $1 WHERE id = $2";
        if !matches!(to, TaskStatus::Pending | TaskStatus::InProgress) {
            return Err(StoreError::Conflict(format!("`{}` is not a stored open status", to.as_str())));
        }
        on_tx!(self, c => sqlx::query(SET).bind(to.as_str()).bind(task.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query(TOUCH).bind(Utc::now()).bind(project.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Adds a comment (`internal`: an internal note) to the task.
    pub async fn insert_staff_comment(
        &mut self,
        project: ProjectId,
        task: TaskId,
        author: Option<UserId>,
        body: &str,
        internal: bool,
    ) -> Result<Uuid, StoreError> {
        const INSERT: &str = "INSERT INTO task_comments (id, task_id, project_id, author_id, body, created_at, internal) \
                              VALUES ($1, $2, $3, $4, $5, $6, $7)";
        let id = Uuid::now_v7();
        on_tx!(self, c => sqlx::query(INSERT)
            .bind(id)
            .bind(task.as_uuid())
            .bind(project.as_uuid())
            .bind(author.map(|u| u.as_uuid()))
            .bind(body)
            .bind(Utc::now())
            .bind(internal)
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
        Ok(id)
    }

    /// The latest comment (or note, with `internal`) `author` left on the task: its id,
    /// body and time, to tell a double-submitted form from a new comment.
    pub async fn latest_comment_by(
        &mut self,
        task: TaskId,
        author: Option<UserId>,
        internal: bool,
    ) -> Result<Option<(Uuid, String, DateTime<Utc>)>, StoreError> {
        const SQL: &str = "SELECT id, body, created_at FROM task_comments \
                           WHERE task_id = $1 AND internal = $2 AND ((author_id IS NULL AND $3 IS NULL) OR author_id = $3) \
                           ORDER BY created_at DESC, id DESC LIMIT 1";
        Ok(on_tx!(self, c => sqlx::query_as(SQL)
            .bind(task.as_uuid())
            .bind(internal)
            .bind(author.map(|u| u.as_uuid()))
            .fetch_optional(&mut **c)
            .await)?)
    }
}
