//! The JSON API for what staff change on tasks (`/api/v1`), behind the same bearer
//! tokens as api.rs: a task's status, assignee and due date, bulk reassignment, its
//! comments shared with the customer and its internal notes. The same engine methods
//! as the console's Tasks tab ([`handoff_engine::staff_tasks`]); recorded as
//! `api:<token name>`.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::api::ApiCaller;
use super::error::{ApiError, ApiResult};
use crate::WebState;
use handoff_domain::people::Actor;
use handoff_domain::{ProjectId, UserId};
use handoff_engine::Refusal;
use handoff_engine::staff_tasks::{Outcome, parse_assignee, parse_due_date, parse_task_status};
use handoff_store::TaskComment;

pub fn router(state: &WebState) -> Router<WebState> {
    Router::new()
        .route("/api/v1/projects/{id}/tasks/reassign", post(reassign))
        .route("/api/v1/projects/{id}/tasks/{key}/status", post(set_status))
        .route("/api/v1/projects/{id}/tasks/{key}/assignee", post(set_assignee))
        .route("/api/v1/projects/{id}/tasks/{key}/due-date", post(set_due_date))
        .route("/api/v1/projects/{id}/tasks/{key}/comments", post(add_comment).get(comments))
        .route("/api/v1/projects/{id}/tasks/{key}/notes", post(add_note))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_caller))
}

/// No handler here runs without a valid API token.
async fn require_caller(_caller: ApiCaller, request: Request, next: Next) -> Response {
    next.run(request).await
}

fn project_id(raw: &str) -> ApiResult<ProjectId> {
    raw.parse()
        .map_err(|e: handoff_domain::ids::IdError| ApiError::BadRequest(e.to_string()))
}

/// Input that does not parse is a bad request (400), not a refused change.
fn bad(refusal: Refusal) -> ApiError {
    ApiError::BadRequest(refusal.to_string())
}

#[derive(Serialize)]
struct Changed {
    project_id: ProjectId,
    task: String,
    /// False when the task already was so (a retry changes nothing).
    changed: bool,
}

fn changed(project_id: ProjectId, task: String, outcome: Outcome) -> Json<Changed> {
    Json(Changed {
        project_id,
        task,
        changed: outcome.changed(),
    })
}

#[derive(Deserialize)]
struct StatusBody {
    status: String,
}

/// `POST …/tasks/{key}/status` with `{"status": "pending" | "in_progress" | "completed"}`.
async fn set_status(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    Json(body): Json<StatusBody>,
) -> ApiResult<Json<Changed>> {
    let project = project_id(&id)?;
    let to = parse_task_status(&body.status).map_err(bad)?;
    let source = caller.token.activity_source();
    let outcome = state.engine.set_task_status(project, &key, to, Actor::System, &source).await?;
    Ok(changed(project, key, outcome))
}

#[derive(Deserialize)]
struct AssigneeBody {
    /// A user id, or null for no one.
    assignee: Option<String>,
}

fn assignee(raw: Option<&str>) -> ApiResult<Option<UserId>> {
    parse_assignee(raw.unwrap_or_default()).map_err(bad)
}

/// `POST …/tasks/{key}/assignee` with `{"assignee": "<user id>" | null}`.
async fn set_assignee(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    Json(body): Json<AssigneeBody>,
) -> ApiResult<Json<Changed>> {
    let project = project_id(&id)?;
    let to = assignee(body.assignee.as_deref())?;
    let source = caller.token.activity_source();
    let outcome = state.engine.reassign_task(project, &key, to, Actor::System, &source).await?;
    Ok(changed(project, key, outcome))
}

#[derive(Deserialize)]
struct DueDateBody {
    /// `YYYY-MM-DD`, or null for none.
    due_date: Option<String>,
}

/// `POST …/tasks/{key}/due-date` with `{"due_date": "YYYY-MM-DD" | null}`.
async fn set_due_date(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    Json(body): Json<DueDateBody>,
) -> ApiResult<Json<Changed>> {
    let project = project_id(&id)?;
    let due: Option<NaiveDate> = parse_due_date(body.due_date.as_deref().unwrap_or_default()).map_err(bad)?;
    let source = caller.token.activity_source();
    let outcome = state.engine.set_task_due_date(project, &key, due, Actor::System, &source).await?;
    Ok(changed(project, key, outcome))
}

#[derive(Deserialize)]
struct ReassignBody {
    tasks: Vec<String>,
    assignee: Option<String>,
}

#[derive(Serialize)]
struct Reassigned {
    project_id: ProjectId,
    /// How many tasks changed hands (those already with the assignee did not).
    reassigned: usize,
}

/// `POST …/tasks/reassign` with `{"tasks": ["key", …], "assignee": "<user id>" | null}`:
/// all the tasks or none (422 naming the task that could not be reassigned).
async fn reassign(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path(id): Path<String>,
    Json(body): Json<ReassignBody>,
) -> ApiResult<Json<Reassigned>> {
    let project = project_id(&id)?;
    let to = assignee(body.assignee.as_deref())?;
    let source = caller.token.activity_source();
    let reassigned = state
        .engine
        .reassign_tasks(project, &body.tasks, to, Actor::System, &source)
        .await?;
    Ok(Json(Reassigned {
        project_id: project,
        reassigned,
    }))
}

#[derive(Deserialize)]
struct CommentBody {
    body: String,
}

#[derive(Serialize)]
struct Added {
    id: uuid::Uuid,
    internal: bool,
}

async fn comment(
    caller: ApiCaller,
    state: WebState,
    id: &str,
    key: &str,
    body: &str,
    internal: bool,
) -> ApiResult<(StatusCode, Json<Added>)> {
    let project = project_id(id)?;
    let source = caller.token.activity_source();
    let id = state
        .engine
        .staff_comment(project, key, body, internal, Actor::System, &source)
        .await?;
    Ok((StatusCode::CREATED, Json(Added { id, internal })))
}

/// `POST …/tasks/{key}/comments` with `{"body": "…"}`: a comment the customer sees
/// (customer-visible tasks only).
async fn add_comment(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    Json(body): Json<CommentBody>,
) -> ApiResult<(StatusCode, Json<Added>)> {
    comment(caller, state, &id, &key, &body.body, false).await
}

/// `POST …/tasks/{key}/notes` with `{"body": "…"}`: an internal note, never shown to
/// customers.
async fn add_note(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
    Json(body): Json<CommentBody>,
) -> ApiResult<(StatusCode, Json<Added>)> {
    comment(caller, state, &id, &key, &body.body, true).await
}

#[derive(Serialize)]
struct CommentView {
    id: uuid::Uuid,
    author: Option<UserId>,
    author_name: Option<String>,
    body: String,
    at: DateTime<Utc>,
}

impl From<TaskComment> for CommentView {
    fn from(c: TaskComment) -> Self {
        CommentView {
            id: c.id,
            author: c.author,
            author_name: c.author_name,
            body: c.body,
            at: c.at,
        }
    }
}

#[derive(Serialize)]
struct Comments {
    /// Shared with the customer.
    comments: Vec<CommentView>,
    /// Staff only.
    notes: Vec<CommentView>,
}

/// `GET …/tasks/{key}/comments`: the shared comments and the internal notes, apart.
async fn comments(State(state): State<WebState>, Path((id, key)): Path<(String, String)>) -> ApiResult<Json<Comments>> {
    let project = project_id(&id)?;
    let details = state
        .store
        .project_details(project)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("project {project} does not exist")))?;
    let task = details
        .task_by_key(&key)
        .ok_or_else(|| ApiError::NotFound(format!("task `{key}` does not exist in project {project}")))?;
    let comments = state.store.task_comments(task.id).await?;
    let notes = state.store.task_internal_notes(task.id).await?;
    Ok(Json(Comments {
        comments: comments.into_iter().map(Into::into).collect(),
        notes: notes.into_iter().map(Into::into).collect(),
    }))
}
