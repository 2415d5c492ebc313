//! OAuth: authorize (auto-approved), token exchange and refresh at `/oauth/v1/token` and
//! `/oauth/2026-03/token`, token info, introspection and revocation (PROTOCOLS.md B1).

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::extract::Params;
use super::objects::{PathMap, param};
use crate::auth::{OAuthError, SCOPES};
use crate::state::Shared;
use crate::util::correlation_id;

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

/// Approves at once and redirects back with a code, as a consenting user would.
pub async fn authorize(State(st): State<Shared>, params: Params) -> Response {
    if params.get("client_id") != Some(st.client_id.as_str()) {
        return oauth_error(OAuthError::BadClientId);
    }
    let Some(redirect) = params.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return oauth_error(OAuthError::BadRedirectUri);
    };
    let code = st.tokens.issue_code(redirect);
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("code", &code);
    if let Some(state) = params.get("state") {
        query.append_pair("state", state);
    }
    let sep = if redirect.contains('?') { '&' } else { '?' };
    let location = format!("{redirect}{sep}{}", query.finish());
    (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
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
        "authorization_code" => st.tokens.exchange_code(get("code"), get("redirect_uri")),
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

pub async fn access_token_info(State(st): State<Shared>, Path(p): PathMap) -> Response {
    let token = param(&p, "token");
    let Some(expires_in) = st.tokens.expires_in(token) else {
        let body =
            json!({"status": "error", "message": "Token not found", "correlationId": correlation_id(), "category": "OBJECT_NOT_FOUND"});
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
    };
    Json(json!({
        "token": token,
        "user": "ava.lindqvist@sandbox.example.com",
        "hub_domain": "sandbox.example.com",
        "scopes": SCOPES,
        "hub_id": st.portal_id,
        "app_id": st.app_id,
        "expires_in": expires_in,
        "user_id": 91_000_001,
        "token_type": "access",
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
