//! An admin connects a CRM account to a connection in the browser — the OAuth
//! authorization-code flow with API scopes (Salesforce's web-server flow with PKCE,
//! HubSpot's app install) — and can disconnect it: the tokens are revoked at the CRM,
//! then forgotten. Only connections whose tokens come from a person can be connected
//! this way (HubSpot OAuth apps, Salesforce's web-server flow); the others authenticate
//! with credentials from the configuration alone.
//!
//! The tokens are kept exactly as a refresh stores them (`tokens`), so every process
//! uses the new account within `tokens::RECHECK`.

use crm_http::OAuthHttp;
use secrecy::{ExposeSecret, SecretString};

use super::oauth_app::{AppCrm, CrmApp, Failure, TIMEOUT, USER_AGENT, hubspot_failure, salesforce_failure, same_org};
use super::tokens::{GrantedToken, OpenedToken, open_stored_token};
use handoff_config::ConnectionConfig;
use handoff_config::connections::{CrmSettings, HubspotAuth, OAuthApp, SalesforceAuth};
use handoff_store::Store;
use handoff_store::sealed::Sealer;

pub use super::oauth_app::AuthorizeStart;

/// Salesforce: REST API access, and a refresh token to keep it.
const SALESFORCE_SCOPES: &[&str] = &["api", "refresh_token"];
/// HubSpot: what the hub reads and writes — deals (read, write back), their contacts
/// and companies, owners for the project team, and the deal schema for the catalog.
/// A HubSpot app must list these as its required scopes.
const HUBSPOT_SCOPES: &[&str] = &[
    "oauth",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.contacts.read",
    "crm.objects.companies.read",
    "crm.objects.owners.read",
    "crm.schemas.deals.read",
];

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The CRM refused the code or the token.
    #[error("the CRM refused: {0}")]
    Refused(String),
    /// The admin approved access to another org or account than the connection's.
    #[error(
        "you connected another {crm} account than this connection's ({expected}); sign in to that account at the CRM and connect again"
    )]
    WrongAccount { crm: &'static str, expected: String },
    #[error("the CRM cannot be reached: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] handoff_store::StoreError),
}

impl From<Failure> for ConnectError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Refused(m) => ConnectError::Refused(m),
            Failure::Unavailable(m) => ConnectError::Unavailable(m),
        }
    }
}

/// A connection an admin can connect in the browser.
#[derive(Clone, Debug)]
pub struct ConnectFlow(CrmApp);

/// The account an admin connected, with its tokens (to store with
/// [`super::tokens::save_connected_token`]).
pub struct Connected {
    /// The Salesforce org id or HubSpot account id the tokens are for.
    pub account: String,
    /// The CRM user who approved, when the CRM says.
    pub user: Option<String>,
    pub token: GrantedToken,
}

impl ConnectFlow {
    /// The connection's flow, when a person's consent is what gives it tokens.
    pub fn for_connection(c: &ConnectionConfig) -> Option<Self> {
        let app = |id: &str, secret: &SecretString| OAuthApp {
            client_id: id.to_owned(),
            client_secret: secret.clone(),
        };
        let app = match &c.crm {
            CrmSettings::Salesforce(s) => match &s.auth {
                SalesforceAuth::WebServer {
                    client_id, client_secret, ..
                } => app(client_id, client_secret),
                SalesforceAuth::JwtBearer { .. } | SalesforceAuth::ClientCredentials { .. } => return None,
            },
            CrmSettings::Hubspot(h) => match &h.auth {
                HubspotAuth::OAuth {
                    client_id, client_secret, ..
                } => app(client_id, client_secret),
                HubspotAuth::PrivateApp { .. } => return None,
            },
        };
        Some(Self(CrmApp::new(c, app)))
    }

    pub fn connection(&self) -> &str {
        &self.0.connection
    }

    pub fn label(&self) -> &'static str {
        self.0.label()
    }

    /// The CRM's consent page, asking for the API scopes the hub needs.
    pub fn start(&self, redirect_uri: &str) -> Result<AuthorizeStart, ConnectError> {
        Ok(self.0.authorize(redirect_uri, SALESFORCE_SCOPES, HUBSPOT_SCOPES)?)
    }

    /// Trades the callback's code for tokens and checks they are for the connection's
    /// org or account. Tokens for another account are given back to the CRM.
    pub async fn finish(
        &self,
        redirect_uri: &str,
        code: &SecretString,
        pkce_verifier: Option<&SecretString>,
    ) -> Result<Connected, ConnectError> {
        match &self.0.crm {
            AppCrm::Salesforce {
                login_url,
                organization_id,
            } => {
                let http = OAuthHttp::new(USER_AGENT, TIMEOUT).map_err(|e| ConnectError::Unavailable(e.to_string()))?;
                let issued = self
                    .0
                    .salesforce_flow(login_url, redirect_uri)?
                    .exchange_code(&http, code, pkce_verifier)
                    .await
                    .map_err(salesforce_failure)?;
                let org = issued.organization_id().unwrap_or_default().to_owned();
                if !same_org(&org, organization_id) {
                    let token = issued.refresh_token.as_ref().unwrap_or(&issued.access_token.secret);
                    if let Err(e) = crm_salesforce::auth::revoke(&http, login_url, token).await {
                        tracing::debug!(connection = %self.0.connection, error = %e, "cannot give back a foreign org's token");
                    }
                    return Err(ConnectError::WrongAccount {
                        crm: "Salesforce",
                        expected: organization_id.clone(),
                    });
                }
                if issued.refresh_token.is_none() {
                    return Err(ConnectError::Refused(
                        "Salesforce issued no refresh token: the connected app's OAuth scopes must include refresh_token".into(),
                    ));
                }
                let user = issued.identity_url.as_deref().and_then(|u| u.rsplit('/').next()).map(str::to_owned);
                Ok(Connected {
                    account: org,
                    user,
                    token: GrantedToken {
                        access_token: issued.access_token.secret.clone(),
                        refresh_token: issued.refresh_token.clone(),
                        instance_url: issued.access_token.instance_url.clone(),
                        expires_in: None,
                    },
                })
            }
            AppCrm::Hubspot { base_url, portal_id } => {
                let oauth = self.0.hubspot(base_url, redirect_uri)?;
                let tokens = oauth.exchange_code(code.expose_secret()).await.map_err(hubspot_failure)?;
                let Some(refresh) = tokens.refresh_token.clone() else {
                    return Err(ConnectError::Refused("HubSpot issued no refresh token".into()));
                };
                let info = oauth.access_token_info(&tokens.access_token).await.map_err(hubspot_failure)?;
                let hub = info.hub_id;
                if let Some(expected) = portal_id
                    && hub != Some(*expected)
                {
                    if let Err(e) = oauth.revoke(&refresh).await {
                        tracing::debug!(connection = %self.0.connection, error = %e, "cannot give back a foreign account's token");
                    }
                    return Err(ConnectError::WrongAccount {
                        crm: "HubSpot",
                        expected: expected.to_string(),
                    });
                }
                Ok(Connected {
                    account: hub.map(|h| h.to_string()).unwrap_or_default(),
                    user: info.user,
                    token: GrantedToken {
                        access_token: tokens.access_token,
                        refresh_token: Some(refresh),
                        instance_url: None,
                        expires_in: tokens.expires_in,
                    },
                })
            }
        }
    }

    /// Revokes the stored tokens at the CRM, so nobody can use them again. Whether
    /// there were any this master key opens; the caller then forgets them. When the
    /// CRM cannot be reached nothing is revoked and the error says so: forgetting a
    /// live token would leave it usable with nobody able to revoke it.
    pub async fn revoke_stored(&self, store: &Store, sealer: &Sealer) -> Result<bool, ConnectError> {
        let Some(OpenedToken {
            access_token,
            refresh_token,
        }) = open_stored_token(store, sealer, &self.0.connection).await?
        else {
            return Ok(false);
        };
        match &self.0.crm {
            AppCrm::Salesforce { login_url, .. } => {
                let http = OAuthHttp::new(USER_AGENT, TIMEOUT).map_err(|e| ConnectError::Unavailable(e.to_string()))?;
                // Revoking the refresh token also ends the sessions it issued; a token
                // the CRM no longer knows (400) is as good as revoked.
                let token = refresh_token.as_ref().unwrap_or(&access_token);
                match crm_salesforce::auth::revoke(&http, login_url, token).await {
                    Ok(()) | Err(crm_salesforce::auth::AuthError::Rejected { .. }) => {}
                    Err(e) => return Err(salesforce_failure(e).into()),
                }
            }
            AppCrm::Hubspot { base_url, .. } => {
                // Only the refresh token can be revoked; access tokens made from it
                // expire by themselves (30 minutes), and no process of this hub uses one
                // after it sees the stored token is gone (`tokens::RECHECK`).
                if let Some(refresh) = &refresh_token {
                    let oauth = self.0.hubspot(base_url, "http://127.0.0.1/unused")?;
                    oauth.revoke(refresh).await.map_err(hubspot_failure)?;
                }
            }
        }
        Ok(true)
    }
}
