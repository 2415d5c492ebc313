//! What the staff console (and the JSON API) lists of projects: the project list with
//! its filters and keyset pages, the active projects of the dashboard, and a staff
//! member's open tasks across active projects. Read-only; every filter is in the SQL.
//!
//! The list is ordered by `(lower(name), id)` — a person scans it by name, and the id
//! makes the order total — and paged by a cursor holding the last row's pair, never by
//! OFFSET: a page costs the same wherever it is, and projects added or changed while
//! someone pages cause neither repeats nor gaps (index `projects_by_sort_name`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDate;
use serde::Serialize;
use uuid::Uuid;

use super::rows::{ProjectRow, project_columns};
use super::{Store, StoreError, Tx, on_pool, on_tx};
use handoff_domain::project::Project;
use handoff_domain::{Priority, Progress, ProjectId, ProjectStatus, TaskStatus, UserId};

/// Where a page of the project list starts: after this project in the list's order.
/// Travels as an opaque token (`?after=`), see [`ProjectCursor::token`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProjectCursor {
    /// The project's name as the database lowercases it (the order's first key).
    sort_name: String,
    id: ProjectId,
}

impl ProjectCursor {
    /// The cursor as URL-safe text.
    pub fn token(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}\n{}", self.id, self.sort_name))
    }

    /// A cursor from [`ProjectCursor::token`]'s text; `None` for anything else.
    pub fn parse(token: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (id, sort_name) = text.split_once('\n')?;
        Some(ProjectCursor {
            sort_name: sort_name.to_owned(),
            id: id.parse().ok()?,
        })
    }
}

/// Which projects to list; every field narrows the list, `None` keeps all.
#[derive(Clone, Debug, Default)]
pub struct ProjectFilter {
    pub status: Option<ProjectStatus>,
    /// Projects this staff member owns.
    pub owner: Option<UserId>,
    /// Part of the project's or the company's name, any case.
    pub search: Option<String>,
    pub after: Option<ProjectCursor>,
}

/// The person who owns a project (its active `owner` membership).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjectOwner {
    pub id: UserId,
    pub name: String,
}

/// A line of the console's project list.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjectListing {
    pub project: Project,
    pub progress: Progress,
    pub owner: Option<ProjectOwner>,
    /// Open tasks whose due date is before the day the list was read for.
    pub overdue_tasks: u64,
    #[serde(skip)]
    cursor: ProjectCursor,
}

impl ProjectListing {
    /// The cursor of the page that starts after this line.
    pub fn cursor(&self) -> &ProjectCursor {
        &self.cursor
    }
}

/// One page of the project list, and the cursor of the next one if there is more.
#[derive(Clone, Debug)]
pub struct ProjectPage {
    pub projects: Vec<ProjectListing>,
    pub next: Option<ProjectCursor>,
}

/// An open task assigned to someone, with where it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssignedTask {
    pub project_id: ProjectId,
    pub project_name: String,
    pub company_name: Option<String>,
    pub phase_name: String,
    pub key: String,
    pub title: String,
    /// The status a person sees: Blocked while a task it depends on is open.
    pub status: TaskStatus,
    pub priority: Priority,
    pub due_date: Option<NaiveDate>,
}

#[derive(sqlx::FromRow)]
struct ListingRow {
    #[sqlx(flatten)]
    project: ProjectRow,
    sort_name: String,
    total_tasks: i64,
    completed_tasks: i64,
    overdue_tasks: i64,
    owner_id: Option<Uuid>,
    owner_first_name: Option<String>,
    owner_last_name: Option<String>,
    owner_email: Option<String>,
}

/// The columns and joins of a listing; `$1` is the day tasks are overdue before. (A
/// macro, so each query is one `&'static str`.)
macro_rules! listing_select {
    () => {
        concat!(
            "SELECT ",
            project_columns!(),
            ", lower(p.name) AS sort_name, \
             (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id) AS total_tasks, \
             (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id AND t.status = 'completed') AS completed_tasks, \
             (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id AND t.status <> 'completed' AND t.due_date < $1) AS overdue_tasks, \
             o.id AS owner_id, o.first_name AS owner_first_name, o.last_name AS owner_last_name, o.email AS owner_email \
             FROM projects p LEFT JOIN companies c ON c.id = p.company_id \
             LEFT JOIN users o ON o.id = (SELECT m.user_id FROM memberships m WHERE m.project_id = p.id \
             AND m.role = 'owner' AND m.status = 'active' ORDER BY m.created_at, m.user_id LIMIT 1) "
        )
    };
}

impl Store {
    /// A page of at most `limit` projects matching `filter`, by name; `today` decides
    /// which tasks count as overdue.
    pub async fn console_projects(&self, filter: &ProjectFilter, today: NaiveDate, limit: u32) -> Result<ProjectPage, StoreError> {
        const SQL: &str = concat!(
            listing_select!(),
            "WHERE ($2 IS NULL OR p.status = $2) AND ($3 IS NULL OR o.id = $3) \
             AND ($4 IS NULL OR lower(p.name) LIKE $4 ESCAPE '\\' OR lower(c.name) LIKE $4 ESCAPE '\\') \
             AND ($5 IS NULL OR (lower(p.name), p.id) > ($5, $6)) \
             ORDER BY lower(p.name), p.id LIMIT $7"
        );
        let status = filter.status.map(ProjectStatus::as_str);
        let owner = filter.owner.map(|u| u.as_uuid());
        let search = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(like_pattern);
        let (after_name, after_id) = match &filter.after {
            Some(c) => (Some(c.sort_name.as_str()), Some(c.id.as_uuid())),
            None => (None, None),
        };
        // One more than asked for says whether there is a next page.
        let fetch = i64::from(limit) + 1;
        let rows: Vec<ListingRow> = on_pool!(self, pool => sqlx::query_as(SQL)
            .bind(today)
            .bind(status)
            .bind(owner)
            .bind(search.as_deref())
            .bind(after_name)
            .bind(after_id)
            .bind(fetch)
            .fetch_all(pool)
            .await)?;
        let mut projects = rows.into_iter().map(ProjectListing::try_from).collect::<Result<Vec<_>, _>>()?;
        let more = projects.len() > usize::try_from(limit).unwrap_or(usize::MAX);
        projects.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        let next = if more { projects.last().map(|p| p.cursor.clone()) } else { None };
        Ok(ProjectPage { projects, next })
    }

    /// Active projects for the dashboard: those `me` owns first, then the others, each
    /// group by name; at most `limit`.
    pub async fn dashboard_projects(&self, me: UserId, today: NaiveDate, limit: u32) -> Result<Vec<ProjectListing>, StoreError> {
        const SQL: &str = concat!(
            listing_select!(),
            "WHERE p.status = 'active' ORDER BY CASE WHEN o.id = $2 THEN 0 ELSE 1 END, lower(p.name), p.id LIMIT $3"
        );
        let rows: Vec<ListingRow> = on_pool!(self, pool => sqlx::query_as(SQL)
            .bind(today)
            .bind(me.as_uuid())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await)?;
        rows.into_iter().map(ProjectListing::try_from).collect()
    }

    /// The listing line of one project (its owner and overdue count), or `None`.
    pub async fn console_project(&self, id: ProjectId, today: NaiveDate) -> Result<Option<ProjectListing>, StoreError> {
        const SQL: &str = concat!(listing_select!(), "WHERE p.id = $2");
        let row: Option<ListingRow> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(today).bind(id.as_uuid()).fetch_optional(pool).await)?;
        row.map(ProjectListing::try_from).transpose()
    }

    /// The open tasks assigned to `user` in active projects, soonest due first (so the
    /// overdue ones lead), tasks without a due date last; at most `limit`.
    pub async fn open_tasks_assigned_to(&self, user: UserId, limit: u32) -> Result<Vec<AssignedTask>, StoreError> {
        const SQL: &str = "SELECT t.project_id, p.name AS project_name, c.name AS company_name, ph.name AS phase_name, \
                           t.key, t.title, t.status, t.priority, t.due_date, \
                           EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks dt ON dt.id = d.depends_on_id \
                                   WHERE d.task_id = t.id AND dt.status <> 'completed') AS blocked \
                           FROM tasks t JOIN projects p ON p.id = t.project_id JOIN phases ph ON ph.id = t.phase_id \
                           LEFT JOIN companies c ON c.id = p.company_id \
                           WHERE t.assignee_id = $1 AND t.status <> 'completed' AND p.status = 'active' \
                           ORDER BY (t.due_date IS NULL), t.due_date, lower(p.name), p.id, t.position LIMIT $2";
        let rows: Vec<AssignedRow> =
            on_pool!(self, pool => sqlx::query_as(SQL).bind(user.as_uuid()).bind(i64::from(limit)).fetch_all(pool).await)?;
        rows.into_iter().map(AssignedTask::try_from).collect()
    }
}

impl Tx {
    /// How many of the project's tasks are not completed (completing a project waits
    /// for none to be left).
    pub async fn open_task_count(&mut self, project: ProjectId) -> Result<u64, StoreError> {
        const SQL: &str = "SELECT COUNT(*) FROM tasks WHERE project_id = $1 AND status <> 'completed'";
        let open: i64 = on_tx!(self, c => sqlx::query_scalar(SQL).bind(project.as_uuid()).fetch_one(&mut **c).await)?;
        Ok(count(open))
    }
}

/// `%text%` for LIKE, lowercased, with LIKE's own characters escaped (`\` is the
/// escape character the queries declare).
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl TryFrom<ListingRow> for ProjectListing {
    type Error = StoreError;
    fn try_from(r: ListingRow) -> Result<Self, StoreError> {
        let project: Project = r.project.try_into()?;
        let owner = r.owner_id.map(|id| ProjectOwner {
            id: UserId::from_uuid(id),
            name: display_name(r.owner_first_name, r.owner_last_name, r.owner_email),
        });
        let progress = Progress {
            completed: usize::try_from(r.completed_tasks).unwrap_or(0),
            total: usize::try_from(r.total_tasks).unwrap_or(0),
        };
        Ok(ProjectListing {
            cursor: ProjectCursor {
                sort_name: r.sort_name,
                id: project.id,
            },
            project,
            progress,
            owner,
            overdue_tasks: count(r.overdue_tasks),
        })
    }
}

/// As `User::display_name`: first and last name, else either, else the address.
fn display_name(first: Option<String>, last: Option<String>, email: Option<String>) -> String {
    match (first, last) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(n), None) | (None, Some(n)) => n,
        (None, None) => email.unwrap_or_default(),
    }
}

#[derive(sqlx::FromRow)]
struct AssignedRow {
    project_id: Uuid,
    project_name: String,
    company_name: Option<String>,
    phase_name: String,
    key: String,
    title: String,
    status: String,
    priority: String,
    due_date: Option<NaiveDate>,
    blocked: bool,
}

impl TryFrom<AssignedRow> for AssignedTask {
    type Error = StoreError;
    fn try_from(r: AssignedRow) -> Result<Self, StoreError> {
        let stored = super::rows::parse_task_status(&r.status)?;
        Ok(AssignedTask {
            project_id: ProjectId::from_uuid(r.project_id),
            project_name: r.project_name,
            company_name: r.company_name,
            phase_name: r.phase_name,
            key: r.key,
            title: r.title,
            status: handoff_domain::task::effective_status(stored, !r.blocked),
            priority: super::rows::parse("tasks.priority", &r.priority)?,
            due_date: r.due_date,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_token_and_junk_is_no_cursor() {
        let cursor = ProjectCursor {
            sort_name: "acme\nonboarding: ünïcode".into(),
            id: ProjectId::new(),
        };
        assert_eq!(ProjectCursor::parse(&cursor.token()), Some(cursor));
        for junk in ["", "not base64!", "bm90IGEgY3Vyc29y"] {
            assert_eq!(ProjectCursor::parse(junk), None, "{junk}");
        }
    }

    #[test]
    fn like_patterns_match_the_text_itself() {
        assert_eq!(like_pattern("Acme"), "%acme%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }
}
