//! The JSON API for invitation links (`/api/v1`), beside src/web/api.rs and behind the
//! same bearer tokens: list a project's links, revoke one, email a member a fresh one.
//! The staff console will call the same engine functions.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::api::ApiCaller;
use super::error::{ApiError, ApiResult};
use crate::WebState;
use handoff_domain::people::Actor;
use handoff_domain::{Email, ProjectId};
use handoff_engine::invitations::InvitationRevocation;
use handoff_store::InvitationInfo;

pub fn router(state: &WebState) -> Router<WebState> {
    Router::new()
        .route("/api/v1/projects/{id}/invitations", get(list).post(resend))
        .route("/api/v1/invitations/{id}/revoke", post(revoke))
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

/// `GET /api/v1/projects/{id}/invitations`: newest first; never a token.
async fn list(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<Vec<InvitationInfo>>> {
    Ok(Json(state.store.project_invitations(project_id(&id)?).await?))
}

#[derive(Deserialize)]
struct ResendBody {
    email: String,
}

#[derive(Serialize)]
struct Resent {
    invitation_id: uuid::Uuid,
    project_id: ProjectId,
    email: Email,
}

/// `POST /api/v1/projects/{id}/invitations` with `{"email": …}`: a fresh link for an
/// active member, emailed through the outbox; their unused links stop working.
async fn resend(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path(id): Path<String>,
    Json(body): Json<ResendBody>,
) -> ApiResult<(StatusCode, Json<Resent>)> {
    let project = project_id(&id)?;
    let email = Email::parse(&body.email).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let source = caller.token.activity_source();
    let invitation_id = state.engine.resend_invitation(project, &email, Actor::System, &source).await?;
    Ok((
        StatusCode::CREATED,
        Json(Resent {
            invitation_id,
            project_id: project,
            email,
        }),
    ))
}

/// `POST /api/v1/invitations/{id}/revoke`: idempotent; the outcome says what happened.
async fn revoke(caller: ApiCaller, State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<InvitationRevocation>> {
    let id: uuid::Uuid = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("`{id}` is not an invitation id")))?;
    let source = caller.token.activity_source();
    Ok(Json(state.engine.revoke_invitation(id, Actor::System, &source).await?))
}
