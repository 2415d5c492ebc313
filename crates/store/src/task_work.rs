//! Work on a task: submissions (form answers, a question's answer, approval decisions),
//! uploaded files' records, comments and assignment. Each change and its activity entry
//! are one transaction; a submission that completes its task completes it in that same
//! transaction (see [`super::projects::complete_in`]), so the answers, the completion,
//! the activity and the CRM writebacks exist together or not at all.
//!
//! Who may do what is the caller's rule (the portal checks membership and role); the
//! store keeps what must hold under concurrency: an archived project does not change,
//! a completed task takes no more answers, a task is assigned only while unassigned.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::projects::complete_in;
use super::{Store, StoreError, Tx, activity, on_pool, on_tx};
use handoff_domain::form::Submission;
use handoff_domain::people::{Actor, NewActivity};
use handoff_domain::{ProjectId, ProjectStatus, TaskId, TaskStatus, UserId};

/// A submission as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSubmission {
    pub id: Uuid,
    pub submission: Submission,
    pub by: Option<UserId>,
    pub by_name: Option<String>,
    pub at: DateTime<Utc>,
}

/// A file to record; the bytes are already on disk under `storage_name`.
#[derive(Clone, Debug)]
pub struct NewTaskFile {
    pub storage_name: String,
    pub original_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
}

/// An uploaded file's record.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskFile {
    pub id: Uuid,
    pub task_id: TaskId,
    pub storage_name: String,
    pub original_name: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
    pub uploaded_by: Option<UserId>,
    pub uploaded_by_name: Option<String>,
    pub uploaded_at: DateTime<Utc>,
    pub review_status: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TaskComment {
    pub id: Uuid,
    pub author: Option<UserId>,
    pub author_name: Option<String>,
    pub body: String,
    pub at: DateTime<Utc>,
}

/// The task a change is about, read and checked inside the change's transaction.
struct Target {
    id: Uuid,
    status: TaskStatus,
    assignee: Option<Uuid>,
}

/// The task `key` of `project`, refusing changes to archived projects.
async fn target(tx: &mut Tx, project: ProjectId, key: &str) -> Result<Target, StoreError> {
    const SQL: &str = "SELECT t.id, t.status, t.assignee_id, p.status FROM tasks t JOIN projects p ON p.id = t.project_id \
                       WHERE t.project_id = $1 AND t.key = $2";
    let row: Option<(Uuid, String, Option<Uuid>, String)> =
        on_tx!(&mut *tx, c => sqlx::query_as(SQL).bind(project.as_uuid()).bind(key).fetch_optional(&mut **c).await)?;
    let (id, status, assignee, project_status) =
        row.ok_or_else(|| StoreError::not_found("task", format!("`{key}` in project {project}")))?;
    if super::rows::parse::<ProjectStatus>("projects.status", &project_status)? == ProjectStatus::Archived {
        return Err(StoreError::Refused(
            "This project is archived; its tasks can no longer change.".into(),
        ));
    }
    Ok(Target {
        id,
        status: super::rows::parse_task_status(&status)?,
        assignee,
    })
}

fn user_uuid(actor: &Actor) -> Option<Uuid> {
    match actor {
        Actor::User(u) => Some(u.as_uuid()),
        Actor::System => None,
    }
}

fn display_name(first: Option<String>, last: Option<String>, email: Option<String>) -> Option<String> {
    match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(n), None) | (None, Some(n)) => Some(n),
        (None, None) => email,
    }
}

async fn record(
    tx: &mut Tx,
    project: ProjectId,
    actor: Actor,
    action: &str,
    source: &str,
    details: serde_json::Value,
) -> Result<(), StoreError> {
    activity::record(
        tx,
        &NewActivity {
            project_id: Some(project),
            actor,
            action: action.into(),
            source: source.into(),
            details,
        },
    )
    .await
}

/// The stored shape of a submission: what was answered, and for approvals the decision.
fn columns(s: &Submission) -> (serde_json::Value, Option<&'static str>, Option<&str>) {
    match s {
        Submission::Form(answers) => (serde_json::json!(answers), None, None),
        Submission::Question(answer) => (serde_json::json!({ "answer": answer }), None, None),
        Submission::Approval { approved, note } => (
            serde_json::json!({}),
            Some(if *approved { "approved" } else { "changes_requested" }),
            note.as_deref(),
        ),
    }
}

#[derive(sqlx::FromRow)]
struct SubmissionRow {
    id: Uuid,
    kind: String,
    answers: Json<serde_json::Value>,
    decision: Option<String>,
    note: Option<String>,
    submitted_by: Option<Uuid>,
    submitted_at: DateTime<Utc>,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
}

impl TryFrom<SubmissionRow> for StoredSubmission {
    type Error = StoreError;
    fn try_from(r: SubmissionRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("task_submissions {}: {what}", r.id));
        let submission = match (r.kind.as_str(), r.decision.as_deref()) {
            ("form", _) => Submission::Form(serde_json::from_value(r.answers.0.clone()).map_err(|e| corrupt(&e.to_string()))?),
            ("question", _) => Submission::Question(r.answers.0.get("answer").and_then(|a| a.as_str()).unwrap_or_default().to_owned()),
            ("approval", Some(d)) => Submission::Approval {
                approved: d == "approved",
                note: r.note.clone(),
            },
            (other, _) => return Err(corrupt(&format!("unknown kind `{other}`"))),
        };
        Ok(StoredSubmission {
            id: r.id,
            submission,
            by: r.submitted_by.map(UserId::from_uuid),
            by_name: display_name(r.first_name, r.last_name, r.email),
            at: r.submitted_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct FileRow {
    id: Uuid,
    task_id: Uuid,
    storage_name: String,
    original_name: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    uploaded_by: Option<Uuid>,
    uploaded_at: DateTime<Utc>,
    review_status: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
}

impl From<FileRow> for TaskFile {
    fn from(r: FileRow) -> Self {
        TaskFile {
            id: r.id,
            task_id: TaskId::from_uuid(r.task_id),
            storage_name: r.storage_name,
            original_name: r.original_name,
            content_type: r.content_type,
            size_bytes: u64::try_from(r.size_bytes).unwrap_or(0),
            sha256: r.sha256,
            uploaded_by: r.uploaded_by.map(UserId::from_uuid),
            uploaded_by_name: display_name(r.first_name, r.last_name, r.email),
            uploaded_at: r.uploaded_at,
            review_status: r.review_status,
        }
    }
}

const FILE_COLUMNS: &str = "f.id, f.task_id, f.storage_name, f.original_name, f.content_type, f.size_bytes, f.sha256, \
                            f.uploaded_by, f.uploaded_at, f.review_status, u.first_name, u.last_name, u.email";

impl Store {
    /// Records what `actor` handed in on `key` and, when it completes the task (all but
    /// "changes requested"), completes it — one transaction: the submission, the
    /// completion, their activity entries and the CRM writebacks. A completed task
    /// takes no more submissions; a blocked one takes none (nothing is kept). Returns
    /// whether the task was completed.
    pub async fn submit_task(
        &self,
        project: ProjectId,
        key: &str,
        actor: Actor,
        source: &str,
        submission: &Submission,
    ) -> Result<bool, StoreError> {
        const INSERT: &str = "INSERT INTO task_submissions (id, task_id, project_id, kind, answers, decision, note, submitted_by, submitted_at) \
                              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        let mut tx = self.begin().await?;
        let task = target(&mut tx, project, key).await?;
        if task.status == TaskStatus::Completed {
            return Err(StoreError::Refused("This task is already completed.".into()));
        }
        let id = Uuid::now_v7();
        let (answers, decision, note) = columns(submission);
        on_tx!(&mut tx, c => sqlx::query(INSERT)
            .bind(id)
            .bind(task.id)
            .bind(project.as_uuid())
            .bind(submission.kind())
            .bind(Json(&answers))
            .bind(decision)
            .bind(note)
            .bind(user_uuid(&actor))
            .bind(Utc::now())
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
        let action = match submission {
            Submission::Form(_) => "task.form_submitted",
            Submission::Question(_) => "task.answered",
            Submission::Approval { approved: true, .. } => "task.approved",
            Submission::Approval { approved: false, .. } => "task.changes_requested",
        };
        record(
            &mut tx,
            project,
            actor.clone(),
            action,
            source,
            serde_json::json!({ "task": key, "submission": id }),
        )
        .await?;
        let completed = submission.completes();
        if completed {
            complete_in(&mut tx, project, key, actor, source).await?;
        }
        tx.commit().await?;
        Ok(completed)
    }

    /// The task's submissions, oldest first.
    pub async fn task_submissions(&self, task: TaskId) -> Result<Vec<StoredSubmission>, StoreError> {
        const SQL: &str = "SELECT s.id, s.kind, s.answers, s.decision, s.note, s.submitted_by, s.submitted_at, u.first_name, u.last_name, u.email \
                           FROM task_submissions s LEFT JOIN users u ON u.id = s.submitted_by WHERE s.task_id = $1 ORDER BY s.submitted_at, s.id";
        let rows: Vec<SubmissionRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(task.as_uuid()).fetch_all(pool).await)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    /// Records a file stored on disk for `key`, with a `task.file_uploaded` entry.
    /// Files are taken until the task is completed, at most `max_files` of them.
    pub async fn add_task_file(
        &self,
        project: ProjectId,
        key: &str,
        actor: Actor,
        source: &str,
        file: &NewTaskFile,
        max_files: u32,
    ) -> Result<Uuid, StoreError> {
        const COUNT: &str = "SELECT COUNT(*) FROM task_files WHERE task_id = $1";
        const INSERT: &str = "INSERT INTO task_files (id, task_id, project_id, storage_name, original_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at) \
                              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let mut tx = self.begin().await?;
        let task = target(&mut tx, project, key).await?;
        if task.status == TaskStatus::Completed {
            return Err(StoreError::Refused(
                "This task is already completed; it takes no more files.".into(),
            ));
        }
        let count: i64 = on_tx!(&mut tx, c => sqlx::query_scalar(COUNT).bind(task.id).fetch_one(&mut **c).await)?;
        if count >= i64::from(max_files) {
            return Err(StoreError::Refused(format!("This task takes at most {max_files} file(s).")));
        }
        let id = Uuid::now_v7();
        let size = i64::try_from(file.size_bytes).map_err(|_| StoreError::Refused("The file is too large.".into()))?;
        on_tx!(&mut tx, c => sqlx::query(INSERT)
            .bind(id)
            .bind(task.id)
            .bind(project.as_uuid())
            .bind(&file.storage_name)
            .bind(&file.original_name)
            .bind(&file.content_type)
            .bind(size)
            .bind(&file.sha256)
            .bind(user_uuid(&actor))
            .bind(Utc::now())
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
        let details =
            serde_json::json!({ "task": key, "file": id, "name": file.original_name, "size": file.size_bytes, "type": file.content_type });
        record(&mut tx, project, actor, "task.file_uploaded", source, details).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The task's files, oldest first.
    pub async fn task_files(&self, task: TaskId) -> Result<Vec<TaskFile>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {FILE_COLUMNS} FROM task_files f LEFT JOIN users u ON u.id = f.uploaded_by WHERE f.task_id = $1 ORDER BY f.uploaded_at, f.id"
        ));
        let rows: Vec<FileRow> = on_pool!(self, pool => sqlx::query_as(sql).bind(task.as_uuid()).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// One file of one task, or `None` — a file of another task or project is not found.
    pub async fn task_file(&self, project: ProjectId, task: TaskId, file: Uuid) -> Result<Option<TaskFile>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {FILE_COLUMNS} FROM task_files f LEFT JOIN users u ON u.id = f.uploaded_by \
             WHERE f.id = $1 AND f.task_id = $2 AND f.project_id = $3"
        ));
        let row: Option<FileRow> = on_pool!(self, pool => sqlx::query_as(sql)
            .bind(file)
            .bind(task.as_uuid())
            .bind(project.as_uuid())
            .fetch_optional(pool)
            .await)?;
        Ok(row.map(Into::into))
    }

    /// Adds a comment to `key`, with a `task.commented` entry.
    pub async fn add_task_comment(
        &self,
        project: ProjectId,
        key: &str,
        actor: Actor,
        source: &str,
        body: &str,
    ) -> Result<Uuid, StoreError> {
        const INSERT: &str =
            "INSERT INTO task_comments (id, task_id, project_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        let mut tx = self.begin().await?;
        let task = target(&mut tx, project, key).await?;
        let id = Uuid::now_v7();
        on_tx!(&mut tx, c => sqlx::query(INSERT)
            .bind(id)
            .bind(task.id)
            .bind(project.as_uuid())
            .bind(user_uuid(&actor))
            .bind(body)
            .bind(Utc::now())
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
        record(
            &mut tx,
            project,
            actor,
            "task.commented",
            source,
            serde_json::json!({ "task": key, "comment": id }),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The task's comments, oldest first.
    pub async fn task_comments(&self, task: TaskId) -> Result<Vec<TaskComment>, StoreError> {
        const SQL: &str = "SELECT c.id, c.author_id, c.body, c.created_at, u.first_name, u.last_name, u.email \
                           FROM task_comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.task_id = $1 ORDER BY c.created_at, c.id";
        type Row = (
            Uuid,
            Option<Uuid>,
            String,
            DateTime<Utc>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = on_pool!(self, pool => sqlx::query_as(SQL).bind(task.as_uuid()).fetch_all(pool).await)?;
        Ok(rows
            .into_iter()
            .map(|(id, author, body, at, first, last, email)| TaskComment {
                id,
                author: author.map(UserId::from_uuid),
                author_name: display_name(first, last, email),
                body,
                at,
            })
            .collect())
    }

    /// Assigns the unassigned, open task `key` to `assignee`, who must be an active
    /// customer admin or member of the project; a `task.assigned` entry records it.
    /// Two people assigning at once: the first wins, the second is refused.
    pub async fn assign_task(&self, project: ProjectId, key: &str, assignee: UserId, actor: Actor, source: &str) -> Result<(), StoreError> {
        const MEMBER: &str = "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id \
                              WHERE m.project_id = $1 AND m.user_id = $2 AND m.status = 'active' AND u.kind = 'customer' \
                              AND m.role IN ('customer_admin', 'customer_member')";
        const ASSIGN: &str = "UPDATE tasks SET assignee_id = $1 WHERE id = $2 AND assignee_id IS NULL";
        let mut tx = self.begin().await?;
        let task = target(&mut tx, project, key).await?;
        if task.status == TaskStatus::Completed {
            return Err(StoreError::Refused("This task is already completed.".into()));
        }
        if task.assignee.is_some() {
            return Err(StoreError::Refused("Someone has already taken this task.".into()));
        }
        let member: i64 =
            on_tx!(&mut tx, c => sqlx::query_scalar(MEMBER).bind(project.as_uuid()).bind(assignee.as_uuid()).fetch_one(&mut **c).await)?;
        if member == 0 {
            return Err(StoreError::Refused(
                "Tasks can be assigned only to a teammate on this project.".into(),
            ));
        }
        let changed = on_tx!(&mut tx, c => sqlx::query(ASSIGN).bind(assignee.as_uuid()).bind(task.id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        if changed == 0 {
            return Err(StoreError::Refused("Someone has already taken this task.".into()));
        }
        record(
            &mut tx,
            project,
            actor,
            "task.assigned",
            source,
            serde_json::json!({ "task": key, "assignee": assignee }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
