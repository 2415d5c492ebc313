//! One task in the console (`/console/projects/{id}/tasks/{key}`): its facts and
//! description, what the customer handed in (submissions, files), forms to change its
//! status, assignee and due date, and two lists kept apart on purpose — comments shared
//! with the customer (customer-visible tasks only) and internal notes, which the
//! portal never shows.
//!
//! Each change is one engine call ([`handoff_engine::staff_tasks`]) with its activity
//! and writebacks; it goes back to the task (or, from the list's quick buttons, to the
//! list) with a notice. A refused change shows the page again with the reason.

use std::collections::{HashMap, HashSet};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::pages::{Section, render};
use super::project_frame::{self, ProjectFrame, ProjectTab};
use super::session::{Staff, StaffForm};
use super::tasks::{AssigneeOption, Back, Problem, SOURCE, TaskRow, assignee_options, done_notice, list_with_problem, today};
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::form::Submission;
use handoff_domain::people::Actor;
use handoff_domain::{ProjectId, Visibility};
use handoff_engine::staff_tasks::{parse_assignee, parse_due_date, parse_task_status};
use handoff_engine::{EngineResult, Refusal};
use handoff_store::TaskComment;

#[derive(Serialize)]
struct CommentView {
    author: String,
    at: String,
    body: String,
}

impl From<TaskComment> for CommentView {
    fn from(c: TaskComment) -> Self {
        CommentView {
            author: c.author_name.unwrap_or_else(|| "Someone removed".to_owned()),
            at: c.at.format("%Y-%m-%d %H:%M UTC").to_string(),
            body: c.body,
        }
    }
}

#[derive(Serialize)]
struct SubmissionView {
    what: String,
    by: String,
    at: String,
}

#[derive(Serialize)]
struct FileView {
    name: String,
    size: String,
    review: String,
    by: String,
    at: String,
}

#[derive(Serialize)]
struct StatusOption {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct DetailPage {
    frame: ProjectFrame,
    task: TaskRow,
    phase: String,
    kind: &'static str,
    description: Option<String>,
    waits_for: Vec<String>,
    statuses: Vec<StatusOption>,
    assignees: Vec<AssigneeOption>,
    due_value: String,
    submissions: Vec<SubmissionView>,
    files: Vec<FileView>,
    /// Customer-visible tasks only; `None` for internal ones.
    comments: Option<Vec<CommentView>>,
    notes: Vec<CommentView>,
    action: String,
    notice: Option<String>,
    error: Option<String>,
    /// What was typed in a refused comment or note, to send again.
    comment_value: String,
    note_value: String,
}

/// What was sent in a refused comment (`comment`) or note (`note`).
struct Typed<'a> {
    field: &'static str,
    text: &'a str,
}

async fn render_detail(
    state: &WebState,
    me: &Staff,
    id: &str,
    key: &str,
    notice: Option<String>,
    problem: Option<(Problem, Option<Typed<'_>>)>,
) -> PageResult<Response> {
    let (details, frame) = project_frame::load(state, id, ProjectTab::Tasks).await?;
    let task = details.task_by_key(key).ok_or(PageError::NotFound)?;
    let store = &state.store;
    let names = store.task_assignee_names(details.project.id).await?;
    let people = store.assignable_people(details.project.id).await?;
    let row = TaskRow::of(&details, task, &names, today());
    let submissions = store.task_submissions(task.id).await?;
    let files = store.task_files(task.id).await?;
    let comments = match task.visibility {
        Visibility::Customer => Some(store.task_comments(task.id).await?.into_iter().map(Into::into).collect()),
        Visibility::Internal => None,
    };
    let notes = store.task_internal_notes(task.id).await?.into_iter().map(Into::into).collect();
    let stored = task.status.as_str();
    let statuses = [("pending", "Pending"), ("in_progress", "In progress"), ("completed", "Completed")]
        .into_iter()
        .map(|(value, label)| StatusOption {
            value,
            label,
            selected: value == stored,
        })
        .collect();
    let waits_for = task
        .depends_on
        .iter()
        .filter_map(|dep| details.tasks.iter().find(|t| t.id == *dep))
        .filter(|t| t.status != handoff_domain::TaskStatus::Completed)
        .map(|t| t.title.clone())
        .collect();
    let (status, error, typed) = match problem {
        Some((p, typed)) => (p.status, Some(p.message), typed),
        None => (StatusCode::OK, None, None),
    };
    let typed_in = |field: &str| {
        typed
            .as_ref()
            .filter(|t| t.field == field)
            .map_or(String::new(), |t| t.text.to_owned())
    };
    let page = DetailPage {
        action: row.href.clone(),
        phase: details
            .phases
            .iter()
            .find(|p| p.id == task.phase_id)
            .map_or(String::new(), |p| p.name.clone()),
        kind: task.kind.name(),
        description: task.description.clone(),
        waits_for,
        statuses,
        assignees: assignee_options(&people, task.assignee_id),
        due_value: task.due_date.map_or(String::new(), |d| d.to_string()),
        submissions: submissions
            .into_iter()
            .map(|s| SubmissionView {
                what: submission_label(&s.submission),
                by: s.by_name.unwrap_or_else(|| "The onboarding team".to_owned()),
                at: s.at.format("%Y-%m-%d %H:%M UTC").to_string(),
            })
            .collect(),
        files: files
            .into_iter()
            .map(|f| FileView {
                size: size_label(f.size_bytes),
                review: f.review_status,
                by: f.uploaded_by_name.unwrap_or_else(|| "Someone removed".to_owned()),
                at: f.uploaded_at.format("%Y-%m-%d %H:%M UTC").to_string(),
                name: f.original_name,
            })
            .collect(),
        comments,
        notes,
        notice,
        error,
        comment_value: typed_in("comment"),
        note_value: typed_in("note"),
        task: row,
        frame,
    };
    let title = format!("{} · {}", task.title, details.project.name);
    let mut response = render(state, "console/task.html", &title, Some(me), Section::Projects, &page)?;
    *response.status_mut() = status;
    Ok(response)
}

fn submission_label(s: &Submission) -> String {
    match s {
        Submission::Form(answers) => format!("Form answers ({} fields)", answers.len()),
        Submission::Question(_) => "An answer".to_owned(),
        Submission::Approval { approved: true, .. } => "Approved".to_owned(),
        Submission::Approval { approved: false, .. } => "Changes requested".to_owned(),
    }
}

fn size_label(bytes: u64) -> String {
    match bytes {
        b if b >= 1024 * 1024 => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
        b if b >= 1024 => format!("{} KB", b / 1024),
        b => format!("{b} bytes"),
    }
}

/// `GET /console/projects/{id}/tasks/{key}`.
pub(super) async fn page(
    State(state): State<WebState>,
    me: Staff,
    Path((id, key)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> PageResult<Response> {
    render_detail(&state, &me, &id, &key, done_notice(&query), None).await
}

/// The value field of a one-field change form, and where to go back to.
#[derive(Deserialize)]
pub(super) struct ChangeForm {
    #[serde(default)]
    value: String,
    #[serde(default)]
    back: Back,
}

/// The end of every change: on success back to the task (or list) with `done`; refused
/// input or a refused change shows the page it came from again.
async fn finish(
    state: &WebState,
    me: &Staff,
    (id, key): (&str, &str),
    back: Back,
    done: &str,
    result: Result<EngineResult<()>, Refusal>,
    typed: Option<Typed<'_>>,
) -> PageResult<Response> {
    let problem = match result {
        Ok(Ok(())) => {
            let to = match back {
                Back::List => format!("/console/projects/{id}/tasks?done={done}#task-{key}"),
                Back::Task => format!("/console/projects/{id}/tasks/{key}?done={done}"),
            };
            return Ok(Redirect::to(&to).into_response());
        }
        Ok(Err(e)) => Problem::from_engine(e)?,
        Err(refusal) => Problem::input(refusal),
    };
    match back {
        Back::List => list_with_problem(state, me, id, &HashSet::new(), problem).await,
        Back::Task => render_detail(state, me, id, key, None, Some((problem, typed))).await,
    }
}

fn project_id(id: &str) -> PageResult<ProjectId> {
    id.parse().map_err(|_| PageError::NotFound)
}

/// `POST …/tasks/{key}/status` with `value`: `pending`, `in_progress` or `completed`.
pub(super) async fn set_status(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: StaffForm<ChangeForm>,
) -> PageResult<Response> {
    let StaffForm { who: me, form } = form;
    let project = project_id(&id)?;
    let result = match parse_task_status(&form.value) {
        Ok(to) => Ok(state
            .engine
            .set_task_status(project, &key, to, Actor::User(me.id()), SOURCE)
            .await
            .map(drop)),
        Err(r) => Err(r),
    };
    finish(&state, &me, (&id, &key), form.back, "status", result, None).await
}

/// `POST …/tasks/{key}/assignee` with `value`: a user id, or empty for no one.
pub(super) async fn set_assignee(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: StaffForm<ChangeForm>,
) -> PageResult<Response> {
    let StaffForm { who: me, form } = form;
    let project = project_id(&id)?;
    let result = match parse_assignee(&form.value) {
        Ok(assignee) => Ok(state
            .engine
            .reassign_task(project, &key, assignee, Actor::User(me.id()), SOURCE)
            .await
            .map(drop)),
        Err(r) => Err(r),
    };
    finish(&state, &me, (&id, &key), form.back, "assignee", result, None).await
}

/// `POST …/tasks/{key}/due-date` with `value`: `YYYY-MM-DD`, or empty for none.
pub(super) async fn set_due_date(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: StaffForm<ChangeForm>,
) -> PageResult<Response> {
    let StaffForm { who: me, form } = form;
    let project = project_id(&id)?;
    let result = match parse_due_date(&form.value) {
        Ok(due) => Ok(state
            .engine
            .set_task_due_date(project, &key, due, Actor::User(me.id()), SOURCE)
            .await
            .map(drop)),
        Err(r) => Err(r),
    };
    finish(&state, &me, (&id, &key), form.back, "due", result, None).await
}

#[derive(Deserialize)]
pub(super) struct CommentForm {
    #[serde(default)]
    body: String,
}

async fn comment(state: WebState, id: String, key: String, form: StaffForm<CommentForm>, internal: bool) -> PageResult<Response> {
    let StaffForm { who: me, form } = form;
    let project = project_id(&id)?;
    let result = state
        .engine
        .staff_comment(project, &key, &form.body, internal, Actor::User(me.id()), SOURCE)
        .await
        .map(drop);
    let (done, field) = if internal { ("note", "note") } else { ("comment", "comment") };
    let typed = Typed { field, text: &form.body };
    finish(&state, &me, (&id, &key), Back::Task, done, Ok(result), Some(typed)).await
}

/// `POST …/tasks/{key}/comments` with `body`: a comment the customer sees.
pub(super) async fn add_comment(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: StaffForm<CommentForm>,
) -> PageResult<Response> {
    comment(state, id, key, form, false).await
}

/// `POST …/tasks/{key}/notes` with `body`: an internal note, for staff only.
pub(super) async fn add_note(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: StaffForm<CommentForm>,
) -> PageResult<Response> {
    comment(state, id, key, form, true).await
}
