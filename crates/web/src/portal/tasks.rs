//! A task's page: its facts and description, and the part its kind adds — a form to
//! fill, a question to answer, an approval to decide, files to upload — with its
//! comments and, while nobody has it, a way to take it or give it to a teammate.
//! The actions are in [`super::task_actions`] and [`super::files`]; they re-render this
//! page with the person's input and an error beside each field when it is refused.
//! The page itself is built in [`page`], part by part.
//!
//! Who may do what (one rule, [`check`], used to show and to accept):
//! - viewers read everything and change nothing (403);
//! - customer admins and members fill forms, answer questions, upload files, comment,
//!   and take or give unassigned customer tasks — on tasks the customer side owns;
//! - deciding an approval is for customer admins, who "approve on the company's
//!   behalf" (PRODUCT.md); members see it and may comment;
//! - comments are open on every customer-visible task, staff-owned and completed
//!   ones too: that is where a customer asks the onboarding team something.

mod page;

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;

use super::access::load;
use super::page_cache::ProjectPage;
use super::session::Customer;
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::people::{MembershipStatus, ProjectRole};
use handoff_domain::project::Task;
use handoff_domain::{OwnerSide, TaskStatus, UserId, Visibility};

pub(super) use page::render_task;

pub(super) const VIEWER: &str = "You can follow this project, but not change it.";

/// What a person wants to do on a task, for [`check`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Action {
    /// Fill the form, answer, upload, hand in.
    Work,
    /// Approve or request changes.
    Decide,
    Comment,
    Assign,
}

/// Whether `role` may do `action` on `task` (seen with `status`): the one rule the
/// page shows and the actions enforce.
pub(super) fn check(role: ProjectRole, task: &Task, status: TaskStatus, action: Action) -> PageResult<()> {
    if !matches!(role, ProjectRole::CustomerAdmin | ProjectRole::CustomerMember) {
        return Err(PageError::NotAllowed(VIEWER.into()));
    }
    if action == Action::Comment {
        return Ok(());
    }
    if action == Action::Decide && role != ProjectRole::CustomerAdmin {
        return Err(PageError::NotAllowed(
            "Only an administrator of your company can decide on an approval.".into(),
        ));
    }
    if task.owner == OwnerSide::Staff {
        return Err(PageError::Refused("The onboarding team does this task.".into()));
    }
    match status {
        TaskStatus::Completed => Err(PageError::Refused("This task is already completed.".into())),
        TaskStatus::Blocked if action != Action::Assign => {
            Err(PageError::Refused("This task waits for another one to be done first.".into()))
        }
        _ => Ok(()),
    }
}

/// A project and one of its customer-visible tasks, as the person may see them.
pub(super) struct Loaded {
    pub page: Arc<ProjectPage>,
    pub role: ProjectRole,
    index: usize,
}

impl Loaded {
    pub fn task(&self) -> &Task {
        &self.page.details.tasks[self.index]
    }

    pub fn status(&self) -> TaskStatus {
        self.page.details.status_of(self.task())
    }

    /// [`check`] for this task and person.
    pub fn check(&self, action: Action) -> PageResult<()> {
        check(self.role, self.task(), self.status(), action)
    }

    pub fn task_href(&self) -> String {
        format!("/projects/{}/tasks/{}", self.page.details.project.id, self.task().key)
    }
}

/// The project `raw_id` and its task `key`, or not found — for projects the person is
/// not in and tasks customers do not see alike.
pub(super) async fn load_task(state: &WebState, me: &Customer, raw_id: &str, key: &str) -> PageResult<Loaded> {
    let (page, role) = load(state, me, raw_id).await?;
    let index = page
        .details
        .tasks
        .iter()
        .position(|t| t.key.as_str() == key && t.visibility == Visibility::Customer)
        .ok_or(PageError::NotFound)?;
    Ok(Loaded { page, role, index })
}

/// What was sent and what was wrong with it, to show the page again. Keys are the
/// ids of the page's controls (`field-<key>`, `answer`, `note`, `file`, `comment-body`,
/// `assignee`).
pub(super) struct Rejected {
    pub status: StatusCode,
    pub values: HashMap<String, String>,
    pub errors: Vec<(String, String)>,
}

impl Rejected {
    pub fn one(status: StatusCode, id: &str, message: String, values: HashMap<String, String>) -> Self {
        Rejected {
            status,
            values,
            errors: vec![(id.to_owned(), message)],
        }
    }

    fn error(&self, id: &str) -> Option<String> {
        self.errors.iter().find(|(i, _)| i == id).map(|(_, m)| m.clone())
    }

    fn value(&self, id: &str) -> Option<String> {
        self.values.get(id).cloned()
    }
}

/// The project's active customer admins and members other than `me`: who a task can
/// be given to.
pub(super) async fn teammates(state: &WebState, loaded: &Loaded, me: UserId) -> PageResult<Vec<(UserId, String)>> {
    Ok(state
        .store
        .project_members(loaded.page.details.project.id)
        .await?
        .into_iter()
        .filter(|(m, u)| {
            m.status == MembershipStatus::Active && matches!(m.role, ProjectRole::CustomerAdmin | ProjectRole::CustomerMember) && u.id != me
        })
        .map(|(_, u)| (u.id, u.display_name()))
        .collect())
}
