//! The Emails tab of a project (`/console/projects/{id}/emails`): staff email chosen
//! customer members all their open tasks, one phase's, or a reminder for one task,
//! through the outbox; below, the project's recent task emails and their state.
//!
//! A double click sends one email: each page carries a fresh one-time nonce, the
//! outbox rows are keyed by it, and a second post with the same nonce queues nothing
//! and says "already sent" ([`handoff_engine::task_digests`]).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::pages::{Section, render};
use super::project_frame::{self, ProjectFrame, ProjectTab};
use super::session::{Staff, StaffForm};
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::outbox::TaskDigestScope;
use handoff_domain::people::{Actor, MembershipStatus, ProjectRole};
use handoff_domain::{ProjectId, TaskStatus, UserId, Visibility};
use handoff_engine::EngineError;
use handoff_engine::task_digests::{TaskDigestOutcome, TaskDigestRequest};

/// How many recent task emails the tab lists.
const RECENT: u32 = 25;

#[derive(Serialize)]
struct Recipient {
    user_id: String,
    name: String,
    email: String,
    role: &'static str,
}

#[derive(Serialize)]
struct PhaseChoice {
    key: String,
    name: String,
    open: usize,
}

#[derive(Serialize)]
struct TaskChoice {
    key: String,
    title: String,
    phase: String,
}

#[derive(Serialize)]
struct SentView {
    email: String,
    what: String,
    /// `pending`, `done` or `dead`, for the stylesheet.
    status: String,
    status_label: &'static str,
    queued_at: String,
    sent_at: Option<String>,
    last_error: Option<String>,
}

#[derive(Serialize)]
struct Body {
    frame: ProjectFrame,
    visible: bool,
    nonce: String,
    recipients: Vec<Recipient>,
    phases: Vec<PhaseChoice>,
    tasks: Vec<TaskChoice>,
    sent: Vec<SentView>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Done {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    n: Option<u32>,
}

fn when(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y, %H:%M UTC").to_string()
}

fn notice(q: &Done) -> Option<String> {
    match q.done.as_deref()? {
        "sent" => Some(match q.n.unwrap_or(0) {
            1 => "1 email is on its way.".to_owned(),
            n => format!("{n} emails are on their way."),
        }),
        "already-sent" => Some("Already sent: this form was submitted before, so nothing was sent again.".to_owned()),
        _ => None,
    }
}

async fn page(state: &WebState, me: &Staff, id: &str, notice: Option<String>, error: Option<String>) -> PageResult<Response> {
    let (details, frame) = project_frame::load(state, id, ProjectTab::Emails).await?;
    let project = details.project.id;
    let recipients = state
        .store
        .project_members(project)
        .await?
        .into_iter()
        .filter(|(m, _)| m.status == MembershipStatus::Active && !matches!(m.role, ProjectRole::Owner | ProjectRole::Staff))
        .map(|(m, u)| Recipient {
            user_id: u.id.to_string(),
            name: u.display_name(),
            email: u.email.to_string(),
            role: match m.role {
                ProjectRole::CustomerAdmin => "Customer admin",
                ProjectRole::CustomerViewer => "Viewer",
                _ => "Member",
            },
        })
        .collect();
    let open = |t: &&handoff_domain::project::Task| t.visibility == Visibility::Customer && t.status != TaskStatus::Completed;
    let phases = details
        .phases
        .iter()
        .map(|p| PhaseChoice {
            key: p.key.to_string(),
            name: p.name.clone(),
            open: details.tasks_in(p).filter(open).count(),
        })
        .collect();
    let tasks = details
        .phases
        .iter()
        .flat_map(|p| {
            details.tasks_in(p).filter(open).map(|t| TaskChoice {
                key: t.key.to_string(),
                title: t.title.clone(),
                phase: p.name.clone(),
            })
        })
        .collect();
    let phase_name = |key: &str| {
        details
            .phases
            .iter()
            .find(|p| p.key.as_str() == key)
            .map_or_else(|| key.to_owned(), |p| p.name.clone())
    };
    let task_title = |key: &str| details.task_by_key(key).map_or_else(|| key.to_owned(), |t| t.title.clone());
    let sent = state
        .store
        .task_digests(project, RECENT)
        .await?
        .into_iter()
        .map(|d| SentView {
            email: d.email.to_string(),
            what: match &d.scope {
                TaskDigestScope::AllOpen => "All open tasks".to_owned(),
                TaskDigestScope::Phase { phase } => format!("Open tasks of {}", phase_name(phase)),
                TaskDigestScope::Reminder { task } => format!("Reminder: {}", task_title(task)),
            },
            status_label: match d.status.as_str() {
                "done" => "Sent",
                "dead" => "Failed",
                _ if d.attempts > 0 => "Retrying",
                _ => "Queued",
            },
            status: d.status,
            queued_at: when(d.created_at),
            sent_at: d.done_at.map(when),
            last_error: d.last_error,
        })
        .collect();
    let body = Body {
        visible: details.project.status.visible_to_customers(),
        frame,
        nonce: uuid::Uuid::now_v7().to_string(),
        recipients,
        phases,
        tasks,
        sent,
        notice,
        error,
    };
    let title = format!("Emails · {}", details.project.name);
    render(state, "console/emails.html", &title, Some(me), Section::Projects, &body)
}

/// `GET /console/projects/{id}/emails`.
pub(super) async fn view(State(state): State<WebState>, me: Staff, Path(id): Path<String>, Query(q): Query<Done>) -> PageResult<Response> {
    page(&state, &me, &id, notice(&q), None).await
}

/// The send form as posted: `recipient` repeats (one per checkbox), so the fields come
/// as pairs.
fn parse_send(fields: &[(String, String)]) -> Result<TaskDigestRequest, String> {
    let one = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    let scope = match one("scope").as_str() {
        "all" => TaskDigestScope::AllOpen,
        "phase" => match one("phase") {
            phase if phase.is_empty() => return Err("Choose the phase whose tasks to send.".into()),
            phase => TaskDigestScope::Phase { phase },
        },
        "reminder" => match one("task") {
            task if task.is_empty() => return Err("Choose the task to send a reminder for.".into()),
            task => TaskDigestScope::Reminder { task },
        },
        _ => return Err("Choose what to send: all open tasks, a phase's, or a reminder.".into()),
    };
    let recipients = fields
        .iter()
        .filter(|(k, _)| k == "recipient")
        .map(|(_, v)| {
            v.parse::<UserId>()
                .map_err(|_| "One of the chosen members is not a member of this project.".to_owned())
        })
        .collect::<Result<Vec<_>, _>>()?;
    if recipients.is_empty() {
        return Err("Choose at least one customer member to email.".into());
    }
    Ok(TaskDigestRequest {
        scope,
        recipients,
        nonce: one("nonce"),
    })
}

/// `POST /console/projects/{id}/emails`.
pub(super) async fn send(
    State(state): State<WebState>,
    Path(id): Path<String>,
    form: StaffForm<Vec<(String, String)>>,
) -> PageResult<Response> {
    let StaffForm { who: me, form } = form;
    let project: ProjectId = id.parse().map_err(|_| PageError::NotFound)?;
    let request = match parse_send(&form) {
        Ok(r) => r,
        Err(message) => return with_error(&state, &me, &id, StatusCode::UNPROCESSABLE_ENTITY, message).await,
    };
    match state
        .engine
        .send_task_digest(project, &request, Actor::User(me.id()), "console")
        .await
    {
        Ok(TaskDigestOutcome::Queued { emails, .. }) => {
            Ok(Redirect::to(&format!("/console/projects/{project}/emails?done=sent&n={emails}#notice")).into_response())
        }
        Ok(TaskDigestOutcome::AlreadySent) => {
            Ok(Redirect::to(&format!("/console/projects/{project}/emails?done=already-sent#notice")).into_response())
        }
        Err(EngineError::Refused(r)) => with_error(&state, &me, &id, StatusCode::CONFLICT, r.to_string()).await,
        Err(e) => Err(e.into()),
    }
}

async fn with_error(state: &WebState, me: &Staff, id: &str, status: StatusCode, message: String) -> PageResult<Response> {
    let mut response = page(state, me, id, None, Some(message)).await?;
    *response.status_mut() = status;
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn the_send_form_needs_a_scope_its_choice_and_a_recipient() {
        let user = UserId::new().to_string();
        assert!(parse_send(&pairs(&[("scope", "all"), ("nonce", "n")])).is_err());
        assert!(parse_send(&pairs(&[("scope", "phase"), ("recipient", &user)])).is_err());
        assert!(parse_send(&pairs(&[("scope", "bogus"), ("recipient", &user)])).is_err());
        assert!(parse_send(&pairs(&[("scope", "all"), ("recipient", "not-an-id")])).is_err());
        let ok = parse_send(&pairs(&[
            ("scope", "reminder"),
            ("task", "sign"),
            ("recipient", &user),
            ("recipient", &user),
            ("nonce", "abc"),
        ]))
        .unwrap();
        assert_eq!(ok.scope, TaskDigestScope::Reminder { task: "sign".into() });
        assert_eq!(ok.recipients.len(), 2);
        assert_eq!(ok.nonce, "abc");
    }
}
