//! Session cookies: a 256-bit random id in an HttpOnly, SameSite=Lax cookie (Secure and
//! `__Host-` prefixed when the base URL is https), of which the database keeps only the
//! SHA-256. The portal's and the console's sessions each have their own cookie, so a
//! customer's session never opens the console.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

use crate::WebState;
use crate::page_error::{PageError, PageResult};

/// A session id: 32 random bytes, base64url without padding.
const ID_LEN: usize = 43;

/// One area's session cookie: its plain name, and its name under https.
#[derive(Clone, Copy, Debug)]
pub struct SessionCookie {
    name: &'static str,
    host_name: &'static str,
}

/// The portal's session cookie.
pub const PORTAL: SessionCookie = SessionCookie {
    name: "handoff_session",
    host_name: "__Host-handoff_session",
};
/// The console's session cookie: a customer's portal cookie never opens the console.
pub const CONSOLE: SessionCookie = SessionCookie {
    name: "handoff_console",
    host_name: "__Host-handoff_console",
};

impl SessionCookie {
    /// `__Host-` makes browsers insist on Secure, Path=/ and no Domain: a sibling
    /// subdomain cannot plant or overwrite it. It needs https, so plain http (local
    /// use, the demo) uses the bare name.
    pub fn name(&self, state: &WebState) -> &'static str {
        if secure(state) { self.host_name } else { self.name }
    }

    /// The cookie that carries `id`, living `max_age_seconds` (the session's absolute
    /// timeout: closing the browser does not cost another sign-in; the server
    /// enforces both timeouts whatever the browser keeps).
    pub fn set(&self, state: &WebState, id: &SecretString, max_age_seconds: i64) -> PageResult<HeaderValue> {
        let value = format!(
            "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{}",
            self.name(state),
            id.expose_secret(),
            if secure(state) { "; Secure" } else { "" }
        );
        HeaderValue::from_str(&value).map_err(|e| PageError::Internal(e.into()))
    }

    /// A cookie that makes the browser forget this one.
    pub fn clear(&self, state: &WebState) -> HeaderValue {
        let value = format!(
            "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
            self.name(state),
            if secure(state) { "; Secure" } else { "" }
        );
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("handoff_session=; Path=/; Max-Age=0"))
    }

    /// The session id the request carries, if it is shaped like one.
    pub fn read(&self, headers: &HeaderMap, state: &WebState) -> Option<SecretString> {
        read_cookie(headers, self.name(state))
    }
}

fn secure(state: &WebState) -> bool {
    state.config.server.base_url.scheme() == "https"
}

/// A fresh random id: for sessions.
pub fn new_id() -> PageResult<SecretString> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PageError::Internal(anyhow::anyhow!("no randomness for a session id")))?;
    Ok(SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// The value of cookie `name`, if it is shaped like an id ([`new_id`]).
pub fn read_cookie(headers: &HeaderMap, name: &str) -> Option<SecretString> {
    read_shaped(headers, name, ID_LEN..=ID_LEN)
}

/// The value of cookie `name`, if it is shaped like an OAuth `state`: base64url of a
/// length the CRMs' client libraries make (the Salesforce and HubSpot connectors'
/// states are 22 characters, 16 random bytes), never an arbitrary string.
pub fn read_state_cookie(headers: &HeaderMap, name: &str) -> Option<SecretString> {
    read_shaped(headers, name, 16..=128)
}

fn read_shaped(headers: &HeaderMap, name: &str, lengths: std::ops::RangeInclusive<usize>) -> Option<SecretString> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| lengths.contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .map(|v| SecretString::from(v.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn the_session_cookie_is_found_among_others_and_must_be_well_formed() {
        let id = "a".repeat(ID_LEN);
        let found = read_cookie(&headers(&format!("theme=dark; handoff_session={id}; x=y")), "handoff_session");
        assert_eq!(found.map(|s| s.expose_secret().to_owned()), Some(id.clone()));
        assert!(read_cookie(&headers("handoff_session=short"), "handoff_session").is_none());
        assert!(read_cookie(&headers(&format!("handoff_session={}", "a/".repeat(22))), "handoff_session").is_none());
        assert!(read_cookie(&headers(&format!("other={id}")), "handoff_session").is_none());
        assert!(read_cookie(&HeaderMap::new(), "handoff_session").is_none());
    }
}
