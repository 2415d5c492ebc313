//! The JSON API for documents and activity (`/api/v1`), behind the same bearer tokens
//! as src/web/api.rs: the review inbox, a review decision, and the activity trail —
//! the same store queries and engine method as the console's pages.

use axum::extract::{Path, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::api::ApiCaller;
use super::console::activity::{channel, parse_type, sentence, who};
use super::error::{ApiError, ApiResult};
use crate::WebState;
use handoff_domain::people::Actor;
use handoff_domain::review::{Decision, ReviewStatus};
use handoff_domain::{ProjectId, TaskStatus};
use handoff_engine::review::Reviewed;
use handoff_store::{Document, DocumentQuery, TrailQuery, search_words};

pub fn router(state: &WebState) -> Router<WebState> {
    Router::new()
        .route("/api/v1/files", get(files))
        .route("/api/v1/files/{id}/review", post(review))
        .route("/api/v1/activity", get(activity))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_caller))
}

/// No handler here runs without a valid API token.
async fn require_caller(_caller: ApiCaller, request: Request, next: Next) -> Response {
    next.run(request).await
}

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

fn limit(raw: Option<u32>) -> ApiResult<u32> {
    match raw.unwrap_or(DEFAULT_LIMIT) {
        n @ 1..=MAX_LIMIT => Ok(n),
        n => Err(ApiError::BadRequest(format!("limit {n} is not between 1 and {MAX_LIMIT}"))),
    }
}

fn project_param(raw: Option<&str>) -> ApiResult<Option<ProjectId>> {
    raw.filter(|p| !p.is_empty())
        .map(|p| {
            p.parse()
                .map_err(|e: handoff_domain::ids::IdError| ApiError::BadRequest(e.to_string()))
        })
        .transpose()
}

#[derive(Deserialize)]
struct FilesParams {
    status: Option<String>,
    q: Option<String>,
    project: Option<String>,
    before: Option<String>,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct FileView {
    id: Uuid,
    project_id: ProjectId,
    project_name: String,
    company_name: Option<String>,
    task: String,
    task_title: String,
    task_status: TaskStatus,
    phase: String,
    name: String,
    content_type: String,
    size_bytes: u64,
    uploaded_by: Option<String>,
    uploaded_at: DateTime<Utc>,
    review_status: ReviewStatus,
    review_note: Option<String>,
    reviewed_by: Option<String>,
    reviewed_at: Option<DateTime<Utc>>,
}

impl From<Document> for FileView {
    fn from(d: Document) -> Self {
        FileView {
            id: d.id,
            project_id: d.project_id,
            project_name: d.project_name,
            company_name: d.company_name,
            task: d.task_key,
            task_title: d.task_title,
            task_status: d.task_status,
            phase: d.phase_name,
            name: d.original_name,
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            uploaded_by: d.uploaded_by_name,
            uploaded_at: d.uploaded_at,
            review_status: d.review_status,
            review_note: d.review_note,
            reviewed_by: d.reviewed_by_name,
            reviewed_at: d.reviewed_at,
        }
    }
}

#[derive(Serialize)]
struct FilesPage {
    files: Vec<FileView>,
    /// Pass as `before` for the next page; absent on the last.
    next_before: Option<Uuid>,
}

/// `GET /api/v1/files?status=pending&q=&project=&before=&limit=`: uploaded files in one
/// review state (pending by default), newest first, searched by file name or phase.
async fn files(State(state): State<WebState>, Query(p): Query<FilesParams>) -> ApiResult<Json<FilesPage>> {
    let status = match p.status.as_deref().filter(|s| !s.is_empty()) {
        None => ReviewStatus::Pending,
        Some(s) => s.parse().map_err(ApiError::BadRequest)?,
    };
    let before = p
        .before
        .as_deref()
        .filter(|b| !b.is_empty())
        .map(|b| b.parse().map_err(|_| ApiError::BadRequest(format!("`{b}` is not a file id"))))
        .transpose()?;
    let page = state
        .store
        .documents(&DocumentQuery {
            project: project_param(p.project.as_deref())?,
            status,
            search: p.q.filter(|q| !q.trim().is_empty()),
            before,
            limit: limit(p.limit)?,
        })
        .await?;
    Ok(Json(FilesPage {
        files: page.documents.into_iter().map(Into::into).collect(),
        next_before: page.next_before,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReviewBody {
    decision: String,
    note: Option<String>,
}

/// `POST /api/v1/files/{id}/review` with `{"decision": "approve"}` or
/// `{"decision": "reject", "note": "…"}` (the note is required to reject).
async fn review(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path(id): Path<String>,
    Json(body): Json<ReviewBody>,
) -> ApiResult<Json<Reviewed>> {
    let file: Uuid = id.parse().map_err(|_| ApiError::BadRequest(format!("`{id}` is not a file id")))?;
    let decision = match body.decision.as_str() {
        "approve" => Decision::Approve,
        "reject" => Decision::Reject {
            note: body.note.unwrap_or_default(),
        },
        other => {
            return Err(ApiError::BadRequest(format!(
                "decision `{other}` is neither `approve` nor `reject`"
            )));
        }
    };
    let source = caller.token.activity_source();
    Ok(Json(state.engine.review_file(file, &decision, Actor::System, &source).await?))
}

#[derive(Deserialize)]
struct ActivityParams {
    project: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    q: Option<String>,
    before: Option<i64>,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct EntryView {
    id: i64,
    at: DateTime<Utc>,
    project_id: Option<ProjectId>,
    project_name: Option<String>,
    actor: Actor,
    who: String,
    what: String,
    action: String,
    source: String,
    channel: &'static str,
    details: serde_json::Value,
}

#[derive(Serialize)]
struct ActivityPage {
    entries: Vec<EntryView>,
    /// Pass as `before` for the next page; absent on the last.
    next_before: Option<i64>,
}

/// `GET /api/v1/activity?project=&type=&q=&before=&limit=`: the trail newest first.
async fn activity(State(state): State<WebState>, Query(p): Query<ActivityParams>) -> ApiResult<Json<ActivityPage>> {
    let page = state
        .store
        .activity_trail(&TrailQuery {
            project: project_param(p.project.as_deref())?,
            kind: parse_type(p.kind.as_deref()).map_err(ApiError::BadRequest)?,
            words: search_words(p.q.as_deref().unwrap_or_default()),
            before: p.before,
            limit: limit(p.limit)?,
        })
        .await?;
    let entries = page
        .entries
        .into_iter()
        .map(|e| EntryView {
            who: who(&e),
            what: sentence(&e),
            channel: channel(&e.source),
            id: e.id,
            at: e.at,
            project_id: e.project_id,
            project_name: e.project_name,
            actor: e.actor,
            action: e.action,
            source: e.source,
            details: e.details,
        })
        .collect();
    Ok(Json(ActivityPage {
        entries,
        next_before: page.next_before,
    }))
}
