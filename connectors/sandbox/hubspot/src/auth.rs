//! Tokens: OAuth authorization codes, access and refresh tokens, and private-app tokens.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::faults::FaultControl;
use crate::util::{lock, opaque_token};

/// Scopes granted when an authorize request names none (the sandbox does not enforce scopes).
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
    BadCodeVerifier,
    BadRefreshToken,
    UnsupportedGrant,
}

/// `BASE64URL(SHA256(verifier))`, PKCE's S256 transform.
pub fn s256(verifier: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
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
    /// PKCE `code_challenge` (S256) given at authorize.
    challenge: Option<String>,
}

/// An app installation: who approved it and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    pub user_id: u64,
    /// The approving user's email.
    pub user: String,
    pub scopes: Vec<String>,
}

#[derive(Debug, Default)]
struct State {
    codes: HashMap<String, Code>,
    installations: HashMap<u64, Installation>,
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

    /// The authorize step, once the user approved: a one-time code for a new installation.
    pub fn issue_code(&self, redirect_uri: &str, installation: Installation, challenge: Option<String>) -> String {
        let mut s = lock(&self.state);
        s.next_grant += 1;
        let code = opaque_token("code");
        let grant = s.next_grant;
        s.installations.insert(grant, installation);
        s.codes.insert(
            code.clone(),
            Code {
                grant,
                redirect_uri: redirect_uri.to_string(),
                challenge,
            },
        );
        code
    }

    /// Exchanges a code once. A wrong redirect URL leaves the code usable; a wrong PKCE
    /// verifier uses it up.
    pub fn exchange_code(&self, code: &str, redirect_uri: &str, verifier: Option<&str>) -> Result<TokenPair, OAuthError> {
        let mut s = lock(&self.state);
        let c = s.codes.get(code).cloned().ok_or(OAuthError::BadAuthCode)?;
        if c.redirect_uri != redirect_uri {
            return Err(OAuthError::BadRedirectUri);
        }
        s.codes.remove(code);
        if let Some(challenge) = &c.challenge
            && verifier.is_none_or(|v| s256(v) != *challenge)
        {
            return Err(OAuthError::BadCodeVerifier);
        }
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

    /// The installation and remaining seconds of an access token.
    pub fn access_info(&self, token: &str) -> Option<(Installation, u64)> {
        let s = lock(&self.state);
        let t = s.access.get(token)?;
        let left = t.expires.saturating_duration_since(Instant::now()).as_secs();
        s.installations.get(&t.grant).map(|i| (i.clone(), left))
    }

    /// The installation of a (not deleted) refresh token.
    pub fn refresh_info(&self, token: &str) -> Option<Installation> {
        let s = lock(&self.state);
        let (grant, _) = s.refresh.get(token)?;
        s.installations.get(grant).cloned()
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

    fn ava() -> Installation {
        Installation {
            user_id: 91_000_001,
            user: "ava.lindqvist@sandbox.example.com".into(),
            scopes: vec!["oauth".into()],
        }
    }

    #[test]
    fn a_code_is_exchanged_once_and_refresh_keeps_the_installation() {
        let f = FaultControl::new(&Faults::default());
        let t = Tokens::new(&[], Duration::from_secs(60));
        let code = t.issue_code("http://localhost/cb", ava(), None);
        assert_eq!(t.exchange_code(&code, "http://other/cb", None), Err(OAuthError::BadRedirectUri));
        let pair = t.exchange_code(&code, "http://localhost/cb", None).unwrap();
        assert_eq!(t.exchange_code(&code, "http://localhost/cb", None), Err(OAuthError::BadAuthCode));
        let again = t.refresh(&pair.refresh_token, &f).unwrap();
        assert_eq!(t.check(&pair.access_token, &f), t.check(&again.access_token, &f));
    }

    #[test]
    fn forced_expiry_and_revocation_reject_tokens() {
        let f = FaultControl::new(&Faults::default());
        let t = Tokens::new(&["pat".into()], Duration::from_secs(60));
        let code = t.issue_code("cb", ava(), None);
        let pair = t.exchange_code(&code, "cb", None).unwrap();
        f.expire_access_tokens();
        assert!(matches!(t.check(&pair.access_token, &f), Err(AuthError::Expired { .. })));
        f.revoke_token("pat");
        assert_eq!(t.check("pat", &f), Err(AuthError::Revoked));
        assert_eq!(t.check("", &f), Err(AuthError::Missing));
    }
}
