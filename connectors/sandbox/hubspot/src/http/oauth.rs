//! OAuth: the install/consent page (`/oauth/authorize`, served by the sandbox itself where
//! HubSpot serves it on app.hubspot.com), token exchange and refresh at `/oauth/v1/token` and
//! `/oauth/2026-03/token`, access- and refresh-token metadata, introspection and revocation
//! (developers.hubspot.com: the "OAuth tokens" v1 and v3 guides).

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use sandbox_kit::consent::{self, Account, ConsentPage};

use super::extract::Params;
use super::objects::{PathMap, param};
use crate::auth::{Installation, OAuthError, SCOPES};
use crate::owners::Owner;
use crate::state::{AuthRequest, Shared};
use crate::util::{correlation_id, read};

/// The portal's domain in token metadata.
const HUB_DOMAIN: &str = "sandbox.example.com";

fn form(body: &Bytes) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn oauth_error(e: OAuthError) -> Response {
    let (status, error, message) = match e {
        OAuthError::BadClientId => ("BAD_CLIENT_ID", "invalid_client", "missing or unknown client id"),
        OAuthError::BadClientSecret => ("BAD_CLIENT_SECRET", "invalid_client", "missing or invalid client secret"),
        OAuthError::BadAuthCode => ("BAD_AUTH_CODE", "invalid_grant", "missing or unknown auth code"),
        OAuthError::BadRedirectUri => (
            "BAD_REDIRECT_URI",
            "invalid_grant",
            "redirect_uri does not match the one the code was issued for",
        ),
        OAuthError::BadCodeVerifier => (
            "BAD_CODE_VERIFIER",
            "invalid_grant",
            "code_verifier does not match the code_challenge of the authorization request",
        ),
        OAuthError::BadRefreshToken => ("BAD_REFRESH_TOKEN", "invalid_grant", "refresh token is invalid, expired or revoked"),
        OAuthError::UnsupportedGrant => (
            "BAD_GRANT_TYPE",
            "unsupported_grant_type",
            "grant_type must be authorization_code or refresh_token",
        ),
    };
    let body =
        json!({"status": status, "message": message, "correlationId": correlation_id(), "error": error, "error_description": message});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// What the consent page and error pages call the sandbox.
const CRM: &str = "HubSpot sandbox";
const AUTHORIZE_PATH: &str = "/oauth/authorize";

/// The owner named by user id or email (not archived).
fn owner<'a>(owners: &'a [Owner], who: &str) -> Option<&'a Owner> {
    let who = who.trim();
    owners
        .iter()
        .filter(|o| !o.archived)
        .find(|o| o.user_id.to_string() == who || o.email.eq_ignore_ascii_case(who))
}

/// Back to the app's redirect URL with `params` and the request's `state`.
fn back(req: &AuthRequest, params: &[(&str, &str)]) -> Response {
    consent::redirect_back(&req.redirect_uri, req.state.as_deref(), params)
}

/// Installs the app for `o` and sends the browser back with a code.
fn approve(st: &Shared, req: &AuthRequest, o: &Owner) -> Response {
    let installation = Installation {
        user_id: o.user_id,
        user: o.email.clone(),
        scopes: req.scopes.clone(),
    };
    let code = st.tokens.issue_code(&req.redirect_uri, installation, req.code_challenge.clone());
    back(req, &[("code", &code)])
}

fn consent_page(st: &Shared, id: &str, req: &AuthRequest, problem: Option<&str>) -> Response {
    let accounts: Vec<Account> = read(&st.store)
        .owners
        .iter()
        .filter(|o| !o.archived)
        .map(|o| Account {
            value: o.user_id.to_string(),
            name: format!("{} {}", o.first_name, o.last_name),
            detail: o.email.clone(),
        })
        .collect();
    let page = ConsentPage {
        crm: CRM,
        app: &st.client_id,
        scopes: &req.scopes,
        accounts: &accounts,
        selected: None,
        action: AUTHORIZE_PATH,
        request: id,
        problem,
    };
    consent::page(&page)
}

/// `GET /oauth/authorize` (and `/oauth/{portalId}/authorize`): checks the app and its redirect
/// URL, then shows the consent page (or, with `Config::auto_approve`, approves at once).
pub async fn authorize(State(st): State<Shared>, params: Params) -> Response {
    if params.get("client_id") != Some(st.client_id.as_str()) {
        return consent::error_page(StatusCode::BAD_REQUEST, CRM, "BAD_CLIENT_ID", "missing or unknown client id");
    }
    let Some(redirect) = params.get("redirect_uri").filter(|r| st.callbacks.allows(r)) else {
        return consent::error_page(
            StatusCode::BAD_REQUEST,
            CRM,
            "BAD_REDIRECT_URI",
            "redirect_uri is not one of the app's redirect URLs",
        );
    };
    let mut scopes: Vec<String> = ["scope", "optional_scope"]
        .iter()
        .filter_map(|k| params.get(k))
        .flat_map(|v| {
            v.split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut seen = HashSet::new();
    scopes.retain(|s| seen.insert(s.clone()));
    if scopes.is_empty() {
        scopes = SCOPES.iter().map(|s| s.to_string()).collect();
    }
    let req = AuthRequest {
        redirect_uri: redirect.to_string(),
        state: params.get("state").map(str::to_string),
        scopes,
        code_challenge: params.get("code_challenge").filter(|c| !c.is_empty()).map(str::to_string),
    };
    if params.get("code_challenge_method").is_some_and(|m| m != "S256") {
        let err = [
            ("error", "invalid_request"),
            ("error_description", "code_challenge_method must be S256"),
        ];
        return back(&req, &err);
    }
    if let Some(who) = &st.auto_approve {
        let chosen = owner(&read(&st.store).owners, who).cloned();
        return match chosen {
            Some(o) => approve(&st, &req, &o),
            None => consent::error_page(StatusCode::BAD_REQUEST, CRM, "BAD_USER", "the auto-approving user does not exist"),
        };
    }
    let id = st.pending.insert(req.clone());
    consent_page(&st, &id, &req, None)
}

/// `POST /oauth/authorize`: the consent form (`request`, `user`, `decision`).
pub async fn decide(State(st): State<Shared>, body: Bytes) -> Response {
    let f = form(&body);
    let id = f.get("request").map(String::as_str).unwrap_or("");
    let Some(req) = st.pending.get(id) else {
        return consent::error_page(
            StatusCode::BAD_REQUEST,
            CRM,
            "BAD_REQUEST",
            "this authorization request has expired or was already answered",
        );
    };
    match f.get("decision").map(String::as_str) {
        Some("deny") => {
            st.pending.take(id);
            back(
                &req,
                &[
                    ("error", "access_denied"),
                    ("error_description", "The user denied access to the app."),
                ],
            )
        }
        Some("allow") => {
            let chosen = f.get("user").and_then(|u| owner(&read(&st.store).owners, u).cloned());
            match chosen {
                Some(o) => {
                    st.pending.take(id);
                    approve(&st, &req, &o)
                }
                None => consent_page(&st, id, &req, Some("Choose a user to sign in as.")),
            }
        }
        _ => consent_page(&st, id, &req, Some("Choose Allow or Deny.")),
    }
}

pub async fn token(State(st): State<Shared>, body: Bytes) -> Response {
    let f = form(&body);
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    if get("client_id") != st.client_id {
        return oauth_error(OAuthError::BadClientId);
    }
    if get("client_secret") != st.client_secret {
        return oauth_error(OAuthError::BadClientSecret);
    }
    let result = match get("grant_type") {
        "authorization_code" => st
            .tokens
            .exchange_code(get("code"), get("redirect_uri"), f.get("code_verifier").map(String::as_str)),
        "refresh_token" => st.tokens.refresh(get("refresh_token"), &st.faults),
        _ => Err(OAuthError::UnsupportedGrant),
    };
    match result {
        Ok(pair) => Json(json!({
            "token_type": "bearer",
            "refresh_token": pair.refresh_token,
            "access_token": pair.access_token,
            "expires_in": pair.expires_in,
        }))
        .into_response(),
        Err(e) => oauth_error(e),
    }
}

fn token_not_found() -> Response {
    let body = json!({"status": "error", "message": "Token not found", "correlationId": correlation_id(), "category": "OBJECT_NOT_FOUND"});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// `GET /oauth/v1/access-tokens/{token}`: who installed the app, where, with which scopes.
pub async fn access_token_info(State(st): State<Shared>, Path(p): PathMap) -> Response {
    let token = param(&p, "token");
    let Some((inst, expires_in)) = st.tokens.access_info(token) else {
        return token_not_found();
    };
    Json(json!({
        "token": token,
        "user": inst.user,
        "hub_domain": HUB_DOMAIN,
        "scopes": inst.scopes,
        "hub_id": st.portal_id,
        "app_id": st.app_id,
        "expires_in": expires_in,
        "user_id": inst.user_id,
        "token_type": "access",
    }))
    .into_response()
}

/// `GET /oauth/v1/refresh-tokens/{token}`.
pub async fn refresh_token_info(State(st): State<Shared>, Path(p): PathMap) -> Response {
    let token = param(&p, "token");
    let Some(inst) = st.tokens.refresh_info(token) else {
        return token_not_found();
    };
    Json(json!({
        "token": token,
        "user": inst.user,
        "hub_domain": HUB_DOMAIN,
        "scopes": inst.scopes,
        "hub_id": st.portal_id,
        "client_id": st.client_id,
        "user_id": inst.user_id,
        "token_type": "refresh",
    }))
    .into_response()
}

pub async fn delete_refresh_token(State(st): State<Shared>, Path(p): PathMap) -> StatusCode {
    if st.tokens.delete_refresh(param(&p, "token")) {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::NOT_FOUND
    }
}

pub async fn introspect(State(st): State<Shared>, body: Bytes) -> Response {
    let f = form(&body);
    let token = f.get("token").map(String::as_str).unwrap_or("");
    let active = st.tokens.check(token, &st.faults).is_ok() && st.tokens.expires_in(token).is_some();
    if !active {
        return Json(json!({"active": false})).into_response();
    }
    Json(
        json!({"active": true, "client_id": st.client_id, "hub_id": st.portal_id, "scope": SCOPES.join(" "), "token_type": "access_token",
                "exp": crate::util::now_ms() / 1000 + i64::try_from(st.tokens.expires_in(token).unwrap_or(0)).unwrap_or(0)}),
    )
    .into_response()
}

pub async fn revoke(State(st): State<Shared>, body: Bytes) -> StatusCode {
    let f = form(&body);
    let token = f.get("token").map(String::as_str).unwrap_or("");
    if !st.tokens.revoke_access(token) && st.tokens.is_refresh_token(token) {
        st.tokens.delete_refresh(token);
    }
    StatusCode::OK
}
