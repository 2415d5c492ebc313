//! OAuth 2.0 with Salesforce (<https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_jwt_flow.htm&type=5>).
//!
//! - [`JwtBearer`]: server-to-server with a certificate; no refresh token, so a new
//!   assertion is signed whenever a token is needed.
//! - [`WebServerFlow`]: a person authorises once; the refresh token then yields new
//!   access tokens. Refresh responses may omit `instance_url`: the previous one is kept.
//! - [`ClientCredentials`]: an integration user, posted to the My Domain host.
//! - [`userinfo`] and [`revoke`]: who signed in through the web-server flow, and
//!   giving the token back once that is known.
//! - [`RefreshingTokenProvider`]: a [`crm_http::TokenProvider`] over any of these that
//!   refreshes single-flight within the process (Salesforce rejects concurrent
//!   refreshes of one token).
//!
//! Login URLs are injectable (`https://login.salesforce.com`, `https://test.salesforce.com`,
//! a My Domain, or a local simulator).

mod client_credentials;
mod identity;
mod jwt;
mod provider;
mod response;
mod web_server;

pub use client_credentials::ClientCredentials;
pub use identity::{UserInfo, revoke, userinfo};
pub use jwt::{ASSERTION_LIFETIME, JwtBearer};
pub use provider::{Grant, RefreshingTokenProvider, TokenSource};
pub use response::TokenResponse;
pub use web_server::{AuthorizeRequest, WebServerFlow};

use crm_http::TokenError;

pub const PRODUCTION_LOGIN_URL: &str = "https://login.salesforce.com";
pub const SANDBOX_LOGIN_URL: &str = "https://test.salesforce.com";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token endpoint refused the grant (`invalid_grant`, `invalid_client`, …): a
    /// person must fix the credentials or reconnect.
    #[error("Salesforce refused the grant: {error}: {description}")]
    Rejected { error: String, description: String },
    /// The token endpoint could not be reached, failed, or answered nonsense.
    #[error("cannot get a Salesforce token: {0}")]
    Unavailable(String),
    /// The private key cannot be used for RS256.
    #[error("invalid private key: {0}")]
    InvalidKey(String),
    #[error("invalid OAuth configuration: {0}")]
    InvalidConfig(String),
}

impl From<AuthError> for TokenError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Rejected { .. } | AuthError::InvalidKey(_) | AuthError::InvalidConfig(_) => TokenError::Rejected(e.to_string()),
            AuthError::Unavailable(_) => TokenError::Unavailable(e.to_string()),
        }
    }
}

/// `{login}/services/oauth2/token`, from a login URL with or without a trailing slash.
pub(crate) fn endpoint(login_url: &str, path: &str) -> Result<url::Url, AuthError> {
    let base = login_url.trim_end_matches('/');
    let parsed =
        url::Url::parse(&format!("{base}{path}")).map_err(|e| AuthError::InvalidConfig(format!("login URL {login_url:?}: {e}")))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(AuthError::InvalidConfig(format!("login URL {login_url:?} is not http(s)")));
    }
    Ok(parsed)
}

pub(crate) const TOKEN_PATH: &str = "/services/oauth2/token";
pub(crate) const AUTHORIZE_PATH: &str = "/services/oauth2/authorize";
