//! What a person does on a task's page: submit a form, answer a question, decide an
//! approval, comment, take or give the task. Each goes through [`CsrfForm`] (signed
//! in, the session's form token), then [`load_task`] (a member, a customer-visible
//! task: else not found), then [`super::tasks::check`] (the role and the task's
//! state), then one call into the [`handoff_engine::Engine`], which writes the change, its activity
//! and any CRM writeback in one transaction. Bad input shows the page again (422) with
//! the person's values and an error beside each field; success goes back to the task.
//!
//! The steps every action shares are [`TaskPost`]'s: [`TaskPost::open`] loads the task,
//! [`TaskPost::finish`] makes the [`Change`] or shows the page again. A handler is left
//! with its own part: the kind of task it is for, the [`Action`] it checks, and what
//! it makes of its form.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::CsrfForm;
use super::session::Customer;
use super::tasks::{Action, Loaded, Rejected, load_task, render_task, teammates};
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::form::{self, Submission};
use handoff_domain::people::Actor;
use handoff_domain::{TaskKind, UserId};

const SOURCE: &str = "portal";

/// A form posted on a task: who sent it and the task, which they may see.
struct TaskPost {
    state: WebState,
    me: Customer,
    loaded: Loaded,
}

/// What a task action asks the engine for, once its input is valid.
enum Change {
    /// A form's answers, a question's answer or an approval's decision.
    Submit(Submission),
    Comment(String),
    Assign(UserId),
}

impl TaskPost {
    /// The task `key` of project `id` for the sender of `form` ([`load_task`]: not found
    /// unless they may see it), and the rest of the form.
    async fn open<T>(state: WebState, id: &str, key: &str, form: CsrfForm<T>) -> PageResult<(Self, T)> {
        let CsrfForm { who: me, form } = form;
        let loaded = load_task(&state, &me, id, key).await?;
        Ok((TaskPost { state, me, loaded }, form))
    }

    /// The end of every task action: a valid change goes to the engine and the person
    /// back to the task (at `anchor`), a refused one shows the page again.
    async fn finish(&self, input: Result<Change, Rejected>, anchor: &str) -> PageResult<Response> {
        let change = match input {
            Ok(change) => change,
            Err(rejected) => return render_task(&self.state, &self.me, &self.loaded, Some(rejected)).await,
        };
        let engine = &self.state.engine;
        let project = self.loaded.page.details.project.id;
        let key = self.loaded.task().key.as_str();
        let actor = Actor::User(self.me.user.id);
        match change {
            Change::Submit(submission) => {
                engine.submit_task(project, key, actor, SOURCE, &submission).await?;
            }
            Change::Comment(body) => {
                engine.comment_on_task(project, key, actor, SOURCE, &body).await?;
            }
            Change::Assign(assignee) => engine.assign_task(project, key, assignee, actor, SOURCE).await?,
        }
        Ok(Redirect::to(&format!("{}{anchor}", self.loaded.task_href())).into_response())
    }
}

/// Refused input for control `id`, with what was `sent` in it to show again.
fn invalid(id: &str, message: String, sent: Option<&str>) -> Rejected {
    let values = sent.map(|v| HashMap::from([(id.to_owned(), v.to_owned())])).unwrap_or_default();
    Rejected::one(StatusCode::UNPROCESSABLE_ENTITY, id, message, values)
}

/// What was `sent` in control `id` as a long text ([`form::long_text`]; `what` names it
/// in the error), else refused with it to show again.
fn long_text(sent: &str, what: &str, id: &str) -> Result<String, Rejected> {
    form::long_text(sent, what).map_err(|message| invalid(id, message, Some(sent)))
}

/// A post for a kind of task this one is not.
fn not_a(what: &str) -> PageError {
    PageError::BadRequest(format!("This task is not {what}."))
}

/// `POST /projects/{id}/tasks/{key}/form`: the fields are named `field-<key>`; every
/// one is checked on the server (required, type, options), and valid answers are
/// stored and complete the task in one transaction.
pub(super) async fn submit_form(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: CsrfForm<HashMap<String, String>>,
) -> PageResult<Response> {
    let (post, sent) = TaskPost::open(state, &id, &key, form).await?;
    let TaskKind::Form { fields } = &post.loaded.task().kind else {
        return Err(not_a("a form"));
    };
    post.loaded.check(Action::Work)?;
    let values: HashMap<String, String> = sent.into_iter().filter(|(k, _)| k.starts_with("field-")).collect();
    let input: HashMap<String, String> = values
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("field-").map(|k| (k.to_owned(), v.clone())))
        .collect();
    let change = form::validate(fields, &input)
        .map(|answers| Change::Submit(Submission::Form(answers)))
        .map_err(|errors| Rejected {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            values,
            errors: errors.into_iter().map(|e| (format!("field-{}", e.key), e.message)).collect(),
        });
    post.finish(change, "").await
}

#[derive(Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    answer: String,
}

/// `POST /projects/{id}/tasks/{key}/answer`: a question's answer; completes the task.
pub(super) async fn answer(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: CsrfForm<AnswerForm>,
) -> PageResult<Response> {
    let (post, sent) = TaskPost::open(state, &id, &key, form).await?;
    if !matches!(post.loaded.task().kind, TaskKind::Question { .. }) {
        return Err(not_a("a question"));
    }
    post.loaded.check(Action::Work)?;
    let change = long_text(&sent.answer, "your answer", "answer").map(|text| Change::Submit(Submission::Question(text)));
    post.finish(change, "").await
}

#[derive(Deserialize)]
pub(super) struct ApprovalForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    note: String,
}

/// `POST /projects/{id}/tasks/{key}/approval`: `decision` is `approve` (completes the
/// task; a note is optional) or `request_changes` (the task stays open; a note saying
/// what to change is required). For customer admins.
pub(super) async fn decide(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: CsrfForm<ApprovalForm>,
) -> PageResult<Response> {
    let (post, sent) = TaskPost::open(state, &id, &key, form).await?;
    if !matches!(post.loaded.task().kind, TaskKind::Approval { .. }) {
        return Err(not_a("an approval"));
    }
    post.loaded.check(Action::Decide)?;
    let approved = match sent.decision.as_str() {
        "approve" => true,
        "request_changes" => false,
        _ => return Err(PageError::BadRequest("Choose Approve or Request changes.".into())),
    };
    let note = if sent.note.trim().is_empty() && approved {
        Ok(None)
    } else {
        long_text(&sent.note, "what should change", "note").map(Some)
    };
    let change = note.map(|note| Change::Submit(Submission::Approval { approved, note }));
    post.finish(change, "#approval").await
}

#[derive(Deserialize)]
pub(super) struct CommentForm {
    #[serde(default)]
    body: String,
}

/// `POST /projects/{id}/tasks/{key}/comments`.
pub(super) async fn comment(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: CsrfForm<CommentForm>,
) -> PageResult<Response> {
    let (post, sent) = TaskPost::open(state, &id, &key, form).await?;
    post.loaded.check(Action::Comment)?;
    let change = long_text(&sent.body, "a comment", "comment-body").map(Change::Comment);
    post.finish(change, "#comments").await
}

#[derive(Deserialize)]
pub(super) struct AssignForm {
    #[serde(default)]
    assignee: String,
}

/// `POST /projects/{id}/tasks/{key}/assign`: `assignee` is `me` or the id of a
/// teammate (a customer admin or member of the project). Only unassigned tasks.
pub(super) async fn assign(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: CsrfForm<AssignForm>,
) -> PageResult<Response> {
    let (post, sent) = TaskPost::open(state, &id, &key, form).await?;
    post.loaded.check(Action::Assign)?;
    if post.loaded.task().assignee_id.is_some() {
        return Err(PageError::Refused("Someone has already taken this task.".into()));
    }
    let change = assignee(&post, &sent.assignee).await?.map(Change::Assign);
    post.finish(change, "").await
}

/// The person `chosen` names: `me`, or a teammate's id; anyone else is refused.
async fn assignee(post: &TaskPost, chosen: &str) -> PageResult<Result<UserId, Rejected>> {
    let me = post.me.user.id;
    if chosen == "me" {
        return Ok(Ok(me));
    }
    let chosen: Option<UserId> = chosen.parse().ok();
    let team = teammates(&post.state, &post.loaded, me).await?;
    Ok(chosen.filter(|c| team.iter().any(|(id, _)| id == c)).ok_or_else(|| {
        let message = "Choose yourself or a teammate on this project.".to_owned();
        invalid("assignee", message, None)
    }))
}
