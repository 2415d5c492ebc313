//! Projects, their phases and tasks.

use std::collections::HashMap;

use chrono::Utc;
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

use super::rows::{PhaseRow, ProjectRow, TaskRow, project_columns, task_columns};
use super::writeback::{self, EventContext};
use super::{Store, StoreError, Tx, activity, bulk, on_pool, on_tx};
use handoff_domain::people::{Actor, NewActivity};
use handoff_domain::plan::NewInvitation;
use handoff_domain::project::{NewProject, Project, ProjectDetails};
use handoff_domain::writeback::WritebackEvent;
use handoff_domain::{Progress, ProjectId, ProjectStatus, TaskId, TaskStatus};

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

/// What completing a task did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Completion {
    Completed,
    /// It was already completed; nothing changed and no activity was written.
    AlreadyCompleted,
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

    /// Moves a project through its lifecycle, refusing transitions the domain does not
    /// allow. The check and the change happen in one transaction, so two concurrent
    /// changes cannot both pass the check.
    pub async fn set_project_status(
        &self,
        id: ProjectId,
        to: ProjectStatus,
        actor: Actor,
        source: &str,
    ) -> Result<ProjectStatus, StoreError> {
        self.set_project_status_inviting(id, to, actor, source, &|| None).await
    }

    /// [`Store::set_project_status`], and when the project becomes visible to customers,
    /// the invitations its members were waiting for (invite `now` or `when_active`, not
    /// invited yet), each with a fresh link from `new_invitation` (None: not invited).
    pub async fn set_project_status_inviting(
        &self,
        id: ProjectId,
        to: ProjectStatus,
        actor: Actor,
        source: &str,
        new_invitation: &(dyn Fn() -> Option<NewInvitation> + Send + Sync),
    ) -> Result<ProjectStatus, StoreError> {
        const AWAITING: &str = "SELECT u.id, u.email FROM memberships m JOIN users u ON u.id = m.user_id \
                                WHERE m.project_id = $1 AND m.status = 'active' AND m.invite <> 'silently' \
                                AND NOT EXISTS (SELECT 1 FROM invitations i WHERE i.project_id = m.project_id AND i.user_id = m.user_id) \
                                ORDER BY m.created_at";
        let mut tx = self.begin().await?;
        let current: Option<String> = on_tx!(&mut tx, c => sqlx::query_scalar("SELECT status FROM projects WHERE id = $1").bind(id.as_uuid()).fetch_optional(&mut **c).await)?;
        let current: ProjectStatus = super::rows::parse("projects.status", &current.ok_or_else(|| StoreError::not_found("project", id))?)?;
        current.transition(to).map_err(|e| StoreError::Refused(e.to_string()))?;
        on_tx!(&mut tx, c => sqlx::query("UPDATE projects SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(to.as_str())
            .bind(Utc::now())
            .bind(id.as_uuid())
            .execute(&mut **c)
            .await.map(|r| r.rows_affected()))?;
        let context = EventContext {
            actor: match &actor {
                Actor::User(u) => Some(*u),
                Actor::System => None,
            },
            ..EventContext::default()
        };
        let details = serde_json::json!({ "from": current, "to": to });
        activity::record(
            &mut tx,
            &NewActivity {
                project_id: Some(id),
                actor,
                action: "project.status_changed".into(),
                source: source.into(),
                details,
            },
        )
        .await?;
        writeback::queue(&mut tx, id, &[(WritebackEvent::StatusChanged, context)], None).await?;
        if to.visible_to_customers() && !current.visible_to_customers() {
            let awaiting: Vec<(Uuid, String)> =
                on_tx!(&mut tx, c => sqlx::query_as(AWAITING).bind(id.as_uuid()).fetch_all(&mut **c).await)?;
            for (user, email) in awaiting {
                let Some(invitation) = new_invitation() else { break };
                let email = handoff_domain::Email::parse(&email).map_err(|e| StoreError::Corrupt(format!("users.email: {e}")))?;
                super::apply_plan::invite(&mut tx, id, handoff_domain::UserId::from_uuid(user), &email, &invitation).await?;
            }
        }
        tx.commit().await?;
        Ok(to)
    }

    /// Completes a task, if every task it depends on is completed. Completing a
    /// completed task changes nothing, so a retried request is harmless.
    pub async fn complete_task(&self, project: ProjectId, key: &str, actor: Actor, source: &str) -> Result<Completion, StoreError> {
        let mut tx = self.begin().await?;
        let done = complete_in(&mut tx, project, key, actor, source).await?;
        tx.commit().await?;
        Ok(done)
    }
}

/// [`Store::complete_task`] inside the caller's transaction, for changes that complete
/// a task as part of something larger (a form's answers and the completion are one).
pub(crate) async fn complete_in(tx: &mut Tx, project: ProjectId, key: &str, actor: Actor, source: &str) -> Result<Completion, StoreError> {
    const TASK: &str = "SELECT id, status, title, phase_id FROM tasks WHERE project_id = $1 AND key = $2";
    const PHASE_LEFT: &str = "SELECT ph.name, (SELECT COUNT(*) FROM tasks t WHERE t.project_id = $1 AND t.phase_id = ph.id AND t.status <> 'completed') \
                              FROM phases ph WHERE ph.id = $2";
    const OPEN_DEPS: &str = "SELECT t.key FROM task_dependencies d JOIN tasks t ON t.id = d.depends_on_id \
                             WHERE d.task_id = $1 AND t.status <> 'completed' ORDER BY t.position";
    const COMPLETE: &str = "UPDATE tasks SET status = 'completed', completed_at = $1, completed_by = $2 WHERE id = $3";
    let project_status: Option<String> = on_tx!(&mut *tx, c => sqlx::query_scalar("SELECT status FROM projects WHERE id = $1").bind(project.as_uuid()).fetch_optional(&mut **c).await)?;
    let project_status: ProjectStatus = super::rows::parse(
        "projects.status",
        &project_status.ok_or_else(|| StoreError::not_found("project", project))?,
    )?;
    // An archived project is a closed record: its history no longer changes.
    if project_status == ProjectStatus::Archived {
        return Err(StoreError::Refused(format!(
            "project {project} is archived; its tasks can no longer change"
        )));
    }
    let task: Option<(Uuid, String, String, Uuid)> =
        on_tx!(&mut *tx, c => sqlx::query_as(TASK).bind(project.as_uuid()).bind(key).fetch_optional(&mut **c).await)?;
    let (task_id, status, title, phase_id) = task.ok_or_else(|| StoreError::not_found("task", format!("`{key}` in project {project}")))?;
    if super::rows::parse_task_status(&status)? == TaskStatus::Completed {
        return Ok(Completion::AlreadyCompleted);
    }
    let open: Vec<String> = on_tx!(&mut *tx, c => sqlx::query_scalar(OPEN_DEPS).bind(task_id).fetch_all(&mut **c).await)?;
    if !open.is_empty() {
        return Err(StoreError::Refused(format!(
            "task `{key}` is blocked: it waits for {}",
            open.join(", ")
        )));
    }
    let by = match actor {
        Actor::User(u) => Some(u),
        Actor::System => None,
    };
    let progress_before = writeback::snapshot_in(&mut *tx, project).await?.map(|s| s.progress);
    let by_uuid = by.map(|u| u.as_uuid());
    on_tx!(&mut *tx, c => sqlx::query(COMPLETE).bind(Utc::now()).bind(by_uuid).bind(task_id).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    on_tx!(&mut *tx, c => sqlx::query("UPDATE projects SET updated_at = $1 WHERE id = $2").bind(Utc::now()).bind(project.as_uuid()).execute(&mut **c).await.map(|r| r.rows_affected()))?;
    let details = serde_json::json!({ "task": key });
    activity::record(
        &mut *tx,
        &NewActivity {
            project_id: Some(project),
            actor,
            action: "task.completed".into(),
            source: source.into(),
            details,
        },
    )
    .await?;
    // What the CRM hears of it (workflow writeback rules decide what, at delivery).
    let context = EventContext {
        task_title: Some(title),
        phase_name: None,
        actor: by,
    };
    let mut events = vec![(WritebackEvent::TaskCompleted, context.clone())];
    let (phase, left): (String, i64) =
        on_tx!(&mut *tx, c => sqlx::query_as(PHASE_LEFT).bind(project.as_uuid()).bind(phase_id).fetch_one(&mut **c).await)?;
    if left == 0 {
        let phase_context = EventContext {
            phase_name: Some(phase),
            ..context.clone()
        };
        events.push((WritebackEvent::PhaseCompleted, phase_context));
    }
    let after = writeback::snapshot_in(&mut *tx, project).await?;
    if after.as_ref().map(|s| s.progress) != progress_before {
        events.push((WritebackEvent::ProgressChanged, context));
    }
    writeback::queue(&mut *tx, project, &events, after).await?;
    Ok(Completion::Completed)
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

/// Inserts a planned project inside the caller's transaction (see [`Store::create_project`]):
/// a handful of multi-row statements whatever the template's size.
pub(super) async fn insert_project(tx: &mut super::Tx, p: &NewProject, actor: Actor, source: &str) -> Result<ProjectId, StoreError> {
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
