//! The hub's `TokenProvider`: OAuth tokens kept sealed in the database, shared by every
//! handoff process, refreshed by one of them at a time.
//!
//! - Within a process, refreshes are single-flight: callers wait on one mutex, and a
//!   caller whose rejected token was already replaced gets the replacement.
//! - Across processes, a refresh happens under the lease `token:<connection>`; a
//!   process that cannot take it waits for the holder's new token to appear in the
//!   database instead of refreshing too (Salesforce rejects concurrent refreshes of
//!   one token, and HubSpot refresh tokens can rotate).
//! - A refresh response without an instance URL keeps the previous one (Salesforce
//!   omits it on some refreshes).
//! - A stored token that cannot be opened (the master key changed, or the row is
//!   damaged) is treated as absent and overwritten: flows that need no person (JWT
//!   bearer, client credentials) simply fetch a new one; a refresh-token flow can only
//!   use a configured refresh token, and otherwise says the connection needs
//!   reconnecting. Before, such a row failed every call until someone deleted it.
//! - A token kept in memory is checked against the database every [`RECHECK`]: an
//!   admin who connects another account or disconnects this one (`connect`) changes
//!   what every process uses within that time, not at its next restart.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use crm_http::{AccessToken, BoxFuture, TokenError, TokenProvider};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use tokio::sync::Mutex;

use handoff_store::Store;
use handoff_store::sealed::Sealer;

/// Tokens this close to expiry are renewed before use.
const EXPIRY_MARGIN: Duration = Duration::from_secs(60);
/// Longest a refresh may hold the lease; a crashed holder frees it after this.
const LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// How long a process waits for another one's refresh before trying itself.
const WAIT_FOR_OTHER: Duration = Duration::from_secs(20);
/// How long a process uses its in-memory token before reading the stored one again
/// (one primary-key read).
pub const RECHECK: Duration = Duration::from_secs(15);

/// What a grant hands back.
#[derive(Clone, Debug)]
pub struct GrantedToken {
    pub access_token: SecretString,
    /// A new refresh token, when the CRM rotates them.
    pub refresh_token: Option<SecretString>,
    pub instance_url: Option<String>,
    pub expires_in: Option<Duration>,
}

/// How a connection gets a new access token (JWT assertion, refresh token, client
/// credentials…). Implemented per CRM over the connector crates.
pub trait TokenGrant: Send + Sync {
    fn fetch<'a>(&'a self, refresh_token: Option<&'a SecretString>) -> BoxFuture<'a, Result<GrantedToken, TokenError>>;

    /// Whether a new token can only come from a refresh token (which a person obtained
    /// by connecting the account), as opposed to credentials in the configuration.
    fn needs_refresh_token(&self) -> bool {
        false
    }
}

/// What the database holds for a connection's token, as this process's master key
/// sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenState {
    /// No token stored yet: the first call fetches one.
    Absent,
    /// A token this master key opens.
    Readable,
    /// A token this master key cannot open: sealed under another key (was
    /// `HANDOFF_MASTER_KEY` changed?) or damaged. Treated as absent.
    Unreadable,
}

/// The state of `connection`'s stored token (for `handoff connections`).
pub async fn stored_token_state(store: &Store, sealer: &Sealer, connection: &str) -> Result<TokenState, handoff_store::StoreError> {
    Ok(match store.connection_token(connection).await? {
        None => TokenState::Absent,
        Some(row) if open_row(sealer, connection, &row.sealed).is_some() => TokenState::Readable,
        Some(_) => TokenState::Unreadable,
    })
}

fn purpose_of(connection: &str) -> String {
    format!("token:{connection}")
}

/// The stored token's content, if this sealer opens it and it is what we wrote.
fn open_row(sealer: &Sealer, connection: &str, sealed: &str) -> Option<Sealed> {
    let json = sealer.open(&purpose_of(connection), sealed).ok()?;
    serde_json::from_str(json.expose_secret()).ok()
}

/// What [`DbTokenProvider::load`] found.
enum Stored {
    Absent,
    Readable(Current),
    /// Present but not openable; its version lets a new token replace it.
    Unreadable {
        version: i64,
    },
}

impl Stored {
    fn readable(&self) -> Option<&Current> {
        match self {
            Stored::Readable(c) => Some(c),
            _ => None,
        }
    }
}

/// The sealed form in `connection_tokens`.
#[derive(Serialize, Deserialize)]
struct Sealed {
    access_token: String,
    refresh_token: Option<String>,
    instance_url: Option<String>,
}

#[derive(Clone)]
struct Current {
    token: AccessToken,
    refresh_token: Option<SecretString>,
    version: Option<i64>,
    /// When this was read from or written to the database.
    checked_at: std::time::Instant,
}

impl Current {
    /// Usable without asking the database again.
    fn usable_in_memory(&self, rejected: Option<&AccessToken>) -> bool {
        self.checked_at.elapsed() < RECHECK && usable(&self.token, rejected)
    }
}

/// What a connection's stored token holds, opened (for disconnecting it).
pub struct OpenedToken {
    pub access_token: SecretString,
    pub refresh_token: Option<SecretString>,
}

/// `connection`'s stored token, if there is one this sealer opens.
pub async fn open_stored_token(store: &Store, sealer: &Sealer, connection: &str) -> Result<Option<OpenedToken>, handoff_store::StoreError> {
    Ok(store
        .connection_token(connection)
        .await?
        .and_then(|row| open_row(sealer, connection, &row.sealed))
        .map(|s| OpenedToken {
            access_token: SecretString::from(s.access_token),
            refresh_token: s.refresh_token.map(SecretString::from),
        }))
}

#[derive(Debug, thiserror::Error)]
pub enum SaveTokenError {
    #[error("cannot seal the token: {0}")]
    Seal(#[from] handoff_store::sealed::SealError),
    #[error(transparent)]
    Store(#[from] handoff_store::StoreError),
}

/// Stores a token an admin just obtained by connecting the account, over whatever was
/// stored, with their activity entry; every process picks it up within [`RECHECK`].
pub async fn save_connected_token(
    store: &Store,
    sealer: &Sealer,
    connection: &str,
    granted: &GrantedToken,
    entry: &handoff_domain::people::NewActivity,
) -> Result<(), SaveTokenError> {
    let sealed = Sealed {
        access_token: granted.access_token.expose_secret().to_owned(),
        refresh_token: granted.refresh_token.as_ref().map(|r| r.expose_secret().to_owned()),
        instance_url: granted.instance_url.clone(),
    };
    let json = SecretString::from(serde_json::to_string(&sealed).map_err(|e| handoff_store::StoreError::Corrupt(e.to_string()))?);
    let sealed = sealer.seal(&purpose_of(connection), &json)?;
    let expires_at = granted
        .expires_in
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .map(|d| Utc::now() + d);
    store.replace_connection_token(connection, &sealed, expires_at, entry).await?;
    Ok(())
}

pub struct DbTokenProvider {
    connection: String,
    store: Store,
    sealer: Arc<Sealer>,
    grant: Box<dyn TokenGrant>,
    /// Identifies this process as a lease holder.
    holder: String,
    /// The refresh token to start from when the database has none yet (configured).
    initial_refresh_token: Option<SecretString>,
    current: Mutex<Option<Current>>,
}

impl DbTokenProvider {
    pub fn new(
        connection: &str,
        store: Store,
        sealer: Arc<Sealer>,
        grant: Box<dyn TokenGrant>,
        initial_refresh_token: Option<SecretString>,
    ) -> Self {
        Self {
            connection: connection.to_owned(),
            store,
            sealer,
            grant,
            holder: uuid::Uuid::now_v7().to_string(),
            initial_refresh_token,
            current: Mutex::new(None),
        }
    }

    fn purpose(&self) -> String {
        purpose_of(&self.connection)
    }

    async fn load(&self) -> Result<Stored, TokenError> {
        let stored = self
            .store
            .connection_token(&self.connection)
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let Some(row) = stored else { return Ok(Stored::Absent) };
        let Some(sealed) = open_row(&self.sealer, &self.connection, &row.sealed) else {
            return Ok(Stored::Unreadable { version: row.version });
        };
        let mut token = AccessToken::new(SecretString::from(sealed.access_token));
        token.instance_url = sealed.instance_url;
        token.expires_at = row.expires_at.map(SystemTime::from);
        Ok(Stored::Readable(Current {
            token,
            refresh_token: sealed.refresh_token.map(SecretString::from),
            version: Some(row.version),
            checked_at: std::time::Instant::now(),
        }))
    }

    /// Gets a new token from the grant and stores it over `stored`; `None` if another
    /// process stored one first (the caller then reloads).
    async fn renew(&self, stored: &Stored) -> Result<Option<Current>, TokenError> {
        let previous = stored.readable();
        let refresh = previous
            .and_then(|p| p.refresh_token.clone())
            .or_else(|| self.initial_refresh_token.clone());
        let unreadable = matches!(stored, Stored::Unreadable { .. });
        if unreadable {
            tracing::warn!(
                connection = %self.connection,
                "the stored CRM token cannot be decrypted with this master key (was HANDOFF_MASTER_KEY changed?); getting a new one"
            );
            if self.grant.needs_refresh_token() && refresh.is_none() {
                return Err(TokenError::Rejected(format!(
                    "the stored token of connection `{}` cannot be decrypted with this master key (was HANDOFF_MASTER_KEY changed?) and its refresh token went with it: reconnect the account",
                    self.connection
                )));
            }
        }
        let granted = match self.grant.fetch(refresh.as_ref()).await {
            Err(TokenError::Rejected(e)) if unreadable && self.grant.needs_refresh_token() => {
                return Err(TokenError::Rejected(format!(
                    "the stored token of connection `{}` cannot be decrypted with this master key and the configured refresh token was refused ({e}): reconnect the account",
                    self.connection
                )));
            }
            other => other?,
        };
        let mut token = AccessToken::new(granted.access_token.clone());
        token.instance_url = granted
            .instance_url
            .clone()
            .or_else(|| previous.and_then(|p| p.token.instance_url.clone()));
        token.expires_at = granted.expires_in.map(|d| SystemTime::now() + d);
        let refresh_token = granted.refresh_token.or(refresh);
        let sealed = Sealed {
            access_token: granted.access_token.expose_secret().to_owned(),
            refresh_token: refresh_token.as_ref().map(|r| r.expose_secret().to_owned()),
            instance_url: token.instance_url.clone(),
        };
        let json = SecretString::from(serde_json::to_string(&sealed).map_err(|e| TokenError::Unavailable(e.to_string()))?);
        let sealed = self
            .sealer
            .seal(&self.purpose(), &json)
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let expires_at = token.expires_at.map(DateTime::<Utc>::from);
        let expected = match stored {
            Stored::Absent => None,
            Stored::Readable(p) => p.version,
            Stored::Unreadable { version } => Some(*version),
        };
        let written = self
            .store
            .put_connection_token(&self.connection, &sealed, expires_at, expected)
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        Ok(written.then(|| Current {
            token,
            refresh_token,
            version: expected.map_or(Some(1), |v| Some(v + 1)),
            checked_at: std::time::Instant::now(),
        }))
    }

    /// Replaces `rejected` (or an expired/missing token) with a fresh one, coordinating
    /// with other processes through the lease.
    async fn replace(&self, rejected: Option<&AccessToken>) -> Result<AccessToken, TokenError> {
        let mut current = self.current.lock().await;
        // Another caller in this process may have replaced it while we waited.
        if let Some(c) = current.as_ref()
            && c.usable_in_memory(rejected)
        {
            return Ok(c.token.clone());
        }
        let deadline = tokio::time::Instant::now() + WAIT_FOR_OTHER;
        loop {
            // Another process may have stored a newer token.
            let stored = self.load().await?;
            if let Some(s) = stored.readable()
                && usable(&s.token, rejected)
            {
                *current = Some(s.clone());
                return Ok(s.token.clone());
            }
            let lease = format!("token:{}", self.connection);
            let got = self
                .store
                .acquire_lease(&lease, &self.holder, LEASE)
                .await
                .map_err(|e| TokenError::Unavailable(e.to_string()))?;
            if got {
                // Someone may have refreshed between our read and taking the lease (and
                // released it since): read again under the lease before refreshing.
                let latest = match self.load().await {
                    Ok(latest) => latest,
                    Err(e) => {
                        let _ = self.store.release_lease(&lease, &self.holder).await;
                        return Err(e);
                    }
                };
                if let Some(l) = latest.readable()
                    && usable(&l.token, rejected)
                {
                    let _ = self.store.release_lease(&lease, &self.holder).await;
                    *current = Some(l.clone());
                    return Ok(l.token.clone());
                }
                let renewed = self.renew(&latest).await;
                let _ = self.store.release_lease(&lease, &self.holder).await;
                match renewed? {
                    Some(fresh) => {
                        let token = fresh.token.clone();
                        *current = Some(fresh);
                        return Ok(token);
                    }
                    // Lost a race with another writer: loop and take theirs.
                    None => continue,
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(TokenError::Unavailable(
                    "another process holds the token refresh and has not finished".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A token is usable if it is not the rejected one and not about to expire.
fn usable(token: &AccessToken, rejected: Option<&AccessToken>) -> bool {
    let fresh = token.expires_at.is_none_or(|t| t > SystemTime::now() + EXPIRY_MARGIN);
    fresh && !rejected.is_some_and(|r| r.same_as(token))
}

impl TokenProvider for DbTokenProvider {
    fn token(&self) -> BoxFuture<'_, Result<AccessToken, TokenError>> {
        Box::pin(async move {
            if let Some(c) = self.current.lock().await.as_ref()
                && c.usable_in_memory(None)
            {
                return Ok(c.token.clone());
            }
            self.replace(None).await
        })
    }

    fn refresh<'a>(&'a self, rejected: &'a AccessToken) -> BoxFuture<'a, Result<AccessToken, TokenError>> {
        Box::pin(self.replace(Some(rejected)))
    }
}
