//! `/console`: the signed-in staff member's open tasks across active projects, soonest
//! due first (so the overdue ones lead, flagged; those due within three days flagged
//! too), and the active projects with their progress, the ones they own first.

use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Serialize;

use super::pages::{Section, render};
use super::projects::{ListingView, today};
use super::session::Staff;
use crate::WebState;
use crate::page_error::PageResult;
use handoff_store::AssignedTask;

/// At most this many of each list; the projects list has the rest.
const TASKS_SHOWN: u32 = 200;
const PROJECTS_SHOWN: u32 = 50;

/// Tasks due within this many days from today are flagged as due soon.
const DUE_SOON_DAYS: i64 = 3;

/// How a due date stands against today: overdue (red), due soon (amber), or neither.
/// The CSS class goes with a word, so the flag does not rest on colour alone.
pub(super) fn due_flag(due: Option<NaiveDate>, today: NaiveDate) -> Option<(&'static str, &'static str)> {
    let days = (due? - today).num_days();
    if days < 0 {
        Some(("overdue", "Overdue"))
    } else if days <= DUE_SOON_DAYS {
        Some(("due-soon", "Due soon"))
    } else {
        None
    }
}

#[derive(Serialize)]
struct TaskLine {
    title: String,
    /// The project's tasks tab, at the task.
    href: String,
    project: String,
    project_href: String,
    company: Option<String>,
    phase: String,
    status: &'static str,
    priority: &'static str,
    due_date: Option<NaiveDate>,
    flag_class: Option<&'static str>,
    flag_label: Option<&'static str>,
}

impl TaskLine {
    fn of(task: &AssignedTask, today: NaiveDate) -> Self {
        let flag = due_flag(task.due_date, today);
        TaskLine {
            title: task.title.clone(),
            href: format!("/console/projects/{}/tasks#task-{}", task.project_id, task.key),
            project: task.project_name.clone(),
            project_href: format!("/console/projects/{}", task.project_id),
            company: task.company_name.clone(),
            phase: task.phase_name.clone(),
            status: task.status.label(),
            priority: task.priority.as_str(),
            due_date: task.due_date,
            flag_class: flag.map(|f| f.0),
            flag_label: flag.map(|f| f.1),
        }
    }
}

#[derive(Serialize)]
struct Dashboard {
    tasks: Vec<TaskLine>,
    overdue: usize,
    tasks_capped: bool,
    projects: Vec<ListingView>,
    projects_capped: bool,
}

/// `GET /console`.
pub(super) async fn page(State(state): State<WebState>, me: Staff) -> PageResult<Response> {
    let today = today();
    let tasks = state.store.open_tasks_assigned_to(me.id(), TASKS_SHOWN).await?;
    let projects = state.store.dashboard_projects(me.id(), today, PROJECTS_SHOWN).await?;
    let tasks: Vec<TaskLine> = tasks.iter().map(|t| TaskLine::of(t, today)).collect();
    let body = Dashboard {
        overdue: tasks.iter().filter(|t| t.flag_class == Some("overdue")).count(),
        tasks_capped: tasks.len() >= TASKS_SHOWN as usize,
        tasks,
        projects_capped: projects.len() >= PROJECTS_SHOWN as usize,
        projects: projects.iter().map(|p| ListingView::of(p, &me)).collect(),
    };
    render(&state, "console/dashboard.html", "Dashboard", Some(&me), Section::Dashboard, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn past_dates_are_overdue_and_the_next_three_days_due_soon() {
        let today: NaiveDate = "2026-12-03".parse().unwrap();
        let on = |d: &str| due_flag(Some(d.parse().unwrap()), today).map(|f| f.0);
        assert_eq!(on("2026-12-02"), Some("overdue"));
        assert_eq!(on("2026-12-03"), Some("due-soon"));
        assert_eq!(on("2026-12-06"), Some("due-soon"));
        assert_eq!(on("2026-12-07"), None);
        assert_eq!(due_flag(None, today), None);
    }
}
