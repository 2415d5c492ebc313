//! Console sessions: their own cookie (`handoff_console`) and their own table, so a
//! customer's portal session never opens the console. [`Staff`] is the extractor for
//! "the signed-in staff member"; [`Admin`] also requires the admin role. Pages take
//! one of them and cannot forget to check.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};

use crate::WebState;
use crate::cookie::SessionCookie;
use crate::page_error::PageError;
use handoff_domain::UserId;
use handoff_domain::people::StaffRole;
use handoff_engine::invite::token_hash;
use handoff_store::StaffAccount;

/// The console's session cookie.
pub(super) const COOKIE: SessionCookie = crate::cookie::CONSOLE;
/// Where a signed-out visitor of the console is sent.
pub(super) const SIGN_IN: &str = "/console/sign-in";

/// The signed-in staff member.
#[derive(Clone)]
pub struct Staff {
    pub account: StaffAccount,
    session_secret: Arc<SecretString>,
}

impl std::fmt::Debug for Staff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staff").field("user", &self.account.user.id).finish_non_exhaustive()
    }
}

impl Staff {
    pub fn id(&self) -> UserId {
        self.account.user.id
    }

    pub fn is_admin(&self) -> bool {
        self.account.role == StaffRole::Admin
    }

    /// The token the session's forms carry (see [`crate::csrf`]).
    pub fn csrf_token(&self) -> String {
        crate::form_token::token_for(&self.session_secret)
    }

    pub(super) fn id_hash(&self) -> String {
        token_hash(self.session_secret.expose_secret())
    }
}

impl crate::csrf::FormSession for Staff {
    fn session_secret(&self) -> &SecretString {
        &self.session_secret
    }
}

/// A form posted by the signed-in staff member with the right token.
pub type StaffForm<T> = crate::csrf::SessionForm<Staff, T>;

impl FromRequestParts<WebState> for Staff {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, PageError> {
        if let Some(found) = parts.extensions.get::<Staff>() {
            return Ok(found.clone());
        }
        let next = matches!(parts.method, Method::GET | Method::HEAD)
            .then(|| parts.uri.path_and_query().map(|pq| pq.as_str().to_owned()))
            .flatten();
        let Some(secret) = COOKIE.read(&parts.headers, state) else {
            return Err(PageError::SignedOut {
                sign_in: SIGN_IN,
                next,
                clear_cookie: None,
            });
        };
        let idle = state.config.portal.session_idle_timeout;
        let Some(session) = state
            .store
            .live_console_session(&token_hash(secret.expose_secret()), Utc::now(), idle)
            .await?
        else {
            return Err(PageError::SignedOut {
                sign_in: SIGN_IN,
                next,
                clear_cookie: Some(COOKIE.clear(state)),
            });
        };
        let staff = Staff {
            account: session.staff,
            session_secret: Arc::new(secret),
        };
        parts.extensions.insert(staff.clone());
        Ok(staff)
    }
}

/// `Option<Staff>`: pages anyone may see (sign-in) know who is signed in.
impl OptionalFromRequestParts<WebState> for Staff {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Option<Self>, PageError> {
        match <Staff as FromRequestParts<WebState>>::from_request_parts(parts, state).await {
            Ok(s) => Ok(Some(s)),
            Err(PageError::SignedOut { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The signed-in staff member, who must be an admin; others get 403.
#[derive(Clone, Debug)]
pub struct Admin(pub Staff);

impl FromRequestParts<WebState> for Admin {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, PageError> {
        let staff = <Staff as FromRequestParts<WebState>>::from_request_parts(parts, state).await?;
        if !staff.is_admin() {
            return Err(PageError::NotAllowed("Only admins can open this page.".into()));
        }
        Ok(Admin(staff))
    }
}

impl crate::csrf::FormSession for Admin {
    fn session_secret(&self) -> &SecretString {
        &self.0.session_secret
    }
}

/// A form posted by a signed-in admin with the right token; staff get 403.
pub type AdminForm<T> = crate::csrf::SessionForm<Admin, T>;
