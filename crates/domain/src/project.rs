//! Projects: made from a template (as a plan of plain data the store then saves), and
//! read back with derived task statuses and progress.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::schedule::DueOffset;
use super::task::{DefaultAssignee, OwnerSide, Priority, TaskKind, TaskStatus, Visibility, effective_status};
use super::template::Template;
use super::{CompanyId, Key, PhaseId, Progress, ProjectId, ProjectStatus, TaskId, UserId};

/// A project ready to be saved: every id assigned and every due date computed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewProject {
    pub id: ProjectId,
    pub name: String,
    pub template_key: String,
    pub company_id: Option<CompanyId>,
    pub status: ProjectStatus,
    pub start_date: NaiveDate,
    pub goal_date: Option<NaiveDate>,
    pub welcome_message: Option<String>,
    pub self_service: bool,
    pub phases: Vec<NewPhase>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewPhase {
    pub id: PhaseId,
    pub key: Key,
    pub name: String,
    pub description: Option<String>,
    pub tasks: Vec<NewTask>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NewTask {
    pub id: TaskId,
    pub key: Key,
    pub title: String,
    pub description: Option<String>,
    pub kind: TaskKind,
    pub visibility: Visibility,
    pub owner: OwnerSide,
    pub priority: Priority,
    pub default_assignee: Option<DefaultAssignee>,
    pub due: Option<DueOffset>,
    pub due_date: Option<NaiveDate>,
    pub depends_on: Vec<TaskId>,
}

/// What the caller decides about a new project; the template supplies the rest.
#[derive(Clone, Debug)]
pub struct ProjectSpec {
    pub name: String,
    pub template_key: String,
    pub company_id: Option<CompanyId>,
    pub start_date: NaiveDate,
    pub goal_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProjectSpecError {
    #[error("a project needs a name")]
    EmptyName,
    #[error("the goal date {goal} is before the start date {start}")]
    GoalBeforeStart { start: NaiveDate, goal: NaiveDate },
    #[error("task `{0}` would be due past the end of the calendar")]
    DueOutOfRange(Key),
}

/// Instantiates `template` as a Draft project. The goal date defaults to the latest due
/// date in the template, so a project always says when it is expected to finish.
pub fn plan_project(template: &Template, spec: ProjectSpec) -> Result<NewProject, ProjectSpecError> {
    let name = spec.name.trim().to_owned();
    if name.is_empty() {
        return Err(ProjectSpecError::EmptyName);
    }
    let ids: HashMap<&Key, TaskId> = template.tasks().map(|t| (&t.key, TaskId::new())).collect();
    let mut phases = Vec::with_capacity(template.phases.len());
    for phase in &template.phases {
        let mut tasks = Vec::with_capacity(phase.tasks.len());
        for t in &phase.tasks {
            let due_date = match t.due {
                Some(offset) => Some(
                    offset
                        .due_date(spec.start_date)
                        .ok_or_else(|| ProjectSpecError::DueOutOfRange(t.key.clone()))?,
                ),
                None => None,
            };
            tasks.push(NewTask {
                id: ids.get(&t.key).copied().unwrap_or_default(),
                key: t.key.clone(),
                title: t.title.clone(),
                description: t.description.clone(),
                kind: t.kind.clone(),
                visibility: t.visibility,
                owner: t.owner,
                priority: t.priority,
                default_assignee: t.assignee,
                due: t.due,
                due_date,
                depends_on: t.depends_on.iter().filter_map(|k| ids.get(k).copied()).collect(),
            });
        }
        phases.push(NewPhase {
            id: PhaseId::new(),
            key: phase.key.clone(),
            name: phase.name.clone(),
            description: phase.description.clone(),
            tasks,
        });
    }
    let last_due = phases.iter().flat_map(|p| &p.tasks).filter_map(|t| t.due_date).max();
    let goal_date = spec.goal_date.or(last_due);
    if let Some(goal) = goal_date
        && goal < spec.start_date
    {
        return Err(ProjectSpecError::GoalBeforeStart {
            start: spec.start_date,
            goal,
        });
    }
    Ok(NewProject {
        id: ProjectId::new(),
        name,
        template_key: spec.template_key,
        company_id: spec.company_id,
        status: ProjectStatus::Draft,
        start_date: spec.start_date,
        goal_date,
        welcome_message: template.welcome_message.clone(),
        self_service: template.self_service,
        phases,
    })
}

/// A project as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub template_key: String,
    pub company_id: Option<CompanyId>,
    pub company_name: Option<String>,
    pub status: ProjectStatus,
    pub start_date: NaiveDate,
    pub goal_date: Option<NaiveDate>,
    pub welcome_message: Option<String>,
    pub self_service: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Phase {
    pub id: PhaseId,
    pub key: Key,
    pub name: String,
    pub description: Option<String>,
    pub position: i32,
}

/// A task as stored: `status` is the stored one; see [`ProjectDetails::status_of`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Task {
    pub id: TaskId,
    pub phase_id: PhaseId,
    pub key: Key,
    pub title: String,
    pub description: Option<String>,
    pub kind: TaskKind,
    pub visibility: Visibility,
    pub owner: OwnerSide,
    pub priority: Priority,
    pub status: TaskStatus,
    pub due_date: Option<NaiveDate>,
    pub assignee_id: Option<UserId>,
    pub depends_on: Vec<TaskId>,
    pub completed_at: Option<DateTime<Utc>>,
}

/// A project with its phases and tasks, the unit most pages and commands show.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProjectDetails {
    pub project: Project,
    pub phases: Vec<Phase>,
    pub tasks: Vec<Task>,
}

impl ProjectDetails {
    /// The status a person sees, with Blocked derived from the dependencies.
    pub fn status_of(&self, task: &Task) -> TaskStatus {
        let met = task
            .depends_on
            .iter()
            .all(|dep| self.tasks.iter().any(|t| t.id == *dep && t.status == TaskStatus::Completed));
        effective_status(task.status, met)
    }

    pub fn tasks_in<'a>(&'a self, phase: &'a Phase) -> impl Iterator<Item = &'a Task> {
        self.tasks.iter().filter(move |t| t.phase_id == phase.id)
    }

    pub fn progress(&self) -> Progress {
        Progress::of(self.tasks.iter().map(|t| t.status == TaskStatus::Completed))
    }

    pub fn phase_progress(&self, phase: &Phase) -> Progress {
        Progress::of(self.tasks_in(phase).map(|t| t.status == TaskStatus::Completed))
    }

    pub fn task_by_key(&self, key: &str) -> Option<&Task> {
        self.tasks.iter().find(|t| t.key.as_str() == key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template;

    fn template() -> Template {
        template::parse(
            "t.toml",
            r#"
            name = "T"
            [[phases]]
            key = "one"
            name = "One"
            [[phases.tasks]]
            key = "a"
            title = "A"
            type = "todo"
            due_in_days = 3
            [[phases.tasks]]
            key = "b"
            title = "B"
            type = "todo"
            depends_on = ["a"]
            due_in_business_days = 10
            [[phases.tasks]]
            key = "c"
            title = "C"
            type = "todo"
            "#,
        )
        .unwrap()
    }

    fn spec(start: &str) -> ProjectSpec {
        ProjectSpec {
            name: "Acme".into(),
            template_key: "t".into(),
            company_id: None,
            start_date: start.parse().unwrap(),
            goal_date: None,
        }
    }

    #[test]
    fn a_new_project_is_a_draft_with_due_dates_from_the_start() {
        let p = plan_project(&template(), spec("2026-11-23")).unwrap();
        assert_eq!(p.status, ProjectStatus::Draft);
        let tasks = &p.phases[0].tasks;
        assert_eq!(tasks[0].due_date, Some("2026-11-26".parse().unwrap()));
        assert_eq!(tasks[1].due_date, Some("2026-12-07".parse().unwrap()));
        assert_eq!(tasks[2].due_date, None, "no offset means no due date, not a made-up one");
        assert_eq!(tasks[1].depends_on, vec![tasks[0].id]);
    }

    #[test]
    fn the_goal_date_defaults_to_the_last_due_date() {
        let p = plan_project(&template(), spec("2026-11-23")).unwrap();
        assert_eq!(p.goal_date, Some("2026-12-07".parse().unwrap()));
    }

    #[test]
    fn a_goal_before_the_start_is_refused() {
        let mut s = spec("2026-11-23");
        s.goal_date = Some("2026-11-01".parse().unwrap());
        assert!(matches!(
            plan_project(&template(), s),
            Err(ProjectSpecError::GoalBeforeStart { .. })
        ));
    }

    #[test]
    fn a_blank_name_is_refused() {
        let mut s = spec("2026-11-23");
        s.name = "  ".into();
        assert_eq!(plan_project(&template(), s), Err(ProjectSpecError::EmptyName));
    }
}
