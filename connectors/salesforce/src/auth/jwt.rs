//! The OAuth 2.0 JWT bearer flow: an RS256-signed assertion exchanged for a token.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use crm_http::OAuthHttp;
use oauth2::AsyncHttpClient;
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::response::parse_token_http;
use super::{AuthError, TOKEN_PATH, TokenResponse, endpoint};

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How long an assertion is valid. Salesforce requires `exp` within 3 minutes of its
/// clock; staying well inside leaves room for clock skew between the two hosts.
pub const ASSERTION_LIFETIME: Duration = Duration::from_secs(150);

/// JWT bearer credentials: a connected app's consumer key, the pre-authorised user,
/// and the private key matching the certificate uploaded to the app.
pub struct JwtBearer {
    client_id: String,
    username: String,
    login_url: String,
    audience: String,
    key: RsaKeyPair,
}

impl std::fmt::Debug for JwtBearer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtBearer")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("login_url", &self.login_url)
            .field("audience", &self.audience)
            .field("key", &"[REDACTED]")
            .finish()
    }
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
}

impl JwtBearer {
    /// `private_key_pem` is an unencrypted PKCS#8 (`BEGIN PRIVATE KEY`) or PKCS#1
    /// (`BEGIN RSA PRIVATE KEY`) RSA key. The audience defaults to the login URL; set
    /// [`JwtBearer::audience`] when posting to a My Domain host.
    pub fn new(login_url: &str, client_id: &str, username: &str, private_key_pem: &SecretString) -> Result<Self, AuthError> {
        endpoint(login_url, TOKEN_PATH)?;
        Ok(Self {
            client_id: client_id.to_owned(),
            username: username.to_owned(),
            login_url: login_url.trim_end_matches('/').to_owned(),
            audience: login_url.trim_end_matches('/').to_owned(),
            key: parse_private_key(private_key_pem.expose_secret())?,
        })
    }

    /// The `aud` claim: `https://login.salesforce.com`, `https://test.salesforce.com`
    /// or an Experience Cloud site URL.
    pub fn audience(mut self, audience: &str) -> Self {
        self.audience = audience.trim_end_matches('/').to_owned();
        self
    }

    pub fn login_url(&self) -> &str {
        &self.login_url
    }

    /// A signed assertion valid from `now` for [`ASSERTION_LIFETIME`].
    pub fn assertion(&self, now: SystemTime) -> Result<SecretString, AuthError> {
        let exp = now
            .checked_add(ASSERTION_LIFETIME)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .ok_or_else(|| AuthError::InvalidConfig("the clock is before 1970".into()))?
            .as_secs();
        let claims = Claims {
            iss: &self.client_id,
            sub: &self.username,
            aud: &self.audience,
            exp,
        };
        let claims = serde_json::to_vec(&claims).map_err(|e| AuthError::InvalidConfig(e.to_string()))?;
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature)
            .map_err(|_| AuthError::InvalidKey("RS256 signing failed".into()))?;
        Ok(SecretString::from(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))))
    }

    /// Signs a fresh assertion and exchanges it for an access token (no refresh token
    /// is issued: call this again when the token expires).
    pub async fn fetch_token(&self, http: &OAuthHttp) -> Result<TokenResponse, AuthError> {
        let assertion = self.assertion(SystemTime::now())?;
        let body = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", GRANT_TYPE)
            .append_pair("assertion", assertion.expose_secret())
            .finish();
        let request = oauth2::http::Request::builder()
            .method("POST")
            .uri(endpoint(&self.login_url, TOKEN_PATH)?.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body.into_bytes())
            .map_err(|e| AuthError::InvalidConfig(e.to_string()))?;
        let response = http.call(request).await.map_err(|e| AuthError::Unavailable(e.to_string()))?;
        parse_token_http(response.status().as_u16(), response.body())
    }
}

fn parse_private_key(pem: &str) -> Result<RsaKeyPair, AuthError> {
    let (label, der) = pem_body(pem)?;
    let parsed = match label.as_str() {
        "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
        "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
        "ENCRYPTED PRIVATE KEY" => return Err(AuthError::InvalidKey("encrypted keys are not supported; decrypt it first".into())),
        other => return Err(AuthError::InvalidKey(format!("expected a private key, found {other:?}"))),
    };
    parsed.map_err(|e| AuthError::InvalidKey(format!("not a usable RSA key: {e}")))
}

/// The label and decoded bytes of the first PEM block.
fn pem_body(pem: &str) -> Result<(String, Vec<u8>), AuthError> {
    let missing = || AuthError::InvalidKey("no PEM block found".into());
    let start = pem.find("-----BEGIN ").ok_or_else(missing)?;
    let rest = &pem[start + "-----BEGIN ".len()..];
    let label_end = rest.find("-----").ok_or_else(missing)?;
    let label = rest[..label_end].to_owned();
    let body_and_end = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let body_end = body_and_end.find(&end_marker).ok_or_else(missing)?;
    let base64: String = body_and_end[..body_end].chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(base64)
        .map_err(|_| AuthError::InvalidKey("the PEM body is not base64".into()))?;
    Ok((label, der))
}

#[cfg(test)]
mod tests;
