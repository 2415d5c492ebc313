//! The JSON API (`/api/v1`), for integrations and scripts until the portal exists.
//!
//! Every route sits behind [`ApiCaller`]: the router's route layer extracts it before
//! any handler runs, so a route added here cannot skip authentication. Tokens are
//! operator-level (made with `handoff api-token create`) and reach every project.

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path, Request, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use secrecy::SecretString;
use serde::Serialize;

use super::error::{ApiError, ApiResult};
use crate::WebState;
use handoff_domain::api_token::ApiToken;
use handoff_domain::people::Actor;
use handoff_domain::project::{Phase, Project, ProjectDetails, Task};
use handoff_domain::{OwnerSide, Priority, Progress, ProjectId, TaskStatus, UserId, Visibility};
use handoff_engine::Completion;

pub fn router(state: &WebState) -> Router<WebState> {
    Router::new()
        .route("/api/v1/projects/{id}", get(project))
        .route("/api/v1/projects/{id}/tasks/{key}/complete", post(complete_task))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_caller))
}

/// Who is calling: the API token the request bears, known and not revoked. Extracted
/// once per request (the route layer stores it for the handler).
#[derive(Clone, Debug)]
pub struct ApiCaller {
    pub token: ApiToken,
}

impl FromRequestParts<WebState> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<ApiCaller>() {
            return Ok(caller.clone());
        }
        let presented = bearer_token(&parts.headers)?;
        let token = state
            .store
            .authenticate_api_token(&presented)
            .await?
            .ok_or_else(|| ApiError::BearerInvalid("the API token is unknown or revoked".into()))?;
        let caller = ApiCaller { token };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// The route layer: no handler runs without an [`ApiCaller`].
async fn require_caller(_caller: ApiCaller, request: Request, next: Next) -> Response {
    next.run(request).await
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
fn bearer_token(headers: &HeaderMap) -> Result<SecretString, ApiError> {
    let missing =
        || ApiError::BearerMissing("this API needs an `Authorization: Bearer <token>` header (see `handoff api-token create`)".into());
    let value = headers.get(AUTHORIZATION).ok_or_else(missing)?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::BearerInvalid("the Authorization header is not text".into()))?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(missing());
    }
    Ok(SecretString::from(token.trim().to_owned()))
}

fn project_id(raw: &str) -> ApiResult<ProjectId> {
    raw.parse()
        .map_err(|e: handoff_domain::ids::IdError| ApiError::BadRequest(e.to_string()))
}

#[derive(Debug, Serialize)]
struct TaskCompleted {
    project_id: ProjectId,
    task: String,
    status: TaskStatus,
    /// False when the task was already completed (a retried request changes nothing).
    changed: bool,
}

/// `POST /api/v1/projects/{id}/tasks/{key}/complete`: completes a task, recorded in the
/// activity trail as `api:<token name>`. Idempotent.
async fn complete_task(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path((id, key)): Path<(String, String)>,
) -> ApiResult<Json<TaskCompleted>> {
    let project = project_id(&id)?;
    let source = caller.token.activity_source();
    let changed = match state.engine.complete_task(project, &key, Actor::System, &source).await? {
        Completion::Completed => true,
        Completion::AlreadyCompleted => false,
    };
    Ok(Json(TaskCompleted {
        project_id: project,
        task: key,
        status: TaskStatus::Completed,
        changed,
    }))
}

/// `GET /api/v1/projects/{id}`: the project with its phases, tasks (with Blocked
/// derived) and progress.
async fn project(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<ProjectView>> {
    let id = project_id(&id)?;
    let details = state
        .store
        .project_details(id)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("project {id} does not exist")))?;
    let mapping = state.store.project_mapping(id).await?;
    Ok(Json(ProjectView::of(&details, mapping)))
}

#[derive(Debug, Serialize)]
struct ProjectView {
    #[serde(flatten)]
    project: Project,
    progress: ProgressView,
    /// Project custom fields mapped from the CRM record (the CRM owns them).
    custom_fields: std::collections::BTreeMap<String, serde_json::Value>,
    /// The CRM users the record's owner and team fields name, with the staff user each
    /// was matched to (`user_id` null while none matches).
    crm_staff: Vec<handoff_store::CrmStaff>,
    phases: Vec<PhaseView>,
}

#[derive(Debug, Serialize)]
struct ProgressView {
    completed: usize,
    total: usize,
    percent: u8,
}

impl From<Progress> for ProgressView {
    fn from(p: Progress) -> Self {
        Self {
            completed: p.completed,
            total: p.total,
            percent: p.percent(),
        }
    }
}

#[derive(Debug, Serialize)]
struct PhaseView {
    key: String,
    name: String,
    description: Option<String>,
    progress: ProgressView,
    tasks: Vec<TaskView>,
}

#[derive(Debug, Serialize)]
struct TaskView {
    key: String,
    title: String,
    #[serde(rename = "type")]
    kind: &'static str,
    visibility: Visibility,
    owner: OwnerSide,
    priority: Priority,
    /// As a person sees it: `blocked` while a task it depends on is not completed.
    status: TaskStatus,
    due_date: Option<NaiveDate>,
    assignee_id: Option<UserId>,
    /// The keys of the tasks this one waits for.
    depends_on: Vec<String>,
    completed_at: Option<DateTime<Utc>>,
}

impl ProjectView {
    fn of(d: &ProjectDetails, mapping: handoff_store::ProjectMapping) -> Self {
        let keys: HashMap<_, _> = d.tasks.iter().map(|t| (t.id, t.key.as_str())).collect();
        let task = |t: &Task| TaskView {
            key: t.key.to_string(),
            title: t.title.clone(),
            kind: t.kind.name(),
            visibility: t.visibility,
            owner: t.owner,
            priority: t.priority,
            status: d.status_of(t),
            due_date: t.due_date,
            assignee_id: t.assignee_id,
            depends_on: t.depends_on.iter().filter_map(|id| keys.get(id)).map(|k| (*k).to_owned()).collect(),
            completed_at: t.completed_at,
        };
        let phase = |p: &Phase| PhaseView {
            key: p.key.to_string(),
            name: p.name.clone(),
            description: p.description.clone(),
            progress: d.phase_progress(p).into(),
            tasks: d.tasks_in(p).map(task).collect(),
        };
        Self {
            project: d.project.clone(),
            progress: d.progress().into(),
            custom_fields: mapping.custom_fields,
            crm_staff: mapping.crm_staff,
            phases: d.phases.iter().map(phase).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_bearer_scheme_is_case_insensitive_and_other_schemes_count_as_missing() {
        use secrecy::ExposeSecret;
        assert_eq!(bearer_token(&headers("Bearer hnd_x")).unwrap().expose_secret(), "hnd_x");
        assert_eq!(bearer_token(&headers("bearer  hnd_x ")).unwrap().expose_secret(), "hnd_x");
        assert!(matches!(bearer_token(&HeaderMap::new()), Err(ApiError::BearerMissing(_))));
        assert!(matches!(bearer_token(&headers("Basic dTpw")), Err(ApiError::BearerMissing(_))));
        assert!(matches!(bearer_token(&headers("Bearer")), Err(ApiError::BearerMissing(_))));
    }
}
