//! OAuth for public apps (<https://developers.hubspot.com/docs/api-reference/legacy/authentication/oauth-tokens/v1/guide>) and private-app tokens.
//!
//! - [`OAuthConfig::authorize_url`] builds the consent URL.
//! - [`OAuth::exchange_code`] and [`OAuth::refresh`] call the token endpoint (`/oauth/v1/token`
//!   or the date-versioned `/oauth/2026-03/token`, chosen through [`ApiPaths`]) with the
//!   `oauth2` crate over [`crm_http::OAuthHttp`].
//! - [`RefreshingToken`] is a [`TokenProvider`] that refreshes in-process, once for any
//!   number of concurrent callers. Applications running several processes should supply
//!   their own provider (with a shared lease) instead.
//! - Private-app tokens never expire: use [`private_app_token`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crm_http::{AccessToken, BoxFuture, OAuthHttp, StaticToken, TokenError, TokenProvider};
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AsyncHttpClient, AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, HttpClientError,
    RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};

use crate::client::DEFAULT_BASE_URL;
use crate::error::{ApiError, Error, Result};
use crate::paths::ApiPaths;

pub const DEFAULT_AUTHORIZE_URL: &str = "https://app.hubspot.com/oauth/authorize";

/// A private-app (or service-key) token as a provider: it never expires, and a 401 with
/// it is final.
pub fn private_app_token(token: SecretString) -> Arc<dyn TokenProvider> {
    Arc::new(StaticToken(AccessToken::new(token)))
}

/// An app's OAuth settings.
#[derive(Clone)]
pub struct OAuthConfig {
    pub client_id: String,
    pub client_secret: SecretString,
    pub redirect_uri: String,
    /// `https://app.hubspot.com/oauth/authorize`, or `/oauth/{portalId}/authorize` to target one account.
    pub authorize_url: String,
    /// The token endpoint, absolute.
    pub token_url: String,
}

impl std::fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .finish_non_exhaustive()
    }
}

/// The consent URL to send a person to, and the `state` to check on the way back.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub url: url::Url,
    pub state: String,
}

impl OAuthConfig {
    /// HubSpot's hosts with the v1 token endpoint.
    pub fn new(client_id: impl Into<String>, client_secret: SecretString, redirect_uri: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            client_secret,
            redirect_uri: redirect_uri.into(),
            authorize_url: DEFAULT_AUTHORIZE_URL.into(),
            token_url: format!("{DEFAULT_BASE_URL}{}", ApiPaths::legacy().oauth_token),
        }
    }

    /// Token endpoint on another API host or path family (`ApiPaths::dated("2026-03")`).
    pub fn with_api(mut self, base_url: &str, paths: &ApiPaths) -> Self {
        self.token_url = format!("{}{}", base_url.trim_end_matches('/'), paths.oauth_token);
        self
    }

    pub fn with_authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = url.into();
        self
    }

    /// The consent URL: `client_id`, space-separated `scope`, `redirect_uri`, optional
    /// `optional_scope`, and `state` (a random one unless given).
    pub fn authorize_url(&self, scopes: &[&str], optional_scopes: &[&str], state: Option<String>) -> Result<AuthorizeRequest> {
        let client = self.client()?;
        let state = state.map_or_else(CsrfToken::new_random, CsrfToken::new);
        let mut request = client
            .authorize_url(move || state)
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())));
        if !optional_scopes.is_empty() {
            request = request.add_extra_param("optional_scope", optional_scopes.join(" "));
        }
        let (url, state) = request.url();
        Ok(AuthorizeRequest {
            url,
            state: state.secret().clone(),
        })
    }

    fn client(&self) -> Result<BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>> {
        let bad = |what: &str, e: oauth2::url::ParseError| Error::InvalidRequest(format!("invalid {what}: {e}"));
        Ok(BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.client_secret.expose_secret().to_owned()))
            .set_auth_uri(AuthUrl::new(self.authorize_url.clone()).map_err(|e| bad("authorize URL", e))?)
            .set_token_uri(oauth2::TokenUrl::new(self.token_url.clone()).map_err(|e| bad("token URL", e))?)
            .set_redirect_uri(RedirectUrl::new(self.redirect_uri.clone()).map_err(|e| bad("redirect URI", e))?)
            // HubSpot reads client_id and client_secret from the form body, not Basic auth.
            .set_auth_type(AuthType::RequestBody))
    }
}

/// Tokens from the token endpoint. Debug output shows no secrets.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
    /// HubSpot says 1800 s today; always follow the response.
    pub expires_in: Option<Duration>,
    pub obtained_at: SystemTime,
}

impl TokenSet {
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_in.map(|d| self.obtained_at + d)
    }

    pub fn access(&self) -> AccessToken {
        AccessToken {
            secret: self.access_token.clone(),
            instance_url: None,
            expires_at: self.expires_at(),
        }
    }

    fn from_response(response: &BasicTokenResponse, now: SystemTime) -> Self {
        Self {
            access_token: response.access_token().secret().clone().into(),
            refresh_token: response.refresh_token().map(|t| t.secret().clone().into()),
            expires_in: response.expires_in(),
            obtained_at: now,
        }
    }
}

/// Calls the token endpoint.
#[derive(Clone)]
pub struct OAuth {
    config: OAuthConfig,
    http: StatusAware,
}

impl std::fmt::Debug for OAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth").field("config", &self.config).finish_non_exhaustive()
    }
}

impl OAuth {
    pub fn new(config: OAuthConfig, timeout: Duration) -> Result<Self> {
        config.client()?;
        let http = OAuthHttp::new(concat!("crm-hubspot/", env!("CARGO_PKG_VERSION")), timeout).map_err(Error::Transport)?;
        Ok(Self {
            config,
            http: StatusAware(http),
        })
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// Trades the `code` from the redirect for tokens.
    pub async fn exchange_code(&self, code: &str) -> Result<TokenSet, TokenError> {
        let client = self.config.client().map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .request_async(&self.http)
            .await;
        response
            .map(|r| TokenSet::from_response(&r, SystemTime::now()))
            .map_err(token_error)
    }

    /// A new access token from a refresh token. HubSpot keeps the refresh token unless
    /// the response carries a new one, so it is carried over.
    pub async fn refresh(&self, refresh_token: &SecretString) -> Result<TokenSet, TokenError> {
        let client = self.config.client().map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = client.exchange_refresh_token(&token).request_async(&self.http).await;
        let mut set = response
            .map(|r| TokenSet::from_response(&r, SystemTime::now()))
            .map_err(token_error)?;
        if set.refresh_token.is_none() {
            set.refresh_token = Some(refresh_token.clone());
        }
        Ok(set)
    }
}

/// Who an access token belongs to: `GET /oauth/v1/access-tokens/{token}`
/// (<https://developers.hubspot.com/docs/api-reference/legacy/authentication/oauth-tokens/v1/get-oauth-token-metadata>).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AccessTokenInfo {
    /// The HubSpot user's email (their login).
    pub user: Option<String>,
    pub user_id: Option<u64>,
    /// The account (portal) the token is for.
    pub hub_id: Option<u64>,
    pub hub_domain: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
}

impl OAuth {
    /// The user and account an access token belongs to. The v1 family's endpoint is
    /// used whichever family the token came from; HubSpot answers it for both.
    pub async fn access_token_info(&self, access_token: &SecretString) -> Result<AccessTokenInfo, TokenError> {
        let unavailable = |e: String| TokenError::Unavailable(e);
        let base = self
            .config
            .token_url
            .rsplit_once("/oauth/")
            .map_or(self.config.token_url.as_str(), |(base, _)| base);
        let mut url = url::Url::parse(&format!("{base}/oauth/v1/access-tokens")).map_err(|e| unavailable(e.to_string()))?;
        url.path_segments_mut()
            .map_err(|()| unavailable("token URL cannot take a path".into()))?
            .push(access_token.expose_secret());
        let request = http::Request::builder()
            .method("GET")
            .uri(url.as_str())
            .body(Vec::new())
            .map_err(|e| unavailable(e.to_string()))?;
        let response = self.http.call(request).await.map_err(|e| unavailable(e.to_string()))?;
        match response.status().as_u16() {
            200..=299 => serde_json::from_slice(response.body()).map_err(|e| unavailable(format!("unreadable token info: {e}"))),
            404 => Err(TokenError::Rejected("HubSpot does not know this access token".into())),
            _ => Err(TokenError::Rejected(ApiError::from_body(response.body()).to_string())),
        }
    }
}

impl OAuth {
    /// Revokes a refresh token, disconnecting the app from the account:
    /// `DELETE /oauth/v1/refresh-tokens/{token}` on the v1 family, `POST …/token/revoke`
    /// on the date-versioned one. A token that is already gone counts as revoked.
    pub async fn revoke(&self, refresh_token: &SecretString) -> Result<(), TokenError> {
        let unavailable = |e: String| TokenError::Unavailable(e);
        let token = refresh_token.expose_secret();
        let request = if let Some(base) = self.config.token_url.strip_suffix("/v1/token") {
            let mut url = url::Url::parse(&format!("{base}/v1/refresh-tokens")).map_err(|e| unavailable(e.to_string()))?;
            url.path_segments_mut()
                .map_err(|()| unavailable("token URL cannot take a path".into()))?
                .push(token);
            http::Request::builder().method("DELETE").uri(url.as_str()).body(Vec::new())
        } else {
            let form = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("token", token)
                .append_pair("token_type_hint", "refresh_token")
                .append_pair("client_id", &self.config.client_id)
                .append_pair("client_secret", self.config.client_secret.expose_secret())
                .finish();
            http::Request::builder()
                .method("POST")
                .uri(format!("{}/revoke", self.config.token_url))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.into_bytes())
        }
        .map_err(|e| unavailable(e.to_string()))?;
        let response = self.http.call(request).await.map_err(|e| unavailable(e.to_string()))?;
        match response.status().as_u16() {
            200..=299 | 404 => Ok(()),
            _ => Err(TokenError::Rejected(ApiError::from_body(response.body()).to_string())),
        }
    }
}

/// Sorts token-endpoint failures: a 4xx means the grant or the app's credentials were
/// refused (a person must act); anything else may pass on a later try.
fn token_error(e: RequestTokenError<HttpClientError<reqwest::Error>, oauth2::basic::BasicErrorResponse>) -> TokenError {
    match e {
        RequestTokenError::ServerResponse(body) => TokenError::Rejected(body.to_string()),
        // HubSpot's v1 error body has no RFC 6749 `error` field, so oauth2 cannot parse it;
        // it still arrived with a 4xx (5xx and 429 are turned into transport errors below).
        RequestTokenError::Parse(_, body) => TokenError::Rejected(ApiError::from_body(&body).to_string()),
        RequestTokenError::Request(e) => TokenError::Unavailable(e.to_string()),
        RequestTokenError::Other(message) => TokenError::Unavailable(message),
    }
}

/// `OAuthHttp`, with 5xx and 429 answers turned into transport errors, so that a
/// failing token endpoint is reported as unavailable rather than as a refused grant.
#[derive(Clone, Debug)]
struct StatusAware(OAuthHttp);

impl<'c> AsyncHttpClient<'c> for StatusAware {
    type Error = HttpClientError<reqwest::Error>;
    type Future = Pin<Box<dyn Future<Output = Result<oauth2::HttpResponse, Self::Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.0.call(request).await?;
            let status = response.status();
            if status.is_server_error() || status.as_u16() == 429 {
                return Err(HttpClientError::Other(format!("token endpoint answered {status}")));
            }
            Ok(response)
        })
    }
}

/// Called with each new token set.
type OnRefresh = Box<dyn Fn(&TokenSet) + Send + Sync>;

/// A [`TokenProvider`] over [`OAuth`]: refreshes shortly before expiry, and after a 401
/// refreshes once no matter how many callers saw the same token rejected.
pub struct RefreshingToken {
    oauth: OAuth,
    current: tokio::sync::Mutex<TokenSet>,
    /// Refresh this long before `expires_at`, so a token does not expire in flight.
    margin: Duration,
    on_refresh: Option<OnRefresh>,
}

impl RefreshingToken {
    pub fn new(oauth: OAuth, tokens: TokenSet) -> Self {
        Self {
            oauth,
            current: tokio::sync::Mutex::new(tokens),
            margin: Duration::from_secs(60),
            on_refresh: None,
        }
    }

    pub fn with_margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// Called with every new token set (to persist it), while the refresh lock is held.
    pub fn on_refresh(mut self, callback: impl Fn(&TokenSet) + Send + Sync + 'static) -> Self {
        self.on_refresh = Some(Box::new(callback));
        self
    }

    async fn renew(&self, current: &mut TokenSet) -> Result<(), TokenError> {
        let Some(refresh_token) = current.refresh_token.clone() else {
            return Err(TokenError::Rejected("no refresh token to renew the access token with".into()));
        };
        let fresh = self.oauth.refresh(&refresh_token).await?;
        if let Some(callback) = &self.on_refresh {
            callback(&fresh);
        }
        *current = fresh;
        Ok(())
    }
}

impl TokenProvider for RefreshingToken {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            let due = current.expires_at().is_some_and(|at| at <= SystemTime::now() + self.margin);
            if due {
                self.renew(&mut current).await?;
            }
            Ok(current.access())
        })
    }

    fn refresh<'a>(&'a self, rejected: &'a AccessToken) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            let mut current = self.current.lock().await;
            // Someone else refreshed while this caller waited: use theirs.
            if !current.access().same_as(rejected) {
                return Ok(current.access());
            }
            self.renew(&mut current).await?;
            Ok(current.access())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OAuthConfig {
        OAuthConfig::new("client-1", "s3cret".to_owned().into(), "https://app.example.com/callback")
    }

    #[test]
    fn the_authorize_url_carries_client_scopes_redirect_and_state() {
        let request = config()
            .authorize_url(
                &["crm.objects.deals.read", "oauth"],
                &["crm.objects.contacts.write"],
                Some("xyz".into()),
            )
            .unwrap();
        let url = request.url;
        assert_eq!(url.as_str().split('?').next(), Some(DEFAULT_AUTHORIZE_URL));
        let pairs: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(pairs["client_id"], "client-1");
        assert_eq!(pairs["scope"], "crm.objects.deals.read oauth");
        assert_eq!(pairs["optional_scope"], "crm.objects.contacts.write");
        assert_eq!(pairs["redirect_uri"], "https://app.example.com/callback");
        assert_eq!(pairs["state"], "xyz");
        assert_eq!(request.state, "xyz");
        assert!(!url.as_str().contains("s3cret"));
    }

    #[test]
    fn a_random_state_is_generated_when_none_is_given() {
        let a = config().authorize_url(&["oauth"], &[], None).unwrap();
        let b = config().authorize_url(&["oauth"], &[], None).unwrap();
        assert_ne!(a.state, b.state);
        assert!(a.state.len() >= 16);
    }

    #[test]
    fn the_token_url_follows_the_path_family() {
        assert_eq!(config().token_url, "https://api.hubapi.com/oauth/v1/token");
        let dated = config().with_api("http://127.0.0.1:9/", &ApiPaths::dated("2026-03"));
        assert_eq!(dated.token_url, "http://127.0.0.1:9/oauth/2026-03/token");
    }

    #[test]
    fn debug_output_hides_the_client_secret() {
        assert!(!format!("{:?}", config()).contains("s3cret"));
        let set = TokenSet {
            access_token: "at-1".to_owned().into(),
            refresh_token: Some("rt-1".to_owned().into()),
            expires_in: None,
            obtained_at: SystemTime::UNIX_EPOCH,
        };
        let shown = format!("{set:?}");
        assert!(!shown.contains("at-1") && !shown.contains("rt-1"), "{shown}");
    }
}
