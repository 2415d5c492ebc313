//! CRM connections: `[connections.<name>]` tables. The name appears in webhook URLs
//! (`/webhooks/hubspot/<name>`), so it is restricted like a task key.
//!
//! Secrets never need to sit in a file: each can come from
//! `HANDOFF_CONNECTION_<NAME>_<SECRET>` or `…_<SECRET>_FILE`, where NAME is the
//! connection name in capitals with `-` written `_` (`hubspot-main` →
//! `HANDOFF_CONNECTION_HUBSPOT_MAIN_CLIENT_SECRET`).

use std::collections::BTreeMap;
use std::time::Duration;

use secrecy::SecretString;
use serde::Deserialize;

/// Secrets a connection may need, as their config keys.
/// `refresh_token` bootstraps an OAuth connection until the admin pages connect it:
/// the first refresh stores it sealed in the database, which holds it from then on.
pub const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "private_key",
    "private_app_token",
    "webhook_secret",
    "refresh_token",
];

#[derive(Debug, Clone)]
pub struct ConnectionConfig {
    pub name: String,
    pub crm: CrmSettings,
    /// How often the poll catches what webhooks missed.
    pub poll_interval: Duration,
}

#[derive(Debug, Clone)]
pub enum CrmSettings {
    Salesforce(SalesforceSettings),
    Hubspot(HubspotSettings),
}

#[derive(Debug, Clone)]
pub struct SalesforceSettings {
    /// Where tokens are issued (login.salesforce.com, test.salesforce.com, a My Domain).
    pub login_url: url::Url,
    pub api_version: String,
    pub auth: SalesforceAuth,
    /// Outbound Messages must carry this OrganizationId; others are refused.
    pub organization_id: String,
    /// The secret path segment of this connection's Outbound Message URL.
    pub webhook_secret: SecretString,
}

#[derive(Debug, Clone)]
pub enum SalesforceAuth {
    JwtBearer {
        client_id: String,
        username: String,
        private_key: SecretString,
        /// The connected app's consumer secret, which the JWT flow does not need: with
        /// it, staff can sign in to the console with Salesforce.
        client_secret: Option<SecretString>,
    },
    ClientCredentials {
        client_id: String,
        client_secret: SecretString,
    },
    /// Authorization-code flow: the refresh token is obtained by connecting through the
    /// browser and stored encrypted; only the client credentials are configured.
    WebServer {
        client_id: String,
        client_secret: SecretString,
        refresh_token: Option<SecretString>,
    },
}

#[derive(Debug, Clone)]
pub struct HubspotSettings {
    pub base_url: url::Url,
    pub auth: HubspotAuth,
    /// The public app's client id, for a private-app connection whose staff sign in to
    /// the console with HubSpot (an OAuth connection uses its own).
    pub client_id: Option<String>,
    /// The app's client secret: signs webhooks (and authenticates OAuth).
    pub client_secret: Option<SecretString>,
    /// Events from any other HubSpot account are refused.
    pub portal_id: Option<u64>,
    /// Accept v1/v2 signatures besides v3 (older apps); off unless configured.
    pub accept_legacy_signatures: bool,
}

#[derive(Debug, Clone)]
pub enum HubspotAuth {
    PrivateApp {
        token: SecretString,
    },
    OAuth {
        client_id: String,
        client_secret: SecretString,
        refresh_token: Option<SecretString>,
    },
}

/// An OAuth app's credentials (client id and secret): what a connection needs for
/// staff to sign in to the console with the CRM, or for an admin to connect it.
#[derive(Debug, Clone)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: SecretString,
}

impl ConnectionConfig {
    /// The OAuth app staff sign in with, when the connection has one: a Salesforce
    /// connected app with its consumer secret, a HubSpot app's client id and secret.
    pub fn sign_in_app(&self) -> Option<OAuthApp> {
        let app = |id: &str, secret: &SecretString| OAuthApp {
            client_id: id.to_owned(),
            client_secret: secret.clone(),
        };
        match &self.crm {
            CrmSettings::Salesforce(s) => match &s.auth {
                SalesforceAuth::JwtBearer {
                    client_id, client_secret, ..
                } => client_secret.as_ref().map(|c| app(client_id, c)),
                SalesforceAuth::ClientCredentials { client_id, client_secret }
                | SalesforceAuth::WebServer {
                    client_id, client_secret, ..
                } => Some(app(client_id, client_secret)),
            },
            CrmSettings::Hubspot(h) => match &h.auth {
                HubspotAuth::OAuth {
                    client_id, client_secret, ..
                } => Some(app(client_id, client_secret)),
                HubspotAuth::PrivateApp { .. } => Some(app(h.client_id.as_deref()?, h.client_secret.as_ref()?)),
            },
        }
    }

    pub fn crm_name(&self) -> &'static str {
        match self.crm {
            CrmSettings::Salesforce(_) => "salesforce",
            CrmSettings::Hubspot(_) => "hubspot",
        }
    }

    /// How the connection authenticates, in words (the admin pages, `handoff connections`).
    pub fn auth_flow(&self) -> &'static str {
        match &self.crm {
            CrmSettings::Salesforce(s) => match s.auth {
                SalesforceAuth::JwtBearer { .. } => "JWT bearer (an integration user)",
                SalesforceAuth::ClientCredentials { .. } => "client credentials",
                SalesforceAuth::WebServer { .. } => "OAuth web-server flow (an admin connects the org)",
            },
            CrmSettings::Hubspot(h) => match h.auth {
                HubspotAuth::PrivateApp { .. } => "private app token",
                HubspotAuth::OAuth { .. } => "OAuth app (an admin connects the account)",
            },
        }
    }

    /// The org or account the connection is bound to: Salesforce's organization id,
    /// HubSpot's portal id (`None`: any account that installed the app).
    pub fn account_id(&self) -> Option<String> {
        match &self.crm {
            CrmSettings::Salesforce(s) => Some(s.organization_id.clone()),
            CrmSettings::Hubspot(h) => h.portal_id.map(|p| p.to_string()),
        }
    }

    /// What works as configured but is unsafe: `handoff check` prints these and
    /// `handoff serve` logs them at start. They do not stop either.
    ///
    /// A HubSpot connection without `portal_id` accepts webhook events for any HubSpot
    /// account: the signature proves only that the app's client secret signed them, and
    /// one app (and its secret) serves every account that installed it.
    pub fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if let CrmSettings::Hubspot(h) = &self.crm
            && h.portal_id.is_none()
        {
            warnings.push(format!(
                "connection `{}` has no portal_id: signed webhook events from any HubSpot account are accepted; set `connections.{}.portal_id` to the account's Hub ID",
                self.name, self.name
            ));
        }
        warnings
    }
}

/// The file shape of one connection; checked by [`RawConnection::validate`].
#[derive(Deserialize)]
pub(super) struct RawConnection {
    crm: String,
    auth: Option<String>,
    login_url: Option<String>,
    base_url: Option<String>,
    api_version: Option<String>,
    client_id: Option<String>,
    username: Option<String>,
    organization_id: Option<String>,
    portal_id: Option<u64>,
    #[serde(default)]
    accept_legacy_signatures: bool,
    poll_interval_seconds: Option<u64>,
    client_secret: Option<String>,
    private_key: Option<String>,
    private_app_token: Option<String>,
    webhook_secret: Option<String>,
    refresh_token: Option<String>,
}

/// Why a connection is invalid: the key (under `connections.<name>.`) and the reason.
pub(super) type Invalid = (String, String);

fn secret(v: &Option<String>) -> Option<SecretString> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()))
}

impl RawConnection {
    pub(super) fn validate(self, name: &str) -> Result<ConnectionConfig, Invalid> {
        let bad = |key: &str, message: String| (format!("connections.{name}.{key}"), message);
        let valid_name = !name.is_empty()
            && name.len() <= 40
            && name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid_name {
            return Err((
                format!("connections.{name}"),
                "a connection name may contain only lowercase letters, digits and `-`, and must start with a letter".into(),
            ));
        }
        let need = |key: &str, v: &Option<String>| -> Result<String, Invalid> {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| bad(key, "is required".into()))
        };
        let need_secret = |key: &str, v: &Option<String>| -> Result<SecretString, Invalid> {
            secret(v).ok_or_else(|| {
                bad(
                    key,
                    format!(
                        "is required (set HANDOFF_CONNECTION_{}_{} or its _FILE variant)",
                        env_name(name),
                        key.to_uppercase()
                    ),
                )
            })
        };
        let url = |key: &str, v: &Option<String>, default: &str| -> Result<url::Url, Invalid> {
            let raw = v.as_deref().unwrap_or(default);
            let u = url::Url::parse(raw).map_err(|e| bad(key, e.to_string()))?;
            if matches!(u.scheme(), "http" | "https") {
                Ok(u)
            } else {
                Err(bad(key, "must be an http(s) URL".into()))
            }
        };
        let crm = match self.crm.as_str() {
            "salesforce" => {
                let auth = match self.auth.as_deref().unwrap_or("jwt_bearer") {
                    "jwt_bearer" => SalesforceAuth::JwtBearer {
                        client_id: need("client_id", &self.client_id)?,
                        username: need("username", &self.username)?,
                        private_key: need_secret("private_key", &self.private_key)?,
                        client_secret: secret(&self.client_secret),
                    },
                    "client_credentials" => SalesforceAuth::ClientCredentials {
                        client_id: need("client_id", &self.client_id)?,
                        client_secret: need_secret("client_secret", &self.client_secret)?,
                    },
                    "web_server" => SalesforceAuth::WebServer {
                        client_id: need("client_id", &self.client_id)?,
                        client_secret: need_secret("client_secret", &self.client_secret)?,
                        refresh_token: secret(&self.refresh_token),
                    },
                    other => {
                        return Err(bad(
                            "auth",
                            format!("`{other}` is not a Salesforce auth flow (jwt_bearer, client_credentials, web_server)"),
                        ));
                    }
                };
                let organization_id = need("organization_id", &self.organization_id)?;
                if !organization_id.starts_with("00D") || !crm_salesforce::id::is_valid_18(&organization_id) {
                    return Err(bad(
                        "organization_id",
                        "must be the 18-character org id (00D…, as Setup → Company Information shows it)".into(),
                    ));
                }
                let api_version = self.api_version.unwrap_or_else(|| "67.0".into());
                if !api_version.ends_with(".0") || api_version.trim_end_matches(".0").parse::<u16>().is_err() {
                    return Err(bad("api_version", format!("`{api_version}` is not a version like 67.0")));
                }
                CrmSettings::Salesforce(SalesforceSettings {
                    login_url: url("login_url", &self.login_url, "https://login.salesforce.com")?,
                    api_version,
                    auth,
                    organization_id,
                    webhook_secret: need_secret("webhook_secret", &self.webhook_secret)?,
                })
            }
            "hubspot" => {
                let auth = match self.auth.as_deref().unwrap_or("private_app") {
                    "private_app" => HubspotAuth::PrivateApp {
                        token: need_secret("private_app_token", &self.private_app_token)?,
                    },
                    "oauth" => HubspotAuth::OAuth {
                        client_id: need("client_id", &self.client_id)?,
                        client_secret: need_secret("client_secret", &self.client_secret)?,
                        refresh_token: secret(&self.refresh_token),
                    },
                    other => return Err(bad("auth", format!("`{other}` is not a HubSpot auth method (private_app, oauth)"))),
                };
                CrmSettings::Hubspot(HubspotSettings {
                    base_url: url("base_url", &self.base_url, "https://api.hubapi.com")?,
                    auth,
                    client_id: self
                        .client_id
                        .as_deref()
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned),
                    client_secret: secret(&self.client_secret),
                    portal_id: self.portal_id,
                    accept_legacy_signatures: self.accept_legacy_signatures,
                })
            }
            other => return Err(bad("crm", format!("`{other}` is not a supported CRM (salesforce, hubspot)"))),
        };
        let poll_interval = Duration::from_secs(self.poll_interval_seconds.unwrap_or(300));
        if poll_interval < Duration::from_secs(10) {
            return Err(bad("poll_interval_seconds", "must be at least 10".into()));
        }
        Ok(ConnectionConfig {
            name: name.to_owned(),
            crm,
            poll_interval,
        })
    }
}

/// `hubspot-main` → `HUBSPOT_MAIN`.
pub fn env_name(connection: &str) -> String {
    connection.to_uppercase().replace('-', "_")
}

/// Splits `HANDOFF_CONNECTION_<NAME>_<SECRET>[_FILE]` into (config key, reads a file).
pub(super) fn secret_variable(var: &str) -> Option<(String, bool)> {
    let rest = var.strip_prefix("HANDOFF_CONNECTION_")?;
    let (rest, from_file) = match rest.strip_suffix("_FILE") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    SECRET_KEYS.iter().find_map(|key| {
        let name = rest.strip_suffix(&format!("_{}", key.to_uppercase()))?;
        (!name.is_empty()).then(|| (format!("connections.{}.{key}", name.to_lowercase().replace('_', "-")), from_file))
    })
}

pub(super) fn validate_all(raw: BTreeMap<String, RawConnection>) -> Result<Vec<ConnectionConfig>, Invalid> {
    raw.into_iter().map(|(name, c)| c.validate(&name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_variables_map_to_connection_keys() {
        assert_eq!(
            secret_variable("HANDOFF_CONNECTION_HUBSPOT_MAIN_CLIENT_SECRET"),
            Some(("connections.hubspot-main.client_secret".into(), false))
        );
        assert_eq!(
            secret_variable("HANDOFF_CONNECTION_SF_PRIVATE_KEY_FILE"),
            Some(("connections.sf.private_key".into(), true))
        );
        assert_eq!(secret_variable("HANDOFF_CONNECTION_SF_PASSWORD"), None);
        assert_eq!(secret_variable("HANDOFF_CONNECTION_CLIENT_SECRET"), None);
    }
}
