//! Staff sign in to the console with the CRM they already use: the OAuth
//! authorization-code flow against a connection's app, then the CRM's identity endpoint
//! says who they are (Salesforce UserInfo; HubSpot's access-token information). The
//! tokens only prove identity: they are given back to the CRM at once and never stored.

use std::time::Duration;

use crm_http::OAuthHttp;
use secrecy::{ExposeSecret, SecretString};

use handoff_config::ConnectionConfig;
use handoff_config::connections::{CrmSettings, OAuthApp};
use handoff_domain::Email;
use handoff_domain::people::CrmIdentity;

const USER_AGENT: &str = concat!("handoff/", env!("CARGO_PKG_VERSION"));
const TIMEOUT: Duration = Duration::from_secs(15);
/// HubSpot's consent page lives on the app host, not the API host.
const HUBSPOT_AUTHORIZE_URL: &str = "https://app.hubspot.com/oauth/authorize";
const HUBSPOT_API_HOST: &str = "api.hubapi.com";

/// A connection staff can sign in with.
#[derive(Clone, Debug)]
pub struct SignInProvider {
    connection: String,
    crm: Crm,
    app: OAuthApp,
}

#[derive(Clone, Debug)]
enum Crm {
    Salesforce { login_url: String, organization_id: String },
    Hubspot { base_url: String, portal_id: Option<u64> },
}

/// Where to send the person, and what to keep until the CRM sends them back.
#[derive(Debug)]
pub struct SignInStart {
    pub url: url::Url,
    /// Compared with the callback's `state` (it is kept as a hash).
    pub state: SecretString,
    /// The PKCE verifier, for CRMs that take a challenge (kept sealed).
    pub pkce_verifier: Option<SecretString>,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The CRM refused the code or the token (expired, reused, another app's).
    #[error("the CRM refused the sign-in: {0}")]
    Refused(String),
    /// The person signed in to another Salesforce org or HubSpot account than the
    /// connection's.
    #[error("you signed in to another {crm} account than this connection's ({expected}); sign in with your account there")]
    WrongAccount { crm: &'static str, expected: String },
    #[error("the CRM cannot be reached: {0}")]
    Unavailable(String),
}

impl SignInProvider {
    /// The connection's sign-in, when it has an OAuth app (see
    /// [`ConnectionConfig::sign_in_app`]).
    pub fn for_connection(c: &ConnectionConfig) -> Option<Self> {
        let app = c.sign_in_app()?;
        let crm = match &c.crm {
            CrmSettings::Salesforce(s) => Crm::Salesforce {
                login_url: s.login_url.as_str().trim_end_matches('/').to_owned(),
                organization_id: s.organization_id.clone(),
            },
            CrmSettings::Hubspot(h) => Crm::Hubspot {
                base_url: h.base_url.as_str().trim_end_matches('/').to_owned(),
                portal_id: h.portal_id,
            },
        };
        Some(Self {
            connection: c.name.clone(),
            crm,
            app,
        })
    }

    pub fn connection(&self) -> &str {
        &self.connection
    }

    /// "Salesforce" or "HubSpot", for the button.
    pub fn label(&self) -> &'static str {
        match self.crm {
            Crm::Salesforce { .. } => "Salesforce",
            Crm::Hubspot { .. } => "HubSpot",
        }
    }

    /// `salesforce:<connection>` or `hubspot:<connection>`, as sessions record it.
    pub fn method(&self) -> String {
        format!("{}:{}", self.label().to_lowercase(), self.connection)
    }

    /// The authorize URL for this sign-in, with a fresh random state (and a PKCE S256
    /// challenge on Salesforce, which takes one; HubSpot's v1 flow does not).
    pub fn start(&self, redirect_uri: &str) -> Result<SignInStart, SignInError> {
        match &self.crm {
            Crm::Salesforce { login_url, .. } => {
                let flow = self.salesforce_flow(login_url, redirect_uri)?;
                let request = flow.authorize_url(&["openid", "id"], true);
                Ok(SignInStart {
                    url: request.url,
                    state: SecretString::from(request.state),
                    pkce_verifier: request.pkce_verifier,
                })
            }
            Crm::Hubspot { base_url, .. } => {
                let oauth = self.hubspot_config(base_url, redirect_uri);
                let request = oauth
                    .authorize_url(&["oauth"], &[], None)
                    .map_err(|e| SignInError::Unavailable(e.to_string()))?;
                Ok(SignInStart {
                    url: request.url,
                    state: SecretString::from(request.state),
                    pkce_verifier: None,
                })
            }
        }
    }

    /// Trades the callback's code for a token, asks the CRM whose it is, checks it is
    /// the connection's org or account, and gives the token back.
    pub async fn finish(
        &self,
        redirect_uri: &str,
        code: &SecretString,
        pkce_verifier: Option<&SecretString>,
    ) -> Result<CrmIdentity, SignInError> {
        match &self.crm {
            Crm::Salesforce {
                login_url,
                organization_id,
            } => {
                let http = OAuthHttp::new(USER_AGENT, TIMEOUT).map_err(|e| SignInError::Unavailable(e.to_string()))?;
                let flow = self.salesforce_flow(login_url, redirect_uri)?;
                let issued = flow.exchange_code(&http, code, pkce_verifier).await.map_err(salesforce_error)?;
                let host = issued.access_token.instance_url.clone().unwrap_or_else(|| login_url.clone());
                let info = crm_salesforce::auth::userinfo(&http, &host, &issued.access_token.secret)
                    .await
                    .map_err(salesforce_error);
                // Only identity was needed: the token goes back whatever the answer.
                if let Err(e) = crm_salesforce::auth::revoke(&http, login_url, &issued.access_token.secret).await {
                    tracing::debug!(connection = %self.connection, error = %e, "cannot revoke the sign-in token");
                }
                let info = info?;
                if !same_org(&info.organization_id, organization_id) {
                    return Err(SignInError::WrongAccount {
                        crm: "Salesforce",
                        expected: organization_id.clone(),
                    });
                }
                Ok(CrmIdentity {
                    connection: self.connection.clone(),
                    crm_user_id: info.user_id,
                    email: info.email.as_deref().and_then(|e| Email::parse(e).ok()),
                    email_verified: info.email_verified,
                    name: info.name,
                })
            }
            Crm::Hubspot { base_url, portal_id } => {
                let config = self.hubspot_config(base_url, redirect_uri);
                let oauth = crm_hubspot::auth::OAuth::new(config, TIMEOUT).map_err(|e| SignInError::Unavailable(e.to_string()))?;
                let tokens = oauth.exchange_code(code.expose_secret()).await.map_err(hubspot_error)?;
                let info = oauth.access_token_info(&tokens.access_token).await.map_err(hubspot_error);
                if let Some(refresh) = &tokens.refresh_token
                    && let Err(e) = oauth.revoke(refresh).await
                {
                    tracing::debug!(connection = %self.connection, error = %e, "cannot revoke the sign-in token");
                }
                let info = info?;
                if let Some(expected) = portal_id
                    && info.hub_id != Some(*expected)
                {
                    return Err(SignInError::WrongAccount {
                        crm: "HubSpot",
                        expected: expected.to_string(),
                    });
                }
                let user_id = info
                    .user_id
                    .ok_or_else(|| SignInError::Refused("HubSpot did not say which user signed in".into()))?;
                Ok(CrmIdentity {
                    connection: self.connection.clone(),
                    crm_user_id: user_id.to_string(),
                    // HubSpot's user is their login email, which HubSpot verified.
                    email: info.user.as_deref().and_then(|e| Email::parse(e).ok()),
                    email_verified: info.user.is_some(),
                    name: None,
                })
            }
        }
    }

    fn salesforce_flow(&self, login_url: &str, redirect_uri: &str) -> Result<crm_salesforce::auth::WebServerFlow, SignInError> {
        crm_salesforce::auth::WebServerFlow::new(login_url, &self.app.client_id, &self.app.client_secret, redirect_uri)
            .map_err(|e| SignInError::Unavailable(e.to_string()))
    }

    fn hubspot_config(&self, base_url: &str, redirect_uri: &str) -> crm_hubspot::auth::OAuthConfig {
        let authorize = match url::Url::parse(base_url).ok().and_then(|u| u.host_str().map(str::to_owned)) {
            Some(host) if host == HUBSPOT_API_HOST => HUBSPOT_AUTHORIZE_URL.to_owned(),
            // The sandbox (and any stand-in) serves the consent page on its own host.
            _ => format!("{base_url}/oauth/authorize"),
        };
        crm_hubspot::auth::OAuthConfig::new(self.app.client_id.clone(), self.app.client_secret.clone(), redirect_uri)
            .with_api(base_url, &crm_hubspot::ApiPaths::legacy())
            .with_authorize_url(authorize)
    }
}

/// Salesforce ids come in 15- and 18-character forms; the first 15 characters are the id.
fn same_org(a: &str, b: &str) -> bool {
    a.get(..15).is_some_and(|x| b.get(..15) == Some(x))
}

fn salesforce_error(e: crm_salesforce::auth::AuthError) -> SignInError {
    match e {
        crm_salesforce::auth::AuthError::Unavailable(m) => SignInError::Unavailable(m),
        other => SignInError::Refused(other.to_string()),
    }
}

fn hubspot_error(e: crm_http::TokenError) -> SignInError {
    match e {
        crm_http::TokenError::Unavailable(m) => SignInError::Unavailable(m),
        other => SignInError::Refused(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_ids_match_in_either_length() {
        assert!(same_org("00D000000000001AAA", "00D000000000001"));
        assert!(!same_org("00D000000000002AAA", "00D000000000001AAA"));
        assert!(!same_org("short", "short"));
    }
}
