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
}

#[derive(Debug, Clone)]
struct Code {
    user_id: String,
    redirect_uri: String,
    issued: Instant,
}

#[derive(Debug)]
pub struct Tokens {
    ttl: Duration,
    access: Mutex<HashMap<String, Session>>,
    refresh: Mutex<HashMap<String, Session>>,
    codes: Mutex<HashMap<String, Code>>,
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

    fn session(user_id: &str) -> Session {
        Session {
            user_id: user_id.to_string(),
            issued: Instant::now(),
            issued_ms: now_ms(),
        }
    }

    /// A new session id shaped like Salesforce's (`00D…!…`).
    pub fn issue_access(&self, org_id: &str, user_id: &str) -> (String, Session) {
        let token = format!("{}!{}", &org_id[..org_id.len().min(15)], opaque("AQ"));
        let s = Self::session(user_id);
        lock(&self.access).insert(token.clone(), s.clone());
        (token, s)
    }

    pub fn issue_refresh(&self, user_id: &str) -> String {
        let token = opaque("5Aep");
        lock(&self.refresh).insert(token.clone(), Self::session(user_id));
        token
    }

    pub fn issue_code(&self, user_id: &str, redirect_uri: &str) -> String {
        let code = opaque("aPrx");
        let c = Code {
            user_id: user_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            issued: Instant::now(),
        };
        lock(&self.codes).insert(code.clone(), c);
        code
    }

    /// Redeems a code once; the redirect URI must match the one it was issued for.
    pub fn redeem_code(&self, code: &str, redirect_uri: Option<&str>) -> Option<String> {
        let c = lock(&self.codes).remove(code)?;
        let fresh = c.issued.elapsed() < CODE_TTL;
        let same_uri = redirect_uri.is_none_or(|r| r == c.redirect_uri);
        (fresh && same_uri).then_some(c.user_id)
    }

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

    pub fn revoke(&self, token: &str) -> bool {
        let a = lock(&self.access).remove(token).is_some();
        let r = lock(&self.refresh).remove(token).is_some();
        a || r
    }
}
