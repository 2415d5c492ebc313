//! The one HTTP error type. Handlers return `Result<T, ApiError>`; every failure becomes
//! a response here, once. 5xx bodies reveal nothing and are logged with their cause.

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use handoff_engine::EngineError;
use handoff_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    /// The JSON API was called without a bearer token (401, `WWW-Authenticate: Bearer`).
    #[error("{0}")]
    BearerMissing(String),
    /// The bearer token is malformed, unknown or revoked (401, `WWW-Authenticate: Bearer`
    /// with `error="invalid_token"`, as RFC 6750 asks).
    #[error("{0}")]
    BearerInvalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => ApiError::NotFound(e.to_string()),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(e) => e.into(),
            EngineError::Refused(r) => ApiError::Unprocessable(r.to_string()),
        }
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) | ApiError::BearerMissing(_) | ApiError::BearerInvalid(_) => StatusCode::UNAUTHORIZED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "request failed");
                String::from("internal error; the server log has the details")
            }
            ApiError::Unavailable(cause) => {
                tracing::warn!(%cause, "service unavailable");
                String::from("service unavailable")
            }
            other => other.to_string(),
        };
        let challenge = match &self {
            ApiError::BearerMissing(_) => Some(r#"Bearer realm="handoff""#),
            ApiError::BearerInvalid(_) => Some(r#"Bearer realm="handoff", error="invalid_token""#),
            _ => None,
        };
        let mut response = (status, Json(json!({ "error": message }))).into_response();
        if let Some(challenge) = challenge {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

/// The route layer of every JSON router (the API, webhooks, health): an error answer
/// that did not come from [`ApiError`] — axum's own, such as the body limit's 413, a
/// 405, an extractor's rejection — is given the one shape `{"error": "…"}` too. Its
/// status and other headers (`Allow`, `WWW-Authenticate`) are kept; the message is
/// axum's plain-text reason when it gave one, otherwise the status's name.
pub async fn json_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // axum's rejections are one short line; anything longer is not shown.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && !status.is_server_error());
    let message = text.unwrap_or_else(|| {
        status
            .canonical_reason()
            .map_or_else(|| status.as_str().to_owned(), str::to_lowercase)
    });
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_TYPE);
    let mut json = (status, Json(json!({ "error": message }))).into_response();
    for (name, value) in &parts.headers {
        json.headers_mut().entry(name).or_insert_with(|| value.clone());
    }
    json
}

/// Any path under `/api/v1` that names no endpoint: the API's own 404, not the portal's
/// HTML page.
pub async fn api_not_found() -> ApiError {
    ApiError::NotFound("no such API endpoint".into())
}
