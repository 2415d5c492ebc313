//! Form tokens against cross-site request forgery.
//!
//! A session's token is an HMAC of a fixed label keyed with the session's secret id:
//! per session, unguessable without the cookie, nothing to store, and a new one at
//! every sign-in (the id changes). It travels in a hidden `csrf` field and is compared
//! in constant time. Requests a browser marks `Sec-Fetch-Site: cross-site` are refused
//! as well, which also covers the forms used before there is a session.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use secrecy::SecretString;

use crate::WebState;
use crate::form_token::verify;
use crate::page_error::PageError;

/// A signed-in person whose session keys the form token: the portal's customer, the
/// console's staff member. Signed out, its extractor rejects with `PageError::SignedOut`.
pub trait FormSession: FromRequestParts<WebState, Rejection = PageError> + Send {
    /// The session's secret id, which keys its form token.
    fn session_secret(&self) -> &SecretString;
}

/// The largest form body a form without uploads has any reason to send.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// False when the browser says the request comes from another site. Browsers that do
/// not send `Sec-Fetch-Site` (and non-browsers) pass; the form token still protects
/// signed-in forms. `Origin` is not compared with the base URL on purpose: a
/// deployment reached under another host name (localhost for 127.0.0.1) must work.
pub fn same_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| !v.eq_ignore_ascii_case("cross-site"))
}

/// A form posted by the signed-in `S` with the right token: the extractor every
/// state-changing page handler takes, so none can forget the check. `T` is the rest
/// of the form (unknown fields, the token included, are ignored).
///
/// Without a session: to sign-in. Without the token, with a wrong one or from another
/// site: 403, before the handler runs, so nothing changes.
pub struct SessionForm<S, T> {
    pub who: S,
    pub form: T,
}

impl<S: FormSession, T: DeserializeOwned + Send> FromRequest<WebState> for SessionForm<S, T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &WebState) -> Result<Self, PageError> {
        let (mut parts, body) = request.into_parts();
        let who = signed_in_for_post::<S>(&mut parts, state).await?;
        if !same_site(&parts.headers) {
            return Err(PageError::Forbidden);
        }
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| PageError::BadRequest("the form is too large".into()))?;
        let presented = url::form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.into_owned());
        if !presented.is_some_and(|t| verify(who.session_secret(), &t)) {
            // The route template, not the path: no path of this log line may carry a token.
            let route = parts
                .extensions
                .get::<axum::extract::MatchedPath>()
                .map_or("(no route)", axum::extract::MatchedPath::as_str);
            tracing::info!(route, "a form without a valid token was refused");
            return Err(PageError::Forbidden);
        }
        let request = Request::from_parts(parts, axum::body::Body::from(bytes));
        let axum::Form(form) = axum::Form::<T>::from_request(request, state)
            .await
            .map_err(|e| PageError::BadRequest(e.body_text()))?;
        Ok(SessionForm { who, form })
    }
}

/// The person behind a POST. A signed-out POST is sent to sign-in without a way back
/// (going back would be a GET of a POST-only URL).
async fn signed_in_for_post<S: FormSession>(parts: &mut Parts, state: &WebState) -> Result<S, PageError> {
    match S::from_request_parts(parts, state).await {
        Err(PageError::SignedOut { sign_in, clear_cookie, .. }) => Err(PageError::SignedOut {
            sign_in,
            next: None,
            clear_cookie,
        }),
        other => other,
    }
}

/// A form with no fields besides the token.
#[derive(Debug, serde::Deserialize)]
pub struct NoFields {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_requests_marked_cross_site_are_refused() {
        let mut h = HeaderMap::new();
        assert!(same_site(&h));
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(same_site(&h));
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_site(&h));
    }
}
