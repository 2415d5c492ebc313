//! Errors of the HubSpot client, and HubSpot's error body (<https://developers.hubspot.com/docs/guides/crm/understanding-the-crm>, <https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines>).

use serde::Deserialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A 4xx other than 401 and 429: validation, missing scope, not found, …
    #[error("HubSpot refused the request ({status}): {body}")]
    Api { status: u16, body: Box<ApiError> },
    /// HubSpot rejected the token, and a refresh did not help (or was not possible).
    #[error("HubSpot rejected the credentials: {0}")]
    Unauthorized(Box<ApiError>),
    /// The token provider could not supply or refresh a token.
    #[error(transparent)]
    Token(#[from] crm_http::TokenError),
    /// The account's daily budget is spent; it resets at midnight in the account's time zone.
    #[error("HubSpot daily API limit reached: {0}")]
    DailyLimit(Box<ApiError>),
    /// Still rate limited (10-second window, search limit, 423 Locked) after the retries allowed.
    #[error("HubSpot rate limit still exceeded after {attempts} attempts: {body}")]
    RateLimited { attempts: u32, body: Box<ApiError> },
    /// A 5xx (or 477 "account migrating") that outlasted the retries allowed.
    #[error("HubSpot failed ({status}) after {attempts} attempts: {body}")]
    Server { status: u16, attempts: u32, body: Box<ApiError> },
    #[error("HubSpot did not answer within the timeout")]
    Timeout,
    #[error("cannot reach HubSpot: {0}")]
    Transport(#[source] reqwest::Error),
    /// A 2xx whose body is not the shape documented for it.
    #[error("unexpected response from {path}: {source}")]
    Decode {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    /// The request breaks a documented limit and was not sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// HubSpot answered something its protocol rules out (a search going backwards, a
    /// record without an id); stopping beats looping.
    #[error("unexpected answer from HubSpot: {0}")]
    Protocol(String),
    #[error("invalid URL: {0}")]
    Url(#[from] url::ParseError),
    #[error("OAuth token request failed: {0}")]
    OAuth(String),
}

impl Error {
    /// Whether trying the same call later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. } | Error::Server { .. } | Error::Timeout | Error::Transport(_)
        ) || matches!(self, Error::Token(crm_http::TokenError::Unavailable(_)))
    }

    /// A 404: the record (or object type) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api { status: 404, .. })
    }

    /// The credentials are no longer good: a person has to reconnect (or rotate the
    /// private-app token).
    pub fn needs_reauthorization(&self) -> bool {
        matches!(self, Error::Unauthorized(_) | Error::Token(crm_http::TokenError::Rejected(_)))
    }

    /// HubSpot's error body, when the failure came with one.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::Api { body, .. }
            | Error::Unauthorized(body)
            | Error::DailyLimit(body)
            | Error::RateLimited { body, .. }
            | Error::Server { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// HubSpot's error body. Every field is optional in practice, so each has a default;
/// a body that is not JSON ends up in `message`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// Usually `"error"`; OAuth errors put a code such as `BAD_REFRESH_TOKEN` here.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// `VALIDATION_ERROR`, `OBJECT_NOT_FOUND`, `MISSING_SCOPES`, `RATE_LIMITS`, …
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub sub_category: Option<String>,
    #[serde(default)]
    pub errors: Vec<ErrorDetail>,
    #[serde(default)]
    pub context: Option<serde_json::Value>,
    /// On 429: `DAILY` or `TEN_SECONDLY_ROLLING`.
    #[serde(default)]
    pub policy_name: Option<String>,
    /// On 429: `RATE_LIMIT`.
    #[serde(default)]
    pub error_type: Option<String>,
    /// RFC 6749 error code on the date-versioned OAuth endpoints (`invalid_grant`).
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default, rename = "error_description")]
    pub error_description: Option<String>,
}

impl ApiError {
    /// Parses a response body; never fails, so the status code is never lost.
    pub fn from_body(body: &[u8]) -> Self {
        match serde_json::from_slice::<ApiError>(body) {
            Ok(parsed) => parsed,
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                // Bounded, so an HTML error page does not flood logs.
                let message: String = text.chars().take(300).collect();
                ApiError {
                    message,
                    ..ApiError::default()
                }
            }
        }
    }

    /// The 429 policy, when HubSpot named one.
    pub fn rate_limit_policy(&self) -> Option<RateLimitPolicy> {
        match self.policy_name.as_deref()? {
            "DAILY" => Some(RateLimitPolicy::Daily),
            "TEN_SECONDLY_ROLLING" => Some(RateLimitPolicy::TenSecondlyRolling),
            "SECONDLY" => Some(RateLimitPolicy::Secondly),
            _ => Some(RateLimitPolicy::Other),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = if self.message.is_empty() {
            self.error_description.as_deref().unwrap_or("")
        } else {
            &self.message
        };
        write!(f, "{message}")?;
        if let Some(category) = &self.category {
            write!(f, " [{category}]")?;
        }
        if let Some(id) = &self.correlation_id {
            write!(f, " (correlationId {id})")?;
        }
        Ok(())
    }
}

/// One entry of `errors` in HubSpot's error body.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    #[serde(default)]
    pub message: String,
    #[serde(default, rename = "in")]
    pub in_: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub sub_category: Option<String>,
    #[serde(default)]
    pub context: Option<serde_json::Value>,
}

/// Which limit a 429 hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitPolicy {
    /// Resets at midnight: retrying today is pointless.
    Daily,
    /// The rolling 10-second window: wait and retry.
    TenSecondlyRolling,
    /// The per-second search limit.
    Secondly,
    Other,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_error_body_is_parsed_with_its_details() {
        let body = br#"{"status":"error","message":"Property values were not valid","correlationId":"abc-123",
            "category":"VALIDATION_ERROR","errors":[{"message":"bad amount","in":"amount","code":"INVALID_DECIMAL"}]}"#;
        let e = ApiError::from_body(body);
        assert_eq!(e.category.as_deref(), Some("VALIDATION_ERROR"));
        assert_eq!(e.correlation_id.as_deref(), Some("abc-123"));
        assert_eq!(e.errors[0].in_.as_deref(), Some("amount"));
        assert_eq!(
            e.to_string(),
            "Property values were not valid [VALIDATION_ERROR] (correlationId abc-123)"
        );
    }

    #[test]
    fn a_daily_rate_limit_body_names_its_policy() {
        let body = br#"{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT",
            "correlationId":"c","policyName":"DAILY","requestId":"r"}"#;
        assert_eq!(ApiError::from_body(body).rate_limit_policy(), Some(RateLimitPolicy::Daily));
        let ten = br#"{"policyName":"TEN_SECONDLY_ROLLING"}"#;
        assert_eq!(
            ApiError::from_body(ten).rate_limit_policy(),
            Some(RateLimitPolicy::TenSecondlyRolling)
        );
        assert_eq!(ApiError::from_body(b"{}").rate_limit_policy(), None);
    }

    #[test]
    fn a_body_that_is_not_json_becomes_the_message() {
        let e = ApiError::from_body(b"<html>Bad Gateway</html>");
        assert_eq!(e.message, "<html>Bad Gateway</html>");
        assert!(ApiError::from_body(&[b'x'; 10_000]).message.len() <= 300);
    }

    #[test]
    fn an_oauth_error_body_shows_its_description() {
        let body =
            br#"{"error":"invalid_grant","error_description":"refresh token is invalid, expired or revoked","status":"BAD_REFRESH_TOKEN"}"#;
        let e = ApiError::from_body(body);
        assert_eq!(e.error.as_deref(), Some("invalid_grant"));
        assert_eq!(e.to_string(), "refresh token is invalid, expired or revoked");
    }
}
