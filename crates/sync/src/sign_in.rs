//! Staff sign in to the console with the CRM they already use: the OAuth
//! authorization-code flow against a connection's app, then the CRM's identity endpoint
//! says who they are (Salesforce UserInfo; HubSpot's access-token information). The
//! tokens only prove identity: they are given back to the CRM at once and never stored.

use crm_http::OAuthHttp;
use secrecy::{ExposeSecret, SecretString};

use super::oauth_app::{AppCrm, CrmApp, Failure, TIMEOUT, USER_AGENT, hubspot_failure, salesforce_failure, same_org};
use handoff_config::ConnectionConfig;
use handoff_domain::Email;
use handoff_domain::people::CrmIdentity;

pub use super::oauth_app::AuthorizeStart as SignInStart;

/// A connection staff can sign in with.
#[derive(Clone, Debug)]
pub struct SignInProvider(CrmApp);

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

impl From<Failure> for SignInError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Refused(m) => SignInError::Refused(m),
            Failure::Unavailable(m) => SignInError::Unavailable(m),
        }
    }
}

impl SignInProvider {
    /// The connection's sign-in, when it has an OAuth app (see
    /// [`ConnectionConfig::sign_in_app`]).
    pub fn for_connection(c: &ConnectionConfig) -> Option<Self> {
        Some(Self(CrmApp::new(c, c.sign_in_app()?)))
    }

    pub fn connection(&self) -> &str {
        &self.0.connection
    }

    /// "Salesforce" or "HubSpot", for the button.
    pub fn label(&self) -> &'static str {
        self.0.label()
    }

    /// `salesforce:<connection>` or `hubspot:<connection>`, as sessions record it.
    pub fn method(&self) -> String {
        format!("{}:{}", self.label().to_lowercase(), self.0.connection)
    }

    /// The authorize URL for this sign-in: identity scopes only.
    pub fn start(&self, redirect_uri: &str) -> Result<SignInStart, SignInError> {
        Ok(self.0.authorize(redirect_uri, &["openid", "id"], &["oauth"])?)
    }

    /// Trades the callback's code for a token, asks the CRM whose it is, checks it is
    /// the connection's org or account, and gives the token back.
    pub async fn finish(
        &self,
        redirect_uri: &str,
        code: &SecretString,
        pkce_verifier: Option<&SecretString>,
    ) -> Result<CrmIdentity, SignInError> {
        let connection = &self.0.connection;
        match &self.0.crm {
            AppCrm::Salesforce {
                login_url,
                organization_id,
            } => {
                let http = OAuthHttp::new(USER_AGENT, TIMEOUT).map_err(|e| SignInError::Unavailable(e.to_string()))?;
                let flow = self.0.salesforce_flow(login_url, redirect_uri)?;
                let issued = flow.exchange_code(&http, code, pkce_verifier).await.map_err(salesforce_failure)?;
                let host = issued.access_token.instance_url.clone().unwrap_or_else(|| login_url.clone());
                let info = crm_salesforce::auth::userinfo(&http, &host, &issued.access_token.secret)
                    .await
                    .map_err(salesforce_failure);
                // Only identity was needed: the token goes back whatever the answer.
                if let Err(e) = crm_salesforce::auth::revoke(&http, login_url, &issued.access_token.secret).await {
                    tracing::debug!(%connection, error = %e, "cannot revoke the sign-in token");
                }
                let info = info?;
                if !same_org(&info.organization_id, organization_id) {
                    return Err(SignInError::WrongAccount {
                        crm: "Salesforce",
                        expected: organization_id.clone(),
                    });
                }
                Ok(CrmIdentity {
                    connection: connection.clone(),
                    crm_user_id: info.user_id,
                    email: info.email.as_deref().and_then(|e| Email::parse(e).ok()),
                    email_verified: info.email_verified,
                    name: info.name,
                })
            }
            AppCrm::Hubspot { base_url, portal_id } => {
                let oauth = self.0.hubspot(base_url, redirect_uri)?;
                let tokens = oauth.exchange_code(code.expose_secret()).await.map_err(hubspot_failure)?;
                let info = oauth.access_token_info(&tokens.access_token).await.map_err(hubspot_failure);
                if let Some(refresh) = &tokens.refresh_token
                    && let Err(e) = oauth.revoke(refresh).await
                {
                    tracing::debug!(%connection, error = %e, "cannot revoke the sign-in token");
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
                    connection: connection.clone(),
                    crm_user_id: user_id.to_string(),
                    // HubSpot's user is their login email, which HubSpot verified.
                    email: info.user.as_deref().and_then(|e| Email::parse(e).ok()),
                    email_verified: info.user.is_some(),
                    name: None,
                })
            }
        }
    }
}
