//! Errors: `Error` for starting the sandbox, `ApiError` for HTTP responses in Salesforce's shapes
//! (REST API Developer Guide, "Status Codes and Error Responses": a JSON array of
//! `{message, errorCode, fields?}`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::store::DmlError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Seed(#[from] crate::seed::SeedError),
    #[error("loading the salesforce seed did not finish: {0}")]
    SeedTask(String),
    #[error("the JWT public key is not usable: {0}")]
    PublicKey(String),
    #[error("organization id {0} is not a valid 18-character id")]
    OrganizationId(String),
}

/// An API error: HTTP status, Salesforce error code, message and optional fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub fields: Vec<String>,
}

impl ApiError {
    pub fn new(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.into(),
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn invalid_session() -> Self {
        Self::new(401, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    pub fn not_found() -> Self {
        Self::new(404, "NOT_FOUND", "The requested resource does not exist")
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "INVALID_REQUEST", message)
    }

    pub fn malformed_json(e: &serde_json::Error) -> Self {
        Self::new(
            400,
            "JSON_PARSER_ERROR",
            format!("{e} at [line:{}, column:{}]", e.line(), e.column()),
        )
    }

    pub fn not_supported(object: &str) -> Self {
        Self::new(
            404,
            "NOT_FOUND",
            format!("The requested resource does not exist: sObject type '{object}' is not supported."),
        )
    }

    pub fn limit_exceeded() -> Self {
        Self::new(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
    }

    pub fn fault(status: u16) -> Self {
        let (code, message) = if status == 503 {
            ("SERVER_UNAVAILABLE", "Server temporarily unavailable, please try again later")
        } else {
            (
                "UNKNOWN_EXCEPTION",
                "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-123456789)",
            )
        };
        Self::new(status, code, message)
    }

    pub fn body(&self) -> Value {
        let mut e = json!({"message": self.message, "errorCode": self.code});
        if !self.fields.is_empty() {
            e["fields"] = json!(self.fields);
        }
        Value::Array(vec![e])
    }
}

impl From<DmlError> for ApiError {
    fn from(e: DmlError) -> Self {
        Self {
            status: e.http_status(),
            code: e.code,
            message: e.message,
            fields: e.fields,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self.body())).into_response()
    }
}

impl From<sandbox_kit::serve::BindError> for Error {
    fn from(e: sandbox_kit::serve::BindError) -> Self {
        Error::Bind {
            addr: e.addr,
            source: e.source,
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
