//! Who signed in: the UserInfo endpoint after the web-server flow
//! (<https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_using_userinfo_endpoint.htm&type=5>),
//! and revoking a token once it has served
//! (<https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_revoke_token.htm&type=5>).

use crm_http::OAuthHttp;
use oauth2::AsyncHttpClient;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{AuthError, endpoint};

const USERINFO_PATH: &str = "/services/oauth2/userinfo";
const REVOKE_PATH: &str = "/services/oauth2/revoke";

/// The signed-in user, as UserInfo describes them.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserInfo {
    pub user_id: String,
    pub organization_id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
}

/// `GET {host}/services/oauth2/userinfo` with the access token. `host` is the token
/// response's instance URL (or the login URL it was issued by).
pub async fn userinfo(http: &OAuthHttp, host: &str, access_token: &SecretString) -> Result<UserInfo, AuthError> {
    let url = endpoint(host, USERINFO_PATH)?;
    let request = oauth2::http::Request::builder()
        .method("GET")
        .uri(url.as_str())
        .header("authorization", format!("Bearer {}", access_token.expose_secret()))
        .header("accept", "application/json")
        .body(Vec::new())
        .map_err(|e| AuthError::Unavailable(e.to_string()))?;
    let response = http.call(request).await.map_err(|e| AuthError::Unavailable(e.to_string()))?;
    match response.status().as_u16() {
        200..=299 => serde_json::from_slice(response.body()).map_err(|e| AuthError::Unavailable(format!("unreadable userinfo: {e}"))),
        401 | 403 => Err(AuthError::Rejected {
            error: "invalid_token".into(),
            description: String::from_utf8_lossy(response.body()).chars().take(200).collect(),
        }),
        status => Err(AuthError::Unavailable(format!("userinfo answered {status}"))),
    }
}

/// `POST {login}/services/oauth2/revoke` with `token=…`: the access or refresh token
/// works no more (revoking a refresh token also ends the sessions it issued).
pub async fn revoke(http: &OAuthHttp, login_url: &str, token: &SecretString) -> Result<(), AuthError> {
    let url = endpoint(login_url, REVOKE_PATH)?;
    let body = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token.expose_secret())
        .finish();
    let request = oauth2::http::Request::builder()
        .method("POST")
        .uri(url.as_str())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.into_bytes())
        .map_err(|e| AuthError::Unavailable(e.to_string()))?;
    let response = http.call(request).await.map_err(|e| AuthError::Unavailable(e.to_string()))?;
    match response.status().as_u16() {
        200..=299 => Ok(()),
        400 => Err(AuthError::Rejected {
            error: "invalid_token".into(),
            description: "the token was not valid".into(),
        }),
        status => Err(AuthError::Unavailable(format!("revoke answered {status}"))),
    }
}
