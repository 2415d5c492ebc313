//! The pages' one error type (portal and console): every failure of a page request becomes a page here
//! (rendered in the layout by `pages::render_error_pages`) or, when the person is not
//! signed in, a redirect to the sign-in help page. Store errors are mapped once, in
//! the `From` impl; 5xx pages reveal nothing and are logged with their cause.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use handoff_engine::{EngineError, Refusal};
use handoff_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not there, or not the caller's to see: the two are never told apart.
    #[error("not found")]
    NotFound,
    /// No live session: to the area's sign-in page (`sign_in`: the portal's or the
    /// console's), then back to `next` (a local path). `clear_cookie` expires a cookie
    /// that named no live session.
    #[error("signed out")]
    SignedOut {
        sign_in: &'static str,
        next: Option<String>,
        clear_cookie: Option<HeaderValue>,
    },
    /// A state-changing request without the right form token (or from another site).
    #[error("forbidden")]
    Forbidden,
    /// The person may see this but not do it (a viewer changing a task, a member
    /// deciding an approval meant for the company's admins).
    #[error("{0}")]
    NotAllowed(String),
    /// The change is not allowed now (a blocked task, an archived project).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Internal(anyhow::Error),
}

pub type PageResult<T> = Result<T, PageError>;

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { .. } => PageError::NotFound,
            StoreError::Conflict(m) => PageError::Refused(m),
            other => PageError::Internal(other.into()),
        }
    }
}

impl From<EngineError> for PageError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::Store(e) => e.into(),
            // Customers are told what they can act on, in their words.
            EngineError::Refused(Refusal::Blocked { .. }) => PageError::Refused("This task waits for another one to be done first.".into()),
            EngineError::Refused(Refusal::NoMasterKey) => {
                PageError::Refused("Invitations cannot be sent right now. Please try again later.".into())
            }
            EngineError::Refused(r) => PageError::Refused(r.to_string()),
        }
    }
}

/// Set on an error response; `pages::render_error_pages` turns it into the page.
#[derive(Clone, Debug, Serialize)]
pub(super) struct ErrorPage {
    pub heading: &'static str,
    pub message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading, message) = match self {
            PageError::SignedOut {
                sign_in,
                next,
                clear_cookie,
            } => {
                let target = match next {
                    Some(next) => format!(
                        "{sign_in}?next={}",
                        url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
                    ),
                    None => sign_in.to_owned(),
                };
                let mut response = Redirect::to(&target).into_response();
                if let Some(cookie) = clear_cookie {
                    response.headers_mut().append(header::SET_COOKIE, cookie);
                }
                return response;
            }
            PageError::NotFound => (
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing here, or it is not yours to see. Check the address, or go back to your projects.".to_owned(),
            ),
            PageError::Forbidden => (
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form was not accepted, and nothing was changed. Go back, reload the page and try again.".to_owned(),
            ),
            PageError::NotAllowed(m) => (StatusCode::FORBIDDEN, "You cannot do that here", m),
            PageError::Refused(m) => (StatusCode::CONFLICT, "That cannot be done right now", m),
            PageError::BadRequest(m) => (StatusCode::BAD_REQUEST, "Something in the request was not right", m),
            PageError::Internal(cause) => {
                tracing::error!(error = format!("{cause:#}"), "portal request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The page could not be shown. Please try again in a moment.".to_owned(),
                )
            }
        };
        let page = ErrorPage { heading, message };
        let mut response = (status, page.message.clone()).into_response();
        response.extensions_mut().insert(page);
        response
    }
}
