//! The task page, part by part: the task's facts, what its kind adds (a form, a
//! question, an approval, files), who may take it, and its comments. Each part is
//! built by its own function; [`render_task`] puts them together and renders
//! `task.html`.

use axum::response::Response;
use serde::Serialize;

use super::{Action, Loaded, Rejected};
use crate::WebState;
use crate::page_error::PageResult;
use crate::portal::file_type::{FileType, accept_attribute, list_labels};
use crate::portal::pages::{paragraphs, render};
use crate::portal::projects::{TaskView, may_edit};
use crate::portal::session::Customer;
use crate::portal::upload::size_label;
use handoff_domain::form::Submission;
use handoff_domain::project::{ProjectDetails, Task};
use handoff_domain::task::{FieldType, FormField};
use handoff_domain::{TaskKind, TaskStatus, Visibility};
use handoff_store::StoredSubmission;

#[derive(Serialize)]
struct Page<'a> {
    #[serde(flatten)]
    facts: Facts<'a>,
    /// Why the person cannot do this task's work, if they cannot.
    notice: Option<String>,
    /// Whether the kind's controls are usable (else shown disabled, for reading).
    can_work: bool,
    errors: Vec<ErrorLink>,
    #[serde(flatten)]
    kind: KindPart,
    assign: Option<AssignView>,
    comments: CommentsView,
}

/// Renders the task page for `loaded`, with `rejected` input when an action was refused.
pub(in crate::portal) async fn render_task(
    state: &WebState,
    me: &Customer,
    loaded: &Loaded,
    rejected: Option<Rejected>,
) -> PageResult<Response> {
    let rejected = rejected.as_ref();
    let base = loaded.task_href();
    let work = work_action(loaded.task());
    let can_work = loaded.check(work).is_ok();
    let submissions = state.store.task_submissions(loaded.task().id).await?;
    let kind = kind_part(state, loaded, &base, &submissions, can_work, rejected).await?;
    let assign = assign_view(state, loaded, me, &base, rejected).await?;
    let comments = comments_view(state, loaded, &base, rejected).await?;
    let page = Page {
        facts: facts(loaded),
        notice: notice(loaded, work),
        can_work,
        errors: error_links(rejected),
        kind,
        assign,
        comments,
    };
    respond(state, me, &loaded.task().title, &page, rejected)
}

/// The page as a response; after a refusal, titled as an error and with its status.
fn respond(state: &WebState, me: &Customer, task_title: &str, page: &Page<'_>, rejected: Option<&Rejected>) -> PageResult<Response> {
    let title = match rejected {
        Some(_) => format!("Error: {task_title}"),
        None => task_title.to_owned(),
    };
    let mut response = render(state, "task.html", &title, Some(me), page)?;
    if let Some(r) = rejected {
        *response.status_mut() = r.status;
    }
    Ok(response)
}

/// What the person sent in control `id`, shown again after a refusal.
fn sent(rejected: Option<&Rejected>, id: &str) -> String {
    rejected.and_then(|r| r.value(id)).unwrap_or_default()
}

/// The error beside control `id`.
fn error_at(rejected: Option<&Rejected>, id: &str) -> Option<String> {
    rejected.and_then(|r| r.error(id))
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn who(name: Option<String>) -> String {
    name.unwrap_or_else(|| "The onboarding team".to_owned())
}

// The task's facts.

/// Where the task stands, what it is and what it waits for.
#[derive(Serialize)]
struct Facts<'a> {
    project_name: &'a str,
    project_href: String,
    phase_name: &'a str,
    task: TaskView,
    /// [`may_edit`]: with `task.completable`, whether to offer "Mark as done".
    can_edit: bool,
    kind: &'static str,
    description: Option<&'a str>,
    blocked_by: Vec<&'a str>,
}

fn facts(loaded: &Loaded) -> Facts<'_> {
    let details = &loaded.page.details;
    let task = loaded.task();
    Facts {
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
    }
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

/// The action the task's own work is: deciding for an approval, else working.
fn work_action(task: &Task) -> Action {
    if matches!(task.kind, TaskKind::Approval { .. }) {
        Action::Decide
    } else {
        Action::Work
    }
}

/// Why the person may not do the work, while the task is open and its kind has work.
fn notice(loaded: &Loaded, work: Action) -> Option<String> {
    match loaded.task().kind {
        TaskKind::Todo | TaskKind::Meeting { .. } => None,
        _ => loaded
            .check(work)
            .err()
            .map(|e| e.to_string())
            .filter(|_| loaded.status() != TaskStatus::Completed),
    }
}

#[derive(Serialize)]
struct ErrorLink {
    href: String,
    message: String,
}

/// The summary at the top of a refused page: each error, linking to its control.
fn error_links(rejected: Option<&Rejected>) -> Vec<ErrorLink> {
    rejected
        .map(|r| {
            r.errors
                .iter()
                .map(|(id, message)| ErrorLink {
                    href: format!("#{id}"),
                    message: message.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

// What the task's kind adds.

/// The part of the page the task's kind adds; at most one of the controls is set.
#[derive(Default, Serialize)]
struct KindPart {
    form: Option<FormView>,
    answers: Vec<AnswerView>,
    question: Option<QuestionView>,
    approval: Option<ApprovalView>,
    upload: Option<UploadView>,
}

async fn kind_part(
    state: &WebState,
    loaded: &Loaded,
    base: &str,
    submissions: &[StoredSubmission],
    can_work: bool,
    rejected: Option<&Rejected>,
) -> PageResult<KindPart> {
    Ok(match &loaded.task().kind {
        TaskKind::Form { fields } => KindPart {
            answers: latest_answers(fields, submissions),
            form: (loaded.status() != TaskStatus::Completed).then(|| form_view(fields, base, rejected)),
            ..KindPart::default()
        },
        TaskKind::Question { prompt } => KindPart {
            question: Some(question_view(prompt, base, submissions, rejected)),
            ..KindPart::default()
        },
        TaskKind::Approval { subject } => KindPart {
            approval: Some(approval_view(subject, base, submissions, rejected)),
            ..KindPart::default()
        },
        TaskKind::Upload { accept, max_files } => KindPart {
            upload: Some(upload_view(state, loaded, accept, *max_files, base, can_work, rejected).await?),
            ..KindPart::default()
        },
        TaskKind::Todo | TaskKind::Meeting { .. } => KindPart::default(),
    })
}

// A form.

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

/// The form to fill, with what was sent and what was wrong after a refusal.
fn form_view(fields: &[FormField], base: &str, rejected: Option<&Rejected>) -> FormView {
    FormView {
        action: format!("{base}/form"),
        fields: fields.iter().map(|f| field_view(f, rejected)).collect(),
    }
}

/// The answers of the latest submission, field by field (none before the first).
fn latest_answers(fields: &[FormField], submissions: &[StoredSubmission]) -> Vec<AnswerView> {
    let latest = submissions.iter().rev().find_map(|s| match &s.submission {
        Submission::Form(a) => Some(a),
        _ => None,
    });
    let Some(latest) = latest else {
        return Vec::new();
    };
    fields
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
        .collect()
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
    let value = sent(rejected, &id);
    let error = error_at(rejected, &id);
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

// A question and an approval.

/// A submission as it is listed: an answer, a decision.
#[derive(Serialize)]
struct DecisionView {
    label: String,
    text: Option<String>,
    by: String,
    at: String,
}

/// The submissions that `label_and_text` lists (it skips the others), oldest first,
/// with who made them and when.
fn decisions(
    submissions: &[StoredSubmission],
    label_and_text: impl Fn(&Submission) -> Option<(String, Option<String>)>,
) -> Vec<DecisionView> {
    submissions
        .iter()
        .filter_map(|s| {
            let (label, text) = label_and_text(&s.submission)?;
            Some(DecisionView {
                label,
                text,
                by: who(s.by_name.clone()),
                at: when(s.at),
            })
        })
        .collect()
}

#[derive(Serialize)]
struct QuestionView {
    prompt: String,
    action: String,
    value: String,
    error: Option<String>,
    answers: Vec<DecisionView>,
}

fn question_view(prompt: &str, base: &str, submissions: &[StoredSubmission], rejected: Option<&Rejected>) -> QuestionView {
    QuestionView {
        prompt: prompt.to_owned(),
        action: format!("{base}/answer"),
        value: sent(rejected, "answer"),
        error: error_at(rejected, "answer"),
        answers: decisions(submissions, |s| match s {
            Submission::Question(a) => Some(("Answer".into(), Some(a.clone()))),
            _ => None,
        }),
    }
}

#[derive(Serialize)]
struct ApprovalView {
    subject: String,
    action: String,
    note: String,
    error: Option<String>,
    history: Vec<DecisionView>,
}

fn approval_view(subject: &str, base: &str, submissions: &[StoredSubmission], rejected: Option<&Rejected>) -> ApprovalView {
    ApprovalView {
        subject: subject.to_owned(),
        action: format!("{base}/approval"),
        note: sent(rejected, "note"),
        error: error_at(rejected, "note"),
        history: decisions(submissions, |s| match s {
            Submission::Approval { approved, note } => {
                let label = if *approved { "Approved" } else { "Changes requested" };
                Some((label.into(), note.clone()))
            }
            _ => None,
        }),
    }
}

// Files.

#[derive(Serialize)]
struct FileView {
    name: String,
    size: String,
    href: String,
    by: String,
    at: String,
    /// The staff's review: `pending`, `approved` or `rejected`, and why it was rejected.
    review: String,
    review_note: Option<String>,
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

/// The files uploaded so far, and adding one and handing the task in while the
/// person may work on it (and for adding, while there is room).
async fn upload_view(
    state: &WebState,
    loaded: &Loaded,
    accept: &[String],
    max_files: u32,
    base: &str,
    can_work: bool,
    rejected: Option<&Rejected>,
) -> PageResult<UploadView> {
    let types = FileType::from_names(accept);
    let files = state.store.task_files(loaded.task().id).await?;
    let count = u32::try_from(files.len()).unwrap_or(u32::MAX);
    Ok(UploadView {
        action: format!("{base}/files"),
        done_action: format!("{base}/files-done"),
        accept: accept_attribute(&types),
        types: list_labels(&types),
        max_size: size_label(state.config.portal.max_upload_bytes),
        max_files,
        can_upload: can_work && count < max_files && !types.is_empty(),
        can_finish: can_work && count > 0,
        error: error_at(rejected, "file"),
        files: files
            .into_iter()
            .map(|f| FileView {
                href: format!("{base}/files/{}", f.id),
                size: size_label(f.size_bytes),
                by: who(f.uploaded_by_name),
                at: when(f.uploaded_at),
                name: f.original_name,
                review: f.review_status,
                review_note: f.review_note,
            })
            .collect(),
    })
}

// Assignment.

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

/// Taking or giving the task: for unassigned customer tasks the person may assign.
/// Choices: the person first, then the project's other customer admins and members.
async fn assign_view(
    state: &WebState,
    loaded: &Loaded,
    me: &Customer,
    base: &str,
    rejected: Option<&Rejected>,
) -> PageResult<Option<AssignView>> {
    if loaded.task().assignee_id.is_some() || loaded.check(Action::Assign).is_err() {
        return Ok(None);
    }
    let mut choices = vec![Choice {
        value: "me".into(),
        label: format!("Me ({})", me.user.display_name()),
    }];
    choices.extend(
        super::teammates(state, loaded, me.user.id)
            .await?
            .into_iter()
            .map(|(id, name)| Choice {
                value: id.to_string(),
                label: name,
            }),
    );
    Ok(Some(AssignView {
        action: format!("{base}/assign"),
        choices,
        error: error_at(rejected, "assignee"),
    }))
}

// Comments.

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

/// The task's comments, oldest first, and the box for a new one.
async fn comments_view(state: &WebState, loaded: &Loaded, base: &str, rejected: Option<&Rejected>) -> PageResult<CommentsView> {
    let items = state
        .store
        .task_comments(loaded.task().id)
        .await?
        .into_iter()
        .map(|c| CommentView {
            author: who(c.author_name),
            at: when(c.at),
            paragraphs: paragraphs(&c.body),
        })
        .collect();
    Ok(CommentsView {
        action: format!("{base}/comments"),
        can_comment: loaded.check(Action::Comment).is_ok(),
        items,
        value: sent(rejected, "comment-body"),
        error: error_at(rejected, "comment-body"),
    })
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
