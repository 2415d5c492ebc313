//! Portal sessions: a 256-bit random id in an HttpOnly, SameSite=Lax cookie (Secure and
//! `__Host-` prefixed when the base URL is https), of which the database keeps only the
//! SHA-256. [`Customer`] is the extractor for "the signed-in person"; pages take it
//! and cannot forget to check.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::Method;
use axum::http::request::Parts;
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};

use crate::WebState;
use crate::cookie::SessionCookie;
use crate::page_error::{PageError, PageResult};
use handoff_domain::ProjectId;
use handoff_domain::people::{ProjectRole, User};
use handoff_engine::invite::token_hash;
use handoff_store::ProjectAccess;

/// Where a signed-out customer is sent.
const SIGN_IN: &str = "/sign-in";

/// A form posted by the signed-in customer with the right token (see [`crate::csrf`]).
pub type CsrfForm<T> = crate::csrf::SessionForm<Customer, T>;

impl crate::csrf::FormSession for Customer {
    fn session_secret(&self) -> &SecretString {
        &self.session_secret
    }
}

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
    /// The token the session's forms carry (see [`crate::csrf`]).
    pub fn csrf_token(&self) -> String {
        crate::form_token::token_for(&self.session_secret)
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
            .live_session(&token_hash(secret.expose_secret()), Utc::now(), idle)
            .await?
        else {
            return Err(PageError::SignedOut {
                sign_in: SIGN_IN,
                next,
                clear_cookie: Some(COOKIE.clear(state)),
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

/// The portal's session cookie.
pub(super) const COOKIE: SessionCookie = crate::cookie::PORTAL;
