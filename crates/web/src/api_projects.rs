//! The JSON API for the project list and lifecycle (`/api/v1`), behind the same bearer
//! tokens as src/web/api.rs: the console's project list with its filters and keyset
//! cursor, and a project's lifecycle steps, through the engine the console uses.

use axum::extract::{Path, Query, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::api::ApiCaller;
use super::error::{ApiError, ApiResult};
use crate::WebState;
use handoff_domain::people::Actor;
use handoff_domain::{ProjectId, ProjectStatus, UserId};
use handoff_store::{ProjectCursor, ProjectFilter, ProjectListing, ProjectOwner};

/// Projects per page unless `limit` says otherwise, and the most it may say.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;

pub fn router(state: &WebState) -> Router<WebState> {
    Router::new()
        .route("/api/v1/projects", get(list))
        .route("/api/v1/projects/{id}/status", post(set_status))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_caller))
}

/// No handler here runs without a valid API token.
async fn require_caller(_caller: ApiCaller, request: Request, next: Next) -> Response {
    next.run(request).await
}

#[derive(Debug, Default, Deserialize)]
struct ListQuery {
    status: Option<String>,
    owner: Option<String>,
    q: Option<String>,
    after: Option<String>,
    limit: Option<String>,
}

fn given(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

impl ListQuery {
    fn filter(&self) -> ApiResult<(ProjectFilter, u32)> {
        let bad = |m: String| ApiError::BadRequest(m);
        let status = given(self.status.as_ref())
            .map(str::parse::<ProjectStatus>)
            .transpose()
            .map_err(|e| bad(e.to_string()))?;
        let owner = given(self.owner.as_ref())
            .map(|o| o.parse::<UserId>().map_err(|_| bad(format!("`{o}` is not a user id"))))
            .transpose()?;
        let after = given(self.after.as_ref())
            .map(|a| ProjectCursor::parse(a).ok_or_else(|| bad("`after` is not a cursor this API gave out".into())))
            .transpose()?;
        let limit = match given(self.limit.as_ref()) {
            None => DEFAULT_LIMIT,
            Some(l) => l
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| bad(format!("`limit` is a number from 1 to {MAX_LIMIT}")))?,
        };
        let filter = ProjectFilter {
            status,
            owner,
            search: given(self.q.as_ref()).map(str::to_owned),
            after,
        };
        Ok((filter, limit))
    }
}

#[derive(Debug, Serialize)]
struct ProgressView {
    completed: usize,
    total: usize,
    percent: u8,
}

#[derive(Debug, Serialize)]
struct ProjectLine {
    id: ProjectId,
    name: String,
    company: Option<String>,
    status: ProjectStatus,
    progress: ProgressView,
    owner: Option<ProjectOwner>,
    start_date: NaiveDate,
    goal_date: Option<NaiveDate>,
    overdue_tasks: u64,
}

impl From<ProjectListing> for ProjectLine {
    fn from(l: ProjectListing) -> Self {
        let p = l.project;
        ProjectLine {
            id: p.id,
            name: p.name,
            company: p.company_name,
            status: p.status,
            progress: ProgressView {
                completed: l.progress.completed,
                total: l.progress.total,
                percent: l.progress.percent(),
            },
            owner: l.owner,
            start_date: p.start_date,
            goal_date: p.goal_date,
            overdue_tasks: l.overdue_tasks,
        }
    }
}

#[derive(Debug, Serialize)]
struct ProjectList {
    projects: Vec<ProjectLine>,
    /// The `after` of the next page; `null` on the last.
    next: Option<String>,
}

/// `GET /api/v1/projects?status=&owner=&q=&after=&limit=`: projects by name (then id),
/// a page at a time.
async fn list(State(state): State<WebState>, Query(query): Query<ListQuery>) -> ApiResult<Json<ProjectList>> {
    let (filter, limit) = query.filter()?;
    let today = chrono::Utc::now().date_naive();
    let page = state.store.console_projects(&filter, today, limit).await?;
    Ok(Json(ProjectList {
        next: page.next.as_ref().map(ProjectCursor::token),
        projects: page.projects.into_iter().map(ProjectLine::from).collect(),
    }))
}

#[derive(Debug, Deserialize)]
struct StatusBody {
    to: String,
}

#[derive(Debug, Serialize)]
struct StatusChanged {
    project_id: ProjectId,
    from: ProjectStatus,
    status: ProjectStatus,
    /// False when the project already had the status (a retry changes nothing).
    changed: bool,
}

/// `POST /api/v1/projects/{id}/status` with `{"to": "active"}`: one lifecycle step,
/// recorded as `api:<token name>`; 422 with the reason when the rules refuse it.
async fn set_status(
    caller: ApiCaller,
    State(state): State<WebState>,
    Path(id): Path<String>,
    Json(body): Json<StatusBody>,
) -> ApiResult<Json<StatusChanged>> {
    let project: ProjectId = id
        .parse()
        .map_err(|e: handoff_domain::ids::IdError| ApiError::BadRequest(e.to_string()))?;
    let to: ProjectStatus = body
        .to
        .parse()
        .map_err(|e: handoff_domain::lifecycle::UnknownStatus| ApiError::BadRequest(e.to_string()))?;
    let today = chrono::Utc::now().date_naive();
    let from = state
        .store
        .console_project(project, today)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("project {project} does not exist")))?
        .project
        .status;
    if from == to {
        return Ok(Json(StatusChanged {
            project_id: project,
            from,
            status: to,
            changed: false,
        }));
    }
    let source = caller.token.activity_source();
    let status = state.engine.set_project_status(project, to, Actor::System, &source).await?;
    Ok(Json(StatusChanged {
        project_id: project,
        from,
        status,
        changed: true,
    }))
}
