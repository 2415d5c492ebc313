//! Sessions: access tokens (session ids), refresh tokens and authorization codes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::ApiError;
use crate::faults::FaultControl;
use crate::util::{lock, now_ms, opaque};

/// Authorization codes are single-use and short-lived (Salesforce: 15 minutes).
const CODE_TTL: Duration = Duration::from_secs(15 * 60);

/// Who a session belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub user_id: String,
    pub issued: Instant,
    pub issued_ms: i64,
    /// The refresh token this session came from (revoking it ends the session too).
    pub from_refresh: Option<String>,
}

/// What an authorization code stands for, once redeemed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub user_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// The PKCE `code_challenge` given at authorize (S256), if any.
    pub challenge: Option<String>,
    /// The scopes asked for (space-separated; empty = the connected app's defaults).
    pub scope: String,
    issued: Instant,
}

impl Grant {
    pub fn new(user_id: &str, client_id: &str, redirect_uri: &str, challenge: Option<String>, scope: &str) -> Self {
        Self {
            user_id: user_id.to_string(),
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            challenge,
            scope: scope.to_string(),
            issued: Instant::now(),
        }
    }

    pub fn expired(&self) -> bool {
        self.issued.elapsed() >= CODE_TTL
    }
}

#[derive(Debug)]
pub struct Tokens {
    ttl: Duration,
    access: Mutex<HashMap<String, Session>>,
    refresh: Mutex<HashMap<String, Session>>,
    codes: Mutex<HashMap<String, Grant>>,
}

impl Tokens {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            access: Mutex::new(HashMap::new()),
            refresh: Mutex::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
        }
    }

    fn session(user_id: &str, from_refresh: Option<&str>) -> Session {
        Session {
            user_id: user_id.to_string(),
            issued: Instant::now(),
            issued_ms: now_ms(),
            from_refresh: from_refresh.map(str::to_string),
        }
    }

    /// A new session id shaped like Salesforce's (`00D…!…`), minted directly or from a refresh token.
    pub fn issue_access(&self, org_id: &str, user_id: &str, from_refresh: Option<&str>) -> (String, Session) {
        let token = format!("{}!{}", &org_id[..org_id.len().min(15)], opaque("AQ"));
        let s = Self::session(user_id, from_refresh);
        lock(&self.access).insert(token.clone(), s.clone());
        (token, s)
    }

    pub fn issue_refresh(&self, user_id: &str) -> String {
        let token = opaque("5Aep");
        lock(&self.refresh).insert(token.clone(), Self::session(user_id, None));
        token
    }

    pub fn issue_code(&self, grant: Grant) -> String {
        let code = opaque("aPrx");
        lock(&self.codes).insert(code.clone(), grant);
        code
    }

    /// Takes a code out: whatever happens next, it cannot be used again.
    pub fn redeem_code(&self, code: &str) -> Option<Grant> {
        lock(&self.codes).remove(code)
    }

    /// The user of a valid refresh token.
    pub fn check_refresh(&self, token: &str, faults: &FaultControl) -> Option<String> {
        let s = lock(&self.refresh).get(token).cloned()?;
        (!faults.invalidates(token, s.issued, false)).then_some(s.user_id)
    }

    /// The session of a bearer token, or Salesforce's 401 for a missing, unknown, expired or revoked one.
    pub fn check(&self, token: &str, faults: &FaultControl) -> Result<Session, ApiError> {
        let s = lock(&self.access).get(token).cloned().ok_or_else(ApiError::invalid_session)?;
        if s.issued.elapsed() >= self.ttl || faults.invalidates(token, s.issued, true) {
            return Err(ApiError::invalid_session());
        }
        Ok(s)
    }

    /// Revokes an access token, or a refresh token together with every session it minted.
    pub fn revoke(&self, token: &str) -> bool {
        let a = lock(&self.access).remove(token).is_some();
        let r = lock(&self.refresh).remove(token).is_some();
        if r {
            lock(&self.access).retain(|_, s| s.from_refresh.as_deref() != Some(token));
        }
        a || r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Faults;

    #[test]
    fn revoking_a_refresh_token_ends_the_sessions_it_minted() {
        let f = FaultControl::new(&Faults::default());
        let t = Tokens::new(Duration::from_secs(60));
        let refresh = t.issue_refresh("005A");
        let (minted, _) = t.issue_access("00DDn0000000001MAA", "005A", Some(&refresh));
        let (other, _) = t.issue_access("00DDn0000000001MAA", "005A", None);
        assert!(t.revoke(&refresh));
        assert!(t.check(&minted, &f).is_err() && t.check(&other, &f).is_ok());
        assert!(t.check_refresh(&refresh, &f).is_none());
        assert!(!t.revoke(&refresh));
        let code = t.issue_code(Grant::new("005A", "app", "http://localhost/cb", None, ""));
        assert!(t.redeem_code(&code).is_some_and(|g| !g.expired()));
        assert!(t.redeem_code(&code).is_none());
    }
}
