//! Work on a task: submissions (form answers, a question's answer, approval decisions),
//! uploaded files' records, comments and assignment, as rows. What may be done when is
//! the engine's (engine/tasks.rs), inside the transaction these primitives run in.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::form::Submission;
use handoff_domain::{ProjectId, TaskId, UserId};

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
    /// Why a reviewer rejected it (shown to the customer).
    pub review_note: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TaskComment {
    pub id: Uuid,
    pub author: Option<UserId>,
    pub author_name: Option<String>,
    pub body: String,
    pub at: DateTime<Utc>,
}

pub(crate) fn display_name(first: Option<String>, last: Option<String>, email: Option<String>) -> Option<String> {
    match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(n), None) | (None, Some(n)) => Some(n),
        (None, None) => email,
    }
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
    review_note: Option<String>,
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
            review_note: r.review_note,
        }
    }
}

const FILE_COLUMNS: &str = "f.id, f.task_id, f.storage_name, f.original_name, f.content_type, f.size_bytes, f.sha256, \
                            f.uploaded_by, f.uploaded_at, f.review_status, f.review_note, u.first_name, u.last_name, u.email";

impl Store {
    /// The task's submissions, oldest first.
    pub async fn task_submissions(&self, task: TaskId) -> Result<Vec<StoredSubmission>, StoreError> {
        const SQL: &str = "SELECT s.id, s.kind, s.answers, s.decision, s.note, s.submitted_by, s.submitted_at, u.first_name, u.last_name, u.email \
                           FROM task_submissions s LEFT JOIN users u ON u.id = s.submitted_by WHERE s.task_id = $1 ORDER BY s.submitted_at, s.id";
        let rows: Vec<SubmissionRow> = on_pool!(self, pool => sqlx::query_as(SQL).bind(task.as_uuid()).fetch_all(pool).await)?;
        rows.into_iter().map(TryInto::try_into).collect()
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

    /// The task's comments shared with the customer, oldest first. Internal notes
    /// (`internal`, staff only) are never among them: the portal shows this list.
    pub async fn task_comments(&self, task: TaskId) -> Result<Vec<TaskComment>, StoreError> {
        const SQL: &str = "SELECT c.id, c.author_id, c.body, c.created_at, u.first_name, u.last_name, u.email \
                           FROM task_comments c LEFT JOIN users u ON u.id = c.author_id WHERE c.task_id = $1 AND NOT c.internal \
                           ORDER BY c.created_at, c.id";
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
}

impl Tx {
    /// Stores what `by` handed in on the task.
    pub async fn insert_submission(
        &mut self,
        project: ProjectId,
        task: TaskId,
        submission: &Submission,
        by: Option<UserId>,
    ) -> Result<Uuid, StoreError> {
        const INSERT: &str = "INSERT INTO task_submissions (id, task_id, project_id, kind, answers, decision, note, submitted_by, submitted_at) \
                              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
        let id = Uuid::now_v7();
        let (answers, decision, note) = columns(submission);
        on_tx!(self, c => sqlx::query(INSERT)
            .bind(id)
            .bind(task.as_uuid())
            .bind(project.as_uuid())
            .bind(submission.kind())
            .bind(Json(&answers))
            .bind(decision)
            .bind(note)
            .bind(by.map(|u| u.as_uuid()))
            .bind(Utc::now())
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
        Ok(id)
    }

    /// How many files the task has.
    pub async fn task_file_count(&mut self, task: TaskId) -> Result<u64, StoreError> {
        const COUNT: &str = "SELECT COUNT(*) FROM task_files WHERE task_id = $1";
        let count: i64 = on_tx!(self, c => sqlx::query_scalar(COUNT).bind(task.as_uuid()).fetch_one(&mut **c).await)?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Records a file stored on disk under `file.storage_name`.
    pub async fn insert_task_file(
        &mut self,
        project: ProjectId,
        task: TaskId,
        file: &NewTaskFile,
        by: Option<UserId>,
    ) -> Result<Uuid, StoreError> {
        const INSERT: &str = "INSERT INTO task_files (id, task_id, project_id, storage_name, original_name, content_type, size_bytes, sha256, uploaded_by, uploaded_at) \
                              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let id = Uuid::now_v7();
        let size = i64::try_from(file.size_bytes).map_err(|_| StoreError::Corrupt(format!("a file of {} bytes", file.size_bytes)))?;
        on_tx!(self, c => sqlx::query(INSERT)
            .bind(id)
            .bind(task.as_uuid())
            .bind(project.as_uuid())
            .bind(&file.storage_name)
            .bind(&file.original_name)
            .bind(&file.content_type)
            .bind(size)
            .bind(&file.sha256)
            .bind(by.map(|u| u.as_uuid()))
            .bind(Utc::now())
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
        Ok(id)
    }

    pub async fn insert_task_comment(
        &mut self,
        project: ProjectId,
        task: TaskId,
        author: Option<UserId>,
        body: &str,
    ) -> Result<Uuid, StoreError> {
        const INSERT: &str =
            "INSERT INTO task_comments (id, task_id, project_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)";
        let id = Uuid::now_v7();
        on_tx!(self, c => sqlx::query(INSERT)
            .bind(id)
            .bind(task.as_uuid())
            .bind(project.as_uuid())
            .bind(author.map(|u| u.as_uuid()))
            .bind(body)
            .bind(Utc::now())
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
        Ok(id)
    }

    /// Whether `user` is an active customer admin or member of the project.
    pub async fn is_customer_teammate(&mut self, project: ProjectId, user: UserId) -> Result<bool, StoreError> {
        const MEMBER: &str = "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id \
                              WHERE m.project_id = $1 AND m.user_id = $2 AND m.status = 'active' AND u.kind = 'customer' \
                              AND m.role IN ('customer_admin', 'customer_member')";
        let n: i64 = on_tx!(self, c => sqlx::query_scalar(MEMBER).bind(project.as_uuid()).bind(user.as_uuid()).fetch_one(&mut **c).await)?;
        Ok(n > 0)
    }

    /// Assigns the task to `user` if it has no assignee; false if someone has it (two
    /// people assigning at once: the first wins).
    pub async fn assign_if_unassigned(&mut self, task: TaskId, user: UserId) -> Result<bool, StoreError> {
        const ASSIGN: &str = "UPDATE tasks SET assignee_id = $1 WHERE id = $2 AND assignee_id IS NULL";
        let changed = on_tx!(self, c => sqlx::query(ASSIGN).bind(user.as_uuid()).bind(task.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(changed == 1)
    }
}
