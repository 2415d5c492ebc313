//! A task's page: its facts and description, and the part its kind adds — a form to
//! fill, a question to answer, an approval to decide, files to upload — with its
//! comments and, while nobody has it, a way to take it or give it to a teammate.
//! The actions are in [`super::task_actions`] and [`super::files`]; they re-render this
//! page with the person's input and an error beside each field when it is refused.
//!
//! Who may do what (one rule, [`check`], used to show and to accept):
//! - viewers read everything and change nothing (403);
//! - customer admins and members fill forms, answer questions, upload files, comment,
//!   and take or give unassigned customer tasks — on tasks the customer side owns;
//! - deciding an approval is for customer admins, who "approve on the company's
//!   behalf" (PRODUCT.md); members see it and may comment;
//! - comments are open on every customer-visible task, staff-owned and completed
//!   ones too: that is where a customer asks the onboarding team something.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::error::{PortalError, PortalResult};
use super::file_type::{FileType, accept_attribute, list_labels};
use super::page_cache::ProjectPage;
use super::pages::{paragraphs, render};
use super::projects::{TaskView, load, may_edit};
use super::session::Customer;
use super::upload::size_label;
use crate::WebState;
use handoff_domain::form::Submission;
use handoff_domain::people::{MembershipStatus, ProjectRole};
use handoff_domain::project::{ProjectDetails, Task};
use handoff_domain::task::{FieldType, FormField};
use handoff_domain::{OwnerSide, TaskKind, TaskStatus, UserId, Visibility};

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
pub(super) fn check(role: ProjectRole, task: &Task, status: TaskStatus, action: Action) -> PortalResult<()> {
    if !matches!(role, ProjectRole::CustomerAdmin | ProjectRole::CustomerMember) {
        return Err(PortalError::NotAllowed(VIEWER.into()));
    }
    if action == Action::Comment {
        return Ok(());
    }
    if action == Action::Decide && role != ProjectRole::CustomerAdmin {
        return Err(PortalError::NotAllowed(
            "Only an administrator of your company can decide on an approval.".into(),
        ));
    }
    if task.owner == OwnerSide::Staff {
        return Err(PortalError::Refused("The onboarding team does this task.".into()));
    }
    match status {
        TaskStatus::Completed => Err(PortalError::Refused("This task is already completed.".into())),
        TaskStatus::Blocked if action != Action::Assign => {
            Err(PortalError::Refused("This task waits for another one to be done first.".into()))
        }
        _ => Ok(()),
    }
}

/// The message of a refusal from [`check`], for the page.
fn reason(result: PortalResult<()>) -> Option<String> {
    result.err().map(|e| e.to_string())
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
    pub fn check(&self, action: Action) -> PortalResult<()> {
        check(self.role, self.task(), self.status(), action)
    }

    pub fn task_href(&self) -> String {
        format!("/projects/{}/tasks/{}", self.page.details.project.id, self.task().key)
    }
}

/// The project `raw_id` and its task `key`, or not found — for projects the person is
/// not in and tasks customers do not see alike.
pub(super) async fn load_task(state: &WebState, me: &Customer, raw_id: &str, key: &str) -> PortalResult<Loaded> {
    let (page, role) = load(state, me, raw_id).await?;
    let index = page
        .details
        .tasks
        .iter()
        .position(|t| t.key.as_str() == key && t.visibility == Visibility::Customer)
        .ok_or(PortalError::NotFound)?;
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

#[derive(Serialize)]
struct ErrorLink {
    href: String,
    message: String,
}

#[derive(Serialize)]
struct OptionView {
    value: String,
    selected: bool,
}

/// One form control with its label, hint and error, tied together by ids.
#[derive(Serialize)]
struct FieldView {
    id: String,
    name: String,
    label: String,
    /// `input`, `textarea`, `select` or `checkbox`.
    control: &'static str,
    input_type: &'static str,
    inputmode: Option<&'static str>,
    autocomplete: Option<&'static str>,
    required: bool,
    help: Option<String>,
    value: String,
    checked: bool,
    options: Vec<OptionView>,
    error: Option<String>,
    /// `aria-describedby`: the hint and the error, when there are any.
    described_by: Option<String>,
}

fn described_by(id: &str, help: bool, error: bool) -> Option<String> {
    let ids: Vec<String> = [(help, "help"), (error, "error")]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, what)| format!("{id}-{what}"))
        .collect();
    (!ids.is_empty()).then(|| ids.join(" "))
}

fn field_view(f: &FormField, rejected: Option<&Rejected>) -> FieldView {
    let id = format!("field-{}", f.key);
    let value = rejected.and_then(|r| r.value(&id)).unwrap_or_default();
    let error = rejected.and_then(|r| r.error(&id));
    let (control, input_type, inputmode, autocomplete) = match f.field_type {
        FieldType::Text => ("input", "text", None, None),
        FieldType::Textarea => ("textarea", "", None, None),
        FieldType::Number => ("input", "text", Some("decimal"), None),
        FieldType::Date => ("input", "date", None, None),
        FieldType::Email => ("input", "email", None, Some("email")),
        FieldType::Url => ("input", "url", None, Some("url")),
        FieldType::Select => ("select", "", None, None),
        FieldType::Checkbox => ("checkbox", "checkbox", None, None),
    };
    FieldView {
        described_by: described_by(&id, f.help.is_some(), error.is_some()),
        name: id.clone(),
        label: f.label.clone(),
        control,
        input_type,
        inputmode,
        autocomplete,
        required: f.required,
        help: f.help.clone(),
        checked: !value.is_empty() && f.field_type == FieldType::Checkbox,
        options: f
            .options
            .iter()
            .map(|o| OptionView {
                value: o.clone(),
                selected: *o == value,
            })
            .collect(),
        value,
        error,
        id,
    }
}

#[derive(Serialize)]
struct FormView {
    action: String,
    fields: Vec<FieldView>,
}

#[derive(Serialize)]
struct AnswerView {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct QuestionView {
    prompt: String,
    action: String,
    value: String,
    error: Option<String>,
    answers: Vec<DecisionView>,
}

#[derive(Serialize)]
struct DecisionView {
    label: String,
    text: Option<String>,
    by: String,
    at: String,
}

#[derive(Serialize)]
struct ApprovalView {
    subject: String,
    action: String,
    note: String,
    error: Option<String>,
    history: Vec<DecisionView>,
}

#[derive(Serialize)]
struct FileView {
    name: String,
    size: String,
    href: String,
    by: String,
    at: String,
}

#[derive(Serialize)]
struct UploadView {
    action: String,
    done_action: String,
    accept: String,
    types: String,
    max_size: String,
    max_files: u32,
    files: Vec<FileView>,
    /// Room for another file, and the person may add it.
    can_upload: bool,
    can_finish: bool,
    error: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct AssignView {
    action: String,
    choices: Vec<Choice>,
    error: Option<String>,
}

#[derive(Serialize)]
struct CommentView {
    author: String,
    at: String,
    paragraphs: Vec<String>,
}

#[derive(Serialize)]
struct CommentsView {
    action: String,
    can_comment: bool,
    items: Vec<CommentView>,
    value: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct Page<'a> {
    project_name: &'a str,
    project_href: String,
    phase_name: &'a str,
    task: TaskView,
    /// [`may_edit`]: with `task.completable`, whether to offer "Mark as done".
    can_edit: bool,
    kind: &'static str,
    description: Option<&'a str>,
    blocked_by: Vec<&'a str>,
    /// Why the person cannot do this task's work, if they cannot.
    notice: Option<String>,
    /// Whether the kind's controls are usable (else shown disabled, for reading).
    can_work: bool,
    errors: Vec<ErrorLink>,
    form: Option<FormView>,
    answers: Vec<AnswerView>,
    question: Option<QuestionView>,
    approval: Option<ApprovalView>,
    upload: Option<UploadView>,
    assign: Option<AssignView>,
    comments: CommentsView,
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn who(name: Option<String>) -> String {
    name.unwrap_or_else(|| "The onboarding team".to_owned())
}

/// Renders the task page for `loaded`, with `rejected` input when an action was refused.
pub(super) async fn render_task(state: &WebState, me: &Customer, loaded: &Loaded, rejected: Option<Rejected>) -> PortalResult<Response> {
    let details = &loaded.page.details;
    let task = loaded.task();
    let rejected = rejected.as_ref();
    let base = loaded.task_href();
    let work_action = if matches!(task.kind, TaskKind::Approval { .. }) {
        Action::Decide
    } else {
        Action::Work
    };
    let can_work = loaded.check(work_action).is_ok();
    let submissions = state.store.task_submissions(task.id).await?;

    let mut form = None;
    let mut answers = Vec::new();
    let mut question = None;
    let mut approval = None;
    let mut upload = None;
    match &task.kind {
        TaskKind::Form { fields } => {
            let latest = submissions.iter().rev().find_map(|s| match &s.submission {
                Submission::Form(a) => Some(a),
                _ => None,
            });
            if let Some(latest) = latest {
                answers = fields
                    .iter()
                    .map(|f| AnswerView {
                        label: f.label.clone(),
                        value: match latest.get(f.key.as_str()) {
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(serde_json::Value::Bool(b)) => if *b { "Yes" } else { "No" }.to_owned(),
                            Some(other) => other.to_string(),
                            None => "—".to_owned(),
                        },
                    })
                    .collect();
            }
            if loaded.status() != TaskStatus::Completed {
                form = Some(FormView {
                    action: format!("{base}/form"),
                    fields: fields.iter().map(|f| field_view(f, rejected)).collect(),
                });
            }
        }
        TaskKind::Question { prompt } => {
            question = Some(QuestionView {
                prompt: prompt.clone(),
                action: format!("{base}/answer"),
                value: rejected.and_then(|r| r.value("answer")).unwrap_or_default(),
                error: rejected.and_then(|r| r.error("answer")),
                answers: submissions
                    .iter()
                    .filter_map(|s| match &s.submission {
                        Submission::Question(a) => Some(DecisionView {
                            label: "Answer".into(),
                            text: Some(a.clone()),
                            by: who(s.by_name.clone()),
                            at: when(s.at),
                        }),
                        _ => None,
                    })
                    .collect(),
            });
        }
        TaskKind::Approval { subject } => {
            approval = Some(ApprovalView {
                subject: subject.clone(),
                action: format!("{base}/approval"),
                note: rejected.and_then(|r| r.value("note")).unwrap_or_default(),
                error: rejected.and_then(|r| r.error("note")),
                history: submissions
                    .iter()
                    .filter_map(|s| match &s.submission {
                        Submission::Approval { approved, note } => Some(DecisionView {
                            label: if *approved { "Approved" } else { "Changes requested" }.into(),
                            text: note.clone(),
                            by: who(s.by_name.clone()),
                            at: when(s.at),
                        }),
                        _ => None,
                    })
                    .collect(),
            });
        }
        TaskKind::Upload { accept, max_files } => {
            let types = FileType::from_names(accept);
            let files = state.store.task_files(task.id).await?;
            let count = u32::try_from(files.len()).unwrap_or(u32::MAX);
            upload = Some(UploadView {
                action: format!("{base}/files"),
                done_action: format!("{base}/files-done"),
                accept: accept_attribute(&types),
                types: list_labels(&types),
                max_size: size_label(state.config.portal.max_upload_bytes),
                max_files: *max_files,
                can_upload: can_work && count < *max_files && !types.is_empty(),
                can_finish: can_work && count > 0,
                error: rejected.and_then(|r| r.error("file")),
                files: files
                    .into_iter()
                    .map(|f| FileView {
                        href: format!("{base}/files/{}", f.id),
                        size: size_label(f.size_bytes),
                        by: who(f.uploaded_by_name),
                        at: when(f.uploaded_at),
                        name: f.original_name,
                    })
                    .collect(),
            });
        }
        TaskKind::Todo | TaskKind::Meeting { .. } => {}
    }

    let assign = assign_view(state, loaded, me, &base, rejected).await?;
    let comments = state
        .store
        .task_comments(task.id)
        .await?
        .into_iter()
        .map(|c| CommentView {
            author: who(c.author_name),
            at: when(c.at),
            paragraphs: paragraphs(&c.body),
        })
        .collect();
    let page = Page {
        project_name: &details.project.name,
        project_href: format!("/projects/{}", details.project.id),
        phase_name: details
            .phases
            .iter()
            .find(|p| p.id == task.phase_id)
            .map_or("", |p| p.name.as_str()),
        task: TaskView::of(&loaded.page, task),
        can_edit: may_edit(loaded.role),
        kind: task.kind.name(),
        description: task.description.as_deref(),
        blocked_by: blocked_by(details, task),
        notice: match task.kind {
            TaskKind::Todo | TaskKind::Meeting { .. } => None,
            _ => reason(loaded.check(work_action)).filter(|_| loaded.status() != TaskStatus::Completed),
        },
        can_work,
        errors: rejected
            .map(|r| {
                r.errors
                    .iter()
                    .map(|(id, message)| ErrorLink {
                        href: format!("#{id}"),
                        message: message.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        form,
        answers,
        question,
        approval,
        upload,
        assign,
        comments: CommentsView {
            action: format!("{base}/comments"),
            can_comment: loaded.check(Action::Comment).is_ok(),
            items: comments,
            value: rejected.and_then(|r| r.value("comment-body")).unwrap_or_default(),
            error: rejected.and_then(|r| r.error("comment-body")),
        },
    };
    let title = match rejected {
        Some(_) => format!("Error: {}", task.title),
        None => task.title.clone(),
    };
    let mut response = render(state, "task.html", &title, Some(me), &page)?;
    if let Some(r) = rejected {
        *response.status_mut() = r.status;
    }
    Ok(response)
}

/// Only customer-visible dependencies are named; internal ones stay internal.
fn blocked_by<'a>(details: &'a ProjectDetails, task: &Task) -> Vec<&'a str> {
    task.depends_on
        .iter()
        .filter_map(|dep| details.tasks.iter().find(|t| t.id == *dep))
        .filter(|t| t.status != TaskStatus::Completed)
        .map(|t| {
            if t.visibility == Visibility::Customer {
                t.title.as_str()
            } else {
                "a step by the onboarding team"
            }
        })
        .collect()
}

/// Taking or giving the task: for unassigned customer tasks the person may assign.
/// Choices: the person first, then the project's other customer admins and members.
async fn assign_view(
    state: &WebState,
    loaded: &Loaded,
    me: &Customer,
    base: &str,
    rejected: Option<&Rejected>,
) -> PortalResult<Option<AssignView>> {
    if loaded.task().assignee_id.is_some() || loaded.check(Action::Assign).is_err() {
        return Ok(None);
    }
    let mut choices = vec![Choice {
        value: "me".into(),
        label: format!("Me ({})", me.user.display_name()),
    }];
    choices.extend(teammates(state, loaded, me.user.id).await?.into_iter().map(|(id, name)| Choice {
        value: id.to_string(),
        label: name,
    }));
    Ok(Some(AssignView {
        action: format!("{base}/assign"),
        choices,
        error: rejected.and_then(|r| r.error("assignee")),
    }))
}

/// The project's active customer admins and members other than `me`: who a task can
/// be given to.
pub(super) async fn teammates(state: &WebState, loaded: &Loaded, me: UserId) -> PortalResult<Vec<(UserId, String)>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_and_errors_describe_their_control() {
        assert_eq!(described_by("field-a", true, true).as_deref(), Some("field-a-help field-a-error"));
        assert_eq!(described_by("note", false, true).as_deref(), Some("note-error"));
        assert_eq!(described_by("note", false, false), None);
    }
}
