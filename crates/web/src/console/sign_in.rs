//! Signing in to the console: with the CRM (OAuth authorization code against a
//! connection's app; the CRM says who signed in, and the engine matches them to a staff
//! account by CRM user id, then by verified email), or with a link emailed to a staff
//! address (opening it shows a page whose button signs in, so mail scanners that follow
//! links do not use it up). Nobody gets an account by signing in.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::pages::{Section, render};
use super::session::{COOKIE, Staff, StaffForm};
use crate::WebState;
use crate::cookie::read_state_cookie;
use crate::csrf::{NoFields, same_site};
use crate::page_error::{PageError, PageResult};
use handoff_domain::Email;
use handoff_engine::invite::token_hash;
use handoff_engine::staff::StaffMatch;
use handoff_store::{ConsoleLinkProblem, NewConsoleSession, OAuthRequest};
use handoff_sync::sign_in::SignInProvider;

/// The cookie binding an OAuth sign-in to the browser that started it: the callback's
/// `state` must equal it, so a code obtained elsewhere cannot be replayed into
/// someone's browser (login CSRF). Scoped to the callback's path.
pub(super) const OAUTH_COOKIE: &str = "handoff_console_oauth";
/// How long a sign-in may take at the CRM.
pub(super) const OAUTH_VALIDITY: chrono::Duration = chrono::Duration::minutes(10);
const CALLBACK_PATH: &str = "/console/oauth/callback";

#[derive(Serialize)]
struct SignInPage<'a> {
    crms: Vec<CrmButton>,
    next: &'a str,
    problem: Option<&'a str>,
    sent: Option<&'a str>,
}

/// "Sign in with …": a link, not a form. Chromium holds a form's redirects to the
/// page's `form-action 'self'`, so a form that leads on to the CRM's consent page is
/// blocked; a link is a plain navigation.
#[derive(Serialize)]
struct CrmButton {
    connection: String,
    label: &'static str,
    href: String,
}

fn providers(state: &WebState) -> Vec<SignInProvider> {
    state.config.connections.iter().filter_map(SignInProvider::for_connection).collect()
}

/// A local path to go to after signing in; anything else goes to the dashboard.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/console") && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/console",
    }
}

fn sign_in_page(state: &WebState, next: &str, problem: Option<&str>, sent: Option<&str>) -> PageResult<Response> {
    let crms = providers(state)
        .into_iter()
        .map(|p| {
            let query: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("next", next)
                .finish();
            CrmButton {
                href: format!("/console/sign-in/{}?{query}", p.connection()),
                connection: p.connection().to_owned(),
                label: p.label(),
            }
        })
        .collect();
    let body = SignInPage { crms, next, problem, sent };
    render(state, "console/sign_in.html", "Sign in", None, Section::None, &body)
}

#[derive(Deserialize)]
pub(super) struct SignInQuery {
    next: Option<String>,
}

/// `GET /console/sign-in`: the ways in. Signed in already: on to the console.
pub(super) async fn page(State(state): State<WebState>, me: Option<Staff>, Query(q): Query<SignInQuery>) -> PageResult<Response> {
    let next = safe_next(q.next.as_deref());
    if me.is_some() {
        return Ok(Redirect::to(next).into_response());
    }
    sign_in_page(&state, next, None, None)
}

#[derive(Deserialize)]
pub(super) struct EmailForm {
    email: String,
}

/// `POST /console/sign-in/email`: emails a sign-in link to a staff address. It answers
/// the same for any address, so the form tells no one who has an account.
pub(super) async fn request_link(State(state): State<WebState>, headers: HeaderMap, Form(form): Form<EmailForm>) -> PageResult<Response> {
    if !same_site(&headers) {
        return Err(PageError::Forbidden);
    }
    let Ok(email) = Email::parse(&form.email) else {
        let mut page = sign_in_page(&state, "/console", Some("That is not an email address."), None)?;
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return Ok(page);
    };
    state.engine.request_console_link(&email).await?;
    sign_in_page(&state, "/console", None, Some(email.as_str()))
}

/// `GET /console/sign-in/{connection}`: off to the CRM's consent page, with a fresh
/// state kept (as a hash) until the callback, bound to this browser by a cookie.
pub(super) async fn start_crm(
    State(state): State<WebState>,
    Path(connection): Path<String>,
    Query(q): Query<SignInQuery>,
) -> PageResult<Response> {
    let provider = providers(&state)
        .into_iter()
        .find(|p| p.connection() == connection)
        .ok_or(PageError::NotFound)?;
    let start = provider
        .start(&redirect_uri(&state))
        .map_err(|e| PageError::Internal(anyhow::anyhow!("starting a sign-in with {connection}: {e}")))?;
    let sealed_verifier = match &start.pkce_verifier {
        Some(verifier) => {
            let sealer = state.engine.sealer().ok_or_else(|| {
                PageError::Refused("Signing in with the CRM needs a master key (HANDOFF_MASTER_KEY) on this server.".into())
            })?;
            Some(
                sealer
                    .seal(&verifier_purpose(start.state.expose_secret()), verifier)
                    .map_err(|e| PageError::Internal(e.into()))?,
            )
        }
        None => None,
    };
    let request = OAuthRequest {
        purpose: "console_sign_in".into(),
        connection: connection.clone(),
        sealed_verifier,
        next: Some(safe_next(q.next.as_deref()).to_owned()),
        expires_at: Utc::now() + OAUTH_VALIDITY,
    };
    state
        .store
        .save_oauth_request(&token_hash(start.state.expose_secret()), &request)
        .await?;
    let mut response = Redirect::to(start.url.as_str()).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, oauth_cookie(&state, Some(&start.state))?);
    Ok(response)
}

/// The verifier is sealed for its own state, so it opens for no other request.
pub(super) fn verifier_purpose(state: &str) -> String {
    format!("oauth-verifier:{}", token_hash(state))
}

pub(super) fn redirect_uri(state: &WebState) -> String {
    format!("{}{CALLBACK_PATH}", state.config.server.base_url.as_str().trim_end_matches('/'))
}

/// The browser-binding cookie (`None`: the one that clears it).
pub(super) fn oauth_cookie(state: &WebState, value: Option<&SecretString>) -> PageResult<HeaderValue> {
    let secure = state.config.server.base_url.scheme() == "https";
    let (value, max_age) = match value {
        Some(v) => (v.expose_secret().to_owned(), OAUTH_VALIDITY.num_seconds()),
        None => (String::new(), 0),
    };
    let cookie = format!(
        "{OAUTH_COOKIE}={value}; Path={CALLBACK_PATH}; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    HeaderValue::from_str(&cookie).map_err(|e| PageError::Internal(e.into()))
}

#[derive(Deserialize)]
pub(super) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /console/oauth/callback`: the CRM sends the person back with a code. The state
/// must be the one this browser started (single use, unexpired); the CRM then says who
/// signed in, and only a staff account already made for them signs them in.
///
/// The same callback ends an admin's connecting of a CRM account (one redirect URI to
/// register with the CRM's app, not two): a request made for that is handed on.
pub(super) async fn callback(
    State(state): State<WebState>,
    me: Option<Staff>,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> PageResult<Response> {
    let refuse = |status: StatusCode, message: &str| -> PageResult<Response> {
        let mut page = sign_in_page(&state, "/console", Some(message), None)?;
        *page.status_mut() = status;
        page.headers_mut().append(header::SET_COOKIE, oauth_cookie(&state, None)?);
        Ok(page)
    };
    // The state binds the callback to this browser (the cookie) and names the request.
    let request = match q.state.as_deref() {
        Some(oauth_state)
            if read_state_cookie(&headers, OAUTH_COOKIE)
                .is_some_and(|c| bool::from(c.expose_secret().as_bytes().ct_eq(oauth_state.as_bytes()))) =>
        {
            state.store.take_oauth_request(&token_hash(oauth_state)).await?
        }
        _ => None,
    };
    if let Some(request) = request.as_ref().filter(|r| r.purpose == super::connections::PURPOSE) {
        let answer = match (q.error.as_deref(), q.code, q.state.as_deref()) {
            (Some(error), _, _) => Err(q.error_description.as_deref().unwrap_or(error).to_owned()),
            (None, Some(code), Some(oauth_state)) => Ok((SecretString::from(code), oauth_state)),
            _ => Err("the CRM sent no code".to_owned()),
        };
        return super::connections::finish_connect(&state, me, request, answer).await;
    }
    if let Some(error) = q.error.as_deref() {
        let why = q.error_description.as_deref().unwrap_or(error);
        return refuse(StatusCode::BAD_REQUEST, &format!("The CRM did not sign you in: {why}."));
    }
    let (Some(code), Some(oauth_state)) = (q.code, q.state) else {
        return refuse(StatusCode::BAD_REQUEST, "The sign-in came back incomplete. Please start again.");
    };
    let Some(request) = request.filter(|r| r.purpose == "console_sign_in") else {
        tracing::info!("a console sign-in callback with an unknown, used, expired or foreign state was refused");
        return refuse(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired or was not started here. Please start again.",
        );
    };
    let Some(provider) = providers(&state).into_iter().find(|p| p.connection() == request.connection) else {
        return refuse(StatusCode::BAD_REQUEST, "This CRM connection no longer offers sign-in.");
    };
    let verifier = match (&request.sealed_verifier, state.engine.sealer()) {
        (Some(sealed), Some(sealer)) => Some(
            sealer
                .open(&verifier_purpose(&oauth_state), sealed)
                .map_err(|e| PageError::Internal(e.into()))?,
        ),
        (Some(_), None) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "This server can no longer read the sign-in. Please start again.",
            );
        }
        (None, _) => None,
    };
    let identity = match provider
        .finish(&redirect_uri(&state), &SecretString::from(code), verifier.as_ref())
        .await
    {
        Ok(identity) => identity,
        Err(e) => {
            tracing::info!(connection = %request.connection, error = %e, "a console sign-in with the CRM failed");
            return refuse(StatusCode::BAD_REQUEST, &format!("Signing in failed: {e}."));
        }
    };
    let next = safe_next(request.next.as_deref()).to_owned();
    match state.engine.staff_for_identity(&identity).await? {
        StaffMatch::Staff(staff) => {
            let mut response = start_session(&state, &headers, staff.user.id, &provider.method(), &next).await?;
            response.headers_mut().append(header::SET_COOKIE, oauth_cookie(&state, None)?);
            Ok(response)
        }
        StaffMatch::NoAccount => {
            let who = identity
                .email
                .as_ref()
                .map_or_else(|| identity.crm_user_id.clone(), ToString::to_string);
            tracing::info!(connection = %identity.connection, crm_user = %identity.crm_user_id, "a CRM user without a staff account tried to sign in");
            no_account(
                &state,
                "No staff account for you",
                format!(
                    "You signed in to {} as {who} ({} user {}), but handoff has no staff account for that user, so you are not signed in.",
                    provider.label(),
                    provider.label(),
                    identity.crm_user_id
                ),
                identity.email.as_ref().map_or("you@example.com", Email::as_str),
                &format!("{}:{}", identity.connection, identity.crm_user_id),
            )
        }
        StaffMatch::Revoked(staff) => {
            tracing::info!(user = %staff.user.id, "a revoked staff account tried to sign in");
            no_account(
                &state,
                "Your staff account was revoked",
                format!("The staff account of {} was revoked, so you are not signed in.", staff.user.email),
                staff.user.email.as_str(),
                &format!("{}:{}", identity.connection, identity.crm_user_id),
            )
        }
    }
}

#[derive(Serialize)]
struct NoAccount<'a> {
    heading: &'a str,
    message: String,
    example_email: &'a str,
    example_link: &'a str,
}

fn no_account(state: &WebState, heading: &str, message: String, example_email: &str, example_link: &str) -> PageResult<Response> {
    let body = NoAccount {
        heading,
        message,
        example_email,
        example_link,
    };
    let mut page = render(state, "console/no_account.html", heading, None, Section::None, &body)?;
    *page.status_mut() = StatusCode::FORBIDDEN;
    page.headers_mut().append(header::SET_COOKIE, oauth_cookie(state, None)?);
    Ok(page)
}

/// Starts a console session for `user` (ending one the browser had) and goes to `next`.
async fn start_session(
    state: &WebState,
    headers: &HeaderMap,
    user: handoff_domain::UserId,
    method: &str,
    next: &str,
) -> PageResult<Response> {
    let id = crate::cookie::new_id()?;
    let id_hash = token_hash(id.expose_secret());
    let replacing = COOKIE.read(headers, state).map(|old| token_hash(old.expose_secret()));
    let now = Utc::now();
    let session = NewConsoleSession {
        id_hash: &id_hash,
        signed_in_with: method,
        now,
        expires_at: now + state.config.portal.session_absolute_timeout,
        replacing: replacing.as_deref(),
    };
    state.store.start_console_session(user, &session).await?;
    tracing::info!(%user, method, "a staff member signed in to the console");
    with_session_cookie(state, &id, Redirect::to(next).into_response())
}

fn with_session_cookie(state: &WebState, id: &SecretString, mut response: Response) -> PageResult<Response> {
    let max_age = state.config.portal.session_absolute_timeout.num_seconds();
    response.headers_mut().append(header::SET_COOKIE, COOKIE.set(state, id, max_age)?);
    Ok(response)
}

#[derive(Serialize)]
struct LinkPage<'a> {
    usable: bool,
    token: &'a str,
    problem: &'a str,
}

fn link_problem(p: ConsoleLinkProblem) -> &'static str {
    match p {
        ConsoleLinkProblem::Unknown => "is not known",
        ConsoleLinkProblem::Used => "was used already",
        ConsoleLinkProblem::Expired => "has expired",
        ConsoleLinkProblem::Revoked => "belongs to a revoked staff account",
    }
}

/// `GET /console/link/{token}`: only shows a page; its button signs in.
pub(super) async fn link_page(State(state): State<WebState>, Path(token): Path<String>) -> PageResult<Response> {
    let problem = state.store.console_link_problem(&token_hash(&token)).await?;
    let body = LinkPage {
        usable: problem.is_none(),
        token: &token,
        problem: problem.map_or("", link_problem),
    };
    let mut page = render(&state, "console/link.html", "Sign in", None, Section::None, &body)?;
    if problem.is_some() {
        *page.status_mut() = StatusCode::GONE;
    }
    // The page's URL holds the token: it must go to no other site.
    page.headers_mut()
        .insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    Ok(page)
}

/// `POST /console/link/{token}`: uses the link and signs in.
pub(super) async fn use_link(State(state): State<WebState>, headers: HeaderMap, Path(token): Path<String>) -> PageResult<Response> {
    if !same_site(&headers) {
        return Err(PageError::Forbidden);
    }
    let id = crate::cookie::new_id()?;
    let id_hash = token_hash(id.expose_secret());
    let replacing = COOKIE.read(&headers, &state).map(|old| token_hash(old.expose_secret()));
    let now = Utc::now();
    let session = NewConsoleSession {
        id_hash: &id_hash,
        signed_in_with: "email",
        now,
        expires_at: now + state.config.portal.session_absolute_timeout,
        replacing: replacing.as_deref(),
    };
    match state.store.use_console_link(&token_hash(&token), &session).await? {
        Ok(user) => {
            tracing::info!(%user, method = "email", "a staff member signed in to the console");
            with_session_cookie(&state, &id, Redirect::to("/console").into_response())
        }
        Err(problem) => {
            let body = LinkPage {
                usable: false,
                token: "",
                problem: link_problem(problem),
            };
            let mut page = render(&state, "console/link.html", "Sign in", None, Section::None, &body)?;
            *page.status_mut() = StatusCode::GONE;
            Ok(page)
        }
    }
}

/// `POST /console/sign-out`.
pub(super) async fn sign_out(State(state): State<WebState>, form: StaffForm<NoFields>) -> PageResult<Response> {
    state.store.end_console_session(&form.who.id_hash()).await?;
    let mut response = Redirect::to("/console/sign-in").into_response();
    response.headers_mut().append(header::SET_COOKIE, COOKIE.clear(&state));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_sign_in() {
        assert_eq!(
            safe_next(Some("/console/projects?status=active")),
            "/console/projects?status=active"
        );
        for bad in [
            None,
            Some("https://evil.example"),
            Some("//evil.example"),
            Some("/projects"),
            Some("/console\\.."),
        ] {
            assert_eq!(safe_next(bad), "/console");
        }
    }
}
