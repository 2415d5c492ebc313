//! Errors of the REST client, and Salesforce's error body shape.

use serde::Deserialize;

use crate::limits::ApiUsage;

/// One entry of Salesforce's error array: `[{"message","errorCode","fields"?}]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ApiError {
    #[serde(rename = "errorCode", default)]
    pub error_code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

/// Error codes this crate reacts to.
pub mod codes {
    pub const INVALID_SESSION_ID: &str = "INVALID_SESSION_ID";
    pub const REQUEST_LIMIT_EXCEEDED: &str = "REQUEST_LIMIT_EXCEEDED";
    pub const NOT_FOUND: &str = "NOT_FOUND";
    pub const UNABLE_TO_LOCK_ROW: &str = "UNABLE_TO_LOCK_ROW";
}

/// Parses an error body. Salesforce documents an array, but proxies and outages
/// answer with HTML or a single object, so anything else becomes one entry holding a
/// short excerpt of the body.
pub fn parse_error_body(body: &[u8]) -> Vec<ApiError> {
    if let Ok(errors) = serde_json::from_slice::<Vec<ApiError>>(body) {
        return errors;
    }
    if let Ok(error) = serde_json::from_slice::<ApiError>(body)
        && !error.error_code.is_empty()
    {
        return vec![error];
    }
    let text = String::from_utf8_lossy(body);
    let excerpt: String = text.trim().chars().take(200).collect();
    if excerpt.is_empty() {
        return Vec::new();
    }
    vec![ApiError {
        error_code: String::new(),
        message: excerpt,
        fields: Vec::new(),
    }]
}

fn summary(errors: &[ApiError]) -> String {
    match errors.first() {
        None => "no error details".to_owned(),
        Some(e) if e.error_code.is_empty() => e.message.clone(),
        Some(e) => format!("{}: {}", e.error_code, e.message),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No token could be had (the grant was refused, or the token endpoint failed).
    #[error(transparent)]
    Token(#[from] crm_http::TokenError),
    /// The token carried no instance URL and none was configured.
    #[error("the access token has no instance_url and the client has none configured")]
    NoInstanceUrl,
    /// 401 even after one refresh and retry.
    #[error("Salesforce rejected the session: {}", summary(.errors))]
    Unauthorized { errors: Vec<ApiError> },
    /// The org's API allocation (or concurrent long-request limit) is used up. Not
    /// retried: waiting, not hammering, is the cure.
    #[error("Salesforce request limit exceeded: {}", summary(.errors))]
    RequestLimitExceeded { errors: Vec<ApiError>, usage: Option<ApiUsage> },
    /// 404 `NOT_FOUND` and friends.
    #[error("not found: {}", summary(.errors))]
    NotFound { errors: Vec<ApiError> },
    /// Any other 3xx/4xx answer.
    #[error("Salesforce refused the request (HTTP {status}): {}", summary(.errors))]
    Api { status: u16, errors: Vec<ApiError> },
    /// 5xx, after the retries allowed for the call.
    #[error("Salesforce failed (HTTP {status}): {}", summary(.errors))]
    Server { status: u16, errors: Vec<ApiError> },
    /// No response within the client's timeout, after the retries allowed.
    #[error("Salesforce did not answer in time")]
    Timeout,
    /// Connection-level failure.
    #[error("cannot reach Salesforce: {0}")]
    Transport(String),
    /// A 2xx response whose body was not what the resource documents.
    #[error("unexpected response from {context}: {message}")]
    Decode { context: String, message: String },
    /// The caller asked for something this client refuses to send.
    #[error("invalid request: {0}")]
    InvalidInput(String),
}

impl Error {
    /// Whether trying the same call later may succeed (server trouble, timeouts,
    /// locked rows). `RequestLimitExceeded` is transient too but needs a long wait, so
    /// it is reported separately by [`Error::is_rate_limited`].
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Server { .. } | Error::Timeout | Error::Transport(_) => true,
            Error::Token(crm_http::TokenError::Unavailable(_)) => true,
            Error::Api { errors, .. } => errors.iter().any(|e| e.error_code == codes::UNABLE_TO_LOCK_ROW),
            _ => false,
        }
    }

    pub fn is_rate_limited(&self) -> bool {
        matches!(self, Error::RequestLimitExceeded { .. })
    }

    /// The error array, where the response had one.
    pub fn api_errors(&self) -> &[ApiError] {
        match self {
            Error::Unauthorized { errors }
            | Error::RequestLimitExceeded { errors, .. }
            | Error::NotFound { errors }
            | Error::Api { errors, .. }
            | Error::Server { errors, .. } => errors,
            _ => &[],
        }
    }

    pub(crate) fn decode(context: impl Into<String>, err: impl std::fmt::Display) -> Self {
        Error::Decode {
            context: context.into(),
            message: err.to_string(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_error_array_is_parsed_with_fields() {
        let body = br#"[{"message":"No such column 'Foo'","errorCode":"INVALID_FIELD","fields":["Foo"]},{"message":"x","errorCode":"Y"}]"#;
        let errors = parse_error_body(body);
        assert_eq!(errors.len(), 2);
        assert_eq!(errors[0].error_code, "INVALID_FIELD");
        assert_eq!(errors[0].fields, vec!["Foo".to_owned()]);
        assert!(errors[1].fields.is_empty());
    }

    #[test]
    fn a_session_expiry_body_is_recognised() {
        let errors = parse_error_body(br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#);
        assert_eq!(errors[0].error_code, codes::INVALID_SESSION_ID);
    }

    #[test]
    fn non_json_error_bodies_become_a_short_excerpt() {
        let html = format!("<html>{}</html>", "x".repeat(1000));
        let errors = parse_error_body(html.as_bytes());
        assert_eq!(errors.len(), 1);
        assert!(errors[0].error_code.is_empty());
        assert_eq!(errors[0].message.chars().count(), 200);
        assert!(parse_error_body(b"").is_empty());
        assert_eq!(parse_error_body(br#"{"errorCode":"X","message":"m"}"#)[0].error_code, "X");
    }

    #[test]
    fn messages_name_the_code_and_transience_is_classified() {
        let err = Error::Api {
            status: 400,
            errors: parse_error_body(br#"[{"message":"bad","errorCode":"MALFORMED_QUERY"}]"#),
        };
        assert_eq!(err.to_string(), "Salesforce refused the request (HTTP 400): MALFORMED_QUERY: bad");
        assert!(!err.is_transient());
        let locked = Error::Api {
            status: 400,
            errors: parse_error_body(br#"[{"message":"locked","errorCode":"UNABLE_TO_LOCK_ROW"}]"#),
        };
        assert!(locked.is_transient());
        assert!(Error::Timeout.is_transient());
        let limited = Error::RequestLimitExceeded {
            errors: vec![],
            usage: None,
        };
        assert!(limited.is_rate_limited() && !limited.is_transient());
    }
}
