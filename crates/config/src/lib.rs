//! Configuration, in layers: the commented defaults built into the binary
//! (config/default.toml), then an optional file (`--config FILE`), then `HANDOFF_*`
//! environment variables. Unknown keys and variables are warnings; a bad value is an
//! error naming the key and where it came from.

pub mod connections;
mod layers;
mod portal;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use base64::Engine;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::Deserialize;

pub use connections::ConnectionConfig;
pub use layers::Origin;
pub use portal::{BrandingConfig, PortalConfig, parse_duration};

/// The defaults, embedded so handoff works from any directory.
pub const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// Environment variables and the keys they set. `_FILE` variants read the value from a
/// file, so secrets need not sit in the environment.
pub const ENV_KEYS: &[(&str, &str)] = &[
    ("HANDOFF_DATABASE_URL", "database.url"),
    ("HANDOFF_LISTEN", "server.listen"),
    ("HANDOFF_BASE_URL", "server.base_url"),
    ("HANDOFF_MASTER_KEY", "secrets.master_key"),
    ("HANDOFF_SMTP_URL", "smtp.url"),
    ("HANDOFF_LOG", "log.filter"),
    ("HANDOFF_LOG_FORMAT", "log.format"),
    ("HANDOFF_TEMPLATES_DIR", "templates.dir"),
    ("HANDOFF_WORKFLOWS_DIR", "workflows.dir"),
    ("HANDOFF_TRACE_RETENTION", "workflows.trace_retention"),
    ("HANDOFF_PRODUCT_NAME", "branding.product_name"),
    ("HANDOFF_LOGO_URL", "branding.logo_url"),
    ("HANDOFF_ACCENT_COLOR", "branding.accent_color"),
    ("HANDOFF_INVITATION_VALIDITY", "portal.invitation_validity"),
    ("HANDOFF_SESSION_IDLE_TIMEOUT", "portal.session_idle_timeout"),
    ("HANDOFF_SESSION_ABSOLUTE_TIMEOUT", "portal.session_absolute_timeout"),
    ("HANDOFF_LINK_REQUESTS_PER_HOUR", "portal.link_requests_per_hour"),
    ("HANDOFF_UPLOAD_DIR", "portal.upload_dir"),
    ("HANDOFF_MAX_UPLOAD_MB", "portal.max_upload_mb"),
];

/// Variables that are handoff's but not settings, so they raise no warning.
pub const ENV_NOT_SETTINGS: &[&str] = &["HANDOFF_CONFIG", "HANDOFF_TEST_DATABASE_URL"];

#[derive(Debug, Clone)]
pub struct Config {
    pub database: DatabaseConfig,
    pub server: ServerConfig,
    pub secrets: SecretsConfig,
    pub smtp: SmtpConfig,
    pub log: LogConfig,
    pub templates: TemplatesConfig,
    pub workflows: WorkflowsConfig,
    pub branding: BrandingConfig,
    pub portal: PortalConfig,
    /// CRM connections, by name.
    pub connections: Vec<ConnectionConfig>,
}

impl Config {
    pub fn connection(&self, name: &str) -> Option<&ConnectionConfig> {
        self.connections.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// May hold a password, so it is a secret; see `store::redact_url` for logging.
    pub url: SecretString,
    pub max_connections: u32,
    pub sqlite_synchronous: SqliteSynchronous,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SqliteSynchronous {
    Normal,
    Full,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Without a trailing slash.
    pub base_url: url::Url,
}

#[derive(Debug, Clone)]
pub struct SecretsConfig {
    pub master_key: Option<MasterKey>,
}

/// The key that encrypts secrets at rest. Its `Debug` never shows the bytes.
#[derive(Debug, Clone)]
pub struct MasterKey(std::sync::Arc<SecretBox<[u8; 32]>>);

impl MasterKey {
    /// A random key, for throwaway databases (`handoff demo`): whatever it sealed is
    /// unreadable once the process ends.
    pub fn generate() -> Option<MasterKey> {
        use ring::rand::SecureRandom;
        let mut key = [0u8; 32];
        ring::rand::SystemRandom::new().fill(&mut key).ok()?;
        Some(MasterKey(std::sync::Arc::new(SecretBox::new(Box::new(key)))))
    }

    pub fn bytes(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub url: Option<SecretString>,
    pub from: String,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub filter: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone)]
pub struct TemplatesConfig {
    pub dir: PathBuf,
}

#[derive(Debug, Clone)]
pub struct WorkflowsConfig {
    pub dir: PathBuf,
    /// How long the record trace keeps handled changes and the workflows' decisions on
    /// them (each record's newest change is always kept).
    pub trace_retention: chrono::Duration,
}

/// A configuration and the warnings found while reading it. Warnings are returned, not
/// logged, because logging is configured *by* this configuration.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("invalid value for `{key}` (from {origin}): {message}")]
    Invalid { key: String, origin: Origin, message: String },
}

impl Config {
    /// Reads the layers. `env` is passed in (usually `std::env::vars()`) so tests can
    /// give their own.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Loaded, ConfigError> {
        let mut stack = layers::Stack::defaults()?;
        if let Some(path) = file {
            stack.merge_file(path)?;
        }
        stack.merge_env(env)?;
        let (raw, origins, mut warnings) = stack.into_raw::<RawConfig>()?;
        warnings.sort();
        let config = raw.validate(&origins)?;
        Ok(Loaded { config, warnings })
    }

    /// The built-in defaults, with the given database and an unused listen address; for
    /// tests and embedded use.
    pub fn with_database(url: &str) -> Result<Config, ConfigError> {
        let env = [("HANDOFF_DATABASE_URL".to_owned(), url.to_owned())];
        Ok(Config::load(None, env)?.config)
    }
}

// ---- the shape of the merged layers, before checks that serde cannot make ------------

#[derive(Deserialize)]
struct RawConfig {
    database: RawDatabase,
    server: RawServer,
    secrets: RawSecrets,
    smtp: RawSmtp,
    log: LogRaw,
    templates: RawTemplates,
    workflows: RawWorkflows,
    branding: portal::RawBranding,
    portal: portal::RawPortal,
    #[serde(default)]
    connections: std::collections::BTreeMap<String, connections::RawConnection>,
}

#[derive(Deserialize)]
struct RawDatabase {
    url: String,
    max_connections: u32,
    sqlite_synchronous: SqliteSynchronous,
}

#[derive(Deserialize)]
struct RawServer {
    listen: SocketAddr,
    base_url: String,
}

#[derive(Deserialize)]
struct RawSecrets {
    master_key: String,
}

#[derive(Deserialize)]
struct RawSmtp {
    url: String,
    from: String,
}

#[derive(Deserialize)]
struct LogRaw {
    filter: String,
    format: LogFormat,
}

#[derive(Deserialize)]
struct RawTemplates {
    dir: PathBuf,
}

#[derive(Deserialize)]
struct RawWorkflows {
    dir: PathBuf,
    trace_retention: String,
}

impl RawConfig {
    fn validate(self, origins: &layers::Origins) -> Result<Config, ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            key: key.to_owned(),
            origin: origins.of(key),
            message,
        };

        if self.database.url.trim().is_empty() {
            return Err(invalid("database.url", "must not be empty".into()));
        }
        let scheme = self.database.url.split(':').next().unwrap_or_default();
        if !matches!(scheme, "sqlite" | "postgres" | "postgresql") {
            return Err(invalid(
                "database.url",
                format!("must start with sqlite:// or postgres:// (got a `{scheme}` URL)"),
            ));
        }
        if self.database.max_connections == 0 {
            return Err(invalid("database.max_connections", "must be at least 1".into()));
        }

        let base_url = if self.server.base_url.trim().is_empty() {
            format!("http://{}", self.server.listen)
        } else {
            self.server.base_url.trim().trim_end_matches('/').to_owned()
        };
        let base_url = url::Url::parse(&base_url).map_err(|e| invalid("server.base_url", e.to_string()))?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(invalid("server.base_url", "must be an http:// or https:// URL".into()));
        }

        let master_key = match self.secrets.master_key.trim() {
            "" => None,
            encoded => Some(decode_master_key(encoded).map_err(|m| invalid("secrets.master_key", m))?),
        };

        let smtp_url = match self.smtp.url.trim() {
            "" => None,
            url => {
                let parsed = url::Url::parse(url).map_err(|e| invalid("smtp.url", e.to_string()))?;
                if !matches!(parsed.scheme(), "smtp" | "smtps") {
                    return Err(invalid("smtp.url", "must be an smtp:// or smtps:// URL".into()));
                }
                Some(SecretString::from(url.to_owned()))
            }
        };

        tracing_subscriber::EnvFilter::try_new(&self.log.filter).map_err(|e| invalid("log.filter", e.to_string()))?;

        let connections = connections::validate_all(self.connections).map_err(|(key, message)| invalid(&key, message))?;
        let (branding, portal) = portal::validate(self.branding, self.portal).map_err(|(key, message)| invalid(&key, message))?;

        Ok(Config {
            database: DatabaseConfig {
                url: SecretString::from(self.database.url),
                max_connections: self.database.max_connections,
                sqlite_synchronous: self.database.sqlite_synchronous,
            },
            server: ServerConfig {
                listen: self.server.listen,
                base_url,
            },
            secrets: SecretsConfig { master_key },
            smtp: SmtpConfig {
                url: smtp_url,
                from: self.smtp.from,
            },
            log: LogConfig {
                filter: self.log.filter,
                format: self.log.format,
            },
            templates: TemplatesConfig { dir: self.templates.dir },
            workflows: WorkflowsConfig {
                dir: self.workflows.dir,
                trace_retention: portal::parse_duration(&self.workflows.trace_retention)
                    .map_err(|m| invalid("workflows.trace_retention", m))?,
            },
            branding,
            portal,
            connections,
        })
    }
}

fn decode_master_key(encoded: &str) -> Result<MasterKey, String> {
    // The message never includes the value: it is a secret even when it is wrong.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| "is not valid base64 (generate one with: openssl rand -base64 32)".to_owned())?;
    let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
        format!(
            "must decode to 32 bytes, not {} (generate one with: openssl rand -base64 32)",
            b.len()
        )
    })?;
    Ok(MasterKey(std::sync::Arc::new(SecretBox::new(Box::new(key)))))
}

#[cfg(test)]
mod tests;
