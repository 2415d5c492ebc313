//! Builds a `Crm` adapter for every configured connection.

use std::sync::Arc;
use std::time::Duration;

use crm_http::{BoxFuture, OAuthHttp, TokenError};
use crm_salesforce::auth::{ClientCredentials, JwtBearer, TokenResponse, WebServerFlow};
use secrecy::SecretString;

use super::hubspot::HubspotCrm;
use super::process::Crms;
use super::reads::DealReads;
use super::salesforce::SalesforceCrm;
use super::tokens::{DbTokenProvider, GrantedToken, TokenGrant};
use handoff_config::connections::{CrmSettings, HubspotAuth, SalesforceAuth, SalesforceSettings};
use handoff_config::{Config, ConnectionConfig};
use handoff_store::Store;
use handoff_store::sealed::{SealError, Sealer};

const USER_AGENT: &str = concat!("handoff/", env!("CARGO_PKG_VERSION"));
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Per API call: generous for a 2,000-record SOQL page, short enough to notice an outage.
const CALL_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("connection `{connection}`: {source}")]
    Secrets { connection: String, source: SealError },
    #[error("connection `{connection}`: {message}")]
    Invalid { connection: String, message: String },
}

/// Adapters for every connection in `config`. Connections that keep tokens need the
/// master key (tokens are stored encrypted). `reads` says what the workflows need read
/// with each deal, by connection.
pub fn build(config: &Config, store: &Store, reads: &std::collections::HashMap<String, DealReads>) -> Result<Crms, ConnectError> {
    let mut crms = Crms::default();
    let mut sealer: Option<Arc<Sealer>> = None;
    for connection in &config.connections {
        let invalid = |message: String| ConnectError::Invalid {
            connection: connection.name.clone(),
            message,
        };
        match &connection.crm {
            CrmSettings::Salesforce(settings) => {
                let sealer = match &sealer {
                    Some(s) => s.clone(),
                    None => {
                        let s = Arc::new(
                            Sealer::new(config.secrets.master_key.as_ref()).map_err(|source| ConnectError::Secrets {
                                connection: connection.name.clone(),
                                source,
                            })?,
                        );
                        sealer = Some(s.clone());
                        s
                    }
                };
                let grant = salesforce_grant(settings).map_err(|e| invalid(e.to_string()))?;
                // The web-server flow starts from a refresh token (configured, or stored
                // when an admin connects the org); the other flows need none.
                let refresh_token = match &settings.auth {
                    SalesforceAuth::WebServer { refresh_token, .. } => refresh_token.clone(),
                    SalesforceAuth::JwtBearer { .. } | SalesforceAuth::ClientCredentials { .. } => None,
                };
                let tokens = DbTokenProvider::new(&connection.name, store.clone(), sealer, Box::new(grant), refresh_token);
                let client = crm_salesforce::Client::builder(Arc::new(tokens))
                    .api_version(&settings.api_version)
                    .timeout(CALL_TIMEOUT)
                    .user_agent(USER_AGENT)
                    .build()
                    .map_err(|e| invalid(e.to_string()))?;
                let needs = reads.get(&connection.name).cloned().unwrap_or_default();
                crms.insert(Arc::new(SalesforceCrm::new(&connection.name, client, &needs)));
            }
            CrmSettings::Hubspot(settings) => {
                let tokens: Arc<dyn crm_http::TokenProvider> = match &settings.auth {
                    HubspotAuth::PrivateApp { token } => Arc::new(crm_http::StaticToken(crm_http::AccessToken::new(token.clone()))),
                    HubspotAuth::OAuth {
                        client_id,
                        client_secret,
                        refresh_token,
                    } => {
                        let sealer = sealer_for(&mut sealer, config, &connection.name)?;
                        let base = settings.base_url.as_str().trim_end_matches('/');
                        // The redirect URI is used only when exchanging a code (the admin
                        // pages' connect flow); refreshing does not send it.
                        let oauth_config = crm_hubspot::auth::OAuthConfig::new(
                            client_id.clone(),
                            client_secret.clone(),
                            "http://127.0.0.1/oauth/callback",
                        )
                        .with_api(base, &crm_hubspot::ApiPaths::legacy());
                        let oauth = crm_hubspot::auth::OAuth::new(oauth_config, TOKEN_TIMEOUT).map_err(|e| invalid(e.to_string()))?;
                        Arc::new(DbTokenProvider::new(
                            &connection.name,
                            store.clone(),
                            sealer,
                            Box::new(HubspotGrant(oauth)),
                            refresh_token.clone(),
                        ))
                    }
                };
                let client = crm_hubspot::Client::builder(tokens)
                    .base_url(settings.base_url.as_str().trim_end_matches('/'))
                    .timeout(CALL_TIMEOUT)
                    .user_agent(USER_AGENT)
                    .build()
                    .map_err(|e| invalid(e.to_string()))?;
                let needs = reads.get(&connection.name).cloned().unwrap_or_default();
                crms.insert(Arc::new(HubspotCrm::new(&connection.name, client, &needs)));
            }
        }
    }
    Ok(crms)
}

/// Whether this connection keeps tokens in the database (and so needs the master key).
pub fn stores_tokens(c: &ConnectionConfig) -> bool {
    match &c.crm {
        CrmSettings::Salesforce(_) => true,
        CrmSettings::Hubspot(h) => matches!(h.auth, HubspotAuth::OAuth { .. }),
    }
}

/// The one sealer, made on first need: only connections that keep tokens need the key.
fn sealer_for(sealer: &mut Option<Arc<Sealer>>, config: &Config, connection: &str) -> Result<Arc<Sealer>, ConnectError> {
    if let Some(s) = sealer {
        return Ok(s.clone());
    }
    let s = Arc::new(
        Sealer::new(config.secrets.master_key.as_ref()).map_err(|source| ConnectError::Secrets {
            connection: connection.to_owned(),
            source,
        })?,
    );
    *sealer = Some(s.clone());
    Ok(s)
}

/// HubSpot's OAuth refresh grant.
pub struct HubspotGrant(pub crm_hubspot::auth::OAuth);

impl TokenGrant for HubspotGrant {
    fn fetch<'a>(&'a self, refresh_token: Option<&'a SecretString>) -> BoxFuture<'a, Result<GrantedToken, TokenError>> {
        Box::pin(async move {
            let refresh =
                refresh_token.ok_or_else(|| TokenError::Rejected("no refresh token yet: connect the HubSpot account first".into()))?;
            let set = self.0.refresh(refresh).await?;
            Ok(GrantedToken {
                access_token: set.access_token,
                refresh_token: set.refresh_token,
                instance_url: None,
                expires_in: set.expires_in,
            })
        })
    }

    fn needs_refresh_token(&self) -> bool {
        true
    }
}

/// A Salesforce OAuth grant, as the connection's settings say.
pub enum SalesforceGrant {
    Jwt(JwtBearer, OAuthHttp),
    ClientCredentials(ClientCredentials, OAuthHttp),
    WebServer(WebServerFlow, OAuthHttp),
}

fn salesforce_grant(s: &SalesforceSettings) -> Result<SalesforceGrant, crm_salesforce::auth::AuthError> {
    let http = OAuthHttp::new(USER_AGENT, TOKEN_TIMEOUT).map_err(|e| crm_salesforce::auth::AuthError::InvalidConfig(e.to_string()))?;
    let login = s.login_url.as_str();
    Ok(match &s.auth {
        SalesforceAuth::JwtBearer {
            client_id,
            username,
            private_key,
            ..
        } => SalesforceGrant::Jwt(JwtBearer::new(login, client_id, username, private_key)?, http),
        SalesforceAuth::ClientCredentials { client_id, client_secret } => {
            SalesforceGrant::ClientCredentials(ClientCredentials::new(login, client_id, client_secret)?, http)
        }
        SalesforceAuth::WebServer {
            client_id, client_secret, ..
        } => {
            // The redirect URI matters only when exchanging a code, which the admin
            // pages will do; refreshing does not use it.
            SalesforceGrant::WebServer(
                WebServerFlow::new(login, client_id, client_secret, "http://127.0.0.1/oauth/callback")?,
                http,
            )
        }
    })
}

fn granted(t: TokenResponse) -> GrantedToken {
    GrantedToken {
        access_token: t.access_token.secret.clone(),
        refresh_token: t.refresh_token,
        instance_url: t.access_token.instance_url.clone(),
        // Salesforce does not say when a session ends; a 401 triggers the refresh.
        expires_in: None,
    }
}

impl TokenGrant for SalesforceGrant {
    fn fetch<'a>(&'a self, refresh_token: Option<&'a SecretString>) -> BoxFuture<'a, Result<GrantedToken, TokenError>> {
        Box::pin(async move {
            let response = match self {
                SalesforceGrant::Jwt(flow, http) => flow.fetch_token(http).await?,
                SalesforceGrant::ClientCredentials(flow, http) => flow.fetch_token(http).await?,
                SalesforceGrant::WebServer(flow, http) => {
                    let refresh =
                        refresh_token.ok_or_else(|| TokenError::Rejected("no refresh token yet: connect the org first".into()))?;
                    flow.refresh(http, refresh, None).await?
                }
            };
            Ok(granted(response))
        })
    }

    fn needs_refresh_token(&self) -> bool {
        matches!(self, SalesforceGrant::WebServer(..))
    }
}

/// Whether the connection can get a token only with a refresh token (HubSpot OAuth,
/// Salesforce web server flow), and whether one is configured to start from.
pub fn refresh_token_flow(c: &ConnectionConfig) -> Option<bool> {
    match &c.crm {
        CrmSettings::Hubspot(h) => match &h.auth {
            HubspotAuth::OAuth { refresh_token, .. } => Some(refresh_token.is_some()),
            HubspotAuth::PrivateApp { .. } => None,
        },
        // The configured refresh token is not handed to the provider (see `build`).
        CrmSettings::Salesforce(s) => matches!(s.auth, SalesforceAuth::WebServer { .. }).then_some(false),
    }
}

/// The CRM's short-term request limit for this connection, as its documentation states
/// it (the daily allowance is read from the CRM's answers: see `Crm::budget`).
pub fn burst_limit(c: &ConnectionConfig) -> &'static str {
    match &c.crm {
        CrmSettings::Salesforce(_) => "no per-second limit; at most 25 requests running longer than 20 s at once (5 on Developer orgs)",
        CrmSettings::Hubspot(h) => match h.auth {
            HubspotAuth::OAuth { .. } => "110 requests per 10 s for the account",
            HubspotAuth::PrivateApp { .. } => "100 requests per 10 s on Free and Starter, 190 on Professional and Enterprise",
        },
    }
}
