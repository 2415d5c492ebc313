//! A project's Tasks tab (`/console/projects/{id}/tasks`): every task by phase with its
//! status, owner side, assignee, due date (overdue and due within three days flagged),
//! priority and whether it is internal; a quick complete or reopen per task; and bulk
//! reassignment — tick tasks (shift-click ticks a range, console.js), choose someone,
//! one POST, one transaction. A task's own page is [`super::task_detail`].
//!
//! Changes go back to the page they came from with a short notice (`?done=…`); a
//! refused change shows the page again with the reason and nothing changed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::pages::{Section, render};
use super::project_frame::ProjectFrame;
use super::session::{Staff, StaffForm};
use super::task_list;
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::people::Actor;
use handoff_domain::project::{ProjectDetails, Task};
use handoff_domain::{ProjectId, TaskStatus, UserId, Visibility};
use handoff_engine::EngineError;
use handoff_engine::staff_tasks::parse_assignee;
use handoff_store::Assignable;

/// The activity log's name for changes made here.
pub(super) const SOURCE: &str = "console";
/// A due date this many days away or fewer is flagged as due soon.
const DUE_SOON_DAYS: i64 = 3;

/// A change that was refused, to show on the page again: the reason and its status.
pub(super) struct Problem {
    pub status: StatusCode,
    pub message: String,
}

impl Problem {
    /// Bad input (a date that is not one, an id that names no one): 422.
    pub fn input(refusal: handoff_engine::Refusal) -> Self {
        Problem {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: refusal.to_string(),
        }
    }

    /// An engine refusal becomes a problem shown on the page (409); a task or project
    /// that is not there and a failed database stay errors.
    pub fn from_engine(error: EngineError) -> PageResult<Self> {
        match error {
            EngineError::Refused(r) => Ok(Problem {
                status: StatusCode::CONFLICT,
                message: r.to_string(),
            }),
            EngineError::Store(e) => Err(e.into()),
        }
    }
}

/// The notice a `?done=` code shows after a change (fixed texts: nothing from the
/// address is printed).
pub(super) fn done_notice(query: &HashMap<String, String>) -> Option<String> {
    let notice = match query.get("done")?.as_str() {
        "status" => "The task's status was changed.".to_owned(),
        "assignee" => "The task's assignee was changed.".to_owned(),
        "due" => "The task's due date was changed.".to_owned(),
        "comment" => "Your comment was added; the customer can see it.".to_owned(),
        "note" => "Your internal note was added.".to_owned(),
        "reassigned" => match query.get("n").and_then(|n| n.parse::<usize>().ok()) {
            Some(1) => "1 task was reassigned.".to_owned(),
            Some(n) => format!("{n} tasks were reassigned."),
            None => "The tasks were reassigned.".to_owned(),
        },
        _ => return None,
    };
    Some(notice)
}

/// How far a task's due date is: `overdue`, `due-soon` (the CSS classes) or neither.
pub(super) fn due_flag(due: Option<NaiveDate>, status: TaskStatus, today: NaiveDate) -> Option<&'static str> {
    let due = due?;
    if status == TaskStatus::Completed {
        return None;
    }
    if due < today {
        Some("overdue")
    } else if (due - today).num_days() <= DUE_SOON_DAYS {
        Some("due-soon")
    } else {
        None
    }
}

pub(super) fn today() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

/// One choice of an assignee select.
#[derive(Serialize)]
pub(super) struct AssigneeOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

/// Staff first, then the project's customers, each labelled with their side.
pub(super) fn assignee_options(people: &[Assignable], current: Option<UserId>) -> Vec<AssigneeOption> {
    people
        .iter()
        .map(|p| AssigneeOption {
            id: p.id.to_string(),
            label: format!("{} ({})", p.name, if p.staff { "staff" } else { "customer" }),
            selected: Some(p.id) == current,
        })
        .collect()
}

/// A task as the list and the task page show it.
#[derive(Serialize)]
pub(super) struct TaskRow {
    pub key: String,
    pub title: String,
    pub href: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub completed: bool,
    pub owner: &'static str,
    pub internal: bool,
    pub priority: &'static str,
    pub assignee: Option<String>,
    pub due_date: Option<String>,
    pub due_flag: Option<&'static str>,
    /// Ticked for bulk reassignment (kept when a bulk reassignment was refused).
    pub selected: bool,
}

impl TaskRow {
    pub fn of(details: &ProjectDetails, task: &Task, names: &HashMap<UserId, String>, today: NaiveDate) -> Self {
        let status = details.status_of(task);
        TaskRow {
            key: task.key.to_string(),
            title: task.title.clone(),
            href: format!("/console/projects/{}/tasks/{}", details.project.id, task.key),
            status: status.as_str(),
            status_label: status.label(),
            completed: status == TaskStatus::Completed,
            owner: task.owner.as_str(),
            internal: task.visibility == Visibility::Internal,
            priority: task.priority.as_str(),
            assignee: task
                .assignee_id
                .map(|id| names.get(&id).cloned().unwrap_or_else(|| "Someone removed".to_owned())),
            due_date: task.due_date.map(|d| d.to_string()),
            due_flag: due_flag(task.due_date, status, today),
            selected: false,
        }
    }
}

#[derive(Serialize)]
struct ListPage<'a> {
    frame: &'a ProjectFrame,
    phases_html: &'a str,
    assignees: Vec<AssigneeOption>,
    reassign_action: String,
    notice: Option<String>,
    error: Option<String>,
}

/// Renders the list, with `selected` tasks ticked and the `problem` of a refused change.
/// Without ticks the phases come from [`task_list`]'s cache.
async fn render_list(
    state: &WebState,
    me: &Staff,
    id: &str,
    selected: &HashSet<String>,
    notice: Option<String>,
    problem: Option<Problem>,
) -> PageResult<Response> {
    let project: ProjectId = id.parse().map_err(|_| PageError::NotFound)?;
    let today = today();
    let list = if selected.is_empty() {
        state.console_tasks.get(state, project, today).await?
    } else {
        Arc::new(task_list::render(state, project, today, selected).await?)
    };
    // Who can be given a task changes with the staff, which no project version
    // follows: read every time (one small query).
    let people = state.store.assignable_people(project).await?;
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let page = ListPage {
        reassign_action: format!("{}/tasks/reassign", list.frame.href),
        frame: &list.frame,
        phases_html: &list.phases_html,
        assignees: assignee_options(&people, None),
        notice,
        error: problem.map(|p| p.message),
    };
    let title = format!("Tasks · {}", list.project_name);
    let mut response = render(state, "console/tasks.html", &title, Some(me), Section::Projects, &page)?;
    *response.status_mut() = status;
    Ok(response)
}

/// `GET /console/projects/{id}/tasks`.
pub(super) async fn list(
    State(state): State<WebState>,
    me: Staff,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult<Response> {
    render_list(&state, &me, &id, &HashSet::new(), done_notice(&query), None).await
}

/// Shows the list again after a refused change made from it.
pub(super) async fn list_with_problem(
    state: &WebState,
    me: &Staff,
    id: &str,
    selected: &HashSet<String>,
    problem: Problem,
) -> PageResult<Response> {
    render_list(state, me, id, selected, None, Some(problem)).await
}

/// `POST /console/projects/{id}/tasks/reassign`: fields `task` (once per ticked task)
/// and `assignee` (a user id, or empty for no one). All the tasks or none.
pub(super) async fn reassign(
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: StaffForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let StaffForm { who: me, form } = form;
    let project = id.parse().map_err(|_| PageError::NotFound)?;
    let keys: Vec<String> = form.iter().filter(|(k, _)| k == "task").map(|(_, v)| v.clone()).collect();
    let selected: HashSet<String> = keys.iter().cloned().collect();
    let assignee = form.iter().find(|(k, _)| k == "assignee").map_or("", |(_, v)| v.as_str());
    let assignee = match parse_assignee(assignee) {
        Ok(a) => a,
        Err(r) => return list_with_problem(&state, &me, &id, &selected, Problem::input(r)).await,
    };
    match state
        .engine
        .reassign_tasks(project, &keys, assignee, Actor::User(me.id()), SOURCE)
        .await
    {
        Ok(n) => Ok(Redirect::to(&format!("/console/projects/{id}/tasks?done=reassigned&n={n}")).into_response()),
        Err(e) => list_with_problem(&state, &me, &id, &selected, Problem::from_engine(e)?).await,
    }
}

/// Where a change made on a task goes back to: the list (`back=list`) or the task.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub(super) enum Back {
    List,
    #[default]
    Task,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn past_due_is_overdue_and_the_next_three_days_are_due_soon() {
        let today = day("2026-12-03");
        let open = TaskStatus::Pending;
        assert_eq!(due_flag(Some(day("2026-12-02")), open, today), Some("overdue"));
        assert_eq!(due_flag(Some(day("2026-12-03")), open, today), Some("due-soon"));
        assert_eq!(due_flag(Some(day("2026-12-06")), open, today), Some("due-soon"));
        assert_eq!(due_flag(Some(day("2026-12-07")), open, today), None);
        assert_eq!(due_flag(Some(day("2026-12-01")), TaskStatus::Completed, today), None);
        assert_eq!(due_flag(None, open, today), None);
    }
}
