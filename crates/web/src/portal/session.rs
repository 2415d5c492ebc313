//! Portal sessions: a 256-bit random id in an HttpOnly, SameSite=Lax cookie (Secure and
//! `__Host-` prefixed when the base URL is https), of which the database keeps only the
//! SHA-256. [`Customer`] is the extractor for "the signed-in person"; pages take it
//! and cannot forget to check.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use base64::Engine;
use chrono::Utc;
use ring::rand::{SecureRandom, SystemRandom};
use secrecy::{ExposeSecret, SecretString};

use crate::WebState;
use crate::page_error::{PageError, PageResult};
use handoff_domain::ProjectId;
use handoff_domain::people::{ProjectRole, User};
use handoff_engine::invite::token_hash;
use handoff_store::ProjectAccess;

/// A session id: 32 random bytes, base64url without padding.
const ID_LEN: usize = 43;

/// The signed-in person. Extracting it checks the session cookie against the store
/// (idle and absolute timeouts included); without a live session the request is sent
/// to the sign-in help page and, for a page, back afterwards.
#[derive(Clone)]
pub struct Customer {
    pub user: User,
    pub(super) session_secret: Arc<SecretString>,
    /// The projects they may see, read with the session (one query for both).
    projects: Arc<[ProjectAccess]>,
}

impl std::fmt::Debug for Customer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Customer").field("user", &self.user.id).finish_non_exhaustive()
    }
}

impl Customer {
    /// The token the session's forms carry (see [`super::csrf`]).
    pub fn csrf_token(&self) -> String {
        super::form_token::token_for(&self.session_secret)
    }

    /// The person's role in `project`, or not found — for projects they do not belong
    /// to, Drafts, archived projects and ids that do not exist alike. Every project
    /// page starts here.
    pub fn role_in(&self, project: ProjectId) -> PageResult<ProjectRole> {
        Ok(self.access(project)?.role)
    }

    /// [`Customer::role_in`] with the project's page version, as of this request's
    /// session check.
    pub fn access(&self, project: ProjectId) -> PageResult<ProjectAccess> {
        self.projects
            .iter()
            .find(|a| a.project == project)
            .copied()
            .ok_or(PageError::NotFound)
    }

    pub(super) fn id_hash(&self) -> String {
        token_hash(self.session_secret.expose_secret())
    }
}

impl FromRequestParts<WebState> for Customer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, PageError> {
        if let Some(found) = parts.extensions.get::<Customer>() {
            return Ok(found.clone());
        }
        let next = matches!(parts.method, Method::GET | Method::HEAD)
            .then(|| parts.uri.path_and_query().map(|pq| pq.as_str().to_owned()))
            .flatten();
        let Some(secret) = read_cookie(&parts.headers, cookie_name(state)) else {
            return Err(PageError::SignedOut { next, clear_cookie: None });
        };
        let idle = state.config.portal.session_idle_timeout;
        let Some(session) = state
            .store
            .live_session(&token_hash(secret.expose_secret()), Utc::now(), idle)
            .await?
        else {
            return Err(PageError::SignedOut {
                next,
                clear_cookie: Some(clear_cookie(state)),
            });
        };
        let customer = Customer {
            user: session.user,
            session_secret: Arc::new(secret),
            projects: session.projects.into(),
        };
        parts.extensions.insert(customer.clone());
        Ok(customer)
    }
}

/// `Option<Customer>`: pages anyone may see (sign-in help) show who is signed in.
impl OptionalFromRequestParts<WebState> for Customer {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Option<Self>, PageError> {
        match <Customer as FromRequestParts<WebState>>::from_request_parts(parts, state).await {
            Ok(c) => Ok(Some(c)),
            Err(PageError::SignedOut { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

fn secure(state: &WebState) -> bool {
    state.config.server.base_url.scheme() == "https"
}

/// `__Host-` makes browsers insist on Secure, Path=/ and no Domain: a sibling
/// subdomain cannot plant or overwrite it. It needs https, so plain http (local use,
/// the demo) uses the bare name.
pub(super) fn cookie_name(state: &WebState) -> &'static str {
    if secure(state) {
        "__Host-handoff_session"
    } else {
        "handoff_session"
    }
}

/// A fresh session id.
pub(super) fn new_session_id() -> PageResult<SecretString> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| PageError::Internal(anyhow::anyhow!("no randomness for a session id")))?;
    Ok(SecretString::from(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// The cookie that carries `id`. It lives as long as the session may (the absolute
/// timeout), so closing the browser does not cost the person another email round trip;
/// the server enforces both timeouts whatever the browser keeps.
pub(super) fn session_cookie(state: &WebState, id: &SecretString) -> PageResult<HeaderValue> {
    let max_age = state.config.portal.session_absolute_timeout.num_seconds();
    let value = format!(
        "{}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        cookie_name(state),
        id.expose_secret(),
        if secure(state) { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).map_err(|e| PageError::Internal(e.into()))
}

/// A cookie that makes the browser forget the session cookie.
pub(super) fn clear_cookie(state: &WebState) -> HeaderValue {
    let value = format!(
        "{}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        cookie_name(state),
        if secure(state) { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("handoff_session=; Path=/; Max-Age=0"))
}

/// The session id the request carries, if it is shaped like one.
pub(super) fn read_cookie(headers: &HeaderMap, name: &str) -> Option<SecretString> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| v.len() == ID_LEN && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
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
