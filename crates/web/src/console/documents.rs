//! Documents: the files customers uploaded, to review — an inbox across projects
//! (`/console/documents`) and one per project (its Documents tab). Each lists one
//! review state (pending by default), searched by file name or phase, a page at a time
//! by keyset. Staff approve a file or reject it with a note (the customer reads it on
//! the task's page in the portal; a rejection reopens a completed task), and download
//! it as an attachment, exactly as the portal serves it.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::pages::{Section, render};
use super::project_frame::{self, ProjectFrame, ProjectTab};
use super::session::{Staff, StaffForm};
use crate::WebState;
use crate::page_error::{PageError, PageResult};
use crate::portal::upload::{self, size_label};
use handoff_domain::ProjectId;
use handoff_domain::people::Actor;
use handoff_domain::review::{Decision, MAX_NOTE_CHARS, ReviewStatus};
use handoff_store::{Document, DocumentQuery};

const SOURCE: &str = "console";
const PAGE_SIZE: u32 = 50;

/// `?status=pending|approved|rejected&q=…&before=<file id>&notice=…`
#[derive(Debug, Default, Deserialize)]
pub(super) struct ListParams {
    status: Option<String>,
    q: Option<String>,
    before: Option<String>,
    notice: Option<String>,
}

struct Listing {
    status: ReviewStatus,
    search: String,
    before: Option<Uuid>,
}

impl ListParams {
    fn parse(&self) -> PageResult<Listing> {
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            None => ReviewStatus::Pending,
            Some(s) => s.parse().map_err(PageError::BadRequest)?,
        };
        let before = match self.before.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(b) => Some(b.parse().map_err(|_| PageError::BadRequest("`before` is not a file id.".into()))?),
        };
        Ok(Listing {
            status,
            search: self.q.as_deref().unwrap_or_default().trim().to_owned(),
            before,
        })
    }
}

/// `GET /console/documents`: every project's files.
pub(super) async fn inbox(State(state): State<WebState>, me: Staff, Query(params): Query<ListParams>) -> PageResult<Response> {
    show(&state, &me, None, &params).await
}

/// `GET /console/projects/{id}/documents`: the project's Documents tab.
pub(super) async fn project_tab(
    State(state): State<WebState>,
    me: Staff,
    Path(id): Path<String>,
    Query(params): Query<ListParams>,
) -> PageResult<Response> {
    let (details, frame) = project_frame::load(&state, &id, ProjectTab::Documents).await?;
    show(&state, &me, Some((details.project.id, frame)), &params).await
}

#[derive(Serialize)]
struct StatusTab {
    label: &'static str,
    href: String,
    current: bool,
}

#[derive(Serialize)]
struct DocumentView {
    id: String,
    name: String,
    size: String,
    task_title: String,
    task_href: String,
    phase: String,
    project_name: String,
    company: Option<String>,
    project_href: String,
    by: String,
    at: String,
    status: &'static str,
    status_label: &'static str,
    note: Option<String>,
    reviewed_by: Option<String>,
    reviewed_at: Option<String>,
    download_href: String,
    review_action: String,
}

#[derive(Serialize)]
struct DocumentsPage {
    frame: Option<ProjectFrame>,
    heading: &'static str,
    /// The list's own URL, without a query.
    base: String,
    /// Which list the review forms return to.
    from: &'static str,
    status: &'static str,
    status_label: &'static str,
    statuses: Vec<StatusTab>,
    q: String,
    documents: Vec<DocumentView>,
    next_href: Option<String>,
    notice: Option<&'static str>,
    max_note: usize,
}

async fn show(state: &WebState, me: &Staff, project: Option<(ProjectId, ProjectFrame)>, params: &ListParams) -> PageResult<Response> {
    let listing = params.parse()?;
    let (project_id, frame) = project.unzip();
    let page = state
        .store
        .documents(&DocumentQuery {
            project: project_id,
            status: listing.status,
            search: Some(listing.search.clone()).filter(|s| !s.is_empty()),
            before: listing.before,
            limit: PAGE_SIZE,
        })
        .await?;
    let base = match &frame {
        Some(f) => format!("{}/documents", f.href),
        None => "/console/documents".to_owned(),
    };
    let query = |status: ReviewStatus, before: Option<Uuid>| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("status", status.as_str());
        if !listing.search.is_empty() {
            q.append_pair("q", &listing.search);
        }
        if let Some(b) = before {
            q.append_pair("before", &b.to_string());
        }
        format!("{base}?{}", q.finish())
    };
    let body = DocumentsPage {
        heading: if frame.is_some() { "Documents" } else { "Documents to review" },
        from: if frame.is_some() { "project" } else { "inbox" },
        statuses: ReviewStatus::ALL
            .into_iter()
            .map(|s| StatusTab {
                label: s.label(),
                href: query(s, None),
                current: s == listing.status,
            })
            .collect(),
        status: listing.status.as_str(),
        status_label: listing.status.label(),
        next_href: page.next_before.map(|b| query(listing.status, Some(b))),
        documents: page.documents.into_iter().map(view).collect(),
        q: listing.search,
        notice: params.notice.as_deref().and_then(notice),
        max_note: MAX_NOTE_CHARS,
        base,
        frame,
    };
    let title = match &body.frame {
        Some(f) => format!("Documents · {}", f.name),
        None => "Documents".to_owned(),
    };
    render(state, "console/documents.html", &title, Some(me), Section::Documents, &body)
}

fn view(d: Document) -> DocumentView {
    let project_href = format!("/console/projects/{}", d.project_id);
    DocumentView {
        id: d.id.to_string(),
        size: size_label(d.size_bytes),
        task_href: format!("{project_href}/tasks#task-{}", d.task_key),
        task_title: d.task_title,
        phase: d.phase_name,
        project_name: d.project_name,
        company: d.company_name,
        by: d.uploaded_by_name.unwrap_or_else(|| "Unknown".into()),
        at: when(d.uploaded_at),
        status: d.review_status.as_str(),
        status_label: d.review_status.label(),
        note: d.review_note,
        reviewed_by: d.reviewed_by_name,
        reviewed_at: d.reviewed_at.map(when),
        download_href: format!("{project_href}/files/{}", d.id),
        review_action: format!("{project_href}/files/{}/review", d.id),
        name: d.original_name,
        project_href,
    }
}

fn when(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The notices a review redirects with (a fixed set: nothing of the URL is echoed).
fn notice(key: &str) -> Option<&'static str> {
    Some(match key {
        "approved" => "The file is approved.",
        "rejected" => "The file is rejected; the customer sees your note on the task.",
        "reopened" => "The file is rejected and its task is open again; the customer sees your note on the task.",
        "unchanged" => "The file already had that review; nothing changed.",
        _ => return None,
    })
}

/// The review form: `decision` is `approve` or `reject` (with `note`); `from` and
/// `status` say which list to go back to.
#[derive(Debug, Deserialize)]
pub(super) struct ReviewForm {
    decision: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    status: String,
}

/// `POST /console/projects/{id}/files/{file_id}/review`.
pub(super) async fn review(
    State(state): State<WebState>,
    Path((id, file)): Path<(String, String)>,
    form: StaffForm<ReviewForm>,
) -> PageResult<Response> {
    let me = &form.who;
    let form = &form.form;
    let project: ProjectId = id.parse().map_err(|_| PageError::NotFound)?;
    let file: Uuid = file.parse().map_err(|_| PageError::NotFound)?;
    // The file must be this project's: the path names both.
    state.store.document(project, file).await?.ok_or(PageError::NotFound)?;
    let decision = match form.decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject { note: form.note.clone() },
        _ => return Err(PageError::BadRequest("Choose approve or reject.".into())),
    };
    let reviewed = state.engine.review_file(file, &decision, Actor::User(me.id()), SOURCE).await?;
    let notice = match (reviewed.changed, reviewed.reopened_task, &decision) {
        (false, _, _) => "unchanged",
        (true, true, _) => "reopened",
        (true, false, Decision::Reject { .. }) => "rejected",
        (true, false, Decision::Approve) => "approved",
    };
    let base = match form.from.as_str() {
        "inbox" => "/console/documents".to_owned(),
        _ => format!("/console/projects/{project}/documents"),
    };
    let status = form.status.parse::<ReviewStatus>().unwrap_or(ReviewStatus::Pending);
    Ok(Redirect::to(&format!("{base}?status={status}&notice={notice}")).into_response())
}

/// `GET /console/projects/{id}/files/{file_id}`: the file as an attachment of its
/// checked type, `nosniff` (the portal's download).
pub(super) async fn download(State(state): State<WebState>, _me: Staff, Path((id, file)): Path<(String, String)>) -> PageResult<Response> {
    let project: ProjectId = id.parse().map_err(|_| PageError::NotFound)?;
    let file: Uuid = file.parse().map_err(|_| PageError::NotFound)?;
    let d = state.store.document(project, file).await?.ok_or(PageError::NotFound)?;
    upload::download(&state.config.portal.upload_dir, &d.storage_name, &d.original_name, &d.content_type).await
}
