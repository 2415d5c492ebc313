//! The client-credentials flow: a connected app acting as its integration user.

use crm_http::OAuthHttp;
use oauth2::{AuthType, ClientId, ClientSecret, EndpointNotSet, TokenUrl};
use secrecy::{ExposeSecret, SecretString};

use super::web_server::{OAuthClient, map_error};
use super::{AuthError, TOKEN_PATH, TokenResponse, endpoint};

/// Client credentials. Salesforce accepts this grant only on the org's My Domain
/// host (`https://acme.my.salesforce.com`), not on login/test.salesforce.com.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    client: OAuthClient<EndpointNotSet>,
}

impl ClientCredentials {
    pub fn new(my_domain_url: &str, client_id: &str, client_secret: &SecretString) -> Result<Self, AuthError> {
        let token_url = TokenUrl::from_url(endpoint(my_domain_url, TOKEN_PATH)?);
        let client = oauth2::Client::new(ClientId::new(client_id.to_owned()))
            .set_client_secret(ClientSecret::new(client_secret.expose_secret().to_owned()))
            .set_auth_type(AuthType::RequestBody)
            .set_token_uri(token_url);
        Ok(Self { client })
    }

    /// A new access token (no refresh token is issued; ask again when it expires).
    pub async fn fetch_token(&self, http: &OAuthHttp) -> Result<TokenResponse, AuthError> {
        let response = self
            .client
            .exchange_client_credentials()
            .request_async(http)
            .await
            .map_err(map_error)?;
        Ok(TokenResponse::from_oauth(&response, None))
    }
}
