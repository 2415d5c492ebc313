//! Errors: `Error` for starting the sandbox, `ApiError` for HTTP responses in HubSpot's shapes.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::AuthError;
use crate::objects::ObjectType;
use crate::ratelimit::Policy;
use crate::store::{PropError, StoreError};
use crate::util::{correlation_id, iso_ms, now_ms};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Seed(#[from] crate::seed::SeedError),
    #[error("loading the hubspot seed did not finish: {0}")]
    SeedTask(String),
}

impl From<sandbox_kit::serve::BindError> for Error {
    fn from(e: sandbox_kit::serve::BindError) -> Self {
        Error::Bind {
            addr: e.addr,
            source: e.source,
        }
    }
}

/// Every error the API answers with. Bodies follow HubSpot's documented error shape
/// (`status`, `message`, `correlationId`, `category`, `errors`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApiError {
    #[error("authentication failed")]
    Auth(AuthError),
    #[error("not found: {0}")]
    NotFound(String),
    #[error("validation error: {message}")]
    Validation { message: String, errors: Vec<Value> },
    #[error("rate limited")]
    RateLimited(Policy),
    #[error("injected fault {0}")]
    Fault(u16),
    #[error("gateway timeout")]
    GatewayTimeout,
}

impl ApiError {
    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::Validation {
            message: message.into(),
            errors: Vec::new(),
        }
    }

    pub fn object_not_found(object: ObjectType, id: &str) -> Self {
        ApiError::NotFound(format!(
            "Object not found.  objectId are usually numeric. {} {id} does not exist",
            object.singular()
        ))
    }

    /// HubSpot's "Property values were not valid" error, with one entry per property.
    pub fn invalid_properties(errs: &[PropError]) -> Self {
        let detail: Vec<Value> = errs
            .iter()
            .map(|e| json!({"isValid": false, "message": e.message, "error": e.code, "name": e.name, "localizedErrorMessage": e.message}))
            .collect();
        let message = format!("Property values were not valid: {}", Value::Array(detail));
        let errors = errs
            .iter()
            .map(|e| json!({"message": e.message, "code": e.code, "context": {"propertyName": [e.name]}}))
            .collect();
        ApiError::Validation { message, errors }
    }

    pub fn malformed_json(e: &serde_json::Error) -> Self {
        ApiError::validation(format!("Invalid input JSON on line {}, column {}: {e}", e.line(), e.column()))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Auth(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Validation { .. } => StatusCode::BAD_REQUEST,
            ApiError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Fault(code) => StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            ApiError::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
        }
    }

    pub fn body(&self) -> Value {
        let cid = correlation_id();
        match self {
            ApiError::Auth(a) => auth_body(a, &cid),
            ApiError::NotFound(m) => json!({"status": "error", "message": m, "correlationId": cid, "category": "OBJECT_NOT_FOUND"}),
            ApiError::Validation { message, errors } => {
                let mut b = json!({"status": "error", "message": message, "correlationId": cid, "category": "VALIDATION_ERROR"});
                if !errors.is_empty() {
                    b["errors"] = Value::Array(errors.clone());
                }
                b
            }
            ApiError::RateLimited(p) => json!({
                "status": "error",
                "message": format!("You have reached your {} limit.", p.name().to_ascii_lowercase()),
                "errorType": "RATE_LIMIT",
                "correlationId": cid,
                "policyName": p.name(),
                "requestId": correlation_id(),
            }),
            ApiError::Fault(code) => {
                let (message, category) = if *code == 503 {
                    ("Service Unavailable", "SERVICE_UNAVAILABLE")
                } else {
                    ("internal error", "INTERNAL_ERROR")
                };
                json!({"status": "error", "message": message, "correlationId": cid, "category": category})
            }
            ApiError::GatewayTimeout => {
                json!({"status": "error", "message": "Gateway timeout", "correlationId": cid, "category": "TIMEOUT"})
            }
        }
    }
}

fn auth_body(a: &AuthError, cid: &str) -> Value {
    match a {
        AuthError::Expired { ago } => json!({
            "status": "error",
            "message": format!("The OAuth token used to make this call expired {} minute(s) ago.", ago.as_secs() / 60),
            "correlationId": cid,
            "category": "EXPIRED_AUTHENTICATION",
            "context": {"expire time": [iso_ms(now_ms() - i64::try_from(ago.as_millis()).unwrap_or(0))]},
        }),
        AuthError::Revoked => json!({
            "status": "error",
            "message": "The access token used to make this call has been revoked.",
            "correlationId": cid,
            "category": "INVALID_AUTHENTICATION",
        }),
        AuthError::Missing | AuthError::Invalid => json!({
            "status": "error",
            "message": "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            "correlationId": cid,
            "category": "INVALID_AUTHENTICATION",
        }),
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { object, id } => ApiError::object_not_found(object, &id),
            StoreError::InvalidProperties(errs) => ApiError::invalid_properties(&errs),
            other => ApiError::validation(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status(), axum::Json(self.body())).into_response();
        if let ApiError::RateLimited(Policy::TenSecondlyRolling | Policy::Secondly) = self {
            // Retry-After is unconfirmed for HubSpot [U]; a hint does no harm to clients that ignore it.
            resp.headers_mut().insert("retry-after", HeaderValue::from_static("1"));
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
