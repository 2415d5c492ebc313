//! Tokens: OAuth authorization codes, access and refresh tokens, and private-app tokens.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::faults::FaultControl;
use crate::util::{lock, opaque_token};

/// Scopes the sandbox grants, whatever was asked for (it does not enforce scopes).
pub const SCOPES: [&str; 6] = [
    "oauth",
    "crm.objects.contacts.read",
    "crm.objects.contacts.write",
    "crm.objects.deals.read",
    "crm.objects.deals.write",
    "crm.objects.companies.read",
];

/// Who is calling, once a bearer token checks out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    PrivateApp {
        token: String,
    },
    /// `grant` identifies the app installation; refreshed tokens share it (and its rate limit).
    OAuth {
        grant: u64,
    },
}

impl Principal {
    pub fn limit_key(&self) -> String {
        match self {
            Principal::PrivateApp { token } => format!("pat:{token}"),
            Principal::OAuth { grant } => format!("oauth:{grant}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    Missing,
    Invalid,
    Revoked,
    Expired { ago: Duration },
}

/// Why a token request failed; rendered as HubSpot's OAuth error body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    BadClientId,
    BadClientSecret,
    BadAuthCode,
    BadRedirectUri,
    BadRefreshToken,
    UnsupportedGrant,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: u64,
}

#[derive(Debug, Clone)]
struct AccessToken {
    grant: u64,
    issued: Instant,
    expires: Instant,
}

#[derive(Debug, Clone)]
struct Code {
    grant: u64,
    redirect_uri: String,
}

#[derive(Debug, Default)]
struct State {
    codes: HashMap<String, Code>,
    access: HashMap<String, AccessToken>,
    /// Refresh token → (installation, issued).
    refresh: HashMap<String, (u64, Instant)>,
    next_grant: u64,
}

#[derive(Debug)]
pub struct Tokens {
    state: Mutex<State>,
    private: HashSet<String>,
    ttl: Duration,
}

impl Tokens {
    pub fn new(private: &[String], ttl: Duration) -> Self {
        Self {
            state: Mutex::new(State::default()),
            private: private.iter().cloned().collect(),
            ttl,
        }
    }

    /// The authorize step: the sandbox approves at once and hands out a one-time code.
    pub fn issue_code(&self, redirect_uri: &str) -> String {
        let mut s = lock(&self.state);
        s.next_grant += 1;
        let code = opaque_token("code");
        let grant = s.next_grant;
        s.codes.insert(
            code.clone(),
            Code {
                grant,
                redirect_uri: redirect_uri.to_string(),
            },
        );
        code
    }

    pub fn exchange_code(&self, code: &str, redirect_uri: &str) -> Result<TokenPair, OAuthError> {
        let mut s = lock(&self.state);
        let c = s.codes.get(code).cloned().ok_or(OAuthError::BadAuthCode)?;
        if c.redirect_uri != redirect_uri {
            return Err(OAuthError::BadRedirectUri);
        }
        s.codes.remove(code);
        let refresh = opaque_token("sandbox-refresh");
        s.refresh.insert(refresh.clone(), (c.grant, Instant::now()));
        Ok(self.mint(&mut s, c.grant, refresh))
    }

    pub fn refresh(&self, refresh_token: &str, faults: &FaultControl) -> Result<TokenPair, OAuthError> {
        let mut s = lock(&self.state);
        let (grant, issued) = *s.refresh.get(refresh_token).ok_or(OAuthError::BadRefreshToken)?;
        if faults.invalidates(refresh_token, issued, false) {
            return Err(OAuthError::BadRefreshToken);
        }
        Ok(self.mint(&mut s, grant, refresh_token.to_string()))
    }

    pub fn delete_refresh(&self, refresh_token: &str) -> bool {
        lock(&self.state).refresh.remove(refresh_token).is_some()
    }

    fn mint(&self, s: &mut State, grant: u64, refresh_token: String) -> TokenPair {
        let access_token = opaque_token("sandbox-access");
        let now = Instant::now();
        s.access.insert(
            access_token.clone(),
            AccessToken {
                grant,
                issued: now,
                expires: now + self.ttl,
            },
        );
        TokenPair {
            access_token,
            refresh_token,
            expires_in: self.ttl.as_secs(),
        }
    }

    /// Checks a bearer token.
    pub fn check(&self, token: &str, faults: &FaultControl) -> Result<Principal, AuthError> {
        if token.is_empty() {
            return Err(AuthError::Missing);
        }
        if faults.is_revoked(token) {
            return Err(AuthError::Revoked);
        }
        if self.private.contains(token) {
            return Ok(Principal::PrivateApp { token: token.to_string() });
        }
        let s = lock(&self.state);
        let t = s.access.get(token).ok_or(AuthError::Invalid)?;
        // Revoking every token (the app uninstalled) leaves private-app tokens alone.
        if faults.invalidates(token, t.issued, false) {
            return Err(AuthError::Revoked);
        }
        let now = Instant::now();
        let forced = faults.expired_before().filter(|cut| t.issued <= *cut);
        if let Some(cut) = forced {
            return Err(AuthError::Expired {
                ago: now.saturating_duration_since(cut),
            });
        }
        if now >= t.expires {
            return Err(AuthError::Expired {
                ago: now.saturating_duration_since(t.expires),
            });
        }
        Ok(Principal::OAuth { grant: t.grant })
    }

    /// Seconds an access token has left, for the token-info endpoint.
    pub fn expires_in(&self, token: &str) -> Option<u64> {
        let s = lock(&self.state);
        let t = s.access.get(token)?;
        Some(t.expires.saturating_duration_since(Instant::now()).as_secs())
    }

    pub fn revoke_access(&self, token: &str) -> bool {
        lock(&self.state).access.remove(token).is_some()
    }

    pub fn is_refresh_token(&self, token: &str) -> bool {
        lock(&self.state).refresh.contains_key(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::faults::Faults;

    #[test]
    fn a_code_is_exchanged_once_and_refresh_keeps_the_installation() {
        let f = FaultControl::new(&Faults::default());
        let t = Tokens::new(&[], Duration::from_secs(60));
        let code = t.issue_code("http://localhost/cb");
        assert_eq!(t.exchange_code(&code, "http://other/cb"), Err(OAuthError::BadRedirectUri));
        let pair = t.exchange_code(&code, "http://localhost/cb").unwrap();
        assert_eq!(t.exchange_code(&code, "http://localhost/cb"), Err(OAuthError::BadAuthCode));
        let again = t.refresh(&pair.refresh_token, &f).unwrap();
        assert_eq!(t.check(&pair.access_token, &f), t.check(&again.access_token, &f));
    }

    #[test]
    fn forced_expiry_and_revocation_reject_tokens() {
        let f = FaultControl::new(&Faults::default());
        let t = Tokens::new(&["pat".into()], Duration::from_secs(60));
        let code = t.issue_code("cb");
        let pair = t.exchange_code(&code, "cb").unwrap();
        f.expire_access_tokens();
        assert!(matches!(t.check(&pair.access_token, &f), Err(AuthError::Expired { .. })));
        f.revoke_token("pat");
        assert_eq!(t.check("pat", &f), Err(AuthError::Revoked));
        assert_eq!(t.check("", &f), Err(AuthError::Missing));
    }
}
