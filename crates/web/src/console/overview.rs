//! `/console/projects/{id}`: a project's overview (status and progress, each phase's
//! progress, task counts by status, dates, owner) and its lifecycle actions.
//!
//! The actions shown are the steps the project's status allows; one the rules hold
//! back (completing with open tasks) is shown disabled with the engine's reason beside
//! it ([`handoff_engine::lifecycle::check`], the same words the engine refuses with).
//! A step is posted to `POST /console/projects/{id}/status` (`to=`, the form token),
//! made by [`handoff_engine::Engine::set_project_status`] as the staff member from the
//! console, and answered by a redirect back with a notice of what happened; a refusal
//! shows the overview again with the reason.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::pages::{Section, render};
use super::project_frame::{self, ProjectFrame, ProjectTab};
use super::projects::today;
use super::session::{Staff, StaffForm};
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::people::Actor;
use handoff_domain::project::ProjectDetails;
use handoff_domain::{ProjectStatus, TaskStatus};
use handoff_engine::EngineError;

/// The activity source of changes made here.
const SOURCE: &str = "console";

/// What the redirect after a change says happened (`?done=`): a fixed word, so nothing
/// posted is echoed into the page.
fn notice(done: &str) -> Option<&'static str> {
    Some(match done {
        "activated" => "The project is active: customers can see it, and the members waiting for it have been sent their invitations.",
        "activated-uninvited" => {
            "The project is active, but no invitations could be sent: there is no master key (HANDOFF_MASTER_KEY). The members waiting for one are invited when it is configured and the project is activated again, or by a resend."
        }
        "reopened" => "The project is active again.",
        "completed" => "The project is completed.",
        "converted" => "The project is converted: handed over to the next team.",
        "archived" => "The project is archived. Its tasks no longer change.",
        "unchanged" => "Nothing changed: the project already had that status.",
        _ => return None,
    })
}

/// The word for the step `from` → `to`, as [`notice`] knows it.
fn done_word(from: ProjectStatus, to: ProjectStatus) -> &'static str {
    match (from, to) {
        (ProjectStatus::Completed, ProjectStatus::Active) => "reopened",
        (_, ProjectStatus::Active) => "activated",
        (_, ProjectStatus::Completed) => "completed",
        (_, ProjectStatus::Converted) => "converted",
        (_, ProjectStatus::Archived) => "archived",
        (_, ProjectStatus::Draft) => "unchanged",
    }
}

/// A lifecycle step offered on the page.
#[derive(Debug, Serialize)]
struct Action {
    to: &'static str,
    label: &'static str,
    explanation: &'static str,
    /// A box to tick before the step is taken (one that cannot be undone).
    confirm: Option<&'static str>,
    /// Why the step cannot be taken now; the button is disabled.
    refused: Option<String>,
}

fn action(from: ProjectStatus, to: ProjectStatus, open_tasks: u64) -> Action {
    let (label, explanation) = match (from, to) {
        (ProjectStatus::Completed, ProjectStatus::Active) => ("Reopen", "Back to active, for work that was missed."),
        (_, ProjectStatus::Active) => (
            "Activate",
            "Customers can see the project, and the members waiting for it are sent their invitations.",
        ),
        (_, ProjectStatus::Completed) => ("Complete", "Every task is done; the project can be reopened later."),
        (_, ProjectStatus::Converted) => ("Convert", "Hand the project over to the next team (e.g. customer success)."),
        (_, ProjectStatus::Archived) => (
            "Archive",
            "Closes the record for good: its tasks no longer change, customers no longer see it, and it cannot be reopened.",
        ),
        (_, ProjectStatus::Draft) => ("Back to draft", ""),
    };
    Action {
        to: to.as_str(),
        label,
        explanation,
        confirm: (to == ProjectStatus::Archived).then_some("Yes, archive it for good"),
        refused: handoff_engine::lifecycle::check(from, to, open_tasks).err().map(|r| r.to_string()),
    }
}

#[derive(Debug, Serialize)]
struct PhaseLine {
    name: String,
    percent: u8,
    completed: usize,
    total: usize,
}

#[derive(Debug, Serialize)]
struct Count {
    status: &'static str,
    label: &'static str,
    count: usize,
}

#[derive(Serialize)]
struct Overview {
    frame: ProjectFrame,
    start_date: NaiveDate,
    goal_date: Option<NaiveDate>,
    owner: Option<String>,
    overdue: u64,
    phases: Vec<PhaseLine>,
    counts: Vec<Count>,
    actions: Vec<Action>,
    /// Where the status form posts.
    status_href: String,
    notice: Option<&'static str>,
    /// A refused change that was posted: the reason.
    refusal: Option<String>,
}

fn open_tasks(details: &ProjectDetails) -> u64 {
    details.tasks.iter().filter(|t| t.status != TaskStatus::Completed).count() as u64
}

async fn overview(state: &WebState, me: &Staff, id: &str, notice: Option<&'static str>, refusal: Option<String>) -> PageResult<Response> {
    let (details, frame) = project_frame::load(state, id, ProjectTab::Overview).await?;
    let project = &details.project;
    let listing = state.store.console_project(project.id, today()).await?.ok_or(PageError::NotFound)?;
    let phases = details
        .phases
        .iter()
        .map(|phase| {
            let progress = details.phase_progress(phase);
            PhaseLine {
                name: phase.name.clone(),
                percent: progress.percent(),
                completed: progress.completed,
                total: progress.total,
            }
        })
        .collect();
    let counts = [
        TaskStatus::Pending,
        TaskStatus::InProgress,
        TaskStatus::Blocked,
        TaskStatus::Completed,
    ]
    .into_iter()
    .map(|status| Count {
        status: status.as_str(),
        label: status.label(),
        count: details.tasks.iter().filter(|t| details.status_of(t) == status).count(),
    })
    .collect();
    let open = open_tasks(&details);
    let body = Overview {
        status_href: format!("{}/status", frame.href),
        frame,
        start_date: project.start_date,
        goal_date: project.goal_date,
        owner: listing.owner.map(|o| o.name),
        overdue: listing.overdue_tasks,
        phases,
        counts,
        actions: project.status.next().iter().map(|to| action(project.status, *to, open)).collect(),
        notice,
        refusal,
    };
    let title = body.frame.name.clone();
    render(state, "console/overview.html", &title, Some(me), Section::Projects, &body)
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct OverviewQuery {
    #[serde(default)]
    done: Option<String>,
}

/// `GET /console/projects/{id}`.
pub(super) async fn page(
    State(state): State<WebState>,
    me: Staff,
    Path(id): Path<String>,
    Query(query): Query<OverviewQuery>,
) -> PageResult<Response> {
    overview(&state, &me, &id, query.done.as_deref().and_then(notice), None).await
}

#[derive(Debug, Deserialize)]
pub(super) struct StatusForm {
    #[serde(default)]
    to: String,
    /// `yes` from the box ticked beside a step that cannot be undone (archiving).
    confirm: Option<String>,
}

/// Archiving cannot be undone, so its form asks for a ticked box; without it nothing
/// changes (a slip of the finger on a phone must not close a project for good).
const CONFIRM_ARCHIVE: &str = "Tick “Yes, archive it for good” to archive the project: it cannot be undone.";

/// `POST /console/projects/{id}/status` with `to=`: one lifecycle step. Posting the
/// status the project already has changes nothing (a double submission).
pub(super) async fn change_status(
    State(state): State<WebState>,
    me: Staff,
    Path(id): Path<String>,
    StaffForm { form, .. }: StaffForm<StatusForm>,
) -> PageResult<Response> {
    let to: ProjectStatus = form
        .to
        .parse()
        .map_err(|e: handoff_domain::lifecycle::UnknownStatus| PageError::BadRequest(e.to_string()))?;
    let (details, frame) = project_frame::load(&state, &id, ProjectTab::Overview).await?;
    let from = details.project.status;
    let back = |done: &str| Redirect::to(&format!("{}?done={done}", frame.href)).into_response();
    if from == to {
        return Ok(back("unchanged"));
    }
    if to == ProjectStatus::Archived && form.confirm.as_deref() != Some("yes") {
        let mut response = overview(&state, &me, &id, None, Some(CONFIRM_ARCHIVE.to_owned())).await?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    }
    match state
        .engine
        .set_project_status(details.project.id, to, Actor::User(me.id()), SOURCE)
        .await
    {
        Ok(_) => {
            let word = done_word(from, to);
            let uninvited = word == "activated" && state.engine.sealer().is_none();
            Ok(back(if uninvited { "activated-uninvited" } else { word }))
        }
        Err(EngineError::Refused(refusal)) => {
            let mut response = overview(&state, &me, &id, None, Some(refusal.to_string())).await?;
            *response.status_mut() = StatusCode::CONFLICT;
            Ok(response)
        }
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_the_lifecycle_allows_has_a_notice() {
        for from in ProjectStatus::ALL {
            for to in from.next() {
                assert!(notice(done_word(from, *to)).is_some(), "{from} → {to}");
            }
        }
        assert_eq!(notice("<script>"), None);
    }

    #[test]
    fn completing_with_open_tasks_is_offered_disabled_with_the_count() {
        let complete = action(ProjectStatus::Active, ProjectStatus::Completed, 2);
        assert!(
            complete.refused.as_deref().is_some_and(|r| r.contains("2 tasks open")),
            "{complete:?}"
        );
        assert_eq!(action(ProjectStatus::Active, ProjectStatus::Completed, 0).refused, None);
        assert_eq!(action(ProjectStatus::Active, ProjectStatus::Archived, 2).refused, None);
    }
}
