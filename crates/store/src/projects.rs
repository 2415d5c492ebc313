//! Projects, their phases and tasks.

use std::collections::HashMap;

use chrono::Utc;
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

use super::rows::{PhaseRow, ProjectRow, TaskRow, project_columns, task_columns};
use super::{Store, StoreError, Tx, activity, bulk, on_pool, on_tx};
use handoff_domain::people::{Actor, NewActivity};
use handoff_domain::project::{NewProject, Project, ProjectDetails};
use handoff_domain::{Email, PhaseId, Progress, ProjectId, ProjectStatus, TaskId, TaskStatus, UserId};

/// A line of the project list: the project and how far along it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjectSummary {
    pub project: Project,
    pub progress: Progress,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    #[sqlx(flatten)]
    project: ProjectRow,
    total_tasks: i64,
    completed_tasks: i64,
}

impl Store {
    /// Saves a planned project with its phases, tasks and dependencies, and a
    /// `project.created` activity entry, in one transaction.
    pub async fn create_project(&self, p: &NewProject, actor: Actor, source: &str) -> Result<ProjectId, StoreError> {
        let mut tx = self.begin().await?;
        let id = insert_project(&mut tx, p, actor, source).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A project with its phases and tasks, or `None` if there is no such project.
    pub async fn project_details(&self, id: ProjectId) -> Result<Option<ProjectDetails>, StoreError> {
        const PROJECT: &str = concat!(
            "SELECT ",
            project_columns!(),
            " FROM projects p LEFT JOIN companies c ON c.id = p.company_id WHERE p.id = $1"
        );
        const PHASES: &str = "SELECT id, key, name, description, position FROM phases WHERE project_id = $1 ORDER BY position";
        const TASKS: &str = concat!("SELECT ", task_columns!(), " FROM tasks WHERE project_id = $1 ORDER BY position");
        const DEPS: &str = "SELECT d.task_id, d.depends_on_id FROM task_dependencies d JOIN tasks dt ON dt.id = d.depends_on_id \
                            WHERE dt.project_id = $1 ORDER BY dt.position";
        let id = id.as_uuid();
        let (project, phases, tasks, deps) = on_pool!(self, pool => {
            let Some(project) = sqlx::query_as::<_, ProjectRow>(PROJECT).bind(id).fetch_optional(pool).await? else {
                return Ok(None);
            };
            let phases: Vec<PhaseRow> = sqlx::query_as(PHASES).bind(id).fetch_all(pool).await?;
            let tasks: Vec<TaskRow> = sqlx::query_as(TASKS).bind(id).fetch_all(pool).await?;
            let deps: Vec<(Uuid, Uuid)> = sqlx::query_as(DEPS).bind(id).fetch_all(pool).await?;
            (project, phases, tasks, deps)
        });
        let mut deps_of: HashMap<Uuid, Vec<TaskId>> = HashMap::new();
        for (task, dep) in deps {
            deps_of.entry(task).or_default().push(TaskId::from_uuid(dep));
        }
        let tasks = tasks
            .into_iter()
            .map(|t| {
                let deps = deps_of.remove(&t.id).unwrap_or_default();
                t.into_task(deps)
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(ProjectDetails {
            project: project.try_into()?,
            phases: phases.into_iter().map(TryInto::try_into).collect::<Result<_, _>>()?,
            tasks,
        }))
    }

    /// Every project, newest first, with its progress.
    pub async fn list_projects(&self) -> Result<Vec<ProjectSummary>, StoreError> {
        const SQL: &str = concat!(
            "SELECT ",
            project_columns!(),
            ", (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id) AS total_tasks, \
             (SELECT COUNT(*) FROM tasks t WHERE t.project_id = p.id AND t.status = 'completed') AS completed_tasks \
             FROM projects p LEFT JOIN companies c ON c.id = p.company_id ORDER BY p.created_at DESC, p.id DESC"
        );
        let rows: Vec<SummaryRow> = on_pool!(self, pool => sqlx::query_as(SQL).fetch_all(pool).await)?;
        rows.into_iter()
            .map(|r| {
                let progress = Progress {
                    completed: count(r.completed_tasks),
                    total: count(r.total_tasks),
                };
                Ok(ProjectSummary {
                    project: r.project.try_into()?,
                    progress,
                })
            })
            .collect()
    }
}

/// A task as a change to it needs it, read inside the change's transaction.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskState {
    pub id: TaskId,
    pub title: String,
    pub phase_id: PhaseId,
    pub status: TaskStatus,
    pub assignee: Option<UserId>,
    /// The status of the task's project.
    pub project_status: ProjectStatus,
}

impl Tx {
    /// The project's lifecycle status, or `None` if there is no such project.
    pub async fn project_status(&mut self, project: ProjectId) -> Result<Option<ProjectStatus>, StoreError> {
        const SQL: &str = "SELECT status FROM projects WHERE id = $1";
        let status: Option<String> = on_tx!(self, c => sqlx::query_scalar(SQL).bind(project.as_uuid()).fetch_optional(&mut **c).await)?;
        status.map(|s| super::rows::parse("projects.status", &s)).transpose()
    }

    pub async fn set_project_status(&mut self, project: ProjectId, to: ProjectStatus) -> Result<(), StoreError> {
        const SQL: &str = "UPDATE projects SET status = $1, updated_at = $2 WHERE id = $3";
        on_tx!(self, c => sqlx::query(SQL).bind(to.as_str()).bind(Utc::now()).bind(project.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The task `key` of `project` with its project's status, or `None`.
    pub async fn task_state(&mut self, project: ProjectId, key: &str) -> Result<Option<TaskState>, StoreError> {
        const SQL: &str = "SELECT t.id, t.title, t.phase_id, t.status, t.assignee_id, p.status FROM tasks t JOIN projects p ON p.id = t.project_id \
                           WHERE t.project_id = $1 AND t.key = $2";
        type Row = (Uuid, String, Uuid, String, Option<Uuid>, String);
        let row: Option<Row> = on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).bind(key).fetch_optional(&mut **c).await)?;
        row.map(|(id, title, phase, status, assignee, project_status)| {
            Ok(TaskState {
                id: TaskId::from_uuid(id),
                title,
                phase_id: PhaseId::from_uuid(phase),
                status: super::rows::parse_task_status(&status)?,
                assignee: assignee.map(UserId::from_uuid),
                project_status: super::rows::parse("projects.status", &project_status)?,
            })
        })
        .transpose()
    }

    /// The keys of the tasks `task` waits for that are not completed, in project order.
    pub async fn open_dependencies(&mut self, task: TaskId) -> Result<Vec<String>, StoreError> {
        const SQL: &str = "SELECT t.key FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on_id \
                           WHERE d.task_id = $1 AND t.status <> 'completed' ORDER BY t.position";
        Ok(on_tx!(self, c => sqlx::query_scalar(SQL).bind(task.as_uuid()).fetch_all(&mut **c).await)?)
    }

    /// Marks the task completed by `by` (the project's `updated_at` moves too).
    pub async fn mark_task_completed(&mut self, project: ProjectId, task: TaskId, by: Option<UserId>) -> Result<(), StoreError> {
        const COMPLETE: &str = "UPDATE tasks SET status = 'completed', completed_at = $1, completed_by = $2 WHERE id = $3";
        const TOUCH: &str = "UPDATE projects SET updated_at = $1 WHERE id = $2";
        let now = Utc::now();
        on_tx!(self, c => sqlx::query(COMPLETE).bind(now).bind(by.map(|u| u.as_uuid())).bind(task.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        on_tx!(self, c => sqlx::query(TOUCH).bind(now).bind(project.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The phase's name and how many of its tasks are not completed.
    pub async fn phase_open_tasks(&mut self, project: ProjectId, phase: PhaseId) -> Result<(String, u64), StoreError> {
        const SQL: &str = "SELECT ph.name, (SELECT COUNT(*) FROM tasks t WHERE t.project_id = $1 AND t.phase_id = ph.id AND t.status <> 'completed') \
                           FROM phases ph WHERE ph.id = $2";
        let (name, open): (String, i64) =
            on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).bind(phase.as_uuid()).fetch_one(&mut **c).await)?;
        Ok((name, u64::try_from(open).unwrap_or(0)))
    }

    /// Active members whose invitation waits for the project to go live (invite `now`
    /// or `when_active`, no link made yet), oldest membership first.
    pub async fn members_awaiting_invitation(&mut self, project: ProjectId) -> Result<Vec<(UserId, Email)>, StoreError> {
        const SQL: &str = "SELECT u.id, u.email FROM memberships m JOIN users u ON u.id = m.user_id \
                           WHERE m.project_id = $1 AND m.status = 'active' AND m.invite <> 'silently' \
                           AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.project_id = m.project_id AND i.user_id = m.user_id) \
                           ORDER BY m.created_at";
        let rows: Vec<(Uuid, String)> = on_tx!(self, c => sqlx::query_as(SQL).bind(project.as_uuid()).fetch_all(&mut **c).await)?;
        rows.into_iter()
            .map(|(user, email)| {
                Ok((
                    UserId::from_uuid(user),
                    Email::parse(&email).map_err(|e| StoreError::Corrupt(format!("users.email: {e}")))?,
                ))
            })
            .collect()
    }

    /// Saves a planned project (see [`Store::create_project`]).
    pub async fn insert_project(&mut self, p: &NewProject, actor: Actor, source: &str) -> Result<ProjectId, StoreError> {
        insert_project(self, p, actor, source).await
    }
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// Inserts a planned project inside the caller's transaction (see [`Store::create_project`]):
/// a handful of multi-row statements whatever the template's size.
async fn insert_project(tx: &mut super::Tx, p: &NewProject, actor: Actor, source: &str) -> Result<ProjectId, StoreError> {
    const PROJECT: &str = "INSERT INTO projects (id, name, template_key, company_id, status, start_date, goal_date, welcome_message, self_service, \
                           created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)";
    const PHASE_COLUMNS: usize = 6;
    const TASK_COLUMNS: usize = 15;
    const DEP_COLUMNS: usize = 2;
    let now = Utc::now();
    let tx = &mut *tx;
    on_tx!(&mut *tx, c => sqlx::query(PROJECT)
        .bind(p.id.as_uuid())
        .bind(&p.name)
        .bind(&p.template_key)
        .bind(p.company_id.map(|c| c.as_uuid()))
        .bind(p.status.as_str())
        .bind(p.start_date)
        .bind(p.goal_date)
        .bind(&p.welcome_message)
        .bind(p.self_service)
        .bind(now)
        .execute(&mut **c)
        .await.map(|r| r.rows_affected()))?;
    let phases: Vec<(i32, &handoff_domain::project::NewPhase)> = (0i32..).zip(&p.phases).collect();
    for chunk in phases.chunks(bulk::rows_per_statement(PHASE_COLUMNS)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO phases (id, project_id, position, key, name, description) VALUES {}",
            bulk::values(PHASE_COLUMNS, chunk.len(), 1)
        ));
        on_tx!(&mut *tx, c => {
            let mut q = sqlx::query(sql);
            for (position, phase) in chunk {
                q = q.bind(phase.id.as_uuid()).bind(p.id.as_uuid()).bind(*position).bind(phase.key.as_str()).bind(&phase.name).bind(&phase.description);
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    // Positions run across phases, 1-based, in template order.
    let tasks: Vec<(i32, &handoff_domain::project::NewPhase, &handoff_domain::project::NewTask)> = (1i32..)
        .zip(p.phases.iter().flat_map(|ph| ph.tasks.iter().map(move |t| (ph, t))))
        .map(|(i, (ph, t))| (i, ph, t))
        .collect();
    for chunk in tasks.chunks(bulk::rows_per_statement(TASK_COLUMNS)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO tasks (id, project_id, phase_id, position, key, title, description, kind, visibility, owner_side, \
             priority, status, due_date, due_rule, default_assignee) VALUES {}",
            bulk::values(TASK_COLUMNS, chunk.len(), 1)
        ));
        on_tx!(&mut *tx, c => {
            let mut q = sqlx::query(sql);
            for (position, phase, t) in chunk {
                q = q
                    .bind(t.id.as_uuid())
                    .bind(p.id.as_uuid())
                    .bind(phase.id.as_uuid())
                    .bind(*position)
                    .bind(t.key.as_str())
                    .bind(&t.title)
                    .bind(&t.description)
                    .bind(Json(&t.kind))
                    .bind(t.visibility.as_str())
                    .bind(t.owner.as_str())
                    .bind(t.priority.as_str())
                    .bind("pending")
                    .bind(t.due_date)
                    .bind(t.due.map(|d| d.to_string()))
                    .bind(t.default_assignee.map(|a| a.as_str()));
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    let deps: Vec<(TaskId, TaskId)> = p
        .phases
        .iter()
        .flat_map(|ph| &ph.tasks)
        .flat_map(|t| t.depends_on.iter().map(move |d| (t.id, *d)))
        .collect();
    for chunk in deps.chunks(bulk::rows_per_statement(DEP_COLUMNS)) {
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO task_dependencies (task_id, depends_on_id) VALUES {}",
            bulk::values(DEP_COLUMNS, chunk.len(), 1)
        ));
        on_tx!(&mut *tx, c => {
            let mut q = sqlx::query(sql);
            for (task, dep) in chunk {
                q = q.bind(task.as_uuid()).bind(dep.as_uuid());
            }
            q.execute(&mut **c).await.map(|r| r.rows_affected())
        })?;
    }
    let details =
        serde_json::json!({ "name": p.name, "template": p.template_key, "tasks": p.phases.iter().map(|ph| ph.tasks.len()).sum::<usize>() });
    activity::record(
        tx,
        &NewActivity {
            project_id: Some(p.id),
            actor,
            action: "project.created".into(),
            source: source.into(),
            details,
        },
    )
    .await?;
    Ok(p.id)
}
