//! The frame every page of one project shares: the project's name, company, status and
//! progress above a row of tabs (Overview, Tasks, Members, Documents, Emails, Activity).
//! Each project page puts a [`ProjectFrame`] into its body as `frame` and includes
//! `console/project_tabs.html`.

use serde::Serialize;

use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::ProjectId;
use handoff_domain::project::ProjectDetails;

/// The tabs of a project, in the order they are shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectTab {
    Overview,
    Tasks,
    Members,
    Documents,
    Emails,
    Activity,
}

const TABS: &[(ProjectTab, &str, &str)] = &[
    (ProjectTab::Overview, "", "Overview"),
    (ProjectTab::Tasks, "/tasks", "Tasks"),
    (ProjectTab::Members, "/members", "Members"),
    (ProjectTab::Documents, "/documents", "Documents"),
    (ProjectTab::Emails, "/emails", "Emails"),
    (ProjectTab::Activity, "/activity", "Activity"),
];

#[derive(Clone, Debug, Serialize)]
pub struct ProjectFrame {
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub status: &'static str,
    pub percent: u8,
    pub completed: usize,
    pub total: usize,
    /// The project's own URL (`/console/projects/{id}`).
    pub href: String,
    pub tabs: Vec<Tab>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tab {
    pub href: String,
    pub label: &'static str,
    pub current: bool,
}

impl ProjectFrame {
    pub fn of(details: &ProjectDetails, current: ProjectTab) -> Self {
        let project = &details.project;
        let progress = details.progress();
        let href = format!("/console/projects/{}", project.id);
        let tabs = TABS
            .iter()
            .map(|(tab, suffix, label)| Tab {
                href: format!("{href}{suffix}"),
                label,
                current: *tab == current,
            })
            .collect();
        Self {
            id: project.id.to_string(),
            name: project.name.clone(),
            company: project.company_name.clone(),
            status: project.status.as_str(),
            percent: progress.percent(),
            completed: progress.completed,
            total: progress.total,
            href,
            tabs,
        }
    }
}

/// The project `id` (a path segment) with its phases and tasks, and its frame; not
/// found for an id that is not one or names no project.
pub async fn load(state: &WebState, id: &str, current: ProjectTab) -> PageResult<(ProjectDetails, ProjectFrame)> {
    let id: ProjectId = id.parse().map_err(|_| PageError::NotFound)?;
    let details = state.store.project_details(id).await?.ok_or(PageError::NotFound)?;
    let frame = ProjectFrame::of(&details, current);
    Ok((details, frame))
}
