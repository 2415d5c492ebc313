//! The JSON API for a project's members and task emails (`/api/v1`), behind the same
//! bearer tokens as src/web/api.rs: add and remove customers, regenerate a link, add
//! and remove staff, and email customer members their open tasks. Each calls the
//! engine method the console's Members and Emails tabs call.

use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::api::ApiCaller;
use super::error::{ApiError, ApiResult};
use crate::WebState;
use handoff_domain::outbox::TaskDigestScope;
use handoff_domain::people::{Actor, ProjectRole};
use handoff_domain::{Email, ProjectId, UserId};
use handoff_engine::members::{MemberAdded, NewMember, StaffAdded};
use handoff_engine::task_digests::{TaskDigestOutcome, TaskDigestRequest};

pub fn router(state: &WebState) -> Router<WebState> {
    Router::new()
        .route("/api/v1/projects/{id}/members", post(add_member))
        .route("/api/v1/projects/{id}/members/{user}", delete(remove_member))
        .route("/api/v1/projects/{id}/members/{user}/regenerate-link", post(regenerate_link))
        .route("/api/v1/projects/{id}/staff", post(add_staff))
        .route("/api/v1/projects/{id}/staff/{user}", delete(remove_staff))
        .route("/api/v1/projects/{id}/emails", post(send_emails))
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

fn user_id(raw: &str) -> ApiResult<UserId> {
    raw.parse().map_err(|_| ApiError::BadRequest(format!("`{raw}` is not a user id")))
}

fn email(raw: &str) -> ApiResult<Email> {
    Email::parse(raw).map_err(|e| ApiError::BadRequest(e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddMemberBody {
    email: String,
    #[serde(default)]
    first_name: Option<String>,
    #[serde(default)]
    last_name: Option<String>,
    /// `customer_admin`, `customer_member` (the default) or `customer_viewer`.
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    contact_role: Option<String>,
    /// `now` (the default) or `later`.
    #[serde(default)]
    invite: Option<String>,
}

/// `POST /api/v1/projects/{id}/members`: adds a customer (201), or says they were a
/// member already (200).
async fn add_member(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path(id): Path<String>,
    Json(body): Json<AddMemberBody>,
) -> ApiResult<(StatusCode, Json<MemberAdded>)> {
    let project = project_id(&id)?;
    let role = match body.role.as_deref() {
        None => ProjectRole::CustomerMember,
        Some(raw) => raw
            .parse::<ProjectRole>()
            .map_err(|_| ApiError::BadRequest(format!("`{raw}` is not a project role")))?,
    };
    let invite_now = match body.invite.as_deref() {
        None | Some("now") => true,
        Some("later") => false,
        Some(other) => return Err(ApiError::BadRequest(format!("`invite` is `now` or `later`, not `{other}`"))),
    };
    let trimmed = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let new = NewMember {
        email: email(&body.email)?,
        first_name: trimmed(body.first_name),
        last_name: trimmed(body.last_name),
        role,
        contact_role: trimmed(body.contact_role),
        invite_now,
    };
    let source = caller.token.activity_source();
    let outcome = state.engine.add_customer(project, &new, Actor::System, &source).await?;
    let status = match outcome {
        MemberAdded::Added { .. } => StatusCode::CREATED,
        MemberAdded::AlreadyMember { .. } => StatusCode::OK,
    };
    Ok((status, Json(outcome)))
}

#[derive(Serialize)]
struct Changed {
    /// False when there was nothing to change (a retried request).
    changed: bool,
}

/// `DELETE /api/v1/projects/{id}/members/{user}`: removes a customer; their links stop
/// working and the project closes to their sessions at once. Idempotent.
async fn remove_member(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<Json<Changed>> {
    let (project, user) = (project_id(&id)?, user_id(&user)?);
    let source = caller.token.activity_source();
    let changed = state.engine.remove_customer(project, user, Actor::System, &source).await?;
    Ok(Json(Changed { changed }))
}

#[derive(Serialize)]
struct Regenerated {
    invitation_id: uuid::Uuid,
}

/// `POST /api/v1/projects/{id}/members/{user}/regenerate-link`: the member's live links
/// stop working and a new one is emailed.
async fn regenerate_link(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path((id, user)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Regenerated>)> {
    let (project, user) = (project_id(&id)?, user_id(&user)?);
    let source = caller.token.activity_source();
    let invitation_id = state.engine.regenerate_link(project, user, Actor::System, &source).await?;
    Ok((StatusCode::CREATED, Json(Regenerated { invitation_id })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddStaffBody {
    email: String,
    #[serde(default)]
    owner: bool,
}

/// `POST /api/v1/projects/{id}/staff`: a staff member joins the onboarding team (as
/// owner with `"owner": true`).
async fn add_staff(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path(id): Path<String>,
    Json(body): Json<AddStaffBody>,
) -> ApiResult<(StatusCode, Json<StaffAdded>)> {
    let project = project_id(&id)?;
    let source = caller.token.activity_source();
    let outcome = state
        .engine
        .add_team_member(project, &email(&body.email)?, body.owner, Actor::System, &source)
        .await?;
    let status = match outcome {
        StaffAdded::Added { .. } => StatusCode::CREATED,
        StaffAdded::AlreadyOnTeam { .. } => StatusCode::OK,
    };
    Ok((status, Json(outcome)))
}

#[derive(Deserialize)]
struct RemoveStaffQuery {
    /// Required when removing the owner: the team member who takes over.
    #[serde(default)]
    new_owner: Option<String>,
}

/// `DELETE /api/v1/projects/{id}/staff/{user}[?new_owner={user}]`. Idempotent.
async fn remove_staff(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path((id, user)): Path<(String, String)>,
    Query(q): Query<RemoveStaffQuery>,
) -> ApiResult<Json<Changed>> {
    let (project, user) = (project_id(&id)?, user_id(&user)?);
    let new_owner = q.new_owner.as_deref().map(user_id).transpose()?;
    let source = caller.token.activity_source();
    let changed = state
        .engine
        .remove_team_member(project, user, new_owner, Actor::System, &source)
        .await?;
    Ok(Json(Changed { changed }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SendBody {
    /// `all`, `phase` (with `phase`) or `reminder` (with `task`).
    scope: String,
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    task: Option<String>,
    /// User ids of active customer members.
    recipients: Vec<UserId>,
    /// The once-only key, when there is no `Idempotency-Key` header.
    #[serde(default)]
    nonce: Option<String>,
}

/// `POST /api/v1/projects/{id}/emails`: one email per recipient through the outbox
/// (202). A request repeated with the same `Idempotency-Key` (or `nonce`) queues
/// nothing and answers 200 with `"outcome":"already_sent"`.
async fn send_emails(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<SendBody>,
) -> ApiResult<(StatusCode, Json<TaskDigestOutcome>)> {
    let project = project_id(&id)?;
    let header = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| ApiError::BadRequest("the Idempotency-Key header is not text".into()))?;
    let nonce = match (header, body.nonce) {
        (Some(h), Some(n)) if h != n => return Err(ApiError::BadRequest("the Idempotency-Key header and `nonce` differ".into())),
        (Some(key), _) | (None, Some(key)) => key,
        (None, None) => return Err(ApiError::BadRequest("send an `Idempotency-Key` header (or a `nonce` field)".into())),
    };
    let needed = |v: Option<String>, what: &str| {
        v.filter(|s| !s.trim().is_empty())
            .ok_or_else(|| ApiError::BadRequest(format!("scope `{}` needs `{what}`", body.scope)))
    };
    let scope = match body.scope.as_str() {
        "all" => TaskDigestScope::AllOpen,
        "phase" => TaskDigestScope::Phase {
            phase: needed(body.phase, "phase")?,
        },
        "reminder" => TaskDigestScope::Reminder {
            task: needed(body.task, "task")?,
        },
        other => {
            return Err(ApiError::BadRequest(format!(
                "`scope` is `all`, `phase` or `reminder`, not `{other}`"
            )));
        }
    };
    let request = TaskDigestRequest {
        scope,
        recipients: body.recipients,
        nonce,
    };
    let source = caller.token.activity_source();
    let outcome = state.engine.send_task_digest(project, &request, Actor::System, &source).await?;
    let status = match outcome {
        TaskDigestOutcome::Queued { .. } => StatusCode::ACCEPTED,
        TaskDigestOutcome::AlreadySent => StatusCode::OK,
    };
    Ok((status, Json(outcome)))
}
