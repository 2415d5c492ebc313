//! Signing in and out. An invitation link (`GET /invite/{token}`) only shows a page;
//! its button (`POST`, the token in the path) uses the link and starts a session, so a
//! mail scanner that fetches links does not burn them. A link that no longer works
//! leads to a form asking for a fresh one, which answers the same whether or not the
//! address is known.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, Utc};
use serde::{Deserialize, Serialize};

use super::pages::render;
use super::session::CsrfForm;
use super::session::{COOKIE, Customer};
use crate::WebState;
use crate::csrf::{NoFields, same_site};
use crate::page_error::{PageError, PageResult};
use handoff_domain::{Email, ProjectId};
use handoff_engine::invite::token_hash;
use handoff_store::{LinkProblem, NewSession};

/// Invitation tokens are 32 random bytes, base64url without padding.
fn well_formed_token(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Serialize)]
struct SignInPage<'a> {
    heading: &'a str,
    problem: Option<&'a str>,
    next: &'a str,
}

fn problem_text(problem: LinkProblem) -> &'static str {
    match problem {
        LinkProblem::Used => "This sign-in link was already used. Each link works once.",
        LinkProblem::Expired => "This sign-in link has expired.",
        LinkProblem::Revoked => "This sign-in link was withdrawn by the project team.",
        LinkProblem::Unknown | LinkProblem::NoAccess => "This sign-in link does not work.",
    }
}

/// The page for a link that does not sign in: why, and the fresh-link form.
fn link_problem_page(state: &WebState, problem: LinkProblem) -> PageResult<Response> {
    let page = SignInPage {
        heading: "This link no longer works",
        problem: Some(problem_text(problem)),
        next: "",
    };
    let mut response = render(state, "sign_in.html", "Sign-in link", None, &page)?;
    *response.status_mut() = StatusCode::GONE;
    Ok(response)
}

/// `GET /invite/{token}`: the confirmation page. Reads, never writes.
pub(super) async fn confirm_page(State(state): State<WebState>, Path(token): Path<String>) -> PageResult<Response> {
    if !well_formed_token(&token) {
        return link_problem_page(&state, LinkProblem::Unknown);
    }
    match state.store.check_invitation(&token_hash(&token), Utc::now()).await? {
        Ok(invitation) => {
            #[derive(Serialize)]
            struct Confirm<'a> {
                project_name: &'a str,
                email: &'a str,
                token: &'a str,
            }
            let page = Confirm {
                project_name: &invitation.project_name,
                email: &invitation.email,
                token: &token,
            };
            let mut response = render(&state, "invite.html", "Sign in", None, &page)?;
            // The token is in this page's URL: no search engine, no referrer.
            response
                .headers_mut()
                .insert("x-robots-tag", HeaderValue::from_static("noindex, nofollow"));
            Ok(response)
        }
        Err(problem) => link_problem_page(&state, problem),
    }
}

/// `POST /invite/{token}`: uses the link, starts a new session (ending any the browser
/// had) and lands in the invitation's project.
pub(super) async fn sign_in(State(state): State<WebState>, headers: HeaderMap, Path(token): Path<String>) -> PageResult<Response> {
    if !same_site(&headers) {
        return Err(PageError::Forbidden);
    }
    if !well_formed_token(&token) {
        return link_problem_page(&state, LinkProblem::Unknown);
    }
    let now = Utc::now();
    let id = crate::cookie::new_id()?;
    let id_hash = token_hash(secrecy::ExposeSecret::expose_secret(&id));
    let replacing = COOKIE
        .read(&headers, &state)
        .map(|old| token_hash(secrecy::ExposeSecret::expose_secret(&old)));
    let session = NewSession {
        id_hash: &id_hash,
        now,
        expires_at: now + state.config.portal.session_absolute_timeout,
        replacing: replacing.as_deref(),
    };
    let invitation = match state.store.sign_in_with_invitation(&token_hash(&token), &session).await? {
        Ok(invitation) => invitation,
        Err(problem) => {
            tracing::info!(?problem, "an invitation link was refused");
            return link_problem_page(&state, problem);
        }
    };
    tracing::info!(user = %invitation.user_id, project = %invitation.project_id, "signed in to the portal");
    // Sign-ins are rare: a good moment to forget dead sessions.
    if let Err(e) = state.store.purge_sessions(now, state.config.portal.session_idle_timeout).await {
        tracing::warn!(error = %e, "purging expired portal sessions failed");
    }
    let mut response = Redirect::to(&format!("/projects/{}", invitation.project_id)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        COOKIE.set(&state, &id, state.config.portal.session_absolute_timeout.num_seconds())?,
    );
    Ok(response)
}

#[derive(Deserialize)]
pub(super) struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
}

/// Only paths into the portal's projects are followed after sign-in: never another
/// site (`//evil.example`), never an arbitrary page.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/projects") && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "",
    }
}

/// The project a `next` path is in, if any.
fn project_of(next: &str) -> Option<ProjectId> {
    next.strip_prefix("/projects/")?.split(['/', '?', '#']).next()?.parse().ok()
}

/// `GET /sign-in`: how to sign in, and the fresh-link form.
pub(super) async fn help_page(State(state): State<WebState>, who: Option<Customer>, Query(q): Query<SignInQuery>) -> PageResult<Response> {
    let page = SignInPage {
        heading: "Sign in",
        problem: None,
        next: safe_next(q.next.as_deref()),
    };
    render(&state, "sign_in.html", "Sign in", who.as_ref(), &page)
}

#[derive(Deserialize)]
pub(super) struct LinkRequestForm {
    email: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /sign-in/link`: emails a fresh link to a known member. The answer is the same
/// page whether the address is known, unknown or rate-limited.
pub(super) async fn request_link(
    State(state): State<WebState>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LinkRequestForm>,
) -> PageResult<Response> {
    if !same_site(&headers) {
        return Err(PageError::Forbidden);
    }
    let Ok(email) = Email::parse(form.email.trim()) else {
        let page = SignInPage {
            heading: "Sign in",
            problem: Some("Please enter a valid email address, such as name@example.com."),
            next: safe_next(form.next.as_deref()),
        };
        let mut response = render(&state, "sign_in.html", "Sign in", None, &page)?;
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(response);
    };
    let preferred = project_of(safe_next(form.next.as_deref()));
    state.engine.request_fresh_link(&email, preferred).await?;
    #[derive(Serialize)]
    struct Sent<'a> {
        email: &'a str,
        validity: String,
    }
    let page = Sent {
        email: email.as_str(),
        validity: human(state.config.portal.invitation_validity),
    };
    render(&state, "link_sent.html", "Check your email", None, &page)
}

/// `POST /sign-out`: ends the session and forgets the cookie.
pub(super) async fn sign_out(State(state): State<WebState>, form: CsrfForm<NoFields>) -> PageResult<Response> {
    state.store.end_session(&form.who.id_hash()).await?;
    tracing::info!(user = %form.who.user.id, "signed out of the portal");
    let mut response = Redirect::to("/sign-in").into_response();
    response.headers_mut().append(header::SET_COOKIE, COOKIE.clear(&state));
    Ok(response)
}

/// "7 days", "12 hours", "30 minutes".
fn human(d: Duration) -> String {
    let (n, unit) = if d.num_days() > 0 && d == Duration::days(d.num_days()) {
        (d.num_days(), "day")
    } else if d.num_hours() > 0 && d == Duration::hours(d.num_hours()) {
        (d.num_hours(), "hour")
    } else {
        (d.num_minutes().max(1), "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_portal_project_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/projects/abc?filter=mine")), "/projects/abc?filter=mine");
        for bad in ["//evil.example/projects", "https://evil.example", "/admin", "/projects\\..\\x", ""] {
            assert_eq!(safe_next(Some(bad)), "", "{bad}");
        }
        let id = ProjectId::new();
        assert_eq!(project_of(&format!("/projects/{id}/tasks/kickoff")), Some(id));
        assert_eq!(project_of(&format!("/projects/{id}?filter=mine")), Some(id));
        assert_eq!(project_of("/projects"), None);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human(Duration::days(7)), "7 days");
        assert_eq!(human(Duration::hours(1)), "1 hour");
        assert_eq!(human(Duration::minutes(90)), "90 minutes");
    }
}
