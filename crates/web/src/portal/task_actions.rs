//! What a person does on a task's page: submit a form, answer a question, decide an
//! approval, comment, take or give the task. Each goes through [`CsrfForm`] (signed
//! in, the session's form token), then [`load_task`] (a member, a customer-visible
//! task: else not found), then [`super::tasks::check`] (the role and the task's
//! state), then one call into the [`handoff_engine::Engine`], which writes the change, its activity
//! and any CRM writeback in one transaction. Bad input shows the page again (422) with
//! the person's values and an error beside each field; success goes back to the task.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::csrf::CsrfForm;
use super::error::{PortalError, PortalResult};
use super::tasks::{Action, Loaded, Rejected, load_task, render_task, teammates};
use crate::WebState;
use handoff_domain::form::{self, Submission};
use handoff_domain::people::Actor;
use handoff_domain::{TaskKind, UserId};

const SOURCE: &str = "portal";

fn back(loaded: &Loaded, anchor: &str) -> Response {
    Redirect::to(&format!("{}{anchor}", loaded.task_href())).into_response()
}

fn invalid(id: &str, message: String, values: HashMap<String, String>) -> Rejected {
    Rejected::one(StatusCode::UNPROCESSABLE_ENTITY, id, message, values)
}

/// `POST /projects/{id}/tasks/{key}/form`: the fields are named `field-<key>`; every
/// one is checked on the server (required, type, options), and valid answers are
/// stored and complete the task in one transaction.
pub(super) async fn submit_form(
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    form: CsrfForm<HashMap<String, String>>,
) -> PortalResult<Response> {
    let me = &form.customer;
    let loaded = load_task(&state, me, &id, &key).await?;
    let TaskKind::Form { fields } = &loaded.task().kind else {
        return Err(PortalError::BadRequest("This task is not a form.".into()));
    };
    loaded.check(Action::Work)?;
    let values: HashMap<String, String> = form.form.into_iter().filter(|(k, _)| k.starts_with("field-")).collect();
    let input: HashMap<String, String> = values
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("field-").map(|k| (k.to_owned(), v.clone())))
        .collect();
    match form::validate(fields, &input) {
        Ok(answers) => {
            state
                .engine
                .submit_task(
                    loaded.page.details.project.id,
                    &key,
                    Actor::User(me.user.id),
                    SOURCE,
                    &Submission::Form(answers),
                )
                .await?;
            Ok(back(&loaded, ""))
        }
        Err(errors) => {
            let rejected = Rejected {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                values,
                errors: errors.into_iter().map(|e| (format!("field-{}", e.key), e.message)).collect(),
            };
            render_task(&state, me, &loaded, Some(rejected)).await
        }
    }
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
) -> PortalResult<Response> {
    let me = &form.customer;
    let loaded = load_task(&state, me, &id, &key).await?;
    if !matches!(loaded.task().kind, TaskKind::Question { .. }) {
        return Err(PortalError::BadRequest("This task is not a question.".into()));
    }
    loaded.check(Action::Work)?;
    match form::long_text(&form.form.answer, "your answer") {
        Ok(text) => {
            state
                .engine
                .submit_task(
                    loaded.page.details.project.id,
                    &key,
                    Actor::User(me.user.id),
                    SOURCE,
                    &Submission::Question(text),
                )
                .await?;
            Ok(back(&loaded, ""))
        }
        Err(message) => {
            let values = HashMap::from([("answer".to_owned(), form.form.answer.clone())]);
            render_task(&state, me, &loaded, Some(invalid("answer", message, values))).await
        }
    }
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
) -> PortalResult<Response> {
    let me = &form.customer;
    let loaded = load_task(&state, me, &id, &key).await?;
    if !matches!(loaded.task().kind, TaskKind::Approval { .. }) {
        return Err(PortalError::BadRequest("This task is not an approval.".into()));
    }
    loaded.check(Action::Decide)?;
    let approved = match form.form.decision.as_str() {
        "approve" => true,
        "request_changes" => false,
        _ => return Err(PortalError::BadRequest("Choose Approve or Request changes.".into())),
    };
    let note = if form.form.note.trim().is_empty() && approved {
        None
    } else {
        match form::long_text(&form.form.note, "what should change") {
            Ok(note) => Some(note),
            Err(message) => {
                let values = HashMap::from([("note".to_owned(), form.form.note.clone())]);
                return render_task(&state, me, &loaded, Some(invalid("note", message, values))).await;
            }
        }
    };
    let submission = Submission::Approval { approved, note };
    state
        .engine
        .submit_task(loaded.page.details.project.id, &key, Actor::User(me.user.id), SOURCE, &submission)
        .await?;
    Ok(back(&loaded, "#approval"))
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
) -> PortalResult<Response> {
    let me = &form.customer;
    let loaded = load_task(&state, me, &id, &key).await?;
    loaded.check(Action::Comment)?;
    match form::long_text(&form.form.body, "a comment") {
        Ok(body) => {
            state
                .engine
                .comment_on_task(loaded.page.details.project.id, &key, Actor::User(me.user.id), SOURCE, &body)
                .await?;
            Ok(back(&loaded, "#comments"))
        }
        Err(message) => {
            let values = HashMap::from([("comment-body".to_owned(), form.form.body.clone())]);
            render_task(&state, me, &loaded, Some(invalid("comment-body", message, values))).await
        }
    }
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
) -> PortalResult<Response> {
    let me = &form.customer;
    let loaded = load_task(&state, me, &id, &key).await?;
    loaded.check(Action::Assign)?;
    if loaded.task().assignee_id.is_some() {
        return Err(PortalError::Refused("Someone has already taken this task.".into()));
    }
    let assignee = match form.form.assignee.as_str() {
        "me" => me.user.id,
        other => {
            let chosen: Option<UserId> = other.parse().ok();
            let team = teammates(&state, &loaded, me.user.id).await?;
            match chosen.filter(|c| team.iter().any(|(id, _)| id == c)) {
                Some(id) => id,
                None => {
                    let message = "Choose yourself or a teammate on this project.".to_owned();
                    return render_task(&state, me, &loaded, Some(invalid("assignee", message, HashMap::new()))).await;
                }
            }
        }
    };
    state
        .engine
        .assign_task(loaded.page.details.project.id, &key, assignee, Actor::User(me.user.id), SOURCE)
        .await?;
    Ok(back(&loaded, ""))
}
