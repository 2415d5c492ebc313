//! How a connector gets the bearer token for its next call.
//!
//! Connectors ask a [`TokenProvider`] before each request and, when the CRM rejects a
//! token (HTTP 401), call [`TokenProvider::refresh`] with the token that was rejected,
//! then retry once. Where tokens live and how concurrent refreshes are prevented is the
//! provider's business: an application can keep them encrypted in a database and refresh
//! under a lease shared by several processes; [`StaticToken`] serves private-app tokens.

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use secrecy::{ExposeSecret, SecretString};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A bearer token and what came with it.
#[derive(Clone, Debug)]
pub struct AccessToken {
    pub secret: SecretString,
    /// Salesforce's instance URL (`https://na1.my.salesforce.com`): API calls go there.
    pub instance_url: Option<String>,
    pub expires_at: Option<SystemTime>,
}

impl AccessToken {
    pub fn new(secret: SecretString) -> Self {
        Self {
            secret,
            instance_url: None,
            expires_at: None,
        }
    }

    /// Whether two values hold the same token (used to tell whether someone else
    /// already refreshed the token a caller saw rejected).
    pub fn same_as(&self, other: &AccessToken) -> bool {
        self.secret.expose_secret() == other.secret.expose_secret()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// The grant itself is no longer valid (revoked, expired refresh token): a person
    /// must reconnect. Retrying will not help.
    #[error("the CRM refused the credentials: {0}")]
    Rejected(String),
    /// The token endpoint could not be reached or failed; retrying later may help.
    #[error("cannot get a token: {0}")]
    Unavailable(String),
}

pub trait TokenProvider: Send + Sync {
    /// A token to use now (refreshing first if it is known to be expired).
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, TokenError>>;
    /// The CRM rejected `rejected`; return a fresh token. Implementations must make
    /// concurrent calls for the same rejected token refresh once, not once per caller.
    fn refresh<'a>(&'a self, rejected: &'a AccessToken) -> BoxFuture<'a, Result<AccessToken, TokenError>>;
}

/// A token that never changes, such as a HubSpot private-app token. A rejection is final.
#[derive(Clone, Debug)]
pub struct StaticToken(pub AccessToken);

impl TokenProvider for StaticToken {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        let token = self.0.clone();
        Box::pin(async move { Ok(token) })
    }

    fn refresh<'a>(&'a self, _rejected: &'a AccessToken) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(async { Err(TokenError::Rejected("a static token cannot be refreshed".into())) })
    }
}
