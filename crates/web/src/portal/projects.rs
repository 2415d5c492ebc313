//! The customer's projects: the list, one project (progress, next task, welcome,
//! phases and tasks with a filter), a task's page, and completing a simple task.
//!
//! Every handler starts from [`Customer`] and, for one project, [`Customer::role_in`]:
//! a project the person does not belong to — and any task that is not
//! customer-visible — is "not found", exactly like one that does not exist.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::access::load;
use super::page_cache::ProjectPage;
use super::pages::{paragraphs, render, render_with};
use super::session::CsrfForm;
use super::session::Customer;
use crate::WebState;
use crate::csrf::NoFields;
use crate::page_error::{PageError, PageResult};
use handoff_domain::people::{Actor, ProjectRole};
use handoff_domain::project::{ProjectDetails, Task};
use handoff_domain::{OwnerSide, TaskKind, TaskStatus, UserId, Visibility};

/// Which tasks the project page lists (`?filter=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    /// Assigned to the signed-in person.
    Mine,
    /// The customer side's tasks (owner side "customer"), whoever is assigned.
    Company,
}

impl Filter {
    const ALL: [(Filter, &'static str, &'static str); 3] = [
        (Filter::All, "all", "All tasks"),
        (Filter::Mine, "mine", "My tasks"),
        (Filter::Company, "company", "Company tasks"),
    ];

    /// Unknown values show everything rather than an error: it is only a view.
    fn parse(value: Option<&str>) -> Filter {
        Self::ALL
            .iter()
            .find(|(_, key, _)| Some(*key) == value)
            .map_or(Filter::All, |(f, _, _)| *f)
    }

    fn keeps(self, task: &Task, me: UserId) -> bool {
        match self {
            Filter::All => true,
            Filter::Mine => task.assignee_id == Some(me),
            Filter::Company => task.owner == OwnerSide::Customer,
        }
    }
}

/// Whether a customer with `role` may complete `task` (whose status as seen is
/// `status`) from the portal. The one place the rule lives — in two halves, because a
/// project's task lists are built once for all its visitors ([`completable`], as
/// `completable` on each task) and the templates add the visitor's half ([`may_edit`],
/// as `can_edit`). Richer task types add their own actions on the task page.
pub fn may_complete(role: ProjectRole, task: &Task, status: TaskStatus) -> bool {
    may_edit(role) && completable(task, status)
}

/// Whether someone with `role` may change the project at all (viewers may not).
pub fn may_edit(role: ProjectRole) -> bool {
    role != ProjectRole::CustomerViewer
}

/// Whether the task is one customers complete from the portal with a button: a
/// customer-visible, customer-owned to-do that is open.
pub fn completable(task: &Task, status: TaskStatus) -> bool {
    task.visibility == Visibility::Customer
        && task.owner == OwnerSide::Customer
        && matches!(task.kind, TaskKind::Todo)
        && matches!(status, TaskStatus::Pending | TaskStatus::InProgress)
}

#[derive(Serialize)]
struct ListedProject {
    name: String,
    href: String,
    self_service: bool,
    start_date: String,
    goal_date: Option<String>,
    percent: u8,
}

/// `GET /projects`.
pub(super) async fn list(State(state): State<WebState>, me: Customer) -> PageResult<Response> {
    let projects: Vec<ListedProject> = state
        .store
        .customer_projects(me.user.id)
        .await?
        .into_iter()
        .map(|s| ListedProject {
            href: format!("/projects/{}", s.project.id),
            name: s.project.name,
            self_service: s.project.self_service,
            start_date: s.project.start_date.to_string(),
            goal_date: s.project.goal_date.map(|d| d.to_string()),
            percent: s.progress.percent(),
        })
        .collect();
    #[derive(Serialize)]
    struct Page {
        projects: Vec<ListedProject>,
    }
    render(&state, "projects.html", "Your projects", Some(&me), &Page { projects })
}

/// A task as the portal lists it. It is the same for every visitor, so a project's
/// lists are built once per page version ([`ProjectPage::lists`]); what depends on who
/// looks — "Assigned to you", whether they may complete it — the templates decide from
/// `site.me_id` and the page's `can_edit`.
#[derive(Serialize)]
pub(super) struct TaskView {
    key: String,
    title: String,
    status: &'static str,
    status_label: &'static str,
    owner_label: &'static str,
    /// To tell "Assigned to you" apart.
    assignee_id: Option<String>,
    /// How the assignment reads to anyone but the assignee.
    assignee_label: String,
    due_date: Option<String>,
    href: String,
    complete_href: String,
    /// [`completable`]: a visitor who [`may_edit`] gets the button.
    completable: bool,
}

impl TaskView {
    pub fn of(page: &ProjectPage, t: &Task) -> TaskView {
        let details = &page.details;
        let status = details.status_of(t);
        let base = format!("/projects/{}/tasks/{}", details.project.id, t.key);
        TaskView {
            key: t.key.to_string(),
            title: t.title.clone(),
            status: status.as_str(),
            status_label: status.label(),
            owner_label: match t.owner {
                OwnerSide::Customer => "Your team",
                OwnerSide::Staff => "Onboarding team",
            },
            assignee_id: t.assignee_id.map(|id| id.to_string()),
            assignee_label: match t.assignee_id {
                Some(id) => page
                    .names
                    .get(&id)
                    .map_or_else(|| "Assigned".to_owned(), |n| format!("Assigned to {n}")),
                None => "Unassigned".to_owned(),
            },
            due_date: t.due_date.map(|d| d.to_string()),
            complete_href: format!("{base}/complete"),
            href: base,
            completable: completable(t, status),
        }
    }
}

/// The customer-visible tasks, in plan order.
fn visible(details: &ProjectDetails) -> impl Iterator<Item = &Task> {
    details.tasks.iter().filter(|t| t.visibility == Visibility::Customer)
}

/// What `me` should do next: the first open customer task assigned to them, else the
/// first unassigned one, else the first at all.
fn next_task(details: &ProjectDetails, me: UserId) -> Option<&Task> {
    let open: Vec<&Task> = visible(details)
        .filter(|t| t.owner == OwnerSide::Customer)
        .filter(|t| matches!(details.status_of(t), TaskStatus::Pending | TaskStatus::InProgress))
        .collect();
    open.iter()
        .find(|t| t.assignee_id == Some(me))
        .or_else(|| open.iter().find(|t| t.assignee_id.is_none()))
        .or_else(|| open.first())
        .copied()
}

#[derive(Deserialize)]
pub(super) struct ViewQuery {
    #[serde(default)]
    filter: Option<String>,
}

#[derive(Serialize)]
struct ProjectHeader {
    name: String,
    company_name: Option<String>,
    start_date: String,
    goal_date: Option<String>,
    percent: u8,
    welcome_paragraphs: Vec<String>,
    team_href: String,
}

#[derive(Serialize)]
struct PhaseView {
    key: String,
    name: String,
    description: Option<String>,
    percent: u8,
    tasks: Vec<TaskView>,
}

#[derive(Serialize)]
struct FilterLink {
    label: &'static str,
    href: String,
    current: bool,
}

/// The phases with their customer-visible tasks that `filter` keeps (phases left
/// empty are left out), as the template takes them.
fn phase_list(page: &ProjectPage, filter: Filter, me: UserId) -> PageResult<tera::Value> {
    let details = &page.details;
    let phases: Vec<PhaseView> = details
        .phases
        .iter()
        .map(|phase| PhaseView {
            key: phase.key.to_string(),
            name: phase.name.clone(),
            description: phase.description.clone(),
            percent: details.phase_progress(phase).percent(),
            tasks: details
                .tasks_in(phase)
                .filter(|t| t.visibility == Visibility::Customer && filter.keeps(t, me))
                .map(|t| TaskView::of(page, t))
                .collect(),
        })
        .filter(|phase| !phase.tasks.is_empty())
        .collect();
    super::pages::to_value(&phases)
}

/// `GET /projects/{id}` (the link written to the CRM, so its shape stays).
pub(super) async fn view(
    State(state): State<WebState>,
    me: Customer,
    Path(id): Path<String>,
    Query(q): Query<ViewQuery>,
) -> PageResult<Response> {
    let (page, role) = load(&state, &me, &id).await?;
    let details = &page.details;
    let filter = Filter::parse(q.filter.as_deref());
    // "All" and "Company" read the same for every visitor: built once per page
    // version. "My tasks" is the visitor's own.
    let shared = match filter {
        Filter::All => Some(&page.lists.all),
        Filter::Company => Some(&page.lists.company),
        Filter::Mine => None,
    };
    let phases = match shared.and_then(|list| list.get()) {
        Some(built) => built.clone(),
        None => {
            let built = phase_list(&page, filter, me.user.id)?;
            if let Some(list) = shared {
                // Another request may have built it meanwhile; theirs is the same.
                let _ = list.set(built.clone());
            }
            built
        }
    };
    let p = &details.project;
    #[derive(Serialize)]
    struct Body {
        project: ProjectHeader,
        next_task: Option<TaskView>,
        filters: Vec<FilterLink>,
        can_edit: bool,
    }
    let body = Body {
        project: ProjectHeader {
            name: p.name.clone(),
            company_name: p.company_name.clone(),
            start_date: p.start_date.to_string(),
            goal_date: p.goal_date.map(|d| d.to_string()),
            percent: details.progress().percent(),
            welcome_paragraphs: paragraphs(p.welcome_message.as_deref().unwrap_or_default()),
            team_href: format!("/projects/{}/team", p.id),
        },
        next_task: next_task(details, me.user.id).map(|t| TaskView::of(&page, t)),
        filters: Filter::ALL
            .iter()
            .map(|(f, key, label)| FilterLink {
                label,
                href: format!("/projects/{}?filter={key}", p.id),
                current: *f == filter,
            })
            .collect(),
        can_edit: may_edit(role),
    };
    render_with(&state, "project.html", &p.name, Some(&me), &body, [("phases", phases)])
}

/// `GET /projects/{id}/tasks/{key}`: one task, with what its kind asks for (see
/// [`super::tasks`]).
pub(super) async fn task(State(state): State<WebState>, me: Customer, Path((id, key)): Path<(String, String)>) -> PageResult<Response> {
    let loaded = super::tasks::load_task(&state, &me, &id, &key).await?;
    super::tasks::render_task(&state, &me, &loaded, None).await
}

/// `POST /projects/{id}/tasks/{key}/complete`: through the one entry point, so the
/// activity trail and the CRM writebacks follow; back to the project afterwards.
pub(super) async fn complete(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: CsrfForm<NoFields>,
) -> PageResult<Response> {
    let me = &form.who;
    let (page, role) = load(&state, me, &id).await?;
    let details = &page.details;
    let task = details
        .task_by_key(&key)
        .filter(|t| t.visibility == Visibility::Customer)
        .ok_or(PageError::NotFound)?;
    let status = details.status_of(task);
    if status != TaskStatus::Completed && !may_complete(role, task, status) {
        return Err(PageError::Refused(refusal(role, task, status).into()));
    }
    state
        .engine
        .complete_task(details.project.id, &key, Actor::User(me.user.id), "portal")
        .await?;
    Ok(Redirect::to(&format!("/projects/{}#task-{key}", details.project.id)).into_response())
}

fn refusal(role: ProjectRole, task: &Task, status: TaskStatus) -> &'static str {
    if role == ProjectRole::CustomerViewer {
        "You can follow this project, but not change it."
    } else if task.owner == OwnerSide::Staff {
        "The onboarding team completes this task."
    } else if status == TaskStatus::Blocked {
        "This task waits for another one to be done first."
    } else {
        "This task is completed from its own page."
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_filters_show_everything() {
        assert_eq!(Filter::parse(Some("mine")), Filter::Mine);
        assert_eq!(Filter::parse(Some("company")), Filter::Company);
        assert_eq!(Filter::parse(Some("<script>")), Filter::All);
        assert_eq!(Filter::parse(None), Filter::All);
    }
}
