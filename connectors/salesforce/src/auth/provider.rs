//! A [`TokenProvider`] for standalone use: gets tokens from one of the OAuth grants and
//! refreshes them single-flight within the process.
//!
//! Salesforce rejects concurrent refreshes of one token, and a burst of 401s from
//! parallel calls would otherwise trigger one refresh each. The state lives behind a
//! tokio mutex held across the token request: the first caller refreshes, the others
//! wait, see that the token they hold was already replaced, and use the new one.
//! Several processes sharing one grant need a lease of their own on top of this.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use crm_http::{AccessToken, BoxFuture, OAuthHttp, TokenError, TokenProvider};
use secrecy::SecretString;
use tokio::sync::Mutex;

use super::{AuthError, ClientCredentials, JwtBearer, TokenResponse, WebServerFlow};

/// Tokens expiring within this margin are renewed before use.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

/// How new access tokens are obtained.
#[derive(Debug)]
pub enum Grant {
    /// Sign a new assertion each time.
    JwtBearer(JwtBearer),
    /// Use the refresh token from a web-server flow.
    RefreshToken { flow: WebServerFlow, refresh_token: SecretString },
    /// Ask again with the client credentials.
    ClientCredentials(ClientCredentials),
    /// Any other way of getting a token (a vault, another process, a test).
    Custom(Box<dyn TokenSource>),
}

/// A source of new tokens for [`Grant::Custom`].
pub trait TokenSource: Send + Sync {
    /// A new token; `current` is the token being replaced, if any.
    fn fetch<'a>(&'a self, current: Option<&'a AccessToken>) -> BoxFuture<'a, Result<TokenResponse, AuthError>>;
}

impl std::fmt::Debug for dyn TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSource")
    }
}

#[derive(Debug)]
struct State {
    token: Option<AccessToken>,
    /// The current refresh token, replaced if Salesforce rotates it.
    refresh_token: Option<SecretString>,
}

pub struct RefreshingTokenProvider {
    grant: Grant,
    http: OAuthHttp,
    state: Mutex<State>,
    requests: AtomicU64,
}

impl std::fmt::Debug for RefreshingTokenProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshingTokenProvider")
            .field("grant", &self.grant)
            .field("token_requests", &self.token_requests())
            .finish_non_exhaustive()
    }
}

impl RefreshingTokenProvider {
    pub fn new(grant: Grant) -> Result<Self, AuthError> {
        let http = OAuthHttp::new(concat!("crm-salesforce/", env!("CARGO_PKG_VERSION")), TOKEN_TIMEOUT)
            .map_err(|e| AuthError::InvalidConfig(e.to_string()))?;
        Ok(Self::with_http(grant, http))
    }

    pub fn with_http(grant: Grant, http: OAuthHttp) -> Self {
        let refresh_token = match &grant {
            Grant::RefreshToken { refresh_token, .. } => Some(refresh_token.clone()),
            _ => None,
        };
        Self {
            grant,
            http,
            state: Mutex::new(State {
                token: None,
                refresh_token,
            }),
            requests: AtomicU64::new(0),
        }
    }

    /// Starts from a token already held (one stored earlier, or the one returned by
    /// the code exchange), so the first call does not need a token request.
    pub fn with_token(self, token: AccessToken) -> Self {
        let Self {
            grant,
            http,
            state,
            requests,
        } = self;
        let mut state = state.into_inner();
        state.token = Some(token);
        Self {
            grant,
            http,
            state: Mutex::new(state),
            requests,
        }
    }

    /// Token endpoint requests made so far.
    pub fn token_requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Requests a new token; the caller holds the state lock.
    async fn fetch(&self, state: &mut State) -> Result<AccessToken, AuthError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let previous_instance = state.token.as_ref().and_then(|t| t.instance_url.clone());
        let response: TokenResponse = match &self.grant {
            Grant::JwtBearer(jwt) => jwt.fetch_token(&self.http).await?,
            Grant::ClientCredentials(cc) => cc.fetch_token(&self.http).await?,
            Grant::Custom(source) => source.fetch(state.token.as_ref()).await?,
            Grant::RefreshToken { flow, .. } => {
                let refresh_token = state
                    .refresh_token
                    .clone()
                    .ok_or_else(|| AuthError::InvalidConfig("no refresh token".into()))?;
                flow.refresh(&self.http, &refresh_token, previous_instance.as_deref()).await?
            }
        };
        if response.refresh_token.is_some() {
            state.refresh_token = response.refresh_token;
        }
        let mut token = response.access_token;
        // Refresh answers may omit instance_url; losing it would send calls nowhere.
        if token.instance_url.is_none() {
            token.instance_url = previous_instance;
        }
        state.token = Some(token.clone());
        tracing::debug!("obtained a new salesforce access token");
        Ok(token)
    }
}

fn usable(token: &AccessToken) -> bool {
    token.expires_at.is_none_or(|at| at > SystemTime::now() + EXPIRY_MARGIN)
}

impl TokenProvider for RefreshingTokenProvider {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            match &state.token {
                Some(token) if usable(token) => Ok(token.clone()),
                _ => Ok(self.fetch(&mut state).await?),
            }
        })
    }

    fn refresh<'a>(&'a self, rejected: &'a AccessToken) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            let mut state = self.state.lock().await;
            if let Some(current) = &state.token
                && !current.same_as(rejected)
            {
                // Another caller already replaced the rejected token while we waited.
                return Ok(current.clone());
            }
            Ok(self.fetch(&mut state).await?)
        })
    }
}

#[cfg(test)]
mod tests;
