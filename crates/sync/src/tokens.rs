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
        format!("token:{}", self.connection)
    }

    async fn load(&self) -> Result<Option<Current>, TokenError> {
        let stored = self
            .store
            .connection_token(&self.connection)
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let Some(row) = stored else { return Ok(None) };
        let json = self
            .sealer
            .open(&self.purpose(), &row.sealed)
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        let sealed: Sealed =
            serde_json::from_str(json.expose_secret()).map_err(|e| TokenError::Unavailable(format!("stored token: {e}")))?;
        let mut token = AccessToken::new(SecretString::from(sealed.access_token));
        token.instance_url = sealed.instance_url;
        token.expires_at = row.expires_at.map(SystemTime::from);
        Ok(Some(Current {
            token,
            refresh_token: sealed.refresh_token.map(SecretString::from),
            version: Some(row.version),
        }))
    }

    /// Gets a new token from the grant and stores it; `None` if another process stored
    /// one first (the caller then reloads).
    async fn renew(&self, previous: Option<&Current>) -> Result<Option<Current>, TokenError> {
        let refresh = previous
            .and_then(|p| p.refresh_token.clone())
            .or_else(|| self.initial_refresh_token.clone());
        let granted = self.grant.fetch(refresh.as_ref()).await?;
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
        let expected = previous.and_then(|p| p.version);
        let written = self
            .store
            .put_connection_token(&self.connection, &sealed, expires_at, expected)
            .await
            .map_err(|e| TokenError::Unavailable(e.to_string()))?;
        Ok(written.then(|| Current {
            token,
            refresh_token,
            version: expected.map_or(Some(1), |v| Some(v + 1)),
        }))
    }

    /// Replaces `rejected` (or an expired/missing token) with a fresh one, coordinating
    /// with other processes through the lease.
    async fn replace(&self, rejected: Option<&AccessToken>) -> Result<AccessToken, TokenError> {
        let mut current = self.current.lock().await;
        // Another caller in this process may have replaced it while we waited.
        if let Some(c) = current.as_ref()
            && usable(&c.token, rejected)
        {
            return Ok(c.token.clone());
        }
        let deadline = tokio::time::Instant::now() + WAIT_FOR_OTHER;
        loop {
            // Another process may have stored a newer token.
            let stored = self.load().await?;
            if let Some(s) = &stored
                && usable(&s.token, rejected)
            {
                *current = stored.clone();
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
                if let Some(l) = &latest
                    && usable(&l.token, rejected)
                {
                    let _ = self.store.release_lease(&lease, &self.holder).await;
                    *current = latest.clone();
                    return Ok(l.token.clone());
                }
                let renewed = self.renew(latest.as_ref()).await;
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
                && usable(&c.token, None)
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
