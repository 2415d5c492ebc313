//! Salesforce's token response, whichever flow produced it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crm_http::AccessToken;
use oauth2::{ExtraTokenFields, TokenResponse as _};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::AuthError;

/// What a token endpoint issued.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    /// The access token, with `instance_url` (where API calls go).
    pub access_token: AccessToken,
    /// Only the web-server flow issues one (and only with the `refresh_token` or
    /// `offline_access` scope); refreshes do not return a new one.
    pub refresh_token: Option<SecretString>,
    /// The identity URL (`https://…/id/00D…/005…`): names the org and user.
    pub identity_url: Option<String>,
    pub issued_at: Option<SystemTime>,
    pub scopes: Vec<String>,
}

impl TokenResponse {
    /// The org id, from the identity URL's `/id/{org}/{user}`.
    pub fn organization_id(&self) -> Option<&str> {
        let url = self.identity_url.as_deref()?;
        let mut parts = url.rsplit('/');
        let _user = parts.next()?;
        parts.next().filter(|org| !org.is_empty())
    }
}

/// The fields Salesforce adds to RFC 6749's.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct SalesforceFields {
    #[serde(default)]
    pub instance_url: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
    /// Milliseconds since the epoch, as a string.
    #[serde(default)]
    pub issued_at: Option<String>,
}

impl ExtraTokenFields for SalesforceFields {}

pub(crate) type OAuthTokenResponse = oauth2::StandardTokenResponse<SalesforceFields, oauth2::basic::BasicTokenType>;

fn issued_at(ms: Option<&str>) -> Option<SystemTime> {
    let ms: u64 = ms?.trim().parse().ok()?;
    UNIX_EPOCH.checked_add(Duration::from_millis(ms))
}

impl TokenResponse {
    /// `previous_instance_url` fills in for a response without one (refreshes).
    pub(crate) fn from_oauth(response: &OAuthTokenResponse, previous_instance_url: Option<&str>) -> Self {
        use secrecy::SecretString;
        let extra = response.extra_fields();
        let instance_url = extra.instance_url.clone().or_else(|| previous_instance_url.map(str::to_owned));
        let access_token = AccessToken {
            secret: SecretString::from(response.access_token().secret().clone()),
            instance_url,
            expires_at: response.expires_in().and_then(|d| SystemTime::now().checked_add(d)),
        };
        Self {
            access_token,
            refresh_token: response.refresh_token().map(|t| SecretString::from(t.secret().clone())),
            identity_url: extra.id.clone(),
            issued_at: issued_at(extra.issued_at.as_deref()),
            scopes: response.scopes().into_iter().flatten().map(|s| s.to_string()).collect(),
        }
    }
}

/// The RFC 6749 error body: `{"error":"invalid_grant","error_description":"…"}`.
#[derive(Debug, Deserialize)]
pub(crate) struct OAuthErrorBody {
    pub error: String,
    #[serde(default)]
    pub error_description: Option<String>,
}

/// Reads a token endpoint's answer to a request sent without the oauth2 crate.
pub(crate) fn parse_token_http(status: u16, body: &[u8]) -> Result<TokenResponse, AuthError> {
    if (200..300).contains(&status) {
        let parsed: OAuthTokenResponse =
            serde_json::from_slice(body).map_err(|e| AuthError::Unavailable(format!("unreadable token response: {e}")))?;
        return Ok(TokenResponse::from_oauth(&parsed, None));
    }
    match serde_json::from_slice::<OAuthErrorBody>(body) {
        // 4xx with an RFC 6749 error: the grant itself was refused.
        Ok(err) if (400..500).contains(&status) => Err(AuthError::Rejected {
            error: err.error,
            description: err.error_description.unwrap_or_default(),
        }),
        _ => Err(AuthError::Unavailable(format!("token endpoint answered HTTP {status}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_web_server_token_response_keeps_every_salesforce_field() {
        let body = br#"{"access_token":"00Dx!AQ","refresh_token":"5Aep861","signature":"sig","scope":"api refresh_token",
            "instance_url":"https://na15.salesforce.com","id":"https://login.salesforce.com/id/00Dx0000000BV7z/005x00000012Q9P",
            "token_type":"Bearer","issued_at":"1278448832702"}"#;
        let token = parse_token_http(200, body).unwrap();
        assert_eq!(token.access_token.secret.expose_secret(), "00Dx!AQ");
        assert_eq!(token.access_token.instance_url.as_deref(), Some("https://na15.salesforce.com"));
        assert_eq!(token.refresh_token.as_ref().unwrap().expose_secret(), "5Aep861");
        assert_eq!(token.organization_id(), Some("00Dx0000000BV7z"));
        assert_eq!(token.scopes, vec!["api".to_owned(), "refresh_token".to_owned()]);
        assert_eq!(token.issued_at, UNIX_EPOCH.checked_add(Duration::from_millis(1278448832702)));
        assert!(token.access_token.expires_at.is_none(), "Salesforce sends no expires_in");
    }

    #[test]
    fn tokens_do_not_appear_in_debug_output() {
        let body = br#"{"access_token":"SECRET-ACCESS","refresh_token":"SECRET-REFRESH","token_type":"Bearer"}"#;
        let debug = format!("{:?}", parse_token_http(200, body).unwrap());
        assert!(!debug.contains("SECRET-ACCESS") && !debug.contains("SECRET-REFRESH"), "{debug}");
    }

    #[test]
    fn invalid_grant_is_a_rejection_and_a_5xx_is_unavailability() {
        let refused = parse_token_http(
            400,
            br#"{"error":"invalid_grant","error_description":"expired access/refresh token"}"#,
        );
        assert!(matches!(refused, Err(AuthError::Rejected { ref error, .. }) if error == "invalid_grant"));
        assert!(matches!(
            parse_token_http(503, b"<html>down</html>"),
            Err(AuthError::Unavailable(_))
        ));
        assert!(matches!(parse_token_http(200, b"{}"), Err(AuthError::Unavailable(_))));
    }
}
