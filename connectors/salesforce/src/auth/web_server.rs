//! The web-server (authorization code) flow with refresh, on the `oauth2` crate.

use crm_http::OAuthHttp;
use oauth2::basic::{BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointNotSet, EndpointSet, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};

use super::response::OAuthTokenResponse;
use super::{AUTHORIZE_PATH, AuthError, TOKEN_PATH, TokenResponse, endpoint};

pub(crate) type OAuthClient<HasAuthUrl> = oauth2::Client<
    BasicErrorResponse,
    OAuthTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    HasAuthUrl,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// A connected app's web-server flow: send a person to [`WebServerFlow::authorize_url`],
/// exchange the returned code, then refresh with the refresh token.
#[derive(Debug, Clone)]
pub struct WebServerFlow {
    client: OAuthClient<EndpointSet>,
}

/// Where to send the person, and what to keep until they come back.
#[derive(Debug)]
pub struct AuthorizeRequest {
    pub url: url::Url,
    /// Compare with the `state` parameter of the callback (CSRF protection).
    pub state: String,
    /// Pass to [`WebServerFlow::exchange_code`] when PKCE was requested.
    pub pkce_verifier: Option<SecretString>,
}

impl WebServerFlow {
    pub fn new(login_url: &str, client_id: &str, client_secret: &SecretString, redirect_uri: &str) -> Result<Self, AuthError> {
        let auth_url = AuthUrl::from_url(endpoint(login_url, AUTHORIZE_PATH)?);
        let token_url = TokenUrl::from_url(endpoint(login_url, TOKEN_PATH)?);
        let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| AuthError::InvalidConfig(format!("redirect URI: {e}")))?;
        let client = oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            // Salesforce documents client_id and client_secret as form parameters.
            .set_auth_type(AuthType::RequestBody)
            .set_auth_uri(auth_url)
            .set_token_uri(token_url)
            .set_redirect_uri(redirect);
        Ok(Self { client })
    }

    /// The authorize URL for `scopes` (`api refresh_token` to get a refresh token),
    /// with a random `state`, and a PKCE S256 challenge when `pkce` is set.
    pub fn authorize_url(&self, scopes: &[&str], pkce: bool) -> AuthorizeRequest {
        let mut request = self
            .client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().map(|s| Scope::new((*s).to_owned())));
        let mut verifier = None;
        if pkce {
            let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            verifier = Some(SecretString::from(pkce_verifier.secret().clone()));
        }
        let (url, state) = request.url();
        AuthorizeRequest {
            url,
            state: state.secret().clone(),
            pkce_verifier: verifier,
        }
    }

    /// Exchanges the callback's `code` for tokens (a refresh token when the scope
    /// allowed one).
    pub async fn exchange_code(
        &self,
        http: &OAuthHttp,
        code: &SecretString,
        pkce_verifier: Option<&SecretString>,
    ) -> Result<TokenResponse, AuthError> {
        let mut request = self.client.exchange_code(AuthorizationCode::new(code.expose_secret().to_owned()));
        if let Some(verifier) = pkce_verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.expose_secret().to_owned()));
        }
        let response = request.request_async(http).await.map_err(map_error)?;
        Ok(TokenResponse::from_oauth(&response, None))
    }

    /// A new access token from the refresh token. Salesforce's answer may lack
    /// `instance_url`; `previous_instance_url` is kept then. The refresh token itself
    /// is not rotated, so the response usually carries none.
    pub async fn refresh(
        &self,
        http: &OAuthHttp,
        refresh_token: &SecretString,
        previous_instance_url: Option<&str>,
    ) -> Result<TokenResponse, AuthError> {
        let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
        let response = self
            .client
            .exchange_refresh_token(&token)
            .request_async(http)
            .await
            .map_err(map_error)?;
        Ok(TokenResponse::from_oauth(&response, previous_instance_url))
    }
}

/// Sorts oauth2's errors into "the grant is bad" and "try again later".
pub(crate) fn map_error<RE: std::error::Error + 'static>(e: RequestTokenError<RE, BasicErrorResponse>) -> AuthError {
    match e {
        RequestTokenError::ServerResponse(response) => {
            let error = response.error().as_ref().to_owned();
            let description = response.error_description().cloned().unwrap_or_default();
            if matches!(error.as_str(), "server_error" | "temporarily_unavailable") {
                AuthError::Unavailable(format!("{error}: {description}"))
            } else {
                AuthError::Rejected { error, description }
            }
        }
        RequestTokenError::Request(e) => AuthError::Unavailable(e.to_string()),
        RequestTokenError::Parse(e, _) => AuthError::Unavailable(format!("unreadable token response: {e}")),
        RequestTokenError::Other(message) => AuthError::Unavailable(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow() -> WebServerFlow {
        WebServerFlow::new(
            "https://login.salesforce.com",
            "3MVG9consumer",
            &SecretString::from("s3cret"),
            "https://handoff.example/oauth/salesforce/callback",
        )
        .unwrap()
    }

    #[test]
    fn the_authorize_url_carries_the_documented_parameters() {
        let request = flow().authorize_url(&["api", "refresh_token"], true);
        let url = &request.url;
        assert_eq!(
            url.as_str().split('?').next(),
            Some("https://login.salesforce.com/services/oauth2/authorize")
        );
        let params: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(params["response_type"], "code");
        assert_eq!(params["client_id"], "3MVG9consumer");
        assert_eq!(params["redirect_uri"], "https://handoff.example/oauth/salesforce/callback");
        assert_eq!(params["scope"], "api refresh_token");
        assert_eq!(params["state"], request.state);
        assert_eq!(params["code_challenge_method"], "S256");
        assert!(request.pkce_verifier.is_some());
        assert!(!url.as_str().contains("s3cret"), "the secret never goes to the browser");
    }

    #[test]
    fn without_pkce_no_challenge_is_sent() {
        let request = flow().authorize_url(&["api"], false);
        assert!(request.pkce_verifier.is_none());
        assert!(!request.url.as_str().contains("code_challenge"));
    }

    #[test]
    fn the_client_secret_stays_out_of_debug_output() {
        assert!(!format!("{:?}", flow()).contains("s3cret"));
    }

    #[test]
    fn a_bad_redirect_uri_is_a_configuration_error() {
        let err = WebServerFlow::new("https://login.salesforce.com", "id", &SecretString::from("s"), "not a url").unwrap_err();
        assert!(matches!(err, AuthError::InvalidConfig(_)));
    }
}
