//! What staff sign-in (`sign_in`) and connecting an account (`connect`) share: a
//! connection's OAuth app at its CRM — where the consent page and the token endpoint
//! are, which org or account the connection is bound to — and the authorization-code
//! flow's first step.

use std::time::Duration;

use secrecy::SecretString;

use handoff_config::ConnectionConfig;
use handoff_config::connections::{CrmSettings, OAuthApp};

pub(crate) const USER_AGENT: &str = concat!("handoff/", env!("CARGO_PKG_VERSION"));
pub(crate) const TIMEOUT: Duration = Duration::from_secs(15);
/// HubSpot's consent page lives on the app host, not the API host.
const HUBSPOT_AUTHORIZE_URL: &str = "https://app.hubspot.com/oauth/authorize";
const HUBSPOT_API_HOST: &str = "api.hubapi.com";

/// Where to send the browser, and what to keep until the CRM sends it back.
#[derive(Debug)]
pub struct AuthorizeStart {
    pub url: url::Url,
    /// Compared with the callback's `state` (it is kept as a hash).
    pub state: SecretString,
    /// The PKCE verifier, for CRMs that take a challenge (kept sealed).
    pub pkce_verifier: Option<SecretString>,
}

/// A connection's CRM and the account it is bound to.
#[derive(Clone, Debug)]
pub(crate) enum AppCrm {
    Salesforce { login_url: String, organization_id: String },
    Hubspot { base_url: String, portal_id: Option<u64> },
}

/// A connection's OAuth app at its CRM.
#[derive(Clone, Debug)]
pub(crate) struct CrmApp {
    pub connection: String,
    pub crm: AppCrm,
    pub app: OAuthApp,
}

/// How an authorization-code step failed, before the caller words it.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The CRM refused (a bad, expired or reused code; a foreign token).
    Refused(String),
    Unavailable(String),
}

impl CrmApp {
    pub fn new(c: &ConnectionConfig, app: OAuthApp) -> Self {
        let crm = match &c.crm {
            CrmSettings::Salesforce(s) => AppCrm::Salesforce {
                login_url: s.login_url.as_str().trim_end_matches('/').to_owned(),
                organization_id: s.organization_id.clone(),
            },
            CrmSettings::Hubspot(h) => AppCrm::Hubspot {
                base_url: h.base_url.as_str().trim_end_matches('/').to_owned(),
                portal_id: h.portal_id,
            },
        };
        Self {
            connection: c.name.clone(),
            crm,
            app,
        }
    }

    /// "Salesforce" or "HubSpot".
    pub fn label(&self) -> &'static str {
        match self.crm {
            AppCrm::Salesforce { .. } => "Salesforce",
            AppCrm::Hubspot { .. } => "HubSpot",
        }
    }

    /// The authorize URL asking for `scopes` (Salesforce's or HubSpot's, as the CRM is),
    /// with a fresh random state, and a PKCE S256 challenge on Salesforce, which takes
    /// one (HubSpot's v1 flow does not).
    pub fn authorize(&self, redirect_uri: &str, salesforce_scopes: &[&str], hubspot_scopes: &[&str]) -> Result<AuthorizeStart, Failure> {
        match &self.crm {
            AppCrm::Salesforce { login_url, .. } => {
                let request = self
                    .salesforce_flow(login_url, redirect_uri)?
                    .authorize_url(salesforce_scopes, true);
                Ok(AuthorizeStart {
                    url: request.url,
                    state: SecretString::from(request.state),
                    pkce_verifier: request.pkce_verifier,
                })
            }
            AppCrm::Hubspot { base_url, .. } => {
                let request = self
                    .hubspot_config(base_url, redirect_uri)
                    .authorize_url(hubspot_scopes, &[], None)
                    .map_err(|e| Failure::Unavailable(e.to_string()))?;
                Ok(AuthorizeStart {
                    url: request.url,
                    state: SecretString::from(request.state),
                    pkce_verifier: None,
                })
            }
        }
    }

    pub fn salesforce_flow(&self, login_url: &str, redirect_uri: &str) -> Result<crm_salesforce::auth::WebServerFlow, Failure> {
        crm_salesforce::auth::WebServerFlow::new(login_url, &self.app.client_id, &self.app.client_secret, redirect_uri)
            .map_err(|e| Failure::Unavailable(e.to_string()))
    }

    pub fn hubspot_config(&self, base_url: &str, redirect_uri: &str) -> crm_hubspot::auth::OAuthConfig {
        let authorize = match url::Url::parse(base_url).ok().and_then(|u| u.host_str().map(str::to_owned)) {
            Some(host) if host == HUBSPOT_API_HOST => HUBSPOT_AUTHORIZE_URL.to_owned(),
            // The sandbox (and any stand-in) serves the consent page on its own host.
            _ => format!("{base_url}/oauth/authorize"),
        };
        crm_hubspot::auth::OAuthConfig::new(self.app.client_id.clone(), self.app.client_secret.clone(), redirect_uri)
            .with_api(base_url, &crm_hubspot::ApiPaths::legacy())
            .with_authorize_url(authorize)
    }

    pub fn hubspot(&self, base_url: &str, redirect_uri: &str) -> Result<crm_hubspot::auth::OAuth, Failure> {
        crm_hubspot::auth::OAuth::new(self.hubspot_config(base_url, redirect_uri), TIMEOUT).map_err(|e| Failure::Unavailable(e.to_string()))
    }
}

/// Salesforce ids come in 15- and 18-character forms; the first 15 characters are the id.
pub(crate) fn same_org(a: &str, b: &str) -> bool {
    a.get(..15).is_some_and(|x| b.get(..15) == Some(x))
}

pub(crate) fn salesforce_failure(e: crm_salesforce::auth::AuthError) -> Failure {
    match e {
        crm_salesforce::auth::AuthError::Unavailable(m) => Failure::Unavailable(m),
        other => Failure::Refused(other.to_string()),
    }
}

pub(crate) fn hubspot_failure(e: crm_http::TokenError) -> Failure {
    match e {
        crm_http::TokenError::Unavailable(m) => Failure::Unavailable(m),
        other => Failure::Refused(other.to_string()),
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
