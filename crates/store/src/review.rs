//! Document review as rows: the inbox of uploaded files (across projects or in one),
//! and the primitives a review is made of — the file as the decision needs it, its
//! new review state, and reopening the task it belongs to. What may be decided when
//! is the engine's (engine/review.rs).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::task_work::display_name;
use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::review::ReviewStatus;
use handoff_domain::{ProjectId, ProjectStatus, TaskId, TaskStatus, UserId};

/// What to list of the inbox.
#[derive(Clone, Debug)]
pub struct DocumentQuery {
    /// One project's files, or every project's.
    pub project: Option<ProjectId>,
    pub status: ReviewStatus,
    /// Files whose name or phase contains this (case-insensitive).
    pub search: Option<String>,
    /// Files uploaded before this one (the last id of the previous page).
    pub before: Option<Uuid>,
    pub limit: u32,
}

/// An uploaded file as the inbox shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub id: Uuid,
    pub project_id: ProjectId,
    pub project_name: String,
    pub company_name: Option<String>,
    pub task_key: String,
    pub task_title: String,
    pub task_status: TaskStatus,
    pub phase_name: String,
    pub original_name: String,
    pub content_type: String,
    /// Where the bytes are, under the upload directory.
    pub storage_name: String,
    pub size_bytes: u64,
    pub uploaded_by_name: Option<String>,
    pub uploaded_at: DateTime<Utc>,
    pub review_status: ReviewStatus,
    pub review_note: Option<String>,
    pub reviewed_by_name: Option<String>,
    pub reviewed_at: Option<DateTime<Utc>>,
}

/// A page of the inbox, and the `before` of the next one when there is more.
#[derive(Clone, Debug, PartialEq)]
pub struct DocumentPage {
    pub documents: Vec<Document>,
    pub next_before: Option<Uuid>,
}

#[derive(sqlx::FromRow)]
struct DocumentRow {
    id: Uuid,
    project_id: Uuid,
    project_name: String,
    company_name: Option<String>,
    task_key: String,
    task_title: String,
    task_status: String,
    phase_name: String,
    original_name: String,
    content_type: String,
    storage_name: String,
    size_bytes: i64,
    up_first: Option<String>,
    up_last: Option<String>,
    up_email: Option<String>,
    uploaded_at: DateTime<Utc>,
    review_status: String,
    review_note: Option<String>,
    rev_first: Option<String>,
    rev_last: Option<String>,
    rev_email: Option<String>,
    reviewed_at: Option<DateTime<Utc>>,
}

impl TryFrom<DocumentRow> for Document {
    type Error = StoreError;
    fn try_from(r: DocumentRow) -> Result<Self, StoreError> {
        Ok(Document {
            id: r.id,
            project_id: ProjectId::from_uuid(r.project_id),
            project_name: r.project_name,
            company_name: r.company_name,
            task_key: r.task_key,
            task_title: r.task_title,
            task_status: super::rows::parse_task_status(&r.task_status)?,
            phase_name: r.phase_name,
            original_name: r.original_name,
            content_type: r.content_type,
            storage_name: r.storage_name,
            size_bytes: u64::try_from(r.size_bytes).unwrap_or(0),
            uploaded_by_name: display_name(r.up_first, r.up_last, r.up_email),
            uploaded_at: r.uploaded_at,
            review_status: super::rows::parse("task_files.review_status", &r.review_status)?,
            review_note: r.review_note,
            reviewed_by_name: display_name(r.rev_first, r.rev_last, r.rev_email),
            reviewed_at: r.reviewed_at,
        })
    }
}

const DOCUMENT: &str = "SELECT f.id, f.project_id, p.name AS project_name, c.name AS company_name, t.key AS task_key, t.title AS task_title, \
     t.status AS task_status, ph.name AS phase_name, f.original_name, f.content_type, f.storage_name, f.size_bytes, \
     up.first_name AS up_first, up.last_name AS up_last, up.email AS up_email, f.uploaded_at, f.review_status, f.review_note, \
     rev.first_name AS rev_first, rev.last_name AS rev_last, rev.email AS rev_email, f.reviewed_at \
     FROM task_files f JOIN tasks t ON t.id = f.task_id JOIN phases ph ON ph.id = t.phase_id JOIN projects p ON p.id = f.project_id \
     LEFT JOIN companies c ON c.id = p.company_id LEFT JOIN users up ON up.id = f.uploaded_by LEFT JOIN users rev ON rev.id = f.reviewed_by";

/// `%…%` for LIKE, with LIKE's own characters taken literally (`ESCAPE '\'`).
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    /// A page of uploaded files in one review state, newest upload first.
    pub async fn documents(&self, q: &DocumentQuery) -> Result<DocumentPage, StoreError> {
        let limit = q.limit.clamp(1, 500);
        let mut conditions = vec!["f.review_status = $1".to_owned()];
        let mut n = 1;
        let mut next = || {
            n += 1;
            n
        };
        if q.project.is_some() {
            conditions.push(format!("f.project_id = ${}", next()));
        }
        let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(contains_pattern);
        if search.is_some() {
            let i = next();
            conditions.push(format!(
                "(lower(f.original_name) LIKE ${i} ESCAPE '\\' OR lower(ph.name) LIKE ${i} ESCAPE '\\')"
            ));
        }
        if q.before.is_some() {
            conditions.push(format!("f.id < ${}", next()));
        }
        let sql = sqlx::AssertSqlSafe(format!(
            "{DOCUMENT} WHERE {} ORDER BY f.id DESC LIMIT {}",
            conditions.join(" AND "),
            limit + 1
        ));
        let mut rows: Vec<DocumentRow> = on_pool!(self, pool => {
            let mut query = sqlx::query_as(sql).bind(q.status.as_str());
            if let Some(p) = q.project {
                query = query.bind(p.as_uuid());
            }
            if let Some(s) = &search {
                query = query.bind(s.clone());
            }
            if let Some(b) = q.before {
                query = query.bind(b);
            }
            query.fetch_all(pool).await
        })?;
        let more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_before = if more { rows.last().map(|r| r.id) } else { None };
        Ok(DocumentPage {
            documents: rows.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
            next_before,
        })
    }

    /// One uploaded file of `project`, or `None` (a file of another project is not found).
    pub async fn document(&self, project: ProjectId, file: Uuid) -> Result<Option<Document>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("{DOCUMENT} WHERE f.id = $1 AND f.project_id = $2"));
        let row: Option<DocumentRow> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(file).bind(project.as_uuid()).fetch_optional(pool).await)?;
        row.map(TryInto::try_into).transpose()
    }
}

/// A file as a review decision needs it, read inside the decision's transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct FileUnderReview {
    pub id: Uuid,
    pub project_id: ProjectId,
    pub project_status: ProjectStatus,
    pub task_id: TaskId,
    pub task_key: String,
    pub task_title: String,
    pub task_status: TaskStatus,
    pub original_name: String,
    pub review_status: ReviewStatus,
    pub review_note: Option<String>,
}

impl Tx {
    /// The file with its task and project, or `None`.
    pub async fn file_under_review(&mut self, file: Uuid) -> Result<Option<FileUnderReview>, StoreError> {
        const SQL: &str = "SELECT f.id, f.project_id, p.status, t.id, t.key, t.title, t.status, f.original_name, f.review_status, f.review_note \
                           FROM task_files f JOIN tasks t ON t.id = f.task_id JOIN projects p ON p.id = f.project_id WHERE f.id = $1";
        type Row = (Uuid, Uuid, String, Uuid, String, String, String, String, String, Option<String>);
        let row: Option<Row> = on_tx!(self, c => sqlx::query_as(SQL).bind(file).fetch_optional(&mut **c).await)?;
        row.map(|(id, project, project_status, task, key, title, status, name, review, note)| {
            Ok(FileUnderReview {
                id,
                project_id: ProjectId::from_uuid(project),
                project_status: super::rows::parse("projects.status", &project_status)?,
                task_id: TaskId::from_uuid(task),
                task_key: key,
                task_title: title,
                task_status: super::rows::parse_task_status(&status)?,
                original_name: name,
                review_status: super::rows::parse("task_files.review_status", &review)?,
                review_note: note,
            })
        })
        .transpose()
    }

    /// Records `by`'s review of the file: its state and note (none when approved).
    pub async fn set_file_review(
        &mut self,
        file: Uuid,
        status: ReviewStatus,
        note: Option<&str>,
        by: Option<UserId>,
    ) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE task_files SET review_status = $1, review_note = $2, reviewed_by = $3, reviewed_at = $4 WHERE id = $5";
        on_tx!(self, c => sqlx::query(SQL)
            .bind(status.as_str())
            .bind(note)
            .bind(by.map(|u| u.as_uuid()))
            .bind(Utc::now())
            .bind(file)
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Makes a completed task open again (pending, no completion recorded); the
    /// project's `updated_at` moves too.
    pub async fn reopen_task(&mut self, project: ProjectId, task: TaskId) -> Result<(), StoreError> {
        const REOPEN: &str =
            "UPDATE tasks SET status = 'pending', completed_at = NULL, completed_by = NULL WHERE id = $1 AND project_id = $2";
        const TOUCH: &str = "UPDATE projects SET updated_at = $1 WHERE id = $2";
        on_tx!(self, c => sqlx::query(REOPEN).bind(task.as_uuid()).bind(project.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query(TOUCH).bind(Utc::now()).bind(project.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_taken_literally_by_like() {
        assert_eq!(contains_pattern("Contract"), "%contract%");
        assert_eq!(contains_pattern("100%_a\\b"), "%100\\%\\_a\\\\b%");
    }
}
